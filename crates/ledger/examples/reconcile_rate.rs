//! Payments checked per second by the reconciler, and its memory: `N` card charges made
//! through `CardChargingProvider` against the in-process card sandbox (recorded in the ledger
//! with their sealed card, before the clock starts), then one sweep — `R` reconcilers, each on
//! its own ledger handle (pool), at once — with the rate limit off. Each check is a signed
//! `check` over loopback HTTP, its answer decided and the change handed to a no-op handler.
//! Resident memory is sampled every 5 ms during the sweep. See BENCHMARKS.md.
//!
//! `IN_FLIGHT=8 cargo run --release -p paybridge-ledger --example reconcile_rate -- LEDGER_URL N [R]`
//! (`IN_FLIGHT`: checks in flight per reconciler, default 8 as in the library;
//! `HANDLER=transactional`: the no-op handler is a transactional one, as `paybridge
//! reconcile`'s — one commit per checked payment; by default a plain one — two.)
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_precision_loss,
    reason = "benchmark harness"
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use paybridge_card_charging::sandbox::{
    ENDPOINT_PATH, SANDBOX_PARTNER_ID, SANDBOX_PARTNER_KEY, Simulator,
};
use paybridge_card_charging::{CardChargingProvider, Client, Config};
use paybridge_core::http::HttpTransport;
use paybridge_core::provider::prelude::*;
use paybridge_ledger::handler::{
    Callback, CallbackHandler, Handler, HandlerError, TransactionalHandler,
};
use paybridge_ledger::reconcile::RateLimit;
use paybridge_ledger::{Ledger, Reconciler, SealKey};
use secrecy::SecretString;

struct Nothing;

#[async_trait]
impl CallbackHandler for Nothing {
    async fn handle(&self, _: &Callback) -> std::result::Result<(), HandlerError> {
        Ok(())
    }
}

#[async_trait]
impl TransactionalHandler for Nothing {
    async fn handle(
        &self,
        _: paybridge_ledger::LedgerTx<'_>,
        _: &Callback,
    ) -> std::result::Result<(), HandlerError> {
        Ok(())
    }
}

/// Resident set size now, in KiB (Linux).
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

async fn open(url: &str) -> Arc<Ledger> {
    Arc::new(
        Ledger::open(url)
            .await
            .unwrap()
            .with_seal_key(SealKey::new(&[9; 32])),
    )
}

fn provider(endpoint: &str, ledger: &Arc<Ledger>) -> Arc<CardChargingProvider> {
    Arc::new(CardChargingProvider::new(
        Client::new(
            Config::new(
                endpoint,
                SANDBOX_PARTNER_ID,
                SecretString::from(SANDBOX_PARTNER_KEY),
            ),
            HttpTransport::with_defaults().unwrap(),
        )
        .unwrap(),
        Stores::in_memory().records(ledger.clone()),
    ))
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let url = args.next().expect("LEDGER_URL");
    let n: usize = args.next().expect("N").parse().unwrap();
    let reconcilers: usize = args.next().map_or(1, |r| r.parse().unwrap());
    let sim = Simulator::new().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}{ENDPOINT_PATH}", listener.local_addr().unwrap());
    let router = sim.router();
    tokio::spawn(async move { axum::serve(listener, router).await });

    // The charges (not timed): each recorded with its sealed card, then taken at once by
    // the gateway (last digit 1).
    let ledger = open(&url).await;
    let charging = provider(&endpoint, &ledger);
    let run = format!("{:x}", paybridge_ledger::now_ms());
    let started = Instant::now();
    futures_util::stream::iter(0..n)
        .map(|i| {
            let charging = charging.clone();
            let reference = format!("{run}-{i}");
            async move {
                let request =
                    PaymentRequest::new(reference, Money::parse("50000", Currency::VND).unwrap())
                        .with_method(PaymentMethod::PrepaidCard(
                            paybridge_core::PrepaidCard::new(
                                "VIETTEL",
                                "10004783347874",
                                SecretString::from("312821445892981"),
                            ),
                        ));
                charging.create_payment(request).await.unwrap();
            }
        })
        .buffer_unordered(32)
        .collect::<Vec<()>>()
        .await;
    eprintln!("{n} charges recorded in {:?}", started.elapsed());
    // Their status as a timed-out charge leaves it: pending, checked at once.
    {
        sqlx::any::install_default_drivers();
        let db = sqlx::AnyPool::connect(&url).await.unwrap();
        sqlx::query("UPDATE payments SET status = 'pending', next_check_at = 0 WHERE provider = 'card-charging'")
            .execute(&db)
            .await
            .unwrap();
    }

    if std::env::var("PROBE").is_ok() {
        let t = Instant::now();
        for i in 0..100 {
            charging
                .payment_status(&PaymentRef::merchant(format!("{run}-{i}")))
                .await
                .unwrap();
        }
        eprintln!("100 sequential payment_status: {:?}", t.elapsed());
    }
    let in_flight: usize = std::env::var("IN_FLIGHT").map_or(8, |v| v.parse().unwrap());
    let handler = if std::env::var("HANDLER").as_deref() == Ok("transactional") {
        Handler::Transactional(Arc::new(Nothing))
    } else {
        Handler::Plain(Arc::new(Nothing))
    };
    let mut sweepers = Vec::new();
    for _ in 0..reconcilers {
        let handle = open(&url).await;
        sweepers.push(
            Reconciler::with_handler(handle.clone(), handler.clone())
                .rate_limit(RateLimit::OFF)
                .concurrency(in_flight, 100)
                .provider(provider(&endpoint, &handle)),
        );
    }
    let before = rss_kib();
    let peak = Arc::new(AtomicU64::new(before));
    let sampler = {
        let peak = peak.clone();
        tokio::spawn(async move {
            loop {
                peak.fetch_max(rss_kib(), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    let started = Instant::now();
    let sweeps = futures_util::future::join_all(sweepers.iter().map(Reconciler::sweep)).await;
    let elapsed = started.elapsed();
    sampler.abort();
    let checked: u64 = sweeps.iter().map(|s| s.as_ref().unwrap().checked).sum();
    assert_eq!(checked, n as u64, "every due payment checked once");
    let peak = peak.load(Ordering::Relaxed);
    println!(
        "{n} due payments, {reconcilers} reconciler(s): {:.2} s, {:.0} checked/s; RSS before {:.1} MB, peak during the sweep {:.1} MB (+{:.1} MB)",
        elapsed.as_secs_f64(),
        n as f64 / elapsed.as_secs_f64(),
        before as f64 / 1024.0,
        peak as f64 / 1024.0,
        (peak.saturating_sub(before)) as f64 / 1024.0
    );
}
