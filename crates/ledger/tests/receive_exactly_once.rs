//! The receiver's exactly-once under pressure, over a real ledger (SQLite, and PostgreSQL when
//! configured): a sender hanging up mid-callback, a handler slower than its lease, a
//! transactional handler crashing after its write, a completion failing after the handler ran.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

mod common;

use common::receiving::*;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use paybridge_core::Currency;
use paybridge_ledger::receive::{Callback, CallbackHandler, HandlerError, Receiver};
use secrecy::SecretString;
use tokio::sync::Notify;

/// One raw HTTP request on its own connection, dropped as soon as `hang_up` resolves.
async fn post_and_hang_up(
    base: &str,
    path: &str,
    body: &str,
    hang_up: impl std::future::Future<Output = ()>,
) {
    use tokio::io::AsyncWriteExt as _;
    let host = base.trim_start_matches("http://");
    let mut sock = tokio::net::TcpStream::connect(host).await.unwrap();
    let request = format!(
        "POST {path} HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    sock.write_all(request.as_bytes()).await.unwrap();
    hang_up.await;
    drop(sock);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sender_hanging_up_mid_callback_never_credits_twice() {
    for ledger in ledgers().await {
        let gate = Arc::new(Notify::new());
        let shop = Arc::new(Shop {
            gate: Some(gate.clone()),
            ..Shop::default()
        });
        let base = serve(ledger.clone(), shop.clone()).await;
        for i in 0..20 {
            let order = format!("hang-{i}");
            expect_payment(&ledger, "card-charging", &order, "50000", Currency::VND).await;
            let body = card_callback(&order, 1, KEY);
            // The gateway hangs up while the shop's handler is running.
            let entered = shop.entered.load(Ordering::SeqCst);
            post_and_hang_up(&base, "/card-charging/callback", &body, async {
                while shop.entered.load(Ordering::SeqCst) == entered {
                    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
                }
            })
            .await;
            gate.notify_one();
            // The processing ran to the end without the sender: the change is done, and the
            // gateway's next delivery is acknowledged without a second credit.
            for _ in 0..200 {
                if ledger
                    .open_changes("card-charging", &order)
                    .await
                    .unwrap()
                    .is_empty()
                {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
            let (status, _, _) =
                post(&base, "/card-charging/callback", "application/json", body).await;
            assert_eq!(status, 200);
        }
        assert_eq!(shop.effects.lock().unwrap().len(), 20);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_slower_than_the_lease_keeps_it_and_runs_once() {
    for ledger in ledgers().await {
        let gate = Arc::new(Notify::new());
        let shop = Arc::new(Shop {
            gate: Some(gate.clone()),
            ..Shop::default()
        });
        let lease = std::time::Duration::from_secs(1);
        let base = serve_with(ledger.clone(), shop.clone(), lease).await;
        expect_payment(&ledger, "card-charging", "slow-1", "50000", Currency::VND).await;
        let body = card_callback("slow-1", 1, KEY);
        let first = tokio::spawn({
            let (base, body) = (base.clone(), body.clone());
            async move { post(&base, "/card-charging/callback", "application/json", body).await }
        });
        while shop.entered.load(Ordering::SeqCst) == 0 {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        // Three leases later the handler still runs: its lease was renewed, so a redelivery
        // is told to retry instead of running the handler again.
        tokio::time::sleep(lease * 3).await;
        let (status, _, _) = post(
            &base,
            "/card-charging/callback",
            "application/json",
            body.clone(),
        )
        .await;
        assert_eq!(status, 503);
        assert_eq!(shop.entered.load(Ordering::SeqCst), 1);
        gate.notify_one();
        assert_eq!(first.await.unwrap().0, 200);
        let (status, _, _) = post(&base, "/card-charging/callback", "application/json", body).await;
        assert_eq!(status, 200);
        assert_eq!(shop.effects.lock().unwrap().len(), 1);
    }
}

/// Books in the ledger's own database: one row per credited change.
struct Books {
    fail_first: AtomicUsize,
}

#[async_trait::async_trait]
impl paybridge_ledger::receive::TransactionalHandler for Books {
    async fn handle(
        &self,
        mut tx: paybridge_ledger::LedgerTx<'_>,
        callback: &Callback,
    ) -> Result<(), HandlerError> {
        sqlx::query("INSERT INTO books (change_id, reference) VALUES ($1, $2)")
            .bind(callback.change.stable_id())
            .bind(&callback.change.reference)
            .execute(&mut *tx)
            .await?;
        // Fails after its write: the write must roll back with it.
        if self
            .fail_first
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err("crashed after writing".into());
        }
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transactional_handler_credits_exactly_once() {
    for (i, (url, ledger)) in ledgers_at().await.into_iter().enumerate() {
        // The merchant's table lives in the ledger's database.
        common::execute(
            &url,
            "CREATE TABLE IF NOT EXISTS books (change_id TEXT PRIMARY KEY, reference TEXT NOT NULL)",
        )
        .await;
        let books = Arc::new(Books {
            fail_first: AtomicUsize::new(1),
        });
        let router = Receiver::transactional(ledger.clone(), books)
            .mount(
                paybridge_card_charging::route::Route::trusting_unsigned_status(
                    SecretString::from(KEY),
                ),
            )
            .router();
        let base = served(router).await;
        let orders: Vec<String> = (0..10).map(|n| format!("tx-{i}-{n}")).collect();
        for order in &orders {
            expect_payment(&ledger, "card-charging", order, "50000", Currency::VND).await;
        }
        // Every order delivered 3 times from 3 tasks at once; the first handling fails after
        // writing (rolled back) and is retried by a later delivery.
        let mut tasks = Vec::new();
        for _ in 0..3 {
            for order in &orders {
                let (base, body) = (base.clone(), card_callback(order, 1, KEY));
                tasks.push(tokio::spawn(async move {
                    post(&base, "/card-charging/callback", "application/json", body)
                        .await
                        .0
                }));
            }
        }
        for t in tasks {
            let status = t.await.unwrap();
            assert!([200, 500, 503].contains(&status), "{status}");
        }
        // Deliver each once more (the provider retries until acknowledged).
        for order in &orders {
            for _ in 0..5 {
                let (status, _, _) = post(
                    &base,
                    "/card-charging/callback",
                    "application/json",
                    card_callback(order, 1, KEY),
                )
                .await;
                if status == 200 {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
        assert_eq!(common::count(&url, "SELECT COUNT(*) FROM books").await, 10);
    }
}

/// A plain handler that credits idempotently on the change's stable id, remembering every
/// call's fence; on its first call the ledger's completion is made to fail after the handler
/// ran (another worker's takeover raises the fence under it).
struct Idempotent {
    /// The ledger's database, reached behind the ledger's back.
    url: String,
    calls: std::sync::Mutex<Vec<(String, i64)>>,
    credits: std::sync::Mutex<std::collections::HashSet<String>>,
}

#[async_trait::async_trait]
impl CallbackHandler for Idempotent {
    async fn handle(&self, callback: &Callback) -> Result<(), HandlerError> {
        let id = callback.change.stable_id();
        let first = {
            let mut calls = self.calls.lock().unwrap();
            calls.push((id.clone(), callback.fence));
            calls.len() == 1
        };
        self.credits.lock().unwrap().insert(id);
        if first {
            common::execute(
                &self.url,
                &format!(
                    "UPDATE changes SET fence = fence + 1 WHERE id = {}",
                    callback.change.id
                ),
            )
            .await;
        }
        Ok(())
    }
}

#[tokio::test]
async fn a_completion_that_fails_after_the_handler_ran_never_credits_twice() {
    for (url, ledger) in ledgers_at().await {
        let handler = Arc::new(Idempotent {
            url,
            calls: std::sync::Mutex::default(),
            credits: std::sync::Mutex::default(),
        });
        let router = Receiver::new(ledger.clone(), handler.clone())
            .lease(std::time::Duration::from_millis(300))
            .mount(
                paybridge_card_charging::route::Route::trusting_unsigned_status(
                    SecretString::from(KEY),
                ),
            )
            .router();
        let base = served(router).await;
        expect_payment(
            &ledger,
            "card-charging",
            "fail-after",
            "50000",
            Currency::VND,
        )
        .await;
        let body = card_callback("fail-after", 1, KEY);
        // The completion is refused after the handler ran: not acknowledged.
        let status = post_once(&base, "/card-charging/callback", body.clone()).await;
        assert_eq!(status, 503);
        // The gateway retries after the lease: the same change, a higher fence, handled and
        // acknowledged — and credited once, because the credit is keyed by the stable id.
        // (A busy machine may still find the first claim's lease running: told to retry, as
        // the gateway would be, until it is acknowledged.)
        let mut status = 0;
        for _ in 0..30 {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            status = post(
                &base,
                "/card-charging/callback",
                "application/json",
                body.clone(),
            )
            .await
            .0;
            if status == 200 {
                break;
            }
            assert_eq!(status, 503);
        }
        assert_eq!(status, 200);
        let calls = handler.calls.lock().unwrap().clone();
        assert_eq!(calls.len(), 2, "{calls:?}");
        assert_eq!(calls[0].0, calls[1].0, "the same change");
        assert!(calls[1].1 > calls[0].1, "with a higher fence: {calls:?}");
        assert_eq!(handler.credits.lock().unwrap().len(), 1);
        assert!(
            ledger
                .open_changes("card-charging", "fail-after")
                .await
                .unwrap()
                .is_empty()
        );
    }
}
