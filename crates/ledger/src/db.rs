//! The two backends behind one set of statements. Every statement is written once, in the
//! SQL both SQLite and PostgreSQL run (`$N` parameters, numbered in order of first use, which
//! SQLite binds by position too), and run on whichever pool the ledger opened: the macro
//! [`on_pool!`] expands a body once per backend, so the row types stay concrete.

use std::time::Duration;

use paybridge_core::PaymentStatus;

use crate::{
    CallbackRecord, Lease, LedgerError, NewPayment, Outcome, PaymentEvent, PaymentRow, Result,
    Source, money_from, rank, status_from,
};

#[derive(Debug, Clone)]
pub(crate) enum Db {
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::SqlitePool),
    #[cfg(feature = "postgres")]
    Postgres(sqlx::PgPool),
}

/// Run `$body` with `$pool` bound to the ledger's pool, whichever backend it is.
macro_rules! on_pool {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            #[cfg(feature = "sqlite")]
            Db::Sqlite($pool) => $body,
            #[cfg(feature = "postgres")]
            Db::Postgres($pool) => $body,
        }
    };
}

/// Read a column, naming it in the error.
macro_rules! col {
    ($row:expr, $name:literal) => {
        sqlx::Row::try_get($row, $name).map_err(|e| LedgerError::Row(format!("{}: {e}", $name)))?
    };
}

/// A callback row as a [`CallbackRecord`].
macro_rules! callback_record {
    ($row:expr) => {{
        let row = $row;
        let state: String = col!(row, "state");
        let status: Option<String> = col!(row, "status");
        let amount: Option<String> = col!(row, "amount");
        let currency: Option<String> = col!(row, "currency");
        let outcome = match (col!(row, "reference"), status) {
            (Some(reference), Some(status)) => Some(Outcome {
                reference,
                status: status_from(&status)?,
                provider_status: col!(row, "provider_status"),
                amount: match (amount, currency) {
                    (Some(a), Some(c)) => Some(money_from(&a, &c)?),
                    _ => None,
                },
            }),
            _ => None,
        };
        CallbackRecord {
            provider: col!(row, "provider"),
            key: col!(row, "key"),
            done: state == "done",
            outcome,
            deliveries: col!(row, "deliveries"),
            first_received_at: col!(row, "first_received_at"),
            last_received_at: col!(row, "last_received_at"),
        }
    }};
}

/// A payment row as a [`PaymentRow`] (no secret: see `secret`).
macro_rules! payment_record {
    ($row:expr) => {{
        let row = $row;
        let status: String = col!(row, "status");
        let amount: String = col!(row, "amount");
        let currency: String = col!(row, "currency");
        let provider: String = col!(row, "provider");
        let reference: String = col!(row, "reference");
        let mut payment = paybridge_core::PaymentRecord::new(
            provider,
            reference,
            status_from(&status)?,
            money_from(&amount, &currency)?,
        );
        payment.provider_reference = col!(row, "provider_reference");
        payment.instrument = col!(row, "instrument");
        PaymentRow {
            payment,
            created_at: col!(row, "created_at"),
            updated_at: col!(row, "updated_at"),
        }
    }};
}

const CALLBACK_COLUMNS: &str = "provider, key, state, lease_token, lease_until, reference, status, provider_status, amount, currency, deliveries, first_received_at, last_received_at";

/// One atomic statement decides a claim: a new key is inserted claimed; an existing one
/// counts the delivery and takes the lease over only if it is claimed and its lease ended.
const CLAIM: &str = "INSERT INTO callbacks (provider, key, state, lease_token, lease_until, deliveries, first_received_at, last_received_at) \
     VALUES ($1, $2, 'claimed', $3, $4, 1, $5, $5) \
     ON CONFLICT (provider, key) DO UPDATE SET \
       deliveries = callbacks.deliveries + 1, \
       last_received_at = excluded.last_received_at, \
       lease_token = CASE WHEN callbacks.state = 'claimed' AND callbacks.lease_until <= excluded.last_received_at THEN excluded.lease_token ELSE callbacks.lease_token END, \
       lease_until = CASE WHEN callbacks.state = 'claimed' AND callbacks.lease_until <= excluded.last_received_at THEN excluded.lease_until ELSE callbacks.lease_until END \
     RETURNING provider, key, state, lease_token, lease_until, reference, status, provider_status, amount, currency, deliveries, first_received_at, last_received_at";

const COMPLETE: &str = "UPDATE callbacks SET state = 'done', reference = $1, status = $2, provider_status = $3, amount = $4, currency = $5, completed_at = $6, lease_token = NULL \
     WHERE provider = $7 AND key = $8 AND state = 'claimed' AND lease_token = $9";

const RELEASE: &str = "UPDATE callbacks SET lease_until = 0, lease_token = NULL \
     WHERE provider = $1 AND key = $2 AND state = 'claimed' AND lease_token = $3";

/// A status is applied only when it ranks above the current one (see [`crate::rank`]), in
/// the statement itself, so two concurrent reports cannot both win.
const APPLY_STATUS: &str = "UPDATE payments SET status = $1, updated_at = $2 \
     WHERE provider = $3 AND reference = $4 AND \
       (CASE status WHEN 'pending' THEN 0 WHEN 'failed' THEN 1 WHEN 'cancelled' THEN 1 WHEN 'succeeded' THEN 2 WHEN 'reversed' THEN 3 ELSE 0 END) < $5";

const EVENT: &str = "INSERT INTO payment_events (provider, reference, status, provider_status, source, applied, at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7)";

const INSERT_PAYMENT: &str = "INSERT INTO payments (provider, reference, provider_reference, status, amount, currency, sealed, created_at, updated_at, instrument) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9) ON CONFLICT (provider, reference) DO NOTHING";

const SET_PROVIDER_REFERENCE: &str = "UPDATE payments SET provider_reference = $1, updated_at = $2 \
     WHERE provider = $3 AND reference = $4 AND provider_reference IS NULL";

const PAYMENT_COLUMNS: &str = "provider, reference, provider_reference, status, amount, currency, created_at, updated_at, instrument";

/// What a claim statement returned.
pub(crate) struct Claimed {
    pub done: bool,
    pub lease_token: Option<String>,
    pub lease_until: i64,
    pub record: CallbackRecord,
}

impl Db {
    pub(crate) async fn open(url: &str) -> Result<Self> {
        #[cfg(feature = "sqlite")]
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            use std::str::FromStr as _;
            let options =
                sqlx::sqlite::SqliteConnectOptions::from_str(&format!("sqlite://{path}"))?
                    .create_if_missing(true)
                    .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                    // Every commit reaches the disk: an acknowledged callback stays recorded.
                    .synchronous(sqlx::sqlite::SqliteSynchronous::Full)
                    .busy_timeout(Duration::from_secs(5));
            // Two processes opening a new file at once: switching it to WAL and migrating
            // take the write lock, which the busy timeout does not cover; the loser waits.
            let mut tries = 0;
            loop {
                let opened = async {
                    let pool = sqlx::sqlite::SqlitePoolOptions::new()
                        .max_connections(8)
                        .connect_with(options.clone())
                        .await?;
                    sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
                    Ok::<_, LedgerError>(pool)
                }
                .await;
                match opened {
                    Ok(pool) => return Ok(Self::Sqlite(pool)),
                    Err(e) if tries < 50 && e.to_string().contains("locked") => {
                        tries += 1;
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        #[cfg(feature = "postgres")]
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect(url)
                .await?;
            sqlx::migrate!("./migrations/postgres").run(&pool).await?;
            return Ok(Self::Postgres(pool));
        }
        Err(LedgerError::Url(url.to_owned()))
    }

    pub(crate) async fn claim(
        &self,
        provider: &str,
        key: &str,
        token: &str,
        until: i64,
        now: i64,
    ) -> Result<Claimed> {
        on_pool!(self, pool => {
            let row = sqlx::query(CLAIM)
                .bind(provider)
                .bind(key)
                .bind(token)
                .bind(until)
                .bind(now)
                .fetch_one(pool)
                .await?;
            let state: String = col!(&row, "state");
            Ok(Claimed {
                done: state == "done",
                lease_token: col!(&row, "lease_token"),
                lease_until: col!(&row, "lease_until"),
                record: callback_record!(&row),
            })
        })
    }

    pub(crate) async fn complete(
        &self,
        lease: &Lease,
        outcome: &Outcome,
        now: i64,
    ) -> Result<bool> {
        let amount = outcome.amount.map(|m| m.amount_string());
        let currency = outcome.amount.map(|m| m.currency().code().to_owned());
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let done = sqlx::query(COMPLETE)
                .bind(&outcome.reference)
                .bind(outcome.status.as_str())
                .bind(&outcome.provider_status)
                .bind(amount)
                .bind(currency)
                .bind(now)
                .bind(&lease.provider)
                .bind(&lease.key)
                .bind(&lease.token)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1;
            if !done {
                return Ok(false);
            }
            let applied = sqlx::query(APPLY_STATUS)
                .bind(outcome.status.as_str())
                .bind(now)
                .bind(&lease.provider)
                .bind(&outcome.reference)
                .bind(i64::from(rank(outcome.status)))
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1;
            sqlx::query(EVENT)
                .bind(&lease.provider)
                .bind(&outcome.reference)
                .bind(outcome.status.as_str())
                .bind(&outcome.provider_status)
                .bind(Source::Callback.as_str())
                .bind(i64::from(applied))
                .bind(now)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(true)
        })
    }

    pub(crate) async fn release(&self, lease: &Lease) -> Result<()> {
        on_pool!(self, pool => {
            sqlx::query(RELEASE)
                .bind(&lease.provider)
                .bind(&lease.key)
                .bind(&lease.token)
                .execute(pool)
                .await?;
            Ok(())
        })
    }

    pub(crate) async fn callback(
        &self,
        provider: &str,
        key: &str,
    ) -> Result<Option<CallbackRecord>> {
        let sql =
            format!("SELECT {CALLBACK_COLUMNS} FROM callbacks WHERE provider = $1 AND key = $2");
        on_pool!(self, pool => {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(provider)
                .bind(key)
                .fetch_optional(pool)
                .await?;
            match row {
                Some(row) => Ok(Some(callback_record!(&row))),
                None => Ok(None),
            }
        })
    }

    pub(crate) async fn callbacks(
        &self,
        provider: Option<&str>,
        reference: Option<&str>,
    ) -> Result<Vec<CallbackRecord>> {
        let sql = format!(
            "SELECT {CALLBACK_COLUMNS} FROM callbacks WHERE ($1 IS NULL OR provider = $1) AND ($2 IS NULL OR reference = $2) ORDER BY last_received_at DESC, key"
        );
        on_pool!(self, pool => {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(provider)
                .bind(reference)
                .fetch_all(pool)
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in &rows {
                out.push(callback_record!(row));
            }
            Ok(out)
        })
    }

    pub(crate) async fn record_payment(
        &self,
        p: &NewPayment,
        sealed: Option<Vec<u8>>,
        now: i64,
    ) -> Result<bool> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let new = sqlx::query(INSERT_PAYMENT)
                .bind(&p.provider)
                .bind(&p.reference)
                .bind(&p.provider_reference)
                .bind(p.status.as_str())
                .bind(p.amount.amount_string())
                .bind(p.amount.currency().code())
                .bind(sealed)
                .bind(now)
                .bind(&p.instrument)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1;
            if new {
                sqlx::query(EVENT)
                        .bind(&p.provider)
                    .bind(&p.reference)
                    .bind(p.status.as_str())
                    .bind(p.status.as_str())
                    .bind(Source::Created.as_str())
                    .bind(1_i64)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(new)
        })
    }

    pub(crate) async fn set_provider_reference(
        &self,
        provider: &str,
        reference: &str,
        provider_reference: &str,
        now: i64,
    ) -> Result<()> {
        on_pool!(self, pool => {
            sqlx::query(SET_PROVIDER_REFERENCE)
                .bind(provider_reference)
                .bind(now)
                .bind(provider)
                .bind(reference)
                .execute(pool)
                .await?;
            Ok(())
        })
    }

    pub(crate) async fn report_status(
        &self,
        provider: &str,
        reference: &str,
        status: PaymentStatus,
        provider_status: &str,
        source: Source,
        now: i64,
    ) -> Result<bool> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let applied = sqlx::query(APPLY_STATUS)
                .bind(status.as_str())
                .bind(now)
                .bind(provider)
                .bind(reference)
                .bind(i64::from(rank(status)))
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1;
            sqlx::query(EVENT)
                .bind(provider)
                .bind(reference)
                .bind(status.as_str())
                .bind(provider_status)
                .bind(source.as_str())
                .bind(i64::from(applied))
                .bind(now)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(applied)
        })
    }

    pub(crate) async fn payment(
        &self,
        provider: &str,
        reference: &str,
    ) -> Result<Option<PaymentRow>> {
        let sql = format!(
            "SELECT {PAYMENT_COLUMNS} FROM payments WHERE provider = $1 AND reference = $2"
        );
        on_pool!(self, pool => {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(provider)
                .bind(reference)
                .fetch_optional(pool)
                .await?;
            match row {
                Some(row) => Ok(Some(payment_record!(&row))),
                None => Ok(None),
            }
        })
    }

    pub(crate) async fn payments(&self, provider: Option<&str>) -> Result<Vec<PaymentRow>> {
        let sql = format!(
            "SELECT {PAYMENT_COLUMNS} FROM payments WHERE ($1 IS NULL OR provider = $1) ORDER BY created_at DESC, reference"
        );
        on_pool!(self, pool => {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(provider).fetch_all(pool).await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in &rows {
                out.push(payment_record!(row));
            }
            Ok(out)
        })
    }

    pub(crate) async fn events(
        &self,
        provider: &str,
        reference: &str,
    ) -> Result<Vec<PaymentEvent>> {
        const SQL: &str = "SELECT provider, reference, status, provider_status, source, applied, at FROM payment_events \
             WHERE provider = $1 AND reference = $2 ORDER BY seq";
        on_pool!(self, pool => {
            let rows = sqlx::query(SQL).bind(provider).bind(reference).fetch_all(pool).await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in &rows {
                let status: String = col!(row, "status");
                let applied: i64 = col!(row, "applied");
                out.push(PaymentEvent {
                    provider: col!(row, "provider"),
                    reference: col!(row, "reference"),
                    status: status_from(&status)?,
                    provider_status: col!(row, "provider_status"),
                    source: col!(row, "source"),
                    applied: applied != 0,
                    at: col!(row, "at"),
                });
            }
            Ok(out)
        })
    }

    pub(crate) async fn sealed(&self, provider: &str, reference: &str) -> Result<Option<Vec<u8>>> {
        const SQL: &str = "SELECT sealed FROM payments WHERE provider = $1 AND reference = $2";
        on_pool!(self, pool => {
            let row = sqlx::query(SQL).bind(provider).bind(reference).fetch_optional(pool).await?;
            match row {
                Some(row) => Ok(col!(&row, "sealed")),
                None => Ok(None),
            }
        })
    }

    pub(crate) async fn callback_providers(&self) -> Result<Vec<String>> {
        const SQL: &str = "SELECT DISTINCT provider FROM callbacks";
        on_pool!(self, pool => {
            let rows = sqlx::query(SQL).fetch_all(pool).await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in &rows {
                out.push(col!(row, "provider"));
            }
            Ok(out)
        })
    }

    pub(crate) async fn purge(&self, provider: &str, before: i64) -> Result<u64> {
        const SQL: &str = "DELETE FROM callbacks WHERE provider = $1 AND state = 'done' AND last_received_at < $2";
        on_pool!(self, pool => {
            Ok(sqlx::query(SQL).bind(provider).bind(before).execute(pool).await?.rows_affected())
        })
    }
}
