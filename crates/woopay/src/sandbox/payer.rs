//! The payer's side of the simulator: the invoice page a person opens (`operation_url`) and
//! its choices — pay, pay a wrong amount, decline, leave pending — applied as Wooppay would,
//! then back to the invoice's `backUrl`; and the scripts' `POST /invoice/pay`.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use paybridge_core::sandbox::page;
use rust_decimal::Decimal;

use super::{PAGE_PATH, SANDBOX_USERNAME, SimOperation, Simulator};

pub(super) async fn pay(
    State(sim): State<Simulator>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Some(id) = q.get("id").and_then(|i| i.parse::<i64>().ok()) else {
        return (StatusCode::BAD_REQUEST, "id is required").into_response();
    };
    match sim.pay(id).await {
        Ok(calls) => axum::Json(
            serde_json::json!({"paid": true, "operation_id": id, "request_url_calls": calls}),
        )
        .into_response(),
        Err(e) => (
            StatusCode::BAD_GATEWAY,
            axum::Json(serde_json::json!({"paid": true, "operation_id": id, "error": e})),
        )
            .into_response(),
    }
}

/// The operation a page URL names (`id` and its `key`), if the key is right.
fn operation_for(sim: &Simulator, q: &HashMap<String, String>) -> Option<(i64, SimOperation)> {
    let id = q.get("id").and_then(|i| i.parse::<i64>().ok())?;
    let op = sim.inner.operations.lock().ok()?.get(&id).cloned()?;
    (q.get("key") == Some(&op.key)).then_some((id, op))
}

pub(super) async fn page(
    State(sim): State<Simulator>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Some((id, op)) = operation_for(&sim, &q) else {
        return page::message(StatusCode::NOT_FOUND, "Wooppay", "unknown invoice");
    };
    if op.status != 1 {
        return page::message(
            StatusCode::OK,
            "Wooppay",
            &format!("Invoice {id} is no longer open (status {}).", op.status),
        );
    }
    let action = format!("{PAGE_PATH}?id={id}&key={}", op.key);
    page::Page {
        provider: "Wooppay",
        merchant: SANDBOX_USERNAME,
        order: &op.reference_id,
        amount: &op.amount.normalize().to_string(),
        currency: &op.currency,
        description: &op.description,
        action: &action,
        choices: &page::Choice::ALL,
    }
    .into_response()
}

/// The payer's choice on the page: paid (status 4, `requestUrl` called), paid a wrong amount
/// (the operation's `sum` is what was paid: one tenge short), declined (status 3, rejected) or
/// left open; then back to the invoice's `backUrl`, as Wooppay sends its payers.
pub(super) async fn choose(
    State(sim): State<Simulator>,
    Query(q): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let Some((id, op)) = operation_for(&sim, &q) else {
        return page::message(StatusCode::NOT_FOUND, "Wooppay", "unknown invoice");
    };
    let Some(choice) = page::Choice::from_form(&body) else {
        return page::message(StatusCode::BAD_REQUEST, "Wooppay", "no choice made");
    };
    if op.status != 1 {
        return page::message(
            StatusCode::CONFLICT,
            "Wooppay",
            "this invoice is no longer open",
        );
    }
    let outcome = match choice {
        page::Choice::Pay => sim.pay(id).await.map(|_| "paid"),
        page::Choice::PayWrongAmount => {
            sim.set(id, |o| {
                let short = o.amount - Decimal::ONE;
                o.amount = if short > Decimal::ZERO {
                    short
                } else {
                    o.amount / Decimal::TWO
                };
            });
            sim.pay(id).await.map(|_| "paid a wrong amount")
        }
        page::Choice::Decline => {
            sim.set(id, |o| o.status = 3);
            Ok("declined")
        }
        page::Choice::LeavePending => Ok("left pending"),
    };
    if let Err(e) = &outcome {
        tracing::warn!(operation = id, error = %e, "sandbox requestUrl not acknowledged");
    }
    if op.back_url.is_empty() {
        return page::message(
            StatusCode::OK,
            "Wooppay",
            &format!(
                "Invoice {id}: {}. The shop gave no backUrl.",
                outcome.unwrap_or("paid; the shop did not acknowledge")
            ),
        );
    }
    page::see_other(&op.back_url, &[])
}
