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
//! The older per-callback API ([`Ledger::claim`], [`Ledger::complete`], [`Ledger::release`])
//! counts deliveries of one natural key and hands out nothing: it is kept for code written
//! against it, and is not the way to receive callbacks (it will be retired; see
//! `docs/upgrading.md`).
#![forbid(unsafe_code)]

mod budget;
mod connection;
mod db;
pub mod forward;
pub mod handler;
mod ids;
pub mod metrics;
#[cfg(feature = "axum")]
pub mod receive;
pub mod reconcile;
pub mod refunds;
mod seal;
pub mod state;
pub mod timeline;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use paybridge_core::{Currency, Money, PaymentStatus};
use secrecy::SecretString;

pub use db::Delivered;
pub use reconcile::{Reconciler, Schedule};
pub use seal::SealKey;
pub use state::{Anomaly, Decision, decide, rank};

/// What can go wrong in the ledger.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// The database refused or failed (connection, constraint, I/O). Answer a callback with
    /// a 5xx: the provider retries.
    #[error("ledger database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A migration of the ledger's schema failed.
    #[error("ledger migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The lease was lost (it expired and another worker claimed the callback, or it was
    /// completed already): do not acknowledge, the other worker will.
    #[error("the lease on {provider} callback {key:?} was lost")]
    LeaseLost {
        /// Provider id.
        provider: String,
        /// The callback key.
        key: String,
    },
    /// The URL names no backend this build has (`sqlite://…`, `postgres://…`).
    #[error("unsupported ledger URL {0:?}: use sqlite://FILE or postgres://…")]
    Url(String),
    /// A sealed secret could not be sealed or opened (wrong key, tampered row).
    #[error("sealed secret: {0}")]
    Seal(String),
    /// A stored value could not be read back.
    #[error("ledger row: {0}")]
    Row(String),
    /// A page cursor this ledger did not write.
    #[error("page cursor: {0}")]
    Cursor(String),
    /// A refund the ledger refuses before it is sent: the payment is unknown or not paid, or
    /// the refund would give back more than was paid (checked in the database).
    #[error("refund refused: {0}")]
    Refund(String),
    /// The caller asked for something the ledger does not do (a payment recorded in another
    /// state than `pending`: every state after that is decided from a report).
    #[error("{0}")]
    Input(String),
    /// [`Ledger::open_existing`]: no ledger at this SQLite path (nothing was created).
    #[error("no ledger at {0} (nothing was created: check the path, or record a payment first)")]
    Missing(String),
    /// [`Ledger::open_existing`]: the ledger's schema is older than this build.
    #[error(
        "the ledger's schema is at migration {applied}, this build needs {latest}: run `paybridge ledger migrate`"
    )]
    Outdated {
        /// The newest migration applied.
        applied: i64,
        /// The newest this build has.
        latest: i64,
    },
    /// The database could not be reached (in time).
    #[error("cannot reach the ledger database at {host}: {message}")]
    Unreachable {
        /// Host and port (never user or password).
        host: String,
        /// What happened.
        message: String,
    },
}

impl From<LedgerError> for paybridge_core::Error {
    fn from(e: LedgerError) -> Self {
        match e {
            // Refused before anything was sent: the caller's input.
            LedgerError::Refund(why) => return Self::Input(format!("refund refused: {why}")),
            LedgerError::Input(why) => return Self::Input(why),
            e @ (LedgerError::Missing(_) | LedgerError::Outdated { .. }) => {
                return Self::Input(e.to_string());
            }
            _ => {}
        }
        Self::Transport {
            status: None,
            message: e.to_string(),
            source: Some(Box::new(e)),
        }
    }
}

/// Result with [`LedgerError`].
pub type Result<T, E = LedgerError> = std::result::Result<T, E>;

/// Where payments and callbacks are kept.
#[derive(Debug, Clone)]
pub struct Ledger {
    db: db::Db,
    seal: Option<SealKey>,
    first_check: Duration,
    confirmations: std::sync::Arc<budget::Budget>,
}

/// The answer to a [`Ledger::claim`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// First delivery (or the previous holder's lease expired or was released): handle it,
    /// then [`Ledger::complete`] or [`Ledger::release`].
    New(Lease),
    /// Handled before: acknowledge again, do nothing.
    Done(CallbackRecord),
    /// Another worker holds an unexpired lease: ask the provider to retry later.
    InFlight {
        /// When that lease ends (Unix milliseconds).
        until_ms: i64,
    },
}

/// A claim held on one callback key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// Provider id.
    pub provider: String,
    /// The callback's natural key.
    pub key: String,
    /// Until when the lease holds (Unix milliseconds).
    pub until_ms: i64,
    token: String,
}

/// What a handled callback said, as [`Ledger::complete`] records it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Outcome {
    /// The merchant reference of the payment.
    pub reference: String,
    /// Normalized status.
    pub status: PaymentStatus,
    /// The provider's own status code or word.
    pub provider_status: String,
    /// The amount the callback reported, if any.
    pub amount: Option<Money>,
}

impl Outcome {
    /// An outcome without an amount.
    #[must_use]
    pub fn new(
        reference: impl Into<String>,
        status: PaymentStatus,
        provider_status: impl Into<String>,
    ) -> Self {
        Self {
            reference: reference.into(),
            status,
            provider_status: provider_status.into(),
            amount: None,
        }
    }

    /// The same outcome with an amount.
    #[must_use]
    pub fn with_amount(mut self, amount: Money) -> Self {
        self.amount = Some(amount);
        self
    }
}

/// A callback as the ledger holds it (one row per natural key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackRecord {
    /// Provider id.
    pub provider: String,
    /// The natural key.
    pub key: String,
    /// `true` once completed.
    pub done: bool,
    /// What was recorded when completed.
    pub outcome: Option<Outcome>,
    /// Deliveries counted (every claim, the first included).
    pub deliveries: i64,
    /// First delivery (Unix milliseconds).
    pub first_received_at: i64,
    /// Latest delivery (Unix milliseconds).
    pub last_received_at: i64,
    /// What did not add up about its report, if anything (`unknown_payment`, `underpaid`, …).
    pub anomaly: Option<Anomaly>,
    /// Who reported it (`callback`), when recorded through [`Ledger::deliver`].
    pub source: Option<String>,
}

/// A payment to record when it is created: the same [`paybridge_core::PaymentRecord`]
/// providers remember through [`paybridge_core::PaymentRecords`]. Its secret is sealed, never
/// stored in plain text, and dropped when the ledger has no seal key.
pub type NewPayment = paybridge_core::PaymentRecord;

/// A payment as the ledger holds it: the record providers remember (without its secret,
/// which only [`paybridge_core::PaymentRecords::recall`] unseals) and when it was recorded
/// and last changed. Its status only ever moves forward.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PaymentRow {
    /// Provider, reference, provider reference, status, amount.
    pub payment: paybridge_core::PaymentRecord,
    /// When recorded (Unix milliseconds).
    pub created_at: i64,
    /// Last change (Unix milliseconds).
    pub updated_at: i64,
    /// What did not add up, when its status is `needs_review`.
    pub anomaly: Option<Anomaly>,
    /// The amount the provider reported paid, once it reported one.
    pub paid_amount: Option<Money>,
    /// When the [`Reconciler`] next asks the provider about it (Unix milliseconds); `None`
    /// once it is final or under review.
    pub next_check_at: Option<i64>,
    /// How many times the reconciler asked.
    pub checks: i64,
    /// What the last check could not do (the provider was down, refused, …), if it failed.
    pub last_check_error: Option<String>,
    /// How much was given back (refunds succeeded or still pending), once any was.
    pub refunded_amount: Option<Money>,
}

/// A change of a payment's state, as the ledger decided and recorded it: the unit of exactly
/// once. Each is handed to the merchant once, however many callbacks, callback variants or
/// status checks report it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Change {
    /// Its number in this ledger (grows with time; another ledger has its own numbers: never
    /// an id for the merchant).
    pub id: i64,
    /// Its id in the world: `msg_` + a `UUIDv7` made when the change was recorded, stored with
    /// it — the same on every delivery and after a restart, never reused by another ledger, a
    /// restored backup or a re-created database. What `webhook-id` carries.
    pub webhook_id: String,
    /// Provider id.
    pub provider: String,
    /// The merchant reference.
    pub reference: String,
    /// The state before.
    pub previous_status: PaymentStatus,
    /// The state now (`needs_review` when [`Change::anomaly`] is set).
    pub status: PaymentStatus,
    /// What did not add up, if anything.
    pub anomaly: Option<Anomaly>,
    /// The amount the report said was paid, if it said one.
    pub amount: Option<Money>,
    /// The payment's recorded amount and currency (what the merchant asked for); `None` only
    /// for a change of a payment the ledger no longer holds.
    pub recorded: Option<Money>,
    /// What arrived, as it stood after the change (the amount a success was checked with).
    pub paid_amount: Option<Money>,
    /// What refunds that succeeded gave back, as it stood after the change.
    pub refunded_amount: Option<Money>,
    /// For a refund's change (`partially_refunded`, `reversed` from source `refund`): the
    /// refund.
    pub refund: Option<ChangeRefund>,
    /// Who reported it (`callback`, `status_check`, `answer`, `refund`).
    pub source: String,
    /// When it was recorded (Unix milliseconds).
    pub created_at: i64,
}

/// The refund a change was caused by.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChangeRefund {
    /// The merchant's refund id.
    pub id: String,
    /// How much it gave back (in the payment's currency).
    pub amount: Money,
    /// The provider's id for it, if it gave one.
    pub provider_refund_id: Option<String>,
}

impl Change {
    /// A stable id for this change, the same on every delivery attempt and unique in the
    /// world ([`Change::webhook_id`]): make your own write idempotent on it (a unique key in
    /// your books).
    #[must_use]
    pub fn stable_id(&self) -> String {
        self.webhook_id.clone()
    }
}

/// What recording a report did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
#[allow(
    clippy::large_enum_variant,
    reason = "one per report, returned and matched at once, never stored in bulk"
)]
pub enum Applied {
    /// The payment's state changed: hand the change to the merchant.
    Changed(Change),
    /// Nothing changed (the same news again, a lower state, a payment under review).
    Unchanged,
    /// The ledger holds no such payment: recorded as `unknown_payment`, not a payment.
    UnknownPayment,
}

/// A claim on one [`Change`], fenced: every claim raises the change's fence, and the ledger
/// refuses a renewal, completion or release under an older one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeLease {
    /// The change.
    pub change: Change,
    /// The fencing token: it only grows. Pass it to your own store with the write the change
    /// causes, and refuse a write with a lower token than one you have seen.
    pub fence: i64,
    /// Until when the lease holds (Unix milliseconds), unless renewed.
    pub until_ms: i64,
}

/// A boxed error from the merchant's handler.
pub type HandlerError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The ledger's own database transaction, handed to an [`InTransaction`] handler: write your
/// books here and they commit together with the change's completion — or not at all.
#[non_exhaustive]
pub enum LedgerTx<'c> {
    /// SQLite.
    #[cfg(feature = "sqlite")]
    Sqlite(&'c mut sqlx::SqliteConnection),
    /// PostgreSQL.
    #[cfg(feature = "postgres")]
    Postgres(&'c mut sqlx::PgConnection),
}

impl std::fmt::Debug for LedgerTx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LedgerTx")
    }
}

#[cfg(feature = "sqlite")]
impl<'c> From<&'c mut sqlx::SqliteConnection> for LedgerTx<'c> {
    fn from(c: &'c mut sqlx::SqliteConnection) -> Self {
        Self::Sqlite(c)
    }
}

#[cfg(feature = "postgres")]
impl<'c> From<&'c mut sqlx::PgConnection> for LedgerTx<'c> {
    fn from(c: &'c mut sqlx::PgConnection) -> Self {
        Self::Postgres(c)
    }
}

/// Work that commits with a change's completion, in the ledger's transaction
/// ([`Ledger::complete_change_with`]).
#[async_trait::async_trait]
pub trait InTransaction: Send + Sync {
    /// Do the change's effect in `tx`; an error rolls everything back (the change stays
    /// open and is handed out again).
    async fn run(&self, tx: LedgerTx<'_>, change: &Change) -> Result<(), HandlerError>;
}

/// A refund as the ledger holds it: one per merchant refund id.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RefundRecord {
    /// Provider id.
    pub provider: String,
    /// The payment's merchant reference.
    pub reference: String,
    /// The merchant's id for the refund.
    pub refund_id: String,
    /// How much.
    pub amount: Money,
    /// Where it stands.
    pub status: paybridge_core::RefundStatus,
    /// The provider's own code or word, once it answered.
    pub provider_status: Option<String>,
    /// The provider's id for the refund, if it gave one.
    pub provider_refund_id: Option<String>,
    /// When it was started (Unix milliseconds).
    pub created_at: i64,
}

/// What [`Ledger::start_refund`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RefundStart {
    /// A new refund, its amount reserved against what was paid: send it now, once.
    New(RefundRecord),
    /// This refund id was started before: do **not** send it again; this is where it stands.
    Repeat(RefundRecord),
}

/// What [`Ledger::refund`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
#[allow(
    clippy::large_enum_variant,
    reason = "one per refund, returned and matched at once, never stored in bulk"
)]
pub enum Refunded {
    /// Sent once and answered: the provider's word, and what it did to the payment.
    Done {
        /// The provider's answer.
        refund: paybridge_core::RefundState,
        /// The payment's state change, if any (`partially_refunded`, `reversed`).
        applied: Applied,
    },
    /// This refund id was started before: nothing was sent; where it stands.
    Repeat(RefundRecord),
}

/// What the provider said of a refund, for [`Ledger::finish_refund`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RefundOutcome {
    /// Where it stands.
    pub status: paybridge_core::RefundStatus,
    /// The provider's own code or word.
    pub provider_status: String,
    /// The provider's id for the refund, if it gave one.
    pub provider_refund_id: Option<String>,
}

impl RefundOutcome {
    /// An outcome.
    #[must_use]
    pub fn new(status: paybridge_core::RefundStatus, provider_status: impl Into<String>) -> Self {
        Self {
            status,
            provider_status: provider_status.into(),
            provider_refund_id: None,
        }
    }
}

/// What to do about a refund whose outcome is unknown.
pub const REFUND_ADVICE: &str = "the refund stays pending in the ledger with its amount reserved: `paybridge ledger refunds --resolve` (or the reconciler) asks the provider where it stands and records it; never send it again under another refund id";

/// `money` in its currency's minor units, exactly (a refund's amount and a payment's total are
/// compared in the database as integers); [`LedgerError::Refund`] for an amount finer than
/// the currency or too large.
pub fn minor_units(money: Money) -> Result<i64> {
    use rust_decimal::prelude::ToPrimitive as _;
    let scaled =
        money.amount() * rust_decimal::Decimal::from(10_i64.pow(money.currency().minor_units()));
    if !scaled.fract().is_zero() {
        return Err(LedgerError::Refund(format!(
            "{} {} has more decimals than the currency",
            money.amount_string(),
            money.currency().code()
        )));
    }
    scaled
        .to_i64()
        .ok_or_else(|| LedgerError::Refund(format!("{} is too large", money.amount_string())))
}

/// `minor` minor units of `currency` as money.
pub(crate) fn from_minor_units(minor: i64, currency: Currency) -> Result<Money> {
    Money::new(
        rust_decimal::Decimal::new(minor, currency.minor_units()),
        currency,
    )
    .map_err(|e| LedgerError::Row(e.to_string()))
}

/// One page of [`Ledger::payments_page`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PaymentPage {
    /// The payments, newest first.
    pub payments: Vec<PaymentRow>,
    /// The cursor of the next page (`None` on the last one).
    pub next: Option<String>,
}

/// Where a page ends: the last row's (`created_at`, provider, reference), written as
/// `created_at.hex(provider).hex(reference)` (opaque to users).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cursor {
    pub created_at: i64,
    pub provider: String,
    pub reference: String,
}

impl Cursor {
    fn parse(text: &str) -> Result<Self> {
        let bad = || LedgerError::Cursor(format!("{text:?} is not a cursor this ledger wrote"));
        let mut parts = text.split('.');
        let (Some(at), Some(provider), Some(reference), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let unhex = |h: &str| -> Option<String> {
            if !h.len().is_multiple_of(2) {
                return None;
            }
            let bytes: Option<Vec<u8>> = (0..h.len())
                .step_by(2)
                .map(|i| h.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok()))
                .collect();
            String::from_utf8(bytes?).ok()
        };
        Ok(Self {
            created_at: at.parse().map_err(|_| bad())?,
            provider: unhex(provider).ok_or_else(bad)?,
            reference: unhex(reference).ok_or_else(bad)?,
        })
    }
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.", self.created_at)?;
        for b in self.provider.bytes() {
            write!(f, "{b:02x}")?;
        }
        f.write_str(".")?;
        for b in self.reference.bytes() {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// Who reported a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The payment was created.
    Created,
    /// A verified callback.
    Callback,
    /// A status check: the merchant's, or the [`Reconciler`]'s.
    StatusCheck,
    /// A refund the merchant made ([`Ledger::finish_refund`]).
    Refund,
    /// A payment command's own synchronous answer (a card `charge` answered at once, a
    /// payment answered paid): decided like any report, money checked.
    Answer,
}

impl Source {
    /// The name stored in the event log.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Callback => "callback",
            Self::StatusCheck => "status_check",
            Self::Refund => "refund",
            Self::Answer => "answer",
        }
    }
}

/// One entry of a payment's event log: a report (or the payment's recording).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PaymentEvent {
    /// Provider id.
    pub provider: String,
    /// Merchant reference.
    pub reference: String,
    /// The status reported.
    pub status: PaymentStatus,
    /// The provider's own status.
    pub provider_status: String,
    /// Who said it.
    pub source: String,
    /// Whether it moved the payment's status.
    pub applied: bool,
    /// When (Unix milliseconds).
    pub at: i64,
    /// What did not add up about it, if anything.
    pub anomaly: Option<Anomaly>,
    /// The amount it said was paid (for the recording: the recorded amount), if any.
    pub amount: Option<Money>,
    /// For a callback's report: how many times that callback was delivered.
    pub deliveries: Option<i64>,
}

/// The ledger as the providers' payment records: a provider built with it
/// (`Stores::in_memory().records(ledger)`) finds its payments after a restart and from
/// another process. Secrets are sealed when the ledger has a seal key, and dropped otherwise.
#[async_trait::async_trait]
impl paybridge_core::PaymentRecords for Ledger {
    async fn remember(&self, payment: paybridge_core::PaymentRecord) -> paybridge_core::Result<()> {
        // A record of a payment further along (its provider reference learnt later) only adds
        // that reference: its state is the ledger's, decided from reports.
        let new = payment.status == PaymentStatus::Pending && self.record_payment(&payment).await?;
        if !new && let Some(provider_reference) = &payment.provider_reference {
            self.db
                .set_provider_reference(
                    &payment.provider,
                    &payment.reference,
                    provider_reference,
                    now_ms(),
                )
                .await?;
        }
        Ok(())
    }

    /// The payment row alone: the sealed secret is neither read nor opened.
    async fn recall_public(
        &self,
        provider: &str,
        reference: &str,
    ) -> paybridge_core::Result<Option<paybridge_core::PaymentRecord>> {
        Ok(self
            .payment(provider, reference)
            .await?
            .map(|row| row.payment))
    }

    /// The payment's first check is due at once: the [`Reconciler`] will find out.
    async fn outcome_unknown(&self, provider: &str, reference: &str) -> paybridge_core::Result<()> {
        self.check_now(provider, reference).await?;
        Ok(())
    }

    /// A callback recorded before (and so confirmed then): what it reported.
    async fn callback_seen(
        &self,
        provider: &str,
        key: &str,
    ) -> paybridge_core::Result<Option<paybridge_core::PaymentState>> {
        Ok(self
            .db
            .callback(provider, key)
            .await?
            .filter(|c| c.done)
            .and_then(|c| c.outcome)
            .map(|o| paybridge_core::PaymentState {
                payment: paybridge_core::PaymentRef::merchant(o.reference),
                status: o.status,
                provider_status: o.provider_status,
                amount: o.amount,
                message: None,
            }))
    }

    /// At most ten confirmations a minute per payment, in this process.
    fn may_confirm(&self, provider: &str, reference: &str) -> bool {
        self.confirmations.take(provider, reference, now_ms())
    }

    /// Only with a seal key: without one, secrets are not stored.
    fn keeps_secrets(&self) -> bool {
        self.seal.is_some()
    }

    async fn recall(
        &self,
        provider: &str,
        reference: &str,
    ) -> paybridge_core::Result<Option<paybridge_core::PaymentRecord>> {
        let Some(row) = self.payment(provider, reference).await? else {
            return Ok(None);
        };
        let mut record = row.payment;
        // Without a seal key secrets are not kept (`keeps_secrets`): the record comes back
        // without one instead of failing, so routes that need only its public fields (a
        // card's serial, an invoice's operation id) work on any ledger.
        if self.seal.is_some() {
            record.secret = self.secret(provider, reference).await?;
        }
        Ok(Some(record))
    }
}

/// Unix milliseconds now.
#[must_use]
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Unix milliseconds as RFC 3339 UTC text (`2026-12-01T09:35:35.123Z`).
#[must_use]
pub fn format_time(ms: i64) -> String {
    let t = paybridge_core::time::civil(ms.div_euclid(1000));
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year,
        t.month,
        t.day,
        t.hour,
        t.minute,
        t.second,
        ms.rem_euclid(1000)
    )
}

fn lost(change: &Change) -> LedgerError {
    LedgerError::LeaseLost {
        provider: change.provider.clone(),
        key: change.stable_id(),
    }
}

fn duration_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn status_from(text: &str) -> Result<PaymentStatus> {
    PaymentStatus::parse(text).ok_or_else(|| LedgerError::Row(format!("unknown status {text:?}")))
}

fn money_from(amount: &str, currency: &str) -> Result<Money> {
    let currency = Currency::from_code(currency)
        .or_else(|_| Currency::new(currency, 4))
        .map_err(|e| LedgerError::Row(e.to_string()))?;
    Money::parse(amount, currency).map_err(|e| LedgerError::Row(e.to_string()))
}

impl Ledger {
    /// Open (and migrate) the ledger at `url`: `sqlite://FILE` (created if missing; WAL
    /// mode, 5 s busy timeout) or `postgres://…`, within 10 s.
    pub async fn open(url: &str) -> Result<Self> {
        Self::open_within(url, Duration::from_secs(10)).await
    }

    /// [`Ledger::open`] within `timeout` ([`LedgerError::Unreachable`] after it).
    pub async fn open_within(url: &str, timeout: Duration) -> Result<Self> {
        Ok(Self::with_db(db::Db::open(url, true, timeout).await?))
    }

    /// Open a ledger that exists, changing nothing — what a reading command does: a missing
    /// SQLite file is [`LedgerError::Missing`] (not created), a schema older than this build
    /// [`LedgerError::Outdated`] (not migrated), a server not answering within `timeout`
    /// [`LedgerError::Unreachable`].
    pub async fn open_existing(url: &str, timeout: Duration) -> Result<Self> {
        Ok(Self::with_db(db::Db::open(url, false, timeout).await?))
    }

    fn with_db(db: db::Db) -> Self {
        Self {
            db,
            seal: None,
            first_check: reconcile::Schedule::default().first(),
            confirmations: std::sync::Arc::default(),
        }
    }

    /// How long after it is recorded a pending payment is first checked by a
    /// [`Reconciler`] (default: the default schedule's first step, one minute). The steps
    /// after the first are the reconciler's schedule.
    #[must_use]
    pub fn with_first_check(mut self, after: Duration) -> Self {
        self.first_check = after;
        self
    }

    /// Make a pending payment's check due now: the request that created it ended with its
    /// outcome unknown, so the reconciler should ask at once. `false` when the ledger holds no
    /// such pending payment.
    pub async fn check_now(&self, provider: &str, reference: &str) -> Result<bool> {
        self.db.due_now(provider, reference, now_ms()).await
    }

    /// Make every pending payment's check due now, whatever its schedule (`reconcile --all`);
    /// returns how many.
    pub async fn check_all_now(&self) -> Result<u64> {
        self.db.all_due_now(now_ms()).await
    }

    /// Seal secrets under `key` (AES-256-GCM). Without one, secrets are not stored.
    #[must_use]
    pub fn with_seal_key(mut self, key: SealKey) -> Self {
        self.seal = Some(key);
        self
    }

    /// Claim the callback `key` of `provider` for `lease` (see the crate docs). Counts the
    /// delivery whatever the answer.
    pub async fn claim(&self, provider: &str, key: &str, lease: Duration) -> Result<Claim> {
        self.claim_at(provider, key, lease, now_ms()).await
    }

    /// [`Ledger::claim`] as if the time were `now` (Unix milliseconds): for tests of lease
    /// expiry without waiting.
    #[doc(hidden)]
    pub async fn claim_at(
        &self,
        provider: &str,
        key: &str,
        lease: Duration,
        now: i64,
    ) -> Result<Claim> {
        let token = format!("{:032x}", fastrand::u128(..));
        let until = now.saturating_add(duration_ms(lease));
        let row = self.db.claim(provider, key, &token, until, now).await?;
        Ok(if row.done {
            Claim::Done(row.record)
        } else if row.lease_token.as_deref() == Some(token.as_str()) {
            Claim::New(Lease {
                provider: provider.to_owned(),
                key: key.to_owned(),
                until_ms: until,
                token,
            })
        } else {
            Claim::InFlight {
                until_ms: row.lease_until,
            }
        })
    }

    /// Record what a claimed callback said and mark it done, deciding its report (see
    /// [`state`]: the payment's state change, money checked) in the same transaction.
    /// Refused with [`LedgerError::LeaseLost`] when the lease is no longer this one's.
    pub async fn complete(&self, lease: &Lease, outcome: &Outcome) -> Result<Applied> {
        self.db
            .complete(lease, outcome, now_ms())
            .await?
            .ok_or_else(|| LedgerError::LeaseLost {
                provider: lease.provider.clone(),
                key: lease.key.clone(),
            })
    }

    /// Count a delivery of callback `key` of `provider` and — on its first delivery — decide
    /// what it reports, in one transaction: the payment's state change (if any), checked
    /// against the recorded money; a reference the ledger does not hold is recorded as
    /// `unknown_payment`. Returns how many deliveries there were and what was applied.
    pub async fn deliver(&self, provider: &str, key: &str, outcome: &Outcome) -> Result<Delivered> {
        self.db.deliver(provider, key, outcome, now_ms()).await
    }

    /// Count one more delivery of a callback recorded before (a duplicate answered from the
    /// ledger, [`paybridge_core::Received::Duplicate`]); `false` when it was never recorded.
    pub async fn count_delivery(&self, provider: &str, key: &str) -> Result<bool> {
        self.db.count_delivery(provider, key, now_ms()).await
    }

    /// Decide a report from `source` (a status check, a command's own answer, …) in one
    /// transaction (see [`state`]).
    pub async fn report(
        &self,
        provider: &str,
        outcome: &Outcome,
        source: Source,
    ) -> Result<Applied> {
        self.db.report(provider, outcome, source, now_ms()).await
    }

    /// Every change numbered after `after` (whoever recorded it: a receiver, a payment
    /// command's answer, the reconciler, a refund), in number order, at most `limit` — a feed
    /// for a live log (`paybridge dev`), with [`Ledger::last_change_id`] to start from. Not
    /// for handing changes out: on PostgreSQL a change committed late under a lower number
    /// can be passed over; the outbox and [`Ledger::claim_change`] never miss one.
    pub async fn changes_after(&self, after: i64, limit: i64) -> Result<Vec<Change>> {
        self.db.changes_after(after, limit).await
    }

    /// The highest change number so far (0 when there is none).
    pub async fn last_change_id(&self) -> Result<i64> {
        self.db.last_change_id().await
    }

    /// The changes of a payment not yet handed out (oldest first).
    pub async fn open_changes(&self, provider: &str, reference: &str) -> Result<Vec<Change>> {
        self.db.changes(provider, reference, true).await
    }

    /// Claim `change` for `lease`: `None` when another holder's lease is running or it was
    /// completed.
    pub async fn claim_change(
        &self,
        change: &Change,
        lease: Duration,
    ) -> Result<Option<ChangeLease>> {
        self.claim_change_at(change, lease, now_ms()).await
    }

    /// [`Ledger::claim_change`] as if the time were `now` (Unix milliseconds).
    #[doc(hidden)]
    pub async fn claim_change_at(
        &self,
        change: &Change,
        lease: Duration,
        now: i64,
    ) -> Result<Option<ChangeLease>> {
        let until = now.saturating_add(duration_ms(lease));
        Ok(self
            .db
            .claim_change(change.id, until, now)
            .await?
            .map(|fence| ChangeLease {
                change: change.clone(),
                fence,
                until_ms: until,
            }))
    }

    /// Extend a claim by `lease` from now; [`LedgerError::LeaseLost`] when it is no longer
    /// this holder's.
    pub async fn renew_change(&self, claim: &mut ChangeLease, lease: Duration) -> Result<()> {
        self.renew_change_at(claim, lease, now_ms()).await
    }

    /// [`Ledger::renew_change`] as if the time were `now` (Unix milliseconds).
    #[doc(hidden)]
    pub async fn renew_change_at(
        &self,
        claim: &mut ChangeLease,
        lease: Duration,
        now: i64,
    ) -> Result<()> {
        let until = now.saturating_add(duration_ms(lease));
        if self
            .db
            .fenced(db::FencedChange::Renew, claim.change.id, claim.fence, until)
            .await?
        {
            claim.until_ms = until;
            Ok(())
        } else {
            Err(lost(&claim.change))
        }
    }

    /// Mark a claimed change handed out; [`LedgerError::LeaseLost`] when the claim is no longer
    /// this holder's (another holder has a higher fence, or it was completed).
    pub async fn complete_change(&self, claim: &ChangeLease) -> Result<()> {
        if self
            .db
            .fenced(
                db::FencedChange::Done,
                claim.change.id,
                claim.fence,
                now_ms(),
            )
            .await?
        {
            Ok(())
        } else {
            Err(lost(&claim.change))
        }
    }

    /// Complete a claimed change and run `work` in the same database transaction: the
    /// merchant's effect and the completion commit together, exactly once. `Ok(Err(e))` when
    /// `work` failed (rolled back; the change stays open); [`LedgerError::LeaseLost`] when
    /// the claim no longer holds (nothing ran).
    pub async fn complete_change_with(
        &self,
        claim: &ChangeLease,
        work: &(dyn InTransaction + '_),
    ) -> Result<Result<(), HandlerError>> {
        match self
            .db
            .done_with(claim.change.id, claim.fence, now_ms(), work, &claim.change)
            .await?
        {
            Ok(true) => Ok(Ok(())),
            Ok(false) => Err(lost(&claim.change)),
            Err(e) => Ok(Err(e)),
        }
    }

    /// Give a claimed change up (the handler failed): it is open again at once.
    pub async fn release_change(&self, claim: &ChangeLease) -> Result<()> {
        self.db
            .fenced(db::FencedChange::Release, claim.change.id, claim.fence, 0)
            .await
            .map(drop)
    }

    /// Run one statement on the ledger's database (tests create the merchant's tables in it).
    #[doc(hidden)]
    pub async fn execute_for_tests(&self, sql: &str) -> Result<()> {
        self.db.execute(sql).await
    }

    /// `SELECT COUNT(*) AS n …` on the ledger's database, for tests.
    #[doc(hidden)]
    pub async fn count_for_tests(&self, sql: &str) -> Result<i64> {
        self.db.count(sql).await
    }

    /// Give a claim up (the handler failed): the next delivery claims again at once.
    pub async fn release(&self, lease: &Lease) -> Result<()> {
        self.db.release(lease).await
    }

    /// The callback `key` of `provider`, if it was ever delivered.
    pub async fn callback(&self, provider: &str, key: &str) -> Result<Option<CallbackRecord>> {
        self.db.callback(provider, key).await
    }

    /// Callbacks, newest first, optionally of one provider and/or one reference.
    pub async fn callbacks(
        &self,
        provider: Option<&str>,
        reference: Option<&str>,
    ) -> Result<Vec<CallbackRecord>> {
        self.db.callbacks(provider, reference).await
    }

    /// Record a created payment; `false` when the provider already has this reference (the
    /// first record is kept). Its secret is sealed when the ledger has a key. A payment is
    /// recorded `pending` — anything else is refused ([`LedgerError::Input`]): every later
    /// state is decided from a report ([`Ledger::report`], source `answer` for the command's
    /// own answer), with its money checked.
    pub async fn record_payment(&self, payment: &NewPayment) -> Result<bool> {
        if payment.status != PaymentStatus::Pending {
            return Err(LedgerError::Input(format!(
                "{} payment {:?} recorded as {}: a payment is recorded pending, and what the provider says of it reported (Ledger::report) so that its money is checked",
                payment.provider, payment.reference, payment.status
            )));
        }
        let sealed = match (&self.seal, &payment.secret) {
            (Some(key), Some(secret)) => Some(key.seal(
                secret,
                &seal::context(&payment.provider, &payment.reference),
            )?),
            _ => None,
        };
        let now = now_ms();
        let first_check = (payment.status == PaymentStatus::Pending)
            .then(|| now.saturating_add(duration_ms(self.first_check)));
        self.db
            .record_payment(payment, sealed, now, first_check)
            .await
    }

    /// Report a status (without an amount) for a payment: [`Ledger::report`]; `Ok(true)` when
    /// the payment's state changed.
    pub async fn report_status(
        &self,
        provider: &str,
        reference: &str,
        status: PaymentStatus,
        provider_status: &str,
        source: Source,
    ) -> Result<bool> {
        let outcome = Outcome::new(reference, status, provider_status);
        Ok(matches!(
            self.report(provider, &outcome, source).await?,
            Applied::Changed(_)
        ))
    }

    /// One payment.
    pub async fn payment(&self, provider: &str, reference: &str) -> Result<Option<PaymentRow>> {
        self.db.payment(provider, reference).await
    }

    /// Note what pays for a payment recorded without it (a Qvickly checkout's `checkout
    /// <number> <hash>`, known once Qvickly answered): `false` when the payment has one.
    pub async fn set_instrument(
        &self,
        provider: &str,
        reference: &str,
        instrument: &str,
    ) -> Result<bool> {
        self.db
            .set_instrument(provider, reference, instrument, now_ms())
            .await
    }

    /// The newest payment of `provider` whose instrument starts with `prefix` (a Qvickly
    /// checkout: `checkout <number> `).
    pub async fn payment_by_instrument(
        &self,
        provider: &str,
        prefix: &str,
    ) -> Result<Option<PaymentRow>> {
        self.db.payment_by_instrument(provider, prefix).await
    }

    /// A payment's reference and amount changed before anything was reported for it — a
    /// Qvickly checkout whose `updateCheckout` gave the shop's final orderid and cart: the
    /// payment is renamed and re-amounted, so that its callback (which names the new orderid)
    /// finds it and its money is checked against the new cart. `Ok(false)` when it cannot
    /// follow: not pending, a callback or report already in, a provider reference or a sealed
    /// secret recorded, another currency; a `new_reference` already recorded is
    /// [`LedgerError::Input`].
    pub async fn follow_update(
        &self,
        provider: &str,
        reference: &str,
        new_reference: &str,
        amount: &paybridge_core::Money,
    ) -> Result<bool> {
        if new_reference != reference && self.db.payment(provider, new_reference).await?.is_some() {
            return Err(LedgerError::Input(format!(
                "{provider} payment {new_reference:?} is already recorded"
            )));
        }
        self.db
            .follow_update(provider, reference, new_reference, amount, now_ms())
            .await
    }

    /// Payments, newest first, optionally of one provider — every one of them, in memory: for
    /// a small ledger. A large one is listed a page at a time: [`Ledger::payments_page`].
    pub async fn payments(&self, provider: Option<&str>) -> Result<Vec<PaymentRow>> {
        self.db.payments(provider).await
    }

    /// One page of payments, newest first (by recording time, then provider and reference: a
    /// stable order), optionally of one provider and/or status: at most `limit`, after the
    /// page whose [`PaymentPage::next`] is `after`. Each page is one index range scan, so its
    /// cost and memory do not grow with the ledger.
    pub async fn payments_page(
        &self,
        provider: Option<&str>,
        status: Option<PaymentStatus>,
        limit: u32,
        after: Option<&str>,
    ) -> Result<PaymentPage> {
        let after = after.map(Cursor::parse).transpose()?;
        let limit = limit.clamp(1, 10_000);
        let mut payments = self
            .db
            .payments_page(provider, status, i64::from(limit) + 1, after.as_ref())
            .await?;
        let next = if payments.len() > limit as usize {
            payments.truncate(limit as usize);
            payments.last().map(|p| {
                Cursor {
                    created_at: p.created_at,
                    provider: p.payment.provider.clone(),
                    reference: p.payment.reference.clone(),
                }
                .to_string()
            })
        } else {
            None
        };
        Ok(PaymentPage { payments, next })
    }

    /// Start refund `refund_id` of a paid payment (`succeeded` or `partially_refunded`), in one
    /// transaction: a refund id seen before is a [`RefundStart::Repeat`] (never send it twice);
    /// a new one reserves `amount` (all that is left when `None`) against what was paid —
    /// refused with [`LedgerError::Refund`] when it would give back more, checked by the
    /// database itself — and is recorded `pending`. Send it to the provider only after this
    /// returned [`RefundStart::New`], then record what it said with [`Ledger::finish_refund`].
    pub async fn start_refund(
        &self,
        provider: &str,
        reference: &str,
        refund_id: &str,
        amount: Option<Money>,
    ) -> Result<RefundStart> {
        if refund_id.is_empty() {
            return Err(LedgerError::Refund("a refund needs a refund id".into()));
        }
        self.db
            .start_refund(provider, reference, refund_id, amount, now_ms())
            .await
    }

    /// Record what the provider said of refund `refund_id`: `succeeded` makes the payment
    /// `partially_refunded` or, once all of it went back, `reversed` — a state change handed
    /// out like any other (source `refund`); `failed` gives the reserved amount back; `pending`
    /// keeps it reserved. Returns what it did to the payment.
    pub async fn finish_refund(
        &self,
        provider: &str,
        reference: &str,
        refund_id: &str,
        outcome: &RefundOutcome,
    ) -> Result<Applied> {
        self.db
            .finish_refund(provider, reference, refund_id, outcome, now_ms())
            .await
    }

    /// Refund through `provider`, recorded: [`Ledger::start_refund`] (a repeat of the refund id
    /// is answered from the ledger and nothing is sent; more than was paid is refused before
    /// sending), then the provider asked **once** for exactly the reserved amount, then
    /// [`Ledger::finish_refund`] with its answer. A refusal or an error before the request left
    /// gives the reservation back; an outcome unknown keeps it reserved and the refund
    /// `pending` (the error's advice says how to find out) — never resent.
    pub async fn refund(
        &self,
        provider: &dyn paybridge_core::PaymentProvider,
        payment: &paybridge_core::PaymentRef,
        request: paybridge_core::RefundRequest,
    ) -> paybridge_core::Result<Refunded> {
        let id = provider.id();
        let refund = match self
            .start_refund(id, &payment.reference, &request.refund_id, request.amount)
            .await?
        {
            // The same refund id again while its outcome is unknown: the provider is asked
            // where it stands (Payoo: resent under the same RefundId, harmless) — never sent
            // under a new id; one still being sent (pending under a minute) is left alone.
            RefundStart::Repeat(record)
                if record.status == paybridge_core::RefundStatus::Pending =>
            {
                self.resolve_if_unknown(provider, &payment.reference, &record.refund_id)
                    .await?;
                let now = self
                    .refunds(id, &payment.reference)
                    .await?
                    .into_iter()
                    .find(|r| r.refund_id == record.refund_id)
                    .unwrap_or(record);
                return Ok(Refunded::Repeat(now));
            }
            RefundStart::Repeat(record) => return Ok(Refunded::Repeat(record)),
            RefundStart::New(record) => record,
        };
        let mut exact = paybridge_core::RefundRequest::partial(&refund.refund_id, refund.amount);
        exact.reason = request.reason;
        match provider.refund(payment, exact).await {
            Ok(state) => {
                let mut outcome = RefundOutcome::new(state.status, state.provider_status.clone());
                outcome
                    .provider_refund_id
                    .clone_from(&state.provider_refund_id);
                let applied = self
                    .finish_refund(id, &payment.reference, &refund.refund_id, &outcome)
                    .await?;
                Ok(Refunded::Done {
                    refund: state,
                    applied,
                })
            }
            Err(e) if e.outcome_unknown() => Err(e),
            // Only a refusal the provider answered, or an error before anything was sent, says
            // no money moved. A timeout, a broken connection, an answer that could not be read
            // or verified may follow a refund the provider made — even one whose resend it makes
            // harmless: the refund stays pending, its amount reserved, and the caller is told.
            Err(e)
                if !matches!(
                    e,
                    paybridge_core::Error::Provider { .. }
                        | paybridge_core::Error::Input(_)
                        | paybridge_core::Error::Unsupported { .. }
                        | paybridge_core::Error::Config { .. }
                ) =>
            {
                Err(paybridge_core::Error::OutcomeUnknown {
                    provider: id,
                    operation: "refund",
                    reference: refund.refund_id.clone(),
                    cause: e.to_string(),
                    advice: REFUND_ADVICE,
                    source: Some(Box::new(e)),
                })
            }
            Err(e) => {
                let code = e.provider_code().unwrap_or("error").to_owned();
                self.finish_refund(
                    id,
                    &payment.reference,
                    &refund.refund_id,
                    &RefundOutcome::new(paybridge_core::RefundStatus::Failed, code),
                )
                .await?;
                Err(e)
            }
        }
    }

    /// The refunds of a payment, oldest first.
    pub async fn refunds(&self, provider: &str, reference: &str) -> Result<Vec<RefundRecord>> {
        self.db.refunds(provider, reference).await
    }

    /// A payment's event log, oldest first.
    pub async fn events(&self, provider: &str, reference: &str) -> Result<Vec<PaymentEvent>> {
        self.db.events(provider, reference).await
    }

    /// The payment's sealed secret, opened (`None` when none was stored).
    pub async fn secret(&self, provider: &str, reference: &str) -> Result<Option<SecretString>> {
        let Some(sealed) = self.db.sealed(provider, reference).await? else {
            return Ok(None);
        };
        let key = self
            .seal
            .as_ref()
            .ok_or_else(|| LedgerError::Seal("a secret is stored but no seal key is set".into()))?;
        key.open(&sealed, &seal::context(provider, reference))
            .map(Some)
    }

    /// Remove completed callbacks whose last delivery is older than `horizon(provider)` —
    /// each provider's retry horizon plus a margin: a delivery after it could no longer be
    /// recognised as a duplicate. Returns how many were removed.
    pub async fn purge(&self, horizon: impl Fn(&str) -> Duration) -> Result<u64> {
        let now = now_ms();
        let mut purged = 0;
        for provider in self.db.callback_providers().await? {
            let before = now.saturating_sub(duration_ms(horizon(&provider)));
            purged += self.db.purge(&provider, before).await?;
        }
        Ok(purged)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_are_rfc3339() {
        assert_eq!(super::format_time(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            super::format_time(1_795_435_200_123),
            "2026-11-23T12:00:00.123Z"
        );
        assert_eq!(
            super::format_time(1_709_164_800_000),
            "2024-02-29T00:00:00.000Z"
        );
    }
}
