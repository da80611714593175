//! What the Qvickly simulator holds — payments and checkout sessions — and the helpers its
//! Payment API and its Checkout share: reading amounts and text from a request's JSON, a
//! cart's totals, the payer sent back to the shop.

use std::collections::HashMap;

use axum::http::StatusCode;
use axum::response::Response;
use paybridge_core::sandbox::page;
use serde_json::Value;

/// The hosted checkout page: `GET`/`POST /qvickly/_sandbox/checkout/{eid}/{hash}[/test]`.
pub const PAGE_PREFIX: &str = "/qvickly/_sandbox/checkout";

/// One payment.
#[derive(Debug, Clone)]
pub(crate) struct Payment {
    pub(super) orderid: String,
    pub(super) method: i64,
    pub(super) currency: String,
    pub(super) status: String,
    pub(super) autoactivate: bool,
    pub(super) callbackurl: String,
    pub(super) data: Value,
    /// Cart.Total.withtax, in cents.
    pub(super) total: i64,
    /// Credited so far, in cents.
    pub(super) credited: i64,
    /// Made by a test call (`credentials.test`): its callbacks say `test`.
    pub(super) test: bool,
}

/// The payments, by number.
#[derive(Debug, Default)]
pub(crate) struct Payments {
    pub(super) by_number: HashMap<String, Payment>,
    pub(super) next: u64,
    /// Checkouts, by their hash.
    pub(super) checkouts: HashMap<String, Checkout>,
}

pub(super) fn cents(v: Option<&Value>) -> i64 {
    match v {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
        Some(Value::String(s)) => s.parse().unwrap_or(0),
        _ => 0,
    }
}

pub(super) fn s(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// What a payment page says is paid for: its articles' titles.
pub(super) fn titles(data: &Value) -> String {
    data.get("Articles")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.get("title").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

/// The cart's totals against its articles (what Qvickly checks, 9102).
pub(super) fn cart_adds_up(data: &Value) -> bool {
    crate::api::check_cart_json(data).is_ok()
}

/// What the payer's choice did to a payment.
pub(super) struct Finished {
    pub(super) status: String,
    /// The callback's `credentials` and `data`.
    pub(super) parts: (String, String),
    pub(super) callback: String,
    pub(super) delivered: Result<u32, String>,
    /// The payment's `PaymentData` (its return URLs).
    pub(super) data: Value,
}

/// The payer sent back to the shop as Qvickly does: to `accepturl` (paid or left pending) or
/// `cancelurl` (declined), carrying the callback's signed `credentials` and `data`, as Qvickly
/// wrote them — a form `POST`, or the query of a `GET` when `returnmethod` is `GET`.
pub(super) fn back_to_shop(number: &str, choice: page::Choice, done: &Finished) -> Response {
    let field = |k: &str| s(done.data.get(k));
    let back = if choice == page::Choice::Decline {
        field("cancelurl")
    } else {
        field("accepturl")
    };
    if back.is_empty() {
        return page::message(
            StatusCode::OK,
            "Qvickly",
            &format!(
                "Payment {number} is {}. The shop gave no return URL.",
                done.status
            ),
        );
    }
    let (credentials, data) = &done.parts;
    let fields = [
        ("credentials", credentials.as_str()),
        ("data", data.as_str()),
    ];
    if field("returnmethod").eq_ignore_ascii_case("GET") {
        page::see_other(&back, &fields)
    } else {
        page::post_back(&back, &fields)
    }
}

/// One checkout session.
#[derive(Debug, Clone)]
pub(crate) struct Checkout {
    /// The checkout's number (not the payment's).
    pub(super) number: String,
    pub(super) eid: String,
    pub(super) test: bool,
    /// `Created` until completed; then the payment's status, or `Cancelled`.
    pub(super) status: String,
    /// `CheckoutData`, `PaymentData`, `PaymentInfo`, `Customer`, `Articles`, `Cart` as sent.
    pub(super) data: Value,
    /// The payment number, once completed.
    pub(super) payment: Option<String>,
}

impl Checkout {
    pub(super) fn url(&self, host: &str, hash: &str) -> String {
        let test = if self.test { "/test" } else { "" };
        format!("http://{host}{PAGE_PREFIX}/{}/{hash}{test}", self.eid)
    }

    pub(super) fn orderid(&self) -> String {
        s(self.data.get("PaymentData").and_then(|p| p.get("orderid")))
    }
}
