//! Forwarding verified payment state changes to the merchant as Standard Webhooks.
//!
//! The ledger writes each state change's delivery in the same transaction as the change (the
//! change row is the outbox entry; queued while a target is registered:
//! [`crate::Ledger::register_forward_target`]). A [`Forwarder`] claims the due deliveries —
//! for each payment only its oldest queued one, so a payment's changes arrive in order; on
//! PostgreSQL several forwarders share the work (`FOR UPDATE SKIP LOCKED`), each delivery
//! leased to one — and hands each to a [`Sink`]: [`HttpSink`] POSTs it signed per Standard
//! Webhooks (`webhook-id` = the change's [`Change::webhook_id`], `msg_` + a `UUIDv7` made when
//! the change was recorded: stable across attempts and restarts, unique across ledgers, so a
//! merchant deduplicates on it), and counts only a 2xx within 15 s; a Rust merchant implements
//! [`Sink`] to take the same deliveries in-process. A failed attempt is retried on Svix's
//! schedule ([`RETRY_SCHEDULE`]: at once, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h); after the
//! last the delivery is `failed` (`ledger outbox --failed`, `ledger redeliver`).

use std::sync::Arc;
use std::time::Duration;

use paybridge_core::http::{HttpConfig, HttpRequest, HttpTransport, RetryPolicy};
use paybridge_core::webhooks::{HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP, WebhookSecret};

use crate::changes::Change;
use crate::error::Result;
use crate::store::Ledger;

pub use crate::outbox::OutboxEntry;

/// When a failed delivery is tried again: the delay after each failed attempt (Svix's).
pub const RETRY_SCHEDULE: [Duration; 7] = [
    Duration::from_secs(5),
    Duration::from_mins(5),
    Duration::from_mins(30),
    Duration::from_hours(2),
    Duration::from_hours(5),
    Duration::from_hours(10),
    Duration::from_hours(10),
];

/// How long a merchant has to answer a delivery.
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(15);

/// One delivery: its id (`webhook-id`), timestamp (seconds) and JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The change's [`Change::webhook_id`]: the same for every attempt.
    pub id: String,
    /// `webhook-timestamp` (Unix seconds, this attempt's).
    pub timestamp: i64,
    /// The JSON body ([`body`]).
    pub body: String,
    /// The change it carries.
    pub change: Change,
}

/// The body of a change's delivery: `{"type": "payment.<status>", "timestamp", "data":
/// {merchant (a platform's merchant only), provider, reference, provider_reference, status, previous_status, amount, currency,
/// paid_amount, refunded_amount, anomaly, source, at}}` — `amount` and `currency` the
/// payment's recorded ones, `paid_amount` what arrived, `refunded_amount` what went back, and
/// for a refund's change `refund: {id, amount, currency, provider_refund_id}`. Its schema per
/// event type is in the repository's `docs/schemas/`.
#[must_use]
pub fn body(change: &Change, provider_reference: Option<&str>, now_ms: i64) -> serde_json::Value {
    let money = |m: Option<paybridge_core::Money>| m.map(|m| m.amount_string());
    // The recorded money; a change of a payment the ledger no longer holds falls back to what
    // the report said (never null while either is known).
    let recorded = change.recorded.or(change.amount);
    let mut data = serde_json::json!({
        "provider": change.provider,
        "reference": change.reference,
        "provider_reference": provider_reference,
        "status": change.status.as_str(),
        "previous_status": change.previous_status.as_str(),
        "anomaly": change.anomaly.map(crate::state::Anomaly::as_str),
        "amount": money(recorded),
        "currency": recorded.map(|m| m.currency().code().to_owned()),
        "paid_amount": money(change.paid_amount),
        "refunded_amount": money(change.refunded_amount),
        "source": change.source,
        "at": paybridge_core::time::rfc3339_ms(change.created_at),
    });
    // A platform's merchant is named; the default merchant's events stay as they were.
    if let (false, Some(obj)) = (change.merchant.is_empty(), data.as_object_mut()) {
        obj.insert("merchant".into(), change.merchant.clone().into());
    }
    if let (Some(refund), Some(obj)) = (&change.refund, data.as_object_mut()) {
        obj.insert(
            "refund".into(),
            serde_json::json!({
                "id": refund.id,
                "amount": refund.amount.amount_string(),
                "currency": refund.amount.currency().code(),
                "provider_refund_id": refund.provider_refund_id,
            }),
        );
    }
    serde_json::json!({
        "type": format!("payment.{}", change.status.as_str()),
        "timestamp": paybridge_core::time::rfc3339_ms(now_ms),
        "data": data,
    })
}

impl Delivery {
    fn of(change: Change, provider_reference: Option<&str>) -> Self {
        // The wall clock's time, whatever the ledger's: a receiver checks the signature's
        // timestamp against its own clock.
        let now = crate::clock::now_ms();
        Self {
            id: change.webhook_id.clone(),
            timestamp: now / 1000,
            body: body(&change, provider_reference, now).to_string(),
            change,
        }
    }
}

/// Where deliveries go. `Ok` means the merchant has it (a 2xx); `Err` the reason it does not.
#[async_trait::async_trait]
pub trait Sink: Send + Sync {
    /// Deliver one message.
    async fn deliver(&self, delivery: &Delivery) -> std::result::Result<(), String>;

    /// The registered forward target this sink delivers to
    /// ([`Ledger::register_forward_target`]): a forwarder with it takes that target's
    /// deliveries only. `None` (an in-process sink): every target's — register one target
    /// for it.
    fn target(&self) -> Option<&str> {
        None
    }
}

/// Any async function as a [`Sink`]: how a Rust merchant takes the same deliveries in-process
/// (no HTTP, no signature: they never leave the process). `Ok` once the merchant committed it.
///
/// ```no_run
/// # async fn run(ledger: std::sync::Arc<paybridge_ledger::Ledger>) {
/// use paybridge_ledger::forward::{Delivery, FnSink, Forwarder};
/// let forwarder = Forwarder::new(
///     ledger,
///     std::sync::Arc::new(FnSink::new(|d: Delivery| async move {
///         println!("{} {}", d.id, d.body); // credit the order, once per d.id
///         Ok::<(), String>(())
///     })),
/// );
/// forwarder.forward_once().await.unwrap();
/// # }
/// ```
pub struct FnSink<F> {
    f: F,
}

impl<F> FnSink<F> {
    /// A sink calling `f` with each delivery.
    pub fn new(f: F) -> Self {
        Self { f }
    }
}

#[async_trait::async_trait]
impl<F, Fut> Sink for FnSink<F>
where
    F: Fn(Delivery) -> Fut + Send + Sync,
    Fut: std::future::Future<Output = std::result::Result<(), String>> + Send,
{
    async fn deliver(&self, delivery: &Delivery) -> std::result::Result<(), String> {
        (self.f)(delivery.clone()).await
    }
}

/// POST each delivery to a URL, signed per Standard Webhooks.
pub struct HttpSink {
    url: String,
    secret: WebhookSecret,
    transport: HttpTransport,
}

impl std::fmt::Debug for HttpSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpSink")
            .field("url", &paybridge_core::http::redacted_url(&self.url))
            .finish_non_exhaustive()
    }
}

impl HttpSink {
    /// A sink for `url` signing with `secret`; 15 s per attempt ([`DELIVERY_TIMEOUT`]), never
    /// retried within one.
    pub fn new(url: impl Into<String>, secret: WebhookSecret) -> paybridge_core::Result<Self> {
        Self::with_timeout(url, secret, DELIVERY_TIMEOUT)
    }

    /// [`HttpSink::new`] with another deadline per attempt (tests).
    pub fn with_timeout(
        url: impl Into<String>,
        secret: WebhookSecret,
        timeout: Duration,
    ) -> paybridge_core::Result<Self> {
        let url = url.into();
        paybridge_core::http::Endpoint::parse(&url)?;
        Ok(Self {
            url,
            secret,
            transport: HttpTransport::new(
                HttpConfig::default()
                    .timeout(timeout)
                    .retry(RetryPolicy::none()),
            )?,
        })
    }
}

#[async_trait::async_trait]
impl Sink for HttpSink {
    async fn deliver(&self, d: &Delivery) -> std::result::Result<(), String> {
        let signature = self
            .secret
            .sign(&d.id, d.timestamp, d.body.as_bytes())
            .map_err(|e| e.to_string())?;
        let request = HttpRequest::post(self.url.as_str(), d.body.clone())
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(HEADER_ID, d.id.as_str())
            .header(HEADER_TIMESTAMP, d.timestamp.to_string())
            .header(HEADER_SIGNATURE, signature)
            // A merchant that answers twice is told the same message: dedup on webhook-id.
            .idempotent(true)
            .operation("paybridge", "forward");
        match self.transport.send(request).await {
            Ok(r) if (200..300).contains(&r.status) => Ok(()),
            Ok(r) => Err(format!("HTTP {}", r.status)),
            Err(e) => Err(e.to_string()),
        }
    }

    fn target(&self) -> Option<&str> {
        Some(&self.url)
    }
}

/// What one pass of a forwarder did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Forwarded {
    /// Delivered (a 2xx).
    pub delivered: u64,
    /// Failed this time, to be tried again.
    pub retrying: u64,
    /// Failed for good (schedule exhausted).
    pub failed: u64,
}

/// Delivers a ledger's queued changes to a [`Sink`].
pub struct Forwarder {
    ledger: Arc<Ledger>,
    sink: Arc<dyn Sink>,
    target: Option<String>,
    batch: i64,
    in_flight: usize,
    passes: usize,
    lease: Duration,
    schedule: Vec<Duration>,
}

/// How many recordings of ended attempts a pass runs at once.
const RECORDING: usize = 4;

impl Forwarder {
    /// A forwarder of `ledger`'s queued deliveries for the sink's target ([`Sink::target`]:
    /// an [`HttpSink`]'s URL; every target's for an in-process sink) to `sink`: 64 per pass,
    /// four passes at once ([`Forwarder::run`]), 32 in flight in each (each a different payment's or target's: a payment's changes
    /// still reach each target in order), each leased for a minute, retried on
    /// [`RETRY_SCHEDULE`].
    #[must_use]
    pub fn new(ledger: Arc<Ledger>, sink: Arc<dyn Sink>) -> Self {
        Self {
            ledger,
            target: sink.target().map(str::to_owned),
            sink,
            batch: 64,
            in_flight: 32,
            passes: 4,
            lease: Duration::from_mins(1),
            schedule: RETRY_SCHEDULE.to_vec(),
        }
    }

    /// How long a claimed delivery is this forwarder's before another may take it over (a
    /// forwarder that died mid-batch: its deliveries come due again then). Default a minute.
    #[must_use]
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// How many deliveries are attempted at once (default 32; at least 1). A pass claims
    /// only each payment's oldest queued change per target, so concurrent deliveries are of
    /// different payments or targets and a payment's changes still arrive in order.
    #[must_use]
    pub fn concurrency(mut self, in_flight: usize) -> Self {
        self.in_flight = in_flight.max(1);
        self.batch = self.batch.max(i64::try_from(in_flight).unwrap_or(i64::MAX));
        self
    }

    /// How many passes run at once (default 4; at least 1): while one waits for its claim or
    /// its records, the other's deliveries are under way — a busy database answers a claim in
    /// tens of milliseconds, as long as a batch of loopback deliveries takes. Each pass claims
    /// only what no other holds, and a payment's next change only once its earlier one was
    /// delivered: order per payment holds across passes as within one.
    #[must_use]
    pub fn passes(mut self, passes: usize) -> Self {
        self.passes = passes.max(1);
        self
    }

    /// Take the deliveries of this registered target only (default: the sink's own).
    #[must_use]
    pub fn target(mut self, target: impl Into<String>) -> Self {
        self.target = Some(target.into());
        self
    }

    /// Another retry schedule (tests; a merchant's own policy).
    #[must_use]
    pub fn schedule(mut self, schedule: Vec<Duration>) -> Self {
        self.schedule = schedule;
        self
    }

    /// Deliver what is due now, once: the claimed deliveries attempted `in_flight` at a time.
    pub async fn forward_once(&self) -> Result<Forwarded> {
        use futures_util::StreamExt as _;
        let claimed = self
            .ledger
            .claim_deliveries(self.lease, self.batch, self.target.as_deref())
            .await?;
        // Attempts that end together are recorded together, one commit for all of them (on
        // SQLite every commit waits for the one writer the receiver needs too), while the
        // next ones are under way (a few recordings at once: PostgreSQL commits in parallel).
        let mut recorded = futures_util::stream::iter(claimed)
            .map(|q| self.attempt(q))
            .buffer_unordered(self.in_flight)
            .ready_chunks(self.in_flight)
            .map(|ended| async move { self.ledger.finish_deliveries(&ended).await.map(|()| ended) })
            .buffer_unordered(RECORDING);
        let mut run = Forwarded::default();
        while let Some(ended) = recorded.next().await {
            for attempt in &ended? {
                let outcome = match (&attempt.error, attempt.retry_at) {
                    (None, _) => {
                        run.delivered += 1;
                        "delivered"
                    }
                    (Some(_), Some(_)) => {
                        run.retrying += 1;
                        "retrying"
                    }
                    (Some(_), None) => {
                        run.failed += 1;
                        "failed"
                    }
                };
                crate::metrics::forward(outcome);
            }
        }
        Ok(run)
    }

    /// One attempt of a claimed delivery: what to record of it.
    async fn attempt(&self, queued: crate::outbox::Queued) -> crate::outbox::Attempt {
        let attempt = usize::try_from(queued.attempts).unwrap_or(usize::MAX);
        let delivery = Delivery::of(queued.change.clone(), queued.provider_reference.as_deref());
        let result = self.sink.deliver(&delivery).await;
        let now = self.ledger.now_ms();
        let (error, retry_at) = match &result {
            Ok(()) => (None, None),
            Err(e) => (
                Some(paybridge_core::http::printable(e, 300)),
                self.schedule
                    .get(attempt)
                    .map(|d| now.saturating_add(i64::try_from(d.as_millis()).unwrap_or(i64::MAX))),
            ),
        };
        crate::outbox::Attempt {
            queued,
            error,
            retry_at,
        }
    }

    /// Forward until `shutdown` resolves: [`Forwarder::passes`] loops, each a pass every
    /// `every` (at once again after a full batch); the passes in hand finish first.
    pub async fn run(&self, every: Duration, shutdown: impl std::future::Future<Output = ()>) {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let loops = futures_util::future::join_all(
            (0..self.passes).map(|_| self.pass_loop(every, stopped.clone())),
        );
        tokio::pin!(loops);
        tokio::select! {
            _ = &mut loops => return,
            () = shutdown => {}
        }
        let _ = stop.send(true);
        loops.await;
    }

    /// One loop of passes, until `stopped` says so.
    async fn pass_loop(&self, every: Duration, mut stopped: tokio::sync::watch::Receiver<bool>) {
        loop {
            let busy = match self.forward_once().await {
                Ok(run) => {
                    run.delivered + run.retrying + run.failed
                        >= u64::try_from(self.batch).unwrap_or(u64::MAX)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "forwarding pass failed");
                    false
                }
            };
            if *stopped.borrow() {
                return;
            }
            if busy {
                continue;
            }
            tokio::select! {
                _ = stopped.changed() => return,
                () = tokio::time::sleep(every) => {}
            }
        }
    }
}
