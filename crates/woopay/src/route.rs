//! Wooppay's `requestUrl` endpoint for a receiver ([`CallbackRoute`]):
//! `GET /woopay/request-url?reference=R`.
//!
//! Wooppay's call carries nothing of its own and is signed by nothing: it only prompts. The
//! operation id comes from the payment the merchant recorded for the reference (its provider
//! reference), and the payment is reported only once `cash_getOperationData` says status 4;
//! anything else is answered `503`, so Wooppay calls again.

use paybridge_core::{
    Acknowledgement, CallbackRoute, Error, PaymentRecords, RawNotification, Received,
};

use crate::client::{Client, PROVIDER_ID};
use crate::notification::REQUEST_URL_ANSWER;

/// The Wooppay `requestUrl` route.
#[derive(Debug, Clone)]
pub struct Route {
    client: Client,
}

impl Route {
    /// Calls confirmed with `client`.
    #[must_use]
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

#[async_trait::async_trait]
impl CallbackRoute for Route {
    fn provider(&self) -> &'static str {
        PROVIDER_ID
    }

    fn path(&self) -> &'static str {
        "/woopay/request-url"
    }

    fn methods(&self) -> &'static [http::Method] {
        &[http::Method::GET]
    }

    async fn receive(
        &self,
        raw: &RawNotification,
        records: &dyn PaymentRecords,
    ) -> paybridge_core::Result<Received> {
        let reference = form_urlencoded::parse(raw.query.as_bytes())
            .find(|(k, _)| k == "reference")
            .map(|(_, v)| v.into_owned())
            .ok_or_else(|| Error::callback("no reference in the requestUrl"))?;
        let operation = records
            .recall_public(PROVIDER_ID, &reference)
            .await?
            .and_then(|p| p.provider_reference)
            .and_then(|id| id.parse::<i64>().ok())
            .ok_or_else(|| {
                Error::callback(format!("the ledger knows no Wooppay invoice {reference:?}"))
            })?;
        let key = format!("{operation}:4");
        let ack = Acknowledgement::ok_typed("application/json", REQUEST_URL_ANSWER);
        // The requestUrl says only "this invoice is paid": the same again is a duplicate.
        let says = paybridge_core::PaymentState {
            payment: paybridge_core::PaymentRef::merchant(&reference),
            status: paybridge_core::PaymentStatus::Succeeded,
            provider_status: "4".to_owned(),
            amount: None,
            message: None,
        };
        if let Some(duplicate) = Received::seen(records, PROVIDER_ID, &key, &says, &ack).await? {
            return Ok(duplicate);
        }
        if let Some(e) = paybridge_core::confirmation_budget(records, PROVIDER_ID, &reference) {
            return Err(e);
        }
        match self.client.confirm_payment(operation).await {
            Ok(op) => Ok(Received::report(key, op, |op| op.state(&reference), ack)),
            // Not paid (yet), or Wooppay unreachable: Wooppay calls again.
            Err(e) => {
                tracing::warn!(operation, error = %e, "requestUrl not confirmed");
                Ok(Received::Retry(Acknowledgement {
                    status: 503,
                    content_type: None,
                    body: "not confirmed; retry".into(),
                }))
            }
        }
    }
}
