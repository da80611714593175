//! What the ledger's test files share: a fresh SQLite file and a fresh PostgreSQL schema per
//! test (from `PAYBRIDGE_TEST_POSTGRES`). Without that variable the PostgreSQL half of a test
//! says it is skipped; with `PAYBRIDGE_REQUIRE_POSTGRES=1` a missing server fails.

#![allow(dead_code, reason = "each test file uses a part of it")]

pub mod receiving;

use std::sync::atomic::{AtomicUsize, Ordering};

/// `n` Vietnamese đồng: the money most tests record and report.
pub fn vnd(n: i64) -> paybridge_core::Money {
    paybridge_core::Money::new(n.into(), paybridge_core::Currency::VND).unwrap()
}

/// A name no other test run uses: process id, a counter, and the clock.
pub fn unique(name: &str) -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "{name}_{}_{}_{nanos:x}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A fresh SQLite file for `name`.
pub fn sqlite_url(name: &str) -> String {
    let dir = std::env::temp_dir().join("paybridge-ledger-tests");
    std::fs::create_dir_all(&dir).unwrap();
    format!(
        "sqlite://{}",
        dir.join(format!("{}.db", unique(name))).display()
    )
}

/// A URL of a fresh PostgreSQL schema for `name`, or `None` (the test's PostgreSQL half is
/// skipped, loudly, unless `PAYBRIDGE_REQUIRE_POSTGRES=1`).
pub async fn postgres_url(name: &str) -> Option<String> {
    let Ok(base) = std::env::var("PAYBRIDGE_TEST_POSTGRES") else {
        assert!(
            std::env::var("PAYBRIDGE_REQUIRE_POSTGRES").as_deref() != Ok("1"),
            "PAYBRIDGE_REQUIRE_POSTGRES=1 but PAYBRIDGE_TEST_POSTGRES is not set"
        );
        eprintln!("skipped PostgreSQL: {name} (set PAYBRIDGE_TEST_POSTGRES to run it)");
        return None;
    };
    let schema = unique(name).to_lowercase();
    let admin = sqlx::PgPool::connect(&base)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at PAYBRIDGE_TEST_POSTGRES: {e}"));
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA \"{schema}\"")))
        .execute(&admin)
        .await
        .unwrap();
    let sep = if base.contains('?') { '&' } else { '?' };
    Some(format!("{base}{sep}options=-c%20search_path%3D{schema}"))
}

/// The ledger URLs a test runs on: SQLite always, PostgreSQL when configured.
pub async fn ledger_urls(name: &str) -> Vec<(&'static str, String)> {
    let mut out = vec![("sqlite", sqlite_url(name))];
    if let Some(url) = postgres_url(name).await {
        out.push(("postgres", url));
    }
    out
}

/// The test's own connection to a ledger's database (a fixture: what a test arranges or
/// inspects behind the ledger's back, as an operator with `psql` would).
pub async fn database(url: &str) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::AnyPool::connect(url).await.unwrap()
}

/// Run `sql` on the ledger's database at `url`.
pub async fn execute(url: &str, sql: &str) {
    let pool = database(url).await;
    sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
}

/// The single number `sql` selects (a `COUNT(*)`) on the ledger's database at `url`.
pub async fn count(url: &str, sql: &str) -> i64 {
    let pool = database(url).await;
    let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    n
}

/// [`execute`], its refusal returned (a constraint the database itself must enforce).
pub async fn try_execute(url: &str, sql: &str) -> Result<(), sqlx::Error> {
    let pool = database(url).await;
    let done = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(&pool)
        .await
        .map(drop);
    pool.close().await;
    done
}
