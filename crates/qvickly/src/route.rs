//! Qvickly's callback endpoint for a receiver ([`CallbackRoute`]): `POST /qvickly/callback`
//! (JSON, form or the booking API's XML). A test-mode callback is acknowledged and not
//! reported unless the route accepts test callbacks.

use paybridge_core::{Acknowledgement, CallbackRoute, PaymentRecords, RawNotification, Received};

use crate::client::PROVIDER_ID;
use crate::notification::{CALLBACK_ANSWER, CallbackVerifier};

/// The Qvickly callback route.
#[derive(Debug, Clone)]
pub struct Route {
    verifier: CallbackVerifier,
    accept_test: bool,
}

impl Route {
    /// Callbacks verified by `verifier`; test-mode ones are acknowledged and never reported.
    #[must_use]
    pub fn new(verifier: CallbackVerifier) -> Self {
        Self {
            verifier,
            accept_test: false,
        }
    }

    /// Report test-mode callbacks like live ones (a test shop).
    #[must_use]
    pub fn accept_test(mut self, accept: bool) -> Self {
        self.accept_test = accept;
        self
    }
}

#[async_trait::async_trait]
impl CallbackRoute for Route {
    fn provider(&self) -> &'static str {
        PROVIDER_ID
    }

    fn path(&self) -> &'static str {
        "/qvickly/callback"
    }

    async fn receive(
        &self,
        raw: &RawNotification,
        _records: &dyn PaymentRecords,
    ) -> paybridge_core::Result<Received> {
        let cb = self.verifier.verify(raw)?;
        if cb.test && !self.accept_test {
            tracing::warn!(
                "test-mode Qvickly callback acknowledged and not credited (accept it with Route::accept_test / PAYBRIDGE_QVICKLY_ACCEPT_TEST=1)"
            );
            return Ok(Received::Ignore(Acknowledgement::ok(CALLBACK_ANSWER)));
        }
        let key = cb.dedup_key()?;
        Ok(Received::report(
            key,
            cb,
            |cb| cb.state(),
            Acknowledgement::ok(CALLBACK_ANSWER),
        ))
    }
}
