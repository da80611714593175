//! An example shop built on paybridge: it takes prepaid cards and Wooppay invoices, receives
//! their callbacks through the ledger's receiver, and credits each order exactly once.
//!
//! ```text
//! POST /orders/card              {"order_id","telco","code","serial","amount"} → charge the card
//! POST /orders/woopay            {"order_id","amount"}                         → an invoice to pay
//! GET  /orders/{provider}/{id}                                                  → {"credited": n, "paid": [..]}
//! /receive/card-charging/callback, /receive/woopay/request-url                  → the providers' callbacks
//! ```
//!
//! Everything that moves money goes through paybridge, the way a payments engineer would
//! want it:
//! - an order is a payment of one provider: the books are keyed by (provider, reference), so
//!   a card order and a Wooppay order with the same id are two orders;
//! - a payment is recorded in the ledger **before** it is sent (a card charge, a Wooppay
//!   invoice: an unknown outcome can then be found out), and a reference the ledger already
//!   holds is refused (`409`), never silently charged twice;
//! - card callbacks are confirmed with the gateway's `check`;
//! - the books live in the ledger's database, written by a [`Shop`] that is a
//!   `TransactionalHandler`: a credit commits in the same transaction as the ledger's record
//!   of the payment's state change — exactly once — with the amount actually paid; a payment
//!   whose money did not add up (`needs_review`) is not credited, and says why.
#![forbid(unsafe_code)]

/// The README's examples, compiled as this crate's doctests.
#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

/// The Wooppay page's example, compiled too.
#[doc = include_str!("../../../docs/providers/woopay.md")]
#[cfg(doctest)]
pub struct WoopayDoctests;

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use paybridge_card_charging::{Card, RequestId, Telco};
use paybridge_core::{Currency, Money, PaymentRecords as _, PaymentStatus};
use paybridge_ledger::receive::{Callback, HandlerError, Receiver, TransactionalHandler};
use paybridge_ledger::{Ledger, LedgerTx, NewPayment};
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

/// The shop's books: a table `shop_credits` in the ledger's (SQLite) database, one row per
/// credited payment change.
#[derive(Clone)]
pub struct Shop {
    books: sqlx::SqlitePool,
}

const BOOKS: &str = "CREATE TABLE IF NOT EXISTS shop_credits (change_id TEXT PRIMARY KEY, provider TEXT NOT NULL, reference TEXT NOT NULL, amount TEXT NOT NULL, currency TEXT NOT NULL)";

impl Shop {
    /// The books in the SQLite ledger at `ledger_url` (`sqlite://FILE`), created if missing.
    pub async fn open(ledger_url: &str) -> Result<Self, sqlx::Error> {
        use std::str::FromStr as _;
        let options = sqlx::sqlite::SqliteConnectOptions::from_str(ledger_url)?
            .create_if_missing(true)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            .busy_timeout(std::time::Duration::from_secs(5));
        let books = sqlx::SqlitePool::connect_with(options).await?;
        sqlx::query(BOOKS).execute(&books).await?;
        Ok(Self { books })
    }

    /// What `provider`'s order `reference` was credited: one amount per credit (one, if all
    /// goes well).
    pub async fn credited(
        &self,
        provider: &str,
        reference: &str,
    ) -> Result<Vec<Money>, sqlx::Error> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT amount, currency FROM shop_credits WHERE provider = $1 AND reference = $2",
        )
        .bind(provider)
        .bind(reference)
        .fetch_all(&self.books)
        .await?;
        Ok(rows
            .iter()
            .filter_map(|(a, c)| Money::parse(a, Currency::from_code(c).ok()?).ok())
            .collect())
    }
}

/// The ledger's receiver calls this once per change of a payment's state, inside the ledger's
/// transaction: the credit and the ledger's completion commit together, or neither does (the
/// provider then delivers again).
#[async_trait::async_trait]
impl TransactionalHandler for Shop {
    async fn handle(&self, mut tx: LedgerTx<'_>, callback: &Callback) -> Result<(), HandlerError> {
        let change = &callback.change;
        match change.status {
            PaymentStatus::Succeeded => {
                // The amount actually paid (checked against the order by the ledger); a
                // provider that reports none (Qvickly) paid the recorded amount.
                let Some(paid) = change.amount else {
                    return Err("a success without an amount: not credited".into());
                };
                sqlx::query(
                    "INSERT INTO shop_credits (change_id, provider, reference, amount, currency) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(change.stable_id())
                .bind(&change.provider)
                .bind(&change.reference)
                .bind(paid.amount_string())
                .bind(paid.currency().code())
                .execute(&mut *tx)
                .await?;
                tracing::info!(provider = %change.provider, order = %change.reference, amount = %paid, "order credited");
            }
            PaymentStatus::NeedsReview => {
                tracing::warn!(provider = %change.provider, order = %change.reference, anomaly = ?change.anomaly, "payment needs review: not credited");
            }
            _ => {}
        }
        Ok(())
    }
}

#[derive(Clone)]
struct App {
    config: Arc<Config>,
    ledger: Arc<Ledger>,
    shop: Shop,
}

/// The shop's whole HTTP surface: its order routes and the providers' callback routes.
pub fn app(config: Config, ledger: Arc<Ledger>, shop: Shop) -> Router {
    let receiver = Receiver::transactional(ledger.clone(), Arc::new(shop.clone()))
        .mount(paybridge_card_charging::route::Route::confirmed(
            config.card.clone(),
        ))
        .mount(paybridge_woopay::route::Route::new(config.woopay.clone()))
        .router();
    let state = App {
        config: Arc::new(config),
        ledger,
        shop,
    };
    Router::new()
        .route("/orders/card", post(card_order))
        .route("/orders/woopay", post(woopay_order))
        .route("/orders/{provider}/{id}", get(order))
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

/// Record a payment before it is sent; a reference the ledger holds is a conflict.
async fn record_first(ledger: &Ledger, payment: &NewPayment) -> Result<(), Response> {
    match ledger.record_payment(payment).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(failed(
            StatusCode::CONFLICT,
            &format!(
                "{} order {:?} exists: use a new order id",
                payment.provider, payment.reference
            ),
        )),
        Err(e) => Err(failed(StatusCode::SERVICE_UNAVAILABLE, &e)),
    }
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
    if let Err(answer) = record_first(&app.ledger, &record).await {
        return answer;
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
    // Recorded before the invoice is created: a crash or a timeout in between leaves a
    // pending payment the ledger (and its reconciler) can still find by its reference.
    let record = NewPayment::new(
        paybridge_woopay::PROVIDER_ID,
        &o.order_id,
        PaymentStatus::Pending,
        amount,
    );
    if let Err(answer) = record_first(&app.ledger, &record).await {
        return answer;
    }
    let base = &app.config.public_url;
    let invoice = paybridge_woopay::InvoiceRequest::new(
        &o.order_id,
        amount,
        format!("{base}/orders/woopay/{}", o.order_id),
        format!("{base}/receive/woopay/request-url?reference={}", o.order_id),
    );
    match app.config.woopay.create_invoice(&invoice).await {
        Ok(created) => {
            // The operation id, added to the record made before sending.
            let with_id = record.provider_reference(created.operation_id.to_string());
            if let Err(e) = app.ledger.remember(with_id).await {
                return failed(StatusCode::SERVICE_UNAVAILABLE, &e);
            }
            Json(json!({"operation_id": created.operation_id, "pay_at": created.operation_url}))
                .into_response()
        }
        Err(e) => failed(StatusCode::BAD_GATEWAY, &paybridge_core::Error::from(e)),
    }
}

async fn order(State(app): State<App>, Path((provider, id)): Path<(String, String)>) -> Response {
    match app.shop.credited(&provider, &id).await {
        Ok(credits) => Json(json!({
            "provider": provider,
            "order_id": id,
            "credited": credits.len(),
            "paid": credits.iter().map(Money::amount_string).collect::<Vec<_>>(),
        }))
        .into_response(),
        Err(e) => failed(StatusCode::SERVICE_UNAVAILABLE, &e),
    }
}
