//! `paybridge qvickly verify-callback | forward` and the Payment API (`add-payment`,
//! `payment-info`, `activate`, `cancel`, `credit`, `update-payment`, `payment-plans`).


mod live;
mod checkout;

pub(crate) use live::{receive_route, status_provider};

use clap::{Args, Subcommand};
use paybridge_core::{Currency, PaymentStatus, RawNotification};
use paybridge_core::http::HttpTransport;
use paybridge_qvickly::sandbox::{self, SANDBOX_MERCHANT_ID, SANDBOX_SECRET, Simulator};
use paybridge_qvickly::api::PaymentAnswer;
use paybridge_qvickly::{
    CallbackVerifier, ForwardClient, PaymentApi, QvicklyCallback, dto_from_callback,
};
use secrecy::SecretString;
use serde_json::{Value, json};

use super::{guid, read_input, secret};
use crate::cli::NetArgs;
use crate::demo::{FlowLog, callback_endpoint, next_callback, sandbox_post};
use crate::output::{CliError, Outcome};
use crate::sandbox::{Mount, SandboxContext};

/// Qvickly: the Payment API, its callbacks, the booking API forward.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Verify a callback (JSON as Qvickly posts it, a form body, or the XML DTO).
    VerifyCallback(VerifyArgs),
    /// Post a callback to the booking API's `POST /payment/billmate/v1/ipncallback` as XML.
    Forward(ForwardArgs),
    /// Create a payment (`addPayment`; the `data` object from a file).
    AddPayment(BodyArgs),
    /// Where a payment stands (`getPaymentinfo`).
    PaymentInfo(NumberArgs),
    /// Capture a payment (`activatePayment`).
    Activate(NumberArgs),
    /// Cancel a payment not activated yet (`cancelPayment`).
    Cancel(NumberArgs),
    /// Refund a payment: all of it, or (`--body`: `partcredit` with the articles and cart) part
    /// (`creditPayment`).
    Credit(CreditArgs),
    /// Change a payment still `Created` (`updatePayment`; `PaymentData.number` in the file).
    UpdatePayment(BodyArgs),
    /// Part-payment plans (`getPaymentplans`).
    PaymentPlans(PlansArgs),
    /// Start a Qvickly Checkout (`initCheckout`; `CheckoutData`, `PaymentData`, `PaymentInfo`,
    /// `Customer`, `Articles`, `Cart` from a file) → its number, hash and page URL.
    InitCheckout(checkout::InitArgs),
    /// A checkout's new cart, or the shop's final orderid (`updateCheckout`).
    UpdateCheckout(checkout::UpdateArgs),
    /// Where a checkout stands, and its payment once completed (`getCheckout`, else
    /// `getOrderByHash`).
    GetCheckout(checkout::GetArgs),
    /// A pay link (`addPayment` with method 256) → its number and page URLs.
    CreatePaylink(BodyArgs),
}

/// Qvickly's Payment API: where, and as whom.
#[derive(Debug, Args)]
pub(crate) struct ApiArgs {
    #[command(flatten)]
    net: OptionalNet,
    /// Merchant id (`credentials.id`).
    #[arg(long, env = "PAYBRIDGE_QVICKLY_ID")]
    id: String,
    /// Qvickly secret (never printed).
    #[arg(long, env = "PAYBRIDGE_QVICKLY_SECRET", hide_env_values = true, value_parser = secret)]
    secret: SecretString,
    /// Mark the call a test (`credentials.test`).
    #[arg(long)]
    test: bool,
}

/// `--endpoint` (default `PAYBRIDGE_QVICKLY_ENDPOINT`) and `--timeout`.
#[derive(Debug, Args)]
pub(crate) struct OptionalNet {
    /// The Payment API (`https://api.qvickly.io/`).
    #[arg(long, env = "PAYBRIDGE_QVICKLY_ENDPOINT")]
    endpoint: String,
    /// Deadline for the whole command's network work, in seconds (more than 0).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    timeout: u64,
}

impl ApiArgs {
    pub(super) fn api(&self) -> Result<PaymentApi, CliError> {
        let transport = HttpTransport::new(
            paybridge_core::http::HttpConfig::default()
                .timeout(std::time::Duration::from_secs(self.net.timeout)),
        )?;
        Ok(
            PaymentApi::new(&self.net.endpoint, self.id.clone(), &self.secret, transport)
                .map_err(paybridge_core::Error::from)?
                .test(self.test),
        )
    }
}

#[derive(Debug, Args)]
pub(crate) struct BodyArgs {
    #[command(flatten)]
    pub(super) api: ApiArgs,
    /// File holding the `data` object (`PaymentData`, `PaymentInfo`, `Customer`, `Articles`, `Cart`; a
    /// path or `-`).
    #[arg(long)]
    pub(super) body: String,
    /// Record the payment in this ledger (`add-payment`: pending, under its `orderid`, for
    /// `Cart.Total.withtax`) before it is sent.
    #[arg(long, env = "PAYBRIDGE_LEDGER", hide_env_values = true)]
    pub(super) ledger: Option<String>,
}

/// The payment `add-payment` records: its `orderid` and `Cart.Total.withtax` (1/100 units).
pub(super) fn recorded_payment(data: &Value) -> Result<paybridge_ledger::NewPayment, CliError> {
    let at = |path: &[&str]| {
        let mut v = Some(data);
        for k in path {
            v = v.and_then(|v| v.get(*k));
        }
        match v {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        }
    };
    let orderid = at(&["PaymentData", "orderid"]);
    let currency = Currency::from_code(&at(&["PaymentData", "currency"]))?;
    let cents: i64 = at(&["Cart", "Total", "withtax"])
        .parse()
        .map_err(|_| CliError::input("Cart.Total.withtax is a whole number of 1/100 units"))?;
    if orderid.is_empty() {
        return Err(CliError::input("PaymentData.orderid is required"));
    }
    let amount = paybridge_core::Money::new(
        rust_decimal::Decimal::new(cents, currency.minor_units()),
        currency,
    )?;
    Ok(paybridge_ledger::NewPayment::new(
        paybridge_qvickly::PROVIDER_ID,
        &orderid,
        PaymentStatus::Pending,
        amount,
    ))
}

/// A call that makes a payment (`addPayment`, `initCheckout`) with a ledger: the payment
/// `data` describes recorded first (pending, under its orderid), then `function` sent once —
/// an unknown outcome says so and leaves the payment for the reconciler; the verified answer
/// must be about that orderid.
pub(super) async fn recorded_then_sent(
    api: &PaymentApi,
    function: &'static str,
    data: &Value,
    ledger_url: &str,
) -> Result<(paybridge_ledger::Ledger, paybridge_ledger::NewPayment, Value), CliError> {
    let payment = recorded_payment(data)?;
    let ledger = crate::store::open(ledger_url).await?;
    crate::store::record_first(&ledger, &payment, "use a new orderid").await?;
    let sent = api
        .call_data(function, data)
        .await
        .map_err(paybridge_core::Error::from);
    let answer = crate::store::sent(
        Some(&ledger),
        paybridge_qvickly::PROVIDER_ID,
        &payment.reference,
        sent,
    )
    .await?;
    let about = answer.get("orderid").and_then(|o| match o {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    });
    if about.as_deref().is_some_and(|o| o != payment.reference) {
        return Err(paybridge_core::Error::Signature(format!(
            "Qvickly answered about order {about:?}, not {:?}",
            payment.reference
        ))
        .into());
    }
    Ok((ledger, payment, answer))
}

/// `qvickly add-payment [--ledger]`: recorded first, then sent once.
async fn add_payment(a: &BodyArgs) -> Result<Outcome, CliError> {
    let data = read_json(&a.body)?;
    let api = a.api.api()?;
    let Some(url) = &a.ledger else {
        return answered(&api.call_data("addPayment", &data).await.map_err(err)?);
    };
    let (ledger, payment, answer) = recorded_then_sent(&api, "addPayment", &data, url).await?;
    let added = PaymentAnswer::from_data(&answer).map_err(err)?;
    let reference = payment.reference.clone();
    let recorded = payment.amount;
    paybridge_core::PaymentRecords::remember(
        &ledger,
        payment.provider_reference(added.number.clone()),
    )
    .await?;
    // Qvickly's signed answer (a card payment answered `Paid` at once) is a report like any
    // other, bound by its signature and orderid to this payment: decided with the recorded
    // amount (Qvickly's answers carry none), source `answer`.
    let mut outcome = paybridge_ledger::Outcome::new(
        &reference,
        added.status.normalized(),
        added.status.as_str(),
    );
    outcome.amount = Some(recorded);
    ledger
        .report(
            paybridge_qvickly::PROVIDER_ID,
            &outcome,
            paybridge_ledger::Source::Answer,
        )
        .await
        .map_err(paybridge_core::Error::from)?;
    Ok(answer_json(&added))
}

#[derive(Debug, Args)]
pub(crate) struct NumberArgs {
    #[command(flatten)]
    api: ApiArgs,
    /// Qvickly's payment number.
    #[arg(long)]
    number: String,
}

#[derive(Debug, Args)]
pub(crate) struct CreditArgs {
    #[command(flatten)]
    api: ApiArgs,
    /// Qvickly's payment number.
    #[arg(long)]
    number: String,
    /// A partial credit: a file with `Articles` and `Cart` (and optionally `PaymentData`).
    #[arg(long, conflicts_with = "ledger")]
    body: Option<String>,
    /// Record the credit against the payment in this ledger (`sqlite://FILE`,
    /// `postgres://…`) before it is sent: never more back than was paid, and a retry with
    /// the same refund id is answered from the ledger — never a second credit.
    #[arg(long, env = "PAYBRIDGE_LEDGER", hide_env_values = true)]
    ledger: Option<String>,
    /// With `--ledger`: your id for this credit (default `<number>-<amount in minor units>`,
    /// or `<number>-rest` for all that is left).
    #[arg(long, requires = "ledger")]
    refund_id: Option<String>,
    /// With `--ledger`: a partial credit of this amount (one article line "Refund"); all
    /// that is left without it.
    #[arg(long, requires = "ledger")]
    amount: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct PlansArgs {
    #[command(flatten)]
    api: ApiArgs,
    /// Country (`se`).
    #[arg(long)]
    country: String,
    /// Currency (`SEK`).
    #[arg(long)]
    currency: String,
    /// Language (`sv`).
    #[arg(long)]
    language: String,
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
    /// Your company's id at the booking API, a GUID (`CompanyId`); with `--merchant M`, M's
    /// (`merchants add --company-id`).
    #[arg(long, env = "PAYBRIDGE_QVICKLY_COMPANY_ID", value_parser = guid)]
    company_id: Option<String>,
    /// The booking this payment belongs to (`BookingId`).
    #[arg(long)]
    booking_id: Option<i32>,
}

pub(crate) async fn run(command: Command) -> Result<Outcome, CliError> {
    match command {
        Command::VerifyCallback(args) => verify(&args),
        Command::Forward(args) => forward(&args).await,
        Command::AddPayment(a) => add_payment(&a).await,
        Command::UpdatePayment(a) => {
            let data = read_json(&a.body)?;
            answered(&a.api.api()?.call_data("updatePayment", &data).await.map_err(err)?)
        }
        Command::Activate(a) => Ok(answer_json(
            &a.api.api()?.activate(&a.number).await.map_err(err)?,
        )),
        Command::Cancel(a) => Ok(answer_json(
            &a.api.api()?.cancel(&a.number).await.map_err(err)?,
        )),
        Command::Credit(a) => credit(&a).await,
        Command::InitCheckout(a) => checkout::init(&a).await,
        Command::UpdateCheckout(a) => checkout::update(&a).await,
        Command::GetCheckout(a) => checkout::get(&a).await,
        Command::CreatePaylink(a) => checkout::paylink(&a).await,
        Command::PaymentInfo(a) => payment_info(&a).await,
        Command::PaymentPlans(a) => {
            let plans = a
                .api
                .api()?
                .payment_plans(&a.country, Currency::from_code(&a.currency)?, &a.language)
                .await
                .map_err(err)?;
            let plans: Vec<Value> = plans
                .iter()
                .map(|p| json!({"id": p.id, "description": p.description, "months": p.months, "monthly_cost": p.monthly_cost}))
                .collect();
            Ok(Outcome::ok(json!({ "plans": plans })))
        }
    }
}

pub(super) fn err(e: paybridge_qvickly::QvicklyError) -> CliError {
    paybridge_core::Error::from(e).into()
}

pub(super) fn read_json(path: &str) -> Result<Value, CliError> {
    let text = read_input(path)?;
    let v: Value = serde_json::from_slice(&text)
        .map_err(|e| CliError::input(format!("{path}: not JSON: {e}")))?;
    if !v.is_object() {
        return Err(CliError::input(format!("{path}: the data is a JSON object")));
    }
    Ok(v)
}

/// A payment answer as the contract prints it: `number`, `status`, `provider_status`,
/// `order_id`, `url`; a cancelled payment exits 1.
pub(super) fn answer_json(a: &PaymentAnswer) -> Outcome {
    let status = a.status.normalized();
    let mut outcome = Outcome::ok(json!({
        "number": a.number,
        "status": status.as_str(),
        "provider_status": a.status.as_str(),
        "order_id": a.orderid,
        "url": a.url,
    }));
    if matches!(status, PaymentStatus::Cancelled | PaymentStatus::Failed) {
        outcome.exit = 1;
    }
    outcome
}

fn answered(data: &Value) -> Result<Outcome, CliError> {
    Ok(answer_json(&PaymentAnswer::from_data(data).map_err(err)?))
}

/// `qvickly credit`: all of it, or the articles and cart of `--body` (`partcredit`).
/// `qvickly credit --ledger`: through `Ledger::refund`, like every refund — the sum rule and
/// the refund id checked before anything is sent, sent once.
async fn credit_recorded(a: &CreditArgs, url: &str) -> Result<Outcome, CliError> {
    let api = a.api.api()?;
    // The ledger keys the payment by its orderid: Qvickly says which it is (a read).
    let details = api.payment_info(&a.number).await.map_err(err)?;
    let reference = details.orderid.clone().ok_or_else(|| {
        CliError::input(format!("Qvickly gives no orderid for payment {}", a.number))
    })?;
    let amount = match (&a.amount, details.currency) {
        (Some(text), Some(currency)) => Some(paybridge_core::Money::parse(text, currency)?),
        (Some(_), None) => {
            return Err(CliError::input(format!(
                "Qvickly gives no currency for payment {}",
                a.number
            )));
        }
        (None, _) => None,
    };
    let refund_id = a.refund_id.clone().unwrap_or_else(|| {
        format!(
            "{}-{}",
            a.number,
            amount.map_or_else(|| "rest".to_owned(), crate::store::minor_units_text)
        )
    });
    let ledger = std::sync::Arc::new(crate::store::open(url).await?);
    let verifier = paybridge_qvickly::CallbackVerifier::new(Some(a.api.id.clone()), &a.api.secret)
        .map_err(err)?;
    let provider = paybridge_qvickly::QvicklyProvider::new(
        verifier,
        paybridge_core::Stores::in_memory().records(ledger.clone()),
    )
    .with_api(api);
    let request = match amount {
        Some(amount) => paybridge_core::RefundRequest::partial(&refund_id, amount),
        None => paybridge_core::RefundRequest::full(&refund_id),
    };
    let payment = paybridge_core::PaymentRef {
        reference: reference.clone(),
        provider_reference: Some(a.number.clone()),
    };
    let r = crate::store::refund_through(&ledger, &provider, &payment, request).await?;
    Ok(Outcome::ok(json!({
        "credited_payment": a.number,
        "order_id": reference,
        "refund_id": refund_id,
        "number": r.provider_refund_id,
        "refunded": r.amount.amount_string(),
        "status": r.status.as_str(),
        "repeat": r.repeat,
        "payment_status": r.payment_status,
    })))
}

async fn credit(a: &CreditArgs) -> Result<Outcome, CliError> {
    if let Some(url) = &a.ledger {
        return credit_recorded(a, url).await;
    }
    let api = a.api.api()?;
    let data = match &a.body {
        None => json!({"PaymentData": {"number": a.number, "partcredit": "false"}}),
        Some(path) => {
            let mut data = read_json(path)?;
            if let Some(map) = data.as_object_mut() {
                let pd = map.entry("PaymentData").or_insert_with(|| json!({}));
                if let Some(pd) = pd.as_object_mut() {
                    pd.insert("number".into(), json!(a.number));
                    pd.insert("partcredit".into(), json!("true"));
                }
            }
            data
        }
    };
    let credited = api.call_data("creditPayment", &data).await.map_err(err)?;
    let mut outcome = answered(&credited)?;
    if let Some(map) = outcome.value.as_mut().and_then(Value::as_object_mut) {
        map.insert("credited_payment".into(), json!(a.number));
        map.insert("status".into(), json!("succeeded"));
    }
    outcome.exit = 0;
    Ok(outcome)
}

/// `qvickly payment-info`: status, method, total and the order.
async fn payment_info(a: &NumberArgs) -> Result<Outcome, CliError> {
    let d = a.api.api()?.payment_info(&a.number).await.map_err(err)?;
    Ok(Outcome::ok(json!({
        "number": a.number,
        "status": d.status.normalized().as_str(),
        "provider_status": d.status.as_str(),
        "order_id": d.orderid,
        "method": d.method.map(paybridge_qvickly::api::PaymentMethod::code),
        "currency": d.currency.map(|c| c.code().to_owned()),
        "total": d.total.map(|t| t.amount_string()),
        "distributor_status": d.distributor_status.map(|s| s.as_str().to_owned()),
    })))
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
        apis: vec![("qvickly-api", paybridge_qvickly::sandbox::api::API_PATH)],
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

