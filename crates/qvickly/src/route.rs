//! Qvickly's callback endpoint for a receiver ([`CallbackRoute`]): `POST /qvickly/callback`
//! (JSON, form or the booking API's XML). A test-mode callback is acknowledged and not
//! reported unless the route accepts test callbacks. A callback carries no amount: with the
//! Payment API ([`Route::confirmed`]) its number is asked about (`getPaymentinfo`) and what
//! Qvickly answers — status and total, for the same order — is what is recorded.

use paybridge_core::{Acknowledgement, CallbackRoute, PaymentRecords, RawNotification, Received};

use crate::api::{PaymentApi, PaymentDetails};
use crate::client::PROVIDER_ID;
use crate::notification::{CALLBACK_ANSWER, CallbackVerifier, QvicklyCallback};

/// The Qvickly callback route.
#[derive(Debug, Clone)]
pub struct Route {
    verifier: CallbackVerifier,
    accept_test: bool,
    api: Option<PaymentApi>,
}

/// Ask Qvickly about a verified callback's payment: its `getPaymentinfo` (status and total)
/// for the callback's number, refused when it is about another order (a genuine callback
/// re-addressed) or cannot be asked (retry: the callback is not acknowledged).
pub async fn confirm(
    api: &PaymentApi,
    cb: &paybridge_core::Verified<QvicklyCallback>,
) -> paybridge_core::Result<PaymentDetails> {
    let number = cb
        .number
        .as_deref()
        .filter(|n| !n.is_empty())
        .ok_or_else(|| paybridge_core::Error::callback("callback without data.number"))?;
    let details = api.payment_info(number).await.map_err(|e| {
        let e = paybridge_core::Error::from(e);
        if e.kind() == paybridge_core::ErrorKind::Signature {
            e
        } else {
            paybridge_core::Error::transport(
                "cannot confirm the callback with getPaymentinfo; retry",
                e,
            )
        }
    })?;
    if details.orderid.is_some() && details.orderid != cb.order_id {
        return Err(paybridge_core::Error::Signature(format!(
            "payment {number} is order {:?} at Qvickly, the callback says {:?}",
            details.orderid, cb.order_id
        )));
    }
    Ok(details)
}

impl Route {
    /// Callbacks verified by `verifier`; test-mode ones are acknowledged and never reported.
    #[must_use]
    pub fn new(verifier: CallbackVerifier) -> Self {
        Self {
            verifier,
            accept_test: false,
            api: None,
        }
    }

    /// Callbacks verified by `verifier` and each confirmed with `api` (`getPaymentinfo`):
    /// the recorded status and amount are Qvickly's answer, not the callback's.
    #[must_use]
    pub fn confirmed(verifier: CallbackVerifier, api: PaymentApi) -> Self {
        Self {
            api: Some(api),
            ..Self::new(verifier)
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
        records: &dyn PaymentRecords,
    ) -> paybridge_core::Result<Received> {
        let cb = self.verifier.verify(raw)?;
        if cb.test && !self.accept_test {
            tracing::warn!(
                "test-mode Qvickly callback acknowledged and not credited (accept it with Route::accept_test / PAYBRIDGE_QVICKLY_ACCEPT_TEST=1)"
            );
            return Ok(Received::Ignore(Acknowledgement::ok(CALLBACK_ANSWER)));
        }
        let key = cb.dedup_key()?;
        let ack = Acknowledgement::ok(CALLBACK_ANSWER);
        if let Some(duplicate) =
            Received::seen(records, PROVIDER_ID, &key, &cb.state(), &ack).await?
        {
            return Ok(duplicate);
        }
        let confirmed = match &self.api {
            Some(api) => {
                let order = cb.order_id.as_deref().unwrap_or_default();
                if let Some(e) = paybridge_core::confirmation_budget(records, PROVIDER_ID, order) {
                    return Err(e);
                }
                Some(confirm(api, &cb).await?)
            }
            None => None,
        };
        // A callback carries no amount. Its signed number and orderid bind it to the payment
        // recorded under that orderid (the number Qvickly gave it, once known); unconfirmed,
        // it is believed at the amount recorded for that payment — never at none.
        let recorded = match cb.order_id.as_deref() {
            Some(order) => records.recall_public(PROVIDER_ID, order).await?,
            None => None,
        };
        if let Some(record) = &recorded
            && let (Some(known), Some(said)) = (&record.provider_reference, &cb.number)
            && known != said
        {
            return Err(paybridge_core::Error::Signature(format!(
                "the callback's payment number {said:?} is not the one recorded for order {:?}",
                record.reference
            )));
        }
        // A checkout's (or pay link's) payment number is first told by its callback: kept,
        // so that activating, crediting and checking it find it.
        if let Some(record) = &recorded
            && record.provider_reference.is_none()
            && let Some(number) = cb.number.as_deref().filter(|n| !n.is_empty())
        {
            // `remember` of a payment already recorded only adds its provider reference.
            records
                .remember(record.clone().provider_reference(number))
                .await?;
        }
        let recorded = if confirmed.is_some() { None } else { recorded };
        Ok(Received::report(
            key,
            cb,
            |cb| {
                let mut state = cb.state();
                if let Some(d) = confirmed {
                    d.state(state.payment)
                } else {
                    state.amount = recorded.map(|r| r.amount);
                    state
                }
            },
            ack,
        ))
    }
}
