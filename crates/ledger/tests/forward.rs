//! Forwarding state changes as Standard Webhooks, on SQLite and PostgreSQL: every change is
//! delivered and verifies with the official `standardwebhooks` crate; a merchant that fails a
//! first delivery gets it again until it answers 2xx and never after; one that never answers
//! leaves the event queued with its attempts counted, then failed (and redeliverable); a
//! payment's changes arrive in order; two forwarders on one PostgreSQL ledger deliver each
//! change once; nothing is queued while no target is registered.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

mod common;
use common::vnd;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use paybridge_core::PaymentStatus;
use paybridge_ledger::forward::{Delivery, Forwarder, HttpSink, Sink};
use paybridge_ledger::{Ledger, NewPayment, Outcome, Source};
use secrecy::SecretString;

/// A payment recorded pending, then reported as `statuses` in turn: one change each.
async fn changes(ledger: &Ledger, reference: &str, statuses: &[PaymentStatus]) {
    ledger
        .record_payment(&NewPayment::new(
            "p",
            reference,
            PaymentStatus::Pending,
            vnd(10_000),
        ))
        .await
        .unwrap();
    for (i, status) in statuses.iter().enumerate() {
        let outcome = Outcome::new(reference, *status, format!("s{i}")).with_amount(vnd(10_000));
        ledger
            .report("p", &outcome, Source::Callback)
            .await
            .unwrap();
    }
}

/// A merchant in-process: what it was given, in order; failing the first `fail_first`
/// attempts of each message, or every attempt.
#[derive(Default)]
struct Merchant {
    got: Mutex<Vec<Delivery>>,
    attempts: Mutex<HashMap<String, u32>>,
    fail_first: u32,
    never: bool,
}

#[async_trait::async_trait]
impl Sink for Merchant {
    async fn deliver(&self, d: &Delivery) -> Result<(), String> {
        let n = {
            let mut a = self.attempts.lock().unwrap();
            let n = a.entry(d.id.clone()).or_default();
            *n += 1;
            *n
        };
        if self.never || n <= self.fail_first {
            return Err("HTTP 503".into());
        }
        self.got.lock().unwrap().push(d.clone());
        Ok(())
    }
}

#[tokio::test]
async fn nothing_is_queued_while_no_target_is_registered() {
    for (backend, url) in common::ledger_urls("forward_none").await {
        let ledger = Arc::new(Ledger::open(&url).await.unwrap());
        changes(&ledger, "before", &[PaymentStatus::Succeeded]).await;
        assert!(ledger.outbox(false).await.unwrap().is_empty(), "{backend}");
        ledger
            .register_forward_target("https://merchant.example/hooks")
            .await
            .unwrap();
        changes(&ledger, "after", &[PaymentStatus::Succeeded]).await;
        let queued = ledger.outbox(false).await.unwrap();
        assert_eq!(queued.len(), 1, "{backend}");
        assert_eq!(queued[0].change.reference, "after", "{backend}");
    }
}

#[tokio::test]
async fn every_change_is_delivered_signed_and_verifies_with_the_official_library() {
    // The merchant: an HTTP server that verifies each request with `standardwebhooks`.
    let secret = paybridge_core::webhooks::WebhookSecret::generate().unwrap();
    let verifier = Arc::new(
        standardwebhooks::Webhook::new(secrecy::ExposeSecret::expose_secret(&secret)).unwrap(),
    );
    let accepted = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen = accepted.clone();
    let app = axum::Router::new().route(
        "/hooks",
        axum::routing::post(
            move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let seen = seen.clone();
                let verifier = verifier.clone();
                let ok = verifier.verify(&body, &headers).is_ok();
                async move {
                    if ok {
                        seen.lock()
                            .unwrap()
                            .push(String::from_utf8_lossy(&body).into_owned());
                        axum::http::StatusCode::NO_CONTENT
                    } else {
                        axum::http::StatusCode::UNAUTHORIZED
                    }
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    for (backend, ledger_url) in common::ledger_urls("forward_http").await {
        accepted.lock().unwrap().clear();
        let ledger = Arc::new(Ledger::open(&ledger_url).await.unwrap());
        ledger.register_forward_target(&url).await.unwrap();
        changes(&ledger, "order-1", &[PaymentStatus::Succeeded]).await;
        changes(&ledger, "order-2", &[PaymentStatus::Failed]).await;
        let sink = HttpSink::new(
            url.as_str(),
            paybridge_core::webhooks::WebhookSecret::parse(&secret).unwrap(),
        )
        .unwrap();
        let forwarder = Forwarder::new(ledger.clone(), Arc::new(sink));
        let run = forwarder.forward_once().await.unwrap();
        assert_eq!(run.delivered, 2, "{backend}: {run:?}");
        let bodies = accepted.lock().unwrap().clone();
        assert_eq!(bodies.len(), 2, "{backend}");
        let first: serde_json::Value = serde_json::from_str(&bodies[0]).unwrap();
        assert_eq!(first["type"], "payment.succeeded", "{backend}");
        assert_eq!(first["data"]["reference"], "order-1");
        assert_eq!(first["data"]["amount"], "10000");
        assert_eq!(first["data"]["previous_status"], "pending");
        assert!(
            ledger.outbox(false).await.unwrap().is_empty(),
            "{backend}: delivered"
        );
        assert_eq!(
            forwarder.forward_once().await.unwrap().delivered,
            0,
            "never again"
        );
        // A wrong secret: the merchant refuses (401), the delivery stays queued.
        changes(&ledger, "order-3", &[PaymentStatus::Succeeded]).await;
        let wrong = HttpSink::new(
            url.as_str(),
            paybridge_core::webhooks::WebhookSecret::parse(
                &paybridge_core::webhooks::WebhookSecret::generate().unwrap(),
            )
            .unwrap(),
        )
        .unwrap();
        let run = Forwarder::new(ledger.clone(), Arc::new(wrong))
            .forward_once()
            .await
            .unwrap();
        assert_eq!((run.delivered, run.retrying), (0, 1), "{backend}");
        let queued = ledger.outbox(false).await.unwrap();
        assert_eq!((queued.len(), queued[0].attempts), (1, 1), "{backend}");
        assert_eq!(
            queued[0].last_error.as_deref(),
            Some("HTTP 401"),
            "{backend}"
        );
    }
}

#[tokio::test]
async fn a_failed_first_delivery_is_retried_until_2xx_and_never_after() {
    for (backend, url) in common::ledger_urls("forward_retry").await {
        let ledger = Arc::new(Ledger::open(&url).await.unwrap());
        ledger
            .register_forward_target("https://merchant.example/hooks")
            .await
            .unwrap();
        for i in 0..3 {
            changes(&ledger, &format!("o-{i}"), &[PaymentStatus::Succeeded]).await;
        }
        let merchant = Arc::new(Merchant {
            fail_first: 1,
            ..Merchant::default()
        });
        let forwarder = Forwarder::new(ledger.clone(), merchant.clone())
            .schedule(vec![Duration::ZERO, Duration::ZERO]);
        let first = forwarder.forward_once().await.unwrap();
        assert_eq!((first.delivered, first.retrying), (0, 3), "{backend}");
        let second = forwarder.forward_once().await.unwrap();
        assert_eq!(second.delivered, 3, "{backend}");
        let third = forwarder.forward_once().await.unwrap();
        assert_eq!(
            third,
            paybridge_ledger::forward::Forwarded::default(),
            "{backend}"
        );
        let attempts = merchant.attempts.lock().unwrap().clone();
        assert!(
            attempts.values().all(|n| *n == 2),
            "{backend}: {attempts:?}"
        );
        assert_eq!(merchant.got.lock().unwrap().len(), 3, "{backend}");
    }
}

#[tokio::test]
async fn a_merchant_that_always_refuses_leaves_the_event_counted_then_failed_and_redeliverable() {
    for (backend, url) in common::ledger_urls("forward_never").await {
        let ledger = Arc::new(Ledger::open(&url).await.unwrap());
        ledger
            .register_forward_target("https://merchant.example/hooks")
            .await
            .unwrap();
        changes(&ledger, "o-1", &[PaymentStatus::Succeeded]).await;
        let merchant = Arc::new(Merchant {
            never: true,
            ..Merchant::default()
        });
        let forwarder = Forwarder::new(ledger.clone(), merchant.clone())
            .schedule(vec![Duration::ZERO, Duration::ZERO]);
        for _ in 0..2 {
            forwarder.forward_once().await.unwrap();
        }
        let queued = ledger.outbox(false).await.unwrap();
        assert_eq!(
            (queued[0].state.as_str(), queued[0].attempts),
            ("pending", 2),
            "{backend}"
        );
        let last = forwarder.forward_once().await.unwrap();
        assert_eq!(last.failed, 1, "{backend}: the schedule ran out");
        let failed = ledger.outbox(true).await.unwrap();
        assert_eq!(
            (failed[0].state.as_str(), failed[0].attempts),
            ("failed", 3),
            "{backend}"
        );
        assert_eq!(
            forwarder.forward_once().await.unwrap().failed,
            0,
            "{backend}: given up"
        );
        assert!(
            ledger
                .redeliver(&failed[0].change.webhook_id)
                .await
                .unwrap()
        );
        assert_eq!(ledger.outbox(true).await.unwrap().len(), 0, "{backend}");
        assert_eq!(
            ledger.outbox(false).await.unwrap()[0].attempts,
            0,
            "{backend}"
        );
    }
}

#[tokio::test]
async fn a_payments_changes_arrive_in_order_even_when_the_first_is_retried() {
    for (backend, url) in common::ledger_urls("forward_order").await {
        let ledger = Arc::new(Ledger::open(&url).await.unwrap());
        ledger
            .register_forward_target("https://merchant.example/hooks")
            .await
            .unwrap();
        changes(
            &ledger,
            "o-1",
            &[PaymentStatus::Succeeded, PaymentStatus::Reversed],
        )
        .await;
        let merchant = Arc::new(Merchant {
            fail_first: 1,
            ..Merchant::default()
        });
        let forwarder =
            Forwarder::new(ledger.clone(), merchant.clone()).schedule(vec![Duration::ZERO; 3]);
        // The first change fails; the second is not sent before it.
        let run = forwarder.forward_once().await.unwrap();
        assert_eq!(
            (run.delivered, run.retrying),
            (0, 1),
            "{backend}: only the oldest is tried"
        );
        while forwarder.forward_once().await.unwrap()
            != paybridge_ledger::forward::Forwarded::default()
        {}
        let got: Vec<String> = merchant
            .got
            .lock()
            .unwrap()
            .iter()
            .map(|d| d.change.status.as_str().to_owned())
            .collect();
        assert_eq!(got, ["succeeded", "reversed"], "{backend}");
    }
}

#[tokio::test]
async fn two_forwarders_on_one_postgresql_ledger_deliver_each_change_once() {
    let Some(url) = common::postgres_url("forward_fleet").await else {
        return;
    };
    let ledger = Arc::new(Ledger::open(&url).await.unwrap());
    ledger
        .register_forward_target("https://merchant.example/hooks")
        .await
        .unwrap();
    for i in 0..40 {
        changes(&ledger, &format!("o-{i}"), &[PaymentStatus::Succeeded]).await;
    }
    let merchant = Arc::new(Merchant::default());
    let a = Forwarder::new(
        Arc::new(Ledger::open(&url).await.unwrap()),
        merchant.clone(),
    );
    let b = Forwarder::new(
        Arc::new(Ledger::open(&url).await.unwrap()),
        merchant.clone(),
    );
    let (ra, rb) = tokio::join!(a.forward_once(), b.forward_once());
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    let mut rest = a.forward_once().await.unwrap().delivered;
    rest += b.forward_once().await.unwrap().delivered;
    assert_eq!(ra.delivered + rb.delivered + rest, 40);
    let attempts = merchant.attempts.lock().unwrap().clone();
    assert_eq!(attempts.len(), 40);
    assert!(attempts.values().all(|n| *n == 1), "{attempts:?}");
}

#[test]
fn the_secret_never_shows() {
    let sink = HttpSink::new(
        "https://merchant.example/hooks",
        paybridge_core::webhooks::WebhookSecret::parse(&SecretString::from(
            "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
        ))
        .unwrap(),
    )
    .unwrap();
    assert!(!format!("{sink:?}").contains("C2FVsBQ"));
}

/// A sink that takes the first delivery and then hangs: a forwarder killed mid-batch.
struct Dies {
    merchant: Arc<Merchant>,
    taken: Mutex<u32>,
}

#[async_trait::async_trait]
impl Sink for Dies {
    async fn deliver(&self, d: &Delivery) -> Result<(), String> {
        let n = {
            let mut t = self.taken.lock().unwrap();
            *t += 1;
            *t
        };
        if n > 1 {
            std::future::pending::<()>().await;
        }
        self.merchant.deliver(d).await
    }
}

#[tokio::test]
async fn a_forwarder_killed_mid_batch_loses_and_doubles_nothing() {
    for (backend, url) in common::ledger_urls("forward_killed").await {
        let ledger = Arc::new(Ledger::open(&url).await.unwrap());
        ledger
            .register_forward_target("https://merchant.example/hooks")
            .await
            .unwrap();
        for i in 0..5 {
            changes(&ledger, &format!("o-{i}"), &[PaymentStatus::Succeeded]).await;
        }
        let merchant = Arc::new(Merchant::default());
        let dying = Forwarder::new(
            ledger.clone(),
            Arc::new(Dies {
                merchant: merchant.clone(),
                taken: Mutex::new(0),
            }),
        )
        .lease(Duration::from_millis(1500));
        // Killed in the middle of its second delivery (the future dropped, as a process dies).
        assert!(
            tokio::time::timeout(Duration::from_secs(1), dying.forward_once())
                .await
                .is_err()
        );
        assert_eq!(merchant.got.lock().unwrap().len(), 1, "{backend}");
        // Another forwarder: nothing while the dead one's lease runs, all the rest after it.
        let next = Forwarder::new(ledger.clone(), merchant.clone());
        assert_eq!(next.forward_once().await.unwrap().delivered, 0, "{backend}");
        tokio::time::sleep(Duration::from_millis(800)).await;
        assert_eq!(next.forward_once().await.unwrap().delivered, 4, "{backend}");
        let attempts = merchant.attempts.lock().unwrap().clone();
        assert_eq!(attempts.len(), 5, "{backend}: nothing lost");
        assert!(
            attempts.values().all(|n| *n == 1),
            "{backend}: nothing doubled: {attempts:?}"
        );
        assert!(ledger.outbox(false).await.unwrap().is_empty(), "{backend}");
    }
}

#[tokio::test]
async fn a_merchant_that_never_answers_times_out_and_stays_queued_with_its_attempts() {
    // Accepts the connection, reads nothing, answers nothing.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().flatten() {
            held.push(s);
        }
    });
    for (backend, ledger_url) in common::ledger_urls("forward_silent").await {
        let ledger = Arc::new(Ledger::open(&ledger_url).await.unwrap());
        ledger.register_forward_target(&url).await.unwrap();
        changes(&ledger, "o-1", &[PaymentStatus::Succeeded]).await;
        let sink = HttpSink::with_timeout(
            url.as_str(),
            paybridge_core::webhooks::WebhookSecret::parse(
                &paybridge_core::webhooks::WebhookSecret::generate().unwrap(),
            )
            .unwrap(),
            Duration::from_millis(300),
        )
        .unwrap();
        let forwarder =
            Forwarder::new(ledger.clone(), Arc::new(sink)).schedule(vec![Duration::ZERO; 5]);
        for attempt in 1..=2 {
            let run = forwarder.forward_once().await.unwrap();
            assert_eq!((run.delivered, run.retrying), (0, 1), "{backend}");
            let queued = ledger.outbox(false).await.unwrap();
            assert_eq!(
                (queued[0].state.as_str(), queued[0].attempts),
                ("pending", attempt),
                "{backend}"
            );
            assert!(queued[0].last_error.is_some(), "{backend}");
        }
    }
}

#[tokio::test]
async fn order_per_payment_holds_with_two_forwarders_at_once() {
    for (backend, url) in common::ledger_urls("forward_order_fleet").await {
        let ledger = Arc::new(Ledger::open(&url).await.unwrap());
        ledger
            .register_forward_target("https://merchant.example/hooks")
            .await
            .unwrap();
        paid_then_reversed(&ledger, "o", 12).await;
        let merchant = Arc::new(Merchant::default());
        let a = Forwarder::new(
            Arc::new(Ledger::open(&url).await.unwrap()),
            merchant.clone(),
        );
        let b = Forwarder::new(
            Arc::new(Ledger::open(&url).await.unwrap()),
            merchant.clone(),
        );
        loop {
            let (ra, rb) = tokio::join!(a.forward_once(), b.forward_once());
            if ra.unwrap().delivered + rb.unwrap().delivered == 0 {
                break;
            }
        }
        let got = merchant.got.lock().unwrap().clone();
        assert_eq!(got.len(), 24, "{backend}");
        for i in 0..12 {
            let seq: Vec<&str> = got
                .iter()
                .filter(|d| d.change.reference == format!("o-{i}"))
                .map(|d| d.change.status.as_str())
                .collect();
            assert_eq!(seq, ["succeeded", "reversed"], "{backend}: o-{i}");
        }
    }
}

#[tokio::test]
async fn a_rust_merchant_takes_deliveries_through_an_async_fn() {
    let url = common::sqlite_url("forward_fn");
    let ledger = Arc::new(Ledger::open(&url).await.unwrap());
    ledger.register_forward_target("in-process").await.unwrap();
    changes(&ledger, "o-1", &[PaymentStatus::Succeeded]).await;
    let got = Arc::new(Mutex::new(Vec::new()));
    let seen = got.clone();
    let sink = paybridge_ledger::forward::FnSink::new(move |d: Delivery| {
        let seen = seen.clone();
        async move {
            seen.lock().unwrap().push(d.id);
            Ok::<(), String>(())
        }
    });
    let run = Forwarder::new(ledger.clone(), Arc::new(sink))
        .forward_once()
        .await
        .unwrap();
    assert_eq!(run.delivered, 1);
    assert_eq!(got.lock().unwrap().len(), 1);
    assert!(got.lock().unwrap()[0].starts_with("msg_"));
}

/// A merchant that takes a while per delivery and notes how many it was given at once.
#[derive(Default)]
struct Slow {
    now: std::sync::atomic::AtomicUsize,
    most: std::sync::atomic::AtomicUsize,
    got: Mutex<Vec<(String, String)>>,
}

#[async_trait::async_trait]
impl Sink for Slow {
    async fn deliver(&self, d: &Delivery) -> Result<(), String> {
        use std::sync::atomic::Ordering::SeqCst;
        let at_once = self.now.fetch_add(1, SeqCst) + 1;
        self.most.fetch_max(at_once, SeqCst);
        tokio::time::sleep(Duration::from_millis(30)).await;
        self.got.lock().unwrap().push((
            d.change.reference.clone(),
            d.change.status.as_str().to_owned(),
        ));
        self.now.fetch_sub(1, SeqCst);
        Ok(())
    }
}

/// `n` payments `{prefix}-{i}`, each succeeded, then reversed: two changes each, queued.
async fn paid_then_reversed(ledger: &Ledger, prefix: &str, n: usize) {
    for i in 0..n {
        changes(
            ledger,
            &format!("{prefix}-{i}"),
            &[PaymentStatus::Succeeded, PaymentStatus::Reversed],
        )
        .await;
    }
}

/// Each of the `n` payments' success reached the merchant (`got`: reference, status), once,
/// before its reversal.
fn assert_paid_then_reversed(got: &[(String, String)], prefix: &str, n: usize, backend: &str) {
    for i in 0..n {
        let reference = format!("{prefix}-{i}");
        let of: Vec<&str> = got
            .iter()
            .filter(|(r, _)| *r == reference)
            .map(|(_, s)| s.as_str())
            .collect();
        assert_eq!(of, ["succeeded", "reversed"], "{backend}: {reference}");
    }
}

#[tokio::test]
async fn different_payments_are_delivered_at_once_each_payments_changes_in_order() {
    for (backend, url) in common::ledger_urls("forward_concurrent").await {
        let ledger = Arc::new(Ledger::open(&url).await.unwrap());
        ledger.register_forward_target("in-process").await.unwrap();
        paid_then_reversed(&ledger, "o", 12).await;
        let merchant = Arc::new(Slow::default());
        let forwarder = Forwarder::new(ledger.clone(), merchant.clone()).concurrency(8);
        let mut delivered = 0;
        for _ in 0..10 {
            delivered += forwarder.forward_once().await.unwrap().delivered;
            if delivered == 24 {
                break;
            }
        }
        assert_eq!(delivered, 24, "{backend}");
        let most = merchant.most.load(std::sync::atomic::Ordering::SeqCst);
        assert!((2..=8).contains(&most), "{backend}: {most} at once");
        // Each payment's success reached the merchant before its reversal.
        let got = merchant.got.lock().unwrap().clone();
        assert_paid_then_reversed(&got, "o", 12, backend);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passes_at_once_keep_each_payments_changes_in_order() {
    for (backend, url) in common::ledger_urls("forward_passes").await {
        let ledger = Arc::new(Ledger::open(&url).await.unwrap());
        ledger.register_forward_target("in-process").await.unwrap();
        paid_then_reversed(&ledger, "p", 20).await;
        let merchant = Arc::new(Slow::default());
        // Four passes of at most two deliveries each: passes overlap, each claiming what the
        // others do not hold.
        let forwarder = Forwarder::new(ledger.clone(), merchant.clone())
            .concurrency(2)
            .passes(4);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let running = {
            let forwarder = Arc::new(forwarder);
            tokio::spawn(async move {
                forwarder
                    .run(std::time::Duration::from_millis(5), async {
                        let _ = stopped.await;
                    })
                    .await;
            })
        };
        for _ in 0..400 {
            if ledger.outbox(false).await.unwrap().is_empty() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        let _ = stop.send(());
        running.await.unwrap();
        let got = merchant.got.lock().unwrap().clone();
        assert_eq!(got.len(), 40, "{backend}: each change once");
        let most = merchant.most.load(std::sync::atomic::Ordering::SeqCst);
        assert!(most > 2, "{backend}: passes overlapped ({most} at once)");
        assert_paid_then_reversed(&got, "p", 20, backend);
    }
}
