//! `PaymentProvider` for Qvickly: notifications only (payments are created in Qvickly's
//! checkout, outside this SDK); `capabilities()` says so.

use paybridge_core::provider::prelude::*;

use crate::client::PROVIDER_ID;
use crate::notification::{CallbackVerifier, QvicklyCallback, deduplicate};

/// Qvickly callbacks behind the common trait.
pub struct QvicklyProvider {
    verifier: CallbackVerifier,
    stores: Stores,
}

impl QvicklyProvider {
    /// A provider verifying with `verifier`, reporting duplicates through `stores.seen`
    /// (`Stores::in_memory()` for one process).
    #[must_use]
    pub fn new(verifier: CallbackVerifier, stores: Stores) -> Self {
        Self { verifier, stores }
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
        let handled = deduplicate(self.verifier.verify(raw)?, self.stores.seen.as_ref()).await?;
        Ok(handled.into_notification(QvicklyCallback::state))
    }
}
