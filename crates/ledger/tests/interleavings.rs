//! Claim, renew, expire, complete, crash and redelivery of one payment change by several
//! workers, in every order proptest finds, over a real SQLite ledger: every claim's fence is
//! higher than the one before; at most one completion commits; a transactional handler's
//! effect happens exactly once, however the workers interleave and whoever crashes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

mod common;
use common::vnd;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use paybridge_core::PaymentStatus;
use paybridge_ledger::clock::{Clock as _, ManualClock};
use paybridge_ledger::handler::{Callback, TransactionalHandler};
use paybridge_ledger::{
    Applied, ChangeLease, HandlerError, Ledger, LedgerError, LedgerTx, NewPayment, Outcome, Source,
};
use proptest::prelude::*;

const LEASE: Duration = Duration::from_millis(100);

#[derive(Debug, Clone)]
enum Op {
    /// Worker claims the change (a delivery arrives).
    Claim(usize),
    /// Worker renews its claim.
    Renew(usize),
    /// Worker's plain handler finished: complete.
    Complete(usize),
    /// Worker's transactional handler runs and completes.
    CompleteTx(usize),
    /// Worker's handler failed: release.
    Release(usize),
    /// Worker dies holding what it holds.
    Crash(usize),
    /// Time passes (ms).
    Wait(i64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..3_usize).prop_map(Op::Claim),
        (0..3_usize).prop_map(Op::Renew),
        (0..3_usize).prop_map(Op::Complete),
        (0..3_usize).prop_map(Op::CompleteTx),
        (0..3_usize).prop_map(Op::Release),
        (0..3_usize).prop_map(Op::Crash),
        (1..250_i64).prop_map(Op::Wait),
    ]
}

/// The merchant's effect, written in the ledger's transaction.
struct Effect(Arc<AtomicUsize>);

#[async_trait::async_trait]
impl TransactionalHandler for Effect {
    async fn handle(&self, mut tx: LedgerTx<'_>, callback: &Callback) -> Result<(), HandlerError> {
        sqlx::query("INSERT INTO effects (change_id) VALUES ($1)")
            .bind(callback.change.stable_id())
            .execute(&mut *tx)
            .await?;
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// The SQLite ledger, and the PostgreSQL one when `PAYBRIDGE_TEST_POSTGRES` is set (each
/// process gets its own file and schema, made once).
async fn ledgers() -> Vec<(String, Ledger, ManualClock)> {
    let dir = std::env::temp_dir().join("paybridge-ledger-tests");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("interleavings-{}.db", std::process::id()));
    let mut urls = vec![format!("sqlite://{}", file.display())];
    if let Ok(base) = std::env::var("PAYBRIDGE_TEST_POSTGRES") {
        let schema = format!("interleavings_{}", std::process::id());
        let admin = sqlx::PgPool::connect(&base).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "CREATE SCHEMA IF NOT EXISTS \"{schema}\""
        )))
        .execute(&admin)
        .await
        .unwrap();
        let sep = if base.contains('?') { '&' } else { '?' };
        urls.push(format!("{base}{sep}options=-c%20search_path%3D{schema}"));
    } else {
        assert!(std::env::var("PAYBRIDGE_REQUIRE_POSTGRES").as_deref() != Ok("1"));
    }
    let mut out = Vec::new();
    for url in urls {
        let clock = ManualClock::at(1_000_000);
        let ledger = Ledger::open(&url)
            .await
            .unwrap()
            .with_clock(Arc::new(clock.clone()));
        // The merchant's table, made once per process (the file and schema are the process's).
        if !CREATED.load(Ordering::SeqCst) {
            common::execute(
                &url,
                "CREATE TABLE IF NOT EXISTS effects (change_id TEXT PRIMARY KEY)",
            )
            .await;
        }
        out.push((url, ledger, clock));
    }
    CREATED.store(true, Ordering::SeqCst);
    out
}

static CREATED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

static CASE: AtomicUsize = AtomicUsize::new(0);

#[allow(
    clippy::too_many_lines,
    reason = "one interpreter of the operations, every case in one match"
)]
async fn run(
    (url, ledger, clock): &(String, Ledger, ManualClock),
    ops: Vec<Op>,
) -> Result<(), TestCaseError> {
    let reference = format!("p-{}", CASE.fetch_add(1, Ordering::SeqCst));
    ledger
        .record_payment(&NewPayment::new(
            "card-charging",
            &reference,
            PaymentStatus::Pending,
            vnd(50_000),
        ))
        .await
        .unwrap();
    let outcome = Outcome::new(&reference, PaymentStatus::Succeeded, "1");
    let Applied::Changed(change) = ledger
        .report("card-charging", &outcome, Source::Callback)
        .await
        .unwrap()
    else {
        panic!("a first success is a change")
    };
    let only_transactional = !ops.iter().any(|op| matches!(op, Op::Complete(_)));
    let effects = Arc::new(AtomicUsize::new(0));
    let mut held: [Option<ChangeLease>; 3] = [None, None, None];
    let mut now: i64 = clock.now_ms();
    let mut last_fence = 0;
    let mut completions = 0;
    for op in ops.into_iter().chain([
        // The provider's last redelivery, long after everyone: whoever is left finishes.
        Op::Wait(10_000),
        Op::Claim(0),
        Op::CompleteTx(0),
    ]) {
        match op {
            Op::Claim(w) => {
                clock.set(now);
                if let Some(claim) = ledger.claim_change(&change, LEASE).await.unwrap() {
                    prop_assert!(claim.fence > last_fence, "fences only grow");
                    last_fence = claim.fence;
                    held[w] = Some(claim);
                }
            }
            Op::Renew(w) => {
                if let Some(claim) = held[w].as_mut() {
                    clock.set(now);
                    let _ = ledger.renew_change(claim, LEASE).await;
                }
            }
            Op::Complete(w) => {
                if let Some(claim) = held[w].take() {
                    match ledger.complete_change(&claim).await {
                        Ok(()) => completions += 1,
                        Err(LedgerError::LeaseLost { .. }) => {}
                        Err(e) => panic!("{e}"),
                    }
                }
            }
            Op::CompleteTx(w) => {
                if let Some(claim) = held[w].take() {
                    match ledger
                        .complete_change_with(
                            &claim,
                            &Effect(effects.clone()),
                            &Callback::new("card-charging", claim.change.clone(), None),
                        )
                        .await
                    {
                        Ok(Ok(())) => completions += 1,
                        Ok(Err(e)) => panic!("{e}"),
                        Err(LedgerError::LeaseLost { .. }) => {}
                        Err(e) => panic!("{e}"),
                    }
                }
            }
            Op::Release(w) => {
                if let Some(claim) = held[w].take() {
                    ledger.release_change(&claim).await.unwrap();
                }
            }
            Op::Crash(w) => held[w] = None,
            Op::Wait(ms) => now += ms,
        }
        prop_assert!(completions <= 1, "a change completed twice");
    }
    prop_assert_eq!(
        completions,
        1,
        "the last redelivery completes what nobody did"
    );
    // The transactional effect: exactly once if a transactional completion won, never twice.
    prop_assert!(effects.load(Ordering::SeqCst) <= 1);
    if only_transactional {
        prop_assert_eq!(effects.load(Ordering::SeqCst), 1, "exactly once");
        let rows = common::count(
            url,
            &format!(
                "SELECT COUNT(*) FROM effects WHERE change_id = '{}'",
                change.stable_id()
            ),
        )
        .await;
        prop_assert_eq!(rows, 1);
    }
    prop_assert!(
        ledger
            .open_changes("card-charging", &reference)
            .await
            .unwrap()
            .is_empty()
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]
    #[test]
    fn any_interleaving_completes_a_change_once(ops in proptest::collection::vec(op(), 0..24)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            for ledger in ledgers().await {
                run(&ledger, ops.clone()).await?;
            }
            Ok::<(), TestCaseError>(())
        })?;
    }
}
