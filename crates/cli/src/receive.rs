//! `paybridge receive`: every configured provider's callback route over a ledger, the
//! forwarder and the reconciler beside it, metrics.

use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use paybridge_ledger::Ledger;
use paybridge_ledger::receive::Receiver;
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::output::{CliError, Outcome};
use crate::providers::secret;
use crate::store::{LedgerArg, Record, stop_signal};

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
    #[arg(long, env = "PAYBRIDGE_WOOPAY_ENDPOINT")]
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

impl ReceiveArgs {
    /// What a flag of this command says of the setting `name` (the variable that names it,
    /// or the flag itself for a switch no variable sets): the providers' routes and the
    /// reconciler read their settings through this.
    fn setting(&self, name: &str) -> Option<String> {
        let secret = |s: &Option<SecretString>| {
            s.as_ref()
                .map(|s| secrecy::ExposeSecret::expose_secret(s).to_owned())
        };
        match name {
            "PAYBRIDGE_CARD_PARTNER_KEY" => secret(&self.card_partner_key),
            "PAYBRIDGE_CARD_PARTNER_ID" => self.card_partner_id.clone(),
            "PAYBRIDGE_CARD_ENDPOINT" => self.card_endpoint.clone(),
            "--trust-unsigned-card-status" => self.trust_unsigned_card_status.then(|| "1".into()),
            "PAYBRIDGE_QVICKLY_ID" => self.qvickly_id.clone(),
            "PAYBRIDGE_QVICKLY_SECRET" => secret(&self.qvickly_secret),
            "PAYBRIDGE_QVICKLY_ENDPOINT" => self.qvickly_endpoint.clone(),
            "PAYBRIDGE_QVICKLY_ACCEPT_TEST" => self.qvickly_accept_test.then(|| "1".into()),
            "PAYBRIDGE_PAYOO_CHECKSUM_KEY" => secret(&self.payoo_checksum_key),
            "PAYBRIDGE_LINKIFIER_KEY" => secret(&self.linkifier_key),
            "PAYBRIDGE_WOOPAY_ENDPOINT" => self.woopay_endpoint.clone(),
            "PAYBRIDGE_WOOPAY_USERNAME" => self.woopay_username.clone(),
            "PAYBRIDGE_WOOPAY_PASSWORD" => secret(&self.woopay_password),
            _ => None,
        }
    }
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
    let args = Arc::new(args);
    let ledger = Arc::new(args.ledger.open().await?);
    let mut receiver = Receiver::transactional(ledger.clone(), Arc::new(Record))
        .lease(Duration::from_secs(args.lease));
    let forwarder = forwarder(
        &ledger,
        args.forward.as_deref(),
        args.forward_secret.as_ref(),
    )
    .await?
    .map(|f| f.lease(Duration::from_secs(args.lease)));
    // Every setting by the variable that names it: this command's flags (clap read the
    // environment into most of them), the environment for the rest.
    let process: crate::merchant_settings::Lookup = {
        let args = args.clone();
        Arc::new(move |name: &str| args.setting(name).or_else(|| crate::settings::env(name)))
    };
    let lookup = |name: &str| process(name);
    let settings = crate::settings::Settings::new(&lookup);
    // A platform's merchants: `/m/{id}/…` for each, registered now or later.
    receiver = receiver.merchants(Arc::new(crate::platform::Routes::new(process.clone())));
    let merchants = receiver.merchant_routes().await?;
    let platform = !merchants.is_empty();
    let reconciler = if args.no_reconcile {
        None
    } else {
        crate::merchant_settings::default_merchants(
            crate::reconcile::beside_receive(&ledger, &settings),
            platform,
        )?
    };
    let routes = crate::providers::receive_routes(&settings)?;
    for route in routes {
        receiver = receiver.mount_shared(route);
    }
    if receiver.routes().is_empty() && !platform {
        return Err(CliError::input(
            "no provider credentials: set PAYBRIDGE_CARD_PARTNER_KEY, PAYBRIDGE_QVICKLY_SECRET, PAYBRIDGE_PAYOO_CHECKSUM_KEY or PAYBRIDGE_LINKIFIER_KEY (or give --woopay-endpoint), or register a merchant (paybridge merchants add)",
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
    // Every registered merchant, `{}` for one whose settings make no route (logged).
    let by_merchant: serde_json::Map<String, Value> = merchants
        .into_iter()
        .map(|(id, paths)| {
            let urls: serde_json::Map<String, Value> = paths
                .into_iter()
                .map(|(provider, path)| {
                    (provider.to_owned(), json!(format!("http://{addr}{path}")))
                })
                .collect();
            (id, Value::Object(urls))
        })
        .collect();
    routes.insert("merchants".into(), Value::Object(by_merchant));
    // Listening for SIGINT/SIGTERM before anyone learns the address.
    let signalled = stop_signal();
    crate::output::print_out(&format!("{}\n", Value::Object(routes)));
    eprintln!("paybridge receive listening on {addr} (Ctrl-C to stop)");
    serve_until_stopped(
        listener,
        receiver.router(),
        reconciler,
        forwarder,
        (
            !args.no_reconcile,
            ledger,
            process,
            Duration::from_secs(args.lease),
        ),
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
    (reconcile, ledger, process, lease): (
        bool,
        Arc<Ledger>,
        crate::merchant_settings::Lookup,
        Duration,
    ),
    signalled: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), CliError> {
    // One stop for every task: the signal closes the channel.
    let stopped = crate::store::stop_on(signalled);
    let until_stopped = crate::store::stopped;
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
    // Each merchant's forwarder and reconciler, for the merchants registered now and later.
    let platform = tokio::spawn(crate::platform::run_merchants(
        crate::platform::MerchantTasks {
            ledger,
            process,
            lease,
            reconcile,
        },
        stopped.clone(),
    ));
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
    let _ = platform.await;
    served
}
