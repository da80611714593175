//! `paybridge qvickly verify-callback | forward`.


use clap::{Args, Subcommand};
use paybridge_core::RawNotification;
use paybridge_core::http::HttpTransport;
use paybridge_qvickly::sandbox::{self, SANDBOX_MERCHANT_ID, SANDBOX_SECRET, Simulator};
use paybridge_qvickly::{CallbackVerifier, ForwardClient, QvicklyCallback, dto_from_callback};
use secrecy::SecretString;
use serde_json::{Value, json};

use super::{read_input, secret};
use crate::cli::NetArgs;
use crate::demo::{FlowLog, callback_endpoint, next_callback, sandbox_post};
use crate::output::{CliError, Outcome};
use crate::sandbox::{Mount, SandboxContext};

/// Qvickly IPN callbacks.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Verify a callback (JSON as Qvickly posts it, a form body, or the XML DTO).
    VerifyCallback(VerifyArgs),
    /// Post a callback to the booking API's `POST /payment/billmate/v1/ipncallback` as XML.
    Forward(ForwardArgs),
}

#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// File holding the callback body exactly as Qvickly posted it: JSON or form (a path,
    /// or `-` for stdin).
    #[arg(long)]
    body: String,
    /// Merchant id: callbacks for another id are refused.
    #[arg(long, env = "PAYBRIDGE_QVICKLY_ID")]
    id: Option<String>,
    /// Qvickly secret (never printed).
    #[arg(long, env = "PAYBRIDGE_QVICKLY_SECRET", hide_env_values = true, value_parser = secret)]
    secret: SecretString,
}

#[derive(Debug, Args)]
pub(crate) struct ForwardArgs {
    #[command(flatten)]
    net: NetArgs,
    /// File holding the callback body exactly as Qvickly posted it: JSON or form (a path,
    /// or `-` for stdin).
    #[arg(long)]
    body: String,
    /// Your company's id at the booking API, a GUID (`CompanyId`).
    #[arg(long, value_parser = guid)]
    company_id: Option<String>,
    /// The booking this payment belongs to (`BookingId`).
    #[arg(long)]
    booking_id: Option<i32>,
}

pub(crate) async fn run(command: Command) -> Result<Outcome, CliError> {
    match command {
        Command::VerifyCallback(args) => verify(&args),
        Command::Forward(args) => forward(&args).await,
    }
}

/// The contract's fields for a verified callback.
pub(crate) fn callback_json(cb: &QvicklyCallback) -> Value {
    json!({
        "order_id": cb.order_id,
        "number": cb.number,
        "status": cb.status.normalized().as_str(),
        "provider_status": cb.status.as_str(),
        "url": cb.url,
        "test": cb.test,
    })
}

fn verify(args: &VerifyArgs) -> Result<Outcome, CliError> {
    let body = read_input(&args.body)?;
    let verifier = CallbackVerifier::new(args.id.clone(), &args.secret)
        .map_err(paybridge_core::Error::from)?;
    let cb = verifier
        .verify_body(&body)
        .map_err(paybridge_core::Error::from)?;
    Ok(Outcome::payment(callback_json(&cb), cb.status.normalized()))
}

async fn forward(args: &ForwardArgs) -> Result<Outcome, CliError> {
    let body = read_input(&args.body)?;
    let dto = dto_from_callback(&body, args.company_id.clone(), args.booking_id).map_err(|e| {
        // A file that is no callback at all is an input error, not a provider's answer.
        CliError::input(e.to_string())
    })?;
    let transport = HttpTransport::new(args.net.http_config())?;
    let config = paybridge_qvickly::Config::new(args.net.endpoint.clone());
    let client = ForwardClient::new(config, transport).map_err(paybridge_core::Error::from)?;
    let answer = client
        .forward(&dto)
        .await
        .map_err(paybridge_core::Error::from)?;
    Ok(Outcome::ok(
        json!({"success": answer.success.unwrap_or(false), "message": answer.message}),
    ))
}

/// The simulators, mounted in `paybridge sandbox`: the endpoint is the booking API route.
pub(crate) fn mount(_ctx: &SandboxContext) -> Result<Mount, CliError> {
    let sim = Simulator::new()?;
    Ok(Mount {
        name: "qvickly",
        endpoint_path: sandbox::FORWARD_PATH.to_owned(),
        router: sim.router(),
    })
}

/// signed callback → delivered to a merchant handler → verify → forward → response.
pub(crate) async fn demo(endpoint: &str, base_url: &str, log: &mut FlowLog) -> Result<(), String> {
    log.start();
    let mut merchant = callback_endpoint("/qvickly/ipn", "OK").await?;
    let transport = HttpTransport::with_defaults().map_err(|e| e.to_string())?;
    let spec = json!({
        "url": merchant.url(),
        "status": "Paid",
        "orderid": "P/2026/1001",
        "number": "1001",
    });
    let url = format!("{base_url}{}", sandbox::SEND_PATH);
    sandbox_post(&transport, url, Some(&spec), "callback delivery").await?;
    let body = next_callback(&mut merchant, "callback").await?;
    log.step(
        "signed callback delivered",
        format!("{} bytes to the merchant handler", body.len()),
    );

    let verifier = CallbackVerifier::new(
        Some(SANDBOX_MERCHANT_ID.to_owned()),
        &SecretString::from(SANDBOX_SECRET),
    )
    .map_err(|e| e.to_string())?;
    let cb = verifier
        .verify(&RawNotification::post("application/json", body.clone()))
        .map_err(|e| e.to_string())?;
    log.step(
        "verify hash",
        format!(
            "order {} {}",
            cb.order_id.as_deref().unwrap_or("?"),
            cb.status.as_str()
        ),
    );

    let dto = dto_from_callback(&body, None, Some(1001)).map_err(|e| e.to_string())?;
    let client = ForwardClient::new(paybridge_qvickly::Config::new(endpoint), transport)
        .map_err(|e| e.to_string())?;
    let answer = client.forward(&dto).await.map_err(|e| e.to_string())?;
    log.step(
        "forward to booking API",
        format!(
            "Success={} {}",
            answer.success.unwrap_or(false),
            answer.message.unwrap_or_default()
        ),
    );
    Ok(())
}

/// `--company-id`: a GUID (`xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, hex digits).
fn guid(value: &str) -> Result<String, String> {
    let groups: Vec<&str> = value.split('-').collect();
    let lengths_ok = groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12]);
    if lengths_ok
        && groups
            .iter()
            .all(|g| g.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        Ok(value.to_owned())
    } else {
        Err(format!(
            "{value:?} is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)"
        ))
    }
}
