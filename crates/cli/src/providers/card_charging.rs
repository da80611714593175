//! `paybridge card-charging charge | check | verify-callback`.

mod live;

pub(crate) use live::{receive_route, status_provider};

use std::time::Instant;

use clap::{Args, Subcommand, ValueEnum};
use paybridge_card_charging::sandbox::{self, SANDBOX_PARTNER_ID, SANDBOX_PARTNER_KEY, Simulator};
use paybridge_card_charging::{
    BodyEncoding, Card, CardCallback, ChargeResult, ChargeStatus, Client, Config,
    PROVIDER_ID, RequestId, SignScheme, Telco, UNSIGNED_FIELDS,
};
use paybridge_core::http::{HttpRequest, HttpTransport};
use paybridge_core::{Currency, Money, RawNotification};
use secrecy::SecretString;
use serde_json::{Value, json};

use super::{amount_json, read_input, secret};
use crate::cli::NetArgs;
use crate::demo::{FlowLog, callback_endpoint, next_callback};
use crate::output::{CliError, Outcome, set_field};
use crate::sandbox::{Mount, SandboxContext};

/// Card-charging gateways (`chargingws/v2`).
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Submit a card (`command=charging`).
    Charge(ChargeArgs),
    /// Ask for the state of an earlier request id (`command=check`).
    Check(ChargeArgs),
    /// Verify a callback given as its posted JSON body or its GET query string.
    VerifyCallback(VerifyArgs),
    /// The gateway's fee table (`GET …/getfee?partner_id=`).
    Fees(FeesArgs),
}

#[derive(Debug, Args)]
pub(crate) struct FeesArgs {
    #[command(flatten)]
    net: NetArgs,
    /// Partner id issued by the gateway.
    #[arg(long, env = "PAYBRIDGE_CARD_PARTNER_ID")]
    partner_id: String,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Scheme {
    /// `md5(partner_key + code + serial)`
    CodeSerial,
    /// `md5(partner_key + code + command + partner_id + request_id + serial + telco)`
    Sorted,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Encoding {
    Form,
    Multipart,
    Json,
    Query,
}

#[derive(Debug, Args)]
pub(crate) struct ChargeArgs {
    #[command(flatten)]
    net: NetArgs,
    /// Partner id issued by the gateway.
    #[arg(long, env = "PAYBRIDGE_CARD_PARTNER_ID")]
    partner_id: String,
    /// Partner key issued by the gateway (never printed).
    #[arg(long, env = "PAYBRIDGE_CARD_PARTNER_KEY", hide_env_values = true, value_parser = secret)]
    partner_key: SecretString,
    /// The card's network: VIETTEL, VINAPHONE, MOBIFONE, VIETNAMOBILE, VNMOBI, GATE, ZING, ...
    #[arg(long, required_unless_present = "ledger")]
    telco: Option<String>,
    /// The card's scratch-off code (its PIN; never printed).
    #[arg(long, required_unless_present = "ledger")]
    code: Option<String>,
    /// The card's serial.
    #[arg(long, required_unless_present = "ledger")]
    serial: Option<String>,
    /// The card's face value you declare, in whole dong (`declared_value`); more than 0.
    #[arg(
        long,
        allow_negative_numbers = true,
        required_unless_present = "ledger"
    )]
    amount: Option<String>,
    /// Record the payment in this ledger (`sqlite://FILE`, `postgres://…`); with it, `check`
    /// needs no card flags for a payment the ledger holds. The card is kept only sealed, with
    /// the key in `PAYBRIDGE_LEDGER_KEY` (64 hex digits); without that key it is not kept.
    #[arg(long, env = "PAYBRIDGE_LEDGER", hide_env_values = true)]
    ledger: Option<String>,
    /// The merchant's request id.
    #[arg(long)]
    request_id: String,
    /// How your gateway wants requests signed (gateways differ: ask yours).
    #[arg(long, value_enum, default_value = "code-serial")]
    sign_scheme: Scheme,
    /// How your gateway wants the request sent: form (most), multipart, JSON or a GET
    /// query string.
    #[arg(long, value_enum, default_value = "form")]
    encoding: Encoding,
    /// Send a face value that is not one of the telco's usual denominations.
    #[arg(long)]
    any_amount: bool,
    /// Send a telco name this tool does not know (your gateway accepts more networks).
    #[arg(long)]
    any_telco: bool,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["body", "query"])))]
pub(crate) struct VerifyArgs {
    /// Partner key issued by the gateway (never printed).
    #[arg(long, env = "PAYBRIDGE_CARD_PARTNER_KEY", hide_env_values = true, value_parser = secret)]
    partner_key: SecretString,
    /// File holding the posted JSON body (`-` for stdin).
    #[arg(long)]
    body: Option<String>,
    /// The GET callback's query string.
    #[arg(long)]
    query: Option<String>,
    /// Also ask the gateway (`check`) and fail if it disagrees with the callback (status,
    /// amounts, request id): `callback_sign` covers only the card, not the outcome.
    #[arg(long, requires_all = ["endpoint", "partner_id"])]
    confirm: bool,
    /// Gateway endpoint for `--confirm`.
    #[arg(long)]
    endpoint: Option<String>,
    /// Partner id for `--confirm`.
    #[arg(long, env = "PAYBRIDGE_CARD_PARTNER_ID")]
    partner_id: Option<String>,
    /// Seconds allowed for `--confirm`'s `check` (more than 0).
    #[arg(long, default_value_t = 30, allow_negative_numbers = true, value_parser = crate::cli::positive_seconds)]
    timeout: u64,
}

pub(crate) async fn run(command: Command) -> Result<Outcome, CliError> {
    match command {
        Command::Charge(args) => call(args, true).await,
        Command::Check(args) => call(args, false).await,
        Command::VerifyCallback(args) => verify(&args).await,
        Command::Fees(args) => fees(&args).await,
    }
}

/// The card and declared value: from the flags, or (for `check --ledger` without them) from
/// the ledger's record of the charge.
async fn card_and_amount(
    args: &ChargeArgs,
    ledger: Option<&paybridge_ledger::Ledger>,
) -> Result<(Card, Money), CliError> {
    if let (Some(telco), Some(code), Some(serial), Some(amount)) =
        (&args.telco, &args.code, &args.serial, &args.amount)
    {
        let telco: Telco = telco.parse().map_err(paybridge_core::Error::from)?;
        // A typo refused here, not by the gateway (which may consume the request id).
        if let Telco::Other(name) = &telco
            && !args.any_telco
        {
            return Err(CliError::input(format!(
                "--telco {name:?} is not a network this tool knows (VIETTEL, VINAPHONE, MOBIFONE, VIETNAMOBILE, VNMOBI, GATE, ZING); pass --any-telco to send it anyway"
            )));
        }
        let card = Card::new(telco, code, serial).map_err(paybridge_core::Error::from)?;
        let amount = Money::parse(amount, Currency::VND)
            .map_err(|e| CliError::input(format!("--amount: {e}")))?;
        return Ok((card, amount));
    }
    let ledger = ledger.ok_or_else(|| {
        CliError::input(
            "give --telco, --code, --serial and --amount, or --ledger for a recorded payment",
        )
    })?;
    let rid = &args.request_id;
    let payment = ledger
        .payment(PROVIDER_ID, rid)
        .await
        .map_err(paybridge_core::Error::from)?
        .ok_or_else(|| {
            CliError::input(format!("the ledger has no card-charging payment {rid:?}"))
        })?;
    let sealed = ledger
        .secret(PROVIDER_ID, rid)
        .await
        .map_err(|e| CliError::input(e.to_string()))?
        .ok_or_else(|| {
            CliError::input(format!(
                "the ledger holds no card for {rid:?} (it is kept only with PAYBRIDGE_LEDGER_KEY set when charging): give the card flags"
            ))
        })?;
    let card = Card::unseal(&sealed).map_err(paybridge_core::Error::from)?;
    Ok((card, payment.payment.amount))
}

async fn call(args: ChargeArgs, charge: bool) -> Result<Outcome, CliError> {
    let ledger = match &args.ledger {
        Some(url) => Some(crate::store::open(url).await?),
        None => None,
    };
    let (card, amount) = card_and_amount(&args, ledger.as_ref()).await?;
    // Checked before the ledger records the charge, so a refused value leaves no record. A zero
    // or negative amount is left to the library, which refuses it as not more than zero.
    if !args.any_amount
        && amount.amount() > rust_decimal::Decimal::ZERO
        && !card.telco.is_face_value(amount)
    {
        return Err(CliError::input(format!(
            "{} is not a {} face value ({:?}); pass --any-amount to send it anyway",
            amount.amount_string(),
            card.telco,
            card.telco.denominations()
        )));
    }
    let request_id = RequestId::new(&args.request_id).map_err(paybridge_core::Error::from)?;
    let config = Config::new(args.net.endpoint.clone(), args.partner_id, args.partner_key)
        .sign_scheme(match args.sign_scheme {
            Scheme::CodeSerial => SignScheme::CodeSerial,
            Scheme::Sorted => SignScheme::SortedFields,
        })
        .encoding(match args.encoding {
            Encoding::Form => BodyEncoding::Form,
            Encoding::Multipart => BodyEncoding::Multipart,
            Encoding::Json => BodyEncoding::Json,
            Encoding::Query => BodyEncoding::Query,
        })
        .check_denomination(!args.any_amount);
    let transport = HttpTransport::new(args.net.http_config())?;
    let client = Client::new(config, transport).map_err(paybridge_core::Error::from)?;
    if charge && let Some(ledger) = &ledger {
        // Recorded before it is sent: a charge whose outcome is unknown is still found, and
        // `check --ledger` can reconcile it.
        let payment = paybridge_ledger::NewPayment::new(
            PROVIDER_ID,
            request_id.as_str(),
            paybridge_core::PaymentStatus::Pending,
            amount,
        )
        .secret(card.seal())
        .instrument(card.serial.clone());
        crate::store::record_first(ledger, &payment, "a request id is used once").await?;
    }
    let result = if charge {
        client.charge(&card, amount, &request_id).await
    } else {
        client.check(&card, amount, &request_id).await
    }
    .map_err(paybridge_core::Error::from);
    let result =
        crate::store::sent(ledger.as_ref(), PROVIDER_ID, request_id.as_str(), result).await?;
    if let Some(ledger) = &ledger {
        // The gateway's transaction id, once it gave one, is the payment's provider reference.
        if let Some(trans_id) = result.trans_id.as_deref().filter(|t| !t.is_empty())
            && let Some(recorded) = ledger
                .payment(PROVIDER_ID, request_id.as_str())
                .await
                .map_err(paybridge_core::Error::from)?
        {
            paybridge_core::PaymentRecords::remember(
                ledger,
                recorded.payment.provider_reference(trans_id),
            )
            .await?;
        }
        // The gateway's own answer is a report like a callback: the same decision, the same
        // money check (the card's real face value against the recorded amount) — a card
        // answered 2 at once is `needs_review`/`underpaid`, never `succeeded`.
        let mut outcome = paybridge_ledger::Outcome::new(
            request_id.as_str(),
            result.payment_status(),
            result.status.code().to_string(),
        );
        outcome.amount = result.value;
        ledger
            .report(
                PROVIDER_ID,
                &outcome,
                if charge {
                    paybridge_ledger::Source::Answer
                } else {
                    paybridge_ledger::Source::StatusCheck
                },
            )
            .await
            .map_err(paybridge_core::Error::from)?;
    }
    Ok(Outcome::payment(
        result_json(&result),
        result.payment_status(),
    ))
}

async fn verify(args: &VerifyArgs) -> Result<Outcome, CliError> {
    let raw = match (&args.body, &args.query) {
        (Some(path), _) => RawNotification::post("application/json", read_input(path)?),
        (None, Some(q)) => RawNotification::get(q),
        (None, None) => return Err(CliError::input("give --body FILE or --query STRING")),
    };
    let cb = paybridge_card_charging::CallbackVerifier::new(args.partner_key.clone()).verify(&raw)
        .map_err(paybridge_core::Error::from)?;
    let mut value = callback_json(&cb);
    set_field(&mut value, "unsigned_fields", json!(UNSIGNED_FIELDS));
    if args.confirm {
        let (Some(endpoint), Some(partner_id)) = (&args.endpoint, &args.partner_id) else {
            return Err(CliError::input(
                "--confirm needs --endpoint and --partner-id",
            ));
        };
        let net = NetArgs {
            endpoint: endpoint.clone(),
            timeout: args.timeout,
        };
        let client = Client::new(
            Config::new(
                endpoint.clone(),
                partner_id.clone(),
                args.partner_key.clone(),
            ),
            HttpTransport::new(net.http_config())?,
        )
        .map_err(paybridge_core::Error::from)?;
        let checked = client
            .confirm_callback(&cb)
            .await
            .map_err(paybridge_core::Error::from)?;
        set_field(&mut value, "confirmed", result_json(&checked));
    }
    Ok(Outcome::payment(value, cb.payment_status()))
}

/// The contract's result object for `charge` and `check`.
pub(crate) fn result_json(r: &ChargeResult) -> Value {
    json!({
        "status": r.payment_status().as_str(),
        "provider_status": r.status.code(),
        "request_id": r.request_id,
        "trans_id": r.trans_id,
        "declared_value": amount_json(r.declared_value),
        "value": amount_json(r.value),
        "amount": amount_json(r.amount),
        "message": r.message,
        "amount_mismatch": r.amount_mismatch(),
    })
}

/// The same fields for a verified callback.
pub(crate) fn callback_json(cb: &CardCallback) -> Value {
    json!({
        "status": cb.payment_status().as_str(),
        "provider_status": cb.status.code(),
        "request_id": cb.request_id,
        "trans_id": cb.trans_id,
        "declared_value": amount_json(cb.declared_value),
        "value": amount_json(cb.value),
        "amount": amount_json(cb.amount),
        "message": cb.message,
        "amount_mismatch": cb.amount_mismatch(),
    })
}

/// `card-charging fees`: the fee table, one row per network and face value. `getfee` needs no
/// signature, only the partner id.
async fn fees(args: &FeesArgs) -> Result<Outcome, CliError> {
    // `getfee` is unsigned: the client needs a key to be built, none is sent.
    let config = Config::new(
        args.net.endpoint.clone(),
        args.partner_id.clone(),
        SecretString::from("getfee-sends-no-key"),
    );
    let client = Client::new(config, HttpTransport::new(args.net.http_config())?)
        .map_err(paybridge_core::Error::from)?;
    let fees = client.fees().await.map_err(paybridge_core::Error::from)?;
    let rows: Vec<Value> = fees
        .iter()
        .map(|f| {
            json!({
                "telco": f.telco.as_str(),
                "value": f.value.to_string(),
                "fee_percent": f.fee_percent.to_string(),
                "penalty_percent": f.penalty_percent.to_string(),
            })
        })
        .collect();
    Ok(Outcome::ok(json!({ "fees": rows })))
}

/// The simulator, mounted in `paybridge sandbox`.
pub(crate) fn mount(ctx: &SandboxContext) -> Result<Mount, CliError> {
    let sim = Simulator::new()?;
    sim.set_callback_url(ctx.card_callback_url.clone());
    Ok(Mount {
        name: "card-charging",
        endpoint_path: sandbox::ENDPOINT_PATH.to_owned(),
        router: sim.router(),
        apis: Vec::new(),
    })
}

/// charge → pending → callback → verify → check, against the sandbox at `endpoint`.
pub(crate) async fn demo(endpoint: &str, _base_url: &str, log: &mut FlowLog) -> Result<(), String> {
    log.start();
    let mut merchant = callback_endpoint("/charge/callback", "OK").await?;
    let receiver_url = merchant.url().to_owned();
    let transport = HttpTransport::with_defaults().map_err(|e| e.to_string())?;
    let set_url = HttpRequest::put(
        format!("{endpoint}/_sandbox/callback-url"),
        receiver_url.clone(),
    );
    transport
        .send(set_url)
        .await
        .and_then(paybridge_core::http::HttpResponse::into_success)
        .map_err(|e| format!("cannot configure the sandbox callback URL: {e}"))?;
    log.step("configure callback URL", receiver_url);

    let client = Client::new(
        Config::new(
            endpoint,
            SANDBOX_PARTNER_ID,
            SecretString::from(SANDBOX_PARTNER_KEY),
        ),
        transport,
    )
    .map_err(|e| e.to_string())?;
    let card = Card::new(Telco::Viettel, "312821445892989", "10004783347874")
        .map_err(|e| e.to_string())?;
    let amount = Money::parse("50000", Currency::VND).map_err(|e| e.to_string())?;
    let request_id = RequestId::generate();
    let charged = client
        .charge(&card, amount, &request_id)
        .await
        .map_err(|e| e.to_string())?;
    if charged.status != ChargeStatus::Pending {
        return Err(format!(
            "expected pending (99), got {}",
            charged.status.code()
        ));
    }
    log.step("charge", format!("request_id {request_id} → 99 pending"));

    let waited = Instant::now();
    let body = next_callback(&mut merchant, "callback").await?;
    log.step(
        "callback delivered",
        format!(
            "{} bytes after {} ms",
            body.len(),
            waited.elapsed().as_millis()
        ),
    );

    let verified = client
        .callback_verifier().verify(&RawNotification::post("application/json", body))
        .map_err(|e| e.to_string())?;
    log.step(
        "verify callback_sign",
        format!(
            "status {} amount {}",
            verified.status.code(),
            amount_json(verified.amount)
        ),
    );

    let confirmed = client
        .confirm_callback(&verified)
        .await
        .map_err(|e| e.to_string())?;
    if confirmed.status != ChargeStatus::Success {
        return Err(format!("check reports status {}", confirmed.status.code()));
    }
    log.step(
        "check agrees",
        format!(
            "status 1 succeeded, credit {}",
            amount_json(confirmed.amount)
        ),
    );
    Ok(())
}
