//! The ledger's metrics, through the `metrics` facade: whatever recorder the service installs
//! (Prometheus, OpenTelemetry, `StatsD`) picks them up; `paybridge receive --metrics-addr`
//! serves them as Prometheus text. Labels are the provider and an outcome only — never a
//! reference, an order id or an amount. `docs/metrics.md` lists them with what an alert on
//! each would mean.

use paybridge_core::PaymentStatus;

use crate::error::Result;
use crate::store::Ledger;

/// Callbacks by provider and what became of them: `verified`, `duplicate`, `anomaly` (the
/// money or the order disagreed), `unknown_payment`, `refused` (signature), `unconfirmed`
/// (the provider could not be asked), `unavailable` (our side failed: the ledger, the
/// configuration; the provider retries), `invalid`, `ignored` (test mode).
pub const CALLBACKS: &str = "paybridge_callbacks_total";
/// Payment state changes recorded, by provider and new status.
pub const STATE_CHANGES: &str = "paybridge_state_changes_total";
/// Merchant handlers that failed (the provider retries).
pub const HANDLER_FAILURES: &str = "paybridge_handler_failures_total";
/// Leases lost while handling (another worker took over).
pub const LEASES_LOST: &str = "paybridge_leases_lost_total";
/// Forward attempts by outcome: `delivered`, `retrying`, `failed` (gave up).
pub const FORWARD_ATTEMPTS: &str = "paybridge_forward_attempts_total";
/// Deliveries queued and not delivered yet.
pub const OUTBOX_DEPTH: &str = "paybridge_outbox_depth";
/// Deliveries that gave up (`ledger outbox --failed`).
pub const OUTBOX_FAILED: &str = "paybridge_outbox_failed";
/// Payments not final yet, by provider.
pub const AWAITING: &str = "paybridge_payments_awaiting_reconciliation";
/// Age of the oldest payment not final yet, by provider, in seconds.
pub const OLDEST_AGE: &str = "paybridge_oldest_unreconciled_payment_age_seconds";

/// Describe every metric to the installed recorder (units and help text).
pub fn describe() {
    metrics::describe_counter!(CALLBACKS, "Callbacks received, by provider and outcome");
    metrics::describe_counter!(
        STATE_CHANGES,
        "Payment state changes recorded, by provider and new status"
    );
    metrics::describe_counter!(HANDLER_FAILURES, "Merchant handler failures, by provider");
    metrics::describe_counter!(LEASES_LOST, "Leases lost while handling, by provider");
    metrics::describe_counter!(
        FORWARD_ATTEMPTS,
        "Standard Webhooks delivery attempts, by outcome"
    );
    metrics::describe_gauge!(OUTBOX_DEPTH, "State changes queued for delivery");
    metrics::describe_gauge!(OUTBOX_FAILED, "Deliveries that gave up");
    metrics::describe_gauge!(AWAITING, "Payments not final yet, by provider");
    metrics::describe_gauge!(
        OLDEST_AGE,
        metrics::Unit::Seconds,
        "Age of the oldest payment not final yet, by provider"
    );
}

#[cfg(feature = "axum")]
pub(crate) fn callback(provider: &'static str, outcome: &'static str) {
    metrics::counter!(CALLBACKS, "provider" => provider, "outcome" => outcome).increment(1);
}

pub(crate) fn state_change(provider: &str, status: PaymentStatus) {
    metrics::counter!(STATE_CHANGES, "provider" => provider.to_owned(), "outcome" => status.as_str())
        .increment(1);
}

pub(crate) fn forward(outcome: &'static str) {
    metrics::counter!(FORWARD_ATTEMPTS, "outcome" => outcome).increment(1);
}

impl Ledger {
    /// Set the gauges that need the ledger (outbox depth and failures, payments awaiting
    /// reconciliation and the age of the oldest, per provider): what a scrape calls first.
    pub async fn update_gauges(&self) -> Result<()> {
        let g = self.gauges().await?;
        #[allow(
            clippy::cast_precision_loss,
            reason = "gauges are approximate by nature"
        )]
        {
            metrics::gauge!(OUTBOX_DEPTH).set(g.outbox_pending as f64);
            metrics::gauge!(OUTBOX_FAILED).set(g.outbox_failed as f64);
            let now = self.now_ms();
            for (provider, count, oldest) in g.pending {
                metrics::gauge!(AWAITING, "provider" => provider.clone()).set(count as f64);
                metrics::gauge!(OLDEST_AGE, "provider" => provider)
                    .set((now - oldest).max(0) as f64 / 1000.0);
            }
        }
        Ok(())
    }
}

/// What the gauges are set from.
struct Gauges {
    outbox_pending: i64,
    outbox_failed: i64,
    /// Per provider: payments not final, and the oldest one's creation time.
    pending: Vec<(String, i64, i64)>,
}

impl Ledger {
    /// Queued and failed deliveries, and per provider the payments not final and the oldest
    /// one's creation time.
    async fn gauges(&self) -> Result<Gauges> {
        let (outbox_pending, outbox_failed): (i64, i64) = sqlx::query_as(
            "SELECT \
               (SELECT COUNT(*) FROM deliveries WHERE delivery_state = 'pending'), \
               (SELECT COUNT(*) FROM deliveries WHERE delivery_state = 'failed')",
        )
        .fetch_one(self.pool())
        .await?;
        let pending = sqlx::query_as(
            "SELECT provider, COUNT(*), MIN(created_at) FROM payments WHERE status = 'pending' GROUP BY provider",
        )
        .fetch_all(self.pool())
        .await?;
        Ok(Gauges {
            outbox_pending,
            outbox_failed,
            pending,
        })
    }
}
