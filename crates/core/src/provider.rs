//! The [`PaymentProvider`] trait: the common denominator of every provider crate.
//!
//! Each provider crate's native client stays the full-power API; this trait lets a service
//! hold `Arc<dyn PaymentProvider>` per provider and drive the common flow.

use std::collections::BTreeMap;

use std::sync::Arc;

use async_trait::async_trait;
use secrecy::SecretString;

use crate::{
    Error, InMemoryRecords, InMemorySeenStore, Money, PaymentRecords, PaymentStatus,
    RawNotification, Result, SeenStore, Verified,
};

/// What a provider crate's `provider.rs` names to implement [`PaymentProvider`], in one line:
/// `use paybridge_core::provider::prelude::*;` — the trait, its request and answer types,
/// [`Stores`], and `async_trait` for the impl.
pub mod prelude {
    pub use async_trait::async_trait;

    pub use crate::{
        Capabilities, Currency, Error, Money, Notification, PaymentMethod, PaymentProvider,
        PaymentRecord, PaymentRef, PaymentRequest, PaymentSession, PaymentState, PaymentStatus,
        RawNotification, RefundQuery, RefundRequest, RefundState, RefundStatus, Result, Stores,
        Verified,
    };
}

/// Which trait operations a provider supports; the others return [`Error::Unsupported`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[allow(
    clippy::struct_excessive_bools,
    reason = "one flag per trait operation is the point"
)]
#[non_exhaustive]
pub struct Capabilities {
    /// `create_payment` is supported.
    pub create_payment: bool,
    /// `payment_status` is supported.
    pub payment_status: bool,
    /// `verify_notification` is supported.
    pub notifications: bool,
    /// `refund` is supported (money back on a paid payment).
    pub refund: bool,
    /// `cancel` is supported (a payment not yet paid, or not yet captured, called off).
    pub cancel: bool,
}

impl Capabilities {
    /// Every operation: payments, status, notifications, refunds and cancels.
    pub const ALL: Self = Self {
        create_payment: true,
        payment_status: true,
        notifications: true,
        refund: true,
        cancel: true,
    };

    /// Taking money: create, status and notifications — no refund, no cancel.
    pub const TAKE_ONLY: Self = Self {
        create_payment: true,
        payment_status: true,
        notifications: true,
        refund: false,
        cancel: false,
    };

    /// Notifications only (IPN-style providers); the other operations report `Unsupported`.
    pub const NOTIFICATIONS_ONLY: Self = Self {
        create_payment: false,
        payment_status: false,
        notifications: true,
        refund: false,
        cancel: false,
    };

    /// With or without `create_payment` (the struct is `#[non_exhaustive]`: build from
    /// `Capabilities::default()` or a constant).
    #[must_use]
    pub const fn create_payment(mut self, supported: bool) -> Self {
        self.create_payment = supported;
        self
    }

    /// With or without `payment_status`.
    #[must_use]
    pub const fn payment_status(mut self, supported: bool) -> Self {
        self.payment_status = supported;
        self
    }

    /// With or without `verify_notification`.
    #[must_use]
    pub const fn notifications(mut self, supported: bool) -> Self {
        self.notifications = supported;
        self
    }

    /// With or without `refund`.
    #[must_use]
    pub const fn refund(mut self, supported: bool) -> Self {
        self.refund = supported;
        self
    }

    /// With or without `cancel`.
    #[must_use]
    pub const fn cancel(mut self, supported: bool) -> Self {
        self.cancel = supported;
        self
    }
}

/// How the payer pays, when the merchant collects the means of payment itself.
///
/// Secrets (a card's scratch-off code) are [`SecretString`]s: `Debug` of a request never
/// shows them.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum PaymentMethod {
    /// A telco prepaid card (card-charging gateways).
    PrepaidCard(PrepaidCard),
}

/// A telco prepaid card: its telco, serial and the scratch-off code (the PIN).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PrepaidCard {
    /// The telco's name as the gateway spells it (`VIETTEL`, `MOBIFONE`, ...).
    pub telco: String,
    /// The card's serial (printed on the card; not secret).
    pub serial: String,
    /// The scratch-off code: whoever holds it can spend the card.
    pub code: SecretString,
}

impl PrepaidCard {
    /// A card.
    #[must_use]
    pub fn new(telco: impl Into<String>, serial: impl Into<String>, code: SecretString) -> Self {
        Self {
            telco: telco.into(),
            serial: serial.into(),
            code,
        }
    }
}

/// A payment to start.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PaymentRequest {
    /// The merchant's own reference (order id, request id); must be unique per payment.
    pub reference: String,
    /// How much.
    pub amount: Money,
    /// Shown to the payer where the provider supports it.
    pub description: Option<String>,
    /// Where the payer returns after paying.
    pub return_url: Option<String>,
    /// Where the provider sends its callback.
    pub notify_url: Option<String>,
    /// The means of payment, for providers that take it from the merchant (a prepaid card).
    pub method: Option<PaymentMethod>,
    /// Provider-specific, non-secret fields, documented by each provider crate. Never put a
    /// secret here: metadata is plain text and shows in `Debug`.
    pub metadata: BTreeMap<String, String>,
}

impl PaymentRequest {
    /// A request with a reference and an amount, nothing else.
    #[must_use]
    pub fn new(reference: impl Into<String>, amount: Money) -> Self {
        Self {
            reference: reference.into(),
            amount,
            description: None,
            return_url: None,
            notify_url: None,
            method: None,
            metadata: BTreeMap::new(),
        }
    }

    /// The same request paid with `method`.
    #[must_use]
    pub fn with_method(mut self, method: PaymentMethod) -> Self {
        self.method = Some(method);
        self
    }

    /// A metadata field, or an input error naming it.
    pub fn require_metadata(&self, key: &str) -> Result<&str> {
        self.metadata
            .get(key)
            .map(String::as_str)
            .ok_or_else(|| Error::Input(format!("metadata field `{key}` is required")))
    }
}

/// Identifies a payment at the merchant and, once known, at the provider.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PaymentRef {
    /// The merchant's reference.
    pub reference: String,
    /// The provider's id for it, once known.
    pub provider_reference: Option<String>,
}

impl PaymentRef {
    /// A reference known only to the merchant so far.
    #[must_use]
    pub fn merchant(reference: impl Into<String>) -> Self {
        Self {
            reference: reference.into(),
            provider_reference: None,
        }
    }
}

/// A payment's state as the provider reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentState {
    /// Which payment.
    pub payment: PaymentRef,
    /// Normalized status.
    pub status: PaymentStatus,
    /// The provider's own code or word.
    pub provider_status: String,
    /// What the merchant is credited, when the provider says.
    pub amount: Option<Money>,
    /// The provider's message, if any.
    pub message: Option<String>,
}

/// Money back on a paid payment.
///
/// A refund moves money: it is **never resent automatically**. Give it a `refund_id` of your
/// own (unique per refund, e.g. `order-1-r1`): where the provider keys refunds by such an id
/// (Payoo's `RefundId`) a repeat is harmless, and the ledger recognises a repeat in any case.
/// When its outcome is unknown the error is [`Error::OutcomeUnknown`], whose advice says how
/// to find out.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RefundRequest {
    /// Your id for this refund.
    pub refund_id: String,
    /// How much; `None` refunds what is left of the payment.
    pub amount: Option<Money>,
    /// Why, where the provider takes a reason.
    pub reason: Option<String>,
    /// The day the payment was made, `YYYYMMDD` in the provider's time zone, when known: a
    /// provider that finds orders by it (Payoo's `PurchaseDate`) then needs no lookup.
    pub purchase_date: Option<String>,
}

impl RefundRequest {
    /// A refund of everything left, under `refund_id`.
    #[must_use]
    pub fn full(refund_id: impl Into<String>) -> Self {
        Self {
            refund_id: refund_id.into(),
            amount: None,
            reason: None,
            purchase_date: None,
        }
    }

    /// A refund of `amount`, under `refund_id`.
    #[must_use]
    pub fn partial(refund_id: impl Into<String>, amount: Money) -> Self {
        Self {
            refund_id: refund_id.into(),
            amount: Some(amount),
            reason: None,
            purchase_date: None,
        }
    }

    /// The same request with the payment's purchase day (`YYYYMMDD`).
    #[must_use]
    pub fn purchase_date(mut self, date: impl Into<String>) -> Self {
        self.purchase_date = Some(date.into());
        self
    }
}

/// A refund whose outcome is unknown (it may have reached the provider), as
/// [`PaymentProvider::refund_status`] is asked about it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RefundQuery {
    /// The refund as it was sent: its id and exact amount.
    pub refund: RefundRequest,
    /// What earlier refunds of the payment that succeeded gave back.
    pub refunded_before: Money,
    /// What was paid.
    pub paid: Money,
}

impl RefundQuery {
    /// A query about `refund` of a payment that was `paid`, after `refunded_before`.
    #[must_use]
    pub fn new(refund: RefundRequest, refunded_before: Money, paid: Money) -> Self {
        Self {
            refund,
            refunded_before,
            paid,
        }
    }
}

/// Where a refund stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RefundStatus {
    /// Accepted, not yet done.
    Pending,
    /// The money went back.
    Succeeded,
    /// Refused or failed: no money moved.
    Failed,
}

impl RefundStatus {
    /// The word printed and stored.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }
}

/// What `refund` returns.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RefundState {
    /// The payment refunded.
    pub payment: PaymentRef,
    /// Your id for the refund.
    pub refund_id: String,
    /// The provider's id for it, when it gives one.
    pub provider_refund_id: Option<String>,
    /// How much went (or is going) back.
    pub amount: Money,
    /// Where it stands.
    pub status: RefundStatus,
    /// The provider's own code or word.
    pub provider_status: String,
}

impl RefundState {
    /// A refund's state (no provider refund id: see [`RefundState::provider_refund_id`]).
    #[must_use]
    pub fn new(
        payment: PaymentRef,
        refund_id: impl Into<String>,
        amount: Money,
        status: RefundStatus,
        provider_status: impl Into<String>,
    ) -> Self {
        Self {
            payment,
            refund_id: refund_id.into(),
            provider_refund_id: None,
            amount,
            status,
            provider_status: provider_status.into(),
        }
    }
}

/// What `create_payment` returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentSession {
    /// The payment's state right after creation.
    pub state: PaymentState,
    /// Where to send the payer, for redirect flows.
    pub redirect_url: Option<String>,
}

/// A verified callback, normalized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// The payment's state as the callback reports it.
    pub state: PaymentState,
    /// `true` when this callback was seen before (see [`crate::SeenStore`]): do not credit again.
    pub duplicate: bool,
}

/// One payment provider behind a common, object-safe interface.
#[async_trait]
pub trait PaymentProvider: Send + Sync {
    /// A stable, lowercase id (`"card-charging"`, `"woopay"`).
    fn id(&self) -> &'static str;

    /// Which operations below are supported.
    fn capabilities(&self) -> Capabilities;

    /// Start a payment.
    async fn create_payment(&self, request: PaymentRequest) -> Result<PaymentSession> {
        let _ = request;
        Err(Error::Unsupported {
            provider: self.id(),
            operation: "create_payment",
        })
    }

    /// Ask the provider where a payment stands.
    async fn payment_status(&self, payment: &PaymentRef) -> Result<PaymentState> {
        let _ = payment;
        Err(Error::Unsupported {
            provider: self.id(),
            operation: "payment_status",
        })
    }

    /// Give money back on a paid payment: all that is left (`request.amount` `None`) or part
    /// of it. Never resent automatically (see [`RefundRequest`]).
    async fn refund(&self, payment: &PaymentRef, request: RefundRequest) -> Result<RefundState> {
        let _ = (payment, request);
        Err(Error::Unsupported {
            provider: self.id(),
            operation: "refund",
        })
    }

    /// Where a refund whose outcome is unknown stands: asked of the provider without moving
    /// money twice — a read, or a resend the provider makes harmless (Payoo's `RefundId`).
    /// `Err` when the provider cannot tell (the refund stays pending for a person);
    /// [`Error::Unsupported`] by default.
    async fn refund_status(
        &self,
        payment: &PaymentRef,
        query: &RefundQuery,
    ) -> Result<RefundState> {
        let _ = (payment, query);
        Err(Error::Unsupported {
            provider: self.id(),
            operation: "refund_status",
        })
    }

    /// Call off a payment not yet paid (or not yet captured): its state afterwards.
    async fn cancel(&self, payment: &PaymentRef) -> Result<PaymentState> {
        let _ = payment;
        Err(Error::Unsupported {
            provider: self.id(),
            operation: "cancel",
        })
    }

    /// Verify a callback and normalize it.
    async fn verify_notification(
        &self,
        notification: &RawNotification,
    ) -> Result<Verified<Notification>> {
        let _ = notification;
        Err(Error::Unsupported {
            provider: self.id(),
            operation: "verify_notification",
        })
    }
}

/// What a provider keeps between calls: the callbacks it has seen (`seen`) and the payments it
/// created (`records`). A provider crate's `*Provider` takes one; [`Stores::in_memory`] is
/// for one process, a ledger (`paybridge-ledger`) makes both durable and shared.
#[derive(Clone)]
pub struct Stores {
    /// Callback deduplication keys.
    pub seen: Arc<dyn SeenStore>,
    /// The payments created, so `payment_status` works after a restart and elsewhere.
    pub records: Arc<dyn PaymentRecords>,
}

impl std::fmt::Debug for Stores {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stores").finish_non_exhaustive()
    }
}

impl Stores {
    /// Duplicates reported through `seen`; payments remembered in this process.
    #[must_use]
    pub fn new(seen: Arc<dyn SeenStore>) -> Self {
        Self {
            seen,
            records: Arc::new(InMemoryRecords::default()),
        }
    }

    /// Both in this process (lost on restart, not shared).
    #[must_use]
    pub fn in_memory() -> Self {
        Self::new(Arc::new(InMemorySeenStore::new()))
    }

    /// Payments remembered in `records` (e.g. a ledger).
    #[must_use]
    pub fn records(mut self, records: Arc<dyn PaymentRecords>) -> Self {
        self.records = records;
        self
    }

    /// The result of sending the request that creates payment `reference` (remembered before
    /// it was sent): an error whose outcome is unknown is told to the records first
    /// ([`PaymentRecords::outcome_unknown`]: a ledger then asks the provider at once).
    pub async fn sent<T, E: Into<Error>>(
        &self,
        provider: &str,
        reference: &str,
        result: std::result::Result<T, E>,
    ) -> Result<T> {
        match result {
            Ok(value) => Ok(value),
            Err(e) => {
                let e = e.into();
                if e.outcome_unknown() {
                    self.records.outcome_unknown(provider, reference).await?;
                }
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Capabilities;

    #[test]
    fn capabilities_are_built_from_a_constant_or_the_default() {
        let c = Capabilities::default()
            .create_payment(true)
            .notifications(true);
        assert!(c.create_payment && c.notifications && !c.payment_status);
        assert_eq!(
            Capabilities::TAKE_ONLY.payment_status(false),
            Capabilities::default()
                .create_payment(true)
                .notifications(true)
        );
        assert_eq!(
            Capabilities::ALL,
            Capabilities::TAKE_ONLY.refund(true).cancel(true)
        );
        assert_eq!(
            Capabilities::NOTIFICATIONS_ONLY,
            Capabilities::default().notifications(true)
        );
    }
}
