//! # paybridge-ledger
//!
//! Durable state for payments: what a created payment needs later, and callbacks handled
//! exactly once — in an SQLite file (feature `sqlite`, the default: one server, survives
//! restarts) or in PostgreSQL (feature `postgres`: several replicas share one ledger).
//!
//! ## Exactly once, the way it can be had
//!
//! Providers deliver callbacks at least once and retry until acknowledged; they also send
//! several callbacks about one payment (a pending one and a final one, another status word for
//! the same state, a status check's answer). The unit of exactly once is therefore **a
//! payment's state change**, not a delivery:
//!
//! 1. Every report — a callback ([`Ledger::deliver`]), a status check ([`Ledger::report`]) —
//!    is decided in **one transaction** by [`state::decide`]: it changes the payment's state
//!    only if it moves it up (`pending` < `failed`/`cancelled` < `succeeded` < `reversed`),
//!    after its money was compared exactly with the recorded amount and currency (else
//!    `needs_review` with `underpaid`, `overpaid`, `currency_mismatch`); a contradiction of a
//!    final state is `needs_review`/`conflicting_status`; a reference the ledger does not hold
//!    is recorded as `unknown_payment` and is not a payment. A change is a row of its own
//!    ([`Change`], with a [`Change::stable_id`]); the same news again, in any variant, in any
//!    order, or after a [`Ledger::purge`] (which removes delivery records only), is no change.
//! 2. The change is handed to the merchant under a **fenced lease**
//!    ([`Ledger::claim_change`]): every claim raises the change's fence, the holder renews it
//!    while it works ([`Ledger::renew_change`]), and the ledger refuses a completion, renewal
//!    or release under an older fence ([`LedgerError::LeaseLost`]).
//! 3. Only after the completion committed is the provider acknowledged.
//!
//! The [`receive::Receiver`] and the [`Reconciler`] do all three in as few commits as the
//! handler allows: the change is written by the transaction that decides it **already handed
//! out** — done, with a transactional handler run in that very transaction (one commit per
//! callback or checked payment: the delivery, the decision, the change, its queued webhooks
//! and the merchant's books); or claimed by the deciding worker (fence 1), with a plain
//! handler run after the commit and the completion a second. A change that must wait behind an
//! older open change of the same payment is written open and handed out in order.
//!
//! What the merchant gets depends on where its books are. **A plain handler** (its own
//! database) gets *at least once, fenced*: if its process pauses past the lease (a GC pause, a
//! stalled disk) or dies between its own commit and the ledger's, the change is handed out
//! again — with the same stable id and a higher fence — so its write must be idempotent on the
//! stable id (a unique key), and may reject a lower fence than one it has seen. Kleppmann's
//! point ("How to do distributed locking") is that a lease alone cannot prevent this: a paused
//! holder wakes up believing it still holds the lock, so only a fencing token checked by the
//! storage makes the late write harmless. **A transactional handler**
//! ([`Ledger::complete_change_with`], `receive::TransactionalHandler`) writes in the ledger's
//! own transaction and the change's completion commits with it: both, or neither — exactly
//! once, the way Brandur Leach's idempotency keys stage the side effect in the same
//! transaction that records the key (and River's `JobCompleteTx` completes a job in the
//! caller's transaction). Keep such a handler short and local: a network call inside a
//! transaction holds the payment's row lock.
//!
//! ## No payment left pending
//!
//! A payment that is not final has a next check: the [`Reconciler`] asks its provider when it
//! is due (and at once after a request whose outcome is unknown: [`Ledger::check_now`]), and
//! decides the answer like a callback's (source `status_check`); a schedule that runs out ends
//! in `needs_review`/`unreconciled`. See [`reconcile`].
//!
//! ## Payments
//!
//! [`Ledger::record_payment`] keeps what a payment needs later — provider, merchant reference
//! (unique per provider), provider reference, status, amount and currency — and, sealed with
//! AES-256-GCM under a key the application supplies ([`Ledger::with_seal_key`]), a secret the
//! provider needs again (a prepaid card's code, to `check` it). Without a key, no secret is
//! stored. Statuses only move forward ([`rank`]): a late `pending` never undoes `succeeded`;
//! a payment under review ([`Anomaly`]) waits for a person. Every report is appended to the
//! event log with who said it; [`Ledger::timeline`] tells a payment's whole story.
//!
//! ## A platform's merchants
//!
//! One ledger can hold the payments of many merchants (a booking or marketplace platform):
//! payments are keyed by (merchant, provider, reference), and a handle sees one merchant's
//! ([`Ledger::for_merchant`]; [`Ledger::open`] gives the default merchant's, `""`). Merchants
//! are registered with their provider settings sealed under the ledger's key
//! ([`Ledger::add_merchant`], [`Ledger::rotate_merchant`] with a grace period); a receiver
//! serves each one's routes at `/m/{merchant}/…` from a [`merchant_routes::MerchantRoutes`]
//! factory (feature `axum`), verifying each callback with that merchant's secrets only.
//!
//! ## Receiving callbacks
//!
//! A service mounts each provider's route on a `receive::Receiver` (feature `axum`) with its
//! handler: the route verifies the callback (and confirms it with the provider where the
//! callback alone proves nothing), the ledger decides it, the handler gets each change once
//! its money was checked, and only then is the provider acknowledged. Refunds go through
//! [`Ledger::refund`] (never more back than was paid, never twice for one refund id); changes
//! reach other services through the outbox ([`forward`], Standard Webhooks).
//!
//! ```no_run
//! # #[cfg(feature = "axum")]
//! # async fn run(card: paybridge_card_charging::Client) -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use paybridge_core::PaymentStatus;
//! use paybridge_ledger::Ledger;
//! use paybridge_ledger::receive::{Callback, CallbackHandler, HandlerError, Receiver};
//!
//! /// Credits an order: called once per change of a payment, before the provider is
//! /// acknowledged; an `Err` makes the provider retry.
//! struct Books;
//!
//! #[async_trait::async_trait]
//! impl CallbackHandler for Books {
//!     async fn handle(&self, callback: &Callback) -> Result<(), HandlerError> {
//!         let change = &callback.change; // its money already compared with the recorded amount
//!         if change.status == PaymentStatus::Succeeded {
//!             // credit change.reference with change.paid_amount, keyed by change.webhook_id
//!             // (a unique key: a redelivery after a crash is then harmless)
//!         }
//!         Ok(())
//!     }
//! }
//!
//! let ledger = Arc::new(Ledger::open("sqlite://shop.db").await?);
//! let callbacks = Receiver::new(ledger, Arc::new(Books))
//!     .mount(paybridge_card_charging::route::Route::confirmed(card))
//!     .router();
//! let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await?;
//! let stop = std::future::pending::<()>(); // your shutdown signal
//! paybridge_ledger::receive::serve(listener, axum::Router::new().nest("/receive", callbacks), stop)
//!     .await?;
//! # Ok(())
//! # }
//! ```
//!
//! ## Where things are
//!
//! Each file owns one kind of record — its types, its `impl Ledger` methods and its SQL:
//! `store` (the pool and the backends), `reports` (the one decision), `callbacks`,
//! `payments` and `listing`, `changes` (and their fenced hand-out), `refunds`, `checks` (the
//! reconciler's records), `outbox`, `timeline`, `metrics`. Statements are written once for
//! both backends and run through sqlx's `Any` driver; a test sets the time through a
//! [`clock::ManualClock`] ([`Ledger::with_clock`]).
#![forbid(unsafe_code)]

mod budget;
mod callbacks;
mod changes;
mod checks;
pub mod clock;
mod connection;
mod error;
pub mod forward;
pub mod handler;
mod ids;
mod listing;
#[cfg(feature = "axum")]
pub mod merchant_routes;
mod merchants;
pub mod metrics;
mod outbox;
mod payments;
mod provider_records;
#[cfg(feature = "axum")]
pub mod receive;
pub mod reconcile;
pub mod refunds;
mod reports;
mod seal;
pub mod state;
mod store;
pub mod timeline;
mod values;

pub use callbacks::{CallbackRecord, Delivered};
pub use changes::{Change, ChangeLease, ChangeRefund};
pub use clock::{format_time, now_ms};
pub use error::{LedgerError, Result};
pub use handler::{HandlerError, LedgerTx};
pub use ids::valid_merchant_id;
pub use listing::PaymentPage;
pub use merchants::{Merchant, NewMerchant};
pub use payments::{NewPayment, PaymentEvent, PaymentRow};
pub use reconcile::{Reconciler, Schedule};
pub use refunds::{REFUND_ADVICE, RefundOutcome, RefundRecord, RefundStart, Refunded};
pub use reports::{Applied, Outcome, Source};
pub use seal::SealKey;
pub use state::{Anomaly, Decision, decide, rank};
pub use store::Ledger;
pub use values::minor_units;
