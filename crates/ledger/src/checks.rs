//! The ledger's side of reconciliation: which pending payments are due for a status check,
//! claimed so that one reconciler asks about each, and what a check came to — recorded in one
//! transaction with the provider's answer decided like any report.

use crate::error::Result;
use crate::handler::{Callback, Handed, Handing, hand_in_transaction};
use crate::payments::{PAYMENT_COLUMNS, PaymentRow, SET_PROVIDER_REFERENCE, payments_of};
use crate::reports::{Applied, Decided, Outcome, Report, Source, apply, on_what_it_says};
use crate::state::Anomaly;
use crate::store::Ledger;

/// What follows a check that left the payment pending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AfterCheck {
    /// Check again at this time (Unix milliseconds).
    Next(i64),
    /// Give up: `needs_review`, `unreconciled`.
    GiveUp,
}

/// What a status check came to, as [`Ledger::finish_check`] records it.
#[derive(Clone, Copy)]
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

/// A pending payment is due for a check now (an outcome-unknown request, `reconcile --all`).
const DUE_NOW: &str = "UPDATE payments SET next_check_at = $1 \
     WHERE provider = $2 AND reference = $3 AND merchant = $4 AND next_check_at IS NOT NULL AND next_check_at > $1";

const ALL_DUE_NOW: &str = "UPDATE payments SET next_check_at = $1 WHERE merchant = $2 AND next_check_at IS NOT NULL AND next_check_at > $1";

/// Take up to `$4` payments of a provider whose check is due (`next_check_at <= $3`): each
/// taken row's next check moves to the claim's end (`$1`), so no other reconciler takes it
/// meanwhile and, should this one die, it is due again then. PostgreSQL skips rows another
/// transaction holds (`FOR UPDATE SKIP LOCKED`); SQLite has one writer at a time.
const CLAIM_DUE: &str = "UPDATE payments SET next_check_at = $1 WHERE (merchant, provider, reference) IN ( \
       SELECT merchant, provider, reference FROM payments WHERE merchant = $5 AND provider = $2 AND next_check_at <= $3 \
       ORDER BY next_check_at LIMIT $4 {lock}) \
     RETURNING {columns}";

/// The check's claim still holds (no other reconciler took the payment over since): count it.
const CHECKED: &str = "UPDATE payments SET checks = checks + 1, last_check_error = $1 \
     WHERE provider = $2 AND reference = $3 AND next_check_at = $4 AND merchant = $5";

const NEXT_CHECK: &str = "UPDATE payments SET next_check_at = $1 \
     WHERE provider = $2 AND reference = $3 AND status = 'pending' AND merchant = $4";

impl Ledger {
    /// Make a pending payment's check due now: the request that created it ended with its
    /// outcome unknown, so the reconciler should ask at once. `false` when the ledger holds no
    /// such pending payment.
    pub async fn check_now(&self, provider: &str, reference: &str) -> Result<bool> {
        let due = sqlx::query(DUE_NOW)
            .bind(self.now_ms())
            .bind(provider)
            .bind(reference)
            .bind(self.merchant_id())
            .execute(self.pool())
            .await?;
        Ok(due.rows_affected() == 1)
    }

    /// Make every pending payment's check due now, whatever its schedule (`reconcile --all`);
    /// returns how many.
    pub async fn check_all_now(&self) -> Result<u64> {
        let due = sqlx::query(ALL_DUE_NOW)
            .bind(self.now_ms())
            .bind(self.merchant_id())
            .execute(self.pool())
            .await?;
        Ok(due.rows_affected())
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
        let sql = CLAIM_DUE
            .replace("{lock}", self.store.skip_locked())
            .replace("{columns}", PAYMENT_COLUMNS);
        let rows = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(until)
            .bind(provider)
            .bind(due)
            .bind(limit)
            .bind(self.merchant_id())
            .fetch_all(self.pool())
            .await?;
        payments_of(rows)
    }

    /// Record a check of a payment claimed until `claimed_until`, in one transaction: count
    /// it (unless another reconciler took the payment over: `None`), decide the provider's
    /// answer like any report (source `status_check`), and — if the payment is still pending —
    /// schedule its next check or give up on it (`needs_review`, `unreconciled`); the change,
    /// if any, handed to the handler as `handing` asks — one commit per checked payment.
    pub(crate) async fn finish_check(
        &self,
        provider: &'static str,
        reference: &str,
        claimed_until: i64,
        result: CheckResult<'_>,
        handing: Handing<'_>,
    ) -> Result<Option<(Applied, Handed)>> {
        let now = self.now_ms();
        let mut tx = self.pool().begin().await?;
        let held = sqlx::query(CHECKED)
            .bind(result.error)
            .bind(provider)
            .bind(reference)
            .bind(claimed_until)
            .bind(self.merchant_id())
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        if !held {
            return Ok(None);
        }
        if let Some(found) = result.provider_reference {
            sqlx::query(SET_PROVIDER_REFERENCE)
                .bind(found)
                .bind(now)
                .bind(provider)
                .bind(reference)
                .bind(self.merchant_id())
                .execute(&mut *tx)
                .await?;
        }
        let born = handing.born(self);
        let mut decided = match result.answer {
            Some(outcome) => {
                let report = Report {
                    born,
                    ..Report::new(
                        self.merchant_id(),
                        provider,
                        outcome,
                        Source::StatusCheck,
                        now,
                    )
                };
                apply(&mut tx, report, on_what_it_says(outcome)).await?
            }
            None => Decided::nothing(),
        };
        if decided.applied == Applied::Unchanged {
            match result.after {
                AfterCheck::Next(at) => {
                    sqlx::query(NEXT_CHECK)
                        .bind(at)
                        .bind(provider)
                        .bind(reference)
                        .bind(self.merchant_id())
                        .execute(&mut *tx)
                        .await?;
                }
                AfterCheck::GiveUp => {
                    let gave_up = Outcome::new(
                        reference,
                        paybridge_core::PaymentStatus::NeedsReview,
                        Anomaly::Unreconciled.as_str(),
                    );
                    let report = Report {
                        born,
                        ..Report::new(
                            self.merchant_id(),
                            provider,
                            &gave_up,
                            Source::StatusCheck,
                            now,
                        )
                    };
                    decided = apply(&mut tx, report, |current, _, _| {
                        crate::state::give_up(current)
                    })
                    .await?;
                }
            }
        }
        let applied = decided.applied.clone();
        let handed = hand_in_transaction(&mut tx, handing, decided, |change| {
            Callback::new(provider, change, None)
        })
        .await?;
        if let Handed::Failed(e) = handed {
            // As a callback's: the handler's writes and the decision go; recorded again with
            // the change open (handed out again as a stranded change).
            tx.rollback().await?;
            let again = Box::pin(self.finish_check(
                provider,
                reference,
                claimed_until,
                result,
                Handing::Later,
            ))
            .await?;
            return Ok(again.map(|(applied, _)| (applied, Handed::Failed(e))));
        }
        tx.commit().await?;
        Ok(Some((applied, handed)))
    }
}
