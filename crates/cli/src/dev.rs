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
use paybridge_ledger::handler::{Callback, CallbackHandler, HandlerError};
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::{Value, json};

use crate::output::{CliError, Outcome};

/// `paybridge dev`.
#[derive(Debug, Args)]
pub(crate) struct DevArgs {
    /// Address to listen on, `host:port` (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0", value_parser = crate::cli::socket_addr)]
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

/// The live log: each state change the receiver hands out.
struct Logged;

#[async_trait::async_trait]
impl CallbackHandler for Logged {
    async fn handle(&self, callback: &Callback) -> Result<(), HandlerError> {
        let c = &callback.change;
        eprintln!(
            "    change {} {} {} → {}{} {}",
            callback.provider,
            crate::output::terminal_safe(&c.reference),
            c.previous_status.as_str(),
            c.status.as_str(),
            c.anomaly.map(|a| format!(" ({a})")).unwrap_or_default(),
            c.webhook_id
        );
        crate::ledger::Record.handle(callback).await
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
    let ledger = Arc::new(crate::ledger::open(&ledger_url).await?);
    let (forwarder, forward_secret) = forwarder(&args, &ledger).await?;
    let sandbox = crate::sandbox::start_with(
        args.addr,
        None,
        Some(ledger.clone()),
        crate::sandbox::Wiring {
            handler: Some(Arc::new(Logged)),
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
    let asked = crate::reconcile::StatusEndpoints {
        card: sandbox.endpoints.get("card-charging").cloned(),
        woopay: sandbox.endpoints.get("woopay").cloned(),
        payoo: None,
        payoo_rest: sandbox.endpoints.get("payoo-rest").cloned(),
        qvickly: sandbox.endpoints.get("qvickly-api").cloned(),
    }
    .providers_with(ledger, &sandbox_credential)?;
    Ok(crate::reconcile::reconciler_with(
        ledger.clone(),
        asked,
        paybridge_ledger::Schedule::default(),
        Arc::new(Logged),
    ))
}

/// The sandbox's public test credentials, by the variable that names each in production.
fn sandbox_credential(name: &str) -> Option<String> {
    use paybridge_card_charging::sandbox as card;
    use paybridge_payoo::sandbox as payoo;
    Some(
        match name {
            "PAYBRIDGE_CARD_PARTNER_ID" => card::SANDBOX_PARTNER_ID,
            "PAYBRIDGE_CARD_PARTNER_KEY" => card::SANDBOX_PARTNER_KEY,
            "PAYBRIDGE_WOOPAY_USERNAME" => paybridge_woopay::sandbox::SANDBOX_USERNAME,
            "PAYBRIDGE_WOOPAY_PASSWORD" => paybridge_woopay::sandbox::SANDBOX_PASSWORD,
            "PAYBRIDGE_PAYOO_USERNAME" => payoo::SANDBOX_USERNAME,
            "PAYBRIDGE_PAYOO_PASSWORD" => payoo::SANDBOX_PASSWORD,
            "PAYBRIDGE_PAYOO_SIGNATURE" => payoo::SANDBOX_SIGNATURE,
            "PAYBRIDGE_PAYOO_CHECKSUM_KEY" => payoo::SANDBOX_CHECKSUM_KEY,
            "PAYBRIDGE_PAYOO_SHOP_ID" => "11495",
            "PAYBRIDGE_QVICKLY_ID" => paybridge_qvickly::sandbox::SANDBOX_MERCHANT_ID,
            "PAYBRIDGE_QVICKLY_SECRET" => paybridge_qvickly::sandbox::SANDBOX_SECRET,
            "PAYBRIDGE_LINKIFIER_KEY" => paybridge_linkifier_ipn::sandbox::SANDBOX_KEY,
            _ => return None,
        }
        .to_owned(),
    )
}

/// The file the last `paybridge dev` started writes its addresses to.
fn last_dev_file() -> std::path::PathBuf {
    std::env::temp_dir().join("paybridge-dev.json")
}

/// `paybridge trigger`.
#[derive(Debug, Args)]
pub(crate) struct TriggerArgs {
    /// The provider: `card-charging` or `qvickly`.
    provider: String,
    /// The outcome: card-charging `succeeded`, `wrong-amount`, `failed`, `pending`; qvickly
    /// `paid`, `cancelled`.
    outcome: String,
    /// The payment's reference (default: a fresh one).
    #[arg(long)]
    reference: Option<String>,
    /// The amount (a card: a face value, default 50000 VND; Qvickly: default 312.50 SEK).
    #[arg(long)]
    amount: Option<String>,
    /// A running `paybridge dev` (its `dev` URL; default the last one started here).
    #[arg(long)]
    dev: Option<String>,
    /// Its ledger (default the one the last `dev` printed).
    #[arg(long, env = "PAYBRIDGE_LEDGER", hide_env_values = true)]
    ledger: Option<String>,
}

/// Make a payment reach an outcome in a running `dev`, the way a merchant and the provider
/// would: created with `--ledger` (this very binary's payment command), paid (or called off)
/// in the sandbox, its callback delivered to dev's receiver; printed once the ledger has the
/// change.
pub(crate) async fn trigger(args: TriggerArgs) -> Result<Outcome, CliError> {
    let last: Value = std::fs::read(last_dev_file())
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null);
    let dev = args
        .dev
        .clone()
        .or_else(|| last.get("dev").and_then(Value::as_str).map(str::to_owned))
        .ok_or_else(|| CliError::input("no running `paybridge dev` found: give --dev URL"))?;
    let ledger_url = args
        .ledger
        .clone()
        .or_else(|| {
            last.get("ledger")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .ok_or_else(|| CliError::input("give --ledger (the ledger `paybridge dev` printed)"))?;
    let reference = args
        .reference
        .clone()
        .unwrap_or_else(|| format!("trg-{}", paybridge_ledger::now_ms()));
    let provider = match args.provider.as_str() {
        "card-charging" => {
            card(&args, &dev, &ledger_url, &reference).await?;
            paybridge_card_charging::PROVIDER_ID
        }
        "qvickly" => {
            qvickly(&args, &dev, &ledger_url, &reference).await?;
            paybridge_qvickly::PROVIDER_ID
        }
        other => {
            return Err(CliError::input(format!(
                "trigger knows card-charging and qvickly so far, not {other:?}"
            )));
        }
    };
    let settles = args.outcome != "pending";
    let ledger = paybridge_ledger::Ledger::open_existing(&ledger_url, Duration::from_secs(10))
        .await
        .map_err(paybridge_core::Error::from)?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let status = ledger
            .payment(provider, &reference)
            .await
            .map_err(paybridge_core::Error::from)?
            .map(|p| p.payment.status);
        match status {
            Some(status) if !settles || status != paybridge_core::PaymentStatus::Pending => {
                return Ok(Outcome::payment(
                    json!({"provider": provider, "reference": reference, "status": status.as_str()}),
                    status,
                ));
            }
            _ if tokio::time::Instant::now() >= deadline => {
                return Err(CliError::from(paybridge_core::Error::Timeout(
                    Duration::from_secs(30),
                )));
            }
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// Run this binary with `args` and `env`; its JSON answer when it exited 0 or 1.
async fn this_binary(
    args: Vec<String>,
    env: Vec<(&'static str, String)>,
) -> Result<Value, CliError> {
    let exe = std::env::current_exe()
        .map_err(|e| CliError::internal(format!("cannot find this binary: {e}")))?;
    let mut command = std::process::Command::new(exe);
    command.args(&args).envs(env);
    let done = tokio::task::spawn_blocking(move || command.output())
        .await
        .map_err(|e| CliError::internal(format!("the command did not run: {e}")))?
        .map_err(|e| CliError::internal(format!("cannot run the command: {e}")))?;
    if !matches!(done.status.code(), Some(0 | 1)) {
        return Err(CliError::input(format!(
            "{} failed: {}",
            args.get(1..3).map(|a| a.join(" ")).unwrap_or_default(),
            String::from_utf8_lossy(&done.stdout).trim()
        )));
    }
    Ok(serde_json::from_slice(&done.stdout).unwrap_or(Value::Null))
}

/// A card charged with `--ledger`: the card sandbox picks the outcome by the code's last digit.
async fn card(
    args: &TriggerArgs,
    dev: &str,
    ledger: &str,
    reference: &str,
) -> Result<(), CliError> {
    let code = match args.outcome.as_str() {
        "succeeded" => "312821445892981",
        "wrong-amount" => "312821445892982",
        "failed" => "312821445892983",
        "pending" => "312821445892989",
        other => {
            return Err(CliError::input(format!(
                "card-charging outcomes: succeeded, wrong-amount, failed, pending (not {other:?})"
            )));
        }
    };
    let endpoint = format!("{dev}{}", paybridge_card_charging::sandbox::ENDPOINT_PATH);
    let amount = args.amount.clone().unwrap_or_else(|| "50000".into());
    let charge = [
        "--json",
        "card-charging",
        "charge",
        "--endpoint",
        &endpoint,
        "--telco",
        "VIETTEL",
        "--code",
        code,
        "--serial",
        "10004783347874",
        "--amount",
        &amount,
        "--request-id",
        reference,
        "--ledger",
        ledger,
    ];
    this_binary(
        charge.iter().map(|a| (*a).to_owned()).collect(),
        vec![
            (
                "PAYBRIDGE_CARD_PARTNER_ID",
                paybridge_card_charging::sandbox::SANDBOX_PARTNER_ID.into(),
            ),
            (
                "PAYBRIDGE_CARD_PARTNER_KEY",
                paybridge_card_charging::sandbox::SANDBOX_PARTNER_KEY.into(),
            ),
        ],
    )
    .await
    .map(drop)
}

/// The `data` of a Qvickly card payment of `amount` SEK (default 312.50) under `reference`,
/// calling back `callback`.
fn qvickly_payment(
    amount: Option<&str>,
    reference: &str,
    dev: &str,
    callback: &str,
) -> Result<Value, CliError> {
    let amount =
        paybridge_core::Money::parse(amount.unwrap_or("312.50"), paybridge_core::Currency::SEK)?;
    let cents = (amount.amount() * rust_decimal::Decimal::from(100))
        .normalize()
        .to_string();
    let data = json!({
        "PaymentData": {"method": "8", "currency": "SEK", "language": "sv", "country": "SE",
            "orderid": reference, "autoactivate": "1", "callbackurl": callback,
            "accepturl": format!("{dev}/"), "cancelurl": format!("{dev}/")},
        "Customer": {"Billing": {"firstname": "Test", "lastname": "Payer", "email": "payer@example.se"}},
        "Articles": [{"artnr": "T-1", "title": "Trigger", "quantity": "1", "aprice": cents,
            "taxrate": "0", "discount": "0", "withouttax": cents}],
        "Cart": {"Total": {"withouttax": cents, "tax": "0", "rounding": "0", "withtax": cents}}
    });
    Ok(data)
}

/// A Qvickly card payment added with `--ledger` (its callback to dev's receiver), then paid on
/// the sandbox's page — or cancelled through the API, whose callback Qvickly then sends.
async fn qvickly(
    args: &TriggerArgs,
    dev: &str,
    ledger: &str,
    reference: &str,
) -> Result<(), CliError> {
    if !matches!(args.outcome.as_str(), "paid" | "cancelled") {
        return Err(CliError::input(format!(
            "qvickly outcomes: paid, cancelled (not {:?})",
            args.outcome
        )));
    }
    let callback = format!("{dev}/receive/qvickly/callback");
    let data = qvickly_payment(args.amount.as_deref(), reference, dev, &callback)?;
    let file = std::env::temp_dir().join(format!("paybridge-trigger-{reference}.json"));
    std::fs::write(&file, data.to_string())
        .map_err(|e| CliError::internal(format!("cannot write {}: {e}", file.display())))?;
    let api = format!("{dev}{}", paybridge_qvickly::sandbox::api::API_PATH);
    let env = || {
        vec![
            (
                "PAYBRIDGE_QVICKLY_ID",
                paybridge_qvickly::sandbox::SANDBOX_MERCHANT_ID.to_owned(),
            ),
            (
                "PAYBRIDGE_QVICKLY_SECRET",
                paybridge_qvickly::sandbox::SANDBOX_SECRET.to_owned(),
            ),
        ]
    };
    let body = file.display().to_string();
    let added = this_binary(
        [
            "--json",
            "qvickly",
            "add-payment",
            "--endpoint",
            &api,
            "--body",
            &body,
            "--ledger",
            ledger,
        ]
        .iter()
        .map(|a| (*a).to_owned())
        .collect(),
        env(),
    )
    .await;
    let _ = std::fs::remove_file(&file);
    let added = added?;
    let number = added
        .get("number")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let transport = paybridge_core::http::HttpTransport::with_defaults()?;
    let post = |url: String, body: String| {
        paybridge_core::http::HttpRequest::post(url.as_str(), body)
            .header(http::header::CONTENT_TYPE, "application/json")
    };
    if args.outcome == "paid" {
        let page = added.get("url").and_then(Value::as_str).unwrap_or_default();
        transport.send(post(page.to_owned(), String::new())).await?;
    } else {
        this_binary(
            [
                "--json",
                "qvickly",
                "cancel",
                "--endpoint",
                &api,
                "--number",
                &number,
            ]
            .iter()
            .map(|a| (*a).to_owned())
            .collect(),
            env(),
        )
        .await?;
        // Qvickly tells the merchant: the cancellation's callback, signed.
        let spec = json!({"url": callback, "number": number, "status": "Cancelled",
            "orderid": reference, "test": false});
        transport
            .send(post(
                format!("{dev}{}", paybridge_qvickly::sandbox::SEND_PATH),
                spec.to_string(),
            ))
            .await?;
    }
    Ok(())
}
