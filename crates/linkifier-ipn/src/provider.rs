//! `PaymentProvider` for Linkifier IPNs: notifications only.

use paybridge_core::provider::prelude::*;

use crate::client::PROVIDER_ID;
use crate::notification::CallbackVerifier;

/// Linkifier IPNs behind the common trait. The state is [`CallbackVerifier::state`]:
/// [`IpnRecord::status`](crate::IpnRecord::status)'s reading (a refund or chargeback `reversed`, a failed fraud check
/// `failed`, a sale `succeeded`) under a hash rule that signs the status fields, `pending`
/// under one that does not; `TransactionTypeID` is the provider status.
pub struct LinkifierProvider {
    receiver: CallbackVerifier,
    stores: Stores,
}

impl LinkifierProvider {
    /// A provider verifying with `receiver`, reporting duplicates through `stores.seen`
    /// (`Stores::in_memory()` for one process).
    #[must_use]
    pub fn new(receiver: CallbackVerifier, stores: Stores) -> Self {
        Self { receiver, stores }
    }
}

#[async_trait]
impl PaymentProvider for LinkifierProvider {
    fn id(&self) -> &'static str {
        PROVIDER_ID
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::NOTIFICATIONS_ONLY
    }

    async fn verify_notification(&self, raw: &RawNotification) -> Result<Verified<Notification>> {
        let got = self
            .receiver
            .receive(&raw.body, self.stores.seen.as_ref())
            .await?;
        Ok(got.handled.into_notification(|r| self.receiver.state(r)))
    }
}
