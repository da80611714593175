//! Payoo's notification endpoint for a receiver ([`CallbackRoute`]): `POST /payoo/notify`,
//! either form (the JSON one is checked against the request's peer address,
//! [`RawNotification::remote_addr`]); acknowledged with `NOTIFY_RECEIVED`.

use paybridge_core::{Acknowledgement, CallbackRoute, PaymentRecords, RawNotification, Received};
use secrecy::SecretString;

use crate::client::PROVIDER_ID;
use crate::notification::{CallbackVerifier, NOTIFY_RECEIVED};

/// The Payoo notification route.
#[derive(Debug, Clone)]
pub struct Route {
    verifier: CallbackVerifier,
}

impl Route {
    /// Notifications signed with `checksum_key`.
    #[must_use]
    pub fn new(checksum_key: SecretString) -> Self {
        Self {
            verifier: CallbackVerifier::new(checksum_key),
        }
    }
}

#[async_trait::async_trait]
impl CallbackRoute for Route {
    fn provider(&self) -> &'static str {
        PROVIDER_ID
    }

    fn path(&self) -> &'static str {
        "/payoo/notify"
    }

    async fn receive(
        &self,
        raw: &RawNotification,
        _records: &dyn PaymentRecords,
    ) -> paybridge_core::Result<Received> {
        let n = self.verifier.verify(raw)?;
        let (key, state) = (n.dedup_key(), n.state()?);
        Ok(Received::report(
            key,
            n,
            |_| state,
            Acknowledgement::ok(NOTIFY_RECEIVED),
        ))
    }
}
