//! `paybridge trigger <provider> <outcome>`: make a payment reach an outcome in a running
//! `paybridge dev`, the way a merchant and the provider would — the payment created with
//! `--ledger` by this very binary's payment command, paid (or called off) on the sandbox's
//! page or API, its callback delivered to dev's receiver — and print it once the ledger has
//! the change.

use std::time::Duration;

use clap::Args;
use paybridge_core::PaymentStatus;
use serde_json::{Value, json};

use crate::output::{CliError, Outcome};

/// `paybridge trigger`.
#[derive(Debug, Args)]
pub(crate) struct TriggerArgs {
    /// The provider: `card-charging`, `woopay`, `payoo`, `qvickly` or `linkifier`.
    provider: String,
    /// The outcome: card-charging `succeeded`, `wrong-amount`, `failed`, `pending` (answered
    /// pending; the gateway's callback settles it a moment later); woopay and payoo `paid`,
    /// `wrong-amount`; qvickly `paid`, `cancelled`; linkifier `sale`, `refund`.
    outcome: String,
    /// The payment's reference (default: a fresh one).
    #[arg(long)]
    reference: Option<String>,
    /// The amount (card: a face value, default 50000 VND; woopay 1500 KZT; payoo 300000 VND;
    /// qvickly 312.50 SEK; linkifier 19.99 USD).
    #[arg(long)]
    amount: Option<String>,
    /// Payoo: notify with the JSON package instead of the XML one.
    #[arg(long)]
    json_notify: bool,
    /// A running `paybridge dev` (its `dev` URL; default the last one started here).
    #[arg(long)]
    dev: Option<String>,
    /// Its ledger (default the one the last `dev` printed).
    #[arg(long, env = "PAYBRIDGE_LEDGER", hide_env_values = true)]
    ledger: Option<String>,
}

/// What the trigger waits for in the ledger.
enum Until {
    /// Any status but `pending` (the payment settled, one way or another).
    Settled,
    /// Recorded, still pending (a payment left open on purpose).
    Recorded,
    /// This status.
    Status(PaymentStatus),
}

/// Where a trigger runs: the running dev, its ledger (the URL the payment commands are given,
/// and the ledger itself, opened once, that the trigger reads and records in), the payment's
/// reference.
struct Target {
    dev: String,
    ledger: String,
    store: paybridge_ledger::Ledger,
    reference: String,
}

/// Make a payment reach an outcome in a running `dev`; printed once the ledger has it.
pub(crate) async fn trigger(args: TriggerArgs) -> Result<Outcome, CliError> {
    let last: Value = std::fs::read(crate::dev::last_dev_file())
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null);
    let recorded = |key: &str| last.get(key).and_then(Value::as_str).map(str::to_owned);
    let dev = args
        .dev
        .clone()
        .or_else(|| recorded("dev"))
        .ok_or_else(|| CliError::input("no running `paybridge dev` found: give --dev URL"))?;
    let ledger = args
        .ledger
        .clone()
        .or_else(|| recorded("ledger"))
        .ok_or_else(|| CliError::input("give --ledger (the ledger `paybridge dev` printed)"))?;
    let store = paybridge_ledger::Ledger::open_existing(&ledger, Duration::from_secs(10))
        .await
        .map_err(paybridge_core::Error::from)?;
    let target = Target {
        dev,
        ledger,
        store,
        reference: args
            .reference
            .clone()
            .unwrap_or_else(|| format!("trg-{}", paybridge_ledger::now_ms())),
    };
    let (provider, until) = match args.provider.as_str() {
        "card-charging" => card(&args, &target).await?,
        "woopay" => woopay(&args, &target).await?,
        "payoo" => payoo(&args, &target).await?,
        "qvickly" => qvickly(&args, &target).await?,
        "linkifier" | "linkifier-ipn" => linkifier(&args, &target).await?,
        other => {
            return Err(CliError::input(format!(
                "trigger knows card-charging, woopay, payoo, qvickly and linkifier, not {other:?}"
            )));
        }
    };
    let status = wait(&target, provider, &until).await?;
    Ok(Outcome::payment(
        json!({"provider": provider, "reference": target.reference, "status": status.as_str()}),
        status,
    ))
}

/// The payment's status once it is what `until` asks (30 s at most).
async fn wait(target: &Target, provider: &str, until: &Until) -> Result<PaymentStatus, CliError> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let status = target
            .store
            .payment(provider, &target.reference)
            .await
            .map_err(paybridge_core::Error::from)?
            .map(|p| p.payment.status);
        let reached = match (until, status) {
            (_, None) => false,
            (Until::Recorded, Some(_)) => true,
            (Until::Settled, Some(s)) => s != PaymentStatus::Pending,
            (Until::Status(want), Some(s)) => s == *want,
        };
        if let (true, Some(status)) = (reached, status) {
            return Ok(status);
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(CliError::from(paybridge_core::Error::Timeout(
                Duration::from_secs(30),
            )));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Run this binary with `args` and `env`; its JSON answer when it exited 0 or 1.
async fn this_binary(args: &[&str], env: &[(&str, &str)]) -> Result<Value, CliError> {
    let exe = std::env::current_exe()
        .map_err(|e| CliError::internal(format!("cannot find this binary: {e}")))?;
    let mut command = std::process::Command::new(exe);
    command.args(args).envs(env.iter().copied());
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

/// A field of a command's JSON answer.
fn field(answer: &Value, name: &str) -> Result<String, CliError> {
    answer
        .get(name)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| CliError::internal(format!("the answer has no {name}: {answer}")))
}

/// Press a button on a hosted page, as the payer's browser posts it.
async fn press(page: &str, choice: paybridge_core::sandbox::page::Choice) -> Result<(), CliError> {
    let transport = paybridge_core::http::HttpTransport::with_defaults()?;
    let pressed = transport
        .send(
            paybridge_core::http::HttpRequest::post(page, format!("choice={}", choice.value()))
                .header(
                    http::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                ),
        )
        .await;
    match pressed {
        // The page sends the payer back to the shop: a redirect is its answer (our
        // transport reports redirects instead of following them).
        Ok(_)
        | Err(paybridge_core::Error::Transport {
            status: Some(300..=399),
            ..
        }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// An unknown outcome for `provider`.
fn outcomes(provider: &str, known: &str, given: &str) -> CliError {
    CliError::input(format!("{provider} outcomes: {known} (not {given:?})"))
}

/// A card charged with `--ledger`: the card sandbox picks the outcome by the code's last digit.
async fn card(args: &TriggerArgs, t: &Target) -> Result<(&'static str, Until), CliError> {
    use paybridge_card_charging::sandbox as sb;
    let (code, until) = match args.outcome.as_str() {
        "succeeded" => ("312821445892981", Until::Settled),
        "wrong-amount" => ("312821445892982", Until::Settled),
        "failed" => ("312821445892983", Until::Settled),
        "pending" => ("312821445892989", Until::Recorded),
        other => {
            return Err(outcomes(
                "card-charging",
                "succeeded, wrong-amount, failed, pending",
                other,
            ));
        }
    };
    let endpoint = format!("{}{}", t.dev, sb::ENDPOINT_PATH);
    let amount = args.amount.as_deref().unwrap_or("50000");
    this_binary(
        &[
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
            amount,
            "--request-id",
            &t.reference,
            "--ledger",
            &t.ledger,
        ],
        &[
            ("PAYBRIDGE_CARD_PARTNER_ID", sb::SANDBOX_PARTNER_ID),
            ("PAYBRIDGE_CARD_PARTNER_KEY", sb::SANDBOX_PARTNER_KEY),
        ],
    )
    .await?;
    Ok((paybridge_card_charging::PROVIDER_ID, until))
}

/// The page's button for a page-paid outcome (`paid`, `wrong-amount`).
fn paid_choice(
    provider: &str,
    outcome: &str,
) -> Result<paybridge_core::sandbox::page::Choice, CliError> {
    use paybridge_core::sandbox::page::Choice;
    match outcome {
        "paid" => Ok(Choice::Pay),
        "wrong-amount" => Ok(Choice::PayWrongAmount),
        other => Err(outcomes(provider, "paid, wrong-amount", other)),
    }
}

/// A Wooppay invoice created with `--ledger` (its `requestUrl` is dev's receiver), paid on
/// the invoice's page; the receiver confirms it with `cash_getOperationData`.
async fn woopay(args: &TriggerArgs, t: &Target) -> Result<(&'static str, Until), CliError> {
    use paybridge_woopay::sandbox as sb;
    let choice = paid_choice("woopay", &args.outcome)?;
    let endpoint = format!("{}{}", t.dev, sb::ENDPOINT_PATH);
    let (back, request_url) = (
        format!("{}/", t.dev),
        format!("{}/receive/woopay/request-url", t.dev),
    );
    let created = this_binary(
        &[
            "--json",
            "woopay",
            "create-invoice",
            "--endpoint",
            &endpoint,
            "--reference-id",
            &t.reference,
            "--amount",
            args.amount.as_deref().unwrap_or("1500"),
            "--description",
            "paybridge trigger",
            "--back-url",
            &back,
            "--request-url",
            &request_url,
            "--ledger",
            &t.ledger,
        ],
        &[
            ("PAYBRIDGE_WOOPAY_USERNAME", sb::SANDBOX_USERNAME),
            ("PAYBRIDGE_WOOPAY_PASSWORD", sb::SANDBOX_PASSWORD),
        ],
    )
    .await?;
    press(&field(&created, "operation_url")?, choice).await?;
    Ok((paybridge_woopay::PROVIDER_ID, Until::Settled))
}

/// A Payoo checkout order created with `--ledger` (notified to dev's receiver, XML or with
/// `--json-notify` JSON), paid on its page.
async fn payoo(args: &TriggerArgs, t: &Target) -> Result<(&'static str, Until), CliError> {
    use paybridge_payoo::sandbox as sb;
    let choice = paid_choice("payoo", &args.outcome)?;
    let endpoint = format!("{}{}", t.dev, sb::checkout::CREATE_PATH);
    let (back, notify) = (
        format!("{}/", t.dev),
        format!("{}/receive/payoo/notify", t.dev),
    );
    let mut command = vec![
        "--json",
        "payoo",
        "checkout",
        "--endpoint",
        &endpoint,
        "--order-no",
        &t.reference,
        "--amount",
        args.amount.as_deref().unwrap_or("300000"),
        "--description",
        "paybridge trigger: an order paid on the Payoo sandbox's checkout page",
        "--shop-id",
        "11495",
        "--business-username",
        "SB_Shop",
        "--shop-title",
        "Trigger shop",
        "--shop-domain",
        &t.dev,
        "--refer",
        &t.dev,
        "--back-url",
        &back,
        "--notify-url",
        &notify,
        "--ledger",
        &t.ledger,
    ];
    if args.json_notify {
        command.push("--json-notify");
    }
    let created = this_binary(
        &command,
        &[
            ("PAYBRIDGE_PAYOO_USERNAME", sb::SANDBOX_USERNAME),
            ("PAYBRIDGE_PAYOO_PASSWORD", sb::SANDBOX_PASSWORD),
            ("PAYBRIDGE_PAYOO_SIGNATURE", sb::SANDBOX_SIGNATURE),
            ("PAYBRIDGE_PAYOO_CHECKSUM_KEY", sb::SANDBOX_CHECKSUM_KEY),
        ],
    )
    .await?;
    press(&field(&created, "payment_url")?, choice).await?;
    Ok((paybridge_payoo::PROVIDER_ID, Until::Settled))
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
    Ok(json!({
        "PaymentData": {"method": "8", "currency": "SEK", "language": "sv", "country": "SE",
            "orderid": reference, "autoactivate": "1", "callbackurl": callback,
            "accepturl": format!("{dev}/"), "cancelurl": format!("{dev}/")},
        "Customer": {"Billing": {"firstname": "Test", "lastname": "Payer", "email": "payer@example.se"}},
        "Articles": [{"artnr": "T-1", "title": "Trigger", "quantity": "1", "aprice": cents,
            "taxrate": "0", "discount": "0", "withouttax": cents}],
        "Cart": {"Total": {"withouttax": cents, "tax": "0", "rounding": "0", "withtax": cents}}
    }))
}

/// Write `body` to a file of its own for a `--body`/`--ipn` flag; removed by the caller.
fn body_file(name: &str, body: &Value) -> Result<std::path::PathBuf, CliError> {
    let file = std::env::temp_dir().join(format!("paybridge-trigger-{name}.json"));
    std::fs::write(&file, body.to_string())
        .map_err(|e| CliError::internal(format!("cannot write {}: {e}", file.display())))?;
    Ok(file)
}

/// A Qvickly card payment added with `--ledger` (its callback to dev's receiver), then paid
/// — or declined — on the sandbox's payment page, which sends Qvickly's signed callback.
async fn qvickly(args: &TriggerArgs, t: &Target) -> Result<(&'static str, Until), CliError> {
    use paybridge_core::sandbox::page::Choice;
    use paybridge_qvickly::sandbox as sb;
    let choice = match args.outcome.as_str() {
        "paid" => Choice::Pay,
        "cancelled" => Choice::Decline,
        other => return Err(outcomes("qvickly", "paid, cancelled", other)),
    };
    let callback = format!("{}/receive/qvickly/callback", t.dev);
    let data = qvickly_payment(args.amount.as_deref(), &t.reference, &t.dev, &callback)?;
    let file = body_file(&t.reference, &data)?;
    let api = format!("{}{}", t.dev, sb::api::API_PATH);
    let body = file.display().to_string();
    let added = this_binary(
        &[
            "--json",
            "qvickly",
            "add-payment",
            "--endpoint",
            &api,
            "--body",
            &body,
            "--ledger",
            &t.ledger,
        ],
        &[
            ("PAYBRIDGE_QVICKLY_ID", sb::SANDBOX_MERCHANT_ID),
            ("PAYBRIDGE_QVICKLY_SECRET", sb::SANDBOX_SECRET),
        ],
    )
    .await;
    let _ = std::fs::remove_file(&file);
    press(&field(&added?, "url")?, choice).await?;
    Ok((paybridge_qvickly::PROVIDER_ID, Until::Settled))
}

/// A Linkifier sale: the merchant records the transaction it expects (Linkifier's checkout
/// is not created through an API), then Linkifier's IPN arrives at dev's receiver; `refund`
/// sends the sale's refund IPN after it.
async fn linkifier(args: &TriggerArgs, t: &Target) -> Result<(&'static str, Until), CliError> {
    use paybridge_linkifier_ipn::PROVIDER_ID;
    let refund = match args.outcome.as_str() {
        "sale" => false,
        "refund" => true,
        other => return Err(outcomes("linkifier", "sale, refund", other)),
    };
    let amount = paybridge_core::Money::parse(
        args.amount.as_deref().unwrap_or("19.99"),
        paybridge_core::Currency::USD,
    )?;
    crate::store::record_first(
        &t.store,
        &paybridge_ledger::NewPayment::new(
            PROVIDER_ID,
            &t.reference,
            PaymentStatus::Pending,
            amount,
        ),
        "use a fresh --reference",
    )
    .await?;
    let mut ipn = this_binary(&["--json", "linkifier-ipn", "template"], &[]).await?;
    let endpoint = format!("{}/receive/linkifier/ipn", t.dev);
    let key = paybridge_linkifier_ipn::sandbox::SANDBOX_KEY;
    let mut send = async |message: &str| -> Result<(), CliError> {
        if let Some(fields) = ipn.as_object_mut() {
            fields.insert("pay_transaction_id".into(), json!(t.reference));
            fields.insert(
                "pay_provider_amount".into(),
                json!(amount.amount().to_string()),
            );
            fields.insert("message_type".into(), json!(message));
        }
        let file = body_file(&format!("{}-{message}", t.reference), &ipn)?;
        let path = file.display().to_string();
        let sent = this_binary(
            &[
                "--json",
                "linkifier-ipn",
                "send",
                "--endpoint",
                &endpoint,
                "--ipn",
                &path,
            ],
            &[("PAYBRIDGE_LINKIFIER_KEY", key)],
        )
        .await;
        let _ = std::fs::remove_file(&file);
        sent.map(drop)
    };
    send("sale").await?;
    if !refund {
        return Ok((PROVIDER_ID, Until::Settled));
    }
    wait(t, PROVIDER_ID, &Until::Settled).await?;
    send("refund").await?;
    Ok((PROVIDER_ID, Until::Status(PaymentStatus::Reversed)))
}
