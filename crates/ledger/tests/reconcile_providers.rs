//! The reconciler's providers are asked at the same time, each within its own pace: two
//! providers that answer only when asked together both answer in one sweep.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a panic is a failed test"
)]

mod common;
use common::vnd;

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use paybridge_core::provider::prelude::*;
use paybridge_ledger::handler::{Callback, CallbackHandler, HandlerError};
use paybridge_ledger::reconcile::RateLimit;
use paybridge_ledger::{Ledger, NewPayment, Reconciler};

/// A merchant that takes every change.
struct Nothing;

#[async_trait]
impl CallbackHandler for Nothing {
    async fn handle(&self, _: &Callback) -> std::result::Result<(), HandlerError> {
        Ok(())
    }
}

async fn record_pending(ledger: &Ledger, provider: &str, reference: &str) {
    ledger
        .record_payment(&NewPayment::new(
            provider,
            reference,
            PaymentStatus::Pending,
            vnd(10_000),
        ))
        .await
        .unwrap();
}

/// A provider whose status check waits until the other provider's check is under way too:
/// two of them answer only when the reconciler asks both at the same time.
struct Meets {
    id: &'static str,
    both: Arc<tokio::sync::Barrier>,
}

#[async_trait]
impl PaymentProvider for Meets {
    fn id(&self) -> &'static str {
        self.id
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::TAKE_ONLY
    }

    async fn payment_status(&self, payment: &PaymentRef) -> Result<PaymentState> {
        if tokio::time::timeout(Duration::from_secs(5), self.both.wait())
            .await
            .is_err()
        {
            return Err(Error::Transport {
                status: None,
                message: "asked alone: the other provider was not asked meanwhile".into(),
                source: None,
            });
        }
        Ok(PaymentState {
            payment: payment.clone(),
            status: PaymentStatus::Failed,
            provider_status: "declined".into(),
            amount: None,
            message: None,
        })
    }
}

#[tokio::test]
async fn providers_are_asked_at_the_same_time_each_within_its_own_rate() {
    let url = common::sqlite_url("reconcile_providers_at_once");
    let ledger = Arc::new(
        Ledger::open(&url)
            .await
            .unwrap()
            .with_first_check(Duration::ZERO),
    );
    let both = Arc::new(tokio::sync::Barrier::new(2));
    let mut reconciler = Reconciler::new(ledger.clone(), Arc::new(Nothing))
        .rate_limit(RateLimit::new(None, NonZeroU32::new(5)));
    for id in ["meets-a", "meets-b"] {
        record_pending(&ledger, id, &format!("{id}-1")).await;
        reconciler = reconciler.provider(Arc::new(Meets {
            id,
            both: both.clone(),
        }));
    }
    let sweep = reconciler.sweep().await.unwrap();
    assert_eq!((sweep.checked, sweep.changed), (2, 2), "{sweep:?}");
    for id in ["meets-a", "meets-b"] {
        let row = ledger
            .payment(id, &format!("{id}-1"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.payment.status, PaymentStatus::Failed, "{id}");
    }
}

/// A provider that answers every check: failed (declined).
struct Declines;

#[async_trait]
impl PaymentProvider for Declines {
    fn id(&self) -> &'static str {
        "declines"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::TAKE_ONLY
    }

    async fn payment_status(&self, payment: &PaymentRef) -> Result<PaymentState> {
        Ok(PaymentState {
            payment: payment.clone(),
            status: PaymentStatus::Failed,
            provider_status: "declined".into(),
            amount: None,
            message: None,
        })
    }
}

/// Books in the ledger's database; the first handling writes, then fails.
struct Books {
    fail_first: std::sync::atomic::AtomicBool,
}

#[async_trait]
impl paybridge_ledger::handler::TransactionalHandler for Books {
    async fn handle(
        &self,
        mut tx: paybridge_ledger::LedgerTx<'_>,
        callback: &Callback,
    ) -> std::result::Result<(), HandlerError> {
        sqlx::query("INSERT INTO books (change_id) VALUES ($1)")
            .bind(callback.change.stable_id())
            .execute(&mut *tx)
            .await?;
        if self
            .fail_first
            .swap(false, std::sync::atomic::Ordering::SeqCst)
        {
            return Err("the books are locked".into());
        }
        Ok(())
    }
}

#[tokio::test]
async fn a_transactional_handler_that_fails_on_a_check_leaves_the_decision_and_an_open_change() {
    for (_, url) in common::ledger_urls("reconcile_handler_fails").await {
        let clock = Arc::new(paybridge_ledger::clock::ManualClock::at(1_000_000));
        let ledger = Arc::new(
            Ledger::open(&url)
                .await
                .unwrap()
                .with_first_check(Duration::ZERO)
                .with_clock(clock.clone()),
        );
        common::execute(&url, "CREATE TABLE books (change_id TEXT PRIMARY KEY)").await;
        record_pending(&ledger, "declines", "d-1").await;
        let reconciler = Reconciler::transactional(
            ledger.clone(),
            Arc::new(Books {
                fail_first: true.into(),
            }),
        )
        .provider(Arc::new(Declines))
        .rate_limit(RateLimit::OFF)
        .lease(Duration::from_secs(30));
        // The handler fails: its write is gone, the decision stays, the change is open.
        let sweep = reconciler.sweep().await.unwrap();
        assert_eq!((sweep.checked, sweep.changed), (1, 1), "{sweep:?}");
        let row = ledger.payment("declines", "d-1").await.unwrap().unwrap();
        assert_eq!(row.payment.status, PaymentStatus::Failed);
        assert_eq!(common::count(&url, "SELECT COUNT(*) FROM books").await, 0);
        let open = ledger.open_changes("declines", "d-1").await.unwrap();
        assert_eq!(open.len(), 1);
        // A lease later it is handed out again as a stranded change, and booked once.
        clock.advance(Duration::from_secs(31));
        reconciler.sweep().await.unwrap();
        assert_eq!(common::count(&url, "SELECT COUNT(*) FROM books").await, 1);
        assert!(
            ledger
                .open_changes("declines", "d-1")
                .await
                .unwrap()
                .is_empty()
        );
    }
}
