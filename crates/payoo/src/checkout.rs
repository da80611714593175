//! Payoo's hosted checkout ("paynow v2"): the order XML and its checksum posted to
//! `…/v2/paynow/order/create`, the answer's checksum verified, the payer sent to its
//! `payment_url`; and the return URL (`shop_back_url`) checked.
//!
//! - Request (form): `data` = the order XML (`<shops><shop>…</shop></shops>`), `checksum` =
//!   `SHA512(ChecksumKey + data)`, `refer` = the shop's domain, and optional `payment_group`,
//!   `bank`, `method`.
//! - Answer (JSON): `{"result":"success","checksum":…,"order":{order_id, order_no, amount,
//!   payment_code, expiry_date, token, payment_url}}`, `checksum` = `SHA512(ChecksumKey +
//!   <the order object's JSON>)` — verified here over the `order` value's text exactly as it
//!   arrived (what Payoo signed and sent); `{"result":"fail","message":…}` is a refusal.
//! - Return: `?session=…&order_no=…&status=1|0|-1&errorcode=…&errormsg=…&checksum=…`, checksum
//!   `SHA512(ChecksumKey + session + "." + order_no + "." + status)`.

use std::fmt::Write as _;

use paybridge_core::http::{Endpoint, HttpRequest, HttpTransport};
use paybridge_core::signature::{sha512_hex, verify_sha512_hex};
use paybridge_core::xml::escape_text;
use paybridge_core::{CoreFailure as _, Currency, Money};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use crate::client::PROVIDER_ID;
use crate::error::PayooError;

/// Payoo's sandbox checkout.
pub const SANDBOX_URL: &str = "https://newsandbox.payoo.com.vn/v2/paynow/order/create";
/// Payoo's live checkout.
pub const LIVE_URL: &str = "https://www.payoo.vn/v2/paynow/order/create";

/// How to find out what a checkout request whose outcome is unknown did.
pub const CHECKOUT_ADVICE: &str = "the order may exist at Payoo: ask GetOrderInfo for its order_no before creating it again, or create it with a new order_no";

paybridge_core::code_table! {
    /// The `errorcode` of a return to `shop_back_url`.
    pub enum ReturnError {
        500 => PaymentFailed, "Payment fail", "the payment failed", retry: false;
        501 => Declined, "Declined", "declined", retry: false;
        503 => MerchantNotExist, "Merchant not exist", "the merchant does not exist", retry: false;
        505 => InvalidAmount, "Invalid amount", "invalid amount", retry: false;
        507 => Unspecified, "Unspecified failure", "unspecified failure", retry: false;
        508 => InvalidCardNumber, "Invalid card number", "invalid card number", retry: false;
        509 => InvalidCardName, "Invalid card name", "invalid card holder name", retry: false;
        510 => ExpiredCard, "Expired card", "the card has expired", retry: false;
        511 => NotRegistered, "Not registered", "the card is not registered for online payment", retry: false;
        512 => InvalidCardDate, "Invalid card date", "invalid card date", retry: false;
        513 => ExistAmount, "Exist amount", "the amount exceeds the card's limit", retry: false;
        521 => InsufficientFund, "Insufficient fund", "insufficient funds", retry: false;
        522 => InvalidAccount, "Invalid account", "invalid account", retry: false;
        523 => AccountLocked, "Account lock", "the account is locked", retry: false;
        524 => InvalidCardInfo, "Invalid card info", "invalid card details", retry: false;
        525 => InvalidOtp, "Invalid OTP", "wrong one-time password", retry: false;
        599 => UserCancel, "User cancel", "the payer cancelled", retry: false;
        755 => InvalidParams, "Invalid params", "invalid parameters", retry: false;
        800 => BankPending, "Bank pending", "the bank has not answered yet", retry: true;
    }
    unknown: "Undocumented", "undocumented error code";
}

/// The payer, optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Customer {
    /// Name.
    pub name: String,
    /// Phone.
    pub phone: String,
    /// Address.
    pub address: String,
    /// City code (e.g. `24000`).
    pub city: String,
    /// E-mail.
    pub email: String,
}

/// One checkout order: every element of Payoo's order XML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutOrder {
    /// `username`: the business wallet.
    pub username: String,
    /// `shop_id`.
    pub shop_id: i64,
    /// `session`: the merchant's session for the order (returned on the back URL).
    pub session: String,
    /// `shop_title`.
    pub shop_title: String,
    /// `shop_domain`.
    pub shop_domain: String,
    /// `shop_back_url` (sent URL-encoded).
    pub back_url: String,
    /// `order_no`: the merchant's reference.
    pub order_no: String,
    /// `order_cash_amount`: whole VND.
    pub amount: Money,
    /// `order_ship_date`, `dd/MM/yyyy`, not before today.
    pub ship_date: String,
    /// `order_ship_days`.
    pub ship_days: u32,
    /// `order_description`: more than 50 characters (sent URL-encoded).
    pub description: String,
    /// `notify_url` (sent URL-encoded; Payoo calls it from its allow-listed IPs).
    pub notify_url: String,
    /// `validity_time`, `yyyyMMddHHmmss`: when the order lapses.
    pub validity_time: String,
    /// `JsonResponse`: notifications as JSON (TRUE) or XML.
    pub json_notify: bool,
    /// `customer`.
    pub customer: Option<Customer>,
    /// `installment/tenors`, e.g. `3,6`.
    pub installment_tenors: Option<String>,
    /// `MDD1`, `MDD2`: free data Payoo returns.
    pub mdd: [Option<String>; 2],
}

/// Where the payer may pay: the optional form fields besides the order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckoutOptions {
    /// `refer`: the shop's domain registered with Payoo.
    pub refer: String,
    /// `payment_group`: `CC`, `Bank-account`, `Payoo-account`, `Installment`, `QRCode`,
    /// `pay-later`, comma-separated.
    pub payment_group: Option<String>,
    /// `bank`.
    pub bank: Option<String>,
    /// `method`.
    pub method: Option<String>,
}

/// A created checkout: where to send the payer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Checkout {
    /// `order_id`: Payoo's id.
    pub order_id: Option<String>,
    /// `order_no`.
    pub order_no: String,
    /// `payment_url`.
    pub payment_url: String,
    /// `token`.
    pub token: Option<String>,
    /// `expiry_date`.
    pub expiry_date: Option<String>,
    /// `payment_code`.
    pub payment_code: Option<String>,
    /// `amount` as Payoo read it (VND), checked against the order's.
    pub amount: Option<Money>,
}

fn digits(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}

/// `dd/MM/yyyy`.
fn is_ship_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b.get(2) == Some(&b'/')
        && b.get(5) == Some(&b'/')
        && s.get(0..2).is_some_and(|d| digits(d, 2))
        && s.get(3..5).is_some_and(|m| digits(m, 2))
        && s.get(6..10).is_some_and(|y| digits(y, 4))
}

fn url_encoded(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

impl CheckoutOrder {
    /// The order XML Payoo signs and reads, after checking what Payoo would refuse.
    pub fn to_xml(&self) -> Result<String, PayooError> {
        let input = |m: &str| PayooError::from(paybridge_core::Error::input(m.to_owned()));
        if self.order_no.trim().is_empty() || self.username.trim().is_empty() {
            return Err(input("order_no and username are required"));
        }
        if self.amount.currency() != Currency::VND {
            return Err(input("Payoo amounts are in VND"));
        }
        self.amount.check_to_send("order_cash_amount")?;
        let amount = self
            .amount
            .to_minor_units()
            .filter(|v| *v > 0)
            .ok_or_else(|| input("order_cash_amount: whole VND, more than 0"))?;
        if self.description.chars().count() <= 50 {
            return Err(input(
                "order_description: Payoo needs more than 50 characters",
            ));
        }
        if !is_ship_date(&self.ship_date) {
            return Err(input("order_ship_date is dd/MM/yyyy"));
        }
        if !digits(&self.validity_time, 14) {
            return Err(input("validity_time is yyyyMMddHHmmss"));
        }
        let e = escape_text;
        let mut xml = format!(
            "<shops><shop><session>{}</session><username>{}</username><shop_id>{}</shop_id><shop_title>{}</shop_title><shop_domain>{}</shop_domain><shop_back_url>{}</shop_back_url><order_no>{}</order_no><order_cash_amount>{amount}</order_cash_amount><order_ship_date>{}</order_ship_date><order_ship_days>{}</order_ship_days><order_description>{}</order_description><notify_url>{}</notify_url><validity_time>{}</validity_time><JsonResponse>{}</JsonResponse>",
            e(&self.session),
            e(&self.username),
            self.shop_id,
            e(&self.shop_title),
            e(&self.shop_domain),
            e(&url_encoded(&self.back_url)),
            e(&self.order_no),
            e(&self.ship_date),
            self.ship_days,
            e(&url_encoded(&self.description)),
            e(&url_encoded(&self.notify_url)),
            e(&self.validity_time),
            if self.json_notify { "TRUE" } else { "FALSE" },
        );
        if let Some(c) = &self.customer {
            let _ = write!(
                xml,
                "<customer><name>{}</name><phone>{}</phone><address>{}</address><city>{}</city><email>{}</email></customer>",
                e(&c.name),
                e(&c.phone),
                e(&c.address),
                e(&c.city),
                e(&c.email)
            );
        }
        if let Some(t) = &self.installment_tenors {
            let _ = write!(xml, "<installment><tenors>{}</tenors></installment>", e(t));
        }
        for (i, m) in self.mdd.iter().enumerate() {
            if let Some(m) = m {
                let _ = write!(xml, "<MDD{n}>{}</MDD{n}>", e(m), n = i + 1);
            }
        }
        xml.push_str("</shop></shops>");
        Ok(xml)
    }
}

/// The hosted checkout: creates orders, checks the return URL.
#[derive(Clone)]
pub struct CheckoutClient {
    url: String,
    checksum_key: SecretString,
    transport: HttpTransport,
}

impl std::fmt::Debug for CheckoutClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckoutClient")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// The raw text of the top-level `order` value of a checkout answer: what Payoo signed.
fn raw_order(body: &str) -> Option<&str> {
    #[derive(serde::Deserialize)]
    struct Answer<'a> {
        #[serde(borrow)]
        order: Option<&'a serde_json::value::RawValue>,
    }
    serde_json::from_str::<Answer<'_>>(body)
        .ok()?
        .order
        .map(serde_json::value::RawValue::get)
}

impl CheckoutClient {
    /// A checkout at `url` (e.g. [`SANDBOX_URL`]) signed with `checksum_key`.
    pub fn new(
        url: impl Into<String>,
        checksum_key: SecretString,
        transport: HttpTransport,
    ) -> Result<Self, PayooError> {
        let url = url.into();
        Endpoint::parse(&url)?;
        Ok(Self {
            url,
            checksum_key,
            transport,
        })
    }

    /// The form a checkout request posts: `data`, `checksum`, `refer` and the options.
    pub fn form(
        &self,
        order: &CheckoutOrder,
        options: &CheckoutOptions,
    ) -> Result<String, PayooError> {
        let xml = order.to_xml()?;
        let key = self.checksum_key.expose_secret();
        let checksum = sha512_hex(&[key.as_bytes(), xml.as_bytes()]);
        let mut form = form_urlencoded::Serializer::new(String::new());
        form.append_pair("data", &xml)
            .append_pair("checksum", &checksum)
            .append_pair("refer", &options.refer);
        for (name, value) in [
            ("payment_group", &options.payment_group),
            ("bank", &options.bank),
            ("method", &options.method),
        ] {
            if let Some(v) = value {
                form.append_pair(name, v);
            }
        }
        Ok(form.finish())
    }

    /// Create the order at Payoo: the payer's `payment_url`, once the answer's checksum
    /// verified and its order is this one (number and amount). Never resent: an unknown
    /// outcome carries [`CHECKOUT_ADVICE`].
    pub async fn create(
        &self,
        order: &CheckoutOrder,
        options: &CheckoutOptions,
    ) -> Result<Checkout, PayooError> {
        let request = HttpRequest::post(self.url.as_str(), self.form(order, options)?)
            .header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .header(http::header::ACCEPT, "application/json")
            .operation(PROVIDER_ID, "paynow/order/create")
            .reconcile(order.order_no.as_str(), CHECKOUT_ADVICE);
        let response = self.transport.send(request).await?.into_success()?;
        let text = response.text()?;
        let answer: Value = serde_json::from_str(text).map_err(|_| response.not_the_protocol())?;
        let result = answer
            .get("result")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !result.eq_ignore_ascii_case("success") {
            let message = answer
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("no message");
            return Err(PayooError::CheckoutRefused(
                paybridge_core::http::printable(message, 200),
            ));
        }
        let (Some(raw), Some(checksum)) = (
            raw_order(text),
            answer.get("checksum").and_then(Value::as_str),
        ) else {
            return Err(response
                .undecodable(paybridge_core::Error::decode(
                    "a success without order or checksum",
                ))
                .into());
        };
        let key = self.checksum_key.expose_secret();
        let _verified =
            verify_sha512_hex(&[key.as_bytes(), raw.as_bytes()], checksum).map_err(|_| {
                PayooError::from(paybridge_core::Error::Signature(
                    "the checkout answer's checksum does not verify".into(),
                ))
            })?;
        let o = answer.get("order").cloned().unwrap_or(Value::Null);
        let s = |name: &str| match o.get(name) {
            Some(Value::String(v)) if !v.is_empty() => Some(v.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        let order_no = s("order_no").unwrap_or_default();
        if order_no != order.order_no {
            return Err(PayooError::NotThisRequest(format!(
                "created order {:?}, Payoo answered about {order_no:?}",
                order.order_no
            )));
        }
        let amount = s("amount")
            .map(|a| Money::parse_reported(&a, Currency::VND, "amount"))
            .transpose()?;
        if amount.is_some_and(|a| a != order.amount) {
            return Err(PayooError::NotThisRequest(format!(
                "ordered {}, Payoo read {:?}",
                order.amount, amount
            )));
        }
        Ok(Checkout {
            order_id: s("order_id"),
            payment_url: s("payment_url")
                .ok_or_else(|| paybridge_core::Error::decode("no payment_url"))?,
            order_no,
            token: s("token"),
            expiry_date: s("expiry_date"),
            payment_code: s("payment_code"),
            amount,
        })
    }
}

/// What the return to `shop_back_url` says, once its checksum verified. It is the payer's
/// browser speaking: show it, never credit on it — the notification or `GetOrderInfo` says
/// whether the order is paid.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Return {
    /// `session`.
    pub session: String,
    /// `order_no`.
    pub order_no: String,
    /// `status`: 1 success, 0 failure, -1 cancelled.
    pub status: i64,
    /// `errorcode`, when there is one.
    pub error: Option<ReturnError>,
    /// `errormsg`.
    pub error_message: Option<String>,
}

impl Return {
    /// The normalized status of the return (what the payer saw; not proof of payment).
    #[must_use]
    pub fn normalized(&self) -> paybridge_core::PaymentStatus {
        match self.status {
            1 => paybridge_core::PaymentStatus::Succeeded,
            -1 => paybridge_core::PaymentStatus::Cancelled,
            _ => paybridge_core::PaymentStatus::Failed,
        }
    }
}

/// Check a return URL's query (`session.order_no.status` under the checksum key).
pub fn verify_return(checksum_key: &SecretString, query: &str) -> Result<Return, PayooError> {
    let (mut session, mut order_no, mut status, mut checksum) = (None, None, None, None);
    let (mut error, mut error_message) = (None, None);
    for (k, v) in form_urlencoded::parse(query.trim_start_matches('?').as_bytes()) {
        let slot = match k.as_ref() {
            "session" => &mut session,
            "order_no" => &mut order_no,
            "status" => &mut status,
            "checksum" => &mut checksum,
            "errorcode" => &mut error,
            "errormsg" => &mut error_message,
            _ => continue,
        };
        if slot.replace(v.into_owned()).is_some() {
            return Err(paybridge_core::Error::Signature(format!("{k} appears twice")).into());
        }
    }
    let (Some(session), Some(order_no), Some(status), Some(checksum)) =
        (session, order_no, status, checksum)
    else {
        return Err(paybridge_core::Error::input(
            "a Payoo return carries session, order_no, status and checksum",
        )
        .into());
    };
    let key = checksum_key.expose_secret();
    let _verified = verify_sha512_hex(&return_parts(key, &session, &order_no, &status), &checksum)
        .map_err(|_| {
            PayooError::from(paybridge_core::Error::Signature(
                "the return URL's checksum does not verify".into(),
            ))
        })?;
    let status: i64 = status
        .parse()
        .map_err(|_| paybridge_core::Error::Signature("status is not a number".into()))?;
    Ok(Return {
        session,
        order_no,
        status,
        error: error
            .and_then(|e| e.parse().ok())
            .filter(|c| *c != 0)
            .map(ReturnError::from_code),
        error_message: error_message.filter(|m| !m.is_empty()),
    })
}

/// A return URL's checksum (what the simulator and tests sign with).
#[must_use]
pub fn return_checksum(checksum_key: &str, session: &str, order_no: &str, status: &str) -> String {
    sha512_hex(&return_parts(checksum_key, session, order_no, status))
}

/// What a return URL's checksum covers: the key, then `session.order_no.status`.
fn return_parts<'a>(
    key: &'a str,
    session: &'a str,
    order_no: &'a str,
    status: &'a str,
) -> [&'a [u8]; 6] {
    [
        key.as_bytes(),
        session.as_bytes(),
        b".",
        order_no.as_bytes(),
        b".",
        status.as_bytes(),
    ]
}
