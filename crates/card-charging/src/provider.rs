//! `PaymentProvider` for card charging: create = `charging`, status = `check`,
//! notification = a verified callback.

use paybridge_core::provider::prelude::*;
use secrecy::ExposeSecret;

use crate::card::{Card, RequestId, Telco};
use crate::client::{ChargeResult, Client, PROVIDER_ID};
use crate::notification::{CallbackVerifier, CardCallback, deduplicate};

/// The card gateway behind the common trait.
///
/// `create_payment` takes the card from the request's [`PaymentMethod::PrepaidCard`] (the code
/// stays a secret; a `code` in `metadata` is refused) and uses `reference` as the request id.
/// The card is remembered in the provider's records ([`Stores::records`]) before it is
/// charged, because `check` must sign with it again: with a ledger there, `payment_status`
/// works after a restart and from another process. `payment_status` needs the card again to
/// sign `check`, so it works for payments created through a provider; for others use
/// [`Client::check`].
pub struct CardChargingProvider {
    client: Client,
    verifier: CallbackVerifier,
    stores: Stores,
}

impl CardChargingProvider {
    /// A provider over `client`. Its [`Stores`] keep each payment with its card (sealed, as a
    /// secret) and the callbacks seen; with a ledger's records `payment_status` works after a
    /// restart and from another process.
    #[must_use]
    pub fn new(client: Client, stores: Stores) -> Self {
        Self {
            verifier: client.callback_verifier(),
            client,
            stores,
        }
    }

    fn state(reference: &str, r: &ChargeResult) -> PaymentState {
        PaymentState {
            payment: PaymentRef {
                // The answer's own request id when it names one: a caller comparing it with
                // the one asked (the reconciler) refuses an answer about another payment.
                reference: if r.request_id.is_empty() {
                    reference.to_owned()
                } else {
                    r.request_id.clone()
                },
                provider_reference: r.trans_id.clone(),
            },
            status: r.payment_status(),
            provider_status: r.status.code().to_string(),
            // What was paid is the card's real face value; `amount` is what the merchant
            // receives after the gateway's fee (see `ChargeResult`).
            amount: r.value,
            message: Some(r.message.clone()).filter(|m| !m.is_empty()),
        }
    }
}

#[async_trait]
impl PaymentProvider for CardChargingProvider {
    fn id(&self) -> &'static str {
        PROVIDER_ID
    }

    /// Everything — but `payment_status` only over records that keep the card (`check` is
    /// signed with it again): not over a ledger without a seal key.
    fn capabilities(&self) -> Capabilities {
        Capabilities::TAKE_ONLY.payment_status(self.stores.records.keeps_secrets())
    }

    async fn create_payment(&self, request: PaymentRequest) -> Result<PaymentSession> {
        if request.metadata.contains_key("code") {
            return Err(Error::Input(
                "a card code never goes in metadata: pass the card as PaymentMethod::PrepaidCard"
                    .into(),
            ));
        }
        let Some(PaymentMethod::PrepaidCard(prepaid)) = &request.method else {
            return Err(Error::Input(
                "card charging needs PaymentRequest::method = PaymentMethod::PrepaidCard".into(),
            ));
        };
        let telco: Telco = prepaid.telco.parse()?;
        let card = Card::new(telco, prepaid.code.expose_secret(), &prepaid.serial)?;
        let request_id = RequestId::new(&request.reference)?;
        // Remembered before it is sent: a charge whose outcome is unknown can be checked.
        let record = PaymentRecord::created(PROVIDER_ID, &request)
            .secret(card.seal())
            .instrument(card.serial.clone());
        self.stores.records.remember(record).await?;
        let sent = self.client.charge(&card, request.amount, &request_id).await;
        let result = self
            .stores
            .sent(PROVIDER_ID, &request.reference, sent)
            .await?;
        Ok(PaymentSession {
            state: Self::state(&request.reference, &result),
            redirect_url: None,
        })
    }

    async fn payment_status(&self, payment: &PaymentRef) -> Result<PaymentState> {
        let record = self
            .stores
            .records
            .recall(PROVIDER_ID, &payment.reference)
            .await?
            .ok_or_else(|| {
                Error::Input(format!(
                    "no card known for request_id {}: use Client::check with the card",
                    payment.reference
                ))
            })?;
        let sealed = record.secret.ok_or_else(|| {
            Error::Input(format!(
                "the card of request_id {} was not kept (a ledger without a seal key): use Client::check with the card",
                payment.reference
            ))
        })?;
        let card = Card::unseal(&sealed)?;
        let amount = record.amount;
        let request_id = RequestId::new(&payment.reference)?;
        let result = self.client.check(&card, amount, &request_id).await?;
        // Status 100/102 to `check` is the gateway refusing the *check* (an unknown request id,
        // a field it did not like), not a verdict on the card: believing it as `failed` would
        // fail a charge the gateway may have taken. It is an error, so that a reconciler hands
        // the payment to a person instead.
        if matches!(
            result.status,
            crate::status::ChargeStatus::SubmissionFailed
                | crate::status::ChargeStatus::InputDataIncorrect
        ) {
            return Err(Error::Provider {
                code: Some(result.status.code().to_string()),
                message: format!(
                    "the gateway did not answer `check` for request_id {} ({}): the charge's outcome is still unknown",
                    payment.reference, result.message
                ),
                retryable: false,
            });
        }
        Ok(Self::state(&payment.reference, &result))
    }

    async fn verify_notification(&self, raw: &RawNotification) -> Result<Verified<Notification>> {
        let callback = self.verifier.verify(raw)?;
        let handled = deduplicate(callback, self.stores.seen.as_ref()).await?;
        Ok(handled.into_notification(CardCallback::state))
    }
}
