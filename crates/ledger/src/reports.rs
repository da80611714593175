//! Reports of a payment's state and the one decision they all go through: inside the
//! transaction that records it, the payment row is locked, the report logged as an event, and
//! — when [`crate::state::decide`] says the state moves — the payment updated, the change
//! written with what the merchant is told, and its deliveries queued (the outbox).

use paybridge_core::{Money, PaymentStatus};

use crate::changes::{Change, ChangeRefund, paid_after};
use crate::error::Result;
use crate::state::{Anomaly, Decision, decide};
use crate::store::Ledger;
use crate::values::{anomaly_from, money_columns, money_from, positive_minor_units, status_from};

/// What a provider said of a payment: a callback's report, a status check's answer.
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

/// Who reported a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The payment was created.
    Created,
    /// A verified callback.
    Callback,
    /// A status check: the merchant's, or the [`crate::Reconciler`]'s.
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

impl Applied {
    /// What did not add up about the report, if anything.
    pub(crate) fn anomaly(&self) -> Option<Anomaly> {
        match self {
            Self::UnknownPayment => Some(Anomaly::UnknownPayment),
            Self::Changed(change) => change.anomaly,
            Self::Unchanged => None,
        }
    }
}

/// One entry of the event log: every report, applied or not, and a payment's recording.
const EVENT: &str = "INSERT INTO payment_events (provider, reference, status, provider_status, source, applied, at, anomaly, amount, currency, callback_key, merchant) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";

/// The first statement of every report's (and refund's) transaction: it takes the payment
/// row's write lock (PostgreSQL: the row; SQLite: the database) before the state is read, so
/// two reports of one payment are decided one after the other, never both on the same old
/// state.
pub(crate) async fn lock_payment(
    conn: &mut sqlx::AnyConnection,
    merchant: &str,
    provider: &str,
    reference: &str,
) -> Result<()> {
    sqlx::query(
        "UPDATE payments SET updated_at = updated_at WHERE merchant = $1 AND provider = $2 AND reference = $3",
    )
    .bind(merchant)
    .bind(provider)
    .bind(reference)
    .execute(conn)
    .await?;
    Ok(())
}

/// What refunds that succeeded gave back of the payment row `p`, in minor units: one
/// definition for the decision, the refund totals and the pending refunds.
pub(crate) const SUCCEEDED_REFUNDS_MINOR: &str = "(SELECT CAST(COALESCE(SUM(s.amount_minor), 0) AS BIGINT) FROM refunds s \
     WHERE s.merchant = p.merchant AND s.provider = p.provider AND s.reference = p.reference AND s.status = 'succeeded')";

/// The state a report is decided on, and the money the change will carry: refunded is what
/// refunds that succeeded gave back (a refund's own row is already updated when its change is
/// decided). `open_changes` counts the payment's changes not yet handed out: when there are
/// any, a new change waits its turn behind them (born open), whoever decided it. `{lock}`:
/// PostgreSQL takes the row's lock with the read (one round trip).
const READ_STATE: &str = "SELECT status, amount, currency, anomaly, paid_amount, {refunded} AS refunded_minor, \
       (SELECT CAST(COUNT(*) AS BIGINT) FROM changes c WHERE c.merchant = p.merchant AND c.provider = p.provider AND c.reference = p.reference AND c.state <> 'done') AS open_changes \
     FROM payments p WHERE merchant = $1 AND provider = $2 AND reference = $3 {lock}";

/// [`READ_STATE`] for SQLite, and for PostgreSQL.
static READ_STATE_SQL: std::sync::LazyLock<[String; 2]> = std::sync::LazyLock::new(|| {
    let sql = READ_STATE.replace("{refunded}", SUCCEEDED_REFUNDS_MINOR);
    [
        sql.replace("{lock}", ""),
        sql.replace("{lock}", "FOR UPDATE OF p"),
    ]
});

/// Lock the payment row and read its state: one statement on PostgreSQL; on SQLite the
/// database's write lock is taken first ([`lock_payment`], in-process: no round trip), so that
/// no other writer can slip between the read and the writes the decision makes.
async fn lock_and_read(
    conn: &mut sqlx::AnyConnection,
    merchant: &str,
    provider: &str,
    reference: &str,
) -> Result<Option<StateRow>> {
    let postgres = conn.backend_name() == "PostgreSQL";
    if !postgres {
        lock_payment(conn, merchant, provider, reference).await?;
    }
    let [sqlite, postgresql] = &*READ_STATE_SQL;
    let sql = if postgres { postgresql } else { sqlite };
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(merchant)
        .bind(provider)
        .bind(reference)
        .fetch_optional(conn)
        .await?)
}

/// A payment's state as a report is decided on it.
#[derive(sqlx::FromRow)]
struct StateRow {
    status: String,
    amount: String,
    currency: String,
    anomaly: Option<String>,
    paid_amount: Option<String>,
    refunded_minor: i64,
    open_changes: i64,
}

/// A payment that leaves `pending` has nothing more to reconcile: its next check goes.
const SET_STATE: &str = "UPDATE payments SET status = $1, anomaly = $2, paid_amount = COALESCE($3, paid_amount), updated_at = $4, \
       next_check_at = CASE WHEN $1 = 'pending' THEN next_check_at ELSE NULL END \
     WHERE provider = $5 AND reference = $6 AND merchant = $7";

/// A change, with what the merchant is told of it, in the state it is born in ([`Born`]); its
/// deliveries follow in the same transaction ([`QUEUE_DELIVERIES`]).
const INSERT_CHANGE: &str = "INSERT INTO changes (provider, reference, previous_status, status, anomaly, amount, currency, source, state, fence, lease_until, created_at, \
       webhook_id, payment_amount, payment_currency, paid_amount, refunded_amount, refund_id, refund_amount, provider_refund_id, completed_at, merchant) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $18, $19, $20, $9, \
       $10, $11, $12, $13, $14, $15, $16, $17, $21, $22) RETURNING id";

/// The state a change is written in by the transaction that decides it: the deciding worker
/// hands it out itself, so the common path needs no second read, claim or commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Born {
    /// Open: handed out after the commit, by whoever claims it.
    Open,
    /// Already claimed by the deciding worker (fence 1) until this time: its plain handler
    /// runs after the commit, under the lease.
    Claimed { until: i64 },
    /// Done (fence 1): its transactional handler runs in this very transaction, which rolls
    /// the handler's writes back and opens the change again should it fail.
    Done,
}

impl Born {
    /// The state, fence, lease end and completion time the change row is inserted with.
    fn columns(self, now: i64) -> (&'static str, i64, i64, Option<i64>) {
        match self {
            Self::Open => ("pending", 0, 0, None),
            Self::Claimed { until } => ("handling", 1, until, None),
            Self::Done => ("done", 1, 0, Some(now)),
        }
    }
}

/// What deciding a report did ([`apply`]).
#[derive(Debug)]
pub(crate) struct Decided {
    /// What it did to the payment.
    pub applied: Applied,
    /// The state its change (if any) was born in: [`Born::Open`] whatever was asked when
    /// older changes of the payment are still open — they go first.
    pub born: Born,
    /// The payment had open changes before this report (someone must hand them out).
    pub earlier_open: bool,
}

impl Decided {
    /// Nothing decided (a duplicate delivery, a check without an answer).
    pub(crate) fn nothing() -> Self {
        Self {
            applied: Applied::Unchanged,
            born: Born::Open,
            earlier_open: false,
        }
    }
}

/// The change's deliveries, one per forward target registered for its merchant, in the same
/// transaction (the outbox): every target of a merchant gets every change of its payments,
/// and no other merchant's.
pub(crate) const QUEUE_DELIVERIES: &str = "INSERT INTO deliveries (change_id, target, payment_provider, payment_reference, delivery_state, next_at, merchant) \
     SELECT $1, url, $2, $3, 'pending', $4, merchant FROM forward_targets WHERE merchant = $5";

/// One report to decide.
#[derive(Clone, Copy)]
pub(crate) struct Report<'a> {
    /// Whose payment: `""` for the default merchant.
    pub merchant: &'a str,
    pub provider: &'a str,
    pub outcome: &'a Outcome,
    pub source: Source,
    pub now: i64,
    /// A callback's report: the delivery it came in.
    pub callback_key: Option<&'a str>,
    /// A refund's report: the refund the change carries.
    pub refund: Option<&'a ChangeRefund>,
    /// The state its change is born in, when nothing older of the payment is open.
    pub born: Born,
}

impl<'a> Report<'a> {
    pub fn new(
        merchant: &'a str,
        provider: &'a str,
        outcome: &'a Outcome,
        source: Source,
        now: i64,
    ) -> Self {
        Self {
            merchant,
            provider,
            outcome,
            source,
            now,
            callback_key: None,
            refund: None,
            born: Born::Open,
        }
    }
}

/// The ordinary decision of a report: [`decide`] on what it says.
pub(crate) fn on_what_it_says(
    outcome: &Outcome,
) -> impl FnOnce(PaymentStatus, Option<Anomaly>, Money) -> Decision + Send + '_ {
    |current, anomaly, recorded| decide(current, anomaly, recorded, outcome.status, outcome.amount)
}

/// Decide and record one report in `conn`'s transaction (see the module): `decision` is
/// given the payment's state, anomaly and recorded money.
pub(crate) async fn apply(
    conn: &mut sqlx::AnyConnection,
    report: Report<'_>,
    decision: impl FnOnce(PaymentStatus, Option<Anomaly>, Money) -> Decision + Send,
) -> Result<Decided> {
    let Report {
        merchant,
        provider,
        outcome,
        source,
        now,
        ..
    } = report;
    let Some(row) = lock_and_read(conn, merchant, provider, &outcome.reference).await? else {
        log_event(conn, report, false, Some(Anomaly::UnknownPayment)).await?;
        return Ok(Decided {
            applied: Applied::UnknownPayment,
            born: Born::Open,
            earlier_open: false,
        });
    };
    let earlier_open = row.open_changes > 0;
    let current = status_from(&row.status)?;
    let recorded = money_from(&row.amount, &row.currency)?;
    let decided = decision(current, anomaly_from(row.anomaly.as_deref()), recorded);
    if !decided.changed {
        log_event(conn, report, false, decided.anomaly).await?;
        return Ok(Decided {
            applied: Applied::Unchanged,
            born: Born::Open,
            earlier_open,
        });
    }
    let born = if earlier_open {
        Born::Open
    } else {
        report.born
    };
    let change = Change {
        id: 0,
        webhook_id: crate::ids::webhook_id(now),
        merchant: merchant.to_owned(),
        provider: provider.to_owned(),
        reference: outcome.reference.clone(),
        previous_status: current,
        status: decided.status,
        anomaly: decided.anomaly,
        amount: outcome.amount,
        recorded: Some(recorded),
        paid_amount: paid_after(outcome.amount, row.paid_amount.as_deref(), &row.currency)?,
        refunded_amount: positive_minor_units(row.refunded_minor, recorded.currency())?,
        refund: report.refund.cloned(),
        source: source.as_str().to_owned(),
        created_at: now,
    };
    let id = if conn.backend_name() == "PostgreSQL" {
        write_change_at_once(conn, report, &change, (&row.amount, &row.currency), born).await?
    } else {
        log_event(conn, report, true, decided.anomaly).await?;
        let (paid, _) = money_columns(outcome.amount);
        sqlx::query(SET_STATE)
            .bind(decided.status.as_str())
            .bind(decided.anomaly.map(Anomaly::as_str))
            .bind(&paid)
            .bind(now)
            .bind(provider)
            .bind(&outcome.reference)
            .bind(merchant)
            .execute(&mut *conn)
            .await?;
        insert_change(conn, &change, (&row.amount, &row.currency), born).await?
    };
    Ok(Decided {
        applied: Applied::Changed(Change { id, ..change }),
        born,
        earlier_open,
    })
}

/// Write `change` (born as `born`; `payment` is the payment's recorded amount and currency, as
/// stored) and queue its deliveries: its number.
async fn insert_change(
    conn: &mut sqlx::AnyConnection,
    change: &Change,
    payment: (&str, &str),
    born: Born,
) -> Result<i64> {
    let (state, fence, lease_until, completed_at) = born.columns(change.created_at);
    let (amount, currency) = money_columns(change.amount);
    let refund = change.refund.as_ref();
    let id: i64 = sqlx::query_scalar(INSERT_CHANGE)
        .bind(&change.provider)
        .bind(&change.reference)
        .bind(change.previous_status.as_str())
        .bind(change.status.as_str())
        .bind(change.anomaly.map(Anomaly::as_str))
        .bind(amount)
        .bind(currency)
        .bind(&change.source)
        .bind(change.created_at)
        .bind(&change.webhook_id)
        .bind(payment.0)
        .bind(payment.1)
        .bind(change.paid_amount.map(|m| m.amount_string()))
        .bind(change.refunded_amount.map(|m| m.amount_string()))
        .bind(refund.map(|r| r.id.as_str()))
        .bind(refund.map(|r| r.amount.amount_string()))
        .bind(refund.and_then(|r| r.provider_refund_id.as_deref()))
        .bind(state)
        .bind(fence)
        .bind(lease_until)
        .bind(completed_at)
        .bind(&change.merchant)
        .fetch_one(&mut *conn)
        .await?;
    sqlx::query(QUEUE_DELIVERIES)
        .bind(id)
        .bind(&change.provider)
        .bind(&change.reference)
        .bind(change.created_at)
        .bind(&change.merchant)
        .execute(&mut *conn)
        .await?;
    Ok(id)
}

/// What a changing report writes after the decision — its event, the payment's new state, the
/// change and its deliveries ([`EVENT`], [`SET_STATE`], [`INSERT_CHANGE`],
/// [`QUEUE_DELIVERIES`]) — as one PostgreSQL statement: one round trip instead of four (on
/// PostgreSQL a callback's time goes mostly to round trips; SQLite, in-process, runs the four).
const WRITE_CHANGE_AT_ONCE: &str = "WITH event AS ( \
       INSERT INTO payment_events (provider, reference, status, provider_status, source, applied, at, anomaly, amount, currency, callback_key, merchant) \
       VALUES ($1, $2, $3, $4, $5, 1, $6, $7, $8, $9, $10, $25)), \
     state AS ( \
       UPDATE payments SET status = $11, anomaly = $7, paid_amount = COALESCE($8, paid_amount), updated_at = $6, \
         next_check_at = CASE WHEN $11 = 'pending' THEN next_check_at ELSE NULL END \
       WHERE merchant = $25 AND provider = $1 AND reference = $2), \
     change AS ( \
       INSERT INTO changes (provider, reference, previous_status, status, anomaly, amount, currency, source, state, fence, lease_until, created_at, \
         webhook_id, payment_amount, payment_currency, paid_amount, refunded_amount, refund_id, refund_amount, provider_refund_id, completed_at, merchant) \
       VALUES ($1, $2, $12, $11, $7, $8, $9, $5, $21, $22, $23, $6, $13, $14, $15, $16, $17, $18, $19, $20, $24, $25) RETURNING id), \
     queued AS ( \
       INSERT INTO deliveries (change_id, target, payment_provider, payment_reference, delivery_state, next_at, merchant) \
       SELECT change.id, url, $1, $2, 'pending', $6, forward_targets.merchant FROM change, forward_targets WHERE forward_targets.merchant = $25) \
     SELECT id FROM change";

/// [`WRITE_CHANGE_AT_ONCE`]: `change` of `report` (born as `born`; `payment` is the payment's
/// recorded amount and currency, as stored): its number.
async fn write_change_at_once(
    conn: &mut sqlx::AnyConnection,
    report: Report<'_>,
    change: &Change,
    payment: (&str, &str),
    born: Born,
) -> Result<i64> {
    let (state, fence, lease_until, completed_at) = born.columns(change.created_at);
    let outcome = report.outcome;
    let (amount, currency) = money_columns(outcome.amount);
    let refund = change.refund.as_ref();
    Ok(sqlx::query_scalar(WRITE_CHANGE_AT_ONCE)
        .bind(report.provider)
        .bind(&outcome.reference)
        .bind(outcome.status.as_str())
        .bind(&outcome.provider_status)
        .bind(report.source.as_str())
        .bind(report.now)
        .bind(change.anomaly.map(Anomaly::as_str))
        .bind(amount)
        .bind(currency)
        .bind(report.callback_key)
        .bind(change.status.as_str())
        .bind(change.previous_status.as_str())
        .bind(&change.webhook_id)
        .bind(payment.0)
        .bind(payment.1)
        .bind(change.paid_amount.map(|m| m.amount_string()))
        .bind(change.refunded_amount.map(|m| m.amount_string()))
        .bind(refund.map(|r| r.id.as_str()))
        .bind(refund.map(|r| r.amount.amount_string()))
        .bind(refund.and_then(|r| r.provider_refund_id.as_deref()))
        .bind(state)
        .bind(fence)
        .bind(lease_until)
        .bind(completed_at)
        .bind(report.merchant)
        .fetch_one(conn)
        .await?)
}

/// Log one report in the event log (also a payment's recording: source `created`).
pub(crate) async fn log_event(
    conn: &mut sqlx::AnyConnection,
    report: Report<'_>,
    applied: bool,
    anomaly: Option<Anomaly>,
) -> Result<()> {
    let outcome = report.outcome;
    let (amount, currency) = money_columns(outcome.amount);
    sqlx::query(EVENT)
        .bind(report.provider)
        .bind(&outcome.reference)
        .bind(outcome.status.as_str())
        .bind(&outcome.provider_status)
        .bind(report.source.as_str())
        .bind(i64::from(applied))
        .bind(report.now)
        .bind(anomaly.map(Anomaly::as_str))
        .bind(amount)
        .bind(currency)
        .bind(report.callback_key)
        .bind(report.merchant)
        .execute(conn)
        .await?;
    Ok(())
}

impl Ledger {
    /// Decide a report from `source` (a status check, a command's own answer, …) in one
    /// transaction (see [`crate::state`]).
    pub async fn report(
        &self,
        provider: &str,
        outcome: &Outcome,
        source: Source,
    ) -> Result<Applied> {
        let mut tx = self.pool().begin().await?;
        let report = Report::new(self.merchant_id(), provider, outcome, source, self.now_ms());
        let decided = apply(&mut tx, report, on_what_it_says(outcome)).await?;
        tx.commit().await?;
        Ok(decided.applied)
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
}
