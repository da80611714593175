//! What a provider remembers about the payments it created, to ask about them later — from
//! another process, or after a restart. `paybridge-ledger`'s `Ledger` implements
//! [`PaymentRecords`] durably (SQLite or PostgreSQL, secrets sealed); [`InMemoryRecords`]
//! serves one process and tests.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use async_trait::async_trait;
use secrecy::SecretString;

use crate::{Error, Money, PaymentStatus, Result};

/// A created payment, as a provider needs it later.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PaymentRecord {
    /// Provider id.
    pub provider: String,
    /// The merchant's reference.
    pub reference: String,
    /// The provider's id for it, once known (a Wooppay operation id).
    pub provider_reference: Option<String>,
    /// Status when recorded.
    pub status: PaymentStatus,
    /// Amount and currency.
    pub amount: Money,
    /// What the provider needs again and is secret (a prepaid card, to `check` it).
    pub secret: Option<SecretString>,
    /// A non-secret identifier of what pays, when the provider's callbacks name it and sign
    /// nothing else (a telco card's serial): a callback for this payment must name the same
    /// one, or it is about another payment.
    pub instrument: Option<String>,
}

impl PaymentRecord {
    /// A record without a provider reference or secret.
    #[must_use]
    pub fn new(
        provider: impl Into<String>,
        reference: impl Into<String>,
        status: PaymentStatus,
        amount: Money,
    ) -> Self {
        Self {
            provider: provider.into(),
            reference: reference.into(),
            provider_reference: None,
            status,
            amount,
            secret: None,
            instrument: None,
        }
    }

    /// The record of the payment `request` is creating at `provider`: its reference and
    /// amount, pending — what a provider remembers when it starts one.
    #[must_use]
    pub fn created(provider: impl Into<String>, request: &crate::PaymentRequest) -> Self {
        Self::new(
            provider,
            request.reference.clone(),
            PaymentStatus::Pending,
            request.amount,
        )
    }

    /// With the provider's reference.
    #[must_use]
    pub fn provider_reference(mut self, reference: impl Into<String>) -> Self {
        self.provider_reference = Some(reference.into());
        self
    }

    /// With the identifier of what pays (see [`PaymentRecord::instrument`]).
    #[must_use]
    pub fn instrument(mut self, instrument: impl Into<String>) -> Self {
        self.instrument = Some(instrument.into());
        self
    }

    /// With a secret.
    #[must_use]
    pub fn secret(mut self, secret: SecretString) -> Self {
        self.secret = Some(secret);
        self
    }
}

/// Where providers keep [`PaymentRecord`]s.
#[async_trait]
pub trait PaymentRecords: Send + Sync {
    /// Keep `record` (the first record of a provider's reference is kept; a later one may add
    /// its provider reference).
    async fn remember(&self, record: PaymentRecord) -> Result<()>;

    /// The record of `reference` at `provider`, if any.
    async fn recall(&self, provider: &str, reference: &str) -> Result<Option<PaymentRecord>>;

    /// The record of `reference` at `provider` without its secret: for a caller that needs
    /// only its public fields (a callback route matching a card's serial or finding an
    /// invoice's operation id), so that no secret is opened — or needs a key — on that path.
    /// By default `recall` with the secret dropped; a store that keeps secrets apart (the
    /// ledger, sealed) skips opening it.
    async fn recall_public(
        &self,
        provider: &str,
        reference: &str,
    ) -> Result<Option<PaymentRecord>> {
        Ok(self.recall(provider, reference).await?.map(|mut record| {
            record.secret = None;
            record
        }))
    }

    /// The request that created the payment `reference` ended with its outcome unknown (it may
    /// have reached the provider): a store that reconciles payments (the ledger) asks the
    /// provider about it at once instead of on its schedule. By default nothing.
    async fn outcome_unknown(&self, provider: &str, reference: &str) -> Result<()> {
        let _ = (provider, reference);
        Ok(())
    }

    /// What a callback with natural key `key` reported when it was recorded (its payment,
    /// status and amount), when one was recorded before (a store that records callbacks: the
    /// ledger). A route asks this after verifying a callback and **before** confirming it
    /// with the provider: the same callback again is answered from the store
    /// ([`crate::Received::Duplicate`]), so a provider retrying (or someone replaying) a
    /// callback costs no provider request. By default `None`: every callback is confirmed.
    async fn callback_seen(
        &self,
        provider: &str,
        key: &str,
    ) -> Result<Option<crate::PaymentState>> {
        let _ = (provider, key);
        Ok(None)
    }

    /// Whether a route may ask the provider to confirm one more callback about `reference`
    /// now. A callback's signature can be genuine while what it says is not (a card's
    /// `callback_sign` covers only the card), so each variant is confirmed — and the number of
    /// confirmations per payment is bounded, so that replayed variants cannot make us hammer
    /// the provider. `false`: answer the callback "retry later" (the provider retries). By
    /// default always `true`.
    fn may_confirm(&self, provider: &str, reference: &str) -> bool {
        let _ = (provider, reference);
        true
    }

    /// Whether a record's [`PaymentRecord::secret`] is kept and handed back by `recall`. A
    /// provider whose status check needs the secret again (card charging signs `check` with
    /// the card) offers `payment_status` only when it is.
    fn keeps_secrets(&self) -> bool {
        true
    }
}

/// A provider and a reference.
type Key = (String, String);

/// The records, and their keys oldest first.
type Kept = (HashMap<Key, PaymentRecord>, VecDeque<Key>);

/// A process-local [`PaymentRecords`] keeping the most recent `capacity` payments.
#[derive(Debug)]
pub struct InMemoryRecords {
    inner: Mutex<Kept>,
    capacity: usize,
}

impl Default for InMemoryRecords {
    fn default() -> Self {
        Self {
            inner: Mutex::new((HashMap::new(), VecDeque::new())),
            capacity: 100_000,
        }
    }
}

#[async_trait]
impl PaymentRecords for InMemoryRecords {
    async fn remember(&self, record: PaymentRecord) -> Result<()> {
        let mut guard = self
            .inner
            .lock()
            .map_err(|_| Error::config("payment records lock poisoned"))?;
        let (map, order) = &mut *guard;
        let key = (record.provider.clone(), record.reference.clone());
        if let Some(kept) = map.get_mut(&key) {
            if kept.provider_reference.is_none() {
                kept.provider_reference = record.provider_reference;
            }
            return Ok(());
        }
        if order.len() >= self.capacity
            && let Some(oldest) = order.pop_front()
        {
            map.remove(&oldest);
        }
        order.push_back(key.clone());
        map.insert(key, record);
        Ok(())
    }

    async fn recall(&self, provider: &str, reference: &str) -> Result<Option<PaymentRecord>> {
        let guard = self
            .inner
            .lock()
            .map_err(|_| Error::config("payment records lock poisoned"))?;
        Ok(guard
            .0
            .get(&(provider.to_owned(), reference.to_owned()))
            .cloned())
    }
}
