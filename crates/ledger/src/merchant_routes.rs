//! A platform's merchants on one receiver: beside its own routes, a
//! [`crate::receive::Receiver`] given a [`MerchantRoutes`] factory serves `/m/{merchant}/` +
//! each route's path for every registered merchant. A callback there is verified by that
//! merchant's routes only (its secrets) and recorded under that merchant only
//! ([`Ledger::for_merchant`]): a callback signed with another merchant's key is refused, and
//! the same order number of two merchants is two payments.
//!
//! The table of merchants is read again at most every [`REFRESH`] (on the first callback after
//! it ran out): a merchant registered, rotated or removed while the receiver runs is served —
//! or refused — within that time, without a restart.
//!
//! A platform builds each merchant's routes from the settings it registered
//! ([`Ledger::add_merchant`]); a secret being rotated verifies with either value
//! ([`paybridge_core::AnyOf`], current first):
//!
//! ```no_run
//! # async fn run(ledger: std::sync::Arc<paybridge_ledger::Ledger>) -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use paybridge_core::{AnyOf, CallbackRoute};
//! use paybridge_ledger::Ledger;
//! use paybridge_ledger::receive::{CallbackHandler, MerchantRoutes, MerchantTable, Receiver};
//!
//! struct CardMerchants;
//!
//! #[async_trait::async_trait]
//! impl MerchantRoutes for CardMerchants {
//!     async fn routes(&self, ledger: &Ledger) -> paybridge_core::Result<MerchantTable> {
//!         let mut table = MerchantTable::new();
//!         for m in ledger.merchants().await? {
//!             // Every card key valid now: the current one, then one in its grace period.
//!             let keys = ledger.merchant_setting(&m.id, "PAYBRIDGE_CARD_PARTNER_KEY").await?;
//!             let routes: Vec<Arc<dyn CallbackRoute>> = keys
//!                 .into_iter()
//!                 .map(|key| {
//!                     Arc::new(paybridge_card_charging::route::Route::trusting_unsigned_status(key))
//!                         as Arc<dyn CallbackRoute>
//!                 })
//!                 .collect();
//!             let route: Option<Arc<dyn CallbackRoute>> = match routes.len() {
//!                 0 => None,
//!                 1 => routes.into_iter().next(),
//!                 _ => AnyOf::new(routes).map(|r| Arc::new(r) as Arc<dyn CallbackRoute>),
//!             };
//!             table.insert(m.id, route.into_iter().collect());
//!         }
//!         Ok(table)
//!     }
//! }
//!
//! # let books: Arc<dyn CallbackHandler> = todo!();
//! let router = Receiver::new(ledger, books)
//!     .merchants(Arc::new(CardMerchants)) // /m/{merchant}/card-charging/callback
//!     .router();
//! # Ok(())
//! # }
//! ```

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use paybridge_core::CallbackRoute;

use crate::store::Ledger;

/// How old the table of merchants' routes may get before a callback reads it again.
pub const REFRESH: Duration = Duration::from_secs(2);

/// Every registered merchant's routes, by merchant id.
pub type MerchantTable = BTreeMap<String, Vec<Arc<dyn CallbackRoute>>>;

/// Builds the routes of every merchant registered in a ledger, from its settings there (the
/// CLI: each provider's route from the merchant's sealed settings, the way `receive` builds
/// the default merchant's from the environment). A merchant whose settings enable no route
/// has none; one whose rotated secret is still in its grace period is verified by both
/// (`paybridge_core::AnyOf`).
#[async_trait]
pub trait MerchantRoutes: Send + Sync + 'static {
    /// The routes of every merchant registered in `ledger`.
    async fn routes(&self, ledger: &Ledger) -> paybridge_core::Result<MerchantTable>;
}

/// The table as last read, and when.
pub(crate) struct Merchants {
    factory: Arc<dyn MerchantRoutes>,
    refresh: Duration,
    current: tokio::sync::RwLock<Option<(Instant, Arc<MerchantTable>)>>,
    /// One reader of the ledger at a time: a burst of callbacks after the table ran out reads
    /// it once.
    reading: tokio::sync::Mutex<()>,
}

impl Merchants {
    pub(crate) fn new(factory: Arc<dyn MerchantRoutes>, refresh: Duration) -> Self {
        Self {
            factory,
            refresh,
            current: tokio::sync::RwLock::new(None),
            reading: tokio::sync::Mutex::new(()),
        }
    }

    async fn fresh(&self) -> Option<Arc<MerchantTable>> {
        match &*self.current.read().await {
            Some((at, table)) if at.elapsed() < self.refresh => Some(table.clone()),
            _ => None,
        }
    }

    /// The table, read again from `ledger` when it is older than the refresh interval. A
    /// ledger that cannot be read keeps the last table serving (logged); with none yet, the
    /// error.
    pub(crate) async fn table(
        &self,
        ledger: &Ledger,
    ) -> paybridge_core::Result<Arc<MerchantTable>> {
        if let Some(table) = self.fresh().await {
            return Ok(table);
        }
        let _reading = self.reading.lock().await;
        if let Some(table) = self.fresh().await {
            return Ok(table);
        }
        match self.factory.routes(ledger).await {
            Ok(table) => {
                let table = Arc::new(table);
                *self.current.write().await = Some((Instant::now(), table.clone()));
                Ok(table)
            }
            Err(e) => {
                let last = self.current.read().await.as_ref().map(|(_, t)| t.clone());
                match last {
                    Some(table) => {
                        tracing::warn!(error = %e, "merchants could not be read again; serving the last table");
                        Ok(table)
                    }
                    None => Err(e),
                }
            }
        }
    }
}

/// The route of `table`'s merchant `merchant` serving `path` (without the `/m/{merchant}`
/// prefix) for `method`.
pub(crate) fn route_of(
    table: &MerchantTable,
    merchant: &str,
    path: &str,
    method: &axum::http::Method,
) -> Option<Arc<dyn CallbackRoute>> {
    table
        .get(merchant)?
        .iter()
        .find(|r| r.path().strip_prefix('/') == Some(path) && r.methods().contains(method))
        .cloned()
}
