//! `paybridge dev`: the whole loop on one machine, in one process — the sandbox, the merchant's
//! receiver over a ledger (card callbacks delivered to it and confirmed against the sandbox),
//! and, with `--forward`, the forwarder to the merchant's endpoint — with a live log on stderr,
//! one line per event in and out, like `stripe listen`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use clap::Args;
use paybridge_ledger::forward::{Delivery, Forwarder, HttpSink, Sink};
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::json;

use crate::output::{CliError, Outcome};

/// `paybridge dev`.
#[derive(Debug, Args)]
pub(crate) struct DevArgs {
    /// Address to listen on, `host:port` (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0", value_parser = crate::sandbox::socket_addr)]
    addr: SocketAddr,
    /// The ledger (`sqlite://FILE`, `postgres://…`); default a SQLite file in a temporary
    /// directory, printed.
    #[arg(long, env = "PAYBRIDGE_LEDGER", hide_env_values = true)]
    ledger: Option<String>,
    /// Deliver every payment state change to this URL as a Standard Webhooks request; the
    /// secret is `PAYBRIDGE_FORWARD_SECRET`, or a fresh one printed once.
    #[arg(long)]
    forward: Option<String>,
    /// The forward secret (`whsec_…`; never printed when given).
    #[arg(long, env = "PAYBRIDGE_FORWARD_SECRET", hide_env_values = true, value_parser = crate::providers::secret)]
    forward_secret: Option<SecretString>,
}

/// The live log of state changes: every change the ledger records, whoever recorded it —
/// dev's receiver, a payment command's own answer (`charge --ledger`), the reconciler, a
/// refund — read from the ledger in the order recorded, one line each. When `stop` says so, a
/// last read prints what came since (a change recorded just before Ctrl-C is still told).
async fn log_changes(
    ledger: Arc<paybridge_ledger::Ledger>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut last = match ledger.last_change_id().await {
        Ok(id) => id,
        Err(e) => {
            eprintln!("    (no live log of changes: {e})");
            return;
        }
    };
    loop {
        print_changes(&ledger, &mut last).await;
        tokio::select! {
            _ = stop.changed() => {
                print_changes(&ledger, &mut last).await;
                return;
            }
            () = tokio::time::sleep(Duration::from_millis(150)) => {}
        }
    }
}

/// Print the changes recorded after `last`, moving it on.
async fn print_changes(ledger: &paybridge_ledger::Ledger, last: &mut i64) {
    match ledger.changes_after(*last, 100).await {
        Ok(changes) => {
            for c in &changes {
                *last = (*last).max(c.id);
                eprintln!(
                    "    change {} {} {} → {}{} {} ({})",
                    c.provider,
                    crate::output::terminal_safe(&c.reference),
                    c.previous_status.as_str(),
                    c.status.as_str(),
                    c.anomaly.map(|a| format!(" ({a})")).unwrap_or_default(),
                    c.webhook_id,
                    c.source
                );
            }
        }
        Err(e) => tracing::warn!(error = %e, "the live log could not read the ledger"),
    }
}

/// The forwarder's sink, logging each delivery and the merchant's answer.
struct LoggedSink {
    inner: HttpSink,
    shown: String,
}

#[async_trait::async_trait]
impl Sink for LoggedSink {
    async fn deliver(&self, d: &Delivery) -> Result<(), String> {
        let result = self.inner.deliver(d).await;
        eprintln!(
            "==> POST {} {} {} [{}]",
            self.shown,
            d.id,
            d.change.reference,
            match &result {
                Ok(()) => "2xx".to_owned(),
                Err(e) => crate::output::terminal_safe(e),
            }
        );
        result
    }

    fn target(&self) -> Option<&str> {
        self.inner.target()
    }
}

/// Each request to the receiver (`/receive/…`), logged in and out.
fn request_log(router: Router) -> Router {
    router.layer(axum::middleware::from_fn(
        |req: axum::extract::Request, next: axum::middleware::Next| async move {
            let path = req.uri().path().to_owned();
            let received = path.strip_prefix("/receive/").map(str::to_owned);
            if let Some(route) = &received {
                eprintln!("--> {} {route}", req.method());
            }
            let answer = next.run(req).await;
            if received.is_some() {
                eprintln!("<-- {}", answer.status().as_u16());
            }
            answer
        },
    ))
}

/// Serve until interrupted, after printing what is where as one JSON line.
pub(crate) async fn run(args: DevArgs) -> Result<Outcome, CliError> {
    let temp = std::env::temp_dir().join(format!("paybridge-dev-{}", std::process::id()));
    let ledger_url = if let Some(url) = &args.ledger {
        url.clone()
    } else {
        std::fs::create_dir_all(&temp)
            .map_err(|e| CliError::internal(format!("cannot create {}: {e}", temp.display())))?;
        format!("sqlite://{}", temp.join("ledger.db").display())
    };
    let ledger = Arc::new(crate::store::open(&ledger_url).await?);
    let (forwarder, forward_secret) = forwarder(&args, &ledger).await?;
    let sandbox = crate::sandbox::start_with(
        args.addr,
        None,
        Some(ledger.clone()),
        crate::sandbox::Wiring {
            card_callbacks_to_receiver: true,
            layer: Some(request_log),
        },
    )
    .await?;
    let base = format!("http://{}", sandbox.addr);
    let endpoints = sandbox.endpoints_json();
    let receive = sandbox.receive_json();
    let reconciler = reconciler(&sandbox, &ledger)?;
    let reconciling = tokio::spawn(async move {
        reconciler.run(std::future::pending::<()>()).await;
    });
    let (stop_logging, logging_stopped) = tokio::sync::watch::channel(false);
    let logging = tokio::spawn(log_changes(ledger.clone(), logging_stopped));
    let interrupted = crate::sandbox::interrupt()?;
    let forwarding = forwarder.map(|f| {
        tokio::spawn(async move {
            f.run(Duration::from_millis(250), std::future::pending::<()>())
                .await;
        })
    });
    let mut line = json!({
        "sandbox": endpoints,
        "receive": receive,
        "ledger": paybridge_core::http::redacted_url(&ledger_url),
        "forward": args.forward.as_deref().map(paybridge_core::http::redacted_url),
        "dev": base,
    });
    // Where `paybridge trigger` finds the last dev started (never with a secret in it).
    let found = last_dev_file();
    // A ledger URL with a password in it is not written down: trigger then needs --ledger.
    let shareable = paybridge_core::http::redacted_url(&ledger_url) == ledger_url
        || ledger_url.starts_with("sqlite:");
    let written = json!({"dev": base, "ledger": shareable.then_some(&ledger_url)});
    if let Err(e) = std::fs::write(&found, written.to_string()) {
        tracing::warn!(file = %found.display(), error = %e, "trigger will need --dev");
    }
    crate::output::set_field(&mut line, "forward_secret", json!(forward_secret));
    crate::output::print_out(&format!("{line}\n"));
    eprintln!("paybridge dev listening on {base} (Ctrl-C to stop)");
    interrupted.await;
    if let Some(task) = forwarding {
        task.abort();
    }
    reconciling.abort();
    sandbox.task.abort();
    // Nothing records changes any more: the live log tells the last of them, then stops.
    let _ = stop_logging.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(2), logging).await;
    if args.ledger.is_none() {
        let _ = std::fs::remove_dir_all(&temp);
    }
    let _ = std::fs::remove_file(&found);
    Ok(Outcome::printed())
}

/// The forwarder of `--forward`, and the fresh secret to print when none was given.
async fn forwarder(
    args: &DevArgs,
    ledger: &Arc<paybridge_ledger::Ledger>,
) -> Result<(Option<Forwarder>, Option<String>), CliError> {
    let Some(url) = &args.forward else {
        return Ok((None, None));
    };
    let mut fresh_secret = None;
    let secret = if let Some(given) = &args.forward_secret {
        given.clone()
    } else {
        let fresh = paybridge_core::webhooks::WebhookSecret::generate()?;
        // The one time a secret is printed: the developer's merchant needs it.
        fresh_secret = Some(fresh.expose_secret().to_owned());
        fresh
    };
    let sink = LoggedSink {
        inner: HttpSink::new(
            url.as_str(),
            paybridge_core::webhooks::WebhookSecret::parse(&secret)?,
        )?,
        shown: paybridge_core::http::redacted_url(url),
    };
    ledger
        .register_forward_target(url)
        .await
        .map_err(paybridge_core::Error::from)?;
    Ok((
        Some(Forwarder::new(ledger.clone(), Arc::new(sink))),
        fresh_secret,
    ))
}

/// The reconciler of `dev`, asking the sandbox with the sandbox's credentials: a payment
/// whose callback never comes is still settled (a card only when charged with
/// `PAYBRIDGE_LEDGER_KEY` set: its `check` needs the card).
fn reconciler(
    sandbox: &crate::sandbox::RunningSandbox,
    ledger: &Arc<paybridge_ledger::Ledger>,
) -> Result<paybridge_ledger::Reconciler, CliError> {
    // The sandbox's endpoints and public credentials, by the names production gives them.
    let lookup = |name: &str| {
        let endpoint = match name {
            "PAYBRIDGE_CARD_ENDPOINT" => "card-charging",
            "PAYBRIDGE_WOOPAY_ENDPOINT" => "woopay",
            "PAYBRIDGE_PAYOO_REST_ENDPOINT" => "payoo-rest",
            "PAYBRIDGE_QVICKLY_ENDPOINT" => "qvickly-api",
            "PAYBRIDGE_PAYOO_ENDPOINT" => return None,
            _ => return crate::sandbox::credential(name),
        };
        sandbox.endpoints.get(endpoint).cloned()
    };
    let asked =
        crate::providers::status_providers(&crate::settings::Settings::new(&lookup), ledger)?;
    Ok(crate::reconcile::reconciler_with(
        ledger.clone(),
        asked,
        paybridge_ledger::Schedule::default(),
        paybridge_ledger::handler::Handler::Transactional(Arc::new(crate::store::Record)),
    ))
}

/// The file the last `paybridge dev` started writes its addresses to.
pub(crate) fn last_dev_file() -> std::path::PathBuf {
    std::env::temp_dir().join("paybridge-dev.json")
}
