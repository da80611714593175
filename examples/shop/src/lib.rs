//! An example shop built on paybridge: it takes prepaid cards and Wooppay invoices, receives
//! their callbacks through the ledger's receiver, and credits each order exactly once.
//!
//! ```text
//! POST /orders/card     {"order_id","telco","code","serial","amount"}  → charge the card
//! POST /orders/woopay   {"order_id","amount"}                          → an invoice to pay
//! GET  /orders/{id}                                                     → {"credited": n}
//! /receive/card-charging/callback, /receive/woopay/request-url          → the providers' callbacks
//! ```
//!
//! Everything that moves money goes through paybridge: the charge is recorded in the ledger
//! before it is sent (an unknown outcome can be reconciled with `check`), an invoice's
//! reference → operation id is recorded when it is created, and a callback credits the order
//! only through [`Shop`]'s handler, which the receiver calls once per payment and before it
//! acknowledges the provider.
#![forbid(unsafe_code)]

/// The README's examples, compiled as this crate's doctests.
#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

/// The Wooppay page's example, compiled too.
#[doc = include_str!("../../../docs/providers/woopay.md")]
#[cfg(doctest)]
pub struct WoopayDoctests;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use paybridge_card_charging::{Card, RequestId, Telco};
use paybridge_core::{Currency, Money, PaymentStatus};
use paybridge_ledger::receive::{Callback, CallbackHandler, HandlerError, Receiver};
use paybridge_ledger::{Ledger, NewPayment};
use serde::Deserialize;
use serde_json::json;

/// How the shop reaches its providers.
pub struct Config {
    /// The card gateway client: it charges, verifies callbacks with its partner key, and
    /// confirms each callback with `check` before the order is credited.
    pub card: paybridge_card_charging::Client,
    /// The Wooppay client.
    pub woopay: paybridge_woopay::Client,
    /// The shop's own public base URL (for the invoices' `requestUrl` and `backUrl`).
    pub public_url: String,
}

/// The shop's books: how many times each order was credited (one, if all goes well).
#[derive(Default)]
pub struct Shop {
    credited: Mutex<HashMap<String, u32>>,
}

impl Shop {
    /// How many times `order` was credited.
    #[must_use]
    pub fn credited(&self, order: &str) -> u32 {
        self.credited
            .lock()
            .map_or(0, |c| c.get(order).copied().unwrap_or(0))
    }
}

/// The ledger's receiver calls this once per payment, before acknowledging the provider: a
/// real shop writes to its own database here and returns `Err` if that failed (the provider
/// then delivers again).
#[async_trait::async_trait]
impl CallbackHandler for Shop {
    async fn handle(&self, callback: &Callback) -> Result<(), HandlerError> {
        let state = &callback.notification.state;
        if state.status == PaymentStatus::Succeeded {
            let mut credited = self.credited.lock().map_err(|_| "books poisoned")?;
            *credited.entry(state.payment.reference.clone()).or_default() += 1;
            tracing::info!(order = %state.payment.reference, provider = callback.provider, "order credited");
        }
        Ok(())
    }
}

#[derive(Clone)]
struct App {
    config: Arc<Config>,
    ledger: Arc<Ledger>,
    shop: Arc<Shop>,
}

/// The shop's whole HTTP surface: its order routes and the providers' callback routes.
pub fn app(config: Config, ledger: Arc<Ledger>, shop: Arc<Shop>) -> Router {
    let receiver = Receiver::new(ledger.clone(), shop.clone())
        .card_charging(config.card.clone())
        .woopay(config.woopay.clone())
        .router();
    let state = App {
        config: Arc::new(config),
        ledger,
        shop,
    };
    Router::new()
        .route("/orders/card", post(card_order))
        .route("/orders/woopay", post(woopay_order))
        .route("/orders/{id}", get(order))
        .with_state(state)
        .nest("/receive", receiver)
}

#[derive(Deserialize)]
struct CardOrder {
    order_id: String,
    telco: String,
    code: String,
    serial: String,
    amount: String,
}

fn failed(status: StatusCode, e: &dyn std::fmt::Display) -> Response {
    (status, Json(json!({"error": e.to_string()}))).into_response()
}

async fn card_order(State(app): State<App>, Json(o): Json<CardOrder>) -> Response {
    let card = match o
        .telco
        .parse::<Telco>()
        .and_then(|t| Card::new(t, &o.code, &o.serial))
    {
        Ok(card) => card,
        Err(e) => return failed(StatusCode::BAD_REQUEST, &e),
    };
    let (amount, request_id) = match (
        Money::parse(&o.amount, Currency::VND),
        RequestId::new(&o.order_id),
    ) {
        (Ok(a), Ok(r)) => (a, r),
        (Err(e), _) => return failed(StatusCode::BAD_REQUEST, &e),
        (_, Err(e)) => return failed(StatusCode::BAD_REQUEST, &e),
    };
    // Recorded before it is sent: if the outcome is unknown, `check` finds out. The serial
    // is kept so that a callback naming this request id must be about this card.
    let record = NewPayment::new(
        paybridge_card_charging::PROVIDER_ID,
        &o.order_id,
        PaymentStatus::Pending,
        amount,
    )
    .instrument(o.serial.clone());
    if let Err(e) = app.ledger.record_payment(&record).await {
        return failed(StatusCode::SERVICE_UNAVAILABLE, &e);
    }
    match app.config.card.charge(&card, amount, &request_id).await {
        Ok(r) => Json(json!({"status": r.payment_status().as_str()})).into_response(),
        Err(e) => {
            let e = paybridge_core::Error::from(e);
            // Never charge again on our own: the outcome may be unknown; say so.
            let status = if e.outcome_unknown() {
                StatusCode::ACCEPTED
            } else {
                StatusCode::BAD_GATEWAY
            };
            (
                status,
                Json(json!({"error": e.to_string(), "outcome_unknown": e.outcome_unknown()})),
            )
                .into_response()
        }
    }
}

#[derive(Deserialize)]
struct WoopayOrder {
    order_id: String,
    amount: String,
}

async fn woopay_order(State(app): State<App>, Json(o): Json<WoopayOrder>) -> Response {
    let amount = match Money::parse(&o.amount, Currency::KZT) {
        Ok(a) => a,
        Err(e) => return failed(StatusCode::BAD_REQUEST, &e),
    };
    let base = &app.config.public_url;
    let invoice = paybridge_woopay::InvoiceRequest::new(
        &o.order_id,
        amount,
        format!("{base}/orders/{}", o.order_id),
        format!("{base}/receive/woopay/request-url?reference={}", o.order_id),
    );
    match app.config.woopay.create_invoice(&invoice).await {
        Ok(created) => {
            let record = NewPayment::new(
                paybridge_woopay::PROVIDER_ID,
                &o.order_id,
                PaymentStatus::Pending,
                amount,
            )
            .provider_reference(created.operation_id.to_string());
            if let Err(e) = app.ledger.record_payment(&record).await {
                return failed(StatusCode::SERVICE_UNAVAILABLE, &e);
            }
            Json(json!({"operation_id": created.operation_id, "pay_at": created.operation_url}))
                .into_response()
        }
        Err(e) => failed(StatusCode::BAD_GATEWAY, &paybridge_core::Error::from(e)),
    }
}

async fn order(State(app): State<App>, Path(id): Path<String>) -> Response {
    Json(json!({"order_id": id, "credited": app.shop.credited(&id)})).into_response()
}
