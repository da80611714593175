//! `PaymentProvider` for Payoo. As merchants integrate it today ([`PayooProvider::with_checkout`],
//! [`PayooProvider::with_rest`]): create = the hosted checkout (`v2/paynow/order/create`),
//! status = `GetOrderInfo`, refund = `Refund` (the contract's refund id is Payoo's `RefundId`),
//! cancel = `CancelOrder`. Without them, the legacy SOAP path: create = `CreatePreOrder`,
//! status = `GetOrderInformation`, no refunds. Notifications (`NotifyData`, XML or JSON) are
//! verified in checksum mode either way.
//!
//! The merchant's `reference` is Payoo's `order_no` (and `OrderId` in the REST calls, our
//! reading of the public clients).

use paybridge_core::provider::prelude::*;
use secrecy::SecretString;

use crate::checkout::{CheckoutClient, CheckoutOptions, CheckoutOrder};
use crate::client::{Client, PROVIDER_ID, PreOrder, vietnam_date, vietnam_timestamp};
use crate::notification::{CallbackVerifier, deduplicate};
use crate::rest::RestClient;

/// What a checkout order says of the shop (the order XML's shop elements) and how long an
/// order may be paid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shop {
    /// `username`: the business wallet.
    pub username: String,
    /// `shop_title`.
    pub title: String,
    /// `shop_domain`, also sent as `refer`.
    pub domain: String,
    /// `order_ship_days`.
    pub ship_days: u32,
    /// How long an order may be paid (`validity_time` = now + this), in seconds.
    pub valid_for_secs: i64,
    /// Ask for JSON notifications (`JsonResponse` TRUE).
    pub json_notify: bool,
}

/// Payoo behind the common trait.
pub struct PayooProvider {
    /// The legacy SOAP client (`None` for a merchant on the current APIs only).
    client: Option<Client>,
    verifier: CallbackVerifier,
    shop_id: i64,
    stores: paybridge_core::Stores,
    rest: Option<RestClient>,
    checkout: Option<(CheckoutClient, Shop)>,
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
            client: Some(client),
            verifier: CallbackVerifier::new(checksum_key),
            shop_id,
            stores,
            rest: None,
            checkout: None,
        }
    }

    /// A provider on Payoo's current APIs only (no legacy SOAP client): status, refunds and
    /// cancels through `rest`; add [`with_checkout`](Self::with_checkout) to create payments.
    #[must_use]
    pub fn current(
        rest: RestClient,
        checksum_key: SecretString,
        shop_id: i64,
        stores: paybridge_core::Stores,
    ) -> Self {
        Self {
            client: None,
            verifier: CallbackVerifier::new(checksum_key),
            shop_id,
            stores,
            rest: Some(rest),
            checkout: None,
        }
    }

    /// The legacy SOAP client, for what only it does here.
    fn soap(&self, operation: &'static str) -> Result<&Client> {
        self.client.as_ref().ok_or(Error::Unsupported {
            provider: PROVIDER_ID,
            operation,
        })
    }

    /// Use the REST Business API for status (`GetOrderInfo`), refunds and cancels.
    #[must_use]
    pub fn with_rest(mut self, rest: RestClient) -> Self {
        self.rest = Some(rest);
        self
    }

    /// Create payments through the hosted checkout, for `shop`.
    #[must_use]
    pub fn with_checkout(mut self, checkout: CheckoutClient, shop: Shop) -> Self {
        self.checkout = Some((checkout, shop));
        self
    }

    /// The REST client; without one, refunds and cancels are unsupported (as the
    /// capabilities say).
    fn rest(&self, operation: &'static str) -> Result<&RestClient> {
        self.rest.as_ref().ok_or(Error::Unsupported {
            provider: PROVIDER_ID,
            operation,
        })
    }

    /// A checkout order for `request`: today's ship date and the validity in Vietnam time,
    /// the description lengthened to Payoo's minimum when it is short.
    fn checkout_order(request: &PaymentRequest, shop: &Shop, shop_id: i64) -> CheckoutOrder {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
        let ship_date = vietnam_date(now);
        let mut description = request.description.clone().unwrap_or_default();
        if description.chars().count() <= 50 {
            let longer = format!(
                "{description} Payment for order {} at {}, paid through the Payoo hosted checkout",
                request.reference, shop.title
            );
            description = longer.trim_start().into();
        }
        CheckoutOrder {
            username: shop.username.clone(),
            shop_id,
            session: request.reference.clone(),
            shop_title: shop.title.clone(),
            shop_domain: shop.domain.clone(),
            back_url: request.return_url.clone().unwrap_or_default(),
            order_no: request.reference.clone(),
            amount: request.amount,
            ship_date,
            ship_days: shop.ship_days,
            description,
            notify_url: request.notify_url.clone().unwrap_or_default(),
            validity_time: vietnam_timestamp(now.saturating_add(shop.valid_for_secs)),
            json_notify: shop.json_notify,
            customer: None,
            installment_tenors: None,
            mdd: [None, None],
        }
    }
}

#[async_trait]
impl PaymentProvider for PayooProvider {
    fn id(&self) -> &'static str {
        PROVIDER_ID
    }

    fn capabilities(&self) -> Capabilities {
        match (&self.rest, &self.client, &self.checkout) {
            (Some(_), None, None) => {
                let mut caps = Capabilities::ALL;
                caps.create_payment = false;
                caps
            }
            (Some(_), _, _) => Capabilities::ALL,
            (None, _, _) => Capabilities::TAKE_ONLY,
        }
    }

    async fn create_payment(&self, request: PaymentRequest) -> Result<PaymentSession> {
        if request.amount.currency() != Currency::VND {
            return Err(Error::Input("Payoo amounts are in VND".into()));
        }
        if let Some((checkout, shop)) = &self.checkout {
            let order = Self::checkout_order(&request, shop, self.shop_id);
            let options = CheckoutOptions {
                refer: shop.domain.clone(),
                ..CheckoutOptions::default()
            };
            // Remembered before it is sent: an order whose creation times out is still known.
            let record = PaymentRecord::created(PROVIDER_ID, &request);
            self.stores.records.remember(record.clone()).await?;
            let sent = checkout.create(&order, &options).await.map_err(Error::from);
            let created = self
                .stores
                .sent(PROVIDER_ID, &request.reference, sent)
                .await?;
            if let Some(id) = &created.order_id {
                self.stores
                    .records
                    .remember(record.provider_reference(id.clone()))
                    .await?;
            }
            return Ok(PaymentSession {
                state: PaymentState {
                    payment: PaymentRef {
                        reference: request.reference,
                        provider_reference: created.order_id,
                    },
                    status: PaymentStatus::Pending,
                    provider_status: "0".into(),
                    amount: Some(request.amount),
                    message: None,
                },
                redirect_url: Some(created.payment_url),
            });
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
        let r = self
            .soap("create_payment")?
            .create_pre_order(&order)
            .await?;
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
        if let Some(rest) = &self.rest {
            let info = rest
                .order_info(&payment.reference, self.shop_id, None)
                .await?;
            return Ok(PaymentState {
                payment: payment.clone(),
                status: info.status.normalized(),
                provider_status: info.status.code().to_string(),
                amount: info.amount,
                message: None,
            });
        }
        let r = self
            .soap("payment_status")?
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

    /// `Refund` under the contract's refund id (Payoo's `RefundId`: a repeat answers 99, the
    /// earlier refund, and nothing moves twice). The amount and purchase date come from
    /// `GetOrderInfo` when the request gives no amount (a full refund of a payment never
    /// refunded before: Payoo does not report what is left).
    async fn refund(&self, payment: &PaymentRef, request: RefundRequest) -> Result<RefundState> {
        let rest = self.rest("refund")?;
        let known = request.purchase_date.clone();
        // With the amount and the purchase day known, nothing needs looking up; else
        // `GetOrderInfo` — given the purchase day when it is known, as Payoo's field list has it.
        let (amount, purchase_date) = match (request.amount, known) {
            (Some(amount), Some(date)) => (amount, date),
            (amount, known) => {
                let info = rest
                    .order_info(&payment.reference, self.shop_id, known.as_deref())
                    .await?;
                let Some(amount) = amount.or(info.amount) else {
                    return Err(Error::decode("GetOrderInfo gave no OrderCash to refund"));
                };
                let date = known
                    .or_else(|| {
                        info.purchase_date
                            .as_deref()
                            .and_then(|d| d.get(..8))
                            .map(str::to_owned)
                    })
                    .ok_or_else(|| {
                        Error::Input("the order has no purchase date: not paid".into())
                    })?;
                (amount, date)
            }
        };
        let refund = rest
            .refund(&crate::rest::RefundRequest {
                order_no: payment.reference.clone(),
                amount,
                refund_id: request.refund_id.clone(),
                purchase_date,
                description: request.reason.clone().unwrap_or_else(|| "refund".into()),
            })
            .await?;
        let mut state = RefundState::new(
            payment.clone(),
            request.refund_id,
            amount,
            RefundStatus::Succeeded,
            if refund.repeat { "99" } else { "0" },
        );
        state.provider_refund_id = refund.transfer_code;
        Ok(state)
    }

    /// A refund whose outcome is unknown is sent again under the same `RefundId`: Payoo keys
    /// refunds by it, so the resend is harmless — 0 (done now) or 99 (`RefundId` already
    /// exists: the earlier one went through) both mean the money went back, once.
    async fn refund_status(
        &self,
        payment: &PaymentRef,
        query: &RefundQuery,
    ) -> Result<RefundState> {
        self.refund(payment, query.refund.clone()).await
    }

    /// `CancelOrder` (an unpaid order becomes cancelled); its state afterwards.
    async fn cancel(&self, payment: &PaymentRef) -> Result<PaymentState> {
        self.rest("cancel")?
            .cancel_order(
                self.shop_id,
                &payment.reference,
                "cancelled by the merchant",
            )
            .await?;
        self.payment_status(payment).await
    }

    async fn verify_notification(&self, raw: &RawNotification) -> Result<Verified<Notification>> {
        let n = self.verifier.verify(raw)?;
        let state = n.state()?;
        let handled = deduplicate(n, self.stores.seen.as_ref()).await?;
        Ok(handled.into_notification(|_| state))
    }
}
