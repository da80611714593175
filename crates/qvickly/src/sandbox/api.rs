//! The simulator's Payment API (`POST /qvickly/api/`): the envelope's hash checked (else
//! 9013, authentication failed) and the merchant id (9010), each function played on a state
//! machine per payment, every answer signed as Qvickly signs it.
//!
//! - `addPayment`: the cart's totals must be its articles' (else 9102); card (8) and bank
//!   (16) answer a payment page URL (`GET /qvickly/_sandbox/payment?number=N`: Pay, Decline,
//!   Leave pending, then back to `accepturl`/`cancelurl` with the signed `credentials` and
//!   `data`, POST or GET per `returnmethod`); `POST /qvickly/_sandbox/pay?number=N` is a script
//!   paying it — the payment is then `Paid` with `autoactivate`, else still `Created` (authorised),
//!   and the callback goes to `callbackurl`; invoices are `Created` (or `Paid` with
//!   `autoactivate`). A repeated `orderid` is 5199.
//! - `activatePayment`: `Created` → `Paid`; `cancelPayment`: `Created` → `Cancelled`; anything
//!   else 5202 (invalid status).
//! - `creditPayment`: only of a `Paid` payment, never above what is left of its total (5204);
//!   full (`partcredit` false: what is left) or partial (the cart's `withtax`); answers a credit
//!   invoice number, `Paid`.
//! - `updatePayment`: a `Created` payment's cart replaced.
//! - `getPaymentinfo`: `PaymentData`, `Cart.Total`, `Articles`; unknown numbers 5201.
//! - `getPaymentplans`: two plans; `getAddress`: Qvickly's approved test person
//!   (195501011018), others 1001.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use paybridge_core::sandbox::page;
use serde_json::{Value, json};

use super::books::{Finished, Payment, back_to_shop, cart_adds_up, cents, s, titles};
use super::{SANDBOX_MERCHANT_ID, Simulator};
use crate::php_json::reencode;

/// The Payment API route.
pub const API_PATH: &str = "/qvickly/api/";
/// The payer pays a card or bank payment: `POST /qvickly/_sandbox/pay?number=N`.
pub const PAY_PATH: &str = "/qvickly/_sandbox/pay";

impl Simulator {
    /// An answer signed as Qvickly signs: `data` PHP-encoded, its HMAC in `credentials.hash`.
    pub(super) fn answer(&self, data: &Value) -> Response {
        let php = reencode(&data.to_string()).unwrap_or_else(|_| "{}".into());
        let hash = self.key.sign_hex(php.as_bytes());
        (
            [(header::CONTENT_TYPE, "application/json")],
            format!(r#"{{"credentials":{{"hash":"{hash}"}},"data":{php}}}"#),
        )
            .into_response()
    }

    pub(super) fn error(&self, code: i64, message: &str) -> Response {
        self.answer(&json!({"code": code.to_string(), "message": message, "logid": "sandbox"}))
    }
}

/// Qvickly's older clients give a card payment's URLs in `Card` (`accepturl`, `cancelurl`,
/// `callbackurl`, `returnmethod`), which Qvickly still honours: moved into `PaymentData`
/// where `PaymentData` has none of its own.
fn with_legacy_card_urls(mut data: Value) -> Value {
    let card = data.get("Card").cloned().unwrap_or(Value::Null);
    if let Some(pd) = data.get_mut("PaymentData").and_then(Value::as_object_mut) {
        for key in ["accepturl", "cancelurl", "callbackurl", "returnmethod"] {
            let missing = pd.get(key).is_none_or(|v| s(Some(v)).is_empty());
            if let (true, Some(v)) = (missing, card.get(key)) {
                pd.insert(key.into(), v.clone());
            }
        }
    }
    data
}

#[allow(
    clippy::too_many_lines,
    reason = "one match over the Payment API's functions, each a few lines of state: read as a table"
)]
pub(crate) async fn call(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    #[derive(serde::Deserialize)]
    struct Envelope<'a> {
        credentials: Value,
        #[serde(borrow)]
        data: &'a serde_json::value::RawValue,
        function: String,
    }
    let Ok(env) = serde_json::from_slice::<Envelope<'_>>(&body) else {
        return sim.error(9003, "Missing parameters");
    };
    if s(env.credentials.get("id")) != SANDBOX_MERCHANT_ID {
        return sim.error(9010, "Invalid credentials");
    }
    let hash = s(env.credentials.get("hash"));
    // Qvickly hashes its own re-encoding of `data` (PHP's json_encode after json_decode):
    // a client that sends spaced JSON and hashes the compact form — Qvickly's Python sample —
    // is accepted, as by Qvickly; so is one whose hash covers the bytes as sent.
    let raw = env.data.get();
    let signed = sim.key.verify_hex(raw.as_bytes(), &hash).is_ok()
        || reencode(raw).is_ok_and(|php| sim.key.verify_hex(php.as_bytes(), &hash).is_ok());
    if !signed {
        return sim.error(9013, "Authentication failed");
    }
    let Ok(data) = serde_json::from_str::<Value>(env.data.get()) else {
        return sim.error(9003, "Missing parameters");
    };
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1")
        .to_owned();
    let Ok(mut payments) = sim.payments.lock() else {
        return sim.error(9999, "state");
    };
    let number = s(data
        .get("number")
        .or_else(|| data.get("PaymentData").and_then(|p| p.get("number"))));
    if let Some(answer) = super::checkout::call(
        &sim,
        &mut payments,
        &env.function,
        &data,
        &host,
        &env.credentials,
    ) {
        return answer;
    }
    match env.function.as_str() {
        "addPayment" => {
            let pd = data.get("PaymentData").cloned().unwrap_or(Value::Null);
            let orderid = s(pd.get("orderid"));
            if orderid.is_empty() {
                return sim.error(5203, "Order id is mandatory");
            }
            if payments.by_number.values().any(|p| p.orderid == orderid) {
                return sim.error(5199, "Invoice that with the id provided does already exist");
            }
            if !cart_adds_up(&data) {
                return sim.error(9102, "Cart total does not match the articles");
            }
            payments.next += 1;
            let number = (1_000 + payments.next).to_string();
            let method = cents(pd.get("method"));
            let autoactivate = s(pd.get("autoactivate")) == "1";
            let status = if autoactivate && !matches!(method, 8 | 16) {
                "Paid"
            } else {
                "Created"
            };
            let url = if matches!(method, 8 | 16) {
                format!("http://{host}{PAGE_PATH}?number={number}")
            } else {
                format!("http://{host}/qvickly/_sandbox/invoice/{number}.pdf")
            };
            let total = cents(data.get("Cart").and_then(|c| c.get("Total")).and_then(|t| t.get("withtax")));
            let data = with_legacy_card_urls(data.clone());
            let callbackurl = s(data.get("PaymentData").and_then(|p| p.get("callbackurl")));
            payments.by_number.insert(
                number.clone(),
                Payment {
                    orderid: orderid.clone(),
                    method,
                    currency: s(pd.get("currency")),
                    status: status.into(),
                    autoactivate,
                    callbackurl,
                    data,
                    total,
                    credited: 0,
                    test: matches!(s(env.credentials.get("test")).as_str(), "true" | "1"),
                },
            );
            sim.answer(&json!({"number": number, "status": status, "orderid": orderid, "url": url}))
        }
        "activatePayment" | "cancelPayment" => {
            let Some(p) = payments.by_number.get_mut(&number) else {
                return sim.error(5201, "Invoice does not exist");
            };
            if p.status != "Created" {
                return sim.error(5202, "Invalid status of payment");
            }
            p.status = if env.function == "activatePayment" { "Paid" } else { "Cancelled" }.into();
            sim.answer(&json!({"number": number, "status": p.status, "orderid": p.orderid, "url": ""}))
        }
        "creditPayment" => {
            let Some(p) = payments.by_number.get_mut(&number) else {
                return sim.error(5201, "Invoice does not exist");
            };
            if p.status != "Paid" {
                return sim.error(5202, "Invalid status of payment");
            }
            let partial = s(data.get("PaymentData").and_then(|d| d.get("partcredit"))) == "true";
            let left = p.total - p.credited;
            let amount = if partial {
                if !cart_adds_up(&data) {
                    return sim.error(9102, "Cart total does not match the articles");
                }
                cents(data.get("Cart").and_then(|c| c.get("Total")).and_then(|t| t.get("withtax")))
            } else {
                left
            };
            if amount <= 0 || amount > left {
                return sim.error(5204, "Cannot credit more than balance due");
            }
            p.credited += amount;
            let orderid = p.orderid.clone();
            payments.next += 1;
            let credit = (1_000 + payments.next).to_string();
            sim.answer(&json!({"number": credit, "status": "Paid", "orderid": orderid, "url": ""}))
        }
        "updatePayment" => {
            let Some(p) = payments.by_number.get_mut(&number) else {
                return sim.error(5201, "Invoice does not exist");
            };
            if p.status != "Created" {
                return sim.error(5202, "Invalid status of payment");
            }
            if !cart_adds_up(&data) {
                return sim.error(9102, "Cart total does not match the articles");
            }
            p.total = cents(data.get("Cart").and_then(|c| c.get("Total")).and_then(|t| t.get("withtax")));
            p.data = data.clone();
            sim.answer(&json!({"number": number, "status": "Created", "orderid": p.orderid, "url": ""}))
        }
        "getPaymentinfo" => {
            let Some(p) = payments.by_number.get(&number) else {
                return sim.error(5201, "Invoice does not exist");
            };
            let mut pd = p.data.get("PaymentData").cloned().unwrap_or(json!({}));
            if let Some(map) = pd.as_object_mut() {
                map.insert("status".into(), json!(p.status));
                map.insert("method".into(), json!(p.method.to_string()));
                map.insert("currency".into(), json!(p.currency));
            }
            sim.answer(&json!({
                "PaymentData": pd,
                "Customer": p.data.get("Customer"),
                "Articles": p.data.get("Articles"),
                "Cart": p.data.get("Cart"),
                "Settlement": {"number": "", "date": ""},
            }))
        }
        "getPaymentplans" => sim.answer(&json!([
            {"paymentplanid": "1", "description": "3 månader", "nbrofmonths": "3", "startfee": "0", "handlingfee": "29", "minamount": "1000", "maxamount": "50000", "monthlycost": "0", "interestrate": "0"},
            {"paymentplanid": "2", "description": "12 månader", "nbrofmonths": "12", "startfee": "195", "handlingfee": "29", "minamount": "1000", "maxamount": "50000", "monthlycost": "0", "interestrate": "9.95"},
        ])),
        "getAddress" => {
            if s(data.get("pno")) == "195501011018" {
                sim.answer(&json!({"firstname": "Tess T", "lastname": "Persson", "street": "Testvägen 1", "zip": "12345", "city": "Testinge", "country": "SE", "phone": "", "email": ""}))
            } else {
                sim.error(1001, "Credit denied for Personal/Organisationnumber.")
            }
        }
        _ => sim.error(9001, "The method that you are calling does not exist."),
    }
}

/// The payer pays a card or bank payment: `Paid` with `autoactivate`, else `Created`
/// (authorised, to be activated); the callback goes to `callbackurl` (answered with its
/// delivery attempts).
pub(crate) async fn pay(
    State(sim): State<Simulator>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let number = q.get("number").cloned().unwrap_or_default();
    let Some(done) = sim.finish(&number, page::Choice::Pay).await else {
        return sim.error(5201, "Invoice does not exist");
    };
    axum::Json(json!({
        "number": number,
        "status": done.status,
        "delivered": done.delivered.is_ok(),
        "attempts": done.delivered.unwrap_or(0),
        "callback": done.callback,
    }))
    .into_response()
}

impl Simulator {
    /// Apply the payer's choice to card or bank payment `number` (`None`: no such payment):
    /// paid (`Paid` with `autoactivate`, else `Created`, authorised), declined (`Cancelled`) or
    /// left (`Pending`); the signed callback goes to `callbackurl` (or the legacy
    /// `Card.callbackurl`) when the payment has one.
    pub(super) async fn finish(&self, number: &str, choice: page::Choice) -> Option<Finished> {
        let (url, status, orderid, data, test) = {
            let mut payments = self.payments.lock().ok()?;
            let p = payments.by_number.get_mut(number)?;
            match choice {
                page::Choice::Pay | page::Choice::PayWrongAmount => {
                    if p.autoactivate {
                        p.status = "Paid".into();
                    }
                }
                page::Choice::Decline => p.status = "Cancelled".into(),
                page::Choice::LeavePending => p.status = "Pending".into(),
            }
            (
                p.callbackurl.clone(),
                p.status.clone(),
                p.orderid.clone(),
                p.data.get("PaymentData").cloned().unwrap_or(Value::Null),
                p.test,
            )
        };
        let parts = self.signed_parts(&super::CallbackSpec {
            url: None,
            number: Some(number.to_owned()),
            status: Some(status.clone()),
            orderid: Some(orderid),
            payment_url: Some(String::new()),
            test: Some(test),
        });
        let callback = format!("{{\"credentials\":{},\"data\":{}}}", parts.0, parts.1);
        let delivered = if url.is_empty() {
            Ok(0)
        } else {
            self.deliver(&url, &callback).await
        };
        Some(Finished {
            status,
            parts,
            callback,
            delivered,
            data,
        })
    }
}

/// The payment page a card or bank payment's `url` points to: `GET
/// /qvickly/_sandbox/payment?number=N`.
pub const PAGE_PATH: &str = "/qvickly/_sandbox/payment";

pub(crate) async fn page(
    State(sim): State<Simulator>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let number = q.get("number").cloned().unwrap_or_default();
    let Some(p) = sim
        .payments
        .lock()
        .ok()
        .and_then(|ps| ps.by_number.get(&number).cloned())
    else {
        return page::message(StatusCode::NOT_FOUND, "Qvickly", "unknown payment");
    };
    if p.status != "Created" || !matches!(p.method, 8 | 16) {
        return page::message(
            StatusCode::OK,
            "Qvickly",
            &format!("Payment {number} is {}.", p.status),
        );
    }
    let description = titles(&p.data);
    let amount = rust_decimal::Decimal::new(p.total, 2).to_string();
    let action = format!("{PAGE_PATH}?number={number}");
    page::Page {
        provider: "Qvickly",
        merchant: SANDBOX_MERCHANT_ID,
        order: &p.orderid,
        amount: &amount,
        currency: &p.currency,
        description: &description,
        action: &action,
        choices: &page::Choice::WITHOUT_AMOUNT,
    }
    .into_response()
}

/// The payer's choice, then back to the shop as Qvickly sends its payers: to `accepturl`
/// (paid or left pending) or `cancelurl` (declined), carrying the signed `credentials` and
/// `data` — a form `POST`, or the query of a `GET` when `returnmethod` is `GET`.
pub(crate) async fn choose(
    State(sim): State<Simulator>,
    Query(q): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let number = q.get("number").cloned().unwrap_or_default();
    let Some(choice) =
        page::Choice::from_form(&body).filter(|c| page::Choice::WITHOUT_AMOUNT.contains(c))
    else {
        return page::message(StatusCode::BAD_REQUEST, "Qvickly", "no choice made");
    };
    let open = sim
        .payments
        .lock()
        .ok()
        .and_then(|ps| ps.by_number.get(&number).map(|p| p.status == "Created"));
    match open {
        None => return page::message(StatusCode::NOT_FOUND, "Qvickly", "unknown payment"),
        Some(false) => {
            return page::message(
                StatusCode::CONFLICT,
                "Qvickly",
                "this payment is no longer open",
            );
        }
        Some(true) => {}
    }
    let Some(done) = sim.finish(&number, choice).await else {
        return page::message(StatusCode::NOT_FOUND, "Qvickly", "unknown payment");
    };
    if let Err(e) = &done.delivered {
        tracing::warn!(number = %number, error = %e, "sandbox callback not acknowledged");
    }
    back_to_shop(&number, choice, &done)
}
