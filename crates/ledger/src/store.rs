//! The ledger and its database: one connection pool through sqlx's `Any` driver, so every
//! statement is written once, in the SQL both SQLite and PostgreSQL run (`$N` parameters,
//! numbered in order of first use, which SQLite binds by position too), and read into typed
//! rows (`sqlx::FromRow`). What differs between the backends is named here and only here:
//! how each is opened and migrated, and whether a claiming `SELECT` can skip rows another
//! process holds.

use std::sync::Arc;
use std::time::Duration;

use sqlx::any::AnyPoolOptions;

use crate::clock::{Clock, SystemClock, duration_ms};
use crate::error::{LedgerError, Result};
use crate::seal::SealKey;

/// How long after it is recorded a pending payment is first checked, unless the ledger is
/// told otherwise ([`Ledger::with_first_check`]): the default schedule's first step.
pub(crate) const FIRST_CHECK: Duration = Duration::from_mins(1);

/// Which database a ledger lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(
    not(all(feature = "sqlite", feature = "postgres")),
    allow(dead_code, reason = "a build with one backend never names the other")
)]
pub(crate) enum Backend {
    /// An SQLite file: one writer at a time, no row locks.
    Sqlite,
    /// PostgreSQL: row locks, several processes share the work.
    Postgres,
}

/// The pool and what it is.
#[derive(Debug, Clone)]
pub(crate) struct Store {
    pub pool: sqlx::AnyPool,
    pub backend: Backend,
}

impl Store {
    /// What a claiming `SELECT` ends with: on PostgreSQL, rows another process holds are
    /// skipped (several processes share the work); SQLite has one writer and no row locks.
    pub fn skip_locked(&self) -> &'static str {
        match self.backend {
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        }
    }
}

/// Where payments and callbacks are kept.
#[derive(Debug, Clone)]
pub struct Ledger {
    pub(crate) store: Store,
    pub(crate) seal: Option<SealKey>,
    pub(crate) first_check: Duration,
    pub(crate) confirmations: Arc<crate::budget::Budget>,
    clock: Arc<dyn Clock>,
    /// Whose payments this handle sees and records: `""`, the default merchant, or a
    /// platform's registered merchant ([`Ledger::for_merchant`]). Every statement about a
    /// payment is bound to it, so nothing recorded for one merchant is read as another's.
    merchant: Arc<str>,
}

impl Ledger {
    /// Open (and migrate) the ledger at `url`: `sqlite://FILE` (created if missing; WAL
    /// mode, 5 s busy timeout) or `postgres://…`, within 10 s.
    pub async fn open(url: &str) -> Result<Self> {
        Self::open_within(url, Duration::from_secs(10)).await
    }

    /// [`Ledger::open`] within `timeout` ([`LedgerError::Unreachable`] after it).
    pub async fn open_within(url: &str, timeout: Duration) -> Result<Self> {
        Ok(Self::with_store(open(url, true, timeout).await?))
    }

    /// Open a ledger that exists, changing nothing — what a reading command does: a missing
    /// SQLite file is [`LedgerError::Missing`] (not created), a schema older than this build
    /// [`LedgerError::Outdated`] (not migrated), a server not answering within `timeout`
    /// [`LedgerError::Unreachable`].
    pub async fn open_existing(url: &str, timeout: Duration) -> Result<Self> {
        Ok(Self::with_store(open(url, false, timeout).await?))
    }

    fn with_store(store: Store) -> Self {
        Self {
            store,
            seal: None,
            first_check: FIRST_CHECK,
            confirmations: Arc::default(),
            clock: Arc::new(SystemClock),
            merchant: Arc::from(""),
        }
    }

    /// The same ledger seen as merchant `id`'s: its payments, callbacks, changes, refunds and
    /// forward targets only, keyed by (merchant, provider, reference) — two merchants may use
    /// the same order number. `""` is the default merchant (what [`Ledger::open`] gives);
    /// another id must be a valid one ([`crate::valid_merchant_id`]), registered or not.
    pub fn for_merchant(&self, id: &str) -> Result<Self> {
        if !id.is_empty() && !crate::ids::valid_merchant_id(id) {
            return Err(LedgerError::Input(format!(
                "merchant id {id:?}: 1–64 of a-z, 0-9, '-', '_'"
            )));
        }
        Ok(Self {
            merchant: Arc::from(id),
            ..self.clone()
        })
    }

    /// Whose payments this handle sees: `""` for the default merchant.
    #[must_use]
    pub fn merchant_id(&self) -> &str {
        &self.merchant
    }

    /// How long after it is recorded a pending payment is first checked by a
    /// [`crate::Reconciler`] (default: the default schedule's first step, one minute). The
    /// steps after the first are the reconciler's schedule.
    #[must_use]
    pub fn with_first_check(mut self, after: Duration) -> Self {
        self.first_check = after;
        self
    }

    /// Seal secrets under `key` (AES-256-GCM). Without one, secrets are not stored.
    #[must_use]
    pub fn with_seal_key(mut self, key: SealKey) -> Self {
        self.seal = Some(key);
        self
    }

    /// Read the time from `clock` instead of the system's (tests: a
    /// [`crate::clock::ManualClock`] makes a lease run out or a check fall due at once).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Unix milliseconds now, by the ledger's clock.
    #[must_use]
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// The seal key, or [`LedgerError::Seal`] saying `why` one is needed.
    pub(crate) fn seal_key(&self, why: &str) -> Result<&SealKey> {
        self.seal
            .as_ref()
            .ok_or_else(|| LedgerError::Seal(why.to_owned()))
    }

    /// Now plus `d`, by the ledger's clock.
    pub(crate) fn after(&self, d: Duration) -> i64 {
        self.now_ms().saturating_add(duration_ms(d))
    }

    /// The pool every statement runs on.
    pub(crate) fn pool(&self) -> &sqlx::AnyPool {
        &self.store.pool
    }
}

/// Open the ledger at `url`: with `create`, a missing SQLite file is created and the schema
/// migrated; without it (a reading command) nothing is created or changed — a missing file is
/// [`LedgerError::Missing`], a schema older than this build [`LedgerError::Outdated`]. A
/// database that cannot be reached within `timeout` is [`LedgerError::Unreachable`], naming
/// its host (never its password).
async fn open(url: &str, create: bool, timeout: Duration) -> Result<Store> {
    // The drivers `Any` dispatches to: those this build has (idempotent).
    sqlx::any::install_default_drivers();
    // Migrating a large ledger may take longer than any connection deadline: a writer's open
    // is bounded by the pool's connection deadline only; a reading one, which migrates
    // nothing, as a whole.
    if create {
        return open_unbounded(url, create, timeout).await;
    }
    match tokio::time::timeout(timeout, open_unbounded(url, create, timeout)).await {
        Ok(opened) => opened,
        Err(_) => Err(LedgerError::Unreachable {
            host: crate::connection::host(url),
            message: format!("no answer within {timeout:?}"),
        }),
    }
}

async fn open_unbounded(url: &str, create: bool, timeout: Duration) -> Result<Store> {
    #[cfg(feature = "sqlite")]
    if let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        return open_sqlite(path, create).await;
    }
    #[cfg(feature = "postgres")]
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let pool = AnyPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(timeout)
            .connect(url)
            .await
            .map_err(|e| crate::connection::unreachable(url, &e))?;
        let migrator = sqlx::migrate!("./migrations/postgres");
        crate::connection::migrate_or_check(&migrator, &pool, create).await?;
        return Ok(Store {
            pool,
            backend: Backend::Postgres,
        });
    }
    let _ = (create, timeout);
    Err(LedgerError::Url(paybridge_core::http::redacted_url(url)))
}

#[cfg(feature = "sqlite")]
async fn open_sqlite(path: &str, create: bool) -> Result<Store> {
    let (file, query) = path.split_once('?').unwrap_or((path, ""));
    if !create && file != ":memory:" && !std::path::Path::new(file).exists() {
        return Err(LedgerError::Missing(file.to_owned()));
    }
    let mode = if create { "rwc" } else { "rw" };
    let url = if query.contains("mode=") {
        format!("sqlite://{path}")
    } else if query.is_empty() {
        format!("sqlite://{file}?mode={mode}")
    } else {
        format!("sqlite://{file}?{query}&mode={mode}")
    };
    let migrator = sqlx::migrate!("./migrations/sqlite");
    // Two processes opening a new file at once: switching it to WAL and migrating take the
    // write lock, which the busy timeout (sqlx's default, 5 s) does not cover; the loser waits.
    let mut tries = 0;
    loop {
        let opened = async {
            let pool = AnyPoolOptions::new()
                .max_connections(8)
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        // WAL: readers never wait for the writer. FULL: every commit reaches
                        // the disk, so an acknowledged callback stays recorded.
                        sqlx::Executor::execute(
                            &mut *conn,
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000",
                        )
                        .await?;
                        Ok(())
                    })
                })
                .connect(&url)
                .await?;
            crate::connection::migrate_or_check(&migrator, &pool, create).await?;
            Ok::<_, LedgerError>(pool)
        }
        .await;
        match opened {
            Ok(pool) => {
                return Ok(Store {
                    pool,
                    backend: Backend::Sqlite,
                });
            }
            Err(e) if tries < 50 && e.to_string().contains("locked") => {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => return Err(e),
        }
    }
}
