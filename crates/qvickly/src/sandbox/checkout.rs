//! Qvickly Checkout in the simulator: the Payment API's Checkout functions and the hosted
//! checkout page.
//!
//! - `initCheckout`: `CheckoutData.terms` required (50014), currency, country and language
//!   checked (50016–50018), the cart's totals (9102), an `orderid` (5203); answers the checkout
//!   `number` (its own range, never a payment's), `status` `Created`, `orderid` and the page
//!   `url` — `…/_sandbox/checkout/{eid}/{hash}`, `/test` appended for a test call — whose hash
//!   is `YYYYMMDD` + 32 hex digits, as Qvickly's.
//! - `updateCheckout` by checkout `number` (50013 unknown): a new cart (and `orderid`, the
//!   final one) for a checkout not completed yet.
//! - `getCheckout` (`PaymentData.hash`) and the documented `getOrderByHash` (`hash`): 50015
//!   for an empty hash, 50012 for an unknown one; `PaymentData.order.{number, status}` is the
//!   payment once completed, empty before.
//! - The page: Pay (a card payment is made — its own number — `Paid` with `autoactivate`,
//!   else `Created`), Decline (the checkout `Cancelled`, no payment) or Leave pending (a
//!   payment `Pending`, manual review); the signed callback goes to `callbackurl` and the payer
//!   back to `accepturl`/`cancelurl`, as for a Payment API payment.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use paybridge_core::sandbox::page;
use serde_json::{Value, json};

use super::Simulator;
pub use super::books::PAGE_PREFIX;
use super::books::{Checkout, Payment, Payments, back_to_shop, cart_adds_up, cents, s, titles};

const CURRENCIES: [&str; 6] = ["SEK", "NOK", "DKK", "EUR", "USD", "GBP"];
const COUNTRIES: [&str; 8] = ["SE", "NO", "DK", "FI", "DE", "GB", "US", "NL"];
const LANGUAGES: [&str; 6] = ["sv", "en", "no", "da", "fi", "de"];

/// A Checkout function's answer; `None` when `function` is not one.
pub(crate) fn call(
    sim: &Simulator,
    payments: &mut Payments,
    function: &str,
    data: &Value,
    host: &str,
    credentials: &Value,
) -> Option<Response> {
    Some(match function {
        "initCheckout" => init(sim, payments, data, host, credentials),
        "updateCheckout" => update(sim, payments, data, host),
        "getCheckout" => {
            let hash = s(data.get("PaymentData").and_then(|p| p.get("hash")));
            get(sim, payments, &hash, host)
        }
        "getOrderByHash" | "getOrderInfo" => get(sim, payments, &s(data.get("hash")), host),
        _ => return None,
    })
}

fn init(
    sim: &Simulator,
    payments: &mut Payments,
    data: &Value,
    host: &str,
    credentials: &Value,
) -> Response {
    let pd = data.get("PaymentData").cloned().unwrap_or(Value::Null);
    let field = |k: &str| s(pd.get(k));
    if s(data.get("CheckoutData").and_then(|c| c.get("terms"))).is_empty() {
        return sim.error(50014, "Checkout: You need to provide the store terms.");
    }
    if !CURRENCIES.contains(&field("currency").as_str()) {
        return sim.error(50016, "Checkout: Currency is invalid");
    }
    if !COUNTRIES.contains(&field("country").as_str()) {
        return sim.error(50017, "Checkout: Country is invalid");
    }
    if !LANGUAGES.contains(&field("language").as_str()) {
        return sim.error(50018, "Checkout: Language is invalid");
    }
    if field("orderid").is_empty() {
        return sim.error(5203, "Order id is mandatory");
    }
    if !cart_adds_up(data) {
        return sim.error(9102, "Amount does not match with calculated total");
    }
    let serial = payments.checkouts.len() + 1;
    let number = (500_000 + serial).to_string();
    let hash = checkout_hash(&number, &field("orderid"));
    let test = matches!(s(credentials.get("test")).as_str(), "true" | "1");
    let checkout = Checkout {
        number: number.clone(),
        eid: s(credentials.get("id")),
        test,
        status: "Created".into(),
        data: data.clone(),
        payment: None,
    };
    let url = checkout.url(host, &hash);
    payments.checkouts.insert(hash, checkout);
    sim.answer(
        &json!({"number": number, "status": "Created", "orderid": field("orderid"), "url": url}),
    )
}

/// `YYYYMMDD` and 32 hex digits, as Qvickly's checkout hashes.
fn checkout_hash(number: &str, orderid: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let c = paybridge_core::time::civil(i64::try_from(now.as_secs()).unwrap_or(0));
    // Unguessable enough for a simulator: the number, the order and the time to the nanosecond.
    let digest = paybridge_core::signature::sha512_hex(&[
        number.as_bytes(),
        orderid.as_bytes(),
        &now.as_nanos().to_le_bytes(),
    ]);
    format!(
        "{:04}{:02}{:02}{}",
        c.year,
        c.month,
        c.day,
        digest.get(..32).unwrap_or_default()
    )
}

fn update(sim: &Simulator, payments: &mut Payments, data: &Value, host: &str) -> Response {
    let number = s(data.get("PaymentData").and_then(|p| p.get("number")));
    let Some((hash, checkout)) = payments
        .checkouts
        .iter_mut()
        .find(|(_, c)| c.number == number)
    else {
        return sim.error(50013, "UpdateCheckout: The checkout can not be found");
    };
    if checkout.payment.is_some() || checkout.status != "Created" {
        return sim.error(5202, "Invalid status of payment");
    }
    if data.get("Cart").is_some() && !cart_adds_up(data) {
        return sim.error(9102, "Amount does not match with calculated total");
    }
    if let (Some(stored), Some(new)) = (checkout.data.as_object_mut(), data.as_object()) {
        for (k, v) in new {
            if k == "PaymentData" {
                let Some(pd) = stored.get_mut(k).and_then(Value::as_object_mut) else {
                    continue;
                };
                for (pk, pv) in v.as_object().into_iter().flatten() {
                    if pk != "number" {
                        pd.insert(pk.clone(), pv.clone());
                    }
                }
            } else {
                stored.insert(k.clone(), v.clone());
            }
        }
    }
    let url = checkout.url(host, hash);
    sim.answer(&json!({"number": number, "status": checkout.status, "orderid": checkout.orderid(), "url": url}))
}

fn get(sim: &Simulator, payments: &Payments, hash: &str, host: &str) -> Response {
    if hash.is_empty() {
        return sim.error(50015, "Checkout: Hash was empty");
    }
    let Some(checkout) = payments.checkouts.get(hash) else {
        return sim.error(50012, "Checkout: The checkout can not be found");
    };
    let paid: Option<&Payment> = checkout
        .payment
        .as_ref()
        .and_then(|n| payments.by_number.get(n));
    let mut pd = checkout
        .data
        .get("PaymentData")
        .cloned()
        .unwrap_or(json!({}));
    if let Some(map) = pd.as_object_mut() {
        map.insert("number".into(), json!(checkout.number));
        map.insert("status".into(), json!(checkout.status));
        map.insert(
            "method".into(),
            json!(paid.map(|p| p.method.to_string()).unwrap_or_default()),
        );
        map.insert(
            "order".into(),
            json!({
                "number": checkout.payment.clone().unwrap_or_default(),
                "status": paid.map(|p| p.status.clone()).unwrap_or_default(),
                "orderid": checkout.orderid(),
                "url": "",
            }),
        );
        map.insert("url".into(), json!(checkout.url(host, hash)));
    }
    sim.answer(&json!({
        "PaymentData": pd,
        "Customer": checkout.data.get("Customer"),
        "Articles": checkout.data.get("Articles"),
        "Cart": checkout.data.get("Cart"),
        "CheckoutData": checkout.data.get("CheckoutData"),
    }))
}

/// The checkout named by the page's path, if any.
fn checkout_at(sim: &Simulator, eid: &str, hash: &str) -> Option<Checkout> {
    let payments = sim.payments.lock().ok()?;
    payments
        .checkouts
        .get(hash)
        .filter(|c| c.eid == eid)
        .cloned()
}

pub(crate) async fn page(
    State(sim): State<Simulator>,
    Path(params): Path<HashMap<String, String>>,
) -> Response {
    let (eid, hash) = (param(&params, "eid"), param(&params, "hash"));
    let Some(checkout) = checkout_at(&sim, &eid, &hash) else {
        return page::message(StatusCode::NOT_FOUND, "Qvickly", "unknown checkout");
    };
    if checkout.status != "Created" {
        return page::message(
            StatusCode::OK,
            "Qvickly",
            &format!("This checkout is {}.", checkout.status),
        );
    }
    let total = cents(
        checkout
            .data
            .get("Cart")
            .and_then(|c| c.get("Total"))
            .and_then(|t| t.get("withtax")),
    );
    let description = titles(&checkout.data);
    let currency = s(checkout
        .data
        .get("PaymentData")
        .and_then(|p| p.get("currency")));
    let test = if checkout.test { "/test" } else { "" };
    let action = format!("{PAGE_PREFIX}/{eid}/{hash}{test}");
    page::Page {
        provider: "Qvickly Checkout",
        merchant: &eid,
        order: &checkout.orderid(),
        amount: &rust_decimal::Decimal::new(total, 2).to_string(),
        currency: &currency,
        description: &description,
        action: &action,
        choices: &page::Choice::WITHOUT_AMOUNT,
    }
    .into_response()
}

fn param(params: &HashMap<String, String>, name: &str) -> String {
    params.get(name).cloned().unwrap_or_default()
}

/// The payer's choice: the checkout completes into a card payment of its own number (Pay,
/// Leave pending) or is cancelled (Decline); then as a payment page does.
pub(crate) async fn choose(
    State(sim): State<Simulator>,
    Path(params): Path<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let (eid, hash) = (param(&params, "eid"), param(&params, "hash"));
    let Some(choice) =
        page::Choice::from_form(&body).filter(|c| page::Choice::WITHOUT_AMOUNT.contains(c))
    else {
        return page::message(StatusCode::BAD_REQUEST, "Qvickly", "no choice made");
    };
    let number = {
        let Ok(mut payments) = sim.payments.lock() else {
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        };
        let Some(checkout) = payments
            .checkouts
            .get(&hash)
            .filter(|c| c.eid == eid)
            .cloned()
        else {
            return page::message(StatusCode::NOT_FOUND, "Qvickly", "unknown checkout");
        };
        if checkout.status != "Created" {
            return page::message(StatusCode::CONFLICT, "Qvickly", "this checkout is finished");
        }
        if choice == page::Choice::Decline {
            if let Some(c) = payments.checkouts.get_mut(&hash) {
                c.status = "Cancelled".into();
            }
            let cancel = s(checkout
                .data
                .get("PaymentData")
                .and_then(|p| p.get("cancelurl")));
            return if cancel.is_empty() {
                page::message(StatusCode::OK, "Qvickly", "The checkout is cancelled.")
            } else {
                page::see_other(&cancel, &[])
            };
        }
        payments.next += 1;
        let number = (1_000 + payments.next).to_string();
        let mut data = checkout.data.clone();
        if let Some(pd) = data.get_mut("PaymentData").and_then(Value::as_object_mut) {
            pd.insert("method".into(), json!("8"));
        }
        let field = |k: &str| s(data.get("PaymentData").and_then(|p| p.get(k)));
        let payment = Payment {
            orderid: checkout.orderid(),
            method: 8,
            currency: field("currency"),
            status: "Created".into(),
            autoactivate: field("autoactivate") == "1",
            callbackurl: field("callbackurl"),
            total: cents(
                data.get("Cart")
                    .and_then(|c| c.get("Total"))
                    .and_then(|t| t.get("withtax")),
            ),
            data,
            credited: 0,
            test: checkout.test,
        };
        payments.by_number.insert(number.clone(), payment);
        if let Some(c) = payments.checkouts.get_mut(&hash) {
            c.payment = Some(number.clone());
        }
        number
    };
    let Some(done) = sim.finish(&number, choice).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if let Ok(mut payments) = sim.payments.lock()
        && let Some(c) = payments.checkouts.get_mut(&hash)
    {
        c.status.clone_from(&done.status);
    }
    if let Err(e) = &done.delivered {
        tracing::warn!(number = %number, error = %e, "sandbox callback not acknowledged");
    }
    back_to_shop(&number, choice, &done)
}
