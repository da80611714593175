//! The card gateways' callback endpoint for a receiver ([`CallbackRoute`]): `GET` or `POST`
//! `/card-charging/callback`.
//!
//! `callback_sign` covers only the card (code and serial), so each callback is checked
//! twice before it becomes a report: the card must be the one the merchant recorded for the
//! request id ([`paybridge_core::PaymentRecord::instrument`], the serial), and — unless the
//! route was built knowingly without it — the gateway's `check` (same request id) must agree
//! on status, face value, amount and transaction id.

use paybridge_core::{
    Acknowledgement, CallbackRoute, Error, ErrorKind, PaymentRecords, RawNotification, Received,
};
use secrecy::SecretString;

use crate::client::{Client, PROVIDER_ID};
use crate::notification::{CALLBACK_ANSWER, CallbackVerifier};

/// The card callback route.
#[derive(Debug, Clone)]
pub struct Route {
    verifier: CallbackVerifier,
    check: Option<Client>,
}

impl Route {
    /// Callbacks verified with `client`'s partner key and each confirmed with the gateway
    /// through `client`.
    #[must_use]
    pub fn confirmed(client: Client) -> Self {
        Self {
            verifier: client.callback_verifier(),
            check: Some(client),
        }
    }

    /// Callbacks verified with `partner_key` **without** asking the gateway: their status,
    /// amounts and request id are believed as sent though nothing signs them (the card must
    /// still be the one recorded). Logged as a warning; only where the gateway has no `check`.
    #[must_use]
    pub fn trusting_unsigned_status(partner_key: SecretString) -> Self {
        tracing::warn!(
            "card callbacks are not confirmed with the gateway: their status and amounts are unsigned"
        );
        Self {
            verifier: CallbackVerifier::new(partner_key),
            check: None,
        }
    }
}

#[async_trait::async_trait]
impl CallbackRoute for Route {
    fn provider(&self) -> &'static str {
        PROVIDER_ID
    }

    fn path(&self) -> &'static str {
        "/card-charging/callback"
    }

    fn methods(&self) -> &'static [http::Method] {
        &[http::Method::GET, http::Method::POST]
    }

    async fn receive(
        &self,
        raw: &RawNotification,
        records: &dyn PaymentRecords,
    ) -> paybridge_core::Result<Received> {
        let cb = self.verifier.verify(raw)?;
        // The request id is unsigned: a genuine callback about one card, re-addressed, must
        // not touch another payment.
        if let Some(recorded) = records.recall_public(PROVIDER_ID, &cb.request_id).await?
            && let Some(serial) = recorded.instrument.as_deref()
            && serial != cb.serial
        {
            return Err(Error::Signature(format!(
                "the callback's card is not the card recorded for request {:?}",
                cb.request_id
            )));
        }
        let key = cb.dedup_key();
        let ack = Acknowledgement::ok(CALLBACK_ANSWER);
        if let Some(duplicate) =
            Received::seen(records, PROVIDER_ID, &key, &cb.state(), &ack).await?
        {
            return Ok(duplicate);
        }
        if self.check.is_some()
            && let Some(e) =
                paybridge_core::confirmation_budget(records, PROVIDER_ID, &cb.request_id)
        {
            return Err(e);
        }
        if let Some(client) = &self.check
            && let Err(e) = client.confirm_callback(&cb).await
        {
            let e = Error::from(e);
            return Err(if e.kind() == ErrorKind::Signature {
                e
            } else {
                Error::transport("cannot confirm with the gateway; retry", e)
            });
        }
        Ok(Received::report(key, cb, |cb| cb.state(), ack))
    }
}
