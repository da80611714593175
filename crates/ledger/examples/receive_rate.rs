//! Callbacks per second through the receiver on loopback: `CONCURRENCY` deliveries at a time,
//! each a signed card callback for a recorded pending payment (recorded before the clock
//! starts): verified, its delivery and state change decided in one transaction, the change
//! claimed, handled (a no-op) and completed. See BENCHMARKS.md.
//!
//! `cargo run --release -p paybridge-ledger --features axum --example receive_rate -- LEDGER_URL N [CALLBACK_URL]`
//! With `CALLBACK_URL` (a running `paybridge receive`'s card route), it only delivers there.
//! With `HANDLER=transactional` the no-op handler is a transactional one (as `paybridge
//! receive`'s): the delivery, the decision, the change and the handler in one commit; by default
//! a plain one (the change claimed in the deciding transaction, completed after the handler).
//! With `RECEIVERS=k` the receivers (and, with `FORWARD=1`, forwarders) are `k` processes of
//! this program on the same ledger, the callbacks spread over them (scale-out on PostgreSQL).
//! `FORWARD_PASSES=p`: the forwarder's passes at once (default 4, as the library's).
//! With `FORWARD=queue` each change is only queued; with `FORWARD=1`, a forward target is registered (each change is queued in its transaction)
//! and a forwarder delivers, while the callbacks come in, to a loopback merchant that answers
//! 204; the forwarded rate is the changes delivered over the time until the outbox is empty.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_precision_loss,
    clippy::indexing_slicing,
    reason = "benchmark harness"
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use tokio::io::AsyncBufReadExt as _;

use paybridge_core::http::{HttpRequest, HttpTransport};
use paybridge_ledger::Ledger;
use paybridge_ledger::receive::{
    Callback, CallbackHandler, HandlerError, Receiver, TransactionalHandler,
};
use secrecy::SecretString;

const CONCURRENCY: usize = 64;
const KEY: &str = "bench-key";

struct Nothing;

#[async_trait::async_trait]
impl CallbackHandler for Nothing {
    async fn handle(&self, _: &Callback) -> Result<(), HandlerError> {
        Ok(())
    }
}

#[async_trait::async_trait]
impl TransactionalHandler for Nothing {
    async fn handle(
        &self,
        _: paybridge_ledger::LedgerTx<'_>,
        _: &Callback,
    ) -> Result<(), HandlerError> {
        Ok(())
    }
}

#[tokio::main]
async fn main() {
    if let Ok(url) = std::env::var("SERVE_LEDGER") {
        return serve(url).await;
    }
    let mut args = std::env::args().skip(1);
    let url = args.next().expect("LEDGER_URL");
    let n: usize = args.next().expect("N").parse().unwrap();
    let run = format!("{:x}", paybridge_ledger::now_ms());
    let (targets, _children) = match args.next() {
        Some(target) => (vec![target], Vec::new()),
        None => receivers(&url, n, &run).await,
    };
    let targets = Arc::new(targets);
    let (code, serial) = ("312821445892981", "10004783347874");
    let sign = paybridge_card_charging::callback_sign(KEY, code, serial);
    let transport = HttpTransport::with_defaults().unwrap();
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENCY {
        let (transport, next, sign, run, targets) = (
            transport.clone(),
            next.clone(),
            sign.clone(),
            run.clone(),
            targets.clone(),
        );
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return;
                }
                let body = format!(
                    r#"{{"status":1,"message":"ok","request_id":"{run}-{i}","declared_value":50000,"value":50000,"amount":35000,"code":"{code}","serial":"{serial}","telco":"VIETTEL","callback_sign":"{sign}"}}"#
                );
                let answer = transport
                    .send(
                        HttpRequest::post(targets[i % targets.len()].as_str(), body)
                            .header(http::header::CONTENT_TYPE, "application/json")
                            .idempotent(true),
                    )
                    .await
                    .unwrap();
                assert_eq!(answer.status, 200);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let elapsed = started.elapsed();
    println!(
        "{n} callbacks, {CONCURRENCY} concurrent: {:.0} callbacks/s ({:?})",
        n as f64 / elapsed.as_secs_f64(),
        elapsed
    );
    if std::env::var("FORWARD").as_deref() == Ok("1") {
        let ledger = Ledger::open(&url).await.unwrap();
        while !ledger.outbox(false).await.unwrap().is_empty() {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        let drained = started.elapsed();
        println!(
            "forwarded {n} changes by {drained:?}: {:.0} events/s",
            n as f64 / drained.as_secs_f64()
        );
        let seen = SEEN.lock().unwrap();
        println!(
            "the merchant got {} webhooks, {} distinct webhook-ids",
            seen.0,
            seen.1.len()
        );
    }
}

/// The payments recorded (not timed), a forward target registered (`FORWARD`), and the
/// receivers the callbacks go to: their URLs, and the child processes serving them.
async fn receivers(url: &str, n: usize, run: &str) -> (Vec<String>, Vec<tokio::process::Child>) {
    let ledger = Arc::new(Ledger::open(url).await.unwrap());
    // The payments, as a shop records them before charging (not timed).
    let amount = paybridge_core::Money::parse("50000", paybridge_core::Currency::VND).unwrap();
    for i in 0..n {
        ledger
            .record_payment(&paybridge_ledger::NewPayment::new(
                "card-charging",
                format!("{run}-{i}"),
                paybridge_core::PaymentStatus::Pending,
                amount,
            ))
            .await
            .unwrap();
    }
    let forward_to = match std::env::var("FORWARD").as_deref() {
        Ok("1" | "queue") => Some(merchant(&ledger).await),
        _ => None,
    };
    let deliver = std::env::var("FORWARD").as_deref() == Ok("1");
    let receivers: usize = std::env::var("RECEIVERS").map_or(0, |v| v.parse().unwrap());
    if receivers == 0 {
        if let (Some(hooks), true) = (&forward_to, deliver) {
            forwarder(ledger.clone(), hooks);
        }
        (vec![receiver_on(ledger).await], Vec::new())
    } else {
        // `RECEIVERS` processes of this program on the same ledger, each a receiver (and
        // a forwarder), as `paybridge receive` runs on several machines.
        let (mut urls, mut children) = (Vec::new(), Vec::new());
        for _ in 0..receivers {
            let mut child = tokio::process::Command::new(std::env::current_exe().unwrap())
                .env("SERVE_LEDGER", url)
                .env(
                    "HOOKS",
                    forward_to.as_deref().filter(|_| deliver).unwrap_or(""),
                )
                .stdout(std::process::Stdio::piped())
                .kill_on_drop(true)
                .spawn()
                .unwrap();
            let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
            urls.push(lines.next_line().await.unwrap().unwrap());
            children.push(child);
        }
        (urls, children)
    }
}

/// A receiver over `ledger`, served on a port of its own: its card callback URL.
async fn receiver_on(ledger: Arc<Ledger>) -> String {
    let receiver = if std::env::var("HANDLER").as_deref() == Ok("transactional") {
        Receiver::transactional(ledger, Arc::new(Nothing))
    } else {
        Receiver::new(ledger, Arc::new(Nothing))
    };
    let router = receiver
        .mount(
            paybridge_card_charging::route::Route::trusting_unsigned_status(SecretString::from(
                KEY,
            )),
        )
        .router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{addr}/card-charging/callback")
}

/// A child process (`RECEIVERS`): a receiver (and, with `HOOKS`, a forwarder) on the ledger
/// at `url`, its callback URL on the first line of its output, serving until killed.
async fn serve(url: String) {
    let ledger = Arc::new(Ledger::open(&url).await.unwrap());
    match std::env::var("HOOKS") {
        Ok(hooks) if !hooks.is_empty() => forwarder(ledger.clone(), &hooks),
        _ => {}
    }
    println!("{}", receiver_on(ledger).await);
    std::future::pending::<()>().await;
}

/// A loopback merchant registered as the forward target: it answers 204 and counts the
/// webhooks it gets, and the distinct `webhook-id`s among them (printed at the end: several
/// forwarders on one ledger must not deliver a change twice).
async fn merchant(ledger: &Ledger) -> String {
    let app = axum::Router::new().route(
        "/hooks",
        axum::routing::post(|headers: axum::http::HeaderMap| async move {
            let id = headers
                .get("webhook-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            let mut seen = SEEN.lock().unwrap();
            seen.0 += 1;
            seen.1.insert(id);
            axum::http::StatusCode::NO_CONTENT
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    ledger.register_forward_target(&url).await.unwrap();
    url
}

/// Webhooks the merchant got, and their distinct ids.
static SEEN: std::sync::Mutex<(usize, std::collections::BTreeSet<String>)> =
    std::sync::Mutex::new((0, std::collections::BTreeSet::new()));

/// A forwarder of `ledger`'s queued deliveries to the merchant at `hooks`.
fn forwarder(ledger: Arc<Ledger>, hooks: &str) {
    let secret = paybridge_core::webhooks::WebhookSecret::parse(
        &paybridge_core::webhooks::WebhookSecret::generate().unwrap(),
    )
    .unwrap();
    let sink = paybridge_ledger::forward::HttpSink::new(hooks.to_owned(), secret).unwrap();
    let passes = std::env::var("FORWARD_PASSES").map_or(4, |v| v.parse().unwrap());
    let forwarder =
        paybridge_ledger::forward::Forwarder::new(ledger, Arc::new(sink)).passes(passes);
    tokio::spawn(async move {
        forwarder
            .run(std::time::Duration::from_millis(10), std::future::pending())
            .await;
    });
}
