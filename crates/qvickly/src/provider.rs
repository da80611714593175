//! `PaymentProvider` for Qvickly: notifications only (payments are created in Qvickly's
//! checkout, outside this SDK); `capabilities()` says so.

use std::sync::Arc;

use async_trait::async_trait;
use paybridge_core::{
    Capabilities, InMemorySeenStore, Notification, PaymentProvider, RawNotification, Result,
    SeenStore, Verified,
};

use crate::client::PROVIDER_ID;
use crate::notification::{CallbackVerifier, deduplicate};

/// Qvickly callbacks behind the common trait.
pub struct QvicklyProvider {
    verifier: CallbackVerifier,
    seen: Arc<dyn SeenStore>,
}

impl QvicklyProvider {
    /// A provider verifying with `verifier`, reporting duplicates through `seen`.
    #[must_use]
    pub fn new(verifier: CallbackVerifier, seen: Arc<dyn SeenStore>) -> Self {
        Self { verifier, seen }
    }

    /// A provider with a process-local duplicate store.
    #[must_use]
    pub fn with_memory_store(verifier: CallbackVerifier) -> Self {
        Self::new(verifier, Arc::new(InMemorySeenStore::new()))
    }
}

#[async_trait]
impl PaymentProvider for QvicklyProvider {
    fn id(&self) -> &'static str {
        PROVIDER_ID
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::NOTIFICATIONS_ONLY
    }

    async fn verify_notification(&self, raw: &RawNotification) -> Result<Verified<Notification>> {
        let handled = deduplicate(self.verifier.verify(raw)?, self.seen.as_ref()).await?;
        let duplicate = handled.duplicate;
        Ok(handled.callback.map(|cb| Notification {
            state: cb.state(),
            duplicate,
        }))
    }
}
