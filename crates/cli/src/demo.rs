//! `paybridge demo`: one complete flow per provider against the in-process sandbox.

use std::fmt::Write as _;
use std::time::Duration;

use axum::body::Bytes;
use paybridge_core::http::{HttpRequest, HttpResponse, HttpTransport};
use paybridge_core::sandbox::CallbackReceiver;
use serde_json::{Value, json};

use crate::output::{CliError, Outcome};
use crate::sandbox;

pub(crate) use crate::flows::{FlowLog, FlowResult};

#[derive(Debug, clap::Args)]
pub(crate) struct DemoArgs {}

/// How long a flow waits for the sandbox's callback.
const CALLBACK_WAIT: Duration = Duration::from_secs(10);

/// A merchant endpoint for one flow's callbacks at `path`, answering `answer` (it stops when
/// dropped).
pub(crate) async fn callback_endpoint<A>(path: &str, answer: A) -> Result<CallbackReceiver, String>
where
    A: axum::response::IntoResponse + Clone + Send + Sync + 'static,
{
    CallbackReceiver::start(path, answer)
        .await
        .map_err(|e| format!("cannot start the merchant endpoint {path}: {e}"))
}

/// The next callback `endpoint` received (a POST body or a GET query), or an error naming
/// `what` after 10 s.
pub(crate) async fn next_callback(
    endpoint: &mut CallbackReceiver,
    what: &str,
) -> Result<Bytes, String> {
    endpoint
        .next(CALLBACK_WAIT)
        .await
        .ok_or_else(|| format!("no {what} within {} s", CALLBACK_WAIT.as_secs()))
}

/// POST to a sandbox control route (`json` as the body, or none) and require a 2xx: what
/// the flows use to make the simulated provider act (pay, send a callback).
pub(crate) async fn sandbox_post(
    transport: &HttpTransport,
    url: String,
    json: Option<&Value>,
    what: &str,
) -> Result<HttpResponse, String> {
    let request = match json {
        Some(json) => HttpRequest::post(url, json.to_string())
            .header(http::header::CONTENT_TYPE, "application/json"),
        None => HttpRequest::post(url, ""),
    };
    transport
        .send(request)
        .await
        .and_then(HttpResponse::into_success)
        .map_err(|e| format!("sandbox {what} failed: {e}"))
}

/// A gateway (the card simulator) and a charge recorded before it is sent; the gateway's
/// callback is caught so that the demo can deliver it twice. Returns the gateway's client,
/// the callback body and the gateway's task.
async fn charged_card_callback(
    ledger: &paybridge_ledger::Ledger,
    log: &mut FlowLog,
) -> Result<
    (
        paybridge_card_charging::Client,
        axum::body::Bytes,
        tokio::task::JoinHandle<std::io::Result<()>>,
    ),
    String,
> {
    use paybridge_card_charging::sandbox::{
        ENDPOINT_PATH, SANDBOX_PARTNER_ID, SANDBOX_PARTNER_KEY, Simulator,
    };
    let sim = Simulator::new().map_err(|e| e.to_string())?;
    let gateway = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let gateway_addr = gateway.local_addr().map_err(|e| e.to_string())?;
    let gateway_router = sim.router();
    let gateway_task = tokio::spawn(async move { axum::serve(gateway, gateway_router).await });
    let mut caught = paybridge_core::sandbox::CallbackReceiver::start("/caught", "OK")
        .await
        .map_err(|e| e.to_string())?;
    sim.set_callback_url(Some(caught.url().to_owned()));
    let client = paybridge_card_charging::Client::new(
        paybridge_card_charging::Config::new(
            format!("http://{gateway_addr}{ENDPOINT_PATH}"),
            SANDBOX_PARTNER_ID,
            secrecy::SecretString::from(SANDBOX_PARTNER_KEY),
        ),
        paybridge_core::http::HttpTransport::with_defaults().map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    let (code, serial) = ("312821445892989", "10004783347874");
    let card =
        paybridge_card_charging::Card::new(paybridge_card_charging::Telco::Viettel, code, serial)
            .map_err(|e| e.to_string())?;
    let amount = paybridge_core::Money::parse("50000", paybridge_core::Currency::VND)
        .map_err(|e| e.to_string())?;
    ledger
        .record_payment(
            &paybridge_ledger::NewPayment::new(
                paybridge_card_charging::PROVIDER_ID,
                "demo-1",
                paybridge_core::PaymentStatus::Pending,
                amount,
            )
            .instrument(serial),
        )
        .await
        .map_err(|e| e.to_string())?;
    let request_id =
        paybridge_card_charging::RequestId::new("demo-1").map_err(|e| e.to_string())?;
    client
        .charge(&card, amount, &request_id)
        .await
        .map_err(|e| e.to_string())?;
    let body = caught
        .next(std::time::Duration::from_secs(5))
        .await
        .ok_or("the gateway sent no callback")?;
    log.step(
        "charge (pending) and the gateway's callback",
        format!("{} bytes", body.len()),
    );
    Ok((client, body, gateway_task))
}

/// The ledger's receiver over an SQLite file in a temporary directory: one card callback
/// delivered twice is credited once, the second acknowledged as a duplicate.
async fn ledger_flow(log: &mut FlowLog) -> Result<(), String> {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Credit(AtomicUsize);
    #[async_trait::async_trait]
    impl paybridge_ledger::receive::CallbackHandler for Credit {
        async fn handle(
            &self,
            _: &paybridge_ledger::receive::Callback,
        ) -> Result<(), paybridge_ledger::receive::HandlerError> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    }

    log.start();
    let dir = std::env::temp_dir().join(format!("paybridge-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let url = format!("sqlite://{}", dir.join("ledger.db").display());
    let ledger = Arc::new(
        paybridge_ledger::Ledger::open(&url)
            .await
            .map_err(|e| e.to_string())?,
    );
    log.step("open ledger", url.clone());
    let credit = Arc::new(Credit(AtomicUsize::new(0)));
    let (client, body, gateway_task) = charged_card_callback(&ledger, log).await?;
    let router = paybridge_ledger::receive::Receiver::new(ledger.clone(), credit.clone())
        .mount(paybridge_card_charging::route::Route::confirmed(client))
        .router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    let transport =
        paybridge_core::http::HttpTransport::with_defaults().map_err(|e| e.to_string())?;
    for delivery in 1..=2 {
        let answer = transport
            .send(
                paybridge_core::http::HttpRequest::post(
                    format!("http://{addr}/card-charging/callback"),
                    body.clone(),
                )
                .header(http::header::CONTENT_TYPE, "application/json")
                .idempotent(true),
            )
            .await
            .map_err(|e| e.to_string())?;
        if answer.status != 200 {
            server.abort();
            return Err(format!(
                "delivery {delivery} answered HTTP {}",
                answer.status
            ));
        }
        log.step(
            &format!("card callback delivery {delivery}"),
            format!(
                "{}, acknowledged, credited {} time(s)",
                if delivery == 1 {
                    "confirmed with check"
                } else {
                    "answered from the ledger (no check)"
                },
                credit.0.load(Ordering::SeqCst)
            ),
        );
    }
    server.abort();
    gateway_task.abort();
    let record = ledger
        .callback("card-charging", "card-charging:demo-1:1")
        .await
        .map_err(|e| e.to_string())?
        .ok_or("the callback was not recorded")?;
    let _ = std::fs::remove_dir_all(&dir);
    if credit.0.load(Ordering::SeqCst) != 1 || record.deliveries != 2 {
        return Err(format!(
            "expected one credit for two deliveries, got {} credits, {} deliveries",
            credit.0.load(Ordering::SeqCst),
            record.deliveries
        ));
    }
    log.step(
        "ledger event",
        "1 event, 2 deliveries, 1 credit: the duplicate was acknowledged",
    );
    Ok(())
}

pub(crate) async fn run(_args: &DemoArgs) -> Result<Outcome, CliError> {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let sandbox = sandbox::start(addr, None, None).await?;
    let mut flows = crate::providers::demo_flows(&sandbox).await;
    sandbox.task.abort();
    let mut log = FlowLog::default();
    let error = ledger_flow(&mut log).await.err();
    flows.push(FlowResult {
        provider: "ledger",
        log,
        error,
    });
    let mut all_ok = !flows.is_empty();
    let mut report = Vec::new();
    let mut table = String::from(
        "paybridge demo: every flow below runs against an in-process sandbox (no network, no credentials)\n",
    );
    for FlowResult {
        provider,
        log,
        error,
    } in flows
    {
        all_ok &= error.is_none();
        let verdict = if error.is_none() { "passed" } else { "FAILED" };
        let _ = writeln!(table, "{provider:<16} {verdict}");
        for s in &log.steps {
            let _ = writeln!(
                table,
                "  {:<32} {:>7.1} ms  {}",
                s.name,
                s.elapsed.as_secs_f64() * 1000.0,
                s.detail
            );
        }
        if let Some(e) = &error {
            let _ = writeln!(table, "  error: {e}");
        }
        report.push(json!({
            "provider": provider,
            "passed": error.is_none(),
            "error": error,
            "steps": log.steps.iter().map(|s| json!({
                "step": s.name,
                "ms": (s.elapsed.as_secs_f64() * 10_000.0).round() / 10.0,
                "detail": s.detail,
            })).collect::<Vec<Value>>(),
        }));
    }
    let _ = writeln!(
        table,
        "{}",
        if all_ok {
            "all flows passed"
        } else {
            "some flows FAILED"
        }
    );
    table.push_str(
        "\ntry the sandbox by hand:\n  paybridge sandbox                       # prints every endpoint as one JSON line\n  paybridge --json card-charging charge --endpoint URL --partner-id sandbox-partner \\\n      --partner-key sandbox-key --telco VIETTEL --code 312821445892981 --serial 10004783347874 \\\n      --amount 50000 --request-id order-1   # URL: the card-charging endpoint it printed\n  paybridge receive --ledger sqlite://paybridge.db --card-endpoint URL   # callbacks, confirmed, recorded once\n",
    );
    Ok(Outcome {
        value: Some(json!({"passed": all_ok, "flows": report})),
        human: Some(table),
        exit: u8::from(!all_ok),
    })
}
