//! Changes of a payment's state — the unit of exactly once — and their hand-out under fenced
//! leases: claimed (every claim raises the fence), renewed by the holder while it works,
//! completed or released only under the current fence.

use std::time::Duration;

use paybridge_core::{Money, PaymentStatus};

use crate::error::{LedgerError, Result};
use crate::state::Anomaly;
use crate::store::Ledger;
use crate::values::{anomaly_from, money_from, money_opt, status_from};

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
    /// Whose payment it is: `""` for the default merchant, else a platform's merchant id.
    pub merchant: String,
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

    /// [`LedgerError::LeaseLost`] for this change.
    pub(crate) fn lost(&self) -> LedgerError {
        LedgerError::LeaseLost {
            provider: self.provider.clone(),
            change: self.stable_id(),
        }
    }
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

/// The columns a [`ChangeRow`] reads.
pub(crate) const CHANGE_COLUMNS: &str = "id, webhook_id, merchant, provider, reference, previous_status, status, anomaly, amount, currency, source, created_at, \
     payment_amount, payment_currency, paid_amount, refunded_amount, refund_id, refund_amount, provider_refund_id";

/// A change as stored.
#[derive(sqlx::FromRow)]
pub(crate) struct ChangeRow {
    id: i64,
    webhook_id: Option<String>,
    merchant: String,
    provider: String,
    reference: String,
    previous_status: String,
    status: String,
    anomaly: Option<String>,
    amount: Option<String>,
    currency: Option<String>,
    source: String,
    created_at: i64,
    payment_amount: Option<String>,
    payment_currency: Option<String>,
    paid_amount: Option<String>,
    refunded_amount: Option<String>,
    refund_id: Option<String>,
    refund_amount: Option<String>,
    provider_refund_id: Option<String>,
}

impl TryFrom<ChangeRow> for Change {
    type Error = LedgerError;

    fn try_from(row: ChangeRow) -> Result<Self> {
        // What the change says of the payment's money is in the payment's currency.
        let currency = row.payment_currency.as_deref();
        let in_payment_currency = |amount: Option<&str>| money_opt(amount, currency);
        let refund = match (
            row.refund_id,
            in_payment_currency(row.refund_amount.as_deref())?,
        ) {
            (Some(id), Some(amount)) => Some(ChangeRefund {
                id,
                amount,
                provider_refund_id: row.provider_refund_id,
            }),
            _ => None,
        };
        Ok(Self {
            webhook_id: row.webhook_id.unwrap_or_else(|| format!("chg_{}", row.id)),
            id: row.id,
            merchant: row.merchant,
            provider: row.provider,
            reference: row.reference,
            previous_status: status_from(&row.previous_status)?,
            status: status_from(&row.status)?,
            anomaly: anomaly_from(row.anomaly.as_deref()),
            amount: money_opt(row.amount.as_deref(), row.currency.as_deref())?,
            recorded: in_payment_currency(row.payment_amount.as_deref())?,
            paid_amount: in_payment_currency(row.paid_amount.as_deref())?,
            refunded_amount: in_payment_currency(row.refunded_amount.as_deref())?,
            refund,
            source: row.source,
            created_at: row.created_at,
        })
    }
}

/// Rows as changes.
pub(crate) fn changes_of(rows: Vec<ChangeRow>) -> Result<Vec<Change>> {
    rows.into_iter().map(Change::try_from).collect()
}

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

/// Mark change `id` done under `fence` in `conn`'s transaction: whether the fence held.
pub(crate) async fn done_in(
    conn: &mut sqlx::AnyConnection,
    id: i64,
    fence: i64,
    now: i64,
) -> Result<bool> {
    let done = sqlx::query(DONE_CHANGE)
        .bind(now)
        .bind(id)
        .bind(fence)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

impl Ledger {
    /// Every change numbered after `after` (whoever recorded it: a receiver, a payment
    /// command's answer, the reconciler, a refund), in number order, at most `limit` — a feed
    /// for a live log (`paybridge dev`), with [`Ledger::last_change_id`] to start from. Not
    /// for handing changes out: on PostgreSQL a change committed late under a lower number
    /// can be passed over; the outbox and [`Ledger::claim_change`] never miss one.
    pub async fn changes_after(&self, after: i64, limit: i64) -> Result<Vec<Change>> {
        let sql =
            format!("SELECT {CHANGE_COLUMNS} FROM changes WHERE id > $1 ORDER BY id LIMIT $2");
        let rows = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(after)
            .bind(limit)
            .fetch_all(self.pool())
            .await?;
        changes_of(rows)
    }

    /// The highest change number so far (0 when there is none).
    pub async fn last_change_id(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) FROM changes")
                .fetch_one(self.pool())
                .await?,
        )
    }

    /// The changes of a payment not yet handed out (oldest first).
    pub async fn open_changes(&self, provider: &str, reference: &str) -> Result<Vec<Change>> {
        self.changes_of_payment(provider, reference, true).await
    }

    /// A payment's changes, oldest first: only those not yet handed out (`open_only`), or
    /// every one.
    pub(crate) async fn changes_of_payment(
        &self,
        provider: &str,
        reference: &str,
        open_only: bool,
    ) -> Result<Vec<Change>> {
        let open = if open_only { "AND state <> 'done'" } else { "" };
        let sql = format!(
            "SELECT {CHANGE_COLUMNS} FROM changes WHERE merchant = $1 AND provider = $2 AND reference = $3 {open} ORDER BY id"
        );
        let rows = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(self.merchant_id())
            .bind(provider)
            .bind(reference)
            .fetch_all(self.pool())
            .await?;
        changes_of(rows)
    }

    /// This merchant's changes still open that were recorded before `before` and are not held
    /// under a running lease now, oldest first.
    pub(crate) async fn stranded_changes(&self, before: i64, limit: i64) -> Result<Vec<Change>> {
        let sql = format!(
            "SELECT {CHANGE_COLUMNS} FROM changes WHERE state <> 'done' AND created_at < $1 AND lease_until <= $2 AND merchant = $4 ORDER BY created_at LIMIT $3"
        );
        let rows = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(before)
            .bind(self.now_ms())
            .bind(limit)
            .bind(self.merchant_id())
            .fetch_all(self.pool())
            .await?;
        changes_of(rows)
    }

    /// Claim `change` for `lease`: `None` when another holder's lease is running or it was
    /// completed.
    pub async fn claim_change(
        &self,
        change: &Change,
        lease: Duration,
    ) -> Result<Option<ChangeLease>> {
        let until = self.after(lease);
        let fence: Option<i64> = sqlx::query_scalar(CLAIM_CHANGE)
            .bind(until)
            .bind(change.id)
            .bind(self.now_ms())
            .fetch_optional(self.pool())
            .await?;
        Ok(fence.map(|fence| ChangeLease {
            change: change.clone(),
            fence,
            until_ms: until,
        }))
    }

    /// Extend a claim by `lease` from now; [`LedgerError::LeaseLost`] when it is no longer
    /// this holder's.
    pub async fn renew_change(&self, claim: &mut ChangeLease, lease: Duration) -> Result<()> {
        let until = self.after(lease);
        let renewed = sqlx::query(RENEW_CHANGE)
            .bind(until)
            .bind(claim.change.id)
            .bind(claim.fence)
            .execute(self.pool())
            .await?;
        if renewed.rows_affected() != 1 {
            return Err(claim.change.lost());
        }
        claim.until_ms = until;
        Ok(())
    }

    /// Mark a claimed change handed out; [`LedgerError::LeaseLost`] when the claim is no longer
    /// this holder's (another holder has a higher fence, or it was completed).
    pub async fn complete_change(&self, claim: &ChangeLease) -> Result<()> {
        let mut conn = self.pool().acquire().await?;
        if done_in(&mut conn, claim.change.id, claim.fence, self.now_ms()).await? {
            Ok(())
        } else {
            Err(claim.change.lost())
        }
    }

    /// Give a claimed change up (the handler failed): it is open again at once.
    pub async fn release_change(&self, claim: &ChangeLease) -> Result<()> {
        sqlx::query(RELEASE_CHANGE)
            .bind(claim.change.id)
            .bind(claim.fence)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}

/// A stored change amount read back in the payment's currency (`paid_amount` of a payment).
pub(crate) fn paid_after(
    reported: Option<Money>,
    was_paid: Option<&str>,
    currency: &str,
) -> Result<Option<Money>> {
    match (reported, was_paid) {
        (Some(m), _) => Ok(Some(m)),
        (None, Some(p)) => money_from(p, currency).map(Some),
        (None, None) => Ok(None),
    }
}
