//! `PaymentProvider` for Linkifier IPNs: notifications only.

use std::sync::Arc;

use async_trait::async_trait;
use paybridge_core::{
    Capabilities, InMemorySeenStore, Notification, PaymentProvider, RawNotification, Result,
    SeenStore, Verified,
};

use crate::client::PROVIDER_ID;
use crate::notification::CallbackVerifier;

/// Linkifier IPNs behind the common trait. An IPN reports a completed sale: `succeeded`,
/// with `TransactionTypeID` as the provider status.
pub struct LinkifierProvider {
    receiver: CallbackVerifier,
    seen: Arc<dyn SeenStore>,
}

impl LinkifierProvider {
    /// A provider verifying with `receiver`, reporting duplicates through `seen`.
    #[must_use]
    pub fn new(receiver: CallbackVerifier, seen: Arc<dyn SeenStore>) -> Self {
        Self { receiver, seen }
    }

    /// A provider with a process-local duplicate store.
    #[must_use]
    pub fn with_memory_store(receiver: CallbackVerifier) -> Self {
        Self::new(receiver, Arc::new(InMemorySeenStore::new()))
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
        let got = self.receiver.receive(&raw.body, self.seen.as_ref()).await?;
        let duplicate = got.handled.duplicate;
        Ok(got.handled.callback.map(|r| Notification {
            state: r.state(),
            duplicate,
        }))
    }
}
