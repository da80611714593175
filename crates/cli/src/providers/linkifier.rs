//! `paybridge linkifier-ipn send | verify`.

mod live;

pub(crate) use live::{receive_route, status_provider};

use paybridge_core::soap::SoapVersion;

use clap::{Args, Subcommand};
use paybridge_core::http::HttpTransport;
use paybridge_core::InMemorySeenStore;
use paybridge_linkifier_ipn::sandbox::{self, SANDBOX_KEY};
use paybridge_linkifier_ipn::{CallbackVerifier, IpnRecord, IpnResult, IpnSender, response_xml};
use secrecy::SecretString;
use serde_json::json;

use super::{read_input, secret};
use crate::cli::NetArgs;
use crate::demo::{FlowLog, callback_endpoint, next_callback, sandbox_post};
use crate::output::{CliError, Outcome};
use crate::sandbox::{Mount, SandboxContext};

/// Linkifier IPNs (SOAP 1.1/1.2, `VerifyHASH`).
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Build, sign and post an IPN; FILE is JSON with the `cDataRecordIPN` fields in `snake_case`.
    Send(SendArgs),
    /// Verify a received `IPNEventRaised` request (SOAP 1.1 or 1.2) and print its record.
    Verify(VerifyArgs),
    /// Print an example record: every field `send --ipn` takes, filled in.
    Template,
}

#[derive(Debug, Args)]
pub(crate) struct SendArgs {
    #[command(flatten)]
    net: NetArgs,
    /// Path of a JSON file (or `-` for stdin) with the record's fields in `snake_case`;
    /// `paybridge linkifier-ipn template --json > ipn.json` writes one to start from.
    #[arg(long)]
    ipn: String,
    /// Speak SOAP 1.2 instead of 1.1 (use what the receiver's WSDL binding says).
    #[arg(long)]
    soap12: bool,
    /// The shared key (never printed).
    #[arg(long, env = "PAYBRIDGE_LINKIFIER_KEY", hide_env_values = true, value_parser = secret)]
    key: SecretString,
    #[command(flatten)]
    rule: HashRuleArg,
}

/// Which `VerifyHASH` rule: ours by default; the forgeable legacy one only by name.
#[derive(Debug, Args)]
pub(crate) struct HashRuleArg {
    /// `canonical` (HMAC-SHA512 over every field, the default) or `md5-concat-forgeable`
    /// (the first rule: four fields run together, forgeable; a verified IPN then carries
    /// only those four fields and reads as pending).
    #[arg(long, env = "PAYBRIDGE_LINKIFIER_HASH_RULE", default_value = "canonical", value_parser = ["canonical", "md5-concat-forgeable"])]
    hash_rule: String,
}

impl HashRuleArg {
    fn hasher(&self) -> std::sync::Arc<dyn paybridge_linkifier_ipn::VerifyHasher> {
        if self.hash_rule == "md5-concat-forgeable" {
            std::sync::Arc::new(paybridge_linkifier_ipn::Md5ConcatForgeable)
        } else {
            std::sync::Arc::new(paybridge_linkifier_ipn::CanonicalHmac)
        }
    }
}

#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// File holding the `IPNEventRaised` request body exactly as received (a path, or `-`
    /// for stdin).
    #[arg(long)]
    body: String,
    /// The shared key (never printed).
    #[arg(long, env = "PAYBRIDGE_LINKIFIER_KEY", hide_env_values = true, value_parser = secret)]
    key: SecretString,
    #[command(flatten)]
    rule: HashRuleArg,
}

pub(crate) async fn run(command: Command) -> Result<Outcome, CliError> {
    match command {
        Command::Send(a) => {
            let text = read_input(&a.ipn)?;
            // A record missing a value-type field is refused here, before anything is sent.
            let record: IpnRecord = serde_json::from_slice(&text)
                .map_err(|e| CliError::input(format!("{}: not an IPN record: {e}", a.ipn)))?;
            let config = paybridge_linkifier_ipn::Config::new(a.net.endpoint.clone(), a.key.clone())
                .soap_version(SoapVersion::from_soap12_flag(a.soap12))
                .hasher(a.rule.hasher());
            let sender = IpnSender::new(config, HttpTransport::new(a.net.http_config())?)
                .map_err(paybridge_core::Error::from)?;
            let r = sender
                .send(&record)
                .await
                .map_err(paybridge_core::Error::from)?;
            Ok(Outcome::ok(json!({
                "has_errors": r.has_errors,
                "error_code": r.error_code,
                "message": r.message,
                "extra_message": r.extra_message,
            })))
        }
        Command::Template => {
            let record = paybridge_linkifier_ipn::sandbox::sample_record();
            let value =
                serde_json::to_value(&record).map_err(|e| CliError::internal(e.to_string()))?;
            Ok(Outcome::ok(value))
        }
        Command::Verify(a) => {
            let body = read_input(&a.body)?;
            let verifier = CallbackVerifier::new(a.key.clone()).hasher(a.rule.hasher());
            let (record, _) = verifier
                .verify_body(&body)
                .map_err(paybridge_core::Error::from)?;
            // The record as verified: under the forgeable rule, only its four signed fields.
            let value =
                serde_json::to_value(&*record).map_err(|e| CliError::internal(e.to_string()))?;
            Ok(Outcome::ok(value))
        }
    }
}

/// The simulator, mounted in `paybridge sandbox`.
pub(crate) fn mount(_ctx: &SandboxContext) -> Result<Mount, CliError> {
    Ok(Mount {
        name: "linkifier-ipn",
        endpoint_path: sandbox::ENDPOINT_PATH.to_owned(),
        router: sandbox::router()?,
        apis: Vec::new(),
    })
}

/// send → receive → verify → answer.
pub(crate) async fn demo(_endpoint: &str, base_url: &str, log: &mut FlowLog) -> Result<(), String> {
    log.start();
    // The merchant's answer, as its endpoint will give it once the IPN is verified.
    let answer = IpnResult {
        has_errors: false,
        error_code: 0,
        message: "IPN received".into(),
        extra_message: String::new(),
    };
    let xml = response_xml(SoapVersion::V12, &answer).map_err(|e| e.to_string())?;
    let soap = [(http::header::CONTENT_TYPE, SoapVersion::V12.response_content_type())];
    let mut merchant = callback_endpoint("/linkifier/ipn", (soap, xml.clone())).await?;
    let transport = HttpTransport::with_defaults().map_err(|e| e.to_string())?;
    let spec = json!({"url": merchant.url(), "soap12": true});
    let url = format!("{base_url}{}", sandbox::SEND_PATH);
    sandbox_post(&transport, url, Some(&spec), "send").await?;
    let body = next_callback(&mut merchant, "IPN").await?;
    log.step(
        "IPN sent (SOAP 1.2)",
        format!("{} bytes to the merchant endpoint", body.len()),
    );
    let got = CallbackVerifier::new(SecretString::from(SANDBOX_KEY))
        .receive(&body, &InMemorySeenStore::new())
        .await
        .map_err(|e| e.to_string())?;
    log.step(
        "receive + verify VerifyHASH",
        format!(
            "{} {}",
            got.handled.callback.pay_transaction_id.as_deref().unwrap_or("?"),
            got.handled.callback.pay_provider_amount
        ),
    );
    // The endpoint's answer was written in 1.2 before the IPN arrived.
    if got.version != SoapVersion::V12 {
        return Err(format!("the IPN came in SOAP {:?}, not 1.2", got.version));
    }
    log.step(
        "answer IPNEventRaisedResponse",
        format!("{} bytes, HasErrors=false", xml.len()),
    );
    Ok(())
}
