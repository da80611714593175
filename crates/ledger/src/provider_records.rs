//! The ledger as the providers' payment records ([`paybridge_core::PaymentRecords`]): what a
//! provider remembers of a payment, kept across restarts and processes.

use paybridge_core::PaymentStatus;

use crate::store::Ledger;

/// The ledger as the providers' payment records: a provider built with it
/// (`Stores::in_memory().records(ledger)`) finds its payments after a restart and from
/// another process. Secrets are sealed when the ledger has a seal key, and dropped otherwise.
#[async_trait::async_trait]
impl paybridge_core::PaymentRecords for Ledger {
    async fn remember(&self, payment: paybridge_core::PaymentRecord) -> paybridge_core::Result<()> {
        // A record of a payment further along (its provider reference learnt later) only adds
        // that reference: its state is the ledger's, decided from reports.
        let new = payment.status == PaymentStatus::Pending && self.record_payment(&payment).await?;
        if !new && let Some(provider_reference) = &payment.provider_reference {
            self.set_provider_reference(&payment.provider, &payment.reference, provider_reference)
                .await?;
        }
        Ok(())
    }

    /// The payment row alone: the sealed secret is neither read nor opened.
    async fn recall_public(
        &self,
        provider: &str,
        reference: &str,
    ) -> paybridge_core::Result<Option<paybridge_core::PaymentRecord>> {
        Ok(self
            .payment(provider, reference)
            .await?
            .map(|row| row.payment))
    }

    /// The payment's first check is due at once: the [`crate::Reconciler`] will find out.
    async fn outcome_unknown(&self, provider: &str, reference: &str) -> paybridge_core::Result<()> {
        self.check_now(provider, reference).await?;
        Ok(())
    }

    /// A callback recorded before (and so confirmed then): what it reported.
    async fn callback_seen(
        &self,
        provider: &str,
        key: &str,
    ) -> paybridge_core::Result<Option<paybridge_core::PaymentState>> {
        Ok(self
            .callback(provider, key)
            .await?
            .filter(|c| c.done)
            .and_then(|c| c.outcome)
            .map(|o| paybridge_core::PaymentState {
                payment: paybridge_core::PaymentRef::merchant(o.reference),
                status: o.status,
                provider_status: o.provider_status,
                amount: o.amount,
                message: None,
            }))
    }

    /// At most ten confirmations a minute per payment, in this process.
    fn may_confirm(&self, provider: &str, reference: &str) -> bool {
        self.confirmations
            .take((self.merchant_id(), provider, reference), self.now_ms())
    }

    /// Only with a seal key: without one, secrets are not stored.
    fn keeps_secrets(&self) -> bool {
        self.seal.is_some()
    }

    async fn recall(
        &self,
        provider: &str,
        reference: &str,
    ) -> paybridge_core::Result<Option<paybridge_core::PaymentRecord>> {
        let Some(row) = self.payment(provider, reference).await? else {
            return Ok(None);
        };
        let mut record = row.payment;
        // Without a seal key secrets are not kept (`keeps_secrets`): the record comes back
        // without one instead of failing, so routes that need only its public fields (a
        // card's serial, an invoice's operation id) work on any ledger.
        if self.seal.is_some() {
            record.secret = self.secret(provider, reference).await?;
        }
        Ok(Some(record))
    }
}
