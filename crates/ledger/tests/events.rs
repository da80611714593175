//! What the merchant is told, on SQLite and PostgreSQL: every event carries the payment's
//! recorded amount and currency, what arrived and what went back (and a refund's change the
//! refund); every delivered body validates against its event type's JSON Schema in
//! `docs/schemas/`; `webhook-id`s are unique in the world — two ledgers forwarding to one
//! merchant that credits once per id lose nothing; a card answered "wrong face value" at once
//! is never `succeeded`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

mod common;
use common::vnd;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use paybridge_core::{Money, PaymentStatus, RefundStatus};
use paybridge_ledger::forward::{Forwarder, HttpSink};
use paybridge_ledger::{Anomaly, Applied, Ledger, NewPayment, Outcome, RefundOutcome, Source};
use serde_json::Value;

/// The repository's schema of each event type, compiled.
fn schemas() -> HashMap<String, jsonschema::Validator> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/schemas");
    let mut out = HashMap::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let schema: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        out.insert(name, validator);
    }
    assert_eq!(out.len(), 6, "one schema per event type");
    out
}

/// `body` validates against the schema of its own `type`.
fn assert_valid(schemas: &HashMap<String, jsonschema::Validator>, body: &Value) {
    let kind = body["type"].as_str().unwrap();
    let validator = schemas
        .get(kind)
        .unwrap_or_else(|| panic!("no schema for {kind}"));
    let errors: Vec<String> = validator.iter_errors(body).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{kind}: {errors:?}\n{body:#}");
}

/// A merchant as our README tells it to be: verifies each request with the official
/// `standardwebhooks` crate and credits once per `webhook-id` (a repeat id is answered 204
/// and thrown away as a duplicate). Returns its URL and what it credited.
async fn dedup_merchant(secret: &secrecy::SecretString) -> (String, Arc<Mutex<Vec<Value>>>) {
    let verifier = Arc::new(
        standardwebhooks::Webhook::new(secrecy::ExposeSecret::expose_secret(secret)).unwrap(),
    );
    let credited = Arc::new(Mutex::new(Vec::<Value>::new()));
    let seen_ids = Arc::new(Mutex::new(HashSet::<String>::new()));
    let books = credited.clone();
    let app = axum::Router::new().route(
        "/hooks",
        axum::routing::post(
            move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let ok = verifier.verify(&body, &headers).is_ok();
                let id = headers
                    .get("webhook-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                let fresh = ok && seen_ids.lock().unwrap().insert(id);
                if fresh {
                    books
                        .lock()
                        .unwrap()
                        .push(serde_json::from_slice(&body).unwrap());
                }
                async move {
                    if ok {
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
    (url, credited)
}

async fn forward_all(ledger: &Arc<Ledger>, url: &str, secret: &secrecy::SecretString) -> u64 {
    let sink = HttpSink::new(
        url,
        paybridge_core::webhooks::WebhookSecret::parse(secret).unwrap(),
    )
    .unwrap();
    // A pass delivers each payment's oldest queued change (order per payment): pass until
    // nothing is left.
    let forwarder = Forwarder::new(ledger.clone(), Arc::new(sink));
    let mut delivered = 0;
    loop {
        let run = forwarder.forward_once().await.unwrap();
        assert_eq!(run.retrying + run.failed, 0, "{run:?}");
        if run.delivered == 0 {
            return delivered;
        }
        delivered += run.delivered;
    }
}

async fn record(ledger: &Ledger, reference: &str, amount: Money) {
    assert!(
        ledger
            .record_payment(&NewPayment::new(
                "card-charging",
                reference,
                PaymentStatus::Pending,
                amount,
            ))
            .await
            .unwrap()
    );
}

async fn report(ledger: &Ledger, reference: &str, status: PaymentStatus, paid: Option<Money>) {
    let mut outcome = Outcome::new(reference, status, "x");
    outcome.amount = paid;
    ledger
        .report("card-charging", &outcome, Source::Answer)
        .await
        .unwrap();
}

/// A payment of 10 000 VND recorded, then answered paid in full.
async fn paid_in_full(ledger: &Ledger, reference: &str) {
    record(ledger, reference, vnd(10_000)).await;
    report(
        ledger,
        reference,
        PaymentStatus::Succeeded,
        Some(vnd(10_000)),
    )
    .await;
}

#[tokio::test]
async fn every_event_carries_the_money_and_validates_against_its_schema() {
    let schemas = schemas();
    let secret = paybridge_core::webhooks::WebhookSecret::generate().unwrap();
    let (url, credited) = dedup_merchant(&secret).await;
    for (backend, ledger_url) in common::ledger_urls("events_money").await {
        credited.lock().unwrap().clear();
        let ledger = Arc::new(Ledger::open(&ledger_url).await.unwrap());
        ledger.register_forward_target(&url).await.unwrap();
        // Paid at once, in full; paid at once with a card worth half (code 2); no money at
        // all; declined; cancelled.
        record(&ledger, "paid", vnd(50_000)).await;
        report(&ledger, "paid", PaymentStatus::Succeeded, Some(vnd(50_000))).await;
        record(&ledger, "half", vnd(50_000)).await;
        report(&ledger, "half", PaymentStatus::Succeeded, Some(vnd(25_000))).await;
        record(&ledger, "silent", vnd(50_000)).await;
        report(&ledger, "silent", PaymentStatus::Succeeded, None).await;
        record(&ledger, "declined", vnd(10_000)).await;
        report(&ledger, "declined", PaymentStatus::Failed, None).await;
        record(&ledger, "dropped", vnd(10_000)).await;
        report(&ledger, "dropped", PaymentStatus::Cancelled, None).await;
        // A partial refund, then the rest.
        for (id, amount) in [("paid-r1", vnd(20_000)), ("paid-r2", vnd(30_000))] {
            ledger
                .start_refund("card-charging", "paid", id, Some(amount))
                .await
                .unwrap();
            let mut outcome = RefundOutcome::new(RefundStatus::Succeeded, "00");
            outcome.provider_refund_id = Some(format!("T-{id}"));
            let applied = ledger
                .finish_refund("card-charging", "paid", id, &outcome)
                .await
                .unwrap();
            assert!(matches!(applied, Applied::Changed(_)), "{backend}");
        }
        assert_eq!(forward_all(&ledger, &url, &secret).await, 7, "{backend}");
        let got = credited.lock().unwrap().clone();
        assert_eq!(got.len(), 7, "{backend}: {got:#?}");
        for body in &got {
            assert_valid(&schemas, body);
            assert_eq!(body["data"]["currency"], "VND", "{backend}");
            assert!(body["data"]["amount"].is_string(), "{backend}: {body}");
        }
        let of = |reference: &str| -> Vec<Value> {
            got.iter()
                .filter(|b| b["data"]["reference"] == reference)
                .cloned()
                .collect()
        };
        let paid = of("paid");
        assert_eq!(paid[0]["type"], "payment.succeeded", "{backend}");
        assert_eq!(paid[0]["data"]["amount"], "50000");
        assert_eq!(paid[0]["data"]["paid_amount"], "50000");
        assert_eq!(paid[0]["data"]["source"], "answer");
        // The partial refund's event: the refund and the amounts as they stand after it.
        assert_eq!(paid[1]["type"], "payment.partially_refunded", "{backend}");
        assert_eq!(paid[1]["data"]["amount"], "50000");
        assert_eq!(paid[1]["data"]["paid_amount"], "50000");
        assert_eq!(paid[1]["data"]["refunded_amount"], "20000");
        assert_eq!(
            paid[1]["data"]["refund"],
            serde_json::json!({"id": "paid-r1", "amount": "20000", "currency": "VND",
                "provider_refund_id": "T-paid-r1"}),
            "{backend}"
        );
        assert_eq!(paid[2]["type"], "payment.reversed", "{backend}");
        assert_eq!(paid[2]["data"]["refunded_amount"], "50000");
        assert_eq!(paid[2]["data"]["refund"]["id"], "paid-r2");
        // Code 2 at once: needs review, underpaid, with what arrived — never succeeded.
        let half = of("half");
        assert_eq!(half.len(), 1);
        assert_eq!(half[0]["type"], "payment.needs_review", "{backend}");
        assert_eq!(half[0]["data"]["anomaly"], "underpaid");
        assert_eq!(half[0]["data"]["paid_amount"], "25000");
        assert_eq!(half[0]["data"]["amount"], "50000");
        // A success without money is no success.
        let silent = of("silent");
        assert_eq!(silent[0]["type"], "payment.needs_review", "{backend}");
        assert_eq!(silent[0]["data"]["anomaly"], "amount_missing");
        let row = ledger
            .payment("card-charging", "silent")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (row.payment.status, row.anomaly),
            (PaymentStatus::NeedsReview, Some(Anomaly::AmountMissing)),
            "{backend}"
        );
        assert_eq!(of("declined")[0]["data"]["amount"], "10000", "{backend}");
        // No body is ever missing its money.
        assert!(got.iter().all(|b| !b["data"]["amount"].is_null()));
    }
}

#[tokio::test]
async fn two_ledgers_forwarding_to_one_merchant_never_share_an_id() {
    let secret = paybridge_core::webhooks::WebhookSecret::generate().unwrap();
    let (url, credited) = dedup_merchant(&secret).await;
    // Two receivers with their own SQLite files (and a PostgreSQL one when configured): each
    // numbers its changes from 1; a merchant crediting once per webhook-id must lose nothing.
    let mut urls = vec![
        ("sqlite-a", common::sqlite_url("events_a")),
        ("sqlite-b", common::sqlite_url("events_b")),
    ];
    if let Some(pg) = common::postgres_url("events_pg").await {
        urls.push(("postgres", pg));
    }
    let mut ids = HashSet::new();
    for (name, ledger_url) in &urls {
        let ledger = Arc::new(Ledger::open(ledger_url).await.unwrap());
        ledger.register_forward_target(&url).await.unwrap();
        for i in 0..3 {
            let reference = format!("{name}-order-{i}");
            paid_in_full(&ledger, &reference).await;
        }
        for entry in ledger.outbox(false).await.unwrap() {
            assert!(entry.change.webhook_id.starts_with("msg_"), "{name}");
            assert!(
                ids.insert(entry.change.webhook_id.clone()),
                "{name}: id reused"
            );
        }
        assert_eq!(forward_all(&ledger, &url, &secret).await, 3, "{name}");
    }
    let credited = credited.lock().unwrap();
    assert_eq!(
        credited.len(),
        3 * urls.len(),
        "every payment credited, none dropped as a duplicate"
    );
}

#[tokio::test]
async fn a_webhook_id_is_stable_across_redeliveries_and_a_reopened_ledger() {
    for (backend, ledger_url) in common::ledger_urls("events_stable").await {
        let ledger = Arc::new(Ledger::open(&ledger_url).await.unwrap());
        ledger
            .register_forward_target("https://merchant.example/hooks")
            .await
            .unwrap();
        record(&ledger, "o-1", vnd(10_000)).await;
        report(&ledger, "o-1", PaymentStatus::Succeeded, Some(vnd(10_000))).await;
        let first = ledger.outbox(false).await.unwrap()[0]
            .change
            .webhook_id
            .clone();
        drop(ledger);
        let reopened = Arc::new(Ledger::open(&ledger_url).await.unwrap());
        let again = reopened.outbox(false).await.unwrap()[0]
            .change
            .webhook_id
            .clone();
        assert_eq!(first, again, "{backend}");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let got = seen.clone();
        let sink = paybridge_ledger::forward::FnSink::new(
            move |d: paybridge_ledger::forward::Delivery| {
                let got = got.clone();
                async move {
                    got.lock().unwrap().push(d.id);
                    Ok::<(), String>(())
                }
            },
        );
        let forwarder = Forwarder::new(reopened.clone(), Arc::new(sink));
        forwarder.forward_once().await.unwrap();
        assert!(reopened.redeliver(&first).await.unwrap(), "{backend}");
        forwarder.forward_once().await.unwrap();
        assert_eq!(*seen.lock().unwrap(), [first.clone(), first], "{backend}");
    }
}

/// Two forward targets on one ledger (two `receive --forward` processes with different
/// merchants): each target gets every change — its own delivery, attempts and order — never
/// a share of them; `ledger outbox` lists a delivery per target.
#[tokio::test]
async fn every_registered_target_gets_every_change() {
    let secret = paybridge_core::webhooks::WebhookSecret::generate().unwrap();
    let (shop, shop_books) = dedup_merchant(&secret).await;
    let (erp, erp_books) = dedup_merchant(&secret).await;
    for (backend, ledger_url) in common::ledger_urls("events_targets").await {
        shop_books.lock().unwrap().clear();
        erp_books.lock().unwrap().clear();
        let ledger = Arc::new(Ledger::open(&ledger_url).await.unwrap());
        ledger.register_forward_target(&shop).await.unwrap();
        ledger.register_forward_target(&erp).await.unwrap();
        for i in 0..8 {
            let reference = format!("order-{i}");
            paid_in_full(&ledger, &reference).await;
        }
        let outbox = ledger.outbox(false).await.unwrap();
        assert_eq!(
            outbox.len(),
            16,
            "{backend}: one delivery per change and target"
        );
        let targets: HashSet<&str> = outbox.iter().map(|e| e.target.as_str()).collect();
        assert_eq!(targets, HashSet::from([shop.as_str(), erp.as_str()]));
        // Each process forwards to its own merchant, concurrently.
        let (a, b) = tokio::join!(
            forward_all(&ledger, &shop, &secret),
            forward_all(&ledger, &erp, &secret)
        );
        assert_eq!((a, b), (8, 8), "{backend}");
        assert_eq!(shop_books.lock().unwrap().len(), 8, "{backend}");
        assert_eq!(erp_books.lock().unwrap().len(), 8, "{backend}");
        assert!(ledger.outbox(false).await.unwrap().is_empty(), "{backend}");
    }
}

/// One decision for every state: a payment is recorded `pending`; recording it in another
/// state (a success nobody's money vouches for) is refused.
#[tokio::test]
async fn a_payment_is_only_ever_recorded_pending() {
    for (backend, ledger_url) in common::ledger_urls("events_recorded").await {
        let ledger = Ledger::open(&ledger_url).await.unwrap();
        let paid = NewPayment::new("card-charging", "o-1", PaymentStatus::Succeeded, vnd(1));
        let refused = ledger.record_payment(&paid).await.unwrap_err();
        assert!(
            matches!(refused, paybridge_ledger::LedgerError::Input(_)),
            "{backend}: {refused}"
        );
        assert!(
            ledger
                .payment("card-charging", "o-1")
                .await
                .unwrap()
                .is_none()
        );
    }
}

/// `Ledger::timeline` tells one payment's whole story in time order: recorded, a callback
/// (with its deliveries), a status check, the change it made (with its webhook id), a refund
/// and its change, and every forward attempt — a refused one and the retry.
#[tokio::test]
#[allow(
    clippy::too_many_lines,
    reason = "one story per backend: every kind of entry a timeline holds"
)]
async fn a_payments_timeline_has_every_report_change_refund_and_attempt() {
    use paybridge_ledger::timeline::Entry;
    for (backend, ledger_url) in common::ledger_urls("events_timeline").await {
        let ledger = Arc::new(Ledger::open(&ledger_url).await.unwrap());
        ledger.register_forward_target("in-process").await.unwrap();
        record(&ledger, "t-1", vnd(50_000)).await;
        // The gateway's pending callback, delivered twice; then the reconciler's check.
        let pending = Outcome::new("t-1", PaymentStatus::Pending, "99");
        for _ in 0..2 {
            ledger
                .deliver("card-charging", "card-charging:t-1:99", &pending)
                .await
                .unwrap();
        }
        let paid = Outcome::new("t-1", PaymentStatus::Succeeded, "1").with_amount(vnd(50_000));
        ledger
            .report("card-charging", &paid, Source::StatusCheck)
            .await
            .unwrap();
        ledger
            .start_refund("card-charging", "t-1", "t-1-r1", Some(vnd(10_000)))
            .await
            .unwrap();
        ledger
            .finish_refund(
                "card-charging",
                "t-1",
                "t-1-r1",
                &RefundOutcome::new(RefundStatus::Succeeded, "00"),
            )
            .await
            .unwrap();
        // The merchant refuses the first attempt of each event, takes the retry.
        let tries = Arc::new(Mutex::new(HashMap::<String, u32>::new()));
        let seen = tries.clone();
        let sink = paybridge_ledger::forward::FnSink::new(
            move |d: paybridge_ledger::forward::Delivery| {
                let seen = seen.clone();
                async move {
                    let n = {
                        let mut seen = seen.lock().unwrap();
                        let n = seen.entry(d.id).or_default();
                        *n += 1;
                        *n
                    };
                    if n == 1 {
                        Err("HTTP 503".to_owned())
                    } else {
                        Ok(())
                    }
                }
            },
        );
        let forwarder = Forwarder::new(ledger.clone(), Arc::new(sink))
            .schedule(vec![std::time::Duration::ZERO; 3]);
        for _ in 0..4 {
            forwarder.forward_once().await.unwrap();
        }
        let timeline = ledger
            .timeline("card-charging", "t-1")
            .await
            .unwrap()
            .unwrap();
        let kinds: Vec<String> = timeline
            .entries
            .iter()
            .map(|e| match e {
                Entry::Recorded { .. } => "recorded".to_owned(),
                Entry::Report { source, .. } => format!("report:{source}"),
                Entry::Change { to, .. } => format!("change:{to}"),
                Entry::Refund { .. } => "refund".to_owned(),
                Entry::Delivery(a) => format!("delivery:{}", a.attempt),
                _ => "other".to_owned(),
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "recorded",
                "report:callback",
                "report:status_check",
                "change:succeeded",
                "refund",
                "report:refund",
                "change:partially_refunded",
                "delivery:1",
                "delivery:2",
                "delivery:1",
                "delivery:2",
            ],
            "{backend}: {:#?}",
            timeline.entries
        );
        let Entry::Report { deliveries, .. } = &timeline.entries[1] else {
            panic!()
        };
        assert_eq!(*deliveries, Some(2), "{backend}");
        let Entry::Delivery(refused) = &timeline.entries[7] else {
            panic!()
        };
        assert_eq!(refused.http_status, Some(503), "{backend}");
        let Entry::Change { webhook_id, .. } = &timeline.entries[3] else {
            panic!()
        };
        assert_eq!(refused.webhook_id, *webhook_id, "{backend}");
    }
}
