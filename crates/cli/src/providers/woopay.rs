//! `paybridge woopay …`: every Wooppay operation.

mod creds;
mod demo;
mod live;
mod refund;

pub(crate) use demo::{demo, mount};
pub(crate) use live::{receive_route, status_provider};
use creds::{Creds, err};
use refund::{RefundArgs, RefundMobileArgs, refund, refund_mobile};

use clap::{Args, Subcommand};
use paybridge_core::{Currency, Money};
use paybridge_woopay::{
    ExtendedInvoiceRequest, Invoice, Invoice2ExtendedRequest, InvoiceRequest,
    Operation, OperationDetails, TransfersQuery,
};
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use super::amount_json;
use crate::output::{CliError, Outcome};

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
    /// Give a phone-balance payment's money back to the phone (`cash_mobileRefund`). Never
    /// resent.
    RefundMobile(RefundMobileArgs),
    /// Statuses of your reference's operations between two dates (`cash_getOperationsStatus`).
    OperationsStatus(OperationsStatusArgs),
    /// One page of the wallet's history (`cash_getTransfers`).
    Transfers(TransfersArgs),
    /// The fiscal receipt of a paid operation (`cash_getOperationReceipt`).
    Receipt(OperationIdArgs),
    /// What Wooppay charges for paying an amount to a service (`cash_getCommission`).
    Commission(CommissionArgs),
    /// Log in, then end the session (`core_logout`).
    Logout(Creds),
}


#[derive(Debug, Args)]
pub(crate) struct OperationsStatusArgs {
    #[command(flatten)]
    creds: Creds,
    /// Your reference (`ext_id`).
    #[arg(long)]
    reference_id: String,
    /// From, `YYYY-MM-DD` or `YYYY-MM-DD HH:MM:SS` (`dateFrom`).
    #[arg(long)]
    from: String,
    /// To, same formats (`dateTo`).
    #[arg(long)]
    to: String,
    /// Only this Wooppay status (1–9).
    #[arg(long)]
    status: Option<i64>,
}

#[derive(Debug, Args)]
pub(crate) struct TransfersArgs {
    #[command(flatten)]
    creds: Creds,
    /// Page, from 1.
    #[arg(long, default_value_t = 1)]
    page: u32,
    /// Records per page (1–100).
    #[arg(long, default_value_t = 20)]
    per_page: u32,
    /// From, `YYYY-MM-DD` or `YYYY-MM-DD HH:MM:SS`.
    #[arg(long)]
    from: Option<String>,
    /// To, same formats.
    #[arg(long)]
    to: Option<String>,
    /// Only this Wooppay status (repeat for several).
    #[arg(long = "status")]
    statuses: Vec<i64>,
}

#[derive(Debug, Args)]
pub(crate) struct CommissionArgs {
    #[command(flatten)]
    creds: Creds,
    /// The Wooppay service.
    #[arg(long)]
    service_id: i64,
    /// The amount to pay (KZT).
    #[arg(long)]
    amount: String,
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
    #[arg(long, env = "PAYBRIDGE_LEDGER", hide_env_values = true)]
    ledger: Option<String>,
    /// The invoice's currency (ISO code, e.g. `USD`): `create-invoice` then calls
    /// `cash_createInvoiceWithCurrency`. KZT when absent.
    #[arg(long)]
    currency: Option<String>,
}

impl CreateArgs {
    fn invoice(&self) -> Result<InvoiceRequest, CliError> {
        let request_url = if self.ledger.is_some() {
            paybridge_core::http::with_query(
                &self.request_url,
                &[("reference", self.reference_id.as_str())],
            )
        } else {
            self.request_url.clone()
        };
        let mut inv = InvoiceRequest::new(
            self.reference_id.clone(),
            self.money()?,
            self.back_url.clone(),
            request_url,
        );
        inv.add_info.clone_from(&self.add_info);
        inv.death_date.clone_from(&self.death_date);
        inv.description.clone_from(&self.description);
        Ok(inv)
    }

    /// The amount, in `--currency` (KZT when absent).
    fn money(&self) -> Result<Money, CliError> {
        let currency = match &self.currency {
            Some(code) => Currency::from_code(code)?,
            None => Currency::KZT,
        };
        Ok(Money::parse(&self.amount, currency)?)
    }

    /// `--currency` is `create-invoice`'s alone (the one operation that names a currency).
    fn kzt_only(&self) -> Result<(), CliError> {
        if self.currency.is_some() {
            return Err(CliError::input(
                "--currency is for create-invoice only (cash_createInvoiceWithCurrency)",
            ));
        }
        Ok(())
    }

    /// With `--ledger`: the invoice recorded as pending **before** it is sent, so that one
    /// whose creation times out is still known (and found by its reference); a reference the
    /// ledger already holds is refused.
    async fn record_before(&self) -> Result<Option<paybridge_ledger::Ledger>, CliError> {
        let Some(url) = &self.ledger else {
            return Ok(None);
        };
        let ledger = crate::store::open(url).await?;
        let payment = paybridge_ledger::NewPayment::new(
            paybridge_woopay::PROVIDER_ID,
            &self.reference_id,
            paybridge_core::PaymentStatus::Pending,
            self.money()?,
        );
        crate::store::record_first(&ledger, &payment, "use a new reference").await?;
        Ok(Some(ledger))
    }

    /// The result of a create: the invoice, its operation id added to the ledger's record.
    async fn finish(
        &self,
        ledger: Option<paybridge_ledger::Ledger>,
        sent: Result<Invoice, paybridge_woopay::WoopayError>,
    ) -> Result<Outcome, CliError> {
        let invoice = &crate::store::sent(
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
                self.money()?,
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
    /// Every field Wooppay keeps, your reference among them (`cash_getOperationDataExtended`).
    #[arg(long)]
    extended: bool,
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

fn details_json(d: &OperationDetails) -> Value {
    json!({
        "id": d.id,
        "parent_id": d.parent_id,
        "status": d.status.normalized().as_str(),
        "provider_status": d.status.code(),
        "type": d.op_type.code(),
        "external_id": d.external_id,
        "description": d.description,
        "date_oper": d.date_oper,
        "date_done": d.date_done,
        "currency_numeric": d.currency_numeric,
        "amount_raw": d.amount_raw,
        "ret_sum_raw": d.ret_sum_raw,
        "subject_from": d.subject_from,
        "subject_to": d.subject_to,
        "payment_account": d.payment_account,
    })
}


/// `woopay operations-status`: statuses of a reference's operations.
async fn operations_status(a: &OperationsStatusArgs) -> Result<Outcome, CliError> {
        let records = a
            .creds
            .client()?
            .operations_status(&a.reference_id, a.status, &a.from, &a.to)
            .await
            .map_err(err)?;
        let records: Vec<Value> = records
            .iter()
            .map(|r| {
                json!({
                    "reference_id": r.ext_id,
                    "description": r.description,
                    "status": r.status.normalized().as_str(),
                    "provider_status": r.status.code(),
                    "date": r.date,
                })
            })
            .collect();
        Ok(Outcome::ok(json!({ "operations": records })))
}

/// `woopay receipt`: the fiscal receipt of a paid operation.
async fn receipt(a: &OperationIdArgs) -> Result<Outcome, CliError> {
        let r = a.creds.client()?.receipt(a.operation_id).await.map_err(err)?;
        Ok(Outcome::ok(json!({
            "operation_id": a.operation_id,
            "op_bin": r.op_bin, "ch_nr": r.ch_nr, "tr_nr": r.tr_nr,
            "account_nr": r.account_nr, "date": r.date, "mer_name": r.mer_name,
            "mer_bin": r.mer_bin, "ident": r.ident, "admit": r.admit, "commis": r.commis,
            "sum": r.sum, "operation": r.operation, "vat": r.vat, "sup": r.sup,
        })))
}

/// `woopay commission`: what Wooppay charges for an amount to a service.
async fn commission(a: &CommissionArgs) -> Result<Outcome, CliError> {
        let amount = Money::parse(&a.amount, Currency::KZT)?;
        let fee = a
            .creds
            .client()?
            .commission(a.service_id, amount)
            .await
            .map_err(err)?;
        Ok(Outcome::ok(json!({
            "service_id": a.service_id,
            "amount": amount.amount_string(),
            "commission": fee.amount_string(),
        })))
}

/// `woopay logout`: log in, then end the session.
async fn logout(c: &Creds) -> Result<Outcome, CliError> {
        let client = c.client()?;
        client.login().await.map_err(err)?;
        let ended = client.logout().await.map_err(err)?;
        Ok(Outcome::ok(json!({ "logged_out": ended })))
}

/// `woopay create-invoice`: `cash_createInvoice`, or `cash_createInvoiceWithCurrency` with
/// `--currency`.
async fn create_invoice(a: &CreateArgs) -> Result<Outcome, CliError> {
        let inv = a.invoice()?;
        let ledger = a.record_before().await?;
        let client = a.creds.client()?;
        let sent = if a.currency.is_some() {
            let req = Invoice2ExtendedRequest {
                invoice: inv,
                card_forbidden: false,
                user_email: None,
                user_phone: None,
            };
            client.create_invoice_with_currency(None, &req).await
        } else {
            client.create_invoice(&inv).await
        };
        a.finish(ledger, sent).await
}

/// `woopay operation-data [--extended]`.
async fn operation_data(a: &OperationArgs) -> Result<Outcome, CliError> {
    if a.extended {
        let ops = a
            .creds
            .client()?
            .operation_data_extended(&a.operation_ids)
            .await
            .map_err(err)?;
        Ok(Outcome::ok(
            json!({"operations": ops.iter().map(details_json).collect::<Vec<_>>()}),
        ))
    } else {
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

/// `woopay transfers`: one page of the history.
async fn transfers(a: &TransfersArgs) -> Result<Outcome, CliError> {
    let query = TransfersQuery {
        page: a.page,
        per_page: a.per_page,
        statuses: a.statuses.clone(),
        date_from: a.from.clone(),
        date_to: a.to.clone(),
        ..TransfersQuery::default()
    };
    let page = a.creds.client()?.transfers(&query).await.map_err(err)?;
    let records: Vec<Value> = page
        .records
        .iter()
        .map(|t| {
            json!({
                "id": t.id,
                "type": t.op_type.code(),
                "status": t.status.normalized().as_str(),
                "provider_status": t.status.code(),
                "direction": t.direction,
                "sum": amount_json(t.sum),
                "date": t.date,
                "comment": t.comment,
                "from_subject": t.from_subject,
                "to_subject": t.to_subject,
                "service_name": t.service_name,
            })
        })
        .collect();
    Ok(Outcome::ok(json!({
        "page": a.page,
        "records": records,
        "last_changed": page.last_changed,
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
        Command::CreateInvoice(a) => create_invoice(&a).await,
        Command::CreateInvoiceExtended(a) => {
            a.create.kzt_only()?;
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
            a.create.kzt_only()?;
            let req = a.request()?;
            let ledger = a.create.record_before().await?;
            let sent = a.create.creds.client()?.create_invoice_2_extended(&req).await;
            a.create.finish(ledger, sent).await
        }
        Command::CreateInvoiceByService(a) => {
            a.two.create.kzt_only()?;
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
            Ok(Outcome::ok(details_json(&found)))
        }
        Command::RefundMobile(a) => refund_mobile(&a).await,
        Command::OperationsStatus(a) => operations_status(&a).await,
        Command::Transfers(a) => transfers(&a).await,
        Command::Receipt(a) => receipt(&a).await,
        Command::Commission(a) => commission(&a).await,
        Command::Logout(c) => logout(&c).await,
        Command::OperationData(a) => operation_data(&a).await,
    }
}
