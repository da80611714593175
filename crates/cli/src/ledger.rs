//! `paybridge receive` and `paybridge ledger events | payments | purge`.

use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Subcommand};
use paybridge_ledger::receive::{Callback, CallbackHandler, HandlerError, Receiver};
use paybridge_ledger::{Ledger, SealKey};
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::output::{CliError, Outcome};
use crate::providers::secret;

/// Where the ledger is (`sqlite://FILE`, `postgres://…`).
#[derive(Debug, Clone, Args)]
pub(crate) struct LedgerArg {
    /// The ledger: `sqlite://FILE` or `postgres://…` (writers create and migrate it; reading
    /// commands never do).
    #[arg(
        long,
        env = "PAYBRIDGE_LEDGER",
        hide_env_values = true,
        default_value = "sqlite://paybridge.db"
    )]
    pub ledger: String,
    /// How long to wait for the ledger's database, in seconds: one that cannot be reached is
    /// exit 3 after it.
    #[arg(long = "timeout", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub ledger_timeout: u64,
}

impl LedgerArg {
    /// Open it to write (created and migrated when needed), with the seal key from
    /// `PAYBRIDGE_LEDGER_KEY`, when set.
    pub async fn open(&self) -> Result<Ledger, CliError> {
        let timeout = Duration::from_secs(self.ledger_timeout);
        sealed(
            Ledger::open_within(&self.ledger, timeout)
                .await
                .map_err(|e| ledger_error(&self.ledger, e))?,
        )
    }

    /// Open it to read: nothing is created or migrated (a missing file, an old schema: exit 2).
    pub async fn open_existing(&self) -> Result<Ledger, CliError> {
        let timeout = Duration::from_secs(self.ledger_timeout);
        sealed(
            Ledger::open_existing(&self.ledger, timeout)
                .await
                .map_err(|e| ledger_error(&self.ledger, e))?,
        )
    }
}

/// A ledger that could not be opened, in the contract's terms: unreachable → exit 3 naming the
/// host; missing, outdated or a URL of no backend → exit 2. The URL is never printed whole (it
/// may hold a password).
fn ledger_error(url: &str, e: paybridge_ledger::LedgerError) -> CliError {
    use paybridge_ledger::LedgerError as E;
    match e {
        e @ E::Unreachable { .. } => CliError::from(paybridge_core::Error::Transport {
            status: None,
            message: e.to_string(),
            source: None,
        }),
        e @ (E::Missing(_) | E::Outdated { .. } | E::Url(_)) => CliError::input(e.to_string()),
        e => CliError::input(format!(
            "cannot open the ledger {}: {e}",
            paybridge_core::http::redacted_url(url)
        )),
    }
}

/// Open the ledger at `url` to write; `PAYBRIDGE_LEDGER_KEY` (64 hex digits) seals secrets.
pub(crate) async fn open(url: &str) -> Result<Ledger, CliError> {
    sealed(Ledger::open(url).await.map_err(|e| ledger_error(url, e))?)
}

/// `ledger` with the seal key from `PAYBRIDGE_LEDGER_KEY`, when set.
fn sealed(ledger: Ledger) -> Result<Ledger, CliError> {
    match std::env::var("PAYBRIDGE_LEDGER_KEY") {
        Ok(hex) => Ok(ledger.with_seal_key(
            SealKey::from_hex(&hex)
                .map_err(|e| CliError::input(format!("PAYBRIDGE_LEDGER_KEY: {e}")))?,
        )),
        Err(_) => Ok(ledger),
    }
}

#[derive(Debug, Args)]
pub(crate) struct ReceiveArgs {
    /// Address to listen on (`host:port`; port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:0")]
    addr: String,
    #[command(flatten)]
    ledger: LedgerArg,
    /// How long a claimed payment change is held without renewal, in seconds (renewed while
    /// it is handled; a worker that lost it cannot complete it); also how long a forwarded
    /// delivery is one process's before another may take it over (a process that died).
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    lease: u64,
    /// Card gateways' partner key (enables the card route).
    #[arg(long, env = "PAYBRIDGE_CARD_PARTNER_KEY", hide_env_values = true, value_parser = secret)]
    card_partner_key: Option<SecretString>,
    /// Qvickly merchant id (callbacks for another id are refused).
    #[arg(long, env = "PAYBRIDGE_QVICKLY_ID")]
    qvickly_id: Option<String>,
    /// Hand test-mode Qvickly callbacks (`credentials.test`) to the ledger like live ones;
    /// without it they are acknowledged and never credited.
    #[arg(long, env = "PAYBRIDGE_QVICKLY_ACCEPT_TEST", value_parser = clap::builder::BoolishValueParser::new(), default_value = "false")]
    qvickly_accept_test: bool,
    /// Deliver every payment state change to this URL as a Standard Webhooks request (needs
    /// `PAYBRIDGE_FORWARD_SECRET`, `whsec_…`).
    /// (The URL may hold a token: `--help` never shows its value.)
    #[arg(long, env = "PAYBRIDGE_FORWARD_URL", hide_env_values = true)]
    forward: Option<String>,
    /// The Standard Webhooks secret deliveries are signed with (`whsec_…`; never printed).
    #[arg(long, env = "PAYBRIDGE_FORWARD_SECRET", hide_env_values = true, value_parser = secret)]
    forward_secret: Option<SecretString>,
    /// Serve Prometheus metrics at `GET http://ADDR/metrics` (`127.0.0.1:0` picks a port; the
    /// URL is printed with the routes, as `metrics`).
    #[arg(long)]
    metrics_addr: Option<String>,
    /// Qvickly secret (enables the Qvickly route).
    #[arg(long, env = "PAYBRIDGE_QVICKLY_SECRET", hide_env_values = true, value_parser = secret)]
    qvickly_secret: Option<SecretString>,
    /// Qvickly's Payment API (`https://api.qvickly.io/`): each callback's payment is asked with
    /// `getPaymentinfo` and its status and total are what is recorded (a callback carries no
    /// amount); needs `--qvickly-id`.
    #[arg(long, env = "PAYBRIDGE_QVICKLY_ENDPOINT")]
    qvickly_endpoint: Option<String>,
    /// Payoo checksum key (enables the Payoo route).
    #[arg(long, env = "PAYBRIDGE_PAYOO_CHECKSUM_KEY", hide_env_values = true, value_parser = secret)]
    payoo_checksum_key: Option<SecretString>,
    /// Linkifier key (enables the Linkifier route).
    #[arg(long, env = "PAYBRIDGE_LINKIFIER_KEY", hide_env_values = true, value_parser = secret)]
    linkifier_key: Option<SecretString>,
    /// The card gateway's endpoint: each card callback is confirmed with `check` before it is
    /// recorded (with `PAYBRIDGE_CARD_PARTNER_ID`). Required for the card route unless
    /// `--trust-unsigned-card-status`.
    #[arg(long, env = "PAYBRIDGE_CARD_ENDPOINT")]
    card_endpoint: Option<String>,
    /// Start the card route without confirming callbacks with the gateway: their status,
    /// amounts and request id are unsigned and believed as sent (logged as a warning).
    #[arg(long)]
    trust_unsigned_card_status: bool,
    /// Card gateways' partner id (for `--card-endpoint`).
    #[arg(long, env = "PAYBRIDGE_CARD_PARTNER_ID")]
    card_partner_id: Option<String>,
    /// Wooppay's service endpoint: enables the `requestUrl` route, each call confirmed with
    /// `cash_getOperationData` (credentials from `PAYBRIDGE_WOOPAY_USERNAME`/`_PASSWORD`).
    #[arg(long)]
    woopay_endpoint: Option<String>,
    /// Wooppay merchant login.
    #[arg(long, env = "PAYBRIDGE_WOOPAY_USERNAME")]
    woopay_username: Option<String>,
    /// Wooppay merchant password (never printed).
    #[arg(long, env = "PAYBRIDGE_WOOPAY_PASSWORD", hide_env_values = true, value_parser = secret)]
    woopay_password: Option<SecretString>,
    /// Do not run the reconciler beside the routes (run `paybridge reconcile` elsewhere).
    #[arg(long)]
    no_reconcile: bool,
}

/// The CLI's handler: recording is the whole job (the ledger records the outcome once the
/// handler returns); each new callback is logged.
pub(crate) struct Record;

#[async_trait::async_trait]
impl CallbackHandler for Record {
    async fn handle(&self, callback: &Callback) -> Result<(), HandlerError> {
        let change = &callback.change;
        tracing::info!(
            provider = callback.provider,
            key = callback.key.as_deref(),
            source = %change.source,
            change = %change.stable_id(),
            reference = %change.reference,
            from = change.previous_status.as_str(),
            to = change.status.as_str(),
            anomaly = change.anomaly.map(paybridge_ledger::Anomaly::as_str),
            "payment changed"
        );
        Ok(())
    }
}

/// The Qvickly route of `receive`: confirmed with the Payment API when it is configured.
fn qvickly_route(
    id: Option<&str>,
    endpoint: Option<&str>,
    accept_test: bool,
    key: &SecretString,
) -> Result<paybridge_qvickly::route::Route, CliError> {
    let verifier = paybridge_qvickly::CallbackVerifier::new(id.map(str::to_owned), key)
        .map_err(paybridge_core::Error::from)?;
    let route = match (endpoint, id) {
        (Some(endpoint), Some(id)) => paybridge_qvickly::route::Route::confirmed(
            verifier,
            paybridge_qvickly::PaymentApi::new(
                endpoint,
                id,
                key,
                paybridge_core::http::HttpTransport::with_defaults()?,
            )
            .map_err(paybridge_core::Error::from)?,
        ),
        (Some(_), None) => {
            return Err(CliError::input(
                "--qvickly-endpoint needs --qvickly-id (PAYBRIDGE_QVICKLY_ID)",
            ));
        }
        _ => paybridge_qvickly::route::Route::new(verifier),
    };
    Ok(route.accept_test(accept_test))
}

/// The forwarder of `receive --forward URL`: its target registered (from now on every state
/// change is queued for it, in the transaction that records it).
async fn forwarder(
    ledger: &Arc<Ledger>,
    url: Option<&str>,
    secret: Option<&SecretString>,
) -> Result<Option<paybridge_ledger::forward::Forwarder>, CliError> {
    match (url, secret) {
        (Some(url), Some(secret)) => {
            let secret = paybridge_core::webhooks::WebhookSecret::parse(secret)?;
            let sink = paybridge_ledger::forward::HttpSink::new(url, secret)?;
            ledger
                .register_forward_target(url)
                .await
                .map_err(paybridge_core::Error::from)?;
            Ok(Some(paybridge_ledger::forward::Forwarder::new(
                ledger.clone(),
                Arc::new(sink),
            )))
        }
        (Some(_), None) => Err(CliError::input(
            "--forward needs PAYBRIDGE_FORWARD_SECRET (whsec_…: the Standard Webhooks secret)",
        )),
        _ => Ok(None),
    }
}

/// The Wooppay route of `receive`: each `requestUrl` call confirmed with Wooppay.
fn woopay_route(
    endpoint: String,
    username: Option<String>,
    password: Option<SecretString>,
) -> Result<paybridge_woopay::route::Route, CliError> {
    let (Some(username), Some(password)) = (username, password) else {
        return Err(CliError::input(
            "--woopay-endpoint needs PAYBRIDGE_WOOPAY_USERNAME and PAYBRIDGE_WOOPAY_PASSWORD",
        ));
    };
    let client = paybridge_woopay::Client::new(
        paybridge_woopay::Config::new(endpoint, username, password),
        paybridge_core::http::HttpTransport::with_defaults()?,
    )
    .map_err(paybridge_core::Error::from)?;
    Ok(paybridge_woopay::route::Route::new(client))
}

/// Install the Prometheus recorder and serve `GET /metrics` on `addr` (the ledger's gauges
/// set at each scrape); the URL it listens on.
async fn serve_metrics(addr: &str, ledger: Arc<Ledger>) -> Result<String, CliError> {
    let handle = metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .map_err(|e| CliError::internal(format!("metrics recorder: {e}")))?;
    paybridge_ledger::metrics::describe();
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| CliError::input(format!("cannot listen on {addr}: {e}")))?;
    let local = listener
        .local_addr()
        .map_err(|e| CliError::internal(format!("no local address: {e}")))?;
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let (ledger, handle) = (ledger.clone(), handle.clone());
            async move {
                if let Err(e) = ledger.update_gauges().await {
                    tracing::warn!(error = %e, "metrics: the ledger's gauges could not be read");
                }
                (
                    [(
                        axum::http::header::CONTENT_TYPE,
                        "text/plain; version=0.0.4; charset=utf-8",
                    )],
                    handle.render(),
                )
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(format!("http://{local}/metrics"))
}

/// Serve every configured callback route; print the routes as one JSON line.
#[allow(
    clippy::too_many_lines,
    reason = "one route per provider, each a few lines of its own flags: a table, not logic"
)]
pub(crate) async fn receive(args: ReceiveArgs) -> Result<Outcome, CliError> {
    let ledger = Arc::new(args.ledger.open().await?);
    let mut receiver =
        Receiver::new(ledger.clone(), Arc::new(Record)).lease(Duration::from_secs(args.lease));
    let mut enabled = Vec::new();
    let forwarder = forwarder(
        &ledger,
        args.forward.as_deref(),
        args.forward_secret.as_ref(),
    )
    .await?
    .map(|f| f.lease(Duration::from_secs(args.lease)));
    let reconciler = if args.no_reconcile {
        None
    } else {
        crate::reconcile::beside_receive(
            &ledger,
            args.card_endpoint.clone(),
            args.woopay_endpoint.clone(),
        )?
    };
    if let Some(key) = args.card_partner_key {
        // `callback_sign` covers only the card: without `check`, the status, the amounts and
        // the request id of a callback are believed as sent.
        receiver = match (args.card_endpoint, args.trust_unsigned_card_status) {
            (Some(endpoint), _) => {
                let partner_id = args.card_partner_id.ok_or_else(|| {
                    CliError::input("--card-endpoint needs PAYBRIDGE_CARD_PARTNER_ID")
                })?;
                let client = paybridge_card_charging::Client::new(
                    paybridge_card_charging::Config::new(endpoint, partner_id, key),
                    paybridge_core::http::HttpTransport::with_defaults()?,
                )
                .map_err(paybridge_core::Error::from)?;
                receiver.mount(paybridge_card_charging::route::Route::confirmed(client))
            }
            (None, true) => {
                receiver.mount(paybridge_card_charging::route::Route::trusting_unsigned_status(key))
            }
            (None, false) => {
                return Err(CliError::input(
                    "card callbacks sign only the card (code and serial), not their status or amounts: give --card-endpoint URL (with PAYBRIDGE_CARD_PARTNER_ID) so each is confirmed with `check`, or start knowingly without confirmation with --trust-unsigned-card-status",
                ));
            }
        };
        enabled.push("card-charging");
    }
    if let Some(key) = &args.qvickly_secret {
        receiver = receiver.mount(qvickly_route(
            args.qvickly_id.as_deref(),
            args.qvickly_endpoint.as_deref(),
            args.qvickly_accept_test,
            key,
        )?);
        enabled.push("qvickly");
    }
    if let Some(key) = args.payoo_checksum_key {
        receiver = receiver.mount(paybridge_payoo::route::Route::new(key));
        enabled.push("payoo");
    }
    if let Some(key) = args.linkifier_key {
        receiver = receiver.mount(paybridge_linkifier_ipn::route::Route::new(
            paybridge_linkifier_ipn::CallbackVerifier::new(key),
        ));
        enabled.push("linkifier-ipn");
    }
    if let Some(endpoint) = args.woopay_endpoint {
        receiver = receiver.mount(woopay_route(
            endpoint,
            args.woopay_username,
            args.woopay_password,
        )?);
        enabled.push("woopay");
    }
    if enabled.is_empty() {
        return Err(CliError::input(
            "no provider credentials: set PAYBRIDGE_CARD_PARTNER_KEY, PAYBRIDGE_QVICKLY_SECRET, PAYBRIDGE_PAYOO_CHECKSUM_KEY or PAYBRIDGE_LINKIFIER_KEY",
        ));
    }
    let listener = tokio::net::TcpListener::bind(&args.addr)
        .await
        .map_err(|e| CliError::input(format!("cannot listen on {}: {e}", args.addr)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| CliError::internal(format!("no local address: {e}")))?;
    let mut routes: serde_json::Map<String, Value> = receiver
        .routes()
        .into_iter()
        .map(|(provider, path)| (provider.to_owned(), json!(format!("http://{addr}{path}"))))
        .collect();
    if let Some(metrics_addr) = &args.metrics_addr {
        let url = serve_metrics(metrics_addr, ledger.clone()).await?;
        routes.insert("metrics".into(), json!(url));
    }
    // Listening for SIGINT/SIGTERM before anyone learns the address.
    let signalled = stop_signal();
    crate::output::print_out(&format!("{}\n", Value::Object(routes)));
    eprintln!("paybridge receive listening on {addr} (Ctrl-C to stop)");
    serve_until_stopped(
        listener,
        receiver.router(),
        reconciler,
        forwarder,
        signalled,
    )
    .await?;
    Ok(Outcome::printed())
}

/// Serve `router`, and run `reconciler` beside it, until SIGINT or SIGTERM: the server stops
/// accepting and finishes the callbacks in hand, the reconciler finishes its sweep.
async fn serve_until_stopped(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    reconciler: Option<paybridge_ledger::Reconciler>,
    forwarder: Option<paybridge_ledger::forward::Forwarder>,
    signalled: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), CliError> {
    // One stop for both: the signal closes the channel.
    let (stop, stopped) = tokio::sync::watch::channel(());
    tokio::spawn(async move {
        signalled.await;
        drop(stop);
    });
    let until_stopped = |mut rx: tokio::sync::watch::Receiver<()>| async move {
        let _ = rx.changed().await;
    };
    let reconciling = reconciler.map(|reconciler| {
        eprintln!(
            "reconciling the pending payments of {}",
            reconciler.providers().join(", ")
        );
        let stopped = until_stopped(stopped.clone());
        tokio::spawn(async move { reconciler.run(stopped).await })
    });
    let forwarding = forwarder.map(|forwarder| {
        eprintln!("forwarding payment state changes as Standard Webhooks");
        let stopped = until_stopped(stopped.clone());
        tokio::spawn(async move { forwarder.run(Duration::from_secs(1), stopped).await })
    });
    // Hardened for the open internet (header/body deadlines, a connection cap, one callback
    // per connection), with the peer's address (Payoo's JSON notification is signed over
    // it); a stop stops accepting and lets the callbacks in hand finish.
    let served = paybridge_ledger::receive::serve(listener, router, until_stopped(stopped))
        .await
        .map_err(|e| CliError::internal(format!("server stopped: {e}")));
    if let Some(task) = reconciling {
        // It finishes the sweep in hand, then stops.
        let _ = task.await;
    }
    if let Some(task) = forwarding {
        // It finishes the delivery in hand; what is left stays queued for the next start.
        let _ = task.await;
    }
    served
}

/// `money` as a whole number of its currency's minor units (`1000` and `1000.00` KZT are both
/// `100000`, the ledger's own [`paybridge_ledger::minor_units`]): how a default refund id names
/// its amount, so that an amount spelled two ways is one refund — recognised as a repeat, never
/// sent twice. An amount finer than the currency (which the ledger refuses to refund) keeps its
/// decimal spelling.
pub(crate) fn minor_units_text(money: paybridge_core::Money) -> String {
    paybridge_ledger::minor_units(money).map_or_else(|_| money.amount_string(), |n| n.to_string())
}

/// A refund made (or recognised) through the ledger, as the refund commands print it.
pub(crate) struct RecordedRefund {
    pub amount: paybridge_core::Money,
    pub status: paybridge_core::RefundStatus,
    pub provider_refund_id: Option<String>,
    /// The refund id was seen before: nothing was sent.
    pub repeat: bool,
    /// The payment's status afterwards (`partially_refunded`, `reversed`, …).
    pub payment_status: Option<&'static str>,
}

/// Refund `payment` through `provider` with the ledger's `Ledger::refund` (the sum rule and the
/// refund id checked before anything is sent), and read the payment's status afterwards.
pub(crate) async fn refund_through(
    ledger: &Ledger,
    provider: &dyn paybridge_core::PaymentProvider,
    payment: &paybridge_core::PaymentRef,
    request: paybridge_core::RefundRequest,
) -> Result<RecordedRefund, CliError> {
    let (amount, status, provider_refund_id, repeat) = match ledger
        .refund(provider, payment, request)
        .await?
    {
        paybridge_ledger::Refunded::Done { refund, .. } => (
            refund.amount,
            refund.status,
            refund.provider_refund_id,
            false,
        ),
        paybridge_ledger::Refunded::Repeat(r) => (r.amount, r.status, r.provider_refund_id, true),
        other => {
            return Err(CliError::internal(format!(
                "unexpected refund answer {other:?}"
            )));
        }
    };
    let row = ledger
        .payment(provider.id(), &payment.reference)
        .await
        .map_err(paybridge_core::Error::from)?;
    Ok(RecordedRefund {
        amount,
        status,
        provider_refund_id,
        repeat,
        payment_status: row.map(|r| r.payment.status.as_str()),
    })
}

/// Record `payment` before it is sent; a reference the ledger already holds for its provider
/// is refused (exit 2: `what` names the reference, e.g. "a request id is used once").
pub(crate) async fn record_first(
    ledger: &Ledger,
    payment: &paybridge_ledger::NewPayment,
    what: &str,
) -> Result<(), CliError> {
    let new = ledger
        .record_payment(payment)
        .await
        .map_err(paybridge_core::Error::from)?;
    if new {
        Ok(())
    } else {
        Err(CliError::input(format!(
            "the ledger already holds {} payment {:?}: {what}",
            payment.provider, payment.reference
        )))
    }
}

/// The result of sending a payment request recorded first in `ledger` (if any): when its
/// outcome is unknown, the payment's first check is made due at once, and the message says
/// that the reconciler (`paybridge reconcile`, or `receive`) will find out and record it.
pub(crate) async fn sent<T>(
    ledger: Option<&Ledger>,
    provider: &str,
    reference: &str,
    result: Result<T, paybridge_core::Error>,
) -> Result<T, CliError> {
    let e = match result {
        Ok(value) => return Ok(value),
        Err(e) => e,
    };
    let unknown = e.outcome_unknown();
    let mut error = CliError::from(e);
    if unknown && let Some(ledger) = ledger {
        match ledger.check_now(provider, reference).await {
            Ok(_) => error.message.push_str(
                " — recorded as pending in the ledger: `paybridge reconcile` (or `paybridge receive`) asks the provider now and records what it did",
            ),
            Err(le) => tracing::error!(error = %le, "the ledger could not be told the outcome is unknown"),
        }
    }
    Err(error)
}

/// A page's error: a foreign cursor is the user's input.
fn page_error(e: paybridge_ledger::LedgerError) -> CliError {
    match e {
        e @ paybridge_ledger::LedgerError::Cursor(_) => CliError::input(e.to_string()),
        e => paybridge_core::Error::from(e).into(),
    }
}

/// One payment as `ledger payments` and `ledger review` print it.
fn payment_json(p: &paybridge_ledger::PaymentRow) -> Value {
    json!({
        "provider": p.payment.provider,
        "reference": p.payment.reference,
        "provider_reference": p.payment.provider_reference,
        "status": p.payment.status.as_str(),
        "amount": p.payment.amount.amount_string(),
        "currency": p.payment.amount.currency().code(),
        "paid_amount": p.paid_amount.map(|m| m.amount_string()),
        "refunded_amount": p.refunded_amount.map(|m| m.amount_string()),
        "anomaly": p.anomaly.map(paybridge_ledger::Anomaly::as_str),
        "next_check_at": p.next_check_at.map(paybridge_ledger::format_time),
        "checks": p.checks,
        "last_check_error": p.last_check_error,
        "created_at": paybridge_ledger::format_time(p.created_at),
        "updated_at": paybridge_ledger::format_time(p.updated_at),
    })
}

/// `ledger review`: the payments under review, each with its events.
async fn review(a: ReviewArgs) -> Result<Outcome, CliError> {
    let ledger = a.ledger.open_existing().await?;
    let page = ledger
        .payments_page(
            None,
            Some(paybridge_core::PaymentStatus::NeedsReview),
            a.limit,
            a.after.as_deref(),
        )
        .await
        .map_err(page_error)?;
    let mut payments = Vec::with_capacity(page.payments.len());
    for p in &page.payments {
        let events = ledger
            .events(&p.payment.provider, &p.payment.reference)
            .await
            .map_err(paybridge_core::Error::from)?;
        let mut row = payment_json(p);
        if let Some(map) = row.as_object_mut() {
            map.insert(
                "events".into(),
                events
                    .iter()
                    .map(|e| {
                        json!({
                            "status": e.status.as_str(),
                            "provider_status": e.provider_status,
                            "source": e.source,
                            "applied": e.applied,
                            "anomaly": e.anomaly.map(paybridge_ledger::Anomaly::as_str),
                            "at": paybridge_ledger::format_time(e.at),
                        })
                    })
                    .collect(),
            );
        }
        payments.push(row);
    }
    Ok(Outcome::ok(
        json!({ "payments": payments, "next": page.next }),
    ))
}

/// `ledger refunds [--resolve]`.
async fn refunds(a: RefundsArgs) -> Result<Outcome, CliError> {
    let ledger = std::sync::Arc::new(a.ledger.open_existing().await?);
    let unknown_after = Duration::from_secs(a.pending_for);
    let mut resolved = serde_json::Map::new();
    if a.resolve {
        let providers = crate::reconcile::StatusEndpoints::from_env().providers(&ledger)?;
        for provider in providers {
            let r = ledger
                .resolve_refunds(provider.as_ref(), unknown_after)
                .await
                .map_err(paybridge_core::Error::from)?;
            resolved.insert(
                provider.id().to_owned(),
                json!({"asked": r.asked, "succeeded": r.succeeded, "failed": r.failed, "unknown": r.unknown}),
            );
        }
    }
    let mut pending = Vec::new();
    for provider in crate::providers::PROVIDER_NAMES {
        for p in ledger
            .pending_refunds(provider, unknown_after)
            .await
            .map_err(paybridge_core::Error::from)?
        {
            pending.push(json!({
                "provider": p.refund.provider,
                "reference": p.refund.reference,
                "refund_id": p.refund.refund_id,
                "amount": p.refund.amount.amount_string(),
                "currency": p.refund.amount.currency().code(),
                "status": p.refund.status.as_str(),
                "created_at": paybridge_ledger::format_time(p.refund.created_at),
            }));
        }
    }
    let mut out = json!({ "pending": pending });
    if a.resolve {
        crate::output::set_field(&mut out, "resolved", Value::Object(resolved));
    }
    Ok(Outcome::ok(out))
}

/// `ledger show`: one payment and its timeline.
async fn show(a: ShowArgs) -> Result<Outcome, CliError> {
    let ledger = a.ledger.open_existing().await?;
    let Some(timeline) = ledger
        .timeline(&a.provider, &a.reference)
        .await
        .map_err(paybridge_core::Error::from)?
    else {
        let message = format!(
            "the ledger holds no {} payment {:?}",
            a.provider, a.reference
        );
        return Ok(Outcome {
            value: Some(json!({"error": {"kind": "input", "code": null, "message": message}})),
            human: Some(message),
            exit: 1,
        });
    };
    let (entries, lines): (Vec<Value>, Vec<String>) =
        timeline.entries.iter().map(timeline_entry).unzip();
    let p = &timeline.payment;
    let head = format!(
        "{} {}: {} {} {}{}",
        p.payment.provider,
        p.payment.reference,
        p.payment.status.as_str(),
        p.payment.amount.amount_string(),
        p.payment.amount.currency().code(),
        p.anomaly.map(|a| format!(" ({a})")).unwrap_or_default()
    );
    Ok(Outcome {
        value: Some(json!({ "payment": payment_json(p), "timeline": entries })),
        human: Some(format!(
            "{}\n{}\n",
            crate::output::terminal_safe(&head),
            lines.join("\n")
        )),
        exit: 0,
    })
}

/// One timeline entry as `ledger show` prints it: its JSON object and its readable line.
fn timeline_entry(e: &paybridge_ledger::timeline::Entry) -> (Value, String) {
    use paybridge_ledger::timeline::Entry;
    let money = |m: Option<paybridge_core::Money>| m.map(|m| m.amount_string());
    let anomaly = |a: Option<paybridge_ledger::Anomaly>| a.map(paybridge_ledger::Anomaly::as_str);
    let at = paybridge_ledger::format_time(e.at());
    let (value, line) = match e {
        Entry::Recorded { amount, .. } => (
            json!({"at": at, "kind": "recorded", "amount": money(*amount)}),
            format!("recorded {}", money(*amount).unwrap_or_default()),
        ),
        Entry::Report {
            source,
            status,
            provider_status,
            amount,
            anomaly: a,
            applied,
            deliveries,
            ..
        } => (
            json!({"at": at, "kind": "report", "source": source, "status": status.as_str(),
                "provider_status": provider_status, "amount": money(*amount),
                "anomaly": anomaly(*a), "applied": applied, "deliveries": deliveries}),
            format!(
                "report {source} {} ({provider_status}){}{}{}",
                status.as_str(),
                money(*amount)
                    .map(|m| format!(" paid {m}"))
                    .unwrap_or_default(),
                anomaly(*a)
                    .map(|a| format!(" anomaly {a}"))
                    .unwrap_or_default(),
                deliveries.map(|d| format!(" ×{d}")).unwrap_or_default(),
            ),
        ),
        Entry::Change {
            from,
            to,
            anomaly: a,
            webhook_id,
            ..
        } => (
            json!({"at": at, "kind": "change", "from": from.as_str(), "to": to.as_str(),
                "anomaly": anomaly(*a), "webhook_id": webhook_id}),
            format!(
                "change {} → {}{} {webhook_id}",
                from.as_str(),
                to.as_str(),
                anomaly(*a).map(|a| format!(" ({a})")).unwrap_or_default()
            ),
        ),
        Entry::Refund {
            id, amount, status, ..
        } => (
            json!({"at": at, "kind": "refund", "id": id, "amount": amount.amount_string(),
                "status": status.as_str()}),
            format!("refund {id} {} {}", amount.amount_string(), status.as_str()),
        ),
        Entry::Delivery(d) => (
            json!({"at": at, "kind": "delivery", "webhook_id": d.webhook_id,
                "target": paybridge_core::http::redacted_url(&d.target),
                "attempt": d.attempt, "http_status": d.http_status, "error": d.error}),
            format!(
                "delivery {} to {} attempt {} {}",
                d.webhook_id,
                paybridge_core::http::redacted_url(&d.target),
                d.attempt,
                d.error.as_deref().unwrap_or("delivered")
            ),
        ),
        _ => (json!({"at": at, "kind": "other"}), "other".to_owned()),
    };
    let line = crate::output::terminal_safe(&format!("{at}  {line}"));
    (value, line)
}

/// SIGINT (Ctrl-C) or, on Unix, SIGTERM. The handlers are installed when this is called, not
/// when the future is first polled: a signal sent right after a server printed its address
/// is not lost.
pub(crate) fn stop_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let term = signal(SignalKind::terminate()).ok();
        let int = signal(SignalKind::interrupt()).ok();
        async move {
            let wait = |s: Option<tokio::signal::unix::Signal>| async move {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = wait(term) => {}
                () = wait(int) => {}
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// `paybridge ledger …`.
#[derive(Debug, Subcommand)]
pub(crate) enum LedgerCommand {
    /// Callbacks received: one event per natural key, with its delivery count.
    Events(EventsArgs),
    /// Payments recorded by `--ledger` on the payment commands.
    Payments(PaymentsArgs),
    /// The payments whose status is `needs_review`, with their anomaly and events.
    Review(ReviewArgs),
    /// Remove completed callbacks older than each provider's retry horizon (plus 7 days).
    Purge(LedgerArg),
    /// Deliveries of state changes not delivered yet (queued, or failed with `--failed`).
    Outbox(OutboxArgs),
    /// Queue one delivery again (a failed one, or one the merchant lost).
    Redeliver(RedeliverArgs),
    /// One payment's whole story, in time order: recorded, reports, changes (with their
    /// webhook ids), refunds, delivery attempts.
    Show(ShowArgs),
    /// Refunds whose outcome is unknown (pending a minute or more, their amount reserved);
    /// with `--resolve`, the providers are asked and what they say recorded.
    Refunds(RefundsArgs),
    /// Create the ledger if it is missing and bring its schema to this build's.
    Migrate(LedgerArg),
}

#[derive(Debug, Args)]
pub(crate) struct RefundsArgs {
    #[command(flatten)]
    ledger: LedgerArg,
    /// Ask each provider whose endpoint the environment names (as `reconcile` does) where its
    /// pending refunds stand, and record the answers: Payoo's resent under the same `RefundId`
    /// (harmless), Wooppay's read back; one the provider cannot tell about stays pending.
    #[arg(long)]
    resolve: bool,
    /// A refund counts as its outcome unknown once pending this many seconds (a refund being
    /// sent now is never asked about).
    #[arg(long, default_value_t = paybridge_ledger::refunds::UNKNOWN_AFTER.as_secs())]
    pending_for: u64,
}

#[derive(Debug, Args)]
pub(crate) struct ShowArgs {
    #[command(flatten)]
    ledger: LedgerArg,
    /// The payment's provider (`card-charging`, `woopay`, `payoo`, `qvickly`, `linkifier-ipn`).
    #[arg(long)]
    provider: String,
    /// The payment's merchant reference.
    #[arg(long)]
    reference: String,
}

#[derive(Debug, Args)]
pub(crate) struct OutboxArgs {
    #[command(flatten)]
    ledger: LedgerArg,
    /// Only those that gave up.
    #[arg(long)]
    failed: bool,
}

#[derive(Debug, Args)]
pub(crate) struct RedeliverArgs {
    #[command(flatten)]
    ledger: LedgerArg,
    /// The delivery's event id (its `webhook-id`, `msg_…`).
    #[arg(long)]
    event: String,
}

#[derive(Debug, Args)]
pub(crate) struct EventsArgs {
    #[command(flatten)]
    ledger: LedgerArg,
    /// Only this provider's.
    #[arg(long)]
    provider: Option<String>,
    /// Only this merchant reference's.
    #[arg(long)]
    reference: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct PaymentsArgs {
    #[command(flatten)]
    ledger: LedgerArg,
    /// Only this provider's.
    #[arg(long)]
    provider: Option<String>,
    /// Only payments in this status (`pending`, `succeeded`, `needs_review`, …).
    #[arg(long, value_parser = parse_status)]
    status: Option<paybridge_core::PaymentStatus>,
    /// At most this many a page (1 to 10 000).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    limit: u32,
    /// The page after this cursor (the `next` of the page before).
    #[arg(long)]
    after: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct ReviewArgs {
    #[command(flatten)]
    ledger: LedgerArg,
    /// At most this many payments (1 to 10 000).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    limit: u32,
    /// The page after this cursor.
    #[arg(long)]
    after: Option<String>,
}

fn parse_status(word: &str) -> Result<paybridge_core::PaymentStatus, String> {
    paybridge_core::PaymentStatus::parse(word).ok_or_else(|| {
        format!("{word:?} is not a status: pending, succeeded, failed, cancelled, reversed, needs_review")
    })
}

/// How long a provider may deliver a callback again, by provider id.
fn retry_horizon(provider: &str) -> Duration {
    let horizon = match provider {
        "qvickly" => paybridge_qvickly::notification::RETRY_HORIZON,
        "payoo" => paybridge_payoo::notification::RETRY_HORIZON,
        "linkifier-ipn" => paybridge_linkifier_ipn::record::RETRY_HORIZON,
        _ => paybridge_card_charging::notification::RETRY_HORIZON,
    };
    horizon + Duration::from_hours(7 * 24)
}

pub(crate) async fn run(command: LedgerCommand) -> Result<Outcome, CliError> {
    match command {
        LedgerCommand::Events(a) => {
            let ledger = a.ledger.open_existing().await?;
            let records = ledger
                .callbacks(a.provider.as_deref(), a.reference.as_deref())
                .await
                .map_err(paybridge_core::Error::from)?;
            let events: Vec<Value> = records
                .iter()
                .map(|r| {
                    let outcome = r.outcome.as_ref();
                    json!({
                        "provider": r.provider,
                        "key": r.key,
                        "reference": outcome.map(|o| o.reference.clone()),
                        "status": outcome.map(|o| o.status.as_str()),
                        "provider_status": outcome.map(|o| o.provider_status.clone()),
                        "amount": outcome.and_then(|o| o.amount).map(|m| m.amount_string()),
                        "anomaly": r.anomaly.map(paybridge_ledger::Anomaly::as_str),
                        "source": r.source.as_deref().unwrap_or("callback"),
                        "deliveries": r.deliveries,
                        "first_received_at": paybridge_ledger::format_time(r.first_received_at),
                        "last_received_at": paybridge_ledger::format_time(r.last_received_at),
                    })
                })
                .collect();
            Ok(Outcome::ok(json!({ "events": events })))
        }
        LedgerCommand::Payments(a) => {
            let ledger = a.ledger.open_existing().await?;
            // One page: memory does not grow with the ledger.
            let page = ledger
                .payments_page(a.provider.as_deref(), a.status, a.limit, a.after.as_deref())
                .await
                .map_err(page_error)?;
            let payments: Vec<Value> = page.payments.iter().map(payment_json).collect();
            Ok(Outcome::ok(
                json!({ "payments": payments, "next": page.next }),
            ))
        }
        LedgerCommand::Review(a) => review(a).await,
        LedgerCommand::Outbox(a) => {
            let ledger = a.ledger.open_existing().await?;
            let entries = ledger
                .outbox(a.failed)
                .await
                .map_err(paybridge_core::Error::from)?;
            let deliveries: Vec<Value> = entries
                .iter()
                .map(|e| {
                    json!({
                        "event": e.change.webhook_id,
                        "target": paybridge_core::http::redacted_url(&e.target),
                        "provider": e.change.provider,
                        "reference": e.change.reference,
                        "status": e.change.status.as_str(),
                        "state": e.state,
                        "attempts": e.attempts,
                        "next_attempt_at": (e.state == "pending").then(|| paybridge_ledger::format_time(e.next_attempt_at)),
                        "last_error": e.last_error,
                    })
                })
                .collect();
            Ok(Outcome::ok(json!({ "deliveries": deliveries })))
        }
        LedgerCommand::Redeliver(a) => {
            let ledger = a.ledger.open_existing().await?;
            if !ledger
                .redeliver(&a.event)
                .await
                .map_err(paybridge_core::Error::from)?
            {
                return Err(CliError::input(format!(
                    "no event {:?} in the ledger (its webhook-id, msg_…)",
                    a.event
                )));
            }
            Ok(Outcome::ok(json!({ "event": a.event, "queued": true })))
        }
        LedgerCommand::Show(a) => show(a).await,
        LedgerCommand::Refunds(a) => refunds(a).await,
        LedgerCommand::Migrate(a) => {
            a.open().await?;
            Ok(Outcome::ok(json!({
                "ledger": paybridge_core::http::redacted_url(&a.ledger),
                "migrated": true
            })))
        }
        LedgerCommand::Purge(a) => {
            let ledger = a.open_existing().await?;
            let purged = ledger
                .purge(retry_horizon)
                .await
                .map_err(paybridge_core::Error::from)?;
            Ok(Outcome::ok(json!({ "purged": purged })))
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_default_refund_id_names_the_amount_in_minor_units() {
        let kzt = |s: &str| paybridge_core::Money::parse(s, paybridge_core::Currency::KZT).unwrap();
        assert_eq!(super::minor_units_text(kzt("1000")), "100000");
        assert_eq!(super::minor_units_text(kzt("1000.00")), "100000");
        assert_eq!(super::minor_units_text(kzt("1000.5")), "100050");
    }
}
