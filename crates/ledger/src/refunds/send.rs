//! A refund sent to the provider once, recorded before and after.

use crate::refunds::records::{RefundOutcome, RefundRecord, RefundStart};
use crate::reports::Applied;
use crate::store::Ledger;

/// What [`Ledger::refund`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
#[allow(
    clippy::large_enum_variant,
    reason = "one per refund, returned and matched at once, never stored in bulk"
)]
pub enum Refunded {
    /// Sent once and answered: the provider's word, and what it did to the payment.
    Done {
        /// The provider's answer.
        refund: paybridge_core::RefundState,
        /// The payment's state change, if any (`partially_refunded`, `reversed`).
        applied: Applied,
    },
    /// This refund id was started before: nothing was sent; where it stands.
    Repeat(RefundRecord),
}

/// What to do about a refund whose outcome is unknown.
pub const REFUND_ADVICE: &str = "the refund stays pending in the ledger with its amount reserved: `paybridge ledger refunds --resolve` (or the reconciler) asks the provider where it stands and records it; never send it again under another refund id";

impl Ledger {
    /// Refund through `provider`, recorded: [`Ledger::start_refund`] (a repeat of the refund id
    /// is answered from the ledger and nothing is sent; more than was paid is refused before
    /// sending), then the provider asked **once** for exactly the reserved amount, then
    /// [`Ledger::finish_refund`] with its answer. A refusal or an error before the request left
    /// gives the reservation back; an outcome unknown keeps it reserved and the refund
    /// `pending` (the error's advice says how to find out) — never resent.
    pub async fn refund(
        &self,
        provider: &dyn paybridge_core::PaymentProvider,
        payment: &paybridge_core::PaymentRef,
        request: paybridge_core::RefundRequest,
    ) -> paybridge_core::Result<Refunded> {
        let id = provider.id();
        let refund = match self
            .start_refund(id, &payment.reference, &request.refund_id, request.amount)
            .await?
        {
            // The same refund id again while its outcome is unknown: the provider is asked
            // where it stands (Payoo: resent under the same RefundId, harmless) — never sent
            // under a new id; one still being sent (pending under a minute) is left alone.
            RefundStart::Repeat(record)
                if record.status == paybridge_core::RefundStatus::Pending =>
            {
                self.resolve_if_unknown(provider, &payment.reference, &record.refund_id)
                    .await?;
                let now = self
                    .refunds(id, &payment.reference)
                    .await?
                    .into_iter()
                    .find(|r| r.refund_id == record.refund_id)
                    .unwrap_or(record);
                return Ok(Refunded::Repeat(now));
            }
            RefundStart::Repeat(record) => return Ok(Refunded::Repeat(record)),
            RefundStart::New(record) => record,
        };
        let mut exact = paybridge_core::RefundRequest::partial(&refund.refund_id, refund.amount);
        exact.reason = request.reason;
        match provider.refund(payment, exact).await {
            Ok(state) => {
                let mut outcome = RefundOutcome::new(state.status, state.provider_status.clone());
                outcome
                    .provider_refund_id
                    .clone_from(&state.provider_refund_id);
                let applied = self
                    .finish_refund(id, &payment.reference, &refund.refund_id, &outcome)
                    .await?;
                Ok(Refunded::Done {
                    refund: state,
                    applied,
                })
            }
            Err(e) if e.outcome_unknown() => Err(e),
            // Only a refusal the provider answered, or an error before anything was sent, says
            // no money moved. A timeout, a broken connection, an answer that could not be read
            // or verified may follow a refund the provider made — even one whose resend it makes
            // harmless: the refund stays pending, its amount reserved, and the caller is told.
            Err(e)
                if !matches!(
                    e,
                    paybridge_core::Error::Provider { .. }
                        | paybridge_core::Error::Input(_)
                        | paybridge_core::Error::Unsupported { .. }
                        | paybridge_core::Error::Config { .. }
                ) =>
            {
                Err(paybridge_core::Error::OutcomeUnknown {
                    provider: id,
                    operation: "refund",
                    reference: refund.refund_id.clone(),
                    cause: e.to_string(),
                    advice: REFUND_ADVICE,
                    source: Some(Box::new(e)),
                })
            }
            Err(e) => {
                let code = e.provider_code().unwrap_or("error").to_owned();
                self.finish_refund(
                    id,
                    &payment.reference,
                    &refund.refund_id,
                    &RefundOutcome::new(paybridge_core::RefundStatus::Failed, code),
                )
                .await?;
                Err(e)
            }
        }
    }
}
