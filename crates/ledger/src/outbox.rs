//! The outbox: each change's deliveries, one per registered forward target, written in the
//! transaction that records the change ([`crate::reports`]); claimed by forwarders (for each
//! payment and target only its oldest queued change, so a payment's changes arrive in order;
//! on PostgreSQL rows another forwarder holds are skipped), their attempts recorded.

use std::collections::HashMap;
use std::time::Duration;

use crate::changes::{CHANGE_COLUMNS, Change, ChangeRow};
use crate::error::{LedgerError, Result};
use crate::reports::QUEUE_DELIVERIES;
use crate::store::Ledger;

/// A claimed delivery (crate-internal).
#[derive(Debug, Clone)]
pub(crate) struct Queued {
    pub change: Change,
    /// The payment's provider reference, read in the claim.
    pub provider_reference: Option<String>,
    /// The forward target it is for.
    pub target: String,
    pub attempts: i64,
    pub claimed_until: i64,
}

/// A delivery not delivered yet, as `ledger outbox` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OutboxEntry {
    /// The change.
    pub change: Change,
    /// The forward target it is for (show it with
    /// [`paybridge_core::http::redacted_url`]: it may hold a token).
    pub target: String,
    /// `pending` (queued, or being attempted) or `failed` (gave up).
    pub state: String,
    /// Attempts so far.
    pub attempts: i64,
    /// When the next attempt is due (Unix ms).
    pub next_attempt_at: i64,
    /// What the last attempt ran into.
    pub last_error: Option<String>,
}

/// A queued delivery as `ledger outbox` reads it.
#[derive(sqlx::FromRow)]
struct OutboxRow {
    #[sqlx(flatten)]
    change: ChangeRow,
    target: String,
    delivery_state: String,
    attempts: i64,
    next_at: i64,
    last_error: Option<String>,
}

/// A claimed change with its payment's provider reference.
#[derive(sqlx::FromRow)]
struct ClaimedChange {
    #[sqlx(flatten)]
    change: ChangeRow,
    provider_reference: Option<String>,
}

/// An attempt of a claimed delivery, to record ([`Ledger::finish_deliveries`]).
pub(crate) struct Attempt {
    /// The delivery.
    pub queued: Queued,
    /// Why it was not delivered (`None`: delivered).
    pub error: Option<String>,
    /// When to try again (`None` with an error: the schedule ran out, failed for good).
    pub retry_at: Option<i64>,
}

/// One attempt recorded, under the claim it was made with.
const FINISH_DELIVERY: &str = "UPDATE deliveries SET delivery_state = $1, attempts = attempts + 1, \
       next_at = $2, last_error = $3, delivered_at = CASE WHEN $1 = 'delivered' THEN $4 ELSE delivered_at END \
     WHERE change_id = $5 AND target = $6 AND delivery_state = 'pending' AND next_at = $7 RETURNING attempts";

/// A merchant's forward target, registered once (`$1` the URL, `$2` now, `$3` the merchant).
pub(crate) const REGISTER_TARGET: &str = "INSERT INTO forward_targets (url, registered_at, merchant) VALUES ($1, $2, $3) \
     ON CONFLICT (merchant, url) DO NOTHING";

impl Ledger {
    /// Register a forward target of this merchant: from now on each change of its payments
    /// is queued for delivery to it (one delivery per target, each with its own attempts and
    /// order), in the transaction that records the change. Another merchant's changes never
    /// go to it.
    pub async fn register_forward_target(&self, url: &str) -> Result<()> {
        sqlx::query(REGISTER_TARGET)
            .bind(url)
            .bind(self.now_ms())
            .bind(self.merchant_id())
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Claim up to `limit` of this merchant's deliveries due now for `lease`, of `target`
    /// (every target when `None`): for each payment and target only its oldest queued change,
    /// oldest first.
    pub(crate) async fn claim_deliveries(
        &self,
        lease: Duration,
        limit: i64,
        target: Option<&str>,
    ) -> Result<Vec<Queued>> {
        let (now, until) = (self.now_ms(), self.after(lease));
        let lock = self.store.skip_locked();
        // A payment's oldest queued delivery only (order per payment), found by one index
        // probe per candidate (`deliveries_order`) whatever the planner's statistics say —
        // a fresh ledger under a burst has none yet — and the candidates walked in due order
        // on `deliveries_due` when the target is known: a claim costs its batch, not the
        // backlog.
        let target_is = if target.is_some() {
            "d.target = $4"
        } else {
            "$4 IS NULL"
        };
        let claim = format!(
            "UPDATE deliveries SET next_at = $1 WHERE (change_id, target) IN ( \
               SELECT d.change_id, d.target FROM deliveries d \
               WHERE d.merchant = $5 AND d.delivery_state = 'pending' AND d.next_at <= $2 AND {target_is} \
                 AND d.change_id = (SELECT MIN(o.change_id) FROM deliveries o WHERE o.merchant = d.merchant AND o.target = d.target \
                                 AND o.payment_provider = d.payment_provider AND o.payment_reference = d.payment_reference \
                                 AND o.delivery_state = 'pending') \
               ORDER BY d.next_at, d.change_id LIMIT $3 {lock}) \
             RETURNING change_id, target, attempts"
        );
        let mut tx = self.pool().begin().await?;
        let claimed: Vec<(i64, String, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(claim))
            .bind(until)
            .bind(now)
            .bind(limit)
            .bind(target)
            .bind(self.merchant_id())
            .fetch_all(&mut *tx)
            .await?;
        // The claimed changes in one statement (their ids are the database's own integers).
        let mut changes = HashMap::new();
        if !claimed.is_empty() {
            let ids: Vec<String> = claimed.iter().map(|(id, _, _)| id.to_string()).collect();
            let sql = format!(
                "SELECT {CHANGE_COLUMNS}, \
                   (SELECT p.provider_reference FROM payments p \
                    WHERE p.merchant = changes.merchant AND p.provider = changes.provider AND p.reference = changes.reference) AS provider_reference \
                 FROM changes WHERE id IN ({})",
                ids.join(", ")
            );
            let rows: Vec<ClaimedChange> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .fetch_all(&mut *tx)
                .await?;
            for row in rows {
                let change = Change::try_from(row.change)?;
                changes.insert(change.id, (change, row.provider_reference));
            }
        }
        tx.commit().await?;
        let mut out = Vec::with_capacity(claimed.len());
        for (id, target, attempts) in claimed {
            let (change, provider_reference) = changes
                .get(&id)
                .cloned()
                .ok_or_else(|| LedgerError::Row(format!("claimed change {id} is gone")))?;
            out.push(Queued {
                change,
                provider_reference,
                target,
                attempts,
                claimed_until: until,
            });
        }
        out.sort_by_key(|q| q.change.id);
        Ok(out)
    }

    /// Record attempts of claimed deliveries, in one transaction: each delivered, due again
    /// at its retry time, or failed for good, with its attempt logged — unless its claim was
    /// taken over meanwhile (another forwarder's claim, after this one's lease ran out; the
    /// attempt is not recorded: that forwarder records its own).
    pub(crate) async fn finish_deliveries(&self, attempts: &[Attempt]) -> Result<()> {
        let now = self.now_ms();
        let mut tx = self.pool().begin().await?;
        for attempt in attempts {
            let queued = &attempt.queued;
            let error = attempt.error.as_deref();
            let state = match (error, attempt.retry_at) {
                (None, _) => "delivered",
                (Some(_), Some(_)) => "pending",
                (Some(_), None) => "failed",
            };
            // "HTTP 503" from the sink: the merchant's answer, kept apart for `ledger show`.
            let http_status = error
                .and_then(|e| e.strip_prefix("HTTP "))
                .and_then(|rest| rest.get(..3))
                .and_then(|code| code.parse::<i64>().ok());
            let count: Option<i64> = sqlx::query_scalar(FINISH_DELIVERY)
                .bind(state)
                .bind(attempt.retry_at.unwrap_or(now))
                .bind(error)
                .bind(now)
                .bind(queued.change.id)
                .bind(&queued.target)
                .bind(queued.claimed_until)
                .fetch_optional(&mut *tx)
                .await?;
            let Some(count) = count else {
                continue;
            };
            sqlx::query("INSERT INTO delivery_attempts (change_id, target, attempt, at, http_status, error) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(queued.change.id)
                .bind(&queued.target)
                .bind(count)
                .bind(now)
                .bind(http_status)
                .bind(error)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// This merchant's deliveries not delivered yet (queued or failed); with `failed`, only
    /// those that gave up.
    pub async fn outbox(&self, failed: bool) -> Result<Vec<OutboxEntry>> {
        let states = if failed {
            "('failed')"
        } else {
            "('pending', 'failed')"
        };
        let sql = format!(
            "SELECT {CHANGE_COLUMNS}, target, delivery_state, attempts, next_at, last_error \
             FROM (SELECT change_id, target, delivery_state, attempts, next_at, last_error FROM deliveries \
                   WHERE merchant = $1 AND delivery_state IN {states}) d \
             JOIN changes ON changes.id = d.change_id ORDER BY change_id, target LIMIT 10000"
        );
        let rows: Vec<OutboxRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(self.merchant_id())
            .fetch_all(self.pool())
            .await?;
        rows.into_iter()
            .map(|row| {
                Ok(OutboxEntry {
                    change: Change::try_from(row.change)?,
                    target: row.target,
                    state: row.delivery_state,
                    attempts: row.attempts,
                    next_attempt_at: row.next_at,
                    last_error: row.last_error,
                })
            })
            .collect()
    }

    /// Queue the delivery of this merchant's change whose `webhook-id` is `webhook_id` again,
    /// due now, to each of its registered targets (a failed one, or one delivered that the
    /// merchant lost). Returns whether the change exists.
    pub async fn redeliver(&self, webhook_id: &str) -> Result<bool> {
        let mut tx = self.pool().begin().await?;
        let found: Option<(i64, String, String)> = sqlx::query_as(
            "SELECT id, provider, reference FROM changes WHERE webhook_id = $1 AND merchant = $2",
        )
        .bind(webhook_id)
        .bind(self.merchant_id())
        .fetch_optional(&mut *tx)
        .await?;
        let Some((id, provider, reference)) = found else {
            return Ok(false);
        };
        // (SQLite needs [`QUEUE_DELIVERIES`]'s `WHERE` to read `ON CONFLICT` as the upsert's.)
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "{QUEUE_DELIVERIES} \
             ON CONFLICT (change_id, target) DO UPDATE SET delivery_state = 'pending', attempts = 0, next_at = $4, last_error = NULL"
        )))
        .bind(id)
        .bind(provider)
        .bind(reference)
        .bind(self.now_ms())
        .bind(self.merchant_id())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }
}
