//! `PaymentProvider` for Wooppay: create = `cash_createInvoice`, status =
//! `cash_getOperationData`, notification = the `requestUrl` call, confirmed by status.
//!
//! `create_payment` needs `return_url` (→ `backUrl`) and `notify_url` (→ `requestUrl`); it
//! appends `reference=<reference>` to the `requestUrl`, so the call that comes back names the
//! payment. `verify_notification` reads `operation_id` from the query, or `reference` for a
//! payment this value created.

use paybridge_core::provider::prelude::*;

use crate::OperationStatus;
use crate::client::{Client, InvoiceRequest, PROVIDER_ID};

/// Wooppay behind the common trait.
pub struct WoopayProvider {
    client: Client,
    stores: Stores,
}

impl WoopayProvider {
    /// A provider over `client`. Its [`Stores`] map each invoice's reference to its operation
    /// id and keep the `requestUrl` calls seen; with a ledger's records, `payment_status` and
    /// the `requestUrl` call find an invoice after a restart and from another process.
    #[must_use]
    pub fn new(client: Client, stores: Stores) -> Self {
        Self { client, stores }
    }

    /// The payment's operation id: the one given, else the one recorded, else — an invoice
    /// whose creation timed out never had its id recorded — the one Wooppay holds for the
    /// merchant reference (`cash_getOperationDataByExtId`).
    async fn operation_id(&self, payment: &PaymentRef) -> Result<i64> {
        if let Some(id) = payment
            .provider_reference
            .as_deref()
            .and_then(|p| p.parse().ok())
        {
            return Ok(id);
        }
        let recorded = self
            .stores
            .records
            .recall_public(PROVIDER_ID, &payment.reference)
            .await?
            .and_then(|r| r.provider_reference)
            .and_then(|id| id.parse().ok());
        if let Some(id) = recorded {
            return Ok(id);
        }
        if payment.reference.is_empty() {
            return Err(Error::Input("no Wooppay operation id or reference".into()));
        }
        Ok(self
            .client
            .operation_by_reference(&payment.reference, crate::INVOICE_OPERATION_TYPE)
            .await?
            .id)
    }
}

#[async_trait]
impl PaymentProvider for WoopayProvider {
    fn id(&self) -> &'static str {
        PROVIDER_ID
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::ALL
    }

    async fn create_payment(&self, request: PaymentRequest) -> Result<PaymentSession> {
        let back_url = request
            .return_url
            .clone()
            .ok_or_else(|| Error::Input("return_url is required".into()))?;
        let notify = request
            .notify_url
            .clone()
            .ok_or_else(|| Error::Input("notify_url is required".into()))?;
        let mut inv = InvoiceRequest::new(
            request.reference.clone(),
            request.amount,
            back_url,
            paybridge_core::http::with_query(&notify, &[("reference", &request.reference)]),
        );
        inv.description.clone_from(&request.description);
        // Remembered before it is sent: an invoice whose creation times out is still known
        // (and, with a ledger, checked at once by its reconciler).
        let record = PaymentRecord::created(PROVIDER_ID, &request);
        self.stores.records.remember(record.clone()).await?;
        let sent = self.client.create_invoice(&inv).await;
        let invoice = self
            .stores
            .sent(PROVIDER_ID, &request.reference, sent)
            .await?;
        self.stores
            .records
            .remember(record.provider_reference(invoice.operation_id.to_string()))
            .await?;
        Ok(PaymentSession {
            state: PaymentState {
                payment: PaymentRef {
                    reference: request.reference,
                    provider_reference: Some(invoice.operation_id.to_string()),
                },
                status: PaymentStatus::Pending,
                provider_status: "1".to_owned(),
                amount: None,
                message: None,
            },
            redirect_url: Some(invoice.operation_url),
        })
    }

    async fn payment_status(&self, payment: &PaymentRef) -> Result<PaymentState> {
        let id = self.operation_id(payment).await?;
        Ok(self.client.operation(id).await?.state(&payment.reference))
    }

    /// `cash_paymentReturn` (all that is left) or `cash_paymentReturnPartial` (`amount`, KZT).
    /// Wooppay keys refunds by nothing of the merchant's: a resend would refund twice, so this
    /// is never resent — keep the refund id in a ledger (`Ledger::start_refund`) to recognise a
    /// repeat. Error 14 ("refund failed") is a refusal: no money moved. A full return (`amount`
    /// `None`) gives back what is left, which Wooppay does not report: the answer's `amount` is
    /// then the operation's sum, exact only when nothing was refunded before — the ledger
    /// (`Ledger::refund`) always sends the exact amount it reserved, as a partial return.
    async fn refund(&self, payment: &PaymentRef, request: RefundRequest) -> Result<RefundState> {
        let id = self.operation_id(payment).await?;
        let amount = if let Some(amount) = request.amount {
            self.client.payment_return_partial(id, amount).await?;
            amount
        } else {
            // What a full return gives back: the operation's sum (a read, before).
            let sum = self
                .client
                .operation(id)
                .await?
                .sum
                .ok_or_else(|| Error::Provider {
                    code: None,
                    message: format!("operation {id} has no sum"),
                    retryable: false,
                })?;
            self.client.payment_return(id).await?;
            sum
        };
        // Wooppay answers a refund with its error code alone: 0 is done.
        Ok(RefundState::new(
            PaymentRef {
                reference: payment.reference.clone(),
                provider_reference: Some(id.to_string()),
            },
            request.refund_id,
            amount,
            RefundStatus::Succeeded,
            "0",
        ))
    }

    /// A refund whose outcome is unknown, read back (nothing is resent: Wooppay keys refunds
    /// by nothing of the merchant's). `cash_getOperationData` and `…Extended` tell it only at
    /// the ends: the operation reversed in full (status 5) when this refund was to give back
    /// all that was left → it went through; still paid (status 4) with nothing returned
    /// (`retSum` 0) when no refund went before → it did not. Anything between cannot be told
    /// apart (Wooppay does not list a payment's refunds): `Err`, the refund stays pending for
    /// a person.
    async fn refund_status(
        &self,
        payment: &PaymentRef,
        query: &RefundQuery,
    ) -> Result<RefundState> {
        let id = self.operation_id(payment).await?;
        let amount = query.refund.amount.unwrap_or(query.paid);
        let op = self.client.operation(id).await?;
        let state = |status, word: &str| {
            RefundState::new(
                PaymentRef {
                    reference: payment.reference.clone(),
                    provider_reference: Some(id.to_string()),
                },
                query.refund.refund_id.clone(),
                amount,
                status,
                word,
            )
        };
        let rest = query.paid.amount() - query.refunded_before.amount();
        match op.status {
            OperationStatus::Reversed if amount.amount() == rest => {
                return Ok(state(RefundStatus::Succeeded, "5"));
            }
            OperationStatus::Done if query.refunded_before.amount().is_zero() => {
                let returned = self
                    .client
                    .operation_data_extended(&[id])
                    .await?
                    .into_iter()
                    .find(|d| d.id == id)
                    .and_then(|d| d.ret_sum_raw);
                if returned == Some(0) {
                    return Ok(state(RefundStatus::Failed, "4"));
                }
            }
            _ => {}
        }
        Err(Error::Provider {
            code: Some(op.status.code().to_string()),
            message: format!(
                "Wooppay's operation {id} ({}) does not tell whether refund {:?} went through: a person must look (cash_getOperationDataExtended, the merchant cabinet)",
                op.status.meaning(),
                query.refund.refund_id
            ),
            retryable: false,
        })
    }

    /// `cash_decline`: an invoice not paid yet (or waiting for the merchant) is deleted
    /// (status 7, cancelled); its state afterwards.
    async fn cancel(&self, payment: &PaymentRef) -> Result<PaymentState> {
        let id = self.operation_id(payment).await?;
        self.client.decline(id).await?;
        let mut with_id = payment.clone();
        with_id.provider_reference = Some(id.to_string());
        self.payment_status(&with_id).await
    }

    async fn verify_notification(&self, raw: &RawNotification) -> Result<Verified<Notification>> {
        let mut reference = None;
        let mut operation_id = None;
        for (k, v) in form_urlencoded::parse(raw.query.as_bytes()) {
            match k.as_ref() {
                "reference" => reference = Some(v.into_owned()),
                "operation_id" | "operationId" => operation_id = v.parse::<i64>().ok(),
                _ => {}
            }
        }
        let payment = PaymentRef {
            reference: reference.clone().unwrap_or_default(),
            provider_reference: operation_id.map(|i| i.to_string()),
        };
        let id = self.operation_id(&payment).await?;
        let confirmed = self
            .client
            .handle_request_url(id, self.stores.seen.as_ref())
            .await?;
        let reference = reference.unwrap_or_else(|| id.to_string());
        Ok(confirmed.into_notification(|op| op.state(&reference)))
    }
}
