//! `paybridge payoo order-info | refund | cancel-order | billing-code | qr-code | checkout |
//! verify-return`: Payoo's current APIs (the REST Business API and the hosted checkout).

use clap::{Args, Subcommand};
use paybridge_core::http::HttpTransport;
use paybridge_core::{Currency, Money};
use paybridge_payoo::checkout::{CheckoutOptions, CheckoutOrder, verify_return};
use paybridge_payoo::rest::{IssueRequest, RefundRequest};
use paybridge_payoo::{CheckoutClient, PayooError, RestClient};
use secrecy::SecretString;
use serde_json::json;

use super::super::secret;
use crate::cli::NetArgs;
use crate::output::{CliError, Outcome};

/// Payoo's current APIs.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Where an order stands (REST `GetOrderInfo`; `--endpoint` is `…/BusinessRestAPI.svc`).
    OrderInfo(OrderInfoArgs),
    /// Give a paid order's money back (REST `Refund`; the refund id makes a repeat harmless).
    Refund(RefundArgs),
    /// Cancel an unpaid order (REST `CancelOrder`).
    CancelOrder(CancelArgs),
    /// A code the payer pays with at a store (REST `GetBillingCode`).
    BillingCode(IssueArgs),
    /// A QR code the payer scans (REST `GetQRCode`).
    QrCode(IssueArgs),
    /// Create an order on Payoo's hosted checkout (`v2/paynow/order/create`; `--endpoint` is
    /// that URL) → the payer's `payment_url`.
    Checkout(Box<CheckoutArgs>),
    /// Check the return URL's checksum (`session.order_no.status`).
    VerifyReturn(VerifyReturnArgs),
}

pub(crate) async fn run(command: Command) -> Result<Outcome, CliError> {
    match command {
        Command::OrderInfo(a) => order_info(&a).await,
        Command::Refund(a) => refund(&a).await,
        Command::CancelOrder(a) => cancel(&a).await,
        Command::BillingCode(a) => billing_code(&a).await,
        Command::QrCode(a) => qr_code(&a).await,
        Command::Checkout(a) => checkout(&a).await,
        Command::VerifyReturn(a) => verify_return_query(&a),
    }
}

/// The REST Business API: `--endpoint` is its base URL (`…/BusinessRestAPI.svc`).
#[derive(Debug, Args)]
pub(crate) struct RestConn {
    #[command(flatten)]
    net: NetArgs,
    #[command(flatten)]
    pub(crate) secrets: super::Secrets,
}

impl RestConn {
    fn client(&self) -> Result<RestClient, CliError> {
        RestClient::new(
            self.net.endpoint.clone(),
            self.secrets.credentials(),
            HttpTransport::new(self.net.http_config())?,
        )
        .map_err(err)
    }
}

fn err(e: PayooError) -> CliError {
    paybridge_core::Error::from(e).into()
}

fn vnd(amount: &str) -> Result<Money, CliError> {
    Ok(Money::parse(amount, Currency::VND)?)
}

#[derive(Debug, Args)]
pub(crate) struct OrderInfoArgs {
    #[command(flatten)]
    conn: RestConn,
    /// Your order number (`OrderId`).
    #[arg(long)]
    order_id: String,
    /// Your shop's id (`ShopId`).
    #[arg(long)]
    shop_id: i64,
    /// The day it was paid, `YYYYMMDD` (`PurchaseDate`).
    #[arg(long)]
    purchase_date: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct RefundArgs {
    #[command(flatten)]
    conn: RestConn,
    /// The paid order (`OrderNo`).
    #[arg(long)]
    order_no: String,
    /// How much to give back (VND).
    #[arg(long)]
    amount: String,
    /// Your id for this refund (`RefundId`): the same id again is the same refund (Payoo's 99).
    #[arg(long)]
    refund_id: String,
    /// The day the order was paid, `YYYYMMDD` (`PurchaseDate`). With `--ledger` it is sent
    /// when given; else the day the ledger recorded the order (Vietnam time: the order is
    /// recorded just before it is created at Payoo), else `GetOrderInfo`'s.
    #[arg(long, required_unless_present = "ledger")]
    purchase_date: Option<String>,
    /// Why.
    #[arg(long, default_value = "refund")]
    description: String,
    /// Record the refund in this ledger against the payment `--order-no` (never more than was
    /// paid; the refund id recognised) before it is sent.
    #[arg(long, env = "PAYBRIDGE_LEDGER", hide_env_values = true, requires = "shop_id")]
    ledger: Option<String>,
    /// Your shop's id (`ShopId`; needed with `--ledger`, to ask `GetOrderInfo`).
    #[arg(long)]
    shop_id: Option<i64>,
}

#[derive(Debug, Args)]
pub(crate) struct CancelArgs {
    #[command(flatten)]
    conn: RestConn,
    /// The order (`OrderID`).
    #[arg(long)]
    order_id: String,
    /// Your shop's id (`ShopID`).
    #[arg(long)]
    shop_id: i64,
    /// Why (`UpdateLog`).
    #[arg(long, default_value = "cancelled by the merchant")]
    update_log: String,
}

#[derive(Debug, Args)]
pub(crate) struct IssueArgs {
    #[command(flatten)]
    conn: RestConn,
    /// Your shop's id (`ShopID`).
    #[arg(long)]
    shop_id: i64,
    /// Your order number (`OrderNo`); never reuse it.
    #[arg(long)]
    order_no: String,
    /// Amount in VND (`CyberCash`).
    #[arg(long)]
    amount: String,
    /// What is paid for: more than 50 characters (`Description`).
    #[arg(long)]
    description: String,
    /// Where Payoo notifies the payment (`NotifyUrl`).
    #[arg(long)]
    notify_url: String,
    /// First shipping day, `dd/MM/yyyy` (`FromShipDate`).
    #[arg(long)]
    ship_date: String,
    /// Shipping days (`ShipNumDay`).
    #[arg(long, default_value_t = 1)]
    ship_days: u32,
    /// When the code lapses, `YYYYMMDDHHMMSS` (`PaymentExpireDate`).
    #[arg(long)]
    expires: String,
    /// Your business username (`UserName`, for QR codes).
    #[arg(long, default_value = "")]
    business_username: String,
    /// Notifications as JSON.
    #[arg(long)]
    json_notify: bool,
}

impl IssueArgs {
    fn request(&self) -> Result<IssueRequest, CliError> {
        Ok(IssueRequest {
            shop_id: self.shop_id,
            order_no: self.order_no.clone(),
            amount: vnd(&self.amount)?,
            description: self.description.clone(),
            ship_date: self.ship_date.clone(),
            ship_days: self.ship_days,
            expires: self.expires.clone(),
            notify_url: self.notify_url.clone(),
            username: self.business_username.clone(),
            json_notify: self.json_notify,
        })
    }
}

#[derive(Debug, Args)]
pub(crate) struct CheckoutArgs {
    #[command(flatten)]
    net: NetArgs,
    /// The checksum key that signs the order and Payoo's answer (never printed).
    #[arg(long, env = "PAYBRIDGE_PAYOO_CHECKSUM_KEY", hide_env_values = true, value_parser = secret)]
    checksum_key: SecretString,
    /// Your order number (`order_no`); never reuse it.
    #[arg(long)]
    order_no: String,
    /// Amount in VND (`order_cash_amount`).
    #[arg(long)]
    amount: String,
    /// What is paid for: more than 50 characters (`order_description`).
    #[arg(long)]
    description: String,
    /// Your shop's id (`shop_id`).
    #[arg(long)]
    shop_id: i64,
    /// Your business wallet (`username`).
    #[arg(long)]
    business_username: String,
    /// `shop_title`.
    #[arg(long)]
    shop_title: String,
    /// `shop_domain`.
    #[arg(long)]
    shop_domain: String,
    /// The domain registered with Payoo (`refer`).
    #[arg(long)]
    refer: String,
    /// Where the payer returns (`shop_back_url`).
    #[arg(long)]
    back_url: String,
    /// Where Payoo notifies the payment (`notify_url`).
    #[arg(long)]
    notify_url: String,
    /// Shipping days (`order_ship_days`).
    #[arg(long, default_value_t = 1)]
    ship_days: u32,
    /// When the order lapses, `YYYYMMDDHHMMSS` (`validity_time`; default a day from now).
    #[arg(long)]
    expires: Option<String>,
    /// Notifications as JSON (`JsonResponse` TRUE).
    #[arg(long)]
    json_notify: bool,
    /// Where the payer may pay (`payment_group`: `CC`, `Bank-account`, `QRCode`, …).
    #[arg(long)]
    payment_group: Option<String>,
    /// Your session for the order (`session`; default the order number).
    #[arg(long)]
    session: Option<String>,
    /// Record the order in this ledger (pending, before it is sent).
    #[arg(long, env = "PAYBRIDGE_LEDGER", hide_env_values = true)]
    ledger: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct VerifyReturnArgs {
    /// The return URL's query string (after `?`).
    #[arg(long)]
    query: String,
    /// The checksum key (never printed).
    #[arg(long, env = "PAYBRIDGE_PAYOO_CHECKSUM_KEY", hide_env_values = true, value_parser = secret)]
    checksum_key: SecretString,
}

async fn order_info(a: &OrderInfoArgs) -> Result<Outcome, CliError> {
    let info = a
        .conn
        .client()?
        .order_info(&a.order_id, a.shop_id, a.purchase_date.as_deref())
        .await
        .map_err(err)?;
    let status = info.status.normalized();
    let mut outcome = Outcome::ok(json!({
        "order_no": info.order_no,
        "status": status.as_str(),
        "provider_status": info.status.code(),
        "amount": info.amount.map(|m| m.amount_string()),
        "payment_method": info.payment_method,
        "purchase_date": info.purchase_date,
        "shop_id": info.shop_id,
        "bank_name": info.bank_name,
        "card_number": info.card_number,
        "billing_code": info.billing_code,
    }));
    if status == paybridge_core::PaymentStatus::Cancelled {
        outcome.exit = 1;
    }
    Ok(outcome)
}

/// `payoo refund --ledger`: through `Ledger::refund` — the sum rule and the refund id checked
/// before anything is sent, the payment `partially_refunded` then `reversed`.
async fn refund_recorded(a: &RefundArgs, url: &str, shop_id: i64) -> Result<Outcome, CliError> {
    let amount = vnd(&a.amount)?;
    let ledger = std::sync::Arc::new(crate::store::open(url).await?);
    let provider = paybridge_payoo::PayooProvider::current(
        a.conn.client()?,
        a.conn.secrets.checksum_key.clone(),
        shop_id,
        paybridge_core::Stores::in_memory().records(ledger.clone()),
    );
    let mut request = paybridge_core::RefundRequest::partial(&a.refund_id, amount);
    request.reason = Some(a.description.clone());
    let recorded_day = ledger
        .payment(paybridge_payoo::PROVIDER_ID, &a.order_no)
        .await
        .map_err(paybridge_core::Error::from)?
        .map(|row| paybridge_payoo::client::vietnam_day(row.created_at.div_euclid(1000)));
    if let Some(day) = a.purchase_date.clone().or(recorded_day) {
        request = request.purchase_date(day);
    }
    let payment = paybridge_core::PaymentRef::merchant(&a.order_no);
    let r = crate::store::refund_through(&ledger, &provider, &payment, request).await?;
    Ok(Outcome::ok(json!({
        "order_no": a.order_no,
        "refund_id": a.refund_id,
        "refunded": r.amount.amount_string(),
        "transfer_code": r.provider_refund_id,
        "repeat": r.repeat,
        "status": r.status.as_str(),
        "payment_status": r.payment_status,
    })))
}

async fn refund(a: &RefundArgs) -> Result<Outcome, CliError> {
    if let (Some(url), Some(shop_id)) = (&a.ledger, a.shop_id) {
        return refund_recorded(a, url, shop_id).await;
    }
    let purchase_date = a
        .purchase_date
        .clone()
        .ok_or_else(|| CliError::input("--purchase-date is needed without --ledger"))?;
    let amount = vnd(&a.amount)?;
    let r = a
        .conn
        .client()?
        .refund(&RefundRequest {
            order_no: a.order_no.clone(),
            amount,
            refund_id: a.refund_id.clone(),
            purchase_date,
            description: a.description.clone(),
        })
        .await
        .map_err(err)?;
    Ok(Outcome::ok(json!({
        "order_no": a.order_no,
        "refund_id": a.refund_id,
        "refunded": r.amount_refunded.unwrap_or(amount).amount_string(),
        "transfer_code": r.transfer_code,
        "repeat": r.repeat,
        "status": "succeeded",
    })))
}

async fn cancel(a: &CancelArgs) -> Result<Outcome, CliError> {
    a.conn
        .client()?
        .cancel_order(a.shop_id, &a.order_id, &a.update_log)
        .await
        .map_err(err)?;
    Ok(Outcome::ok(
        json!({"order_id": a.order_id, "status": "cancelled"}),
    ))
}

async fn billing_code(a: &IssueArgs) -> Result<Outcome, CliError> {
    let code = a
        .conn
        .client()?
        .billing_code(&a.request()?)
        .await
        .map_err(err)?;
    Ok(Outcome::ok(
        json!({"order_no": a.order_no, "billing_code": code.code}),
    ))
}

async fn qr_code(a: &IssueArgs) -> Result<Outcome, CliError> {
    let qr = a.conn.client()?.qr_code(&a.request()?).await.map_err(err)?;
    Ok(Outcome::ok(json!({
        "order_no": a.order_no,
        "qr_code": qr.code,
        "qr_code_link": qr.link,
        "app_links": qr.app_links,
    })))
}

async fn checkout(a: &CheckoutArgs) -> Result<Outcome, CliError> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
    let ship_date = paybridge_payoo::vietnam_date(now);
    let amount = vnd(&a.amount)?;
    let order = CheckoutOrder {
        username: a.business_username.clone(),
        shop_id: a.shop_id,
        session: a.session.clone().unwrap_or_else(|| a.order_no.clone()),
        shop_title: a.shop_title.clone(),
        shop_domain: a.shop_domain.clone(),
        back_url: a.back_url.clone(),
        order_no: a.order_no.clone(),
        amount,
        ship_date,
        ship_days: a.ship_days,
        description: a.description.clone(),
        notify_url: a.notify_url.clone(),
        validity_time: a
            .expires
            .clone()
            .unwrap_or_else(|| paybridge_payoo::vietnam_timestamp(now + 86_400)),
        json_notify: a.json_notify,
        customer: None,
        installment_tenors: None,
        mdd: [None, None],
    };
    // What Payoo would refuse is refused before anything is recorded or sent.
    order.to_xml().map_err(err)?;
    let options = CheckoutOptions {
        refer: a.refer.clone(),
        payment_group: a.payment_group.clone(),
        ..CheckoutOptions::default()
    };
    let ledger = match &a.ledger {
        Some(url) => {
            let ledger = crate::store::open(url).await?;
            let payment = paybridge_ledger::NewPayment::new(
                paybridge_payoo::PROVIDER_ID,
                &a.order_no,
                paybridge_core::PaymentStatus::Pending,
                amount,
            );
            crate::store::record_first(&ledger, &payment, "use a new order number").await?;
            Some(ledger)
        }
        None => None,
    };
    let client = CheckoutClient::new(
        a.net.endpoint.clone(),
        a.checksum_key.clone(),
        HttpTransport::new(a.net.http_config())?,
    )
    .map_err(err)?;
    let sent = client
        .create(&order, &options)
        .await
        .map_err(paybridge_core::Error::from);
    let created = crate::store::sent(
        ledger.as_ref(),
        paybridge_payoo::PROVIDER_ID,
        &a.order_no,
        sent,
    )
    .await?;
    if let (Some(ledger), Some(id)) = (&ledger, &created.order_id) {
        let payment = paybridge_ledger::NewPayment::new(
            paybridge_payoo::PROVIDER_ID,
            &a.order_no,
            paybridge_core::PaymentStatus::Pending,
            amount,
        )
        .provider_reference(id.clone());
        paybridge_core::PaymentRecords::remember(ledger, payment).await?;
    }
    Ok(Outcome::ok(json!({
        "order_no": created.order_no,
        "order_id": created.order_id,
        "payment_url": created.payment_url,
        "token": created.token,
        "expiry_date": created.expiry_date,
    })))
}

fn verify_return_query(a: &VerifyReturnArgs) -> Result<Outcome, CliError> {
    let r = verify_return(&a.checksum_key, &a.query).map_err(err)?;
    let status = r.normalized();
    let mut outcome = Outcome::ok(json!({
        "order_no": r.order_no,
        "session": r.session,
        "status": status.as_str(),
        "provider_status": r.status,
        "error_code": r.error.map(paybridge_payoo::checkout::ReturnError::code),
        "error": r.error.map(paybridge_payoo::checkout::ReturnError::meaning),
        "error_message": r.error_message,
    }));
    if status != paybridge_core::PaymentStatus::Succeeded {
        outcome.exit = 1;
    }
    Ok(outcome)
}
