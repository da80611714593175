//! The ledger on both backends: a real SQLite file and a real PostgreSQL (a schema of its own
//! per test, from `PAYBRIDGE_TEST_POSTGRES`). Without that variable the PostgreSQL half of
//! each test says it is skipped; with `PAYBRIDGE_REQUIRE_POSTGRES=1` a missing server fails.

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
use paybridge_ledger::clock::ManualClock;
use paybridge_ledger::{
    Applied, Change, Ledger, LedgerError, NewPayment, Outcome, SealKey, Source,
};
use secrecy::{ExposeSecret, SecretString};

const LEASE: Duration = Duration::from_secs(30);

/// The ledgers a test runs on: SQLite always, PostgreSQL when configured.
async fn ledgers(name: &str) -> Vec<(&'static str, String, Ledger)> {
    let mut out = Vec::new();
    for (backend, url) in common::ledger_urls(name).await {
        out.push((backend, url.clone(), Ledger::open(&url).await.unwrap()));
    }
    out
}

/// A recorded card payment and its first change: a success reported by a callback.
async fn a_change(ledger: &Ledger, reference: &str) -> Change {
    ledger
        .record_payment(&NewPayment::new(
            "card",
            reference,
            PaymentStatus::Pending,
            vnd(50_000),
        ))
        .await
        .unwrap();
    let said = Outcome::new(reference, PaymentStatus::Succeeded, "1").with_amount(vnd(50_000));
    match ledger
        .deliver("card", &format!("{reference}:1"), &said)
        .await
        .unwrap()
        .applied
    {
        Applied::Changed(change) => change,
        other => panic!("a first success is a change, not {other:?}"),
    }
}

#[tokio::test]
async fn a_crashed_holder_leaves_the_change_in_flight_until_its_lease_ends() {
    for (backend, _, ledger) in ledgers("crash").await {
        let clock = ManualClock::at(1_000_000);
        let ledger = ledger.with_clock(Arc::new(clock.clone()));
        let change = a_change(&ledger, "r1").await;
        let first = ledger
            .claim_change(&change, Duration::from_secs(10))
            .await
            .unwrap()
            .expect("claimed");
        assert_eq!(
            first.until_ms, 1_010_000,
            "{backend}: the lease runs on the ledger's clock"
        );
        // The holder dies without completing. Another delivery within the lease: in flight.
        clock.advance(Duration::from_secs(5));
        assert!(
            ledger.claim_change(&change, LEASE).await.unwrap().is_none(),
            "{backend}"
        );
        // After it: claimed anew under a higher fence, and completed.
        clock.advance(Duration::from_millis(5_001));
        let second = ledger
            .claim_change(&change, LEASE)
            .await
            .unwrap()
            .expect("claimed");
        assert!(second.fence > first.fence, "{backend}");
        ledger.complete_change(&second).await.unwrap();
        // The dead holder's claim can neither renew nor complete.
        let mut stale = first.clone();
        assert!(matches!(
            ledger.renew_change(&mut stale, LEASE).await,
            Err(LedgerError::LeaseLost { .. })
        ));
        assert!(
            matches!(ledger.complete_change(&first).await, Err(LedgerError::LeaseLost { ref change, .. }) if *change == first.change.webhook_id),
            "{backend}"
        );
        // Done: nobody claims it again, however late.
        clock.advance(Duration::from_hours(1));
        assert!(ledger.claim_change(&change, LEASE).await.unwrap().is_none());
        assert!(ledger.open_changes("card", "r1").await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn a_handler_failure_is_released_and_the_change_is_handed_out_again() {
    // The bug this crate exists for: a callback marked seen before the merchant's handler
    // committed is never credited when the handler fails.
    for (backend, _, ledger) in ledgers("handler_failure").await {
        let change = a_change(&ledger, "P/1").await;
        let claim = ledger
            .claim_change(&change, LEASE)
            .await
            .unwrap()
            .expect("claimed");
        // The handler fails (its database is down): released, the provider told to retry.
        ledger.release_change(&claim).await.unwrap();
        assert_eq!(
            ledger.open_changes("card", "P/1").await.unwrap(),
            vec![change.clone()],
            "{backend}: nothing is marked done"
        );
        // The retry: claimed again at once, handled, completed.
        let retry = ledger
            .claim_change(&change, LEASE)
            .await
            .unwrap()
            .expect("claimed");
        assert!(retry.fence > claim.fence);
        ledger.complete_change(&retry).await.unwrap();
        assert!(ledger.open_changes("card", "P/1").await.unwrap().is_empty());
        // A released claim cannot complete.
        assert!(matches!(
            ledger.complete_change(&claim).await,
            Err(LedgerError::LeaseLost { .. })
        ));
        // The callback's deliveries were counted with what it said.
        let record = ledger.callback("card", "P/1:1").await.unwrap().unwrap();
        assert!(
            record.done && record.deliveries == 1,
            "{backend}: {record:?}"
        );
        assert_eq!(record.outcome.unwrap().amount, Some(vnd(50_000)));
    }
}

#[tokio::test]
async fn statuses_only_move_forward_and_every_report_is_logged() {
    for (backend, _, ledger) in ledgers("monotonic").await {
        let payment = NewPayment::new("card", "r9", PaymentStatus::Pending, vnd(50_000))
            .provider_reference("T-1");
        assert!(ledger.record_payment(&payment).await.unwrap());
        assert!(
            !ledger.record_payment(&payment).await.unwrap(),
            "{backend}: the first record stays"
        );
        // Each report carries the card's value: no money, no success.
        let report = |status, word| {
            let outcome = Outcome::new("r9", status, word).with_amount(vnd(50_000));
            let ledger = &ledger;
            async move {
                ledger
                    .report("card", &outcome, Source::Callback)
                    .await
                    .map(|a| matches!(a, paybridge_ledger::Applied::Changed(_)))
            }
        };
        assert!(report(PaymentStatus::Succeeded, "1").await.unwrap());
        assert!(
            !report(PaymentStatus::Pending, "99").await.unwrap(),
            "{backend}: a late pending"
        );
        assert!(
            !report(PaymentStatus::Succeeded, "1").await.unwrap(),
            "the same news"
        );
        let p = ledger.payment("card", "r9").await.unwrap().unwrap();
        assert_eq!(p.payment.status, PaymentStatus::Succeeded, "{backend}");
        assert_eq!(p.payment.provider_reference.as_deref(), Some("T-1"));
        assert_eq!(p.payment.amount, vnd(50_000));
        assert!(report(PaymentStatus::Reversed, "refund").await.unwrap());
        assert!(
            !report(PaymentStatus::Failed, "3").await.unwrap(),
            "lower than reversed"
        );
        let events = ledger.events("card", "r9").await.unwrap();
        let seen: Vec<(PaymentStatus, bool, &str)> = events
            .iter()
            .map(|e| (e.status, e.applied, e.source.as_str()))
            .collect();
        assert_eq!(
            seen,
            [
                (PaymentStatus::Pending, true, "created"),
                (PaymentStatus::Succeeded, true, "callback"),
                (PaymentStatus::Pending, false, "callback"),
                (PaymentStatus::Succeeded, false, "callback"),
                (PaymentStatus::Reversed, true, "callback"),
                (PaymentStatus::Failed, false, "callback"),
            ],
            "{backend}"
        );
        // A completed callback applies its status to the payment it names.
        ledger
            .record_payment(&NewPayment::new(
                "card",
                "r10",
                PaymentStatus::Pending,
                vnd(10_000),
            ))
            .await
            .unwrap();
        ledger
            .deliver(
                "card",
                "r10:1",
                &Outcome::new("r10", PaymentStatus::Succeeded, "1").with_amount(vnd(10_000)),
            )
            .await
            .unwrap();
        ledger
            .deliver(
                "card",
                "r10:99",
                &Outcome::new("r10", PaymentStatus::Pending, "99"),
            )
            .await
            .unwrap();
        assert_eq!(
            ledger
                .payment("card", "r10")
                .await
                .unwrap()
                .unwrap()
                .payment
                .status,
            PaymentStatus::Succeeded,
            "{backend}: out-of-order callbacks"
        );
    }
}

#[tokio::test]
async fn a_reopened_ledger_keeps_payments_events_and_dedup_state() {
    for (backend, url, ledger) in ledgers("restart").await {
        let key = SealKey::new(&[3; 32]);
        let ledger = ledger.with_seal_key(key.clone());
        let card = NewPayment::new("card", "r1", PaymentStatus::Pending, vnd(50_000))
            .secret(SecretString::from("312821445892981"));
        ledger.record_payment(&card).await.unwrap();
        let said = Outcome::new("r1", PaymentStatus::Succeeded, "1").with_amount(vnd(50_000));
        ledger.deliver("card", "r1:1", &said).await.unwrap();
        drop(ledger);
        let reopened = Ledger::open(&url).await.unwrap().with_seal_key(key);
        // The provider's retry after the restart: a duplicate, nothing applied again.
        let again = reopened.deliver("card", "r1:1", &said).await.unwrap();
        assert_eq!(again.deliveries, 2, "{backend}");
        assert_eq!(again.applied, Applied::Unchanged, "{backend}");
        assert_eq!(
            reopened
                .payment("card", "r1")
                .await
                .unwrap()
                .unwrap()
                .payment
                .status,
            PaymentStatus::Succeeded
        );
        assert_eq!(
            reopened.events("card", "r1").await.unwrap().len(),
            2,
            "{backend}"
        );
        // The card code comes back only through the seal key; the row never holds it plainly.
        let code = reopened.secret("card", "r1").await.unwrap().unwrap();
        assert_eq!(code.expose_secret(), "312821445892981");
        let without_key = Ledger::open(&url).await.unwrap();
        assert!(matches!(
            without_key.secret("card", "r1").await,
            Err(LedgerError::Seal(_))
        ));
        // No key, no secret stored.
        without_key
            .record_payment(
                &NewPayment::new("card", "r2", PaymentStatus::Pending, vnd(10_000))
                    .secret(SecretString::from("999")),
            )
            .await
            .unwrap();
        assert!(without_key.secret("card", "r2").await.unwrap().is_none());
    }
}

#[tokio::test]
async fn purge_respects_each_providers_horizon() {
    for (backend, url, ledger) in ledgers("purge").await {
        let clock = ManualClock::at(1_000_000);
        let ledger = ledger.with_clock(Arc::new(clock.clone()));
        for (provider, key) in [("qvickly", "a"), ("card", "b")] {
            ledger
                .deliver(
                    provider,
                    key,
                    &Outcome::new(key, PaymentStatus::Succeeded, "ok"),
                )
                .await
                .unwrap();
        }
        // A callback an older build left claimed (its handler never finished) is kept.
        common::execute(
            &url,
            "INSERT INTO callbacks (provider, key, state, lease_token, lease_until, deliveries, first_received_at, last_received_at) \
             VALUES ('card', 'in-flight', 'claimed', 't', 0, 1, 0, 0)",
        )
        .await;
        clock.advance(Duration::from_millis(20));
        // Qvickly retries for months: nothing of it is old enough; card's horizon has passed.
        let horizon = |p: &str| {
            if p == "qvickly" {
                Duration::from_hours(100 * 24)
            } else {
                Duration::ZERO
            }
        };
        assert_eq!(ledger.purge(horizon).await.unwrap(), 1, "{backend}");
        assert!(ledger.callback("card", "b").await.unwrap().is_none());
        assert!(ledger.callback("qvickly", "a").await.unwrap().is_some());
        // A callback still claimed is never purged.
        assert!(
            ledger
                .callback("card", "in-flight")
                .await
                .unwrap()
                .is_some()
        );
    }
}

/// A merchant whose handler applies the effect in a table with a unique key.
struct EffectsHandler(Effects);

#[async_trait::async_trait]
impl paybridge_ledger::receive::CallbackHandler for EffectsHandler {
    async fn handle(
        &self,
        callback: &paybridge_ledger::receive::Callback,
    ) -> Result<(), paybridge_ledger::receive::HandlerError> {
        // One effect per state change, keyed by its stable id.
        self.0
            .apply(&callback.change.stable_id())
            .await
            .map_err(Into::into)
    }
}

const CARD_KEY: &str = "concurrency-key";

/// Start the axum receiver over `ledger` in this process, deliver `keys` signed card
/// callbacks 3–5 times each in random order from `tasks` tasks over HTTP, and count the
/// answers: (deliveries, acknowledged 200, told to retry 503, anything else).
async fn deliver(
    url: &str,
    ledger: Arc<Ledger>,
    keys: usize,
    tasks: usize,
    seed: u64,
) -> (usize, usize, usize, usize) {
    let effects = Effects::open(url).await;
    let router =
        paybridge_ledger::receive::Receiver::new(ledger, Arc::new(EffectsHandler(effects)))
            .mount(
                paybridge_card_charging::route::Route::trusting_unsigned_status(
                    SecretString::from(CARD_KEY),
                ),
            )
            .router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let target = Arc::new(format!(
        "http://{}/card-charging/callback",
        listener.local_addr().unwrap()
    ));
    tokio::spawn(async move { axum::serve(listener, router).await });
    let mut plan: Vec<usize> = Vec::new();
    let mut rng = fastrand::Rng::with_seed(seed);
    for key in 0..keys {
        for _ in 0..rng.usize(3..=5) {
            plan.push(key);
        }
    }
    rng.shuffle(&mut plan);
    let plan = Arc::new(plan);
    let next = Arc::new(AtomicUsize::new(0));
    let counts: Arc<[AtomicUsize; 3]> = Arc::new([
        AtomicUsize::new(0),
        AtomicUsize::new(0),
        AtomicUsize::new(0),
    ]);
    let transport = paybridge_core::http::HttpTransport::with_defaults().unwrap();
    let (code, serial) = ("312821445892981", "10004783347874");
    let sign = paybridge_card_charging::callback_sign(CARD_KEY, code, serial);
    let mut workers = Vec::new();
    for _ in 0..tasks {
        let (plan, next, counts, transport, target, sign) = (
            plan.clone(),
            next.clone(),
            counts.clone(),
            transport.clone(),
            target.clone(),
            sign.clone(),
        );
        workers.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(&key) = plan.get(i) else { return };
                let body = format!(
                    r#"{{"status":1,"message":"ok","request_id":"k{key}","declared_value":50000,"value":50000,"amount":35000,"code":"{code}","serial":"{serial}","telco":"VIETTEL","callback_sign":"{sign}"}}"#
                );
                let answer = transport
                    .send(
                        // Not retried by the transport: each delivery is one request.
                        paybridge_core::http::HttpRequest::post(target.as_str(), body)
                            .header(http::header::CONTENT_TYPE, "application/json"),
                    )
                    .await
                    .unwrap();
                let slot = match answer.status {
                    200 => 0,
                    503 => 1,
                    _ => 2,
                };
                counts[slot].fetch_add(1, Ordering::SeqCst);
            }
        }));
    }
    for w in workers {
        w.await.unwrap();
    }
    (
        plan.len(),
        counts[0].load(Ordering::SeqCst),
        counts[1].load(Ordering::SeqCst),
        counts[2].load(Ordering::SeqCst),
    )
}

/// The merchant's side effect, in a table with a unique key: applying it twice fails.
#[derive(Clone)]
enum Effects {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl Effects {
    async fn open(url: &str) -> Self {
        const DDL: &str = "CREATE TABLE IF NOT EXISTS effects (key TEXT PRIMARY KEY)";
        if url.starts_with("sqlite") {
            let options: sqlx::sqlite::SqliteConnectOptions = url.parse().unwrap();
            let pool = sqlx::SqlitePool::connect_with(
                options
                    .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                    .busy_timeout(Duration::from_secs(10)),
            )
            .await
            .unwrap();
            sqlx::query(DDL).execute(&pool).await.unwrap();
            Self::Sqlite(pool)
        } else {
            let pool = sqlx::PgPool::connect(url).await.unwrap();
            sqlx::query(DDL).execute(&pool).await.unwrap();
            Self::Postgres(pool)
        }
    }

    /// Apply `key`'s effect; an error when it was applied before (or the database failed).
    async fn apply(&self, key: &str) -> Result<(), String> {
        const SQL: &str = "INSERT INTO effects (key) VALUES ($1)";
        let done = match self {
            Self::Sqlite(p) => sqlx::query(SQL).bind(key).execute(p).await.map(drop),
            Self::Postgres(p) => sqlx::query(SQL).bind(key).execute(p).await.map(drop),
        };
        done.map_err(|e| format!("the effect of {key} failed (twice?): {e}"))
    }

    async fn count(&self) -> i64 {
        const SQL: &str = "SELECT COUNT(*) AS n FROM effects";
        match self {
            Self::Sqlite(p) => sqlx::Row::get(&sqlx::query(SQL).fetch_one(p).await.unwrap(), "n"),
            Self::Postgres(p) => sqlx::Row::get(&sqlx::query(SQL).fetch_one(p).await.unwrap(), "n"),
        }
    }
}

/// Environment of a worker process: the ledger URL and the seed.
const WORKER_URL: &str = "PAYBRIDGE_LEDGER_WORKER_URL";

/// Run by `deliveries_through_the_router_from_two_processes_handle_each_key_once` in child
/// processes: each is a replica running its own axum receiver over the shared database.
#[tokio::test]
#[ignore = "a worker process of the concurrency test, not a test of its own"]
async fn worker_process() {
    let url = std::env::var(WORKER_URL).expect("started by the concurrency test");
    let seed: u64 = std::env::var("PAYBRIDGE_LEDGER_WORKER_SEED")
        .unwrap()
        .parse()
        .unwrap();
    let ledger = Arc::new(Ledger::open(&url).await.unwrap());
    let (deliveries, acked, retry, other) = deliver(&url, ledger, 1_000, 8, seed).await;
    assert_eq!(
        other, 0,
        "every delivery acknowledged or told to retry, none failed"
    );
    assert_eq!(deliveries, acked + retry, "every delivery was answered");
    println!("worker: {deliveries} deliveries, {acked} acknowledged, {retry} told to retry");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_through_the_router_from_two_processes_handle_each_key_once() {
    for (backend, url, ledger) in ledgers("concurrency").await {
        // Migrated and the effects table created once here (PostgreSQL's CREATE TABLE IF NOT
        // EXISTS races with itself); both processes then share the database. The payments
        // are recorded first, as a shop records them before charging.
        for key in 0..1_000 {
            ledger
                .record_payment(&NewPayment::new(
                    "card-charging",
                    format!("k{key}"),
                    PaymentStatus::Pending,
                    vnd(50_000),
                ))
                .await
                .unwrap();
        }
        drop(ledger);
        let effects = Effects::open(&url).await;
        let exe = std::env::current_exe().unwrap();
        let children: Vec<_> = (0..2_u64)
            .map(|seed| {
                std::process::Command::new(&exe)
                    .args(["worker_process", "--exact", "--ignored", "--nocapture"])
                    .env(WORKER_URL, &url)
                    .env("PAYBRIDGE_LEDGER_WORKER_SEED", (seed + 1).to_string())
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "{backend} worker failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(
                String::from_utf8_lossy(&out.stdout).contains("worker: "),
                "{backend}: the worker ran"
            );
        }
        // Each key: its effect once, and every delivery counted.
        assert_eq!(effects.count().await, 1_000, "{backend}");
        let ledger = Ledger::open(&url).await.unwrap();
        let records = ledger.callbacks(Some("card-charging"), None).await.unwrap();
        assert_eq!(records.len(), 1_000);
        let odd: Vec<_> = records
            .iter()
            .filter(|r| !r.done || !(6..=10).contains(&r.deliveries))
            .collect();
        assert!(
            odd.is_empty(),
            "{backend}: {} odd records, e.g. {:?}",
            odd.len(),
            odd.first()
        );
    }
}

#[tokio::test]
async fn payments_are_listed_a_page_at_a_time_in_a_stable_order() {
    for (backend, _, ledger) in ledgers("pages").await {
        for i in 0..250 {
            ledger
                .record_payment(&NewPayment::new(
                    if i % 2 == 0 {
                        "card-charging"
                    } else {
                        "woopay"
                    },
                    format!("order-{i:03}"),
                    PaymentStatus::Pending,
                    vnd(10_000),
                ))
                .await
                .unwrap();
        }
        ledger
            .report(
                "woopay",
                &Outcome::new("order-001", PaymentStatus::Succeeded, "4").with_amount(vnd(10_000)),
                Source::Callback,
            )
            .await
            .unwrap();
        let mut seen = Vec::new();
        let mut after = None;
        let mut pages = 0;
        loop {
            let page = ledger
                .payments_page(None, None, 100, after.as_deref())
                .await
                .unwrap();
            pages += 1;
            assert!(page.payments.len() <= 100);
            seen.extend(page.payments.iter().map(|p| {
                (
                    p.created_at,
                    p.payment.provider.clone(),
                    p.payment.reference.clone(),
                )
            }));
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        assert_eq!((pages, seen.len()), (3, 250), "{backend}");
        let mut sorted = seen.clone();
        sorted.sort();
        sorted.reverse();
        assert_eq!(seen, sorted, "{backend}: newest first, no row twice");
        let woopay = ledger
            .payments_page(Some("woopay"), Some(PaymentStatus::Succeeded), 10, None)
            .await
            .unwrap();
        assert_eq!(woopay.payments.len(), 1);
        assert_eq!(woopay.payments[0].payment.reference, "order-001");
        assert!(woopay.next.is_none());
        assert!(matches!(
            ledger
                .payments_page(None, None, 10, Some("not-a-cursor"))
                .await,
            Err(LedgerError::Cursor(_))
        ));
    }
}

#[tokio::test]
async fn public_fields_are_recalled_without_opening_the_secret() {
    use paybridge_core::PaymentRecords as _;
    for (backend, url, ledger) in ledgers("public").await {
        let sealed = ledger.with_seal_key(SealKey::new(&[3; 32]));
        sealed
            .record_payment(
                &NewPayment::new("card-charging", "c1", PaymentStatus::Pending, vnd(50_000))
                    .secret(SecretString::from("VIETTEL:312821445892981:10004783347874"))
                    .instrument("10004783347874"),
            )
            .await
            .unwrap();
        // Another process with another key: the secret cannot be opened, but what a callback
        // route needs — the card's serial — is there.
        let other = Ledger::open(&url)
            .await
            .unwrap()
            .with_seal_key(SealKey::new(&[4; 32]));
        assert!(
            other.recall("card-charging", "c1").await.is_err(),
            "{backend}"
        );
        let public = other
            .recall_public("card-charging", "c1")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            public.instrument.as_deref(),
            Some("10004783347874"),
            "{backend}"
        );
        assert!(public.secret.is_none());
    }
}
