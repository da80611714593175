//! How many commits a callback and a check cost, counted by PostgreSQL itself: every write
//! transaction takes one transaction id, so the ids taken between two readings are the
//! commits (and rollbacks of writes) made meanwhile. A transactional handler's callback is one
//! commit — the delivery, the decision, the change and the merchant's books together; a plain
//! handler's is two (the decision with the change's claim, then its completion); a checked
//! payment of the reconciler likewise. SQLite runs the same statements (one code path through
//! sqlx's `Any` driver) but has no such counter.
//!
//! One test in its own binary: nothing else writes to the server while it counts (an
//! autovacuum's analyze might: a slack of two).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a panic is a failed test"
)]

mod common;
use common::vnd;

use common::receiving::*;

use std::sync::Arc;

use paybridge_core::Currency;
use paybridge_core::provider::prelude::*;
use paybridge_ledger::handler::{CallbackHandler, HandlerError, TransactionalHandler};
use paybridge_ledger::receive::{Callback, Receiver};
use paybridge_ledger::{Ledger, LedgerTx, Reconciler};
use secrecy::SecretString;

const N: i64 = 20;
const SLACK: i64 = 2;

/// Writes its books in the transaction it is handed, and reads there the state of its change:
/// the fence it was given and what the row says.
#[derive(Default)]
struct Sees {
    seen: std::sync::Mutex<Vec<(i64, String)>>,
}

#[async_trait]
impl TransactionalHandler for Sees {
    async fn handle(
        &self,
        mut tx: LedgerTx<'_>,
        callback: &Callback,
    ) -> std::result::Result<(), HandlerError> {
        let state: String = sqlx::query_scalar("SELECT state FROM changes WHERE id = $1")
            .bind(callback.change.id)
            .fetch_one(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO books (change_id) VALUES ($1)")
            .bind(callback.change.stable_id())
            .execute(&mut *tx)
            .await?;
        self.seen.lock().unwrap().push((callback.fence, state));
        Ok(())
    }
}

struct Nothing;

#[async_trait]
impl CallbackHandler for Nothing {
    async fn handle(&self, _: &Callback) -> std::result::Result<(), HandlerError> {
        Ok(())
    }
}

/// A provider that answers every check: paid, the amount recorded.
struct Paid;

#[async_trait]
impl PaymentProvider for Paid {
    fn id(&self) -> &'static str {
        "card-charging"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::TAKE_ONLY
    }

    async fn payment_status(&self, payment: &PaymentRef) -> Result<PaymentState> {
        Ok(PaymentState {
            payment: payment.clone(),
            status: PaymentStatus::Succeeded,
            provider_status: "1".into(),
            amount: Some(vnd(50_000)),
            message: None,
        })
    }
}

/// The transaction id the next write transaction would take (this reading takes one).
async fn next_xid(pool: &sqlx::AnyPool) -> i64 {
    let xid: String = sqlx::query_scalar("SELECT CAST(pg_current_xact_id() AS TEXT)")
        .fetch_one(pool)
        .await
        .unwrap();
    xid.parse().unwrap()
}

/// Write transactions committed while `work` ran.
async fn commits_during(pool: &sqlx::AnyPool, work: impl std::future::Future<Output = ()>) -> i64 {
    let before = next_xid(pool).await;
    work.await;
    next_xid(pool).await - before - 1
}

async fn callbacks(base: &str, prefix: &str) {
    for i in 0..N {
        let (status, _, _) = post(
            base,
            "/card-charging/callback",
            "application/json",
            card_callback(&format!("{prefix}-{i}"), 1, KEY),
        )
        .await;
        assert_eq!(status, 200);
    }
}

fn route() -> paybridge_card_charging::route::Route {
    paybridge_card_charging::route::Route::trusting_unsigned_status(SecretString::from(KEY))
}

#[tokio::test]
async fn a_callback_is_one_commit_with_a_transactional_handler_two_with_a_plain_one() {
    let Some(url) = common::postgres_url("commits").await else {
        return;
    };
    let ledger = Arc::new(Ledger::open(&url).await.unwrap());
    let pool = common::database(&url).await;
    sqlx::query("CREATE TABLE books (change_id TEXT PRIMARY KEY)")
        .execute(&pool)
        .await
        .unwrap();
    for prefix in ["tx", "plain", "check"] {
        for i in 0..N {
            expect_payment(
                &ledger,
                "card-charging",
                &format!("{prefix}-{i}"),
                "50000",
                Currency::VND,
            )
            .await;
        }
    }

    // Transactional: the delivery, the decision, the change (born done) and the handler.
    let sees = Arc::new(Sees::default());
    let base = served(
        Receiver::transactional(ledger.clone(), sees.clone())
            .mount(route())
            .router(),
    )
    .await;
    let commits = commits_during(&pool, callbacks(&base, "tx")).await;
    assert!(
        (N..=N + SLACK).contains(&commits),
        "{commits} commits for {N} callbacks"
    );
    let done = (1, "done".to_owned());
    assert_eq!(
        sees.seen.lock().unwrap().clone(),
        vec![done.clone(); usize::try_from(N).unwrap()]
    );

    // Plain: the decision with the change claimed by the deciding worker, then its completion.
    let base = served(
        Receiver::new(ledger.clone(), Arc::new(Nothing))
            .mount(route())
            .router(),
    )
    .await;
    let commits = commits_during(&pool, callbacks(&base, "plain")).await;
    assert!(
        (2 * N..=2 * N + SLACK).contains(&commits),
        "{commits} commits for {N} callbacks"
    );

    // Every change handed out, once, under fence 1 (nobody claimed it a second time).
    assert_eq!(
        common::count(
            &url,
            "SELECT COUNT(*) FROM changes WHERE state = 'done' AND fence = 1"
        )
        .await,
        2 * N
    );

    // The reconciler: one claim for the batch, then one commit per checked payment.
    ledger.check_all_now().await.unwrap();
    let reconciler = Reconciler::transactional(ledger.clone(), sees.clone())
        .provider(Arc::new(Paid))
        .rate_limit(paybridge_ledger::reconcile::RateLimit::new(None, None));
    let commits = commits_during(&pool, async {
        assert_eq!(
            reconciler.sweep().await.unwrap().changed,
            u64::try_from(N).unwrap()
        );
    })
    .await;
    assert!(
        (N + 1..=N + 1 + SLACK).contains(&commits),
        "{commits} commits for {N} checks"
    );
    assert_eq!(
        sees.seen.lock().unwrap().clone(),
        vec![done; usize::try_from(2 * N).unwrap()]
    );
    assert_eq!(
        common::count(&url, "SELECT COUNT(*) FROM books").await,
        2 * N
    );
}
