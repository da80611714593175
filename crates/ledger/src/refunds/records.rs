//! Refunds as the ledger records them: started (the amount reserved against what was paid,
//! in the database), finished with what the provider said, listed.

use paybridge_core::{Money, RefundStatus};

use crate::changes::ChangeRefund;
use crate::error::{LedgerError, Result};
use crate::payments::{PAYMENT_COLUMNS, PaymentRow, StoredPayment};
use crate::reports::{
    Applied, Outcome, Report, SUCCEEDED_REFUNDS_MINOR, Source, apply, lock_payment,
};
use crate::store::Ledger;
use crate::values::{from_minor_units, minor_units, money_from};

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
    pub status: RefundStatus,
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

/// What the provider said of a refund, for [`Ledger::finish_refund`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RefundOutcome {
    /// Where it stands.
    pub status: RefundStatus,
    /// The provider's own code or word.
    pub provider_status: String,
    /// The provider's id for the refund, if it gave one.
    pub provider_refund_id: Option<String>,
}

impl RefundOutcome {
    /// An outcome.
    #[must_use]
    pub fn new(status: RefundStatus, provider_status: impl Into<String>) -> Self {
        Self {
            status,
            provider_status: provider_status.into(),
            provider_refund_id: None,
        }
    }
}

const REFUND_COLUMNS: &str = "provider, reference, refund_id, amount, currency, status, provider_status, provider_refund_id, created_at, amount_minor";

#[derive(sqlx::FromRow)]
pub(crate) struct StoredRefund {
    provider: String,
    reference: String,
    refund_id: String,
    amount: String,
    pub(crate) currency: String,
    status: String,
    provider_status: Option<String>,
    provider_refund_id: Option<String>,
    created_at: i64,
    amount_minor: i64,
}

impl TryFrom<StoredRefund> for RefundRecord {
    type Error = LedgerError;

    fn try_from(row: StoredRefund) -> Result<Self> {
        Ok(Self {
            amount: money_from(&row.amount, &row.currency)?,
            status: match row.status.as_str() {
                "succeeded" => RefundStatus::Succeeded,
                "failed" => RefundStatus::Failed,
                _ => RefundStatus::Pending,
            },
            provider: row.provider,
            reference: row.reference,
            refund_id: row.refund_id,
            provider_status: row.provider_status,
            provider_refund_id: row.provider_refund_id,
            created_at: row.created_at,
        })
    }
}

/// A payment as a refund is started against it: what can be refunded, what was.
#[derive(sqlx::FromRow)]
struct RefundablePayment {
    #[sqlx(flatten)]
    payment: StoredPayment,
    refundable_minor: Option<i64>,
}

/// Reserve a refund's amount against what was paid: refused (no row) when it would give back
/// more. The first refund fixes what can be refunded at all (`$1`, the paid amount).
const RESERVE_REFUND: &str = "UPDATE payments SET refundable_minor = COALESCE(refundable_minor, $1), refunded_minor = refunded_minor + $2 \
     WHERE provider = $3 AND reference = $4 AND merchant = $5 AND refunded_minor + $2 <= COALESCE(refundable_minor, $1)";

const RELEASE_REFUND: &str = "UPDATE payments SET refunded_minor = refunded_minor - $1 WHERE provider = $2 AND reference = $3 AND merchant = $4";

const INSERT_REFUND: &str = "INSERT INTO refunds (provider, reference, refund_id, amount, currency, amount_minor, status, created_at, updated_at, merchant) \
     VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $7, $8)";

const SET_REFUND: &str = "UPDATE refunds SET status = $1, provider_status = $2, provider_refund_id = COALESCE($3, provider_refund_id), updated_at = $4 \
     WHERE provider = $5 AND reference = $6 AND refund_id = $7 AND merchant = $8";

fn refused<T>(why: String) -> Result<T> {
    Err(LedgerError::Refund(why))
}

/// What a refund gives back: the amount asked for, in the payment's currency, or — asked for
/// none — all that is `left` (minor units) of what was `paid`.
fn to_refund(asked: Option<Money>, paid: Money, left: i64, reference: &str) -> Result<Money> {
    match asked {
        Some(a) if a.currency().code() != paid.currency().code() => refused(format!(
            "the payment is in {}, not {}",
            paid.currency().code(),
            a.currency().code()
        )),
        Some(a) => Ok(a),
        None if left > 0 => from_minor_units(left, paid.currency()),
        None => refused(format!("nothing is left to refund of {reference:?}")),
    }
}

impl Ledger {
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
            return refused("a refund needs a refund id".into());
        }
        let now = self.now_ms();
        let mut tx = self.pool().begin().await?;
        lock_payment(&mut tx, self.merchant_id(), provider, reference).await?;
        if let Some(record) =
            refund_in(&mut tx, self.merchant_id(), provider, reference, refund_id).await?
        {
            return Ok(RefundStart::Repeat(RefundRecord::try_from(record)?));
        }
        let sql = format!(
            "SELECT {PAYMENT_COLUMNS}, refundable_minor FROM payments WHERE provider = $1 AND reference = $2 AND merchant = $3"
        );
        let Some(row): Option<RefundablePayment> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(provider)
            .bind(reference)
            .bind(self.merchant_id())
            .fetch_optional(&mut *tx)
            .await?
        else {
            return refused(format!(
                "the ledger holds no {provider} payment {reference:?}"
            ));
        };
        let refundable = row.refundable_minor;
        let payment = PaymentRow::try_from(row.payment)?;
        let status = payment.payment.status;
        if !matches!(
            status,
            paybridge_core::PaymentStatus::Succeeded
                | paybridge_core::PaymentStatus::PartiallyRefunded
        ) {
            return refused(format!(
                "{provider} payment {reference:?} is {status}, not paid"
            ));
        }
        let paid = payment.paid_amount.unwrap_or(payment.payment.amount);
        let paid_minor = minor_units(paid)?;
        let refunded = match payment.refunded_amount {
            Some(r) => minor_units(r)?,
            None => 0,
        };
        let left = refundable.unwrap_or(paid_minor) - refunded;
        let amount = to_refund(amount, paid, left, reference)?;
        let minor = minor_units(amount)?;
        if minor <= 0 {
            return refused("a refund is of more than zero".into());
        }
        let reserved = sqlx::query(RESERVE_REFUND)
            .bind(paid_minor)
            .bind(minor)
            .bind(provider)
            .bind(reference)
            .bind(self.merchant_id())
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        if !reserved {
            return refused(format!(
                "{} {} is more than is left to refund of {reference:?} ({} of {} paid)",
                amount.amount_string(),
                amount.currency().code(),
                from_minor_units(left.max(0), paid.currency())?.amount_string(),
                paid.amount_string(),
            ));
        }
        sqlx::query(INSERT_REFUND)
            .bind(provider)
            .bind(reference)
            .bind(refund_id)
            .bind(amount.amount_string())
            .bind(amount.currency().code())
            .bind(minor)
            .bind(now)
            .bind(self.merchant_id())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(RefundStart::New(RefundRecord {
            provider: provider.to_owned(),
            reference: reference.to_owned(),
            refund_id: refund_id.to_owned(),
            amount,
            status: RefundStatus::Pending,
            provider_status: None,
            provider_refund_id: None,
            created_at: now,
        }))
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
        let now = self.now_ms();
        let mut tx = self.pool().begin().await?;
        lock_payment(&mut tx, self.merchant_id(), provider, reference).await?;
        let Some(stored) =
            refund_in(&mut tx, self.merchant_id(), provider, reference, refund_id).await?
        else {
            return refused(format!(
                "no refund {refund_id:?} of {reference:?} was started"
            ));
        };
        let minor = stored.amount_minor;
        let record = RefundRecord::try_from(stored)?;
        // A refund's end is recorded once: a later word on it changes nothing.
        if record.status != RefundStatus::Pending {
            return Ok(Applied::Unchanged);
        }
        sqlx::query(SET_REFUND)
            .bind(outcome.status.as_str())
            .bind(&outcome.provider_status)
            .bind(&outcome.provider_refund_id)
            .bind(now)
            .bind(provider)
            .bind(reference)
            .bind(refund_id)
            .bind(self.merchant_id())
            .execute(&mut *tx)
            .await?;
        let applied = match outcome.status {
            RefundStatus::Pending => Applied::Unchanged,
            RefundStatus::Failed => {
                sqlx::query(RELEASE_REFUND)
                    .bind(minor)
                    .bind(provider)
                    .bind(reference)
                    .bind(self.merchant_id())
                    .execute(&mut *tx)
                    .await?;
                Applied::Unchanged
            }
            _ => {
                let (refundable, succeeded): (Option<i64>, i64) = sqlx::query_as(
                    sqlx::AssertSqlSafe(format!(
                        "SELECT refundable_minor, {SUCCEEDED_REFUNDS_MINOR} FROM payments p WHERE provider = $1 AND reference = $2 AND merchant = $3"
                    )),
                )
                .bind(provider)
                .bind(reference)
                .bind(self.merchant_id())
                .fetch_one(&mut *tx)
                .await?;
                let fully = succeeded >= refundable.unwrap_or(i64::MAX);
                let word = format!("refund {refund_id}: {}", outcome.provider_status);
                let said = Outcome::new(
                    reference,
                    if fully {
                        paybridge_core::PaymentStatus::Reversed
                    } else {
                        paybridge_core::PaymentStatus::PartiallyRefunded
                    },
                    word,
                );
                let carried = ChangeRefund {
                    provider_refund_id: outcome
                        .provider_refund_id
                        .clone()
                        .or_else(|| record.provider_refund_id.clone()),
                    id: record.refund_id,
                    amount: record.amount,
                };
                let report = Report {
                    refund: Some(&carried),
                    ..Report::new(self.merchant_id(), provider, &said, Source::Refund, now)
                };
                apply(&mut tx, report, |current, _, _| {
                    crate::state::refunded(current, fully)
                })
                .await?
                .applied
            }
        };
        tx.commit().await?;
        Ok(applied)
    }

    /// The refunds of a payment, oldest first.
    pub async fn refunds(&self, provider: &str, reference: &str) -> Result<Vec<RefundRecord>> {
        let sql = format!(
            "SELECT {REFUND_COLUMNS} FROM refunds WHERE provider = $1 AND reference = $2 AND merchant = $3 ORDER BY created_at, refund_id"
        );
        let rows: Vec<StoredRefund> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(provider)
            .bind(reference)
            .bind(self.merchant_id())
            .fetch_all(self.pool())
            .await?;
        rows.into_iter().map(RefundRecord::try_from).collect()
    }
}

/// Refund `refund_id` of a payment, read in `conn`'s transaction.
async fn refund_in(
    conn: &mut sqlx::AnyConnection,
    merchant: &str,
    provider: &str,
    reference: &str,
    refund_id: &str,
) -> Result<Option<StoredRefund>> {
    let sql = format!(
        "SELECT {REFUND_COLUMNS} FROM refunds WHERE provider = $1 AND reference = $2 AND refund_id = $3 AND merchant = $4"
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(provider)
        .bind(reference)
        .bind(refund_id)
        .bind(merchant)
        .fetch_optional(conn)
        .await?)
}
