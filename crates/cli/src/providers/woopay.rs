//! `paybridge woopay …`: every Wooppay operation.


use clap::{Args, Subcommand};
use paybridge_core::http::HttpTransport;
use paybridge_core::{Currency, InMemorySeenStore, Money};
use paybridge_woopay::sandbox::{self, SANDBOX_PASSWORD, SANDBOX_USERNAME, Simulator};
use paybridge_woopay::{
    Client, ExtendedInvoiceRequest, Invoice, Invoice2ExtendedRequest, InvoiceRequest, Operation,
    Config,
};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use super::{amount_json, secret};
use crate::cli::NetArgs;
use crate::demo::{FlowLog, callback_endpoint, next_callback, sandbox_post};
use crate::output::{CliError, Outcome};
use crate::sandbox::{Mount, SandboxContext};

/// Wooppay invoices (every command logs in first).
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Log in and print the session and the merchant user (`core_login`).
    Login(Creds),
    /// Create an invoice the payer pays on Wooppay's page (`cash_createInvoice`).
    CreateInvoice(CreateArgs),
    /// Create an invoice paid from the payer's phone balance (`cash_createInvoiceExtended`).
    CreateInvoiceExtended(ExtendedArgs),
    /// `cash_createInvoice2Extended`: card binding (service type 4).
    CreateInvoice2Extended(TwoExtendedArgs),
    /// Create an invoice for a named Wooppay service (`cash_createInvoiceByService`).
    CreateInvoiceByService(ByServiceArgs),
    /// Send the payer the SMS code a phone-balance payment needs (`core_requestConfirmationCode`).
    RequestConfirmationCode(PhoneArgs),
    /// The merchant wallet's balance (`cash_getBalance`).
    Balance(Creds),
    /// Where operations stand: status, sums, parties (`cash_getOperationData`).
    OperationData(OperationArgs),
    /// What a `requestUrl` handler does: ask Wooppay for the operation; paid (status 4) →
    /// exit 0, any other status → exit 1 with it.
    Confirm(ConfirmArgs),
    /// The operation created for your own reference (`cash_getOperationDataByExtId`): how an
    /// invoice whose creation timed out is found.
    Find(FindArgs),
    /// Give a paid operation's money back: all that is left (`cash_paymentReturn`) or
    /// `--amount` of it (`cash_paymentReturnPartial`). Never resent.
    Refund(RefundArgs),
    /// Decline (cancel) an operation not paid yet (`cash_decline`).
    Decline(OperationIdArgs),
}

#[derive(Debug, Args)]
pub(crate) struct RefundArgs {
    #[command(flatten)]
    creds: Creds,
    /// The paid operation.
    #[arg(long)]
    operation_id: i64,
    /// How much to give back (KZT); all that is left when absent.
    #[arg(long)]
    amount: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct OperationIdArgs {
    #[command(flatten)]
    creds: Creds,
    /// The operation.
    #[arg(long)]
    operation_id: i64,
}

#[derive(Debug, Args)]
pub(crate) struct FindArgs {
    #[command(flatten)]
    creds: Creds,
    /// Your reference (`externalId`: the invoice's `referenceId`).
    #[arg(long)]
    reference_id: String,
    /// The operation type (4: an invoice paid by the payer).
    #[arg(long = "type", default_value_t = paybridge_woopay::INVOICE_OPERATION_TYPE)]
    op_type: i64,
}

#[derive(Debug, Args)]
pub(crate) struct Creds {
    #[command(flatten)]
    net: NetArgs,
    /// Merchant login.
    #[arg(long, env = "PAYBRIDGE_WOOPAY_USERNAME")]
    username: String,
    /// Merchant password (never printed).
    #[arg(long, env = "PAYBRIDGE_WOOPAY_PASSWORD", hide_env_values = true, value_parser = secret)]
    password: SecretString,
}

impl Creds {
    fn client(&self) -> Result<Client, CliError> {
        let transport = HttpTransport::new(self.net.http_config())?;
        Ok(Client::new(
            Config::new(self.net.endpoint.clone(), self.username.clone(), self.password.clone()),
            transport,
        )
        .map_err(paybridge_core::Error::from)?)
    }
}

#[derive(Debug, Args)]
pub(crate) struct CreateArgs {
    #[command(flatten)]
    creds: Creds,
    /// Your order id (`referenceId`); never reuse it for another invoice.
    #[arg(long)]
    reference_id: String,
    /// Amount to pay in KZT (`100`, `100.50`); more than 0.
    #[arg(long, allow_negative_numbers = true)]
    amount: String,
    /// Where the payer returns after paying (`backUrl`).
    #[arg(long)]
    back_url: String,
    /// Your URL Wooppay calls once the invoice is paid (`requestUrl`).
    #[arg(long)]
    request_url: String,
    /// Extra text for the invoice (`addInfo`).
    #[arg(long)]
    add_info: Option<String>,
    /// When the invoice expires and can no longer be paid, `YYYY-MM-DD HH:MM:SS`
    /// (`deathDate`).
    #[arg(long)]
    death_date: Option<String>,
    /// What is paid for, shown to the payer (`description`).
    #[arg(long)]
    description: Option<String>,
    /// Record the invoice (reference → operation id) in this ledger; `reference=R` is then
    /// added to the `requestUrl`, so that `paybridge receive --woopay-endpoint` finds it.
    #[arg(long)]
    ledger: Option<String>,
}

impl CreateArgs {
    fn invoice(&self) -> Result<InvoiceRequest, CliError> {
        let request_url = if self.ledger.is_some() {
            let pair: String = form_urlencoded::Serializer::new(String::new())
                .append_pair("reference", &self.reference_id)
                .finish();
            let sep = if self.request_url.contains('?') {
                '&'
            } else {
                '?'
            };
            format!("{}{sep}{pair}", self.request_url)
        } else {
            self.request_url.clone()
        };
        let mut inv = InvoiceRequest::new(
            self.reference_id.clone(),
            Money::parse(&self.amount, Currency::KZT)?,
            self.back_url.clone(),
            request_url,
        );
        inv.add_info.clone_from(&self.add_info);
        inv.death_date.clone_from(&self.death_date);
        inv.description.clone_from(&self.description);
        Ok(inv)
    }

    /// With `--ledger`: the invoice recorded as pending **before** it is sent, so that one
    /// whose creation times out is still known (and found by its reference); a reference the
    /// ledger already holds is refused.
    async fn record_before(&self) -> Result<Option<paybridge_ledger::Ledger>, CliError> {
        let Some(url) = &self.ledger else {
            return Ok(None);
        };
        let ledger = crate::ledger::open(url).await?;
        let payment = paybridge_ledger::NewPayment::new(
            paybridge_woopay::PROVIDER_ID,
            &self.reference_id,
            paybridge_core::PaymentStatus::Pending,
            Money::parse(&self.amount, Currency::KZT)?,
        );
        crate::ledger::record_first(&ledger, &payment, "use a new reference").await?;
        Ok(Some(ledger))
    }

    /// The result of a create: the invoice, its operation id added to the ledger's record.
    async fn finish(
        &self,
        ledger: Option<paybridge_ledger::Ledger>,
        sent: Result<Invoice, paybridge_woopay::WoopayError>,
    ) -> Result<Outcome, CliError> {
        let invoice = &crate::ledger::sent(
            ledger.as_ref(),
            paybridge_woopay::PROVIDER_ID,
            &self.reference_id,
            sent.map_err(paybridge_core::Error::from),
        )
        .await?;
        if let Some(ledger) = ledger {
            let payment = paybridge_ledger::NewPayment::new(
                paybridge_woopay::PROVIDER_ID,
                &self.reference_id,
                paybridge_core::PaymentStatus::Pending,
                Money::parse(&self.amount, Currency::KZT)?,
            )
            .provider_reference(invoice.operation_id.to_string());
            paybridge_core::PaymentRecords::remember(&ledger, payment).await?;
        }
        Ok(Outcome::ok(invoice_json(invoice)))
    }
}

#[derive(Debug, Args)]
pub(crate) struct ExtendedArgs {
    #[command(flatten)]
    create: CreateArgs,
    /// The payer's phone, charged (`userPhone`).
    #[arg(long)]
    user_phone: String,
    /// The payer's e-mail (`userEmail`).
    #[arg(long)]
    user_email: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct TwoExtendedArgs {
    #[command(flatten)]
    create: CreateArgs,
    /// 1: the payer may pay from the Wooppay wallet only, not by card (`cardForbidden`).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=1))]
    card_forbidden: u8,
    /// The payer's e-mail (`userEmail`).
    #[arg(long)]
    user_email: Option<String>,
    /// The payer's phone (`userPhone`).
    #[arg(long)]
    user_phone: Option<String>,
}

impl TwoExtendedArgs {
    fn request(&self) -> Result<Invoice2ExtendedRequest, CliError> {
        Ok(Invoice2ExtendedRequest {
            invoice: self.create.invoice()?,
            card_forbidden: self.card_forbidden == 1,
            user_email: self.user_email.clone(),
            user_phone: self.user_phone.clone(),
        })
    }
}

#[derive(Debug, Args)]
pub(crate) struct ByServiceArgs {
    #[command(flatten)]
    two: TwoExtendedArgs,
    /// The Wooppay service the invoice is for (`serviceName`).
    #[arg(long)]
    service_name: String,
}

#[derive(Debug, Args)]
pub(crate) struct PhoneArgs {
    #[command(flatten)]
    creds: Creds,
    /// Phone to send the code to.
    #[arg(long)]
    phone: String,
}

#[derive(Debug, Args)]
pub(crate) struct OperationArgs {
    #[command(flatten)]
    creds: Creds,
    /// Operation id (repeat for several).
    #[arg(long = "operation-id", required = true)]
    operation_ids: Vec<i64>,
}

#[derive(Debug, Args)]
pub(crate) struct ConfirmArgs {
    #[command(flatten)]
    creds: Creds,
    /// The operation id of the invoice (`operation_id` of `create-invoice`).
    #[arg(long = "operation-id")]
    operation_id: i64,
}

fn invoice_json(i: &Invoice) -> Value {
    json!({"operation_id": i.operation_id, "operation_url": i.operation_url})
}

fn operation_json(o: &Operation) -> Value {
    json!({
        "id": o.id,
        "type": o.op_type.code(),
        "status": o.status.normalized().as_str(),
        "provider_status": o.status.code(),
        "sum": amount_json(o.sum),
        "fee": amount_json(o.fee),
        "date": o.date,
        "comment": o.comment,
        "from_subject": o.from_subject,
        "to_subject": o.to_subject,
        "from_full_name": o.from_full_name,
        "to_full_name": o.to_full_name,
    })
}

fn err(e: paybridge_woopay::WoopayError) -> CliError {
    paybridge_core::Error::from(e).into()
}

/// `woopay refund`: `--amount` of a paid operation back, or all that is left.
async fn refund(a: &RefundArgs) -> Result<Outcome, CliError> {
    let client = a.creds.client()?;
    let refunded = if let Some(amount) = &a.amount {
        let amount = Money::parse(amount, Currency::KZT)?;
        client
            .payment_return_partial(a.operation_id, amount)
            .await
            .map_err(err)?;
        amount
    } else {
        // A full return gives back the operation's sum (less earlier refunds, which Wooppay
        // does not report): read it first.
        let sum = client
            .operation(a.operation_id)
            .await
            .map_err(err)?
            .sum
            .ok_or_else(|| CliError::input("Wooppay returned no sum for the operation"))?;
        client.payment_return(a.operation_id).await.map_err(err)?;
        sum
    };
    Ok(Outcome::ok(json!({
        "operation_id": a.operation_id,
        "refunded": refunded.amount_string(),
        "status": "succeeded",
    })))
}

/// `woopay confirm`: the operation confirmed paid (exit 0), or as it stands (exit 1).
async fn confirm(a: &ConfirmArgs) -> Result<Outcome, CliError> {
    let client = a.creds.client()?;
    match client.confirm_payment(a.operation_id).await {
        Ok(op) => Ok(Outcome::ok(operation_json(&op))),
        // Known but not paid: the operation itself, exit 1.
        Err(paybridge_woopay::WoopayError::NotConfirmed(_)) => {
            let ops = client
                .operation_data(&[a.operation_id])
                .await
                .map_err(err)?;
            let op = ops.iter().find(|o| o.id == a.operation_id).ok_or_else(|| {
                CliError::from(paybridge_core::Error::Signature(format!(
                    "Wooppay does not know operation {}",
                    a.operation_id
                )))
            })?;
            let mut outcome = Outcome::ok(operation_json(op));
            outcome.exit = 1;
            Ok(outcome)
        }
        Err(e) => Err(err(e)),
    }
}

pub(crate) async fn run(command: Command) -> Result<Outcome, CliError> {
    match command {
        Command::Login(c) => {
            let info = c.client()?.login().await.map_err(err)?;
            Ok(Outcome::ok(json!({
                "session": info.session.expose_secret(),
                "user_id": info.user_id,
                "username": info.username,
                "roles": info.roles,
            })))
        }
        Command::CreateInvoice(a) => {
            let inv = a.invoice()?;
            let ledger = a.record_before().await?;
            let sent = a.creds.client()?.create_invoice(&inv).await;
            a.finish(ledger, sent).await
        }
        Command::CreateInvoiceExtended(a) => {
            let req = ExtendedInvoiceRequest {
                confirmation_code: a.create.add_info.clone().unwrap_or_default(),
                invoice: a.create.invoice()?,
                user_phone: a.user_phone.clone(),
                user_email: a.user_email.clone(),
            };
            let ledger = a.create.record_before().await?;
            let sent = a.create.creds.client()?.create_invoice_extended(&req).await;
            a.create.finish(ledger, sent).await
        }
        Command::CreateInvoice2Extended(a) => {
            let req = a.request()?;
            let ledger = a.create.record_before().await?;
            let sent = a.create.creds.client()?.create_invoice_2_extended(&req).await;
            a.create.finish(ledger, sent).await
        }
        Command::CreateInvoiceByService(a) => {
            let req = a.two.request()?;
            let ledger = a.two.create.record_before().await?;
            let sent = a
                .two
                .create
                .creds
                .client()?
                .create_invoice_by_service(&a.service_name, &req)
                .await;
            a.two.create.finish(ledger, sent).await
        }
        Command::RequestConfirmationCode(a) => {
            let sent = a
                .creds
                .client()?
                .request_confirmation_code(&a.phone)
                .await
                .map_err(err)?;
            Ok(Outcome::ok(json!({"sent": sent})))
        }
        Command::Balance(c) => {
            let amount = c.client()?.balance().await.map_err(err)?;
            Ok(Outcome::ok(json!({"amount": amount.amount_string()})))
        }
        Command::Confirm(a) => confirm(&a).await,
        Command::Refund(a) => refund(&a).await,
        Command::Decline(a) => {
            a.creds.client()?.decline(a.operation_id).await.map_err(err)?;
            Ok(Outcome::ok(
                json!({"operation_id": a.operation_id, "status": "cancelled"}),
            ))
        }
        Command::Find(a) => {
            let found = a
                .creds
                .client()?
                .operation_by_reference(&a.reference_id, a.op_type)
                .await
                .map_err(err)?;
            Ok(Outcome::ok(json!({
                "id": found.id,
                "status": found.status.normalized().as_str(),
                "provider_status": found.status.code(),
                "type": found.op_type.code(),
                "external_id": found.external_id,
                "description": found.description,
                "date_oper": found.date_oper,
                "date_done": found.date_done,
            })))
        }
        Command::OperationData(a) => {
            let ops = a
                .creds
                .client()?
                .operation_data(&a.operation_ids)
                .await
                .map_err(err)?;
            Ok(Outcome::ok(
                json!({"operations": ops.iter().map(operation_json).collect::<Vec<_>>()}),
            ))
        }
    }
}

/// The simulator, mounted in `paybridge sandbox`.
pub(crate) fn mount(_ctx: &SandboxContext) -> Result<Mount, CliError> {
    let sim = Simulator::new()?;
    Ok(Mount {
        name: "woopay",
        endpoint_path: sandbox::ENDPOINT_PATH.to_owned(),
        router: sim.router(),
    })
}

/// login → create invoice → pay → requestUrl callback → confirmed status 4.
pub(crate) async fn demo(endpoint: &str, base_url: &str, log: &mut FlowLog) -> Result<(), String> {
    log.start();
    let mut merchant =
        callback_endpoint("/woopay/request", paybridge_woopay::REQUEST_URL_ANSWER).await?;
    let transport = HttpTransport::with_defaults().map_err(|e| e.to_string())?;
    let client = Client::new(
        Config::new(endpoint.to_owned(), SANDBOX_USERNAME, SecretString::from(SANDBOX_PASSWORD)),
        transport.clone(),
    )
    .map_err(|e| e.to_string())?;
    let info = client.login().await.map_err(|e| e.to_string())?;
    log.step(
        "login",
        format!(
            "user {} roles {}",
            info.user_id.unwrap_or_default(),
            info.roles.join(",")
        ),
    );

    let amount = Money::parse("2500", Currency::KZT).map_err(|e| e.to_string())?;
    let invoice = client
        .create_invoice(&InvoiceRequest::new(
            "demo-order-1",
            amount,
            "https://shop.example/thanks",
            format!("{}?reference=demo-order-1", merchant.url()),
        ))
        .await
        .map_err(|e| e.to_string())?;
    log.step(
        "create invoice",
        format!("operation {}", invoice.operation_id),
    );

    let pay = format!(
        "{base_url}{}?id={}",
        sandbox::PAY_PATH,
        invoice.operation_id
    );
    sandbox_post(&transport, pay, None, "pay").await?;
    log.step("pay", "status 4 on the sandbox payment page");

    let query = next_callback(&mut merchant, "requestUrl call").await?;
    log.step(
        "requestUrl callback",
        format!(
            "GET ?{} answered {{\"data\":1}}",
            String::from_utf8_lossy(&query)
        ),
    );

    let confirmed = client
        .handle_request_url(invoice.operation_id, &InMemorySeenStore::new())
        .await
        .map_err(|e| e.to_string())?;
    log.step(
        "confirmed",
        format!(
            "status {} sum {}",
            confirmed.callback.status.code(),
            amount_json(confirmed.callback.sum)
        ),
    );
    Ok(())
}
