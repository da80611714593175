//! `PaymentProvider` for Qvickly. With the Payment API ([`QvicklyProvider::with_api`]):
//! create = `addPayment` (a card payment, its redirect URL the session), status =
//! `getPaymentinfo`, refund = `creditPayment`, cancel = `cancelPayment`, capture =
//! [`QvicklyProvider::activate`] (`activatePayment`); a callback is confirmed with
//! `getPaymentinfo` (status and total) before it is believed. Without it: callbacks only,
//! as payments are then created outside this SDK.
//!
//! The merchant's reference is Qvickly's `orderid`; Qvickly's payment `number` is the
//! provider reference.

use paybridge_core::provider::prelude::*;

use crate::api::{Article, Cart, Customer, NewPayment, PaymentApi, PaymentData, PaymentMethod};
use crate::client::PROVIDER_ID;
use crate::notification::{CallbackVerifier, QvicklyCallback, deduplicate};

/// Qvickly behind the common trait.
pub struct QvicklyProvider {
    verifier: CallbackVerifier,
    stores: Stores,
    api: Option<PaymentApi>,
}

impl QvicklyProvider {
    /// A provider verifying with `verifier`, reporting duplicates through `stores.seen`
    /// (`Stores::in_memory()` for one process).
    #[must_use]
    pub fn new(verifier: CallbackVerifier, stores: Stores) -> Self {
        Self {
            verifier,
            stores,
            api: None,
        }
    }

    /// Take, ask, refund and cancel through the Payment API, and confirm every callback with
    /// it.
    #[must_use]
    pub fn with_api(mut self, api: PaymentApi) -> Self {
        self.api = Some(api);
        self
    }

    /// The Payment API; without it, everything but callbacks is unsupported (as the
    /// capabilities say).
    fn api(&self, operation: &'static str) -> Result<&PaymentApi> {
        self.api.as_ref().ok_or(Error::Unsupported {
            provider: PROVIDER_ID,
            operation,
        })
    }

    /// The payment's number: the one given, else the one recorded.
    async fn number(&self, payment: &PaymentRef) -> Result<String> {
        if let Some(n) = payment
            .provider_reference
            .as_deref()
            .filter(|n| !n.is_empty())
        {
            return Ok(n.to_owned());
        }
        let record = self
            .stores
            .records
            .recall_public(PROVIDER_ID, &payment.reference)
            .await?;
        if let Some(n) = record.as_ref().and_then(|r| r.provider_reference.clone()) {
            return Ok(n);
        }
        // A checkout's payment, whose callback has not come (or named an orderid the ledger
        // was not told about): its number is what Qvickly says of the recorded checkout.
        if let (Some(hash), Some(api)) = (
            record
                .as_ref()
                .and_then(|r| r.instrument.as_deref())
                .and_then(crate::checkout::hash_of_instrument),
            &self.api,
        ) {
            let state = api.get_checkout(hash).await?;
            return state.payment_number.ok_or_else(|| {
                Error::Input(format!(
                    "Qvickly checkout {hash} for {:?} is not completed yet ({})",
                    payment.reference, state.status
                ))
            });
        }
        Err(Error::Input(format!(
            "no Qvickly payment number is known for {:?}",
            payment.reference
        )))
    }

    /// `activatePayment`: capture an authorised card payment or send an invoice.
    pub async fn activate(&self, payment: &PaymentRef) -> Result<PaymentState> {
        let api = self.api("activate")?;
        let number = self.number(payment).await?;
        api.activate(&number).await?;
        self.payment_status(payment).await
    }

    /// One article for an amount (tax 0: the amount is what the payer pays, VAT included as
    /// the merchant priced it — our choice when only an amount is known).
    fn single_line(title: &str, amount: Money) -> Result<(Vec<Article>, Cart)> {
        let articles = vec![Article::new("1", title, 1, amount, 0)];
        let cart = Cart::of(&articles, None, None)?;
        Ok((articles, cart))
    }
}

#[async_trait]
impl PaymentProvider for QvicklyProvider {
    fn id(&self) -> &'static str {
        PROVIDER_ID
    }

    fn capabilities(&self) -> Capabilities {
        if self.api.is_some() {
            Capabilities::ALL
        } else {
            Capabilities::NOTIFICATIONS_ONLY
        }
    }

    /// `addPayment` of a card payment for the amount (one line, see
    /// [`QvicklyProvider::activate`] to capture it); the redirect URL is where to send the payer.
    async fn create_payment(&self, request: PaymentRequest) -> Result<PaymentSession> {
        let api = self.api("create_payment")?;
        let title = request
            .description
            .clone()
            .unwrap_or_else(|| format!("Order {}", request.reference));
        let (articles, cart) = Self::single_line(&title, request.amount)?;
        let payment = NewPayment {
            data: PaymentData {
                method: PaymentMethod::Card,
                currency: request.amount.currency(),
                language: request
                    .metadata
                    .get("language")
                    .cloned()
                    .unwrap_or_else(|| "sv".into()),
                country: request
                    .metadata
                    .get("country")
                    .cloned()
                    .unwrap_or_else(|| "SE".into()),
                orderid: request.reference.clone(),
                autoactivate: request
                    .metadata
                    .get("autoactivate")
                    .is_some_and(|v| v == "1"),
                autocancel: None,
                accepturl: request.return_url.clone(),
                cancelurl: request.return_url.clone(),
                callbackurl: request.notify_url.clone(),
                returnmethod: None,
            },
            info: crate::api::PaymentInfo::default(),
            customer: Customer {
                billing: crate::api::Address {
                    email: request.metadata.get("email").cloned().unwrap_or_default(),
                    ..crate::api::Address::default()
                },
                ..Customer::default()
            },
            articles,
            cart,
        };
        let record = PaymentRecord::created(PROVIDER_ID, &request);
        self.stores.records.remember(record.clone()).await?;
        let sent = api.add_payment(&payment).await.map_err(Error::from);
        let added = self
            .stores
            .sent(PROVIDER_ID, &request.reference, sent)
            .await?;
        self.stores
            .records
            .remember(record.provider_reference(added.number.clone()))
            .await?;
        Ok(PaymentSession {
            state: PaymentState {
                payment: PaymentRef {
                    reference: request.reference,
                    provider_reference: Some(added.number),
                },
                status: added.status.normalized(),
                provider_status: added.status.as_str().to_owned(),
                amount: Some(request.amount),
                message: None,
            },
            redirect_url: added.url,
        })
    }

    async fn payment_status(&self, payment: &PaymentRef) -> Result<PaymentState> {
        let api = self.api("payment_status")?;
        let number = self.number(payment).await?;
        let details = api.payment_info(&number).await?;
        let mut with_number = payment.clone();
        with_number.provider_reference = Some(number);
        Ok(details.state(with_number))
    }

    /// `creditPayment`: all that is left, or `amount` as one credited line.
    async fn refund(&self, payment: &PaymentRef, request: RefundRequest) -> Result<RefundState> {
        let api = self.api("refund")?;
        let number = self.number(payment).await?;
        let amount = match request.amount {
            Some(a) => a,
            None => api
                .payment_info(&number)
                .await?
                .total
                .ok_or_else(|| Error::decode("getPaymentinfo gave no total"))?,
        };
        let credited = match request.amount {
            Some(a) => {
                let (articles, cart) = Self::single_line("Refund", a)?;
                api.credit(&number, Some((&articles, &cart))).await?
            }
            None => api.credit(&number, None).await?,
        };
        let mut state = RefundState::new(
            PaymentRef {
                reference: payment.reference.clone(),
                provider_reference: Some(number),
            },
            request.refund_id,
            amount,
            RefundStatus::Succeeded,
            credited.status.as_str(),
        );
        state.provider_refund_id = Some(credited.number);
        Ok(state)
    }

    /// A credit whose outcome is unknown, finished where Qvickly makes it harmless: when it
    /// was to give back all that was left, a full `creditPayment` is sent again — Qvickly
    /// credits what is still due (the earlier one never arrived) or refuses with 5204
    /// ("Cannot credit more than balance due": it did) — the money goes back once either way.
    /// A partial credit cannot be told apart this way (`getPaymentinfo` lists no credits in
    /// Qvickly's documents): `Err`, it stays pending for a person.
    async fn refund_status(
        &self,
        payment: &PaymentRef,
        query: &RefundQuery,
    ) -> Result<RefundState> {
        let api = self.api("refund_status")?;
        let amount = query.refund.amount.unwrap_or(query.paid);
        if query.refunded_before.amount() + amount.amount() != query.paid.amount() {
            return Err(Error::Provider {
                code: None,
                message: format!(
                    "Qvickly's answers do not tell whether the partial credit {:?} went through: a person must look (Qvickly's merchant portal)",
                    query.refund.refund_id
                ),
                retryable: false,
            });
        }
        let number = self.number(payment).await?;
        let state = |provider_status: &str, credit: Option<String>| {
            let mut state = RefundState::new(
                PaymentRef {
                    reference: payment.reference.clone(),
                    provider_reference: Some(number.clone()),
                },
                query.refund.refund_id.clone(),
                amount,
                RefundStatus::Succeeded,
                provider_status,
            );
            state.provider_refund_id = credit;
            state
        };
        match api.credit(&number, None).await {
            Ok(credited) => Ok(state(credited.status.as_str(), Some(credited.number))),
            Err(e) => {
                let e = Error::from(e);
                if e.provider_code() == Some("5204") {
                    Ok(state("5204", None))
                } else {
                    Err(e)
                }
            }
        }
    }

    /// `cancelPayment` (a payment not activated yet); its state afterwards.
    async fn cancel(&self, payment: &PaymentRef) -> Result<PaymentState> {
        let api = self.api("cancel")?;
        let number = self.number(payment).await?;
        api.cancel(&number).await?;
        let mut with_number = payment.clone();
        with_number.provider_reference = Some(number);
        self.payment_status(&with_number).await
    }

    async fn verify_notification(&self, raw: &RawNotification) -> Result<Verified<Notification>> {
        let verified = self.verifier.verify(raw)?;
        let confirmed = match &self.api {
            Some(api) => Some(crate::route::confirm(api, &verified).await?),
            None => None,
        };
        let handled = deduplicate(verified, self.stores.seen.as_ref()).await?;
        Ok(handled.into_notification(|cb: &QvicklyCallback| {
            let state = cb.state();
            match &confirmed {
                Some(d) => d.state(state.payment),
                None => state,
            }
        }))
    }
}
