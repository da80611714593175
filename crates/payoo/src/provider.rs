//! `PaymentProvider` for Payoo: create = `CreatePreOrder`, status = `GetOrderInformation`,
//! notification = `NotifyData` in checksum mode.
//!
//! `create_payment` reads `shop_id` from the request's metadata and uses `reference` as
//! `OrderNo`; the payment URL is the answer's `PaymentUrl` field when Payoo sends one.

use paybridge_core::provider::prelude::*;
use secrecy::SecretString;

use crate::client::{Client, PROVIDER_ID, PreOrder};
use crate::notification::{CallbackVerifier, deduplicate};

/// Payoo behind the common trait.
pub struct PayooProvider {
    client: Client,
    verifier: CallbackVerifier,
    shop_id: i64,
    stores: paybridge_core::Stores,
}

impl PayooProvider {
    /// A provider for one shop, reporting duplicate notifications through `stores.seen`
    /// (`Stores::in_memory()` for one process; for exactly-once handling use the ledger's
    /// receiver). Key: order number and state.
    #[must_use]
    pub fn new(
        client: Client,
        checksum_key: SecretString,
        shop_id: i64,
        stores: paybridge_core::Stores,
    ) -> Self {
        Self {
            client,
            verifier: CallbackVerifier::new(checksum_key),
            shop_id,
            stores,
        }
    }
}

#[async_trait]
impl PaymentProvider for PayooProvider {
    fn id(&self) -> &'static str {
        PROVIDER_ID
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::TAKE_ONLY
    }

    async fn create_payment(&self, request: PaymentRequest) -> Result<PaymentSession> {
        if request.amount.currency() != Currency::VND {
            return Err(Error::Input("Payoo amounts are in VND".into()));
        }
        let order = PreOrder {
            shop_id: self.shop_id,
            order_no: request.reference.clone(),
            cyber_cash: request.amount.amount(),
            description: request.description.clone().unwrap_or_default(),
            shop_back_url: request.return_url.clone().unwrap_or_default(),
            notify_url: request.notify_url.clone().unwrap_or_default(),
            ..PreOrder::default()
        };
        let r = self.client.create_pre_order(&order).await?;
        Ok(PaymentSession {
            state: PaymentState {
                payment: PaymentRef {
                    reference: request.reference,
                    provider_reference: r.field("OrderID").map(str::to_owned),
                },
                status: PaymentStatus::Pending,
                provider_status: format!("{:?}", r.ack),
                amount: Some(request.amount),
                message: None,
            },
            redirect_url: r.field("PaymentUrl").map(str::to_owned),
        })
    }

    async fn payment_status(&self, payment: &PaymentRef) -> Result<PaymentState> {
        let r = self
            .client
            .get_order_information(&payment.reference, self.shop_id)
            .await?;
        let status = r.field("OrderStatus").unwrap_or_default().to_owned();
        Ok(PaymentState {
            payment: payment.clone(),
            status: match status.as_str() {
                "1" => PaymentStatus::Succeeded,
                "-1" => PaymentStatus::Cancelled,
                _ => PaymentStatus::Pending,
            },
            provider_status: status,
            amount: r
                .field("OrderCash")
                .map(|a| Money::parse_reported(a, Currency::VND, "OrderCash"))
                .transpose()?,
            message: None,
        })
    }

    async fn verify_notification(&self, raw: &RawNotification) -> Result<Verified<Notification>> {
        let n = self.verifier.verify(raw)?;
        let state = n.state()?;
        let handled = deduplicate(n, self.stores.seen.as_ref()).await?;
        Ok(handled.into_notification(|_| state))
    }
}
