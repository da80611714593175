//! Linkifier's IPN endpoint for a receiver ([`CallbackRoute`]): `POST /linkifier/ipn`,
//! answered with an `IPNEventRaisedResponse` in the request's SOAP version.

use paybridge_core::{Acknowledgement, CallbackRoute, PaymentRecords, RawNotification, Received};

use crate::client::{IpnResult, PROVIDER_ID};
use crate::notification::{CallbackVerifier, response_xml};

/// The Linkifier IPN route.
#[derive(Debug, Clone)]
pub struct Route {
    verifier: CallbackVerifier,
}

impl Route {
    /// IPNs verified by `verifier` (its hash rule decides which fields are handed out, and
    /// whether a status is read at all: [`CallbackVerifier::state`]).
    #[must_use]
    pub fn new(verifier: CallbackVerifier) -> Self {
        Self { verifier }
    }
}

#[async_trait::async_trait]
impl CallbackRoute for Route {
    fn provider(&self) -> &'static str {
        PROVIDER_ID
    }

    fn path(&self) -> &'static str {
        "/linkifier/ipn"
    }

    async fn receive(
        &self,
        raw: &RawNotification,
        _records: &dyn PaymentRecords,
    ) -> paybridge_core::Result<Received> {
        let (record, version) = self.verifier.verify(raw)?;
        let key = record.dedup_key()?;
        let answer = response_xml(
            version,
            &IpnResult {
                has_errors: false,
                error_code: 0,
                message: "IPN received".into(),
                extra_message: String::new(),
            },
        )?;
        let state = self.verifier.state(&record);
        Ok(Received::report(
            key,
            record,
            |_| state,
            Acknowledgement::ok_typed(version.response_content_type(), answer),
        ))
    }
}
