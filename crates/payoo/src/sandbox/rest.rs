//! The simulator's REST Business API: `POST /BusinessRestAPI.svc/<Method>` with the
//! credential headers ([`super::SANDBOX_USERNAME`], [`super::SANDBOX_PASSWORD`],
//! [`super::SANDBOX_SIGNATURE`]; else 1001) and a signed body (else 1002), answered signed.
//! Rules (ours, on the shared orders):
//! - `getorderinfo`: the order's `PaymentStatus` (0 unpaid, 1 paid, 3 cancelled), `OrderCash`,
//!   `PurchaseDate`; an unknown order 8.
//! - `refund`: only of a paid order and never above what is left of it (97); `Money` ≤ 0 → 9;
//!   a cancelled order 98; a `RefundId` seen before → 99 with that refund's `TransferCode` and
//!   amount (nothing refunded again).
//! - `CancelOrder`: an unpaid order becomes 3; a paid one 11; a cancelled one 12.
//! - `GetBillingCode`, `GetQRCode`: a new order (83 when the `OrderNo` exists, 85 for an
//!   amount ≤ 0) with a billing code `888…` or a QR payload and links.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use paybridge_core::signature::verify_sha512_hex;
use serde_json::{Map, Value, json};

use super::{
    Order, SANDBOX_CHECKSUM_KEY, SANDBOX_PASSWORD, SANDBOX_SIGNATURE, SANDBOX_USERNAME, Sim,
};

/// The route (one per method name).
pub const ROUTE: &str = "/BusinessRestAPI.svc/{method}";
/// The base URL path a [`crate::RestClient`] is given (after the simulator's address).
pub const BASE_PATH: &str = "/BusinessRestAPI.svc";

fn signed(data: &Value) -> Response {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/json; charset=utf-8",
        )],
        crate::rest::signed_answer(SANDBOX_CHECKSUM_KEY, &data.to_string()),
    )
        .into_response()
}

fn code(c: i64) -> Response {
    signed(&json!({ "ResponseCode": c }))
}

fn s(data: &Map<String, Value>, name: &str) -> String {
    match data.get(name) {
        Some(Value::String(v)) => v.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

fn n(data: &Map<String, Value>, name: &str) -> i64 {
    s(data, name).trim().parse().unwrap_or(0)
}

#[allow(
    clippy::too_many_lines,
    reason = "one match over the five methods, each a few lines of state: read as a table"
)]
pub(super) async fn call(
    State(sim): State<Sim>,
    Path(method): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    };
    if header("APIUsername") != SANDBOX_USERNAME
        || header("APIPassword") != SANDBOX_PASSWORD
        || header("APISignature") != SANDBOX_SIGNATURE
    {
        return code(1001);
    }
    let Ok(Value::Object(outer)) = serde_json::from_slice::<Value>(&body) else {
        return code(1003);
    };
    let (Some(Value::String(text)), Some(Value::String(signature))) =
        (outer.get("RequestData"), outer.get("Signature"))
    else {
        return code(1003);
    };
    if verify_sha512_hex(
        &[SANDBOX_CHECKSUM_KEY.as_bytes(), text.as_bytes()],
        signature,
    )
    .is_err()
    {
        return code(1002);
    }
    let Ok(Value::Object(data)) = serde_json::from_str::<Value>(text) else {
        return code(1003);
    };
    let Ok(mut orders) = sim.orders.lock() else {
        return code(1000);
    };
    match method.to_ascii_lowercase().as_str() {
        "getorderinfo" => match orders.get(&s(&data, "OrderId")) {
            Some(o) => signed(&json!({
                "ResponseCode": 0,
                "OrderNo": s(&data, "OrderId"),
                "OrderCash": o.amount.parse::<i64>().unwrap_or_default(),
                "PaymentStatus": o.status.parse::<i64>().unwrap_or_default(),
                "PaymentMethod": i32::from(o.status == "1"),
                "PurchaseDate": o.purchase_date,
                "MerchantUserName": o.get("UserName"),
                "ShopId": o.shop_id.parse::<i64>().unwrap_or_default(),
                "BankName": "",
                "CardNumber": "",
                "BillingCode": o.get("BillingCode"),
            })),
            None => code(8),
        },
        "refund" => {
            let Some(o) = orders.get_mut(&s(&data, "OrderNo")) else {
                return code(8);
            };
            let refund_id = s(&data, "RefundId");
            if let Some((_, transfer, amount)) = o
                .refunds
                .iter()
                .find(|(id, _, _)| !refund_id.is_empty() && *id == refund_id)
            {
                return signed(&json!({
                    "ResponseCode": 99,
                    "TransferCode": transfer,
                    "AmountRefunded": amount,
                }));
            }
            let money = n(&data, "Money");
            if money <= 0 {
                return code(9);
            }
            if o.status == "3" {
                return code(98);
            }
            let paid = if o.status == "1" {
                o.amount.parse::<i64>().unwrap_or_default()
            } else {
                0
            };
            let refunded: i64 = o.refunds.iter().map(|(_, _, a)| a).sum();
            if money > paid - refunded {
                return code(97);
            }
            let transfer = format!("RF{:08}", o.refunds.len() + 1);
            o.refunds.push((refund_id, transfer.clone(), money));
            signed(&json!({
                "ResponseCode": 0,
                "TransferCode": transfer,
                "AmountRefunded": money,
            }))
        }
        "cancelorder" => match orders.get_mut(&s(&data, "OrderID")) {
            None => code(8),
            Some(o) if o.status == "3" => code(12),
            Some(o) if o.status == "1" => code(11),
            Some(o) => {
                o.status = "3".into();
                code(0)
            }
        },
        "getbillingcode" | "getqrcode" => {
            let order_no = s(&data, "OrderNo");
            if orders.contains_key(&order_no) {
                return code(83);
            }
            let amount = n(&data, "CyberCash");
            if amount <= 0 {
                return code(85);
            }
            let serial = 888_000_000 + orders.len();
            let billing = format!("{serial}");
            let description = super::decoded(&s(&data, "Description"));
            let json_notify = data.get("IsJsonResponse") == Some(&Value::Bool(true))
                || s(&data, "InfoEx").to_ascii_lowercase().contains("true");
            orders.insert(
                order_no.clone(),
                Order {
                    shop_id: s(&data, "ShopID"),
                    status: "0".into(),
                    amount: amount.to_string(),
                    fields: vec![
                        ("BillingCode".into(), billing.clone()),
                        ("UserName".into(), s(&data, "UserName")),
                        ("FromShipDate".into(), s(&data, "FromShipDate")),
                        ("ShipNumDay".into(), s(&data, "ShipNumDay")),
                        ("Description".into(), description),
                        ("PaymentExpireDate".into(), s(&data, "PaymentExpireDate")),
                        ("NotifyUrl".into(), s(&data, "NotifyUrl")),
                        (
                            "InfoEx".into(),
                            format!("<JsonResponse>{json_notify}</JsonResponse>"),
                        ),
                    ],
                    ..Order::default()
                },
            );
            if method.eq_ignore_ascii_case("getbillingcode") {
                signed(&json!({"ResponseCode": 0, "BillingCode": billing}))
            } else {
                signed(&json!({
                    "ResponseCode": 0,
                    "QRCode": format!("00020101021238570010A000000727012700069704220113{billing}"),
                    "QRCodeLink": format!("https://sandbox.payoo.invalid/qr/{billing}.png"),
                    "MultiQRCodeLink": [{
                        "QRCodeLink": format!("https://sandbox.payoo.invalid/qr/{billing}-app.png"),
                        "AppSupportModels": [{"AppCode": "PAYOO", "ApplicationName": "Payoo", "BankName": "", "FullBankName": ""}],
                    }],
                }))
            }
        }
        _ => code(1003),
    }
}
