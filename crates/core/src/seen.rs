//! The idempotency hook for callbacks: providers retry callbacks (Qvickly for months), so a
//! handler must be able to tell a duplicate from a first delivery and never credit twice.

use std::collections::HashSet;
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

/// A process-local [`SeenStore`].
#[derive(Debug, Default)]
pub struct InMemorySeenStore {
    keys: Mutex<HashSet<String>>,
}

impl InMemorySeenStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl SeenStore for InMemorySeenStore {
    async fn insert_if_absent(&self, key: &str) -> Result<bool> {
        let mut keys = self
            .keys
            .lock()
            .map_err(|_| Error::Config("seen-store lock poisoned".into()))?;
        Ok(keys.insert(key.to_owned()))
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
}
