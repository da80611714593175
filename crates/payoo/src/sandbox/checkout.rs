//! The simulator's hosted checkout: `POST /v2/paynow/order/create` (form `data`, `checksum`,
//! `refer`, …) checks the order XML's checksum ([`super::SANDBOX_CHECKSUM_KEY`]) and what
//! Payoo checks (whole positive amount, a description of more than 50 characters, a new
//! `order_no`), stores the order and answers its `payment_url` with the answer's checksum over
//! the `order` object as sent. A refusal is `{"result":"fail","message":…}`.
//! The legacy form (`POST /v2/paynow/` with `OrdersForPayoo` and `CheckSum`, as omnipay-payoo
//! and redSHOP post it) stores the same order and answers the payment page itself.
//! `GET /v2/paynow/_sandbox/checkout?order=NO` is the payment page (shop, order, amount in VND,
//! description; Pay, Pay a wrong amount, Decline, Leave pending), its buttons post back to it
//! and the payer is sent to the order's `shop_back_url` with the signed return parameters.
//! Paying notifies in the form the order asked for (`JsonResponse` TRUE: JSON, else the XML
//! `KeyFields` package); scripts pay with `POST /payoo/_sandbox/pay?order=NO`.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use paybridge_core::sandbox::page;
use paybridge_core::signature::{sha512_hex, verify_sha512_hex};
use paybridge_core::xml::{child, text};

use super::{Order, SANDBOX_CHECKSUM_KEY, Sim, decoded};

/// The checkout route.
pub const CREATE_PATH: &str = "/v2/paynow/order/create";
/// The legacy checkout a shop's page posts its form to (`OrdersForPayoo`, `CheckSum`).
pub const LEGACY_PATH: &str = "/v2/paynow/";
/// The payment page a created order's `payment_url` points to.
pub const PAGE_PATH: &str = "/v2/paynow/_sandbox/checkout";

fn fail(message: &str) -> Response {
    axum::Json(serde_json::json!({"result": "fail", "message": message, "order": null}))
        .into_response()
}

pub(super) async fn create(State(sim): State<Sim>, headers: HeaderMap, body: Bytes) -> Response {
    let form: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    let (Some(data), Some(checksum)) = (form.get("data"), form.get("checksum")) else {
        return fail("data and checksum are required");
    };
    let (order_no, amount, expiry) = match new_order(&sim, data, checksum) {
        Ok(o) => o,
        Err(refused) => return fail(refused),
    };
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    let token = format!("{:032x}", fastrand_like(&order_no));
    let order = serde_json::json!({
        "order_id": format!("PY{}", fastrand_like(&order_no) % 1_000_000_000),
        "order_no": order_no,
        "amount": amount.parse::<i64>().unwrap_or_default(),
        "payment_code": "",
        "expiry_date": expiry,
        "token": token,
        "payment_url": page_url(host, &order_no),
    })
    .to_string();
    let checksum = sha512_hex(&[SANDBOX_CHECKSUM_KEY.as_bytes(), order.as_bytes()]);
    // Written by hand so that `order` is exactly the text the checksum covers.
    (
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        format!(r#"{{"result":"success","checksum":"{checksum}","order":{order}}}"#),
    )
        .into_response()
}

/// The legacy checkout (omnipay-payoo, redSHOP): the shop's page posts a form to
/// `/v2/paynow/` — `OrdersForPayoo` (the same order XML), `CheckSum` (SHA-512 of the key and
/// the XML), `bc` (bank) and `pm` (method) — and the payer lands on the payment page itself.
pub(super) async fn legacy(State(sim): State<Sim>, body: Bytes) -> Response {
    let form: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    let (Some(data), Some(checksum)) = (form.get("OrdersForPayoo"), form.get("CheckSum")) else {
        return page::message(
            StatusCode::BAD_REQUEST,
            "Payoo",
            "OrdersForPayoo and CheckSum are required",
        );
    };
    match new_order(&sim, data, checksum) {
        Ok((order_no, _, _)) => show(&sim, &order_no),
        Err(refused) => page::message(StatusCode::BAD_REQUEST, "Payoo", refused),
    }
}

/// Check and store a new order from its XML (`<shops><shop>…`) and checksum, as Payoo does:
/// the checksum, a whole positive amount, a description of more than 50 characters, a new
/// `order_no`. Its number, amount and expiry, or why it is refused.
fn new_order(
    sim: &Sim,
    data: &str,
    checksum: &str,
) -> Result<(String, String, String), &'static str> {
    if verify_sha512_hex(
        &[SANDBOX_CHECKSUM_KEY.as_bytes(), data.as_bytes()],
        checksum,
    )
    .is_err()
    {
        return Err("Invalid checksum");
    }
    let doc = paybridge_core::xml::parse(data).map_err(|_| "Invalid data")?;
    let shop = child(doc.root_element(), None, "shop").ok_or("Invalid data")?;
    let get = |name: &str| child(shop, None, name).map(text).unwrap_or_default();
    let order_no = get("order_no");
    let amount = get("order_cash_amount");
    if order_no.is_empty() {
        return Err("order_no is required");
    }
    if amount.parse::<i64>().map_or(true, |a| a <= 0) {
        return Err("Invalid order_cash_amount");
    }
    let description = decoded(&get("order_description"));
    if description.chars().count() <= 50 {
        return Err("order_description must be longer than 50 characters");
    }
    let mut orders = sim.orders.lock().map_err(|_| "state")?;
    if orders.contains_key(&order_no) {
        return Err("Order existed");
    }
    let json = get("JsonResponse").eq_ignore_ascii_case("true");
    // Stored under CreatePreOrder's names: one pay route and one notification for both.
    let fields = vec![
        ("SessionShop".to_owned(), get("session")),
        ("UserName".to_owned(), get("username")),
        ("ShopTitle".to_owned(), get("shop_title")),
        ("ShopDomain".to_owned(), get("shop_domain")),
        ("ShopBackURL".to_owned(), decoded(&get("shop_back_url"))),
        ("FromShipDate".to_owned(), get("order_ship_date")),
        ("ShipNumDay".to_owned(), get("order_ship_days")),
        ("Description".to_owned(), description),
        ("PaymentExpireDate".to_owned(), get("validity_time")),
        ("NotifyUrl".to_owned(), decoded(&get("notify_url"))),
        (
            "InfoEx".to_owned(),
            format!("<JsonResponse>{json}</JsonResponse>"),
        ),
    ];
    let expiry = get("validity_time");
    orders.insert(
        order_no.clone(),
        Order {
            shop_id: get("shop_id"),
            status: "0".into(),
            amount: amount.clone(),
            fields,
            ..Order::default()
        },
    );
    Ok((order_no, amount, expiry))
}

/// A stable number from the order number (ids and tokens without a random source).
fn fastrand_like(seed: &str) -> u128 {
    let digest = sha512_hex(&[seed.as_bytes()]);
    u128::from_str_radix(digest.get(..32).unwrap_or("0"), 16).unwrap_or_default()
}

/// The payment page's path and query for `order_no`.
fn page_path(order_no: &str) -> String {
    format!(
        "{PAGE_PATH}?order={}",
        form_urlencoded::byte_serialize(order_no.as_bytes()).collect::<String>()
    )
}

/// The payment page's URL for `order_no` on `host`.
pub(super) fn page_url(host: &str, order_no: &str) -> String {
    format!("http://{host}{}", page_path(order_no))
}

/// The order a page URL names, if the simulator has it.
fn order_for(sim: &Sim, q: &HashMap<String, String>) -> Option<(String, Order)> {
    let order_no = q.get("order")?;
    let order = sim.orders.lock().ok()?.get(order_no).cloned()?;
    Some((order_no.clone(), order))
}

pub(super) async fn page(
    State(sim): State<Sim>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    show(&sim, q.get("order").map_or("", String::as_str))
}

/// The payment page of `order_no`.
fn show(sim: &Sim, order_no: &str) -> Response {
    let found = sim
        .orders
        .lock()
        .ok()
        .and_then(|o| o.get(order_no).cloned());
    let Some(order) = found else {
        return page::message(StatusCode::NOT_FOUND, "Payoo", "unknown order");
    };
    if order.status != "0" {
        return page::message(
            StatusCode::OK,
            "Payoo",
            &format!("Order {order_no} is no longer open."),
        );
    }
    let merchant = [
        order.get("ShopTitle"),
        order.get("UserName"),
        &order.shop_id,
    ]
    .into_iter()
    .find(|m| !m.is_empty())
    .unwrap_or("Payoo shop")
    .to_owned();
    let action = page_path(order_no);
    page::Page {
        provider: "Payoo",
        merchant: &merchant,
        order: order_no,
        amount: &order.amount,
        currency: "VND",
        description: order.get("Description"),
        action: &action,
        choices: &page::Choice::ALL,
    }
    .into_response()
}

/// The payer's choice: paid (`OrderStatus` 1, notified), paid a wrong amount (one thousand
/// dong short, which Payoo's report carries), declined, or left; then back to the order's
/// `shop_back_url` with `session`, `order_no`, `status` (1 paid, 0 failed, -1 left) and the
/// return `checksum`, as Payoo sends its payers back.
pub(super) async fn choose(
    State(sim): State<Sim>,
    Query(q): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let Some((order_no, order)) = order_for(&sim, &q) else {
        return page::message(StatusCode::NOT_FOUND, "Payoo", "unknown order");
    };
    let Some(choice) = page::Choice::from_form(&body) else {
        return page::message(StatusCode::BAD_REQUEST, "Payoo", "no choice made");
    };
    if order.status != "0" {
        return page::message(
            StatusCode::CONFLICT,
            "Payoo",
            "this order is no longer open",
        );
    }
    let localhost = std::net::IpAddr::from([127, 0, 0, 1]);
    let status = match choice {
        page::Choice::Pay => sim.settle(&order_no, None, false, localhost).map(|_| "1"),
        page::Choice::PayWrongAmount => {
            let asked = order.amount.parse::<i64>().unwrap_or_default();
            let paid = if asked > 1_000 {
                asked - 1_000
            } else {
                asked / 2
            };
            sim.settle(&order_no, Some(paid.to_string()), false, localhost)
                .map(|_| "1")
        }
        page::Choice::Decline => Ok("0"),
        page::Choice::LeavePending => Ok("-1"),
    };
    let status = match status {
        Ok(s) => s,
        Err(refused) => return refused.into_response(),
    };
    let back = order.get("ShopBackURL");
    if back.is_empty() {
        return page::message(
            StatusCode::OK,
            "Payoo",
            &format!("Order {order_no}: status {status}. The shop gave no shop_back_url."),
        );
    }
    let session = order.get("SessionShop");
    let checksum =
        crate::checkout::return_checksum(SANDBOX_CHECKSUM_KEY, session, &order_no, status);
    page::see_other(
        back,
        &[
            ("session", session),
            ("order_no", &order_no),
            ("status", status),
            ("checksum", &checksum),
        ],
    )
}
