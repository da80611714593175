//! What the Payment API's calls carry and answer: payment methods and distributor statuses
//! with their documented meanings, addresses, customers, articles and carts (their totals
//! checked against the articles, amounts in exact 1/100 units), payments and their answers.

use paybridge_core::{CoreFailure as _, Currency, Money};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use crate::error::QvicklyError;
use crate::status::QvicklyStatus;

paybridge_core::code_table! {
    /// A payment method (`PaymentData.method`).
    pub enum PaymentMethod {
        1 => Factoring, "Factoring invoice", "invoice, sold to Qvickly", retry: false;
        2 => Handling, "Handling invoice", "invoice, the merchant bears the risk", retry: false;
        4 => PartPayment, "Part payment", "part payment", retry: false;
        8 => Card, "Card", "card (redirect)", retry: false;
        16 => Bank, "Bank", "bank (redirect)", retry: false;
        32 => Cash, "Cash", "cash", retry: false;
        64 => Checkout, "Checkout", "Qvickly Checkout", retry: false;
        128 => Simple, "Simple", "simple", retry: false;
        256 => Paylink, "Paylink", "pay link", retry: false;
        512 => Swish2, "Swish2", "Swish (v2)", retry: false;
        1024 => Swish, "Swish", "Swish", retry: false;
        2048 => PayWithQvickly, "PayWithQvickly", "Pay with Qvickly", retry: false;
    }
    unknown: "Undocumented", "an undocumented payment method";
}

paybridge_core::code_table! {
    /// `distributor_status`: where an invoice stands with Qvickly's distributor.
    pub enum DistributorStatus: words {
        "Ready" => Ready, "ready", retry: false;
        "CreditDecision" => CreditDecision, "awaiting the credit decision", retry: false;
        "UnderControl" => UnderControl, "under control", retry: false;
        "FinalDecision" => FinalDecision, "final decision made", retry: false;
        "Created" => Created, "created", retry: false;
        "Approved" => Approved, "approved", retry: false;
        "Sent" => Sent, "sent", retry: false;
        "Paid" => Paid, "paid", retry: false;
        "Cancelled" => Cancelled, "cancelled", retry: false;
        "eFakturaSent" => EFakturaSent, "e-invoice sent", retry: false;
        "eFakturaConfirmed" => EFakturaConfirmed, "e-invoice confirmed", retry: false;
        "eFakturaFailed" => EFakturaFailed, "e-invoice failed", retry: false;
    }
    unknown: "a distributor status the documents do not list";
}

/// A billing or shipping address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Address {
    /// `firstname`.
    pub firstname: String,
    /// `lastname`.
    pub lastname: String,
    /// `company`.
    pub company: String,
    /// `street`.
    pub street: String,
    /// `street2`.
    pub street2: String,
    /// `zip`.
    pub zip: String,
    /// `city`.
    pub city: String,
    /// `country` (ISO 3166 alpha-2).
    pub country: String,
    /// `phone`.
    pub phone: String,
    /// `email` (required on billing).
    pub email: String,
}

impl Address {
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "firstname": self.firstname, "lastname": self.lastname, "company": self.company,
            "street": self.street, "street2": self.street2, "zip": self.zip, "city": self.city,
            "country": self.country, "phone": self.phone, "email": self.email,
        })
    }

    pub(crate) fn from_json(v: &Value) -> Self {
        let s = |k: &str| text(v.get(k)).unwrap_or_default();
        Self {
            firstname: s("firstname"),
            lastname: s("lastname"),
            company: s("company"),
            street: s("street"),
            street2: s("street2"),
            zip: s("zip"),
            city: s("city"),
            country: s("country"),
            phone: s("phone"),
            email: s("email"),
        }
    }
}

/// The payer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Customer {
    /// `nr`: the merchant's customer number.
    pub nr: String,
    /// `pno`: personal or organisation number (invoices).
    pub pno: String,
    /// `Billing`.
    pub billing: Address,
    /// `Shipping` (when it differs).
    pub shipping: Option<Address>,
}

/// One article line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Article {
    /// `artnr`.
    pub artnr: String,
    /// `title`.
    pub title: String,
    /// `quantity`.
    pub quantity: u32,
    /// `aprice`: the unit price without tax.
    pub aprice: Money,
    /// `taxrate`, percent (25, 12, 6, 0).
    pub taxrate: u32,
    /// `discount`, percent.
    pub discount: u32,
}

impl Article {
    /// A line of `quantity` × `aprice` (without tax) at `taxrate` %, no discount.
    #[must_use]
    pub fn new(artnr: &str, title: &str, quantity: u32, aprice: Money, taxrate: u32) -> Self {
        Self {
            artnr: artnr.into(),
            title: title.into(),
            quantity,
            aprice,
            taxrate,
            discount: 0,
        }
    }

    /// `withouttax`: quantity × price less the discount, exact.
    pub fn withouttax(&self) -> Result<Money, QvicklyError> {
        let gross = self.aprice.amount() * Decimal::from(self.quantity);
        let net = gross * (Decimal::ONE_HUNDRED - Decimal::from(self.discount.min(100)))
            / Decimal::ONE_HUNDRED;
        money(net, self.aprice.currency())
    }

    /// The line's tax, exact (it may hold fractions of a cent).
    pub(crate) fn tax(&self) -> Result<Decimal, QvicklyError> {
        Ok(self.withouttax()?.amount() * Decimal::from(self.taxrate) / Decimal::ONE_HUNDRED)
    }
}

/// A fee line of the cart (`Handling`, `Shipping`): without tax, and its tax rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fee {
    /// `withouttax`.
    pub withouttax: Money,
    /// `taxrate`, percent.
    pub taxrate: u32,
}

/// The cart: fees and totals (`Cart.Handling`, `Cart.Shipping`, `Cart.Total`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cart {
    /// `Handling`.
    pub handling: Option<Fee>,
    /// `Shipping`.
    pub shipping: Option<Fee>,
    /// `Total.withouttax`.
    pub withouttax: Money,
    /// `Total.tax`.
    pub tax: Money,
    /// `Total.rounding`.
    pub rounding: Money,
    /// `Total.withtax`.
    pub withtax: Money,
}

fn money(amount: Decimal, currency: Currency) -> Result<Money, QvicklyError> {
    Ok(Money::new(amount, currency)?)
}

impl Cart {
    /// The cart of `articles` and fees, its totals computed: `withouttax` the sum of the lines
    /// and fees, `tax` their tax — rounded half up to the cent once, over the whole cart (tax
    /// of a line may hold fractions of a cent) — and `withtax` the two together.
    pub fn of(
        articles: &[Article],
        handling: Option<Fee>,
        shipping: Option<Fee>,
    ) -> Result<Self, QvicklyError> {
        let currency = articles
            .first()
            .map(|a| a.aprice.currency())
            .or(handling.map(|f| f.withouttax.currency()))
            .or(shipping.map(|f| f.withouttax.currency()))
            .ok_or_else(|| paybridge_core::Error::input("a cart needs an article or a fee"))?;
        let mut without = Decimal::ZERO;
        let mut tax = Decimal::ZERO;
        for a in articles {
            if a.aprice.currency() != currency {
                return Err(paybridge_core::Error::input("one currency per cart").into());
            }
            without += a.withouttax()?.amount();
            tax += a.tax()?;
        }
        for fee in [handling, shipping].into_iter().flatten() {
            if fee.withouttax.currency() != currency {
                return Err(paybridge_core::Error::input("one currency per cart").into());
            }
            without += fee.withouttax.amount();
            tax += fee.withouttax.amount() * Decimal::from(fee.taxrate) / Decimal::ONE_HUNDRED;
        }
        let tax = tax.round_dp_with_strategy(
            currency.minor_units(),
            rust_decimal::RoundingStrategy::MidpointAwayFromZero,
        );
        Ok(Self {
            handling,
            shipping,
            withouttax: money(without, currency)?,
            tax: money(tax, currency)?,
            rounding: money(Decimal::ZERO, currency)?,
            withtax: money(without + tax, currency)?,
        })
    }

    /// Whether the totals are those of `articles` and the fees (what Qvickly refuses with
    /// 9102–9114 is refused here, before sending).
    pub fn check(&self, articles: &[Article]) -> Result<(), QvicklyError> {
        let expected = Self::of(articles, self.handling, self.shipping)?;
        if expected.withouttax != self.withouttax {
            return Err(paybridge_core::Error::input(format!(
                "Cart.Total.withouttax is {}, the articles and fees make {}",
                self.withouttax, expected.withouttax
            ))
            .into());
        }
        if self.withouttax.amount() + self.tax.amount() + self.rounding.amount()
            != self.withtax.amount()
        {
            return Err(paybridge_core::Error::input(
                "Cart.Total.withtax is not withouttax + tax + rounding",
            )
            .into());
        }
        Ok(())
    }
}

/// `PaymentData` of a new payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentData {
    /// `method`.
    pub method: PaymentMethod,
    /// `currency` (the cart's).
    pub currency: Currency,
    /// `language` (sv, en).
    pub language: String,
    /// `country` (SE).
    pub country: String,
    /// `orderid`: the merchant's reference.
    pub orderid: String,
    /// `autoactivate`: capture at once.
    pub autoactivate: bool,
    /// `autocancel`: minutes until an unpaid payment is cancelled.
    pub autocancel: Option<u32>,
    /// `accepturl` (card, bank).
    pub accepturl: Option<String>,
    /// `cancelurl` (card, bank).
    pub cancelurl: Option<String>,
    /// `callbackurl`: where Qvickly posts the callback.
    pub callbackurl: Option<String>,
    /// `returnmethod`: GET or POST.
    pub returnmethod: Option<String>,
}

/// `PaymentInfo`: the invoice's details (every field optional; absent ones are not sent).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PaymentInfo {
    /// `paymentdate`, `YYYY-MM-DD`.
    pub paymentdate: Option<String>,
    /// `paymentterms`: days until due.
    pub paymentterms: Option<u32>,
    /// `yourreference`: the buyer's reference.
    pub yourreference: Option<String>,
    /// `ourreference`: the merchant's reference.
    pub ourreference: Option<String>,
    /// `projectname`.
    pub projectname: Option<String>,
    /// `delivery`: how it is delivered.
    pub delivery: Option<String>,
    /// `deliveryterms`.
    pub deliveryterms: Option<String>,
    /// `autocredit`: credit automatically when the payment is cancelled.
    pub autocredit: Option<bool>,
}

impl PaymentInfo {
    pub(crate) fn to_json(&self) -> Value {
        let mut map = Map::new();
        for (k, v) in [
            ("paymentdate", &self.paymentdate),
            ("yourreference", &self.yourreference),
            ("ourreference", &self.ourreference),
            ("projectname", &self.projectname),
            ("delivery", &self.delivery),
            ("deliveryterms", &self.deliveryterms),
        ] {
            if let Some(v) = v {
                map.insert(k.into(), Value::String(v.clone()));
            }
        }
        if let Some(days) = self.paymentterms {
            map.insert("paymentterms".into(), json!(days));
        }
        if let Some(auto) = self.autocredit {
            map.insert(
                "autocredit".into(),
                json!(if auto { "true" } else { "false" }),
            );
        }
        Value::Object(map)
    }
}

/// A new payment (`addPayment`) or its new content (`updatePayment`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPayment {
    /// `PaymentData`.
    pub data: PaymentData,
    /// `PaymentInfo`.
    pub info: PaymentInfo,
    /// `Customer`.
    pub customer: Customer,
    /// `Articles`.
    pub articles: Vec<Article>,
    /// `Cart`.
    pub cart: Cart,
}

/// What `addPayment`, `activatePayment`, `cancelPayment`, `creditPayment` and
/// `updatePayment` answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PaymentAnswer {
    /// `number`: Qvickly's payment (or credit invoice) number.
    pub number: String,
    /// `status`.
    pub status: QvicklyStatus,
    /// `orderid`.
    pub orderid: Option<String>,
    /// `url`: the redirect URL (card, bank) or the invoice.
    pub url: Option<String>,
}

/// What `getPaymentinfo` says of a payment.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PaymentDetails {
    /// `PaymentData.status`.
    pub status: QvicklyStatus,
    /// `PaymentData.method`.
    pub method: Option<PaymentMethod>,
    /// `PaymentData.orderid`.
    pub orderid: Option<String>,
    /// `PaymentData.currency`.
    pub currency: Option<Currency>,
    /// `Cart.Total.withtax`, exact.
    pub total: Option<Money>,
    /// `PaymentData.distributor_status`, when present.
    pub distributor_status: Option<DistributorStatus>,
    /// The whole verified `data`.
    pub data: Map<String, Value>,
}

impl PaymentDetails {
    /// `payment`'s state as Qvickly reports it: its status and its total (the money to
    /// compare with the recorded amount).
    #[must_use]
    pub fn state(&self, payment: paybridge_core::PaymentRef) -> paybridge_core::PaymentState {
        paybridge_core::PaymentState {
            payment,
            status: self.status.normalized(),
            provider_status: self.status.as_str().to_owned(),
            amount: self.total,
            message: None,
        }
    }
}

/// A part-payment plan.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PaymentPlan {
    /// `paymentplanid`.
    pub id: String,
    /// `description`.
    pub description: Option<String>,
    /// `nbrofmonths`.
    pub months: Option<i64>,
    /// `monthlycost` as sent.
    pub monthly_cost: Option<String>,
}

pub(crate) fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Minor units as the JSON integer Qvickly reads (1/100 of the currency): zero (a tax-free
/// line, no rounding) or an amount we may send, never a negative one.
fn cents(m: Money, field: &str) -> Result<i64, QvicklyError> {
    if !m.amount().is_zero() {
        m.check_to_send(field)?;
    }
    m.to_minor_units().ok_or_else(|| {
        paybridge_core::Error::input(format!("{field}: {m} is not a whole number of cents")).into()
    })
}

/// `Articles` and `Cart` as Qvickly reads them (1/100 units), once the cart's totals are
/// checked against the articles: what `addPayment`, `updatePayment` and a partial
/// `creditPayment` send.
pub(crate) fn articles_and_cart(
    articles: &[Article],
    cart: &Cart,
) -> Result<(Value, Value), QvicklyError> {
    cart.check(articles)?;
    let lines = articles
        .iter()
        .map(|a| {
            Ok(json!({
                "artnr": a.artnr,
                "title": a.title,
                "quantity": a.quantity,
                "aprice": cents(a.aprice, "aprice")?,
                "taxrate": a.taxrate,
                "discount": a.discount,
                "withouttax": cents(a.withouttax()?, "withouttax")?,
            }))
        })
        .collect::<Result<Vec<_>, QvicklyError>>()?;
    let mut totals = json!({
        "Total": {
            "withouttax": cents(cart.withouttax, "Total.withouttax")?,
            "tax": cents(cart.tax, "Total.tax")?,
            "rounding": cents(cart.rounding, "Total.rounding")?,
            "withtax": cents(cart.withtax, "Total.withtax")?,
        }
    });
    if let Some(map) = totals.as_object_mut() {
        for (k, fee) in [("Handling", cart.handling), ("Shipping", cart.shipping)] {
            if let Some(f) = fee {
                map.insert(
                    k.into(),
                    json!({"withouttax": cents(f.withouttax, k)?, "taxrate": f.taxrate}),
                );
            }
        }
    }
    Ok((Value::Array(lines), totals))
}

/// A `Cart` in Qvickly's JSON (cents) against its `Articles`: the lines' and fees'
/// `withouttax` make `Total.withouttax`, and `withouttax + tax + rounding` make `withtax`.
/// Data without a cart passes.
pub fn check_cart_json(data: &Value) -> Result<(), QvicklyError> {
    let Some(cart) = data.get("Cart") else {
        return Ok(());
    };
    let n = |v: Option<&Value>| -> i64 { text(v).and_then(|t| t.parse().ok()).unwrap_or(0) };
    let lines: i64 = data
        .get("Articles")
        .and_then(Value::as_array)
        .map_or(0, |a| a.iter().map(|l| n(l.get("withouttax"))).sum());
    let fees: i64 = ["Handling", "Shipping"]
        .iter()
        .map(|k| n(cart.get(*k).and_then(|f| f.get("withouttax"))))
        .sum();
    let total = |k: &str| n(cart.get("Total").and_then(|t| t.get(k)));
    if lines + fees != total("withouttax") {
        return Err(paybridge_core::Error::input(format!(
            "Cart.Total.withouttax is {}, the articles and fees make {}",
            total("withouttax"),
            lines + fees
        ))
        .into());
    }
    if total("withouttax") + total("tax") + total("rounding") != total("withtax") {
        return Err(paybridge_core::Error::input(
            "Cart.Total.withtax is not withouttax + tax + rounding",
        )
        .into());
    }
    Ok(())
}

impl PaymentAnswer {
    /// Read a verified answer's `data` (`number`, `status`, `orderid`, `url`).
    pub fn from_data(data: &Value) -> Result<Self, QvicklyError> {
        answer(data)
    }
}

pub(crate) fn answer(data: &Value) -> Result<PaymentAnswer, QvicklyError> {
    Ok(PaymentAnswer {
        number: text(data.get("number"))
            .ok_or_else(|| QvicklyError::decode("the answer has no number"))?,
        status: QvicklyStatus::parse(&text(data.get("status")).unwrap_or_default()),
        orderid: text(data.get("orderid")),
        url: text(data.get("url")),
    })
}

pub(crate) fn details(data: Value) -> Result<PaymentDetails, QvicklyError> {
    let Value::Object(map) = data else {
        return Err(QvicklyError::decode(
            "getPaymentinfo: data is not an object",
        ));
    };
    let pd = map.get("PaymentData").cloned().unwrap_or(Value::Null);
    let currency = text(pd.get("currency"))
        .map(|c| Currency::from_code(&c))
        .transpose()?;
    let total = cart_total(&map, currency)?;
    Ok(PaymentDetails {
        status: QvicklyStatus::parse(&text(pd.get("status")).unwrap_or_default()),
        method: text(pd.get("method"))
            .and_then(|m| m.parse().ok())
            .map(PaymentMethod::from_code),
        orderid: text(pd.get("orderid")),
        currency,
        total,
        distributor_status: text(pd.get("distributor_status"))
            .map(|d| DistributorStatus::parse(&d)),
        data: map,
    })
}

/// `Cart.Total.withtax` of an answer's `data`, exact, in `currency` (`None` without either).
pub(crate) fn cart_total(
    data: &Map<String, Value>,
    currency: Option<Currency>,
) -> Result<Option<Money>, QvicklyError> {
    let cents = text(
        data.get("Cart")
            .and_then(|c| c.get("Total"))
            .and_then(|t| t.get("withtax")),
    );
    let (Some(c), Some(cents)) = (currency, cents) else {
        return Ok(None);
    };
    let minor: i64 = cents
        .parse()
        .map_err(|_| QvicklyError::decode("Cart.Total.withtax is not a number of cents"))?;
    let m = Money::new(Decimal::new(minor, c.minor_units()), c)?;
    m.check_reported("Cart.Total.withtax")?;
    Ok(Some(m))
}
