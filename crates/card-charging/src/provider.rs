//! `PaymentProvider` for card charging: create = `charging`, status = `check`,
//! notification = a verified callback.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use paybridge_core::{
    Capabilities, Error, InMemorySeenStore, Money, Notification, PaymentMethod, PaymentProvider,
    PaymentRef, PaymentRequest, PaymentSession, PaymentState, RawNotification, Result, SeenStore,
    Verified,
};
use secrecy::ExposeSecret;

use crate::card::{Card, RequestId, Telco};
use crate::client::{ChargeResult, Client, PROVIDER_ID};
use crate::notification::deduplicate;

/// The card gateway behind the common trait.
///
/// `create_payment` takes the card from the request's [`PaymentMethod::PrepaidCard`] (the code
/// stays a secret; a `code` in `metadata` is refused) and uses `reference` as the request id. `payment_status` needs the card again to sign `check`,
/// so it works for payments this value created; for others use [`Client::check`].
pub struct CardChargingProvider {
    client: Client,
    seen: Arc<dyn SeenStore>,
    cards: Mutex<HashMap<String, (Card, Money)>>,
}

impl CardChargingProvider {
    /// A provider over `client`, reporting duplicates through `seen`.
    #[must_use]
    pub fn new(client: Client, seen: Arc<dyn SeenStore>) -> Self {
        Self {
            client,
            seen,
            cards: Mutex::new(HashMap::new()),
        }
    }

    /// A provider with a process-local duplicate store.
    #[must_use]
    pub fn with_memory_store(client: Client) -> Self {
        Self::new(client, Arc::new(InMemorySeenStore::new()))
    }

    fn state(reference: &str, r: &ChargeResult) -> PaymentState {
        PaymentState {
            payment: PaymentRef {
                reference: reference.to_owned(),
                provider_reference: r.trans_id.clone(),
            },
            status: r.payment_status(),
            provider_status: r.status.code().to_string(),
            amount: r.amount,
            message: Some(r.message.clone()).filter(|m| !m.is_empty()),
        }
    }
}

#[async_trait]
impl PaymentProvider for CardChargingProvider {
    fn id(&self) -> &'static str {
        PROVIDER_ID
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::ALL
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
        let result = self
            .client
            .charge(&card, request.amount, &request_id)
            .await?;
        if let Ok(mut cards) = self.cards.lock() {
            cards.insert(request.reference.clone(), (card, request.amount));
        }
        Ok(PaymentSession {
            state: Self::state(&request.reference, &result),
            redirect_url: None,
        })
    }

    async fn payment_status(&self, payment: &PaymentRef) -> Result<PaymentState> {
        let known = self
            .cards
            .lock()
            .map_err(|_| Error::Config("card table lock poisoned".into()))?
            .get(&payment.reference)
            .cloned();
        let (card, amount) = known.ok_or_else(|| {
            Error::Input(format!(
                "no card known for request_id {}: use Client::check with the card",
                payment.reference
            ))
        })?;
        let request_id = RequestId::new(&payment.reference)?;
        let result = self.client.check(&card, amount, &request_id).await?;
        Ok(Self::state(&payment.reference, &result))
    }

    async fn verify_notification(&self, raw: &RawNotification) -> Result<Verified<Notification>> {
        let handled = deduplicate(self.client.verify_callback(raw)?, self.seen.as_ref()).await?;
        let duplicate = handled.duplicate;
        Ok(handled.callback.map(|cb| Notification {
            state: cb.state(),
            duplicate,
        }))
    }
}
