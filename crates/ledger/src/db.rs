//! The two backends behind one set of statements. Every statement is written once, in the
//! SQL both SQLite and PostgreSQL run (`$N` parameters, numbered in order of first use, which
//! SQLite binds by position too), and run on whichever pool the ledger opened: the macro
//! [`on_pool!`] expands a body once per backend, so the row types stay concrete.

use std::time::Duration;

use crate::{
    Anomaly, Applied, CallbackRecord, Change, Lease, LedgerError, NewPayment, Outcome,
    PaymentEvent, PaymentRow, Result, Source, decide, money_from, status_from,
};

/// The fenced statements on a claimed change.
#[derive(Debug, Clone, Copy)]
pub(crate) enum FencedChange {
    Renew,
    Done,
    Release,
}

/// What follows a check that left the payment pending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AfterCheck {
    /// Check again at this time (Unix milliseconds).
    Next(i64),
    /// Give up: `needs_review`, `unreconciled`.
    GiveUp,
}

/// What a status check came to, as [`Db::finish_check`] records it.
pub(crate) struct CheckResult<'a> {
    /// The provider's answer, if it gave one.
    pub answer: Option<&'a Outcome>,
    /// The provider's id for the payment, when the check found it by the merchant reference.
    pub provider_reference: Option<&'a str>,
    /// Why there is no answer.
    pub error: Option<&'a str>,
    /// When to ask again if the payment is still pending.
    pub after: AfterCheck,
}

/// What a callback's delivery did ([`crate::Ledger::deliver`]).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Delivered {
    /// How many times this callback has been delivered, this one included (more than 1: a
    /// provider's retry).
    pub deliveries: i64,
    /// What its report did to the payment.
    pub applied: Applied,
}

#[derive(Debug, Clone)]
pub(crate) enum Db {
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::SqlitePool),
    #[cfg(feature = "postgres")]
    Postgres(sqlx::PgPool),
}

/// Run `$body` with `$pool` bound to the ledger's pool, whichever backend it is.
macro_rules! on_pool {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            #[cfg(feature = "sqlite")]
            Db::Sqlite($pool) => $body,
            #[cfg(feature = "postgres")]
            Db::Postgres($pool) => $body,
        }
    };
}

/// Read a column, naming it in the error.
macro_rules! col {
    ($row:expr, $name:literal) => {
        sqlx::Row::try_get($row, $name).map_err(|e| LedgerError::Row(format!("{}: {e}", $name)))?
    };
}

/// A callback row as a [`CallbackRecord`].
macro_rules! callback_record {
    ($row:expr) => {{
        let row = $row;
        let state: String = col!(row, "state");
        let status: Option<String> = col!(row, "status");
        let amount: Option<String> = col!(row, "amount");
        let currency: Option<String> = col!(row, "currency");
        let outcome = match (col!(row, "reference"), status) {
            (Some(reference), Some(status)) => Some(Outcome {
                reference,
                status: status_from(&status)?,
                provider_status: col!(row, "provider_status"),
                amount: match (amount, currency) {
                    (Some(a), Some(c)) => Some(money_from(&a, &c)?),
                    _ => None,
                },
            }),
            _ => None,
        };
        let anomaly: Option<String> = col!(row, "anomaly");
        CallbackRecord {
            anomaly: anomaly.as_deref().and_then(Anomaly::parse),
            source: col!(row, "source"),
            provider: col!(row, "provider"),
            key: col!(row, "key"),
            done: state == "done",
            outcome,
            deliveries: col!(row, "deliveries"),
            first_received_at: col!(row, "first_received_at"),
            last_received_at: col!(row, "last_received_at"),
        }
    }};
}

/// A payment row as a [`PaymentRow`] (no secret: see `secret`).
macro_rules! payment_record {
    ($row:expr) => {{
        let row = $row;
        let status: String = col!(row, "status");
        let amount: String = col!(row, "amount");
        let currency: String = col!(row, "currency");
        let provider: String = col!(row, "provider");
        let reference: String = col!(row, "reference");
        let mut payment = paybridge_core::PaymentRecord::new(
            provider,
            reference,
            status_from(&status)?,
            money_from(&amount, &currency)?,
        );
        payment.provider_reference = col!(row, "provider_reference");
        payment.instrument = col!(row, "instrument");
        let anomaly: Option<String> = col!(row, "anomaly");
        let paid: Option<String> = col!(row, "paid_amount");
        PaymentRow {
            anomaly: anomaly.as_deref().and_then(Anomaly::parse),
            paid_amount: match paid {
                Some(p) => Some(money_from(&p, &currency)?),
                None => None,
            },
            payment,
            created_at: col!(row, "created_at"),
            updated_at: col!(row, "updated_at"),
            next_check_at: col!(row, "next_check_at"),
            checks: col!(row, "checks"),
            last_check_error: col!(row, "last_check_error"),
            refunded_amount: {
                let refunded: i64 = col!(row, "refunded_minor");
                if refunded > 0 {
                    Some(crate::from_minor_units(
                        refunded,
                        money_from(&amount, &currency)?.currency(),
                    )?)
                } else {
                    None
                }
            },
        }
    }};
}

/// A refund row as a [`crate::RefundRecord`].
macro_rules! refund_record {
    ($row:expr) => {{
        let row = $row;
        let amount: String = col!(row, "amount");
        let currency: String = col!(row, "currency");
        let status: String = col!(row, "status");
        crate::RefundRecord {
            provider: col!(row, "provider"),
            reference: col!(row, "reference"),
            refund_id: col!(row, "refund_id"),
            amount: money_from(&amount, &currency)?,
            status: match status.as_str() {
                "succeeded" => paybridge_core::RefundStatus::Succeeded,
                "failed" => paybridge_core::RefundStatus::Failed,
                _ => paybridge_core::RefundStatus::Pending,
            },
            provider_status: col!(row, "provider_status"),
            provider_refund_id: col!(row, "provider_refund_id"),
            created_at: col!(row, "created_at"),
        }
    }};
}

/// A change row as a [`Change`].
macro_rules! change_record {
    ($row:expr) => {{
        let row = $row;
        let previous: String = col!(row, "previous_status");
        let status: String = col!(row, "status");
        let anomaly: Option<String> = col!(row, "anomaly");
        let amount: Option<String> = col!(row, "amount");
        let currency: Option<String> = col!(row, "currency");
        let payment_amount: Option<String> = col!(row, "payment_amount");
        let payment_currency: Option<String> = col!(row, "payment_currency");
        let paid_amount: Option<String> = col!(row, "paid_amount");
        let refunded_amount: Option<String> = col!(row, "refunded_amount");
        let refund_id: Option<String> = col!(row, "refund_id");
        let refund_amount: Option<String> = col!(row, "refund_amount");
        let webhook_id: Option<String> = col!(row, "webhook_id");
        let id: i64 = col!(row, "id");
        let recorded = match (&payment_amount, &payment_currency) {
            (Some(a), Some(c)) => Some(money_from(a, c)?),
            _ => None,
        };
        let in_payment_currency = |text: Option<String>| -> Result<Option<paybridge_core::Money>> {
            match (text, &payment_currency) {
                (Some(a), Some(c)) => Ok(Some(money_from(&a, c)?)),
                _ => Ok(None),
            }
        };
        Change {
            id,
            webhook_id: webhook_id.unwrap_or_else(|| format!("chg_{id}")),
            provider: col!(row, "provider"),
            reference: col!(row, "reference"),
            previous_status: status_from(&previous)?,
            status: status_from(&status)?,
            anomaly: anomaly.as_deref().and_then(Anomaly::parse),
            amount: match (amount, currency) {
                (Some(a), Some(c)) => Some(money_from(&a, &c)?),
                _ => None,
            },
            recorded,
            paid_amount: in_payment_currency(paid_amount)?,
            refunded_amount: in_payment_currency(refunded_amount)?,
            refund: match (refund_id, in_payment_currency(refund_amount)?) {
                (Some(id), Some(amount)) => Some(crate::ChangeRefund {
                    id,
                    amount,
                    provider_refund_id: col!(row, "provider_refund_id"),
                }),
                _ => None,
            },
            source: col!(row, "source"),
            created_at: col!(row, "created_at"),
        }
    }};
}

/// What refunds that succeeded gave back of the payment the row `$payments` (a table name or
/// alias) names, in minor units: one definition for the decision, the refund totals and the
/// pending refunds.
macro_rules! succeeded_refunds_minor {
    ($payments:literal) => {
        concat!(
            "(SELECT CAST(COALESCE(SUM(s.amount_minor), 0) AS BIGINT) FROM refunds s WHERE s.provider = ",
            $payments,
            ".provider AND s.reference = ",
            $payments,
            ".reference AND s.status = 'succeeded')"
        )
    };
}

/// Decide and record one report inside the transaction `$tx` (see [`crate::state`]):
/// the payment row locked first, the event logged, and — when the state changes — the
/// payment updated and the change inserted with what the merchant is told (its id in the
/// world, the money as it stands after it). Evaluates to `Result<Applied>`.
macro_rules! apply_report {
    ($tx:expr, $provider:expr, $outcome:expr, $source:expr, $now:expr) => {
        apply_report!($tx, $provider, $outcome, $source, $now, None)
    };
    // A callback's report: the event names the delivery it came in.
    ($tx:expr, $provider:expr, $outcome:expr, $source:expr, $now:expr, $key:expr) => {{
        let outcome: &Outcome = $outcome;
        apply_report!(
            $tx,
            $provider,
            outcome,
            $source,
            $now,
            $key,
            None,
            |current, anomaly, recorded| decide(
                current,
                anomaly,
                recorded,
                outcome.status,
                outcome.amount
            )
        )
    }};
    // The same with another decision (a refund: `state::refunded`), and the refund a change
    // carries.
    ($tx:expr, $provider:expr, $outcome:expr, $source:expr, $now:expr, $key:expr, $refund:expr, $decide:expr) => {{
        let (provider, outcome, source, now, key, refund): (
            &str,
            &Outcome,
            Source,
            i64,
            Option<&str>,
            Option<&crate::ChangeRefund>,
        ) = ($provider, $outcome, $source, $now, $key, $refund);
        sqlx::query(LOCK_PAYMENT)
            .bind(provider)
            .bind(&outcome.reference)
            .execute(&mut *$tx)
            .await?;
        let row = sqlx::query(READ_STATE)
            .bind(provider)
            .bind(&outcome.reference)
            .fetch_optional(&mut *$tx)
            .await?;
        let event = |applied: bool, anomaly: Option<Anomaly>| {
            sqlx::query(EVENT)
                .bind(provider)
                .bind(&outcome.reference)
                .bind(outcome.status.as_str())
                .bind(&outcome.provider_status)
                .bind(source.as_str())
                .bind(i64::from(applied))
                .bind(now)
                .bind(anomaly.map(Anomaly::as_str))
                .bind(outcome.amount.map(|m| m.amount_string()))
                .bind(outcome.amount.map(|m| m.currency().code().to_owned()))
                .bind(key)
        };
        match row {
            None => {
                event(false, Some(Anomaly::UnknownPayment))
                    .execute(&mut *$tx)
                    .await?;
                Ok::<Applied, LedgerError>(Applied::UnknownPayment)
            }
            Some(row) => {
                let current: String = col!(&row, "status");
                let amount: String = col!(&row, "amount");
                let currency: String = col!(&row, "currency");
                let current_anomaly: Option<String> = col!(&row, "anomaly");
                let was_paid: Option<String> = col!(&row, "paid_amount");
                let refunded_minor: i64 = col!(&row, "refunded_minor");
                let current = status_from(&current)?;
                let recorded = money_from(&amount, &currency)?;
                let decision: crate::Decision = ($decide)(
                    current,
                    current_anomaly.as_deref().and_then(Anomaly::parse),
                    recorded,
                );
                event(decision.changed, decision.anomaly)
                    .execute(&mut *$tx)
                    .await?;
                if decision.changed {
                    let paid = outcome.amount.map(|m| m.amount_string());
                    sqlx::query(SET_STATE)
                        .bind(decision.status.as_str())
                        .bind(decision.anomaly.map(Anomaly::as_str))
                        .bind(&paid)
                        .bind(now)
                        .bind(provider)
                        .bind(&outcome.reference)
                        .execute(&mut *$tx)
                        .await?;
                    let paid_after = match (outcome.amount, was_paid) {
                        (Some(m), _) => Some(m),
                        (None, Some(p)) => Some(money_from(&p, &currency)?),
                        (None, None) => None,
                    };
                    let refunded = if refunded_minor > 0 {
                        Some(crate::from_minor_units(
                            refunded_minor,
                            recorded.currency(),
                        )?)
                    } else {
                        None
                    };
                    let webhook_id = crate::ids::webhook_id(now);
                    let id_row = sqlx::query(INSERT_CHANGE)
                        .bind(provider)
                        .bind(&outcome.reference)
                        .bind(current.as_str())
                        .bind(decision.status.as_str())
                        .bind(decision.anomaly.map(Anomaly::as_str))
                        .bind(&paid)
                        .bind(outcome.amount.map(|m| m.currency().code().to_owned()))
                        .bind(source.as_str())
                        .bind(now)
                        .bind(&webhook_id)
                        .bind(&amount)
                        .bind(&currency)
                        .bind(paid_after.map(|m| m.amount_string()))
                        .bind(refunded.map(|m| m.amount_string()))
                        .bind(refund.map(|r| r.id.as_str()))
                        .bind(refund.map(|r| r.amount.amount_string()))
                        .bind(refund.and_then(|r| r.provider_refund_id.as_deref()))
                        .fetch_one(&mut *$tx)
                        .await?;
                    let id: i64 = col!(&id_row, "id");
                    sqlx::query(QUEUE_DELIVERIES)
                        .bind(id)
                        .bind(provider)
                        .bind(&outcome.reference)
                        .bind(now)
                        .execute(&mut *$tx)
                        .await?;
                    Ok(Applied::Changed(Change {
                        id,
                        webhook_id,
                        provider: provider.to_owned(),
                        reference: outcome.reference.clone(),
                        previous_status: current,
                        status: decision.status,
                        anomaly: decision.anomaly,
                        amount: outcome.amount,
                        recorded: Some(recorded),
                        paid_amount: paid_after,
                        refunded_amount: refunded,
                        refund: refund.cloned(),
                        source: source.as_str().to_owned(),
                        created_at: now,
                    }))
                } else {
                    Ok(Applied::Unchanged)
                }
            }
        }
    }};
}

const CALLBACK_COLUMNS: &str = "provider, key, state, lease_token, lease_until, reference, status, provider_status, amount, currency, deliveries, first_received_at, last_received_at, anomaly, source";

/// One atomic statement decides a claim: a new key is inserted claimed; an existing one
/// counts the delivery and takes the lease over only if it is claimed and its lease ended.
const CLAIM: &str = "INSERT INTO callbacks (provider, key, state, lease_token, lease_until, deliveries, first_received_at, last_received_at) \
     VALUES ($1, $2, 'claimed', $3, $4, 1, $5, $5) \
     ON CONFLICT (provider, key) DO UPDATE SET \
       deliveries = callbacks.deliveries + 1, \
       last_received_at = excluded.last_received_at, \
       lease_token = CASE WHEN callbacks.state = 'claimed' AND callbacks.lease_until <= excluded.last_received_at THEN excluded.lease_token ELSE callbacks.lease_token END, \
       lease_until = CASE WHEN callbacks.state = 'claimed' AND callbacks.lease_until <= excluded.last_received_at THEN excluded.lease_until ELSE callbacks.lease_until END \
     RETURNING provider, key, state, lease_token, lease_until, reference, status, provider_status, amount, currency, deliveries, first_received_at, last_received_at, anomaly, source";

const COMPLETE: &str = "UPDATE callbacks SET state = 'done', reference = $1, status = $2, provider_status = $3, amount = $4, currency = $5, completed_at = $6, lease_token = NULL \
     WHERE provider = $7 AND key = $8 AND state = 'claimed' AND lease_token = $9";

const RELEASE: &str = "UPDATE callbacks SET lease_until = 0, lease_token = NULL \
     WHERE provider = $1 AND key = $2 AND state = 'claimed' AND lease_token = $3";

const EVENT: &str = "INSERT INTO payment_events (provider, reference, status, provider_status, source, applied, at, anomaly, amount, currency, callback_key) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";

/// The first statement of every report's transaction: it takes the payment row's write lock
/// (PostgreSQL: the row; SQLite: the database) before the state is read, so two reports of
/// one payment are decided one after the other, never both on the same old state.
const LOCK_PAYMENT: &str =
    "UPDATE payments SET updated_at = updated_at WHERE provider = $1 AND reference = $2";

/// The state a report is decided on, and the money the change will carry: refunded is what
/// refunds that succeeded gave back (a refund's own row is already updated when its change is
/// decided).
const READ_STATE: &str = concat!(
    "SELECT status, amount, currency, anomaly, paid_amount, ",
    succeeded_refunds_minor!("payments"),
    " AS refunded_minor FROM payments WHERE provider = $1 AND reference = $2"
);

/// A payment that leaves `pending` has nothing more to reconcile: its next check goes.
const SET_STATE: &str = "UPDATE payments SET status = $1, anomaly = $2, paid_amount = COALESCE($3, paid_amount), updated_at = $4, \
       next_check_at = CASE WHEN $1 = 'pending' THEN next_check_at ELSE NULL END \
     WHERE provider = $5 AND reference = $6";

/// A change, with what the merchant is told of it; its deliveries follow in the same
/// transaction ([`QUEUE_DELIVERIES`]).
const INSERT_CHANGE: &str = "INSERT INTO changes (provider, reference, previous_status, status, anomaly, amount, currency, source, state, fence, lease_until, created_at, \
       webhook_id, payment_amount, payment_currency, paid_amount, refunded_amount, refund_id, refund_amount, provider_refund_id) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', 0, 0, $9, \
       $10, $11, $12, $13, $14, $15, $16, $17) RETURNING id";

/// The change's deliveries, one per registered forward target, in the same transaction (the
/// outbox): every target gets every change.
const QUEUE_DELIVERIES: &str = "INSERT INTO deliveries (change_id, target, payment_provider, payment_reference, delivery_state, next_at) \
     SELECT $1, url, $2, $3, 'pending', $4 FROM forward_targets";

const CHANGE_COLUMNS: &str = "id, webhook_id, provider, reference, previous_status, status, anomaly, amount, currency, source, created_at, \
     payment_amount, payment_currency, paid_amount, refunded_amount, refund_id, refund_amount, provider_refund_id";

/// A delivery of a callback: counted, and recorded with what it said the first time.
const DELIVERY: &str = "INSERT INTO callbacks (provider, key, state, lease_token, lease_until, deliveries, first_received_at, last_received_at, reference, status, provider_status, amount, currency, completed_at, source) \
     VALUES ($1, $2, 'done', NULL, 0, 1, $3, $3, $4, $5, $6, $7, $8, $3, $9) \
     ON CONFLICT (provider, key) DO UPDATE SET deliveries = callbacks.deliveries + 1, last_received_at = excluded.last_received_at \
     RETURNING deliveries";

const SET_DELIVERY_ANOMALY: &str =
    "UPDATE callbacks SET anomaly = $1 WHERE provider = $2 AND key = $3";

/// A change is claimed when it waits, or when its holder's lease ended; every claim raises
/// its fence, and only the holder of the current fence can renew, complete or release it.
const CLAIM_CHANGE: &str = "UPDATE changes SET state = 'handling', fence = fence + 1, lease_until = $1 \
     WHERE id = $2 AND (state = 'pending' OR (state = 'handling' AND lease_until <= $3)) RETURNING fence";

const RENEW_CHANGE: &str =
    "UPDATE changes SET lease_until = $1 WHERE id = $2 AND fence = $3 AND state = 'handling'";

const DONE_CHANGE: &str = "UPDATE changes SET state = 'done', completed_at = $1 \
     WHERE id = $2 AND fence = $3 AND state = 'handling'";

const RELEASE_CHANGE: &str = "UPDATE changes SET state = 'pending', lease_until = 0 \
     WHERE id = $1 AND fence = $2 AND state = 'handling'";

const INSERT_PAYMENT: &str = "INSERT INTO payments (provider, reference, provider_reference, status, amount, currency, sealed, created_at, updated_at, instrument, next_check_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10) ON CONFLICT (provider, reference) DO NOTHING";

const SET_PROVIDER_REFERENCE: &str = "UPDATE payments SET provider_reference = $1, updated_at = $2 \
     WHERE provider = $3 AND reference = $4 AND provider_reference IS NULL";

const FOLLOW_UPDATE: &str = "UPDATE payments SET reference = $1, amount = $2, updated_at = $3 \
     WHERE provider = $4 AND reference = $5 AND currency = $6 AND status = 'pending' \
     AND provider_reference IS NULL AND sealed IS NULL \
     AND NOT EXISTS (SELECT 1 FROM payment_events e WHERE e.provider = $4 AND e.reference = $5 AND e.source <> $7) \
     AND NOT EXISTS (SELECT 1 FROM callbacks c WHERE c.provider = $4 AND c.reference = $5)";

const PAYMENT_COLUMNS: &str = "provider, reference, provider_reference, status, amount, currency, created_at, updated_at, instrument, anomaly, paid_amount, next_check_at, checks, last_check_error, refunded_minor";

const REFUND_COLUMNS: &str = "provider, reference, refund_id, amount, currency, status, provider_status, provider_refund_id, created_at";

/// Reserve a refund's amount against what was paid: refused (no row) when it would give back
/// more. The first refund fixes what can be refunded at all (`$1`, the paid amount).
const RESERVE_REFUND: &str = "UPDATE payments SET refundable_minor = COALESCE(refundable_minor, $1), refunded_minor = refunded_minor + $2 \
     WHERE provider = $3 AND reference = $4 AND refunded_minor + $2 <= COALESCE(refundable_minor, $1)";

const RELEASE_REFUND: &str = "UPDATE payments SET refunded_minor = refunded_minor - $1 WHERE provider = $2 AND reference = $3";

const INSERT_REFUND: &str = "INSERT INTO refunds (provider, reference, refund_id, amount, currency, amount_minor, status, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $7)";

/// What can be refunded of a payment, and how much of it went back already.
const REFUND_TOTALS: &str = concat!(
    "SELECT refundable_minor, ",
    succeeded_refunds_minor!("payments"),
    " AS succeeded_minor FROM payments WHERE provider = $1 AND reference = $2"
);

const SET_REFUND: &str = "UPDATE refunds SET status = $1, provider_status = $2, provider_refund_id = COALESCE($3, provider_refund_id), updated_at = $4 \
     WHERE provider = $5 AND reference = $6 AND refund_id = $7";

/// A pending payment is due for a check now (an outcome-unknown request, `reconcile --all`).
const DUE_NOW: &str = "UPDATE payments SET next_check_at = $1 \
     WHERE provider = $2 AND reference = $3 AND next_check_at IS NOT NULL AND next_check_at > $1";

const ALL_DUE_NOW: &str =
    "UPDATE payments SET next_check_at = $1 WHERE next_check_at IS NOT NULL AND next_check_at > $1";

/// Take up to `$4` payments of a provider whose check is due (`next_check_at <= $3`): each
/// taken row's next check moves to the claim's end (`$1`), so no other reconciler takes it
/// meanwhile and, should this one die, it is due again then. PostgreSQL skips rows another
/// transaction holds (`FOR UPDATE SKIP LOCKED`); SQLite has one writer at a time.
const CLAIM_DUE: &str = "UPDATE payments SET next_check_at = $1 WHERE (provider, reference) IN ( \
       SELECT provider, reference FROM payments WHERE provider = $2 AND next_check_at <= $3 \
       ORDER BY next_check_at LIMIT $4 {lock}) \
     RETURNING {columns}";

/// The check's claim still holds (no other reconciler took the payment over since): count it.
const CHECKED: &str = "UPDATE payments SET checks = checks + 1, last_check_error = $1 \
     WHERE provider = $2 AND reference = $3 AND next_check_at = $4";

const NEXT_CHECK: &str = "UPDATE payments SET next_check_at = $1 \
     WHERE provider = $2 AND reference = $3 AND status = 'pending'";

/// What a claim statement returned.
pub(crate) struct Claimed {
    pub done: bool,
    pub lease_token: Option<String>,
    pub lease_until: i64,
    pub record: CallbackRecord,
}

impl Db {
    /// What a claiming `SELECT` ends with: on PostgreSQL, rows another process holds are
    /// skipped (several processes share the work); SQLite has one writer and no row locks.
    fn skip_locked(&self) -> &'static str {
        match self {
            #[cfg(feature = "postgres")]
            Db::Postgres(_) => "FOR UPDATE SKIP LOCKED",
            #[allow(unreachable_patterns, reason = "only PostgreSQL has row locks")]
            _ => "",
        }
    }

    /// Open the ledger at `url`: with `create`, a missing SQLite file is created and the
    /// schema migrated; without it (a reading command) nothing is created or changed — a
    /// missing file is [`LedgerError::Missing`], a schema older than this build
    /// [`LedgerError::Outdated`]. A database that cannot be reached within `timeout` is
    /// [`LedgerError::Unreachable`], naming its host (never its password).
    pub(crate) async fn open(url: &str, create: bool, timeout: Duration) -> Result<Self> {
        // Migrating a large ledger may take longer than any connection deadline: a writer's
        // open is bounded by the pool's connection deadline only; a reading one, which migrates
        // nothing, as a whole.
        if create {
            return Self::open_unbounded(url, create, timeout).await;
        }
        match tokio::time::timeout(timeout, Self::open_unbounded(url, create, timeout)).await {
            Ok(opened) => opened,
            Err(_) => Err(LedgerError::Unreachable {
                host: crate::connection::host(url),
                message: format!("no answer within {timeout:?}"),
            }),
        }
    }

    async fn open_unbounded(url: &str, create: bool, timeout: Duration) -> Result<Self> {
        #[cfg(feature = "sqlite")]
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            use std::str::FromStr as _;
            let file = path.split('?').next().unwrap_or(path);
            if !create && file != ":memory:" && !std::path::Path::new(file).exists() {
                return Err(LedgerError::Missing(file.to_owned()));
            }
            let options =
                sqlx::sqlite::SqliteConnectOptions::from_str(&format!("sqlite://{path}"))?
                    .create_if_missing(create)
                    .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                    // Every commit reaches the disk: an acknowledged callback stays recorded.
                    .synchronous(sqlx::sqlite::SqliteSynchronous::Full)
                    .busy_timeout(Duration::from_secs(5));
            let migrator = sqlx::migrate!("./migrations/sqlite");
            // Two processes opening a new file at once: switching it to WAL and migrating
            // take the write lock, which the busy timeout does not cover; the loser waits.
            let mut tries = 0;
            loop {
                let opened = async {
                    let pool = sqlx::sqlite::SqlitePoolOptions::new()
                        .max_connections(8)
                        .connect_with(options.clone())
                        .await?;
                    crate::connection::migrate_or_check(&migrator, &pool, create).await?;
                    Ok::<_, LedgerError>(pool)
                }
                .await;
                match opened {
                    Ok(pool) => return Ok(Self::Sqlite(pool)),
                    Err(e) if tries < 50 && e.to_string().contains("locked") => {
                        tries += 1;
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        #[cfg(feature = "postgres")]
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(timeout)
                .connect(url)
                .await
                .map_err(|e| crate::connection::unreachable(url, &e))?;
            let migrator = sqlx::migrate!("./migrations/postgres");
            crate::connection::migrate_or_check(&migrator, &pool, create).await?;
            return Ok(Self::Postgres(pool));
        }
        let _ = (create, timeout);
        Err(LedgerError::Url(paybridge_core::http::redacted_url(url)))
    }

    pub(crate) async fn claim(
        &self,
        provider: &str,
        key: &str,
        token: &str,
        until: i64,
        now: i64,
    ) -> Result<Claimed> {
        on_pool!(self, pool => {
            let row = sqlx::query(CLAIM)
                .bind(provider)
                .bind(key)
                .bind(token)
                .bind(until)
                .bind(now)
                .fetch_one(pool)
                .await?;
            let state: String = col!(&row, "state");
            Ok(Claimed {
                done: state == "done",
                lease_token: col!(&row, "lease_token"),
                lease_until: col!(&row, "lease_until"),
                record: callback_record!(&row),
            })
        })
    }

    pub(crate) async fn complete(
        &self,
        lease: &Lease,
        outcome: &Outcome,
        now: i64,
    ) -> Result<Option<Applied>> {
        let amount = outcome.amount.map(|m| m.amount_string());
        let currency = outcome.amount.map(|m| m.currency().code().to_owned());
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let done = sqlx::query(COMPLETE)
                .bind(&outcome.reference)
                .bind(outcome.status.as_str())
                .bind(&outcome.provider_status)
                .bind(amount)
                .bind(currency)
                .bind(now)
                .bind(&lease.provider)
                .bind(&lease.key)
                .bind(&lease.token)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1;
            if !done {
                return Ok(None);
            }
            let applied = apply_report!(tx, &lease.provider, outcome, Source::Callback, now, Some(lease.key.as_str()))?;
            tx.commit().await?;
            Ok(Some(applied))
        })
    }

    pub(crate) async fn release(&self, lease: &Lease) -> Result<()> {
        on_pool!(self, pool => {
            sqlx::query(RELEASE)
                .bind(&lease.provider)
                .bind(&lease.key)
                .bind(&lease.token)
                .execute(pool)
                .await?;
            Ok(())
        })
    }

    pub(crate) async fn callback(
        &self,
        provider: &str,
        key: &str,
    ) -> Result<Option<CallbackRecord>> {
        let sql =
            format!("SELECT {CALLBACK_COLUMNS} FROM callbacks WHERE provider = $1 AND key = $2");
        on_pool!(self, pool => {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(provider)
                .bind(key)
                .fetch_optional(pool)
                .await?;
            match row {
                Some(row) => Ok(Some(callback_record!(&row))),
                None => Ok(None),
            }
        })
    }

    pub(crate) async fn callbacks(
        &self,
        provider: Option<&str>,
        reference: Option<&str>,
    ) -> Result<Vec<CallbackRecord>> {
        let sql = format!(
            "SELECT {CALLBACK_COLUMNS} FROM callbacks WHERE ($1 IS NULL OR provider = $1) AND ($2 IS NULL OR reference = $2) ORDER BY last_received_at DESC, key"
        );
        on_pool!(self, pool => {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(provider)
                .bind(reference)
                .fetch_all(pool)
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in &rows {
                out.push(callback_record!(row));
            }
            Ok(out)
        })
    }

    pub(crate) async fn record_payment(
        &self,
        p: &NewPayment,
        sealed: Option<Vec<u8>>,
        now: i64,
        first_check: Option<i64>,
    ) -> Result<bool> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let new = sqlx::query(INSERT_PAYMENT)
                .bind(&p.provider)
                .bind(&p.reference)
                .bind(&p.provider_reference)
                .bind(p.status.as_str())
                .bind(p.amount.amount_string())
                .bind(p.amount.currency().code())
                .bind(sealed)
                .bind(now)
                .bind(&p.instrument)
                .bind(first_check)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1;
            if new {
                sqlx::query(EVENT)
                    .bind(&p.provider)
                    .bind(&p.reference)
                    .bind(p.status.as_str())
                    .bind(p.status.as_str())
                    .bind(Source::Created.as_str())
                    .bind(1_i64)
                    .bind(now)
                    .bind(None::<&str>)
                    .bind(p.amount.amount_string())
                    .bind(p.amount.currency().code())
                    .bind(None::<&str>)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(new)
        })
    }

    pub(crate) async fn set_provider_reference(
        &self,
        provider: &str,
        reference: &str,
        provider_reference: &str,
        now: i64,
    ) -> Result<()> {
        on_pool!(self, pool => {
            sqlx::query(SET_PROVIDER_REFERENCE)
                .bind(provider_reference)
                .bind(now)
                .bind(provider)
                .bind(reference)
                .execute(pool)
                .await?;
            Ok(())
        })
    }

    pub(crate) async fn report(
        &self,
        provider: &str,
        outcome: &Outcome,
        source: Source,
        now: i64,
    ) -> Result<Applied> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let applied = apply_report!(tx, provider, outcome, source, now)?;
            tx.commit().await?;
            Ok(applied)
        })
    }

    /// Count a delivery of callback `key` and, the first time, decide its report — in one
    /// transaction.
    pub(crate) async fn deliver(
        &self,
        provider: &str,
        key: &str,
        outcome: &Outcome,
        now: i64,
    ) -> Result<Delivered> {
        let amount = outcome.amount.map(|m| m.amount_string());
        let currency = outcome.amount.map(|m| m.currency().code().to_owned());
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let row = sqlx::query(DELIVERY)
                .bind(provider)
                .bind(key)
                .bind(now)
                .bind(&outcome.reference)
                .bind(outcome.status.as_str())
                .bind(&outcome.provider_status)
                .bind(amount)
                .bind(currency)
                .bind(Source::Callback.as_str())
                .fetch_one(&mut *tx)
                .await?;
            let deliveries: i64 = col!(&row, "deliveries");
            let applied = if deliveries == 1 {
                let applied = apply_report!(tx, provider, outcome, Source::Callback, now, Some(key))?;
                let anomaly = match &applied {
                    Applied::UnknownPayment => Some(Anomaly::UnknownPayment),
                    Applied::Changed(change) => change.anomaly,
                    Applied::Unchanged => None,
                };
                if let Some(anomaly) = anomaly {
                    sqlx::query(SET_DELIVERY_ANOMALY)
                        .bind(anomaly.as_str())
                        .bind(provider)
                        .bind(key)
                        .execute(&mut *tx)
                        .await?;
                }
                applied
            } else {
                Applied::Unchanged
            };
            tx.commit().await?;
            Ok(Delivered { deliveries, applied })
        })
    }

    pub(crate) async fn count_delivery(&self, provider: &str, key: &str, now: i64) -> Result<bool> {
        on_pool!(self, pool => {
            Ok(sqlx::query("UPDATE callbacks SET deliveries = deliveries + 1, last_received_at = $1 WHERE provider = $2 AND key = $3")
                .bind(now)
                .bind(provider)
                .bind(key)
                .execute(pool)
                .await?
                .rows_affected()
                == 1)
        })
    }

    /// A payment's changes, oldest first: only those not yet handed out (`open_only`), or
    /// every one.
    pub(crate) async fn changes(
        &self,
        provider: &str,
        reference: &str,
        open_only: bool,
    ) -> Result<Vec<Change>> {
        let open = if open_only { "AND state <> 'done'" } else { "" };
        let sql = format!(
            "SELECT {CHANGE_COLUMNS} FROM changes WHERE provider = $1 AND reference = $2 {open} ORDER BY id"
        );
        on_pool!(self, pool => {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(provider)
                .bind(reference)
                .fetch_all(pool)
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in &rows {
                out.push(change_record!(row));
            }
            Ok(out)
        })
    }

    /// Changes numbered after `after`, in number order, at most `limit`.
    pub(crate) async fn changes_after(&self, after: i64, limit: i64) -> Result<Vec<Change>> {
        let sql =
            format!("SELECT {CHANGE_COLUMNS} FROM changes WHERE id > $1 ORDER BY id LIMIT $2");
        on_pool!(self, pool => {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(after)
                .bind(limit)
                .fetch_all(pool)
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in &rows {
                out.push(change_record!(row));
            }
            Ok(out)
        })
    }

    /// The highest change number so far (0 for none).
    pub(crate) async fn last_change_id(&self) -> Result<i64> {
        on_pool!(self, pool => {
            let row = sqlx::query("SELECT COALESCE(MAX(id), 0) AS last FROM changes")
                .fetch_one(pool)
                .await?;
            Ok(col!(&row, "last"))
        })
    }

    /// Claim change `id` until `until`: its new fence, or `None` when another holder's lease
    /// is running or it is done.
    pub(crate) async fn claim_change(&self, id: i64, until: i64, now: i64) -> Result<Option<i64>> {
        on_pool!(self, pool => {
            let row = sqlx::query(CLAIM_CHANGE)
                .bind(until)
                .bind(id)
                .bind(now)
                .fetch_optional(pool)
                .await?;
            match row {
                Some(row) => Ok(Some(col!(&row, "fence"))),
                None => Ok(None),
            }
        })
    }

    /// Run a fenced statement on change `id` (renew, done, release); whether it held.
    pub(crate) async fn fenced(
        &self,
        sql: FencedChange,
        id: i64,
        fence: i64,
        at: i64,
    ) -> Result<bool> {
        on_pool!(self, pool => {
            let query = match sql {
                FencedChange::Renew => sqlx::query(RENEW_CHANGE).bind(at).bind(id).bind(fence),
                FencedChange::Done => sqlx::query(DONE_CHANGE).bind(at).bind(id).bind(fence),
                FencedChange::Release => sqlx::query(RELEASE_CHANGE).bind(id).bind(fence),
            };
            Ok(query.execute(pool).await?.rows_affected() == 1)
        })
    }

    /// Complete change `id` under `fence` and run `work` in the same transaction: both
    /// commit, or neither. `Ok(false)` when the fence no longer holds (nothing ran).
    pub(crate) async fn done_with(
        &self,
        id: i64,
        fence: i64,
        now: i64,
        work: &(dyn crate::InTransaction + '_),
        change: &Change,
    ) -> Result<std::result::Result<bool, crate::HandlerError>> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let held = sqlx::query(DONE_CHANGE)
                .bind(now)
                .bind(id)
                .bind(fence)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1;
            if !held {
                return Ok(Ok(false));
            }
            if let Err(e) = work.run(crate::LedgerTx::from(&mut *tx), change).await {
                tx.rollback().await?;
                return Ok(Err(e));
            }
            tx.commit().await?;
            Ok(Ok(true))
        })
    }

    pub(crate) async fn payment(
        &self,
        provider: &str,
        reference: &str,
    ) -> Result<Option<PaymentRow>> {
        self.one_payment("provider = $1 AND reference = $2", provider, reference)
            .await
    }

    /// The payment row `condition` (over `$1` and `$2`) selects first, if any.
    async fn one_payment(
        &self,
        condition: &'static str,
        first: &str,
        second: &str,
    ) -> Result<Option<PaymentRow>> {
        let sql = format!("SELECT {PAYMENT_COLUMNS} FROM payments WHERE {condition}");
        on_pool!(self, pool => {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(first)
                .bind(second)
                .fetch_optional(pool)
                .await?;
            match row {
                Some(row) => Ok(Some(payment_record!(&row))),
                None => Ok(None),
            }
        })
    }

    pub(crate) async fn set_instrument(
        &self,
        provider: &str,
        reference: &str,
        instrument: &str,
        now: i64,
    ) -> Result<bool> {
        on_pool!(self, pool => {
            Ok(sqlx::query("UPDATE payments SET instrument = $1, updated_at = $2 WHERE provider = $3 AND reference = $4 AND instrument IS NULL")
                .bind(instrument)
                .bind(now)
                .bind(provider)
                .bind(reference)
                .execute(pool)
                .await?
                .rows_affected()
                == 1)
        })
    }

    pub(crate) async fn payment_by_instrument(
        &self,
        provider: &str,
        prefix: &str,
    ) -> Result<Option<PaymentRow>> {
        // A prefix compared as text (no LIKE: nothing in it is a pattern).
        self.one_payment(
            "provider = $1 AND substr(instrument, 1, length($2)) = $2 ORDER BY created_at DESC LIMIT 1",
            provider,
            prefix,
        )
        .await
    }

    /// Rename and re-amount a payment nothing was reported for yet (pending, no provider
    /// reference, no sealed secret, no event but its creation): `false` when it is not such
    /// a payment. Its creation event follows the new reference.
    pub(crate) async fn follow_update(
        &self,
        provider: &str,
        reference: &str,
        new_reference: &str,
        amount: &paybridge_core::Money,
        now: i64,
    ) -> Result<bool> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let moved = sqlx::query(FOLLOW_UPDATE)
                .bind(new_reference)
                .bind(amount.amount_string())
                .bind(now)
                .bind(provider)
                .bind(reference)
                .bind(amount.currency().code())
                .bind(Source::Created.as_str())
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1;
            if moved && new_reference != reference {
                sqlx::query("UPDATE payment_events SET reference = $1 WHERE provider = $2 AND reference = $3")
                    .bind(new_reference)
                    .bind(provider)
                    .bind(reference)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(moved)
        })
    }

    pub(crate) async fn payments(&self, provider: Option<&str>) -> Result<Vec<PaymentRow>> {
        let sql = format!(
            "SELECT {PAYMENT_COLUMNS} FROM payments WHERE ($1 IS NULL OR provider = $1) ORDER BY created_at DESC, reference"
        );
        on_pool!(self, pool => {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(provider).fetch_all(pool).await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in &rows {
                out.push(payment_record!(row));
            }
            Ok(out)
        })
    }

    pub(crate) async fn payments_page(
        &self,
        provider: Option<&str>,
        status: Option<paybridge_core::PaymentStatus>,
        limit: i64,
        after: Option<&crate::Cursor>,
    ) -> Result<Vec<PaymentRow>> {
        // Only the filters given, each a plain equality, and the cursor as a row-value range:
        // every combination is one range scan of an index (`payments_listing`,
        // `payments_by_status`, `payments_by_provider`), never `$n IS NULL OR …`, which a
        // prepared statement's generic plan cannot use an index for.
        let mut filters = Vec::new();
        let mut n = 1;
        for (given, column) in [
            (provider.is_some(), "provider"),
            (status.is_some(), "status"),
        ] {
            if given {
                filters.push(format!("{column} = ${n}"));
                n += 1;
            }
        }
        let limit_at = n;
        // The cursor's columns in the order of the index the filters pick: with only a
        // provider, `payments_by_provider` (the provider is fixed, so (created_at, reference)
        // orders the rows alike); otherwise (created_at, provider, reference).
        let by_provider = provider.is_some() && status.is_none();
        if after.is_some() {
            filters.push(if by_provider {
                format!("(created_at, reference) < (${}, ${})", n + 1, n + 2)
            } else {
                format!(
                    "(created_at, provider, reference) < (${}, ${}, ${})",
                    n + 1,
                    n + 2,
                    n + 3
                )
            });
        }
        let filters = if filters.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", filters.join(" AND "))
        };
        let sql = format!(
            "SELECT {PAYMENT_COLUMNS} FROM payments {filters} ORDER BY created_at DESC, provider DESC, reference DESC LIMIT ${limit_at}"
        );
        let status = status.map(paybridge_core::PaymentStatus::as_str);
        on_pool!(self, pool => {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            if let Some(p) = provider {
                query = query.bind(p);
            }
            if let Some(s) = status {
                query = query.bind(s);
            }
            query = query.bind(limit);
            if let Some(c) = after {
                query = query.bind(c.created_at);
                if !by_provider {
                    query = query.bind(c.provider.clone());
                }
                query = query.bind(c.reference.clone());
            }
            let rows = query.fetch_all(pool).await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in &rows {
                out.push(payment_record!(row));
            }
            Ok(out)
        })
    }

    pub(crate) async fn events(
        &self,
        provider: &str,
        reference: &str,
    ) -> Result<Vec<PaymentEvent>> {
        // Each report with the deliveries of the callback it came in (none for a check).
        const SQL: &str = "SELECT e.provider, e.reference, e.status, e.provider_status, e.source, e.applied, e.at, e.anomaly, \
               e.amount, e.currency, c.deliveries \
             FROM payment_events e LEFT JOIN callbacks c ON c.provider = e.provider AND c.key = e.callback_key \
             WHERE e.provider = $1 AND e.reference = $2 ORDER BY e.seq";
        on_pool!(self, pool => {
            let rows = sqlx::query(SQL).bind(provider).bind(reference).fetch_all(pool).await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in &rows {
                let status: String = col!(row, "status");
                let applied: i64 = col!(row, "applied");
                let anomaly: Option<String> = col!(row, "anomaly");
                let amount: Option<String> = col!(row, "amount");
                let currency: Option<String> = col!(row, "currency");
                out.push(PaymentEvent {
                    anomaly: anomaly.as_deref().and_then(Anomaly::parse),
                    provider: col!(row, "provider"),
                    reference: col!(row, "reference"),
                    status: status_from(&status)?,
                    provider_status: col!(row, "provider_status"),
                    source: col!(row, "source"),
                    applied: applied != 0,
                    at: col!(row, "at"),
                    amount: match (amount, currency) {
                        (Some(a), Some(c)) => Some(money_from(&a, &c)?),
                        _ => None,
                    },
                    deliveries: col!(row, "deliveries"),
                });
            }
            Ok(out)
        })
    }

    /// Every forward attempt of a payment's changes, oldest first.
    pub(crate) async fn attempts(
        &self,
        provider: &str,
        reference: &str,
    ) -> Result<Vec<crate::timeline::Attempt>> {
        const SQL: &str = "SELECT a.change_id, a.target, c.webhook_id, a.attempt, a.at, a.http_status, a.error \
             FROM delivery_attempts a JOIN changes c ON c.id = a.change_id \
             WHERE c.provider = $1 AND c.reference = $2 ORDER BY a.at, a.change_id";
        on_pool!(self, pool => {
            let rows = sqlx::query(SQL).bind(provider).bind(reference).fetch_all(pool).await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in &rows {
                let id: i64 = col!(row, "change_id");
                let webhook_id: Option<String> = col!(row, "webhook_id");
                out.push(crate::timeline::Attempt {
                    webhook_id: webhook_id.unwrap_or_else(|| format!("chg_{id}")),
                    target: col!(row, "target"),
                    attempt: col!(row, "attempt"),
                    at: col!(row, "at"),
                    http_status: col!(row, "http_status"),
                    error: col!(row, "error"),
                });
            }
            Ok(out)
        })
    }

    pub(crate) async fn sealed(&self, provider: &str, reference: &str) -> Result<Option<Vec<u8>>> {
        const SQL: &str = "SELECT sealed FROM payments WHERE provider = $1 AND reference = $2";
        on_pool!(self, pool => {
            let row = sqlx::query(SQL).bind(provider).bind(reference).fetch_optional(pool).await?;
            match row {
                Some(row) => Ok(col!(&row, "sealed")),
                None => Ok(None),
            }
        })
    }

    pub(crate) async fn execute(&self, sql: &str) -> Result<()> {
        let sql = sql.to_owned();
        on_pool!(self, pool => {
            sqlx::query(sqlx::AssertSqlSafe(sql)).execute(pool).await?;
            Ok(())
        })
    }

    pub(crate) async fn count(&self, sql: &str) -> Result<i64> {
        let sql = sql.to_owned();
        on_pool!(self, pool => {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_one(pool).await?;
            Ok(col!(&row, "n"))
        })
    }

    pub(crate) async fn callback_providers(&self) -> Result<Vec<String>> {
        const SQL: &str = "SELECT DISTINCT provider FROM callbacks";
        on_pool!(self, pool => {
            let rows = sqlx::query(SQL).fetch_all(pool).await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in &rows {
                out.push(col!(row, "provider"));
            }
            Ok(out)
        })
    }

    pub(crate) async fn purge(&self, provider: &str, before: i64) -> Result<u64> {
        const SQL: &str = "DELETE FROM callbacks WHERE provider = $1 AND state = 'done' AND last_received_at < $2";
        on_pool!(self, pool => {
            Ok(sqlx::query(SQL).bind(provider).bind(before).execute(pool).await?.rows_affected())
        })
    }

    /// Make a pending payment's check due at `now`.
    pub(crate) async fn due_now(&self, provider: &str, reference: &str, now: i64) -> Result<bool> {
        on_pool!(self, pool => {
            Ok(sqlx::query(DUE_NOW).bind(now).bind(provider).bind(reference).execute(pool).await?.rows_affected() == 1)
        })
    }

    /// Make every pending payment's check due at `now`.
    pub(crate) async fn all_due_now(&self, now: i64) -> Result<u64> {
        on_pool!(self, pool => {
            Ok(sqlx::query(ALL_DUE_NOW).bind(now).execute(pool).await?.rows_affected())
        })
    }

    /// Claim up to `limit` payments of `provider` due by `due`, until `until` (see
    /// [`CLAIM_DUE`]).
    pub(crate) async fn claim_due(
        &self,
        provider: &str,
        due: i64,
        until: i64,
        limit: i64,
    ) -> Result<Vec<PaymentRow>> {
        let lock = self.skip_locked();
        let sql = CLAIM_DUE
            .replace("{lock}", lock)
            .replace("{columns}", PAYMENT_COLUMNS);
        on_pool!(self, pool => {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(until)
                .bind(provider)
                .bind(due)
                .bind(limit)
                .fetch_all(pool)
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in &rows {
                out.push(payment_record!(row));
            }
            Ok(out)
        })
    }

    /// Record a check of a payment claimed until `claimed_until`, in one transaction: count
    /// it (unless another reconciler took the payment over: `None`), decide the provider's
    /// answer like any report (source `status_check`), and — if the payment is still pending —
    /// schedule its next check or give up on it (`needs_review`, `unreconciled`).
    pub(crate) async fn finish_check(
        &self,
        provider: &str,
        reference: &str,
        claimed_until: i64,
        result: CheckResult<'_>,
        now: i64,
    ) -> Result<Option<Applied>> {
        let CheckResult {
            answer,
            provider_reference,
            error,
            after,
        } = result;
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let held = sqlx::query(CHECKED)
                .bind(error)
                .bind(provider)
                .bind(reference)
                .bind(claimed_until)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1;
            if !held {
                return Ok(None);
            }
            if let Some(found) = provider_reference {
                sqlx::query(SET_PROVIDER_REFERENCE)
                    .bind(found)
                    .bind(now)
                    .bind(provider)
                    .bind(reference)
                    .execute(&mut *tx)
                    .await?;
            }
            let mut applied = match answer {
                Some(outcome) => apply_report!(tx, provider, outcome, Source::StatusCheck, now)?,
                None => Applied::Unchanged,
            };
            if applied == Applied::Unchanged {
                match after {
                    AfterCheck::Next(at) => {
                        sqlx::query(NEXT_CHECK)
                            .bind(at)
                            .bind(provider)
                            .bind(reference)
                            .execute(&mut *tx)
                            .await?;
                    }
                    AfterCheck::GiveUp => {
                        let gave_up = Outcome::new(
                            reference,
                            paybridge_core::PaymentStatus::NeedsReview,
                            crate::state::Anomaly::Unreconciled.as_str(),
                        );
                        applied = apply_report!(
                            tx,
                            provider,
                            &gave_up,
                            Source::StatusCheck,
                            now,
                            None,
                            None,
                            |current, _, _| crate::state::give_up(current)
                        )?;
                    }
                }
            }
            tx.commit().await?;
            Ok(Some(applied))
        })
    }

    /// Changes still open that were recorded before `before` and are not held under a running
    /// lease at `now`, oldest first.
    pub(crate) async fn stranded_changes(
        &self,
        before: i64,
        now: i64,
        limit: i64,
    ) -> Result<Vec<Change>> {
        let sql = format!(
            "SELECT {CHANGE_COLUMNS} FROM changes WHERE state <> 'done' AND created_at < $1 AND lease_until <= $2 ORDER BY created_at LIMIT $3"
        );
        on_pool!(self, pool => {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(before)
                .bind(now)
                .bind(limit)
                .fetch_all(pool)
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in &rows {
                out.push(change_record!(row));
            }
            Ok(out)
        })
    }

    pub(crate) async fn start_refund(
        &self,
        provider: &str,
        reference: &str,
        refund_id: &str,
        amount: Option<paybridge_core::Money>,
        now: i64,
    ) -> Result<crate::RefundStart> {
        let refund_sql = format!(
            "SELECT {REFUND_COLUMNS} FROM refunds WHERE provider = $1 AND reference = $2 AND refund_id = $3"
        );
        let payment_sql = format!(
            "SELECT {PAYMENT_COLUMNS}, refundable_minor FROM payments WHERE provider = $1 AND reference = $2"
        );
        let refused = |why: String| Err(LedgerError::Refund(why));
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(LOCK_PAYMENT).bind(provider).bind(reference).execute(&mut *tx).await?;
            if let Some(row) = sqlx::query(sqlx::AssertSqlSafe(refund_sql.clone()))
                .bind(provider).bind(reference).bind(refund_id)
                .fetch_optional(&mut *tx).await?
            {
                return Ok(crate::RefundStart::Repeat(refund_record!(&row)));
            }
            let Some(row) = sqlx::query(sqlx::AssertSqlSafe(payment_sql))
                .bind(provider).bind(reference)
                .fetch_optional(&mut *tx).await?
            else {
                return refused(format!("the ledger holds no {provider} payment {reference:?}"));
            };
            let payment = payment_record!(&row);
            let status = payment.payment.status;
            if !matches!(status, paybridge_core::PaymentStatus::Succeeded | paybridge_core::PaymentStatus::PartiallyRefunded) {
                return refused(format!("{provider} payment {reference:?} is {status}, not paid"));
            }
            let paid = payment.paid_amount.unwrap_or(payment.payment.amount);
            let paid_minor = crate::minor_units(paid)?;
            let refundable: Option<i64> = col!(&row, "refundable_minor");
            let refundable = refundable.unwrap_or(paid_minor);
            let refunded: i64 = col!(&row, "refunded_minor");
            let left = refundable - refunded;
            let amount = match amount {
                Some(a) if a.currency().code() != paid.currency().code() => {
                    return refused(format!("the payment is in {}, not {}", paid.currency().code(), a.currency().code()));
                }
                Some(a) => a,
                None if left > 0 => crate::from_minor_units(left, paid.currency())?,
                None => return refused(format!("nothing is left to refund of {reference:?}")),
            };
            let minor = crate::minor_units(amount)?;
            if minor <= 0 {
                return refused("a refund is of more than zero".into());
            }
            let reserved = sqlx::query(RESERVE_REFUND)
                .bind(paid_minor).bind(minor).bind(provider).bind(reference)
                .execute(&mut *tx).await?.rows_affected() == 1;
            if !reserved {
                return refused(format!(
                    "{} {} is more than is left to refund of {reference:?} ({} of {} paid)",
                    amount.amount_string(),
                    amount.currency().code(),
                    crate::from_minor_units(left.max(0), paid.currency())?.amount_string(),
                    paid.amount_string(),
                ));
            }
            sqlx::query(INSERT_REFUND)
                .bind(provider).bind(reference).bind(refund_id)
                .bind(amount.amount_string()).bind(amount.currency().code()).bind(minor).bind(now)
                .execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(crate::RefundStart::New(crate::RefundRecord {
                provider: provider.to_owned(),
                reference: reference.to_owned(),
                refund_id: refund_id.to_owned(),
                amount,
                status: paybridge_core::RefundStatus::Pending,
                provider_status: None,
                provider_refund_id: None,
                created_at: now,
            }))
        })
    }

    pub(crate) async fn finish_refund(
        &self,
        provider: &str,
        reference: &str,
        refund_id: &str,
        outcome: &crate::RefundOutcome,
        now: i64,
    ) -> Result<Applied> {
        use paybridge_core::RefundStatus;
        let refund_sql = format!(
            "SELECT {REFUND_COLUMNS}, amount_minor FROM refunds WHERE provider = $1 AND reference = $2 AND refund_id = $3"
        );
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(LOCK_PAYMENT).bind(provider).bind(reference).execute(&mut *tx).await?;
            let Some(row) = sqlx::query(sqlx::AssertSqlSafe(refund_sql))
                .bind(provider).bind(reference).bind(refund_id)
                .fetch_optional(&mut *tx).await?
            else {
                return Err(LedgerError::Refund(format!("no refund {refund_id:?} of {reference:?} was started")));
            };
            let record = refund_record!(&row);
            let minor: i64 = col!(&row, "amount_minor");
            // A refund's end is recorded once: a later word on it changes nothing.
            if record.status != RefundStatus::Pending {
                return Ok(Applied::Unchanged);
            }
            sqlx::query(SET_REFUND)
                .bind(outcome.status.as_str()).bind(&outcome.provider_status)
                .bind(&outcome.provider_refund_id).bind(now)
                .bind(provider).bind(reference).bind(refund_id)
                .execute(&mut *tx).await?;
            let applied = match outcome.status {
                RefundStatus::Pending => Applied::Unchanged,
                RefundStatus::Failed => {
                    sqlx::query(RELEASE_REFUND).bind(minor).bind(provider).bind(reference)
                        .execute(&mut *tx).await?;
                    Applied::Unchanged
                }
                _ => {
                    let totals = sqlx::query(REFUND_TOTALS).bind(provider).bind(reference)
                        .fetch_one(&mut *tx).await?;
                    let refundable: Option<i64> = col!(&totals, "refundable_minor");
                    let succeeded: i64 = col!(&totals, "succeeded_minor");
                    let fully = succeeded >= refundable.unwrap_or(i64::MAX);
                    let word = format!("refund {refund_id}: {}", outcome.provider_status);
                    let report = Outcome::new(
                        reference,
                        if fully { paybridge_core::PaymentStatus::Reversed } else { paybridge_core::PaymentStatus::PartiallyRefunded },
                        word,
                    );
                    let carried = crate::ChangeRefund {
                        id: record.refund_id.clone(),
                        amount: record.amount,
                        provider_refund_id: outcome.provider_refund_id.clone().or_else(|| record.provider_refund_id.clone()),
                    };
                    apply_report!(tx, provider, &report, Source::Refund, now, None, Some(&carried), |current, _, _| crate::state::refunded(current, fully))?
                }
            };
            tx.commit().await?;
            Ok(applied)
        })
    }

    pub(crate) async fn refunds(
        &self,
        provider: &str,
        reference: &str,
    ) -> Result<Vec<crate::RefundRecord>> {
        let sql = format!(
            "SELECT {REFUND_COLUMNS} FROM refunds WHERE provider = $1 AND reference = $2 ORDER BY created_at, refund_id"
        );
        on_pool!(self, pool => {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(provider).bind(reference).fetch_all(pool).await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in &rows {
                out.push(refund_record!(row));
            }
            Ok(out)
        })
    }

    /// Refunds of `provider` still pending whose last word is older than `before` (an outcome
    /// unknown), oldest first, each with what its payment was paid and what refunds that
    /// succeeded gave back.
    pub(crate) async fn pending_refunds(
        &self,
        provider: &str,
        before: i64,
        limit: i64,
        only: Option<(&str, &str)>,
    ) -> Result<Vec<crate::refunds::PendingRefund>> {
        const SQL: &str = concat!(
            "SELECT r.provider, r.reference, r.refund_id, r.amount, r.currency, r.status, r.provider_status, \
               r.provider_refund_id, r.created_at, p.amount AS payment_amount, p.paid_amount, p.provider_reference, ",
            succeeded_refunds_minor!("p"),
            " AS succeeded_minor \
             FROM refunds r JOIN payments p ON p.provider = r.provider AND p.reference = r.reference \
             WHERE r.provider = $1 AND r.status = 'pending' AND r.updated_at <= $2 \
               AND ($4 IS NULL OR (r.reference = $4 AND r.refund_id = $5)) \
             ORDER BY r.created_at LIMIT $3"
        );
        let (reference, refund_id) = only.unzip();
        on_pool!(self, pool => {
            let rows = sqlx::query(SQL)
                .bind(provider)
                .bind(before)
                .bind(limit)
                .bind(reference)
                .bind(refund_id)
                .fetch_all(pool)
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in &rows {
                let refund = refund_record!(row);
                let currency: String = col!(row, "currency");
                let recorded: String = col!(row, "payment_amount");
                let paid: Option<String> = col!(row, "paid_amount");
                let succeeded: i64 = col!(row, "succeeded_minor");
                out.push(crate::refunds::PendingRefund {
                    paid: money_from(paid.as_deref().unwrap_or(&recorded), &currency)?,
                    refunded_before: crate::from_minor_units(succeeded, refund.amount.currency())?,
                    provider_reference: col!(row, "provider_reference"),
                    refund,
                });
            }
            Ok(out)
        })
    }

    /// Register a forward target: from now on each change is queued for delivery.
    pub(crate) async fn register_forward_target(&self, url: &str, now: i64) -> Result<()> {
        on_pool!(self, pool => {
            sqlx::query("INSERT INTO forward_targets (url, registered_at) VALUES ($1, $2) ON CONFLICT (url) DO NOTHING")
                .bind(url)
                .bind(now)
                .execute(pool)
                .await?;
            Ok(())
        })
    }

    /// Claim up to `limit` deliveries due by `now` until `until`, of `target` (every target
    /// when `None`): for each payment and target only its oldest queued change (so a
    /// payment's changes reach each target in order), oldest first; on PostgreSQL rows another
    /// forwarder holds are skipped.
    pub(crate) async fn claim_deliveries(
        &self,
        now: i64,
        until: i64,
        limit: i64,
        target: Option<&str>,
    ) -> Result<Vec<crate::forward::Queued>> {
        let lock = self.skip_locked();
        let claim = format!(
            "UPDATE deliveries SET next_at = $1 WHERE (change_id, target) IN ( \
               SELECT d.change_id, d.target FROM deliveries d \
               WHERE d.delivery_state = 'pending' AND d.next_at <= $2 AND ($4 IS NULL OR d.target = $4) \
                 AND NOT EXISTS (SELECT 1 FROM deliveries o WHERE o.target = d.target \
                                 AND o.payment_provider = d.payment_provider AND o.payment_reference = d.payment_reference \
                                 AND o.delivery_state = 'pending' AND o.change_id < d.change_id) \
               ORDER BY d.next_at, d.change_id LIMIT $3 {lock}) \
             RETURNING change_id, target, attempts"
        );
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let rows = sqlx::query(sqlx::AssertSqlSafe(claim))
                .bind(until)
                .bind(now)
                .bind(limit)
                .bind(target)
                .fetch_all(&mut *tx)
                .await?;
            let mut claimed = Vec::with_capacity(rows.len());
            for row in &rows {
                let id: i64 = col!(row, "change_id");
                let target: String = col!(row, "target");
                let attempts: i64 = col!(row, "attempts");
                claimed.push((id, target, attempts));
            }
            // The claimed changes in one statement (their ids are the database's own integers).
            let mut changes = std::collections::HashMap::new();
            if !claimed.is_empty() {
                let ids: Vec<String> = claimed.iter().map(|(id, _, _)| id.to_string()).collect();
                let sql = format!(
                    "SELECT {CHANGE_COLUMNS}, \
                       (SELECT p.provider_reference FROM payments p \
                        WHERE p.provider = changes.provider AND p.reference = changes.reference) AS provider_reference \
                     FROM changes WHERE id IN ({})",
                    ids.join(", ")
                );
                for row in &sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&mut *tx).await? {
                    let provider_reference: Option<String> = col!(row, "provider_reference");
                    let change = change_record!(row);
                    changes.insert(change.id, (change, provider_reference));
                }
            }
            tx.commit().await?;
            let mut out = Vec::with_capacity(claimed.len());
            for (id, target, attempts) in claimed {
                let (change, provider_reference) = changes
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| LedgerError::Row(format!("claimed change {id} is gone")))?;
                out.push(crate::forward::Queued {
                    change,
                    provider_reference,
                    target,
                    attempts,
                    claimed_until: until,
                });
            }
            out.sort_by_key(|q| q.change.id);
            Ok(out)
        })
    }

    /// Record an attempt of a delivery claimed until `claimed_until` (nothing when another
    /// forwarder took it over since): delivered, or — with `retry_at` — due again then, or
    /// failed for good. Returns whether the claim still held.
    pub(crate) async fn finish_delivery(
        &self,
        queued: &crate::forward::Queued,
        error: Option<&str>,
        retry_at: Option<i64>,
        now: i64,
    ) -> Result<bool> {
        let state = match (error, retry_at) {
            (None, _) => "delivered",
            (Some(_), Some(_)) => "pending",
            (Some(_), None) => "failed",
        };
        // "HTTP 503" from the sink: the merchant's answer, kept apart for `ledger show`.
        let http_status = error
            .and_then(|e| e.strip_prefix("HTTP "))
            .and_then(|rest| rest.get(..3))
            .and_then(|code| code.parse::<i64>().ok());
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let row = sqlx::query("UPDATE deliveries SET delivery_state = $1, attempts = attempts + 1, \
                   next_at = $2, last_error = $3, delivered_at = CASE WHEN $1 = 'delivered' THEN $4 ELSE delivered_at END \
                 WHERE change_id = $5 AND target = $6 AND delivery_state = 'pending' AND next_at = $7 RETURNING attempts")
                .bind(state)
                .bind(retry_at.unwrap_or(now))
                .bind(error)
                .bind(now)
                .bind(queued.change.id)
                .bind(&queued.target)
                .bind(queued.claimed_until)
                .fetch_optional(&mut *tx)
                .await?;
            let Some(row) = row else {
                return Ok(false);
            };
            let attempt: i64 = col!(&row, "attempts");
            sqlx::query("INSERT INTO delivery_attempts (change_id, target, attempt, at, http_status, error) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(queued.change.id)
                .bind(&queued.target)
                .bind(attempt)
                .bind(now)
                .bind(http_status)
                .bind(error)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(true)
        })
    }

    /// The deliveries not delivered: queued, and (with `failed`) only those that gave up.
    pub(crate) async fn outbox(&self, failed: bool) -> Result<Vec<crate::forward::OutboxEntry>> {
        let states = if failed {
            "('failed')"
        } else {
            "('pending', 'failed')"
        };
        let sql = format!(
            "SELECT {CHANGE_COLUMNS}, target, delivery_state, attempts, next_at, last_error \
             FROM deliveries JOIN changes ON changes.id = deliveries.change_id \
             WHERE delivery_state IN {states} ORDER BY change_id, target LIMIT 10000"
        );
        on_pool!(self, pool => {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(pool).await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in &rows {
                out.push(crate::forward::OutboxEntry {
                    change: change_record!(row),
                    target: col!(row, "target"),
                    state: col!(row, "delivery_state"),
                    attempts: col!(row, "attempts"),
                    next_attempt_at: col!(row, "next_at"),
                    last_error: col!(row, "last_error"),
                });
            }
            Ok(out)
        })
    }

    /// Queue the delivery of the change `webhook_id` again, due now, to every registered
    /// target (a failed one, or one delivered that the merchant lost). Returns whether the
    /// change exists.
    pub(crate) async fn redeliver(&self, webhook_id: &str, now: i64) -> Result<bool> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let Some(row) = sqlx::query("SELECT id, provider, reference FROM changes WHERE webhook_id = $1")
                .bind(webhook_id)
                .fetch_optional(&mut *tx)
                .await?
            else {
                return Ok(false);
            };
            let id: i64 = col!(&row, "id");
            let provider: String = col!(&row, "provider");
            let reference: String = col!(&row, "reference");
            // (SQLite needs the `WHERE` to read `ON CONFLICT` as the upsert's.)
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "{QUEUE_DELIVERIES} WHERE true \
                 ON CONFLICT (change_id, target) DO UPDATE SET delivery_state = 'pending', attempts = 0, next_at = $4, last_error = NULL"
            )))
                .bind(id)
                .bind(provider)
                .bind(reference)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(true)
        })
    }

    /// What the gauges need: queued and failed deliveries, and per provider the payments not
    /// final and the oldest one's creation time.
    pub(crate) async fn gauges(&self) -> Result<crate::metrics::Gauges> {
        on_pool!(self, pool => {
            let row = sqlx::query("SELECT \
                   (SELECT COUNT(*) FROM deliveries WHERE delivery_state = 'pending') AS pending, \
                   (SELECT COUNT(*) FROM deliveries WHERE delivery_state = 'failed') AS failed")
                .fetch_one(pool)
                .await?;
            let rows = sqlx::query("SELECT provider, COUNT(*) AS n, MIN(created_at) AS oldest FROM payments WHERE status = 'pending' GROUP BY provider")
                .fetch_all(pool)
                .await?;
            let mut pending = Vec::with_capacity(rows.len());
            for r in &rows {
                pending.push((col!(r, "provider"), col!(r, "n"), col!(r, "oldest")));
            }
            Ok(crate::metrics::Gauges {
                outbox_pending: col!(&row, "pending"),
                outbox_failed: col!(&row, "failed"),
                pending,
            })
        })
    }
}
