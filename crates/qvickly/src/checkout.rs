//! Qvickly Checkout (Checkout 1.0, formerly Billmate Checkout): the hosted checkout a shop
//! embeds. Its server side is three Payment API functions — same envelope, same HMAC, same
//! host ([`PaymentApi`]):
//!
//! - [`PaymentApi::init_checkout`] (`initCheckout`): a checkout for a cart → its provisional
//!   `number`, `status`, `orderid` and the page `url`, whose path names the merchant id, the
//!   checkout **hash** and, in test mode, ends in `/test` ([`CheckoutPage::of`]).
//! - [`PaymentApi::update_checkout`] (`updateCheckout`, by the checkout number): a new cart,
//!   shipping, or the shop's final `orderid`.
//! - [`PaymentApi::get_checkout`] (`getCheckout` by hash — what every client calls, though
//!   Qvickly does not document it — falling back on the documented `getOrderByHash` when
//!   Qvickly says the function does not exist): the session, and once completed the
//!   **payment** (`PaymentData.order.number`), which is what `getPaymentinfo`,
//!   `activatePayment`, `creditPayment` and `cancelPayment` take. The checkout number is not
//!   the payment number; nothing here assumes they are equal or differ.
//!
//! Every answer's hash is verified before a field is read; errors carry Qvickly's codes,
//! 50000–50018 for Checkout ([`crate::ApiErrorCode`]). A completed checkout's callback is an
//! ordinary Qvickly callback ([`crate::CallbackVerifier`]). A paylink ([`PaymentApi::create_paylink`])
//! is an `addPayment` with method 256: its page is `url`, `url/pay` (all customer data given)
//! or `url/nin` (none).

use paybridge_core::{CoreFailure as _, Currency, Money};
use serde_json::{Map, Value, json};

use crate::api::{
    Article, Cart, NewPayment, PaymentAnswer, PaymentApi, PaymentMethod, articles_and_cart,
    cart_total, text,
};
use crate::api_codes::ApiErrorCode;
use crate::error::QvicklyError;
use crate::status::QvicklyStatus;

/// `CheckoutData`: the checkout page's settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckoutData {
    /// `terms`: the URL of the shop's terms (Qvickly refuses a checkout without, 50014).
    pub terms: String,
    /// `privacyPolicy`: the URL of the shop's privacy policy.
    pub privacy_policy: Option<String>,
    /// `companyView`: show the company fields.
    pub company_view: Option<bool>,
    /// `showPhoneOnDelivery`.
    pub show_phone_on_delivery: Option<bool>,
    /// `redirectOnSuccess`: the page itself sends the payer to `accepturl`.
    pub redirect_on_success: Option<bool>,
}

impl CheckoutData {
    fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert("terms".into(), json!(self.terms));
        if let Some(p) = &self.privacy_policy {
            map.insert("privacyPolicy".into(), json!(p));
        }
        for (k, v) in [
            ("companyView", self.company_view),
            ("showPhoneOnDelivery", self.show_phone_on_delivery),
            ("redirectOnSuccess", self.redirect_on_success),
        ] {
            if let Some(v) = v {
                map.insert(k.into(), json!(if v { "true" } else { "false" }));
            }
        }
        Value::Object(map)
    }
}

/// A new checkout: its page settings and the payment it is for (`PaymentData` without a
/// method — the payer picks one on the page —, `PaymentInfo`, `Customer`, `Articles`, `Cart`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCheckout {
    /// `CheckoutData`.
    pub checkout: CheckoutData,
    /// The payment (its `data.method` is not sent).
    pub payment: NewPayment,
}

/// Where a checkout's page is: the merchant id, the checkout hash, test mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutPage {
    /// The merchant id (eid).
    pub eid: String,
    /// The checkout hash (`getCheckout`, `getOrderByHash`).
    pub hash: String,
    /// The page is in test mode (its path ends in `/test`).
    pub test: bool,
}

impl CheckoutPage {
    /// Read a checkout (or paylink) page URL, `…/{eid}/{hash}[/test]` (a query or fragment
    /// ignored; `\\` stripped, as the clients do). `None` when it has no such path.
    #[must_use]
    pub fn of(url: &str) -> Option<Self> {
        let path = url
            .split_once("://")
            .map_or(url, |(_, rest)| rest.split_once('/').map_or("", |(_, p)| p));
        let path = path
            .split(['?', '#'])
            .next()
            .unwrap_or_default()
            .replace('\\', "");
        let mut segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let test = segments.last() == Some(&"test");
        if test {
            segments.pop();
        }
        let hash = segments.pop()?;
        let eid = segments.pop()?;
        let hex = hash.len() >= 32 && hash.bytes().all(|b| b.is_ascii_hexdigit());
        hex.then(|| Self {
            eid: eid.to_owned(),
            hash: hash.to_owned(),
            test,
        })
    }
}

/// What `initCheckout` and `updateCheckout` answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CheckoutAnswer {
    /// The checkout's `number` (provisional: not the payment's).
    pub number: String,
    /// The checkout's status word (`Created`, `CheckoutLoaded`, …).
    pub status: String,
    /// `orderid`.
    pub orderid: Option<String>,
    /// `url`: the page to embed.
    pub url: Option<String>,
    /// The page's merchant id, hash and test flag, read from `url`.
    pub page: Option<CheckoutPage>,
}

impl CheckoutAnswer {
    /// Read a verified answer's `data`.
    pub fn from_data(data: &Value) -> Result<Self, QvicklyError> {
        let number = text(data.get("number"))
            .ok_or_else(|| QvicklyError::decode("the checkout answer has no number"))?;
        let url = text(data.get("url"));
        Ok(Self {
            number,
            status: text(data.get("status")).unwrap_or_default(),
            orderid: text(data.get("orderid")),
            page: url.as_deref().and_then(CheckoutPage::of),
            url,
        })
    }
}

/// Where a checkout stands (`getCheckout` / `getOrderByHash`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct CheckoutState {
    /// `PaymentData.number`: the checkout's number.
    pub checkout_number: Option<String>,
    /// `PaymentData.status`: the checkout's status word.
    pub status: String,
    /// `PaymentData.order.number`: the payment, once completed (`None` before).
    pub payment_number: Option<String>,
    /// `PaymentData.order.status`: the payment's status, once completed.
    pub payment_status: Option<QvicklyStatus>,
    /// `PaymentData.orderid`.
    pub orderid: Option<String>,
    /// `PaymentData.method`: how it was paid, once known.
    pub method: Option<PaymentMethod>,
    /// `PaymentData.currency`.
    pub currency: Option<Currency>,
    /// `Cart.Total.withtax`, exact.
    pub total: Option<Money>,
    /// `Customer`, as Qvickly holds it.
    pub customer: Option<Value>,
    /// The whole verified `data`.
    pub data: Map<String, Value>,
}

impl CheckoutState {
    /// Read a verified `getCheckout` / `getOrderByHash` answer's `data`.
    pub fn from_data(data: Value) -> Result<Self, QvicklyError> {
        let Value::Object(map) = data else {
            return Err(QvicklyError::decode("getCheckout: data is not an object"));
        };
        let pd = map.get("PaymentData").cloned().unwrap_or(Value::Null);
        let order = pd.get("order").cloned().unwrap_or(Value::Null);
        let currency = text(pd.get("currency"))
            .map(|c| Currency::from_code(&c))
            .transpose()?;
        Ok(Self {
            checkout_number: text(pd.get("number")),
            status: text(pd.get("status")).unwrap_or_default(),
            payment_number: text(order.get("number")).filter(|n| n != "0"),
            payment_status: text(order.get("status")).map(|s| QvicklyStatus::parse(&s)),
            orderid: text(pd.get("orderid")),
            method: text(pd.get("method"))
                .and_then(|m| m.parse().ok())
                .map(PaymentMethod::from_code),
            currency,
            total: cart_total(&map, currency)?,
            customer: map.get("Customer").cloned().filter(|c| !c.is_null()),
            data: map,
        })
    }
}

/// How a checkout's payment is recorded (its instrument, in a ledger): the checkout's number
/// and hash, `checkout <number> <hash>`.
#[must_use]
pub fn instrument(number: &str, hash: &str) -> String {
    format!("checkout {number} {hash}")
}

/// The checkout hash of an [`instrument`], if it is one.
#[must_use]
pub fn hash_of_instrument(instrument: &str) -> Option<&str> {
    instrument
        .strip_prefix("checkout ")?
        .split_whitespace()
        .nth(1)
        .filter(|h| !h.is_empty())
}

/// A paylink's page, for a payer whose details are all given (`/pay`) or none (`/nin`).
#[must_use]
pub fn paylink_urls(url: &str) -> (String, String) {
    let base = url.trim_end_matches('/');
    (format!("{base}/pay"), format!("{base}/nin"))
}

/// The paylink method bit (`PaymentData.method` 256, or-ed with a method: 264 = card).
pub const PAYLINK_METHOD: i64 = 256;

impl PaymentApi {
    /// `initCheckout`: a checkout for `c`'s cart (its totals and text checked before sending).
    /// Never resent.
    pub async fn init_checkout(&self, c: &NewCheckout) -> Result<CheckoutAnswer, QvicklyError> {
        let mut data = Self::payment_data(&c.payment, None)?;
        if let Some(map) = data.as_object_mut() {
            if let Some(pd) = map.get_mut("PaymentData").and_then(Value::as_object_mut) {
                pd.remove("method");
            }
            map.insert("CheckoutData".into(), c.checkout.to_json());
        }
        let answer = self
            .call("initCheckout", &data, &c.payment.data.orderid, true)
            .await?;
        CheckoutAnswer::from_data(&answer)
    }

    /// `updateCheckout`: checkout `number` gets a new cart, and (`orderid`) the shop's final
    /// order reference. Never resent.
    pub async fn update_checkout(
        &self,
        number: &str,
        articles: &[Article],
        cart: &Cart,
        orderid: Option<&str>,
    ) -> Result<CheckoutAnswer, QvicklyError> {
        let (articles, cart) = articles_and_cart(articles, cart)?;
        let mut pd = json!({ "number": number });
        if let (Some(o), Some(map)) = (orderid, pd.as_object_mut()) {
            map.insert("orderid".into(), json!(o));
        }
        let data = json!({"PaymentData": pd, "Articles": articles, "Cart": cart});
        let answer = self.call("updateCheckout", &data, number, true).await?;
        CheckoutAnswer::from_data(&answer)
    }

    /// `getCheckout` by the checkout's hash; when Qvickly says that function does not exist
    /// (9001), the documented `getOrderByHash`.
    pub async fn get_checkout(&self, hash: &str) -> Result<CheckoutState, QvicklyError> {
        if hash.is_empty() {
            return Err(paybridge_core::Error::input("a checkout hash is required").into());
        }
        let asked = self
            .call(
                "getCheckout",
                &json!({"PaymentData": {"hash": hash}}),
                hash,
                false,
            )
            .await;
        let data = match asked {
            Err(QvicklyError::Api {
                code: ApiErrorCode::TheMethodThatYouAre,
                ..
            }) => {
                self.call("getOrderByHash", &json!({ "hash": hash }), hash, false)
                    .await?
            }
            other => other?,
        };
        CheckoutState::from_data(data)
    }

    /// A paylink: `addPayment` with method 256 (`p.data.method` must carry the paylink bit)
    /// and `autocancel` minutes (Qvickly's usual default is 2880, 48 h). Its `url` is where the
    /// payer goes ([`paylink_urls`] for the `/pay` and `/nin` forms). Never resent.
    pub async fn create_paylink(&self, p: &NewPayment) -> Result<PaymentAnswer, QvicklyError> {
        if p.data.method.code() & PAYLINK_METHOD == 0 {
            return Err(paybridge_core::Error::input(
                "a paylink's PaymentData.method carries 256 (256, or 264 for card)",
            )
            .into());
        }
        self.add_payment(p).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkout_urls_name_the_merchant_hash_and_test_mode() {
        let page = CheckoutPage::of(
            "https://checkout.qvickly.io/12345/2a6b47a5ee34a4210f4bd96b3c7c427d/test",
        )
        .unwrap();
        assert_eq!(
            page,
            CheckoutPage {
                eid: "12345".into(),
                hash: "2a6b47a5ee34a4210f4bd96b3c7c427d".into(),
                test: true
            }
        );
        let live = CheckoutPage::of(
            "https://checkout.billmate.se/12345/202612042a6b47a5ee34a4210f4bd96b3c7c427d?activateJsEvents=1",
        )
        .unwrap();
        assert_eq!(
            (live.hash.len(), live.test),
            (40, false),
            "YYYYMMDD + 32 hex digits"
        );
        let escaped =
            CheckoutPage::of(r"https:\/\/checkout.qvickly.io\/1\/2a6b47a5ee34a4210f4bd96b3c7c427d");
        assert_eq!(escaped.map(|p| p.eid), Some("1".into()));
        assert_eq!(CheckoutPage::of("https://checkout.qvickly.io/"), None);
        assert_eq!(CheckoutPage::of("https://shop/thanks/not-a-hash"), None);
    }

    #[test]
    fn a_checkout_instrument_names_its_hash() {
        let i = instrument("500001", "20261204abc");
        assert_eq!(hash_of_instrument(&i), Some("20261204abc"));
        assert_eq!(hash_of_instrument("checkout 500001"), None);
        assert_eq!(hash_of_instrument("10004783347874"), None);
    }

    #[test]
    fn paylink_pages() {
        assert_eq!(
            paylink_urls("https://pay.qvickly.io/1/abc/"),
            (
                "https://pay.qvickly.io/1/abc/pay".into(),
                "https://pay.qvickly.io/1/abc/nin".into()
            )
        );
    }
}
