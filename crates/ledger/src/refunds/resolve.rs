//! Refunds whose outcome is unknown, finished: a refund that timed out stays `pending` with its
//! amount reserved (never resent blindly); [`Ledger::resolve_refunds`] asks the provider where
//! it stands ([`PaymentProvider::refund_status`]: a read, or a resend the provider makes
//! harmless — Payoo's `RefundId`, a Qvickly credit of the rest) and settles it, or gives the
//! reservation back. A provider
//! that cannot tell leaves it pending, for a person (`paybridge ledger refunds`).

use std::time::Duration;

use paybridge_core::{Money, PaymentProvider, PaymentRef, RefundQuery, RefundRequest};

use crate::clock::duration_ms;
use crate::error::Result;
use crate::refunds::records::{RefundOutcome, RefundRecord, StoredRefund};
use crate::reports::SUCCEEDED_REFUNDS_MINOR;
use crate::store::Ledger;
use crate::values::{from_minor_units, money_from};

/// How long a refund stays `pending` before its outcome counts as unknown: longer than any
/// request's deadline, so that a refund still being sent is never asked about (nor its
/// reservation released on a read that came too early).
pub const UNKNOWN_AFTER: Duration = Duration::from_mins(1);

/// A pending refund, with what its payment was paid and what went back before.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PendingRefund {
    /// The refund.
    pub refund: RefundRecord,
    /// What the payment was paid.
    pub paid: Money,
    /// What refunds of it that succeeded gave back.
    pub refunded_before: Money,
    /// The payment's provider reference.
    pub provider_reference: Option<String>,
}

/// A pending refund as read, with its payment's money.
#[derive(sqlx::FromRow)]
struct PendingRow {
    #[sqlx(flatten)]
    refund: StoredRefund,
    payment_amount: String,
    paid_amount: Option<String>,
    provider_reference: Option<String>,
    succeeded_minor: i64,
}

/// What [`Ledger::resolve_refunds`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Resolved {
    /// Pending refunds asked about.
    pub asked: u64,
    /// Found done: recorded `succeeded` (the payment's change handed out like any).
    pub succeeded: u64,
    /// Found not done: recorded `failed`, the reserved amount given back.
    pub failed: u64,
    /// The provider could not tell (or cannot be asked): still pending.
    pub unknown: u64,
}

impl Ledger {
    /// The refunds of `provider` still pending whose last word is older than `older_than`
    /// (their outcome unknown), oldest first, at most 100.
    pub async fn pending_refunds(
        &self,
        provider: &str,
        older_than: Duration,
    ) -> Result<Vec<PendingRefund>> {
        let before = self.now_ms().saturating_sub(duration_ms(older_than));
        self.pending_before(provider, before, 100, None).await
    }

    /// Ask `provider` about each of its refunds pending longer than `older_than` and record
    /// what it says ([`Ledger::finish_refund`]); one it cannot tell about stays pending.
    pub async fn resolve_refunds(
        &self,
        provider: &dyn PaymentProvider,
        older_than: Duration,
    ) -> Result<Resolved> {
        let mut done = Resolved::default();
        for pending in self.pending_refunds(provider.id(), older_than).await? {
            done.asked += 1;
            match self.resolve_one(provider, &pending).await? {
                Some(paybridge_core::RefundStatus::Succeeded) => done.succeeded += 1,
                Some(paybridge_core::RefundStatus::Failed) => done.failed += 1,
                _ => done.unknown += 1,
            }
        }
        Ok(done)
    }

    /// Resolve refund `refund_id` of `reference` if it is pending with its outcome unknown
    /// (pending a minute or more: one being sent now is left alone) — what a retry of the same
    /// refund id does ([`Ledger::refund`]).
    pub(crate) async fn resolve_if_unknown(
        &self,
        provider: &dyn PaymentProvider,
        reference: &str,
        refund_id: &str,
    ) -> Result<()> {
        let before = self.now_ms().saturating_sub(duration_ms(UNKNOWN_AFTER));
        for pending in self
            .pending_before(provider.id(), before, 1, Some((reference, refund_id)))
            .await?
        {
            self.resolve_one(provider, &pending).await?;
        }
        Ok(())
    }

    /// Refunds of `provider` still pending whose last word is older than `before` (an outcome
    /// unknown), oldest first, each with what its payment was paid and what refunds that
    /// succeeded gave back.
    async fn pending_before(
        &self,
        provider: &str,
        before: i64,
        limit: i64,
        only: Option<(&str, &str)>,
    ) -> Result<Vec<PendingRefund>> {
        let sql = format!(
            "SELECT r.provider, r.reference, r.refund_id, r.amount, r.currency, r.status, r.provider_status, \
               r.provider_refund_id, r.created_at, r.amount_minor, p.amount AS payment_amount, p.paid_amount, \
               p.provider_reference, {SUCCEEDED_REFUNDS_MINOR} AS succeeded_minor \
             FROM refunds r JOIN payments p ON p.merchant = r.merchant AND p.provider = r.provider AND p.reference = r.reference \
             WHERE r.merchant = $6 AND r.provider = $1 AND r.status = 'pending' AND r.updated_at <= $2 \
               AND ($4 IS NULL OR (r.reference = $4 AND r.refund_id = $5)) \
             ORDER BY r.created_at LIMIT $3"
        );
        let (reference, refund_id) = only.unzip();
        let rows: Vec<PendingRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(provider)
            .bind(before)
            .bind(limit)
            .bind(reference)
            .bind(refund_id)
            .bind(self.merchant_id())
            .fetch_all(self.pool())
            .await?;
        rows.into_iter()
            .map(|row| {
                let paid = row.paid_amount.as_deref().unwrap_or(&row.payment_amount);
                let paid = money_from(paid, &row.refund.currency)?;
                let refund = RefundRecord::try_from(row.refund)?;
                Ok(PendingRefund {
                    paid,
                    refunded_before: from_minor_units(
                        row.succeeded_minor,
                        refund.amount.currency(),
                    )?,
                    provider_reference: row.provider_reference,
                    refund,
                })
            })
            .collect()
    }

    /// Ask `provider` about one pending refund and record what it says; `None` when it could
    /// not tell (still pending).
    async fn resolve_one(
        &self,
        provider: &dyn PaymentProvider,
        pending: &PendingRefund,
    ) -> Result<Option<paybridge_core::RefundStatus>> {
        {
            let r = &pending.refund;
            let query = RefundQuery::new(
                RefundRequest::partial(&r.refund_id, r.amount),
                pending.refunded_before,
                pending.paid,
            );
            let payment = PaymentRef {
                reference: r.reference.clone(),
                provider_reference: pending.provider_reference.clone(),
            };
            match provider.refund_status(&payment, &query).await {
                Ok(state) => {
                    let mut outcome = RefundOutcome::new(state.status, state.provider_status);
                    outcome.provider_refund_id = state.provider_refund_id;
                    self.finish_refund(provider.id(), &r.reference, &r.refund_id, &outcome)
                        .await?;
                    Ok(Some(state.status))
                }
                Err(e) => {
                    tracing::warn!(provider = provider.id(), reference = %r.reference, refund = %r.refund_id, error = %e, "refund outcome still unknown");
                    Ok(None)
                }
            }
        }
    }
}
