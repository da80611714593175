//! The idempotency hook for callbacks: providers retry callbacks (Qvickly for months), so a
//! handler must be able to tell a duplicate from a first delivery and never credit twice.
//!
//! **Prefer `paybridge-ledger`.** A key inserted here is marked seen *before* the merchant
//! processed the callback: if the handler then fails, the provider's retry reads as a
//! duplicate and the payment is never credited. The ledger's claim → complete/release does
//! it in the right order, durably and across processes. This store stays for tests and for
//! handlers whose effect is itself idempotent.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

use async_trait::async_trait;

use crate::{Error, Result};

/// A set of keys with an atomic insert-if-absent. Back it with your database's unique
/// constraint or Redis `SET NX` in production; [`InMemorySeenStore`] serves one process.
#[async_trait]
pub trait SeenStore: Send + Sync {
    /// Record `key`. Returns `true` when the key is new, `false` when it was seen before.
    async fn insert_if_absent(&self, key: &str) -> Result<bool>;
}

/// A process-local [`SeenStore`] with bounded memory: it keeps the most recent
/// [`InMemorySeenStore::DEFAULT_CAPACITY`] keys (or the capacity given) and forgets the oldest.
#[derive(Debug)]
pub struct InMemorySeenStore {
    keys: Mutex<Keys>,
    capacity: usize,
}

#[derive(Debug, Default)]
struct Keys {
    set: HashSet<String>,
    order: VecDeque<String>,
}

impl Default for InMemorySeenStore {
    fn default() -> Self {
        Self::with_capacity(Self::DEFAULT_CAPACITY)
    }
}

impl InMemorySeenStore {
    /// Keys kept by [`InMemorySeenStore::new`].
    pub const DEFAULT_CAPACITY: usize = 100_000;

    /// An empty store keeping [`InMemorySeenStore::DEFAULT_CAPACITY`] keys.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty store keeping the `capacity` most recent keys.
    #[must_use]
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            keys: Mutex::new(Keys::default()),
            capacity: capacity.max(1),
        }
    }
}

#[async_trait]
impl SeenStore for InMemorySeenStore {
    async fn insert_if_absent(&self, key: &str) -> Result<bool> {
        let mut keys = self
            .keys
            .lock()
            .map_err(|_| Error::config("seen-store lock poisoned"))?;
        if keys.set.contains(key) {
            return Ok(false);
        }
        if keys.order.len() >= self.capacity
            && let Some(oldest) = keys.order.pop_front()
        {
            keys.set.remove(&oldest);
        }
        keys.set.insert(key.to_owned());
        keys.order.push_back(key.to_owned());
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn second_insert_is_a_duplicate() {
        let store = InMemorySeenStore::new();
        assert!(store.insert_if_absent("card:989876:1").await.unwrap());
        assert!(!store.insert_if_absent("card:989876:1").await.unwrap());
        assert!(store.insert_if_absent("card:989876:3").await.unwrap());
    }

    #[tokio::test]
    async fn memory_is_bounded_and_the_oldest_key_goes_first() {
        let store = InMemorySeenStore::with_capacity(2);
        for key in ["a", "b", "c"] {
            assert!(store.insert_if_absent(key).await.unwrap());
        }
        assert!(!store.insert_if_absent("c").await.unwrap());
        assert!(!store.insert_if_absent("b").await.unwrap());
        // "a" was forgotten to keep the store at two keys.
        assert!(store.insert_if_absent("a").await.unwrap());
        assert_eq!(store.keys.lock().unwrap().set.len(), 2);
    }
}
