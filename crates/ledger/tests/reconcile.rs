//! The reconciler against the providers' simulators (and, where a provider must misbehave on
//! purpose, a provider that does): every payment that is not final is asked about when due,
//! the answer goes through the state-change path once, and the schedule ends in review.

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
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use paybridge_card_charging::sandbox::{
    ENDPOINT_PATH, SANDBOX_PARTNER_ID, SANDBOX_PARTNER_KEY, Simulator,
};
use paybridge_card_charging::{CardChargingProvider, Client, Config};
use paybridge_core::http::{HttpConfig, HttpTransport};
use paybridge_core::provider::prelude::*;
use paybridge_ledger::clock::ManualClock;
use paybridge_ledger::handler::{Callback, CallbackHandler, HandlerError};
use paybridge_ledger::reconcile::{RateLimit, Sweep};
use paybridge_ledger::{
    Anomaly, Applied, Ledger, LedgerError, NewPayment, Outcome, Reconciler, Schedule, SealKey,
};
use secrecy::SecretString;

/// A change as the handler saw it: (reference, previous, status, anomaly, source).
type Seen5 = (
    String,
    PaymentStatus,
    PaymentStatus,
    Option<Anomaly>,
    String,
);

/// Every change handed out.
#[derive(Default)]
struct Seen {
    changes: Mutex<Vec<Seen5>>,
}

#[async_trait]
impl CallbackHandler for Seen {
    async fn handle(&self, callback: &Callback) -> std::result::Result<(), HandlerError> {
        let c = &callback.change;
        assert!(callback.notification.is_none() && callback.key.is_none());
        self.changes.lock().unwrap().push((
            c.reference.clone(),
            c.previous_status,
            c.status,
            c.anomaly,
            c.source.clone(),
        ));
        Ok(())
    }
}

async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    base
}

fn card_client(endpoint: &str, timeout: Duration) -> Client {
    Client::new(
        Config::new(
            endpoint,
            SANDBOX_PARTNER_ID,
            SecretString::from(SANDBOX_PARTNER_KEY),
        ),
        HttpTransport::new(HttpConfig::default().timeout(timeout)).unwrap(),
    )
    .unwrap()
}

fn card_provider(
    endpoint: &str,
    ledger: &Arc<Ledger>,
    timeout: Duration,
) -> Arc<CardChargingProvider> {
    Arc::new(CardChargingProvider::new(
        card_client(endpoint, timeout),
        Stores::in_memory().records(ledger.clone()),
    ))
}

fn card_request(reference: &str, code: &str) -> PaymentRequest {
    PaymentRequest::new(reference, vnd(50_000)).with_method(PaymentMethod::PrepaidCard(
        paybridge_core::PrepaidCard::new("VIETTEL", "10004783347874", SecretString::from(code)),
    ))
}

async fn open(url: &str, clock: &ManualClock) -> Arc<Ledger> {
    Arc::new(
        Ledger::open(url)
            .await
            .unwrap()
            .with_seal_key(SealKey::new(&[7; 32]))
            .with_clock(Arc::new(clock.clone())),
    )
}

/// A clock standing at the system's time now: the test moves it.
fn clock() -> ManualClock {
    ManualClock::at(paybridge_ledger::now_ms())
}

/// A sweep as if the time were `at` (the ledgers' clock set first).
async fn sweep_at(
    reconciler: &Reconciler,
    clock: &ManualClock,
    at: i64,
) -> Result<Sweep, LedgerError> {
    clock.set(at);
    reconciler.sweep().await
}

#[tokio::test]
async fn a_charge_that_timed_out_is_found_succeeded_by_asking_and_a_late_callback_changes_nothing()
{
    let sim = Simulator::new().unwrap();
    let sandbox = format!("{}{ENDPOINT_PATH}", serve(sim.router()).await);
    let hanging = format!(
        "{}{ENDPOINT_PATH}",
        paybridge_testkit::swallowing_proxy(sandbox.trim_end_matches(ENDPOINT_PATH))
    );
    for (backend, url) in common::ledger_urls("reconcile_timeout").await {
        let clock = clock();
        let ledger = open(&url, &clock).await;
        let reference = common::unique("charge");
        // Sent through a gateway that never answers: outcome unknown.
        let err = card_provider(&hanging, &ledger, Duration::from_secs(2))
            .create_payment(card_request(&reference, "312821445892981"))
            .await
            .unwrap_err();
        assert!(err.outcome_unknown(), "{backend}: {err}");
        let row = ledger
            .payment("card-charging", &reference)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.payment.status, PaymentStatus::Pending, "{backend}");
        // Its first check is due at once, not a minute on.
        assert!(
            row.next_check_at.unwrap() <= paybridge_ledger::now_ms(),
            "{backend}"
        );

        let seen = Arc::new(Seen::default());
        let reconciler = Reconciler::new(ledger.clone(), seen.clone())
            .rate_limit(RateLimit::OFF)
            .provider(card_provider(&sandbox, &ledger, Duration::from_secs(10)));
        let sweep = reconciler.sweep().await.unwrap();
        assert_eq!(
            (sweep.checked, sweep.changed, sweep.needs_review),
            (1, 1, 0),
            "{backend}"
        );
        let row = ledger
            .payment("card-charging", &reference)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.payment.status, PaymentStatus::Succeeded, "{backend}");
        assert_eq!(row.next_check_at, None, "{backend}: nothing more to ask");
        assert_eq!(
            row.paid_amount.unwrap().amount_string(),
            "50000",
            "{backend}"
        );
        assert_eq!(
            *seen.changes.lock().unwrap(),
            vec![(
                reference.clone(),
                PaymentStatus::Pending,
                PaymentStatus::Succeeded,
                None,
                "status_check".to_owned()
            )],
            "{backend}"
        );
        // The genuine callback, late: the same news, no change; nothing due any more.
        let late = Outcome::new(&reference, PaymentStatus::Succeeded, "1").with_amount(vnd(50_000));
        let delivered = ledger
            .deliver("card-charging", &format!("{reference}:1"), &late)
            .await
            .unwrap();
        assert_eq!(delivered.applied, Applied::Unchanged, "{backend}");
        assert_eq!(reconciler.sweep().await.unwrap().checked, 0, "{backend}");
        assert_eq!(seen.changes.lock().unwrap().len(), 1, "{backend}");
    }
}

#[tokio::test]
async fn a_callback_that_never_came_is_replaced_by_a_check_when_due_and_not_before() {
    let sim = Simulator::new().unwrap();
    let sandbox = format!("{}{ENDPOINT_PATH}", serve(sim.router()).await);
    for (backend, url) in common::ledger_urls("reconcile_due").await {
        let clock = clock();
        let ledger = open(&url, &clock).await;
        let provider = card_provider(&sandbox, &ledger, Duration::from_secs(10));
        let reference = common::unique("pending");
        // Last digit 9: pending now, settled (success) by the gateway 50 ms later; its
        // callback goes nowhere.
        let session = provider
            .create_payment(card_request(&reference, "312821445892989"))
            .await
            .unwrap();
        assert_eq!(session.state.status, PaymentStatus::Pending);
        tokio::time::sleep(Duration::from_millis(200)).await;
        let seen = Arc::new(Seen::default());
        let reconciler = Reconciler::new(ledger.clone(), seen.clone())
            .rate_limit(RateLimit::OFF)
            .provider(provider);
        let now = paybridge_ledger::now_ms();
        // Not due yet: the first check comes a minute after the charge.
        assert_eq!(
            sweep_at(&reconciler, &clock, now).await.unwrap().checked,
            0,
            "{backend}"
        );
        let sweep = sweep_at(&reconciler, &clock, now + 61_000).await.unwrap();
        assert_eq!((sweep.checked, sweep.changed), (1, 1), "{backend}");
        let row = ledger
            .payment("card-charging", &reference)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.payment.status, PaymentStatus::Succeeded, "{backend}");
        assert_eq!(row.checks, 1, "{backend}");
        assert_eq!(seen.changes.lock().unwrap().len(), 1, "{backend}");
    }
}

/// A provider that is down, or answers what it is told to, counting what it is asked.
struct Scripted {
    id: &'static str,
    answer: Mutex<Option<PaymentStatus>>,
    asked: Mutex<Vec<(String, tokio::time::Instant)>>,
}

impl Scripted {
    fn down(id: &'static str) -> Arc<Self> {
        Arc::new(Self {
            id,
            answer: Mutex::new(None),
            asked: Mutex::new(Vec::new()),
        })
    }
}

#[async_trait]
impl PaymentProvider for Scripted {
    fn id(&self) -> &'static str {
        self.id
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::TAKE_ONLY
    }

    async fn payment_status(&self, payment: &PaymentRef) -> Result<PaymentState> {
        self.asked
            .lock()
            .unwrap()
            .push((payment.reference.clone(), tokio::time::Instant::now()));
        match *self.answer.lock().unwrap() {
            None => Err(Error::Transport {
                status: Some(503),
                message: "down for maintenance".into(),
                source: None,
            }),
            Some(status) => Ok(PaymentState {
                payment: payment.clone(),
                status,
                provider_status: status.as_str().to_owned(),
                amount: None,
                message: None,
            }),
        }
    }
}

async fn record_pending(ledger: &Ledger, provider: &str, reference: &str) {
    assert!(
        ledger
            .record_payment(&NewPayment::new(
                provider,
                reference,
                PaymentStatus::Pending,
                vnd(10_000)
            ))
            .await
            .unwrap()
    );
}

#[tokio::test]
#[allow(
    clippy::too_many_lines,
    reason = "one payment's whole schedule, step by step"
)]
async fn a_provider_down_for_the_whole_schedule_ends_in_review_once() {
    for (backend, url) in common::ledger_urls("reconcile_down").await {
        let clock = clock();
        let ledger = Arc::new(
            Ledger::open(&url)
                .await
                .unwrap()
                .with_clock(Arc::new(clock.clone()))
                .with_first_check(Duration::from_secs(1)),
        );
        let down = Scripted::down("scripted");
        let seen = Arc::new(Seen::default());
        let reconciler = Reconciler::new(ledger.clone(), seen.clone())
            .rate_limit(RateLimit::OFF)
            .schedule("1s,1m*2".parse().unwrap())
            .provider(down.clone());
        let reference = common::unique("down");
        record_pending(&ledger, "scripted", &reference).await;
        let t0 = paybridge_ledger::now_ms();
        // 1 s: first check (postponed: 503), next after a minute (±10 %).
        assert_eq!(
            sweep_at(&reconciler, &clock, t0 + 1_500)
                .await
                .unwrap()
                .checked,
            1,
            "{backend}"
        );
        let row = ledger
            .payment("scripted", &reference)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.payment.status, PaymentStatus::Pending, "{backend}");
        assert!(
            row.last_check_error.unwrap().contains("maintenance"),
            "{backend}"
        );
        // Due a minute (±10 %) after the sweep that postponed it (at t0 + 1.5 s).
        let next = row.next_check_at.unwrap();
        assert!(
            (54_000..=66_000).contains(&(next - (t0 + 1_500))),
            "{backend}: {next}"
        );
        // Not before its time.
        assert_eq!(
            sweep_at(&reconciler, &clock, t0 + 30_000)
                .await
                .unwrap()
                .checked,
            0,
            "{backend}"
        );
        assert_eq!(
            sweep_at(&reconciler, &clock, t0 + 200_000)
                .await
                .unwrap()
                .checked,
            1,
            "{backend}"
        );
        // The third and last check: the schedule has run out.
        let sweep = sweep_at(&reconciler, &clock, t0 + 400_000).await.unwrap();
        assert_eq!(
            (sweep.checked, sweep.changed, sweep.needs_review),
            (1, 1, 1),
            "{backend}"
        );
        let row = ledger
            .payment("scripted", &reference)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (
                row.payment.status,
                row.anomaly,
                row.next_check_at,
                row.checks
            ),
            (
                PaymentStatus::NeedsReview,
                Some(Anomaly::Unreconciled),
                None,
                3
            ),
            "{backend}"
        );
        assert_eq!(down.asked.lock().unwrap().len(), 3, "{backend}");
        assert_eq!(
            *seen.changes.lock().unwrap(),
            vec![(
                reference.clone(),
                PaymentStatus::Pending,
                PaymentStatus::NeedsReview,
                Some(Anomaly::Unreconciled),
                "status_check".to_owned()
            )],
            "{backend}"
        );
        // Nothing more is asked about it.
        assert_eq!(
            sweep_at(&reconciler, &clock, t0 + 100_000_000)
                .await
                .unwrap()
                .checked,
            0,
            "{backend}"
        );
        // "Could not ask" is not news: a provider that cannot be asked at all (no status
        // operation) leaves the payment pending, asked again on schedule, the reason kept.
        let never = common::unique("never");
        record_pending(&ledger, "linkifier-ipn", &never).await;
        let blind = Reconciler::new(ledger.clone(), seen.clone()).provider(Arc::new(
            paybridge_linkifier_ipn::LinkifierProvider::new(
                paybridge_linkifier_ipn::CallbackVerifier::new(SecretString::from("k")),
                Stores::in_memory(),
            ),
        ));
        assert_eq!(blind.cannot_check(), ["linkifier-ipn"], "{backend}");
        let sweep = sweep_at(&blind, &clock, t0 + 100_002_000).await.unwrap();
        assert_eq!((sweep.checked, sweep.needs_review), (1, 0), "{backend}");
        let row = ledger
            .payment("linkifier-ipn", &never)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.payment.status, PaymentStatus::Pending, "{backend}");
        assert!(row.next_check_at.is_some(), "{backend}");
        assert!(
            row.last_check_error.unwrap().contains("payment_status"),
            "{backend}"
        );
        // The payment given up on above (`unreconciled`: no news, not a contradiction) is
        // still settled by a verified final report that comes later.
        let paid = Outcome::new(&reference, PaymentStatus::Succeeded, "4").with_amount(vnd(10_000));
        let applied = ledger
            .report("scripted", &paid, paybridge_ledger::Source::Callback)
            .await
            .unwrap();
        let paybridge_ledger::Applied::Changed(change) = applied else {
            panic!("{backend}: a late genuine success must move an unreconciled payment");
        };
        assert_eq!(
            (change.previous_status, change.status, change.anomaly),
            (PaymentStatus::NeedsReview, PaymentStatus::Succeeded, None),
            "{backend}"
        );
    }
}

#[tokio::test]
async fn the_rate_limit_spaces_the_checks() {
    let url = common::sqlite_url("reconcile_rate");
    let clock = clock();
    let ledger = Arc::new(
        Ledger::open(&url)
            .await
            .unwrap()
            .with_clock(Arc::new(clock.clone()))
            .with_first_check(Duration::ZERO),
    );
    let a = Scripted::down("scripted-a");
    let b = Scripted::down("scripted-b");
    for p in ["scripted-a", "scripted-b"] {
        for i in 0..6 {
            record_pending(&ledger, p, &format!("{p}-{i}")).await;
        }
    }
    // 20 a second per provider, 25 in all: each provider's checks 50 ms apart, all of them
    // 40 ms apart — as the slots are handed out; the calls themselves may run a few
    // milliseconds early or late on a busy machine (seen: 48.9 ms on a 2-core CI), so the
    // gaps are checked with 5 ms of slack, and the whole sweep's length without any.
    let reconciler = Reconciler::new(ledger.clone(), Arc::new(Seen::default()))
        .rate_limit(RateLimit::new(NonZeroU32::new(25), NonZeroU32::new(20)))
        .provider(a.clone())
        .provider(b.clone());
    let started = tokio::time::Instant::now();
    assert_eq!(reconciler.sweep().await.unwrap().checked, 12);
    let gaps = |times: &[tokio::time::Instant]| {
        times
            .windows(2)
            .map(|w| w[1].duration_since(w[0]))
            .collect::<Vec<_>>()
    };
    let mut all = Vec::new();
    for p in [&a, &b] {
        let mut times: Vec<_> = p.asked.lock().unwrap().iter().map(|(_, t)| *t).collect();
        times.sort();
        assert!(
            gaps(&times).iter().all(|g| *g >= Duration::from_millis(45)),
            "{:?}",
            gaps(&times)
        );
        all.extend(times);
    }
    all.sort();
    assert!(
        gaps(&all).iter().all(|g| *g >= Duration::from_millis(35)),
        "{:?}",
        gaps(&all)
    );
    assert!(started.elapsed() >= Duration::from_millis(11 * 40));
}

/// A card gateway's check requests, counted by request id as the simulator receives them.
async fn counting_card_sandbox() -> (String, Arc<Mutex<HashMap<String, usize>>>) {
    let sim = Simulator::new().unwrap();
    let counts: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let seen = counts.clone();
    let router = sim.router().layer(axum::middleware::from_fn(
        move |req: axum::extract::Request, next: axum::middleware::Next| {
            let seen = seen.clone();
            async move {
                let (parts, body) = req.into_parts();
                let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap();
                let fields: HashMap<String, String> =
                    form_urlencoded::parse(&bytes).into_owned().collect();
                if fields.get("command").map(String::as_str) == Some("check") {
                    *seen
                        .lock()
                        .unwrap()
                        .entry(fields["request_id"].clone())
                        .or_default() += 1;
                }
                next.run(axum::extract::Request::from_parts(parts, bytes.into()))
                    .await
            }
        },
    ));
    (format!("{}{ENDPOINT_PATH}", serve(router).await), counts)
}

#[tokio::test]
async fn two_reconcilers_on_one_ledger_check_each_due_payment_once() {
    let (sandbox, counts) = counting_card_sandbox().await;
    for (backend, url) in common::ledger_urls("reconcile_fleet").await {
        counts.lock().unwrap().clear();
        let clock = clock();
        let ledger = open(&url, &clock).await;
        let provider = card_provider(&sandbox, &ledger, Duration::from_secs(30));
        let prefix = common::unique("fleet");
        let n = 1_000;
        for i in 0..n {
            // Pending at the charge, settled by the gateway right after.
            provider
                .create_payment(card_request(&format!("{prefix}-{i}"), "312821445892989"))
                .await
                .unwrap();
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        let handled = Arc::new(Seen::default());
        let reconciler = |ledger: Arc<Ledger>| {
            Reconciler::new(ledger.clone(), handled.clone())
                .rate_limit(RateLimit::OFF)
                .concurrency(8, 50)
                .provider(card_provider(&sandbox, &ledger, Duration::from_secs(30)))
        };
        // Two processes' worth: two ledger handles (two pools) on one database.
        let (one, two) = (
            reconciler(open(&url, &clock).await),
            reconciler(open(&url, &clock).await),
        );
        clock.set(paybridge_ledger::now_ms() + 61_000);
        let (a, b) = tokio::join!(one.sweep(), two.sweep());
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.checked + b.checked, n, "{backend}: {a:?} {b:?}");
        let checked: Vec<usize> = counts.lock().unwrap().values().copied().collect();
        assert_eq!(checked.len(), 1_000, "{backend}");
        assert!(
            checked.iter().all(|c| *c == 1),
            "{backend}: a payment was checked twice"
        );
        assert_eq!(handled.changes.lock().unwrap().len(), 1_000, "{backend}");
        let page = ledger
            .payments_page(
                Some("card-charging"),
                Some(PaymentStatus::Succeeded),
                10_000,
                None,
            )
            .await
            .unwrap();
        assert_eq!(page.payments.len(), 1_000, "{backend}");
    }
}

#[tokio::test]
async fn paging_returns_every_payment_once_while_payments_are_added() {
    for (backend, url) in common::ledger_urls("reconcile_paging").await {
        let clock = clock();
        let ledger = Arc::new(
            Ledger::open(&url)
                .await
                .unwrap()
                .with_clock(Arc::new(clock.clone())),
        );
        let mut before = Vec::new();
        for i in 0..120 {
            let r = format!("old-{i:03}");
            record_pending(&ledger, if i % 2 == 0 { "p-a" } else { "p-b" }, &r).await;
            before.push(r);
        }
        let adding = {
            let ledger = ledger.clone();
            tokio::spawn(async move {
                for i in 0..60 {
                    record_pending(&ledger, "p-a", &format!("new-{i:03}")).await;
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
            })
        };
        for (provider, status) in [
            (None, None),
            (Some("p-a"), None),
            (None, Some(PaymentStatus::Pending)),
            (Some("p-b"), Some(PaymentStatus::Pending)),
        ] {
            let mut listed: HashMap<String, usize> = HashMap::new();
            let mut after = None;
            loop {
                let page = ledger
                    .payments_page(provider, status, 7, after.as_deref())
                    .await
                    .unwrap();
                for p in &page.payments {
                    assert!(provider.is_none_or(|want| p.payment.provider == want));
                    *listed.entry(p.payment.reference.clone()).or_default() += 1;
                }
                match page.next {
                    Some(next) => after = Some(next),
                    None => break,
                }
                tokio::task::yield_now().await;
            }
            assert!(listed.values().all(|n| *n == 1), "{backend}: listed twice");
            let expected = before
                .iter()
                .enumerate()
                .filter(|(i, _)| match provider {
                    Some("p-a") => i % 2 == 0,
                    Some(_) => i % 2 == 1,
                    None => true,
                })
                .count();
            let old = listed.keys().filter(|r| r.starts_with("old-")).count();
            assert_eq!(old, expected, "{backend} {provider:?} {status:?}");
        }
        adding.await.unwrap();
    }
}

#[test]
fn schedules_read_as_written() {
    let s: Schedule = "1m,5m*5,1h*24,1d*7".parse().unwrap();
    assert_eq!(s, Schedule::default());
    assert_eq!(s.len(), 37);
    assert_eq!(s.delay(0), Some(Duration::from_mins(1)));
    assert_eq!(s.delay(5), Some(Duration::from_mins(5)));
    assert_eq!(s.delay(6), Some(Duration::from_hours(1)));
    assert_eq!(s.delay(36), Some(Duration::from_hours(24)));
    assert_eq!(s.delay(37), None);
    for bad in ["", "1", "5x", "0s", "1m*0", "1m*x", "1m,,2m", "1m*10001"] {
        assert!(bad.parse::<Schedule>().is_err(), "{bad:?}");
    }
}

/// A handler that fails its first call.
#[derive(Default)]
struct FailsOnce {
    calls: Mutex<u32>,
    handled: Mutex<Vec<String>>,
}

#[async_trait]
impl CallbackHandler for FailsOnce {
    async fn handle(&self, callback: &Callback) -> std::result::Result<(), HandlerError> {
        let mut calls = self.calls.lock().unwrap();
        *calls += 1;
        if *calls == 1 {
            return Err("the shop's database is down".into());
        }
        self.handled
            .lock()
            .unwrap()
            .push(callback.change.stable_id());
        Ok(())
    }
}

#[tokio::test]
async fn a_change_its_handler_failed_is_handed_out_again_by_a_later_sweep() {
    for (backend, url) in common::ledger_urls("reconcile_stranded").await {
        let clock = clock();
        let ledger = Arc::new(
            Ledger::open(&url)
                .await
                .unwrap()
                .with_clock(Arc::new(clock.clone()))
                .with_first_check(Duration::ZERO),
        );
        let paid = Scripted::down("scripted");
        *paid.answer.lock().unwrap() = Some(PaymentStatus::Succeeded);
        let handler = Arc::new(FailsOnce::default());
        let reconciler = Reconciler::new(ledger.clone(), handler.clone())
            .rate_limit(RateLimit::OFF)
            .provider(paid.clone());
        let reference = common::unique("stranded");
        record_pending(&ledger, "scripted", &reference).await;
        let t0 = paybridge_ledger::now_ms();
        let sweep = sweep_at(&reconciler, &clock, t0).await.unwrap();
        assert_eq!((sweep.checked, sweep.changed), (1, 1), "{backend}");
        assert!(handler.handled.lock().unwrap().is_empty(), "{backend}");
        assert_eq!(
            ledger
                .open_changes("scripted", &reference)
                .await
                .unwrap()
                .len(),
            1
        );
        // Within the lease it is left alone (a receiver may be about to hand it out).
        sweep_at(&reconciler, &clock, t0 + 1_000).await.unwrap();
        assert!(handler.handled.lock().unwrap().is_empty(), "{backend}");
        // After it, the sweep hands it out; the provider is not asked again.
        sweep_at(&reconciler, &clock, t0 + 6 * 60_000)
            .await
            .unwrap();
        assert_eq!(handler.handled.lock().unwrap().len(), 1, "{backend}");
        assert!(
            ledger
                .open_changes("scripted", &reference)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(paid.asked.lock().unwrap().len(), 1, "{backend}");
    }
}

#[tokio::test]
async fn a_wooppay_invoice_whose_creation_timed_out_is_found_by_its_reference() {
    use paybridge_woopay::sandbox::{ENDPOINT_PATH, SANDBOX_PASSWORD, SANDBOX_USERNAME};
    use paybridge_woopay::{Client as WoopayClient, Config as WoopayConfig, WoopayProvider};
    let sim = paybridge_woopay::sandbox::Simulator::new().unwrap();
    let base = serve(sim.router()).await;
    // The login is answered; the invoice reaches Wooppay and its answer never comes back.
    let hanging = paybridge_testkit::swallowing_proxy_when(&base, |request| {
        String::from_utf8_lossy(request).contains("cash_createInvoice")
    });
    let provider = |endpoint: &str, ledger: &Arc<Ledger>, timeout: Duration| {
        Arc::new(WoopayProvider::new(
            WoopayClient::new(
                WoopayConfig::new(
                    format!("{endpoint}{ENDPOINT_PATH}"),
                    SANDBOX_USERNAME,
                    SecretString::from(SANDBOX_PASSWORD),
                ),
                HttpTransport::new(HttpConfig::default().timeout(timeout)).unwrap(),
            )
            .unwrap(),
            Stores::in_memory().records(ledger.clone()),
        ))
    };
    for (backend, url) in common::ledger_urls("reconcile_woopay").await {
        let clock = clock();
        let ledger = Arc::new(
            Ledger::open(&url)
                .await
                .unwrap()
                .with_clock(Arc::new(clock.clone())),
        );
        let reference = common::unique("invoice");
        let mut request =
            PaymentRequest::new(&reference, Money::parse("1500", Currency::KZT).unwrap());
        request.return_url = Some("https://shop.example/back".into());
        request.notify_url = Some("https://shop.example/notify".into());
        let err = provider(&hanging, &ledger, Duration::from_secs(2))
            .create_payment(request)
            .await
            .unwrap_err();
        assert!(err.outcome_unknown(), "{backend}: {err}");
        let row = ledger.payment("woopay", &reference).await.unwrap().unwrap();
        assert_eq!(
            row.payment.provider_reference, None,
            "{backend}: the id never came back"
        );

        let seen = Arc::new(Seen::default());
        let reconciler = Reconciler::new(ledger.clone(), seen.clone())
            .rate_limit(RateLimit::OFF)
            .provider(provider(&base, &ledger, Duration::from_secs(10)));
        // Found by its reference: unpaid yet, its operation id recorded from now on.
        let sweep = reconciler.sweep().await.unwrap();
        assert_eq!((sweep.checked, sweep.changed), (1, 0), "{backend}");
        let row = ledger.payment("woopay", &reference).await.unwrap().unwrap();
        let id: i64 = row
            .payment
            .provider_reference
            .clone()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(row.payment.status, PaymentStatus::Pending, "{backend}");
        assert!(row.next_check_at.is_some(), "{backend}");
        // The payer pays; the next check finds it done, with the invoice's sum.
        let _ = sim.pay(id).await;
        let sweep = sweep_at(
            &reconciler,
            &clock,
            paybridge_ledger::now_ms() + 10 * 60_000,
        )
        .await
        .unwrap();
        assert_eq!((sweep.checked, sweep.changed), (1, 1), "{backend}");
        let row = ledger.payment("woopay", &reference).await.unwrap().unwrap();
        assert_eq!(row.payment.status, PaymentStatus::Succeeded, "{backend}");
        assert_eq!(
            row.paid_amount.unwrap().amount_string(),
            "1500.00",
            "{backend}"
        );
        assert_eq!(seen.changes.lock().unwrap().len(), 1, "{backend}");
    }
}

/// A provider answering whatever it was scripted to: another payment's state, or a success
/// without its amount.
struct Liar {
    reference: Option<String>,
    amount: Option<Money>,
}

#[async_trait]
impl PaymentProvider for Liar {
    fn id(&self) -> &'static str {
        "liar"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::TAKE_ONLY.payment_status(true)
    }

    async fn payment_status(&self, payment: &PaymentRef) -> Result<PaymentState> {
        Ok(PaymentState {
            payment: PaymentRef {
                reference: self
                    .reference
                    .clone()
                    .unwrap_or_else(|| payment.reference.clone()),
                provider_reference: None,
            },
            status: PaymentStatus::Succeeded,
            provider_status: "1".into(),
            amount: self.amount,
            message: None,
        })
    }
}

/// The reconciler believes nothing it did not ask: an answer about another payment is refused
/// (the payment stays pending, asked again), and a success without the amount paid makes no
/// `succeeded` (`needs_review`, `amount_missing`).
#[tokio::test]
async fn the_reconciler_refuses_an_answer_about_another_payment_and_a_success_without_money() {
    for (backend, url) in common::ledger_urls("reconcile_liar").await {
        let clock = clock();
        let ledger = Arc::new(
            Ledger::open(&url)
                .await
                .unwrap()
                .with_clock(Arc::new(clock.clone()))
                .with_first_check(Duration::ZERO),
        );
        let seen = Arc::new(Seen::default());
        let asked = common::unique("asked");
        record_pending(&ledger, "liar", &asked).await;
        let other = Reconciler::new(ledger.clone(), seen.clone()).provider(Arc::new(Liar {
            reference: Some("somebody-else".into()),
            amount: Some(vnd(10_000)),
        }));
        let sweep = other.sweep().await.unwrap();
        assert_eq!((sweep.checked, sweep.changed), (1, 0), "{backend}");
        let row = ledger.payment("liar", &asked).await.unwrap().unwrap();
        assert_eq!(row.payment.status, PaymentStatus::Pending, "{backend}");
        assert!(
            row.last_check_error
                .as_deref()
                .unwrap()
                .contains("somebody-else"),
            "{backend}: {row:?}"
        );
        assert!(row.next_check_at.is_some(), "{backend}: asked again");
        // The payment asked about, "paid" — with no amount: no money, no success.
        ledger.check_all_now().await.unwrap();
        let silent = Reconciler::new(ledger.clone(), seen.clone()).provider(Arc::new(Liar {
            reference: None,
            amount: None,
        }));
        let sweep = silent.sweep().await.unwrap();
        assert_eq!((sweep.changed, sweep.needs_review), (1, 1), "{backend}");
        let row = ledger.payment("liar", &asked).await.unwrap().unwrap();
        assert_eq!(
            (row.payment.status, row.anomaly, row.paid_amount),
            (
                PaymentStatus::NeedsReview,
                Some(Anomaly::AmountMissing),
                None
            ),
            "{backend}"
        );
    }
}
