//! Callback deliveries: each callback's natural key counted once per delivery, its first
//! delivery's report decided in the same transaction ([`Ledger::deliver`]), and the records
//! purged once no provider would retry them.

use std::time::Duration;

use crate::clock::duration_ms;
use crate::error::Result;
use paybridge_core::{Notification, Verified};

use crate::handler::{Callback, Handed, Handing, hand_in_transaction};
use crate::reports::{Applied, Born, Decided, Outcome, Report, Source, apply, on_what_it_says};
use crate::state::Anomaly;
use crate::store::Ledger;
use crate::values::{anomaly_from, money_columns, money_opt, status_from};

/// A callback as the ledger holds it (one row per natural key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackRecord {
    /// Whose route it came in on: `""` for the default merchant.
    pub merchant: String,
    /// Provider id.
    pub provider: String,
    /// The natural key.
    pub key: String,
    /// `true` once its report was recorded.
    pub done: bool,
    /// What it reported.
    pub outcome: Option<Outcome>,
    /// Deliveries counted, the first included.
    pub deliveries: i64,
    /// First delivery (Unix milliseconds).
    pub first_received_at: i64,
    /// Latest delivery (Unix milliseconds).
    pub last_received_at: i64,
    /// What did not add up about its report, if anything (`unknown_payment`, `underpaid`, …).
    pub anomaly: Option<Anomaly>,
    /// Who reported it (`callback`).
    pub source: Option<String>,
}

/// What a callback's delivery did ([`Ledger::deliver`]).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Delivered {
    /// How many times this callback has been delivered, this one included (more than 1: a
    /// provider's retry).
    pub deliveries: i64,
    /// What its report did to the payment.
    pub applied: Applied,
}

const CALLBACK_COLUMNS: &str = "merchant, provider, key, state, reference, status, provider_status, amount, currency, deliveries, first_received_at, last_received_at, anomaly, source";

#[derive(sqlx::FromRow)]
struct CallbackRow {
    merchant: String,
    provider: String,
    key: String,
    state: String,
    reference: Option<String>,
    status: Option<String>,
    provider_status: Option<String>,
    amount: Option<String>,
    currency: Option<String>,
    deliveries: i64,
    first_received_at: i64,
    last_received_at: i64,
    anomaly: Option<String>,
    source: Option<String>,
}

impl TryFrom<CallbackRow> for CallbackRecord {
    type Error = crate::error::LedgerError;

    fn try_from(row: CallbackRow) -> Result<Self> {
        let outcome = match (row.reference, row.status) {
            (Some(reference), Some(status)) => Some(Outcome {
                reference,
                status: status_from(&status)?,
                provider_status: row.provider_status.unwrap_or_default(),
                amount: money_opt(row.amount.as_deref(), row.currency.as_deref())?,
            }),
            _ => None,
        };
        Ok(Self {
            merchant: row.merchant,
            provider: row.provider,
            key: row.key,
            done: row.state == "done",
            outcome,
            deliveries: row.deliveries,
            first_received_at: row.first_received_at,
            last_received_at: row.last_received_at,
            anomaly: anomaly_from(row.anomaly.as_deref()),
            source: row.source,
        })
    }
}

/// A delivery of a callback: counted, and recorded with what it said the first time.
const DELIVERY: &str = "INSERT INTO callbacks (provider, key, state, lease_token, lease_until, deliveries, first_received_at, last_received_at, reference, status, provider_status, amount, currency, completed_at, source, merchant) \
     VALUES ($1, $2, 'done', NULL, 0, 1, $3, $3, $4, $5, $6, $7, $8, $3, $9, $10) \
     ON CONFLICT (merchant, provider, key) DO UPDATE SET deliveries = callbacks.deliveries + 1, last_received_at = excluded.last_received_at \
     RETURNING deliveries";

const SET_DELIVERY_ANOMALY: &str =
    "UPDATE callbacks SET anomaly = $1 WHERE provider = $2 AND key = $3 AND merchant = $4";

impl Ledger {
    /// Count a delivery of callback `key` of `provider` (this ledger's merchant's, now) in
    /// `conn`'s transaction and — on its first delivery — decide what it reports, its change
    /// born as `born` asks.
    async fn count_and_decide(
        &self,
        conn: &mut sqlx::AnyConnection,
        provider: &str,
        key: &str,
        outcome: &Outcome,
        born: Born,
    ) -> Result<(i64, Decided)> {
        let (merchant, now) = (self.merchant_id(), self.now_ms());
        let (amount, currency) = money_columns(outcome.amount);
        let deliveries: i64 = sqlx::query_scalar(DELIVERY)
            .bind(provider)
            .bind(key)
            .bind(now)
            .bind(&outcome.reference)
            .bind(outcome.status.as_str())
            .bind(&outcome.provider_status)
            .bind(amount)
            .bind(currency)
            .bind(Source::Callback.as_str())
            .bind(merchant)
            .fetch_one(&mut *conn)
            .await?;
        if deliveries > 1 {
            return Ok((deliveries, Decided::nothing()));
        }
        let report = Report {
            callback_key: Some(key),
            born,
            ..Report::new(merchant, provider, outcome, Source::Callback, now)
        };
        let decided = apply(conn, report, on_what_it_says(outcome)).await?;
        if let Some(anomaly) = decided.applied.anomaly() {
            sqlx::query(SET_DELIVERY_ANOMALY)
                .bind(anomaly.as_str())
                .bind(provider)
                .bind(key)
                .bind(merchant)
                .execute(conn)
                .await?;
        }
        Ok((deliveries, decided))
    }
}

impl Ledger {
    /// Count a delivery of callback `key` of `provider` and — on its first delivery — decide
    /// what it reports, in one transaction: the payment's state change (if any), checked
    /// against the recorded money; a reference the ledger does not hold is recorded as
    /// `unknown_payment`. Returns how many deliveries there were and what was applied. The
    /// change is left open, for [`Ledger::claim_change`].
    pub async fn deliver(&self, provider: &str, key: &str, outcome: &Outcome) -> Result<Delivered> {
        let mut tx = self.pool().begin().await?;
        let (deliveries, decided) = self
            .count_and_decide(&mut tx, provider, key, outcome, Born::Open)
            .await?;
        tx.commit().await?;
        Ok(Delivered {
            deliveries,
            applied: decided.applied,
        })
    }

    /// [`Ledger::deliver`], and in the same transaction the change handed to the handler as
    /// `handing` asks (the receiver's one commit per callback): `reported_by` is the verified
    /// callback the handler is given with it (copied only when a change is handed over).
    pub(crate) async fn deliver_handing(
        &self,
        provider: &'static str,
        key: &str,
        outcome: &Outcome,
        handing: Handing<'_>,
        reported_by: &(String, Verified<Notification>),
    ) -> Result<(Delivered, Handed)> {
        let mut tx = self.pool().begin().await?;
        let born = handing.born(self);
        let (deliveries, decided) = self
            .count_and_decide(&mut tx, provider, key, outcome, born)
            .await?;
        let applied = decided.applied.clone();
        let handed = if deliveries > 1 {
            // Decided before: whatever of the payment is open is handed out after the commit.
            Handed::Open
        } else {
            hand_in_transaction(&mut tx, handing, decided, |change| {
                Callback::new(provider, change, Some(reported_by.clone()))
            })
            .await?
        };
        if let Handed::Failed(e) = handed {
            // The handler's writes go, and with them this transaction's decision: recorded
            // again with the change open, for a later delivery (or the reconciler) to hand out.
            tx.rollback().await?;
            return Ok((
                self.deliver(provider, key, outcome).await?,
                Handed::Failed(e),
            ));
        }
        tx.commit().await?;
        Ok((
            Delivered {
                deliveries,
                applied,
            },
            handed,
        ))
    }

    /// Count one more delivery of a callback recorded before (a duplicate answered from the
    /// ledger, [`paybridge_core::Received::Duplicate`]); `false` when it was never recorded.
    pub async fn count_delivery(&self, provider: &str, key: &str) -> Result<bool> {
        let counted = sqlx::query("UPDATE callbacks SET deliveries = deliveries + 1, last_received_at = $1 WHERE provider = $2 AND key = $3 AND merchant = $4")
            .bind(self.now_ms())
            .bind(provider)
            .bind(key)
            .bind(self.merchant_id())
            .execute(self.pool())
            .await?;
        Ok(counted.rows_affected() == 1)
    }

    /// The callback `key` of `provider`, if it was ever delivered.
    pub async fn callback(&self, provider: &str, key: &str) -> Result<Option<CallbackRecord>> {
        let sql = format!(
            "SELECT {CALLBACK_COLUMNS} FROM callbacks WHERE provider = $1 AND key = $2 AND merchant = $3"
        );
        let row: Option<CallbackRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(provider)
            .bind(key)
            .bind(self.merchant_id())
            .fetch_optional(self.pool())
            .await?;
        row.map(CallbackRecord::try_from).transpose()
    }

    /// This merchant's callbacks, newest first, optionally of one provider and/or one
    /// reference.
    pub async fn callbacks(
        &self,
        provider: Option<&str>,
        reference: Option<&str>,
    ) -> Result<Vec<CallbackRecord>> {
        let sql = format!(
            "SELECT {CALLBACK_COLUMNS} FROM callbacks WHERE ($1 IS NULL OR provider = $1) AND ($2 IS NULL OR reference = $2) AND merchant = $3 ORDER BY last_received_at DESC, key"
        );
        let rows: Vec<CallbackRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(provider)
            .bind(reference)
            .bind(self.merchant_id())
            .fetch_all(self.pool())
            .await?;
        rows.into_iter().map(CallbackRecord::try_from).collect()
    }

    /// Remove completed callbacks (every merchant's) whose last delivery is older than
    /// `horizon(provider)` —
    /// each provider's retry horizon plus a margin: a delivery after it could no longer be
    /// recognised as a duplicate. Returns how many were removed.
    pub async fn purge(&self, horizon: impl Fn(&str) -> Duration) -> Result<u64> {
        let now = self.now_ms();
        let providers: Vec<String> = sqlx::query_scalar("SELECT DISTINCT provider FROM callbacks")
            .fetch_all(self.pool())
            .await?;
        let mut purged = 0;
        for provider in providers {
            let before = now.saturating_sub(duration_ms(horizon(&provider)));
            purged += sqlx::query("DELETE FROM callbacks WHERE provider = $1 AND state = 'done' AND last_received_at < $2")
                .bind(&provider)
                .bind(before)
                .execute(self.pool())
                .await?
                .rows_affected();
        }
        Ok(purged)
    }
}
