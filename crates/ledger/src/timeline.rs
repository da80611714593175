//! One payment's story, in time order (`paybridge ledger show`): its recording, every report
//! (callback, status check, a command's own answer) with what it said of the money, every
//! state change with the id the merchant was told, every refund, every forward attempt.

use paybridge_core::{Money, PaymentStatus};

use crate::error::Result;
use crate::payments::PaymentRow;
use crate::refunds::RefundRecord;
use crate::reports::Source;
use crate::state::Anomaly;
use crate::store::Ledger;

/// One forward attempt of a change.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Attempt {
    /// The change's `webhook-id`.
    pub webhook_id: String,
    /// Where it was sent (the registered forward target).
    pub target: String,
    /// Its number (1 for the first; it starts again after `ledger redeliver`).
    pub attempt: i64,
    /// When it ended (Unix milliseconds).
    pub at: i64,
    /// The merchant's HTTP status when it answered other than 2xx.
    pub http_status: Option<i64>,
    /// Why it did not count (`None`: delivered).
    pub error: Option<String>,
}

/// One entry of a payment's timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Entry {
    /// The payment was recorded (before its request was sent).
    Recorded {
        /// When (Unix milliseconds).
        at: i64,
        /// The recorded amount.
        amount: Option<Money>,
    },
    /// A report: a callback, a status check or a command's own answer.
    Report {
        /// When (Unix milliseconds).
        at: i64,
        /// `callback`, `status_check`, `answer`, `refund`.
        source: String,
        /// The status it reported.
        status: PaymentStatus,
        /// The provider's own word.
        provider_status: String,
        /// What it said was paid.
        amount: Option<Money>,
        /// What did not add up about it.
        anomaly: Option<Anomaly>,
        /// Whether it changed the payment.
        applied: bool,
        /// For a callback: how many times it was delivered.
        deliveries: Option<i64>,
    },
    /// A change of the payment's state.
    Change {
        /// When (Unix milliseconds).
        at: i64,
        /// The state before.
        from: PaymentStatus,
        /// The state after.
        to: PaymentStatus,
        /// What did not add up.
        anomaly: Option<Anomaly>,
        /// The id the merchant was told.
        webhook_id: String,
    },
    /// A refund.
    Refund {
        /// When it was started (Unix milliseconds).
        at: i64,
        /// The merchant's refund id.
        id: String,
        /// How much.
        amount: Money,
        /// Where it stands.
        status: paybridge_core::RefundStatus,
    },
    /// A forward attempt.
    Delivery(Attempt),
}

impl Entry {
    /// When it happened (Unix milliseconds).
    #[must_use]
    pub fn at(&self) -> i64 {
        match self {
            Self::Recorded { at, .. }
            | Self::Report { at, .. }
            | Self::Change { at, .. }
            | Self::Refund { at, .. } => *at,
            Self::Delivery(a) => a.at,
        }
    }

    /// Within one millisecond, the order things happen in: a refund is started before its
    /// report, a report before the change it caused, a change before its delivery.
    fn rank(&self) -> u8 {
        match self {
            Self::Recorded { .. } => 0,
            Self::Refund { .. } => 1,
            Self::Report { .. } => 2,
            Self::Change { .. } => 3,
            Self::Delivery(_) => 4,
        }
    }
}

/// A payment and its timeline.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Timeline {
    /// The payment as it stands.
    pub payment: PaymentRow,
    /// Everything the ledger knows about it, oldest first.
    pub entries: Vec<Entry>,
}

impl Ledger {
    /// One payment's whole story, time-ordered; `None` when the ledger holds no such payment.
    pub async fn timeline(&self, provider: &str, reference: &str) -> Result<Option<Timeline>> {
        let Some(payment) = self.payment(provider, reference).await? else {
            return Ok(None);
        };
        let mut entries = Vec::new();
        for e in self.events(provider, reference).await? {
            entries.push(if e.source == Source::Created.as_str() {
                Entry::Recorded {
                    at: e.at,
                    amount: e.amount.or(Some(payment.payment.amount)),
                }
            } else {
                Entry::Report {
                    at: e.at,
                    source: e.source,
                    status: e.status,
                    provider_status: e.provider_status,
                    amount: e.amount,
                    anomaly: e.anomaly,
                    applied: e.applied,
                    deliveries: e.deliveries,
                }
            });
        }
        for c in self.changes_of_payment(provider, reference, false).await? {
            entries.push(Entry::Change {
                at: c.created_at,
                from: c.previous_status,
                to: c.status,
                anomaly: c.anomaly,
                webhook_id: c.webhook_id,
            });
        }
        for RefundRecord {
            created_at,
            refund_id,
            amount,
            status,
            ..
        } in self.refunds(provider, reference).await?
        {
            entries.push(Entry::Refund {
                at: created_at,
                id: refund_id,
                amount,
                status,
            });
        }
        entries.extend(
            self.attempts(provider, reference)
                .await?
                .into_iter()
                .map(Entry::Delivery),
        );
        // Stable: entries of one kind and millisecond keep the order they were read in.
        entries.sort_by_key(|e| (e.at(), e.rank()));
        Ok(Some(Timeline { payment, entries }))
    }
}

/// A forward attempt, for a payment's timeline.
#[derive(sqlx::FromRow)]
struct AttemptRow {
    change_id: i64,
    webhook_id: Option<String>,
    target: String,
    attempt: i64,
    at: i64,
    http_status: Option<i64>,
    error: Option<String>,
}

impl Ledger {
    /// Every forward attempt of a payment's changes, oldest first.
    pub(crate) async fn attempts(&self, provider: &str, reference: &str) -> Result<Vec<Attempt>> {
        const SQL: &str = "SELECT a.change_id, c.webhook_id, a.target, a.attempt, a.at, a.http_status, a.error \
             FROM delivery_attempts a JOIN changes c ON c.id = a.change_id \
             WHERE c.provider = $1 AND c.reference = $2 AND c.merchant = $3 ORDER BY a.at, a.change_id";
        let rows: Vec<AttemptRow> = sqlx::query_as(SQL)
            .bind(provider)
            .bind(reference)
            .bind(self.merchant_id())
            .fetch_all(self.pool())
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| Attempt {
                webhook_id: row
                    .webhook_id
                    .unwrap_or_else(|| format!("chg_{}", row.change_id)),
                target: row.target,
                attempt: row.attempt,
                at: row.at,
                http_status: row.http_status,
                error: row.error,
            })
            .collect())
    }
}
