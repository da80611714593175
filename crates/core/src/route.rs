//! A provider's callback endpoint, as a receiver mounts it: the one contract between a provider
//! crate and the ledger's receiver, so that the receiver knows no provider by name and adding a
//! provider touches no receiver code.
//!
//! A route turns a raw request into a [`Received`]: a verified, normalized report (its payment,
//! state and money, its natural key, and the bytes that acknowledge it to the provider), or
//! something to answer without recording anything. Confirmation with the provider (a card
//! gateway's `check`, Wooppay's `cash_getOperationData`) happens inside the route; the
//! payments the merchant recorded are available to it ([`PaymentRecords`]) for what only they
//! know (the card recorded for a request id, a Wooppay invoice's operation id).
//!
//! Errors: [`ErrorKind::Signature`](crate::ErrorKind::Signature) is answered `401`,
//! [`ErrorKind::Transport`](crate::ErrorKind::Transport) (the provider or the records could
//! not be asked) `503` so the provider retries, anything else `400`; none is recorded.

use async_trait::async_trait;
use bytes::Bytes;
use http::Method;

use crate::{Notification, PaymentRecords, RawNotification, Result, Verified};

/// What a provider expects back once its callback is handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acknowledgement {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type`, when the provider expects one.
    pub content_type: Option<&'static str>,
    /// The body.
    pub body: Bytes,
}

impl Acknowledgement {
    /// `200` with this body (no content type).
    #[must_use]
    pub fn ok(body: impl Into<Bytes>) -> Self {
        Self {
            status: 200,
            content_type: None,
            body: body.into(),
        }
    }

    /// `200` with this body and content type.
    #[must_use]
    pub fn ok_typed(content_type: &'static str, body: impl Into<Bytes>) -> Self {
        Self {
            status: 200,
            content_type: Some(content_type),
            body: body.into(),
        }
    }
}

/// A verified callback, ready for the ledger.
#[derive(Debug)]
pub struct CallbackReport {
    /// The delivery's natural key (deliveries of one key are counted as one).
    pub key: String,
    /// The verified, normalized notification: its state carries the payment, the status and
    /// the amount actually paid.
    pub notification: Verified<Notification>,
    /// What acknowledges it, once the ledger committed.
    pub ack: Acknowledgement,
}

impl Received {
    /// A verified callback as a report: its natural key, the verified value turned into its
    /// notification by `state`, and what acknowledges it.
    pub fn report<T>(
        key: String,
        verified: Verified<T>,
        state: impl FnOnce(T) -> crate::PaymentState,
        ack: Acknowledgement,
    ) -> Self {
        Self::Report(CallbackReport {
            key,
            notification: verified.map(|v| Notification {
                state: state(v),
                duplicate: false,
            }),
            ack,
        })
    }
}

/// What a route made of a request.
#[derive(Debug)]
#[non_exhaustive]
pub enum Received {
    /// A verified report: record it, hand its change out, then acknowledge.
    Report(CallbackReport),
    /// Answer this and record nothing (a Qvickly test-mode callback the merchant does not
    /// credit).
    Ignore(Acknowledgement),
    /// Not confirmed yet (a Wooppay invoice not paid yet): answer this (a `503`), the provider
    /// calls again.
    Retry(Acknowledgement),
    /// A verified callback whose natural key was recorded before
    /// ([`PaymentRecords::callback_seen`]): count the delivery, hand out what its payment
    /// still has open, acknowledge — without asking the provider again.
    Duplicate {
        /// The natural key.
        key: String,
        /// The payment it was recorded for.
        reference: String,
        /// What acknowledges it.
        ack: Acknowledgement,
    },
}

/// The error a route answers when `records` refuses one more confirmation for `reference`
/// ([`PaymentRecords::may_confirm`]): `None` when it may go ahead. A transport-kind error: the
/// receiver answers 503 and the provider retries.
#[must_use]
pub fn confirmation_budget(
    records: &dyn PaymentRecords,
    provider: &str,
    reference: &str,
) -> Option<crate::Error> {
    (!records.may_confirm(provider, reference)).then(|| crate::Error::Transport {
        status: None,
        message: format!(
            "too many confirmations asked for {provider} payment {reference:?} just now: retry later"
        ),
        source: None,
    })
}

impl Received {
    /// [`Received::Duplicate`] when `records` recorded the callback `key` of `provider`
    /// before and it said what `says` says (same payment, same status and — when `says` has
    /// one — the same amount); `None` when it is new or says something else (a variant with
    /// another amount is confirmed like a new one, and refused if the provider disagrees).
    pub async fn seen(
        records: &dyn PaymentRecords,
        provider: &str,
        key: &str,
        says: &crate::PaymentState,
        ack: &Acknowledgement,
    ) -> Result<Option<Self>> {
        let Some(recorded) = records.callback_seen(provider, key).await? else {
            return Ok(None);
        };
        let same = recorded.payment.reference == says.payment.reference
            && recorded.status == says.status
            && (says.amount.is_none() || says.amount == recorded.amount);
        Ok(same.then(|| Self::Duplicate {
            key: key.to_owned(),
            reference: recorded.payment.reference,
            ack: ack.clone(),
        }))
    }
}

/// One provider's callback endpoint.
#[async_trait]
pub trait CallbackRoute: Send + Sync + 'static {
    /// The provider id (`"card-charging"`, …): the ledger's provider of the payments.
    fn provider(&self) -> &'static str;

    /// The path the receiver serves it at (`"/card-charging/callback"`).
    fn path(&self) -> &'static str;

    /// The HTTP methods the provider calls with.
    fn methods(&self) -> &'static [Method] {
        &[Method::POST]
    }

    /// Verify (and, where the provider's signature leaves something unsigned, confirm) one
    /// request.
    async fn receive(
        &self,
        raw: &RawNotification,
        records: &dyn PaymentRecords,
    ) -> Result<Received>;
}

/// One provider's route verified by any of several routes of it, tried in order — the
/// current secret's first, then one being rotated out (still valid for its grace period): a
/// callback is recorded through the first that accepts it. A route that refuses a signature
/// asks nobody, so trying the next costs only a digest; any other error (a confirmation the
/// provider did not answer, a body that is no callback) ends the search: it is the answer.
pub struct AnyOf {
    routes: Vec<std::sync::Arc<dyn CallbackRoute>>,
}

impl AnyOf {
    /// The routes of one provider at one path, most current first; `None` when there are none
    /// or they are not one provider's at one path.
    #[must_use]
    pub fn new(routes: Vec<std::sync::Arc<dyn CallbackRoute>>) -> Option<Self> {
        let first = routes.first()?;
        let (provider, path) = (first.provider(), first.path());
        routes
            .iter()
            .all(|r| r.provider() == provider && r.path() == path)
            .then_some(Self { routes })
    }
}

impl std::fmt::Debug for AnyOf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnyOf")
            .field("routes", &self.routes.len())
            .finish()
    }
}

#[async_trait]
impl CallbackRoute for AnyOf {
    fn provider(&self) -> &'static str {
        self.routes.first().map_or("", |r| r.provider())
    }

    fn path(&self) -> &'static str {
        self.routes.first().map_or("", |r| r.path())
    }

    fn methods(&self) -> &'static [Method] {
        self.routes.first().map_or(&[], |r| r.methods())
    }

    async fn receive(
        &self,
        raw: &RawNotification,
        records: &dyn PaymentRecords,
    ) -> Result<Received> {
        let mut first_error = None;
        for route in &self.routes {
            match route.receive(raw, records).await {
                Ok(received) => return Ok(received),
                Err(e) if e.kind() == crate::ErrorKind::Signature => {
                    first_error.get_or_insert(e);
                }
                Err(e) => return Err(e),
            }
        }
        Err(first_error.unwrap_or_else(|| crate::Error::config("no route to verify with")))
    }
}
