//! `paybridge payoo call | get-order | create-pre-order | update-order-status` (the legacy
//! SOAP API) and the current APIs ([`current`]).

mod live;
mod current;

pub(crate) use live::{receive_route, status_provider};

use paybridge_core::soap::SoapVersion;
use std::fmt;

use clap::{Args, Subcommand};
use paybridge_core::http::HttpTransport;
use paybridge_core::{Currency, Money};
use paybridge_payoo::sandbox::{
    self, SANDBOX_CHECKSUM_KEY, SANDBOX_PASSWORD, SANDBOX_SIGNATURE, SANDBOX_USERNAME,
};
use paybridge_payoo::{
    CallResult, CallbackVerifier, Client, Config, Credentials, PayooError, PreOrder,
};
use rust_decimal::Decimal;
use secrecy::SecretString;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::{Value, json};

use super::{read_input, secret};
use crate::cli::NetArgs;
use crate::demo::{FlowLog, sandbox_post};
use crate::output::{CliError, Outcome};
use crate::sandbox::{Mount, SandboxContext};

/// Payoo: hosted checkout, the REST Business API, `NotifyData`, legacy SOAP.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// One `CallToPartner` call of any API, its request fields from a JSON object file.
    Call(CallArgs),
    /// Where an order stands (`GetOrderInformation`).
    GetOrder(GetOrderArgs),
    /// Create an order for the payer to pay (`CreatePreOrder`).
    CreatePreOrder(CreatePreOrderArgs),
    /// Change an order's status (`UpdateOrderStatus`).
    UpdateOrderStatus(UpdateArgs),
    /// Verify a `NotifyData` callback (the posted form body or the package XML).
    VerifyNotify(VerifyNotifyArgs),
    /// Payoo's current APIs: the REST Business API and the hosted checkout.
    #[command(flatten)]
    Current(current::Command),
}

#[derive(Debug, Args)]
pub(crate) struct VerifyNotifyArgs {
    /// File holding the callback body as Payoo posted it: `NotifyData=…` or the XML
    /// (a path, or `-` for stdin).
    #[arg(long)]
    body: String,
    /// The checksum key Payoo issued for your shop: it signs requests and notifications
    /// (never printed).
    #[arg(long, env = "PAYBRIDGE_PAYOO_CHECKSUM_KEY", hide_env_values = true, value_parser = secret)]
    checksum_key: SecretString,
    /// The IP address Payoo posted from: the JSON form of the notification is signed over it
    /// (not needed for the XML `KeyFields` form).
    #[arg(long)]
    remote_ip: Option<std::net::IpAddr>,
}

/// The four secrets Payoo issues, for the SOAP and the REST APIs alike.
#[derive(Debug, Args)]
pub(crate) struct Secrets {
    /// Your Payoo API user (`APIUsername`).
    #[arg(long, env = "PAYBRIDGE_PAYOO_USERNAME")]
    username: String,
    /// Your Payoo API password (`APIPassword`; never printed).
    #[arg(long, env = "PAYBRIDGE_PAYOO_PASSWORD", hide_env_values = true, value_parser = secret)]
    password: SecretString,
    /// Your Payoo API signature (`APISignature`; never printed).
    #[arg(long, env = "PAYBRIDGE_PAYOO_SIGNATURE", hide_env_values = true, value_parser = secret)]
    signature: SecretString,
    /// The checksum key Payoo issued for your shop: it signs requests and notifications
    /// (never printed).
    #[arg(long, env = "PAYBRIDGE_PAYOO_CHECKSUM_KEY", hide_env_values = true, value_parser = secret)]
    pub(crate) checksum_key: SecretString,
}

impl Secrets {
    pub(crate) fn credentials(&self) -> Credentials {
        Credentials::new(
            self.username.clone(),
            self.password.clone(),
            self.signature.clone(),
            self.checksum_key.clone(),
        )
    }
}

#[derive(Debug, Args)]
pub(crate) struct Conn {
    #[command(flatten)]
    net: NetArgs,
    /// Speak SOAP 1.2 instead of 1.1 (use what your endpoint's WSDL binding says).
    #[arg(long)]
    soap12: bool,
    #[command(flatten)]
    secrets: Secrets,
}

impl Conn {
    fn client(&self) -> Result<Client, CliError> {
        let config = Config::new(self.net.endpoint.clone(), self.secrets.credentials())
            .soap_version(SoapVersion::from_soap12_flag(self.soap12));
        Ok(
            Client::new(config, HttpTransport::new(self.net.http_config())?)
                .map_err(paybridge_core::Error::from)?,
        )
    }
}

#[derive(Debug, Args)]
pub(crate) struct CallArgs {
    #[command(flatten)]
    conn: Conn,
    /// The Payoo API to call, e.g. `GetOrderInformation` (`_APIName`).
    #[arg(long)]
    api_name: String,
    /// Path of a file (or `-` for stdin) holding a JSON object of the request fields, in the
    /// API's order, e.g. `{"OrderID": "ORD-1", "ShopID": 1234}`.
    #[arg(long)]
    param: String,
}

#[derive(Debug, Args)]
pub(crate) struct GetOrderArgs {
    #[command(flatten)]
    conn: Conn,
    /// The order's id at Payoo (`OrderID`).
    #[arg(long)]
    order_id: String,
    /// Your shop's id at Payoo (`ShopID`).
    #[arg(long)]
    shop_id: i64,
}

#[derive(Debug, Args)]
pub(crate) struct CreatePreOrderArgs {
    #[command(flatten)]
    conn: Conn,
    /// Your shop's id at Payoo (`ShopID`).
    #[arg(long)]
    shop_id: i64,
    /// Your order number (`OrderNo`); never reuse it.
    #[arg(long)]
    order_no: String,
    /// The amount to pay, in whole dong (`CyberCash`); more than 0.
    #[arg(long, allow_negative_numbers = true)]
    cyber_cash: String,
    /// Days to delivery (`ShipNumDay`).
    #[arg(long, default_value_t = 0)]
    ship_num_day: i32,
    /// What is paid for (`Description`).
    #[arg(long, default_value = "")]
    description: String,
    /// Where the payer returns after paying (`ShopBackURL`).
    #[arg(long, default_value = "")]
    shop_back_url: String,
    /// Your URL Payoo posts the payment notification to (`NotifyUrl`).
    #[arg(long, default_value = "")]
    notify_url: String,
    /// Your shop's name, shown to the payer (`ShopTitle`).
    #[arg(long, default_value = "")]
    shop_title: String,
    /// Your shop's domain (`ShopDomain`).
    #[arg(long, default_value = "")]
    shop_domain: String,
    /// When the order can no longer be paid (`PaymentExpireDate`).
    #[arg(long, default_value = "")]
    payment_expire_date: String,
    /// Record the order in this ledger (recorded before it is sent, so that a pre-order whose
    /// outcome is unknown can be reconciled with `get-order`).
    #[arg(long, env = "PAYBRIDGE_LEDGER", hide_env_values = true)]
    ledger: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct UpdateArgs {
    #[command(flatten)]
    conn: Conn,
    /// The order's id at Payoo (`OrderID`).
    #[arg(long)]
    order_id: String,
    /// Your shop's id at Payoo (`ShopID`).
    #[arg(long)]
    shop_id: i64,
    /// The status to set (`NewStatus`).
    #[arg(long)]
    new_status: i32,
    /// Why, for Payoo's log (`UpdateLog`).
    #[arg(long)]
    update_log: Option<String>,
}

/// A JSON object's members in the order written (`serde_json`'s map sorts them).
struct Ordered(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Ordered;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Ordered, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = m.next_entry::<String, Value>()? {
                    out.push(entry);
                }
                Ok(Ordered(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// Declared field order of the known APIs (public Payoo integrations).
fn declared(api: &str) -> Option<&'static [&'static str]> {
    Some(match api {
        "GetOrderInformation" => &["OrderID", "ShopID"],
        "UpdateOrderStatus" => &["ShopID", "OrderID", "NewStatus", "UpdateLog"],
        "CreatePreOrder" => &[
            "ShopID",
            "OrderNo",
            "FromShipDate",
            "ShipNumDay",
            "Description",
            "CyberCash",
            "HttpReference",
            "ShopBackURL",
            "SessionShop",
            "PaymentExpireDate",
            "InfoEx",
            "UserName",
            "ShopTitle",
            "ShopDomain",
            "NotifyUrl",
            "BillingCode",
        ],
        _ => return None,
    })
}

fn result_json(r: &CallResult) -> Value {
    json!({
        "ack": format!("{:?}", r.ack),
        "errors": r.warnings.iter().map(|m| json!({"severity": m.severity, "message": m.message})).collect::<Vec<_>>(),
        "response": r.fields.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect::<serde_json::Map<_, _>>(),
    })
}

fn err(e: PayooError) -> CliError {
    paybridge_core::Error::from(e).into()
}

/// `payoo verify-notify`: the verified order fields.
fn verify_notify(a: &VerifyNotifyArgs) -> Result<Outcome, CliError> {
    let body = read_input(&a.body)?;
    let n = paybridge_payoo::CallbackVerifier::new(a.checksum_key.clone())
        .verify_body_from(&body, a.remote_ip)
        .map_err(err)?;
    let state = n.state()?;
    // Only what the signature covers: the fields KeyFields names (or all of ResponseData).
    let fields: serde_json::Map<String, Value> = n
        .fields
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    Ok(Outcome::payment(
        json!({
            "order_no": n.order_no,
            "status": state.status.as_str(),
            "provider_status": n.state,
            "amount": super::amount_json(state.amount),
            "shop_id": n.shop_id,
            "payment_method": n.payment_method(),
            "form": match n.form {
                paybridge_payoo::NotifyForm::KeyFields => "xml",
                paybridge_payoo::NotifyForm::Json => "json",
            },
            "fields": fields,
        }),
        state.status,
    ))
}

pub(crate) async fn run(command: Command) -> Result<Outcome, CliError> {
    let r = match command {
        Command::VerifyNotify(a) => return verify_notify(&a),
        Command::Current(c) => return current::run(c).await,
        Command::Call(a) => {
            let text = read_input(&a.param)?;
            let Ordered(mut members) = serde_json::from_slice(&text)
                .map_err(|e| CliError::input(format!("{}: not a JSON object: {e}", a.param)))?;
            if let Some(order) = declared(&a.api_name) {
                if let Some((k, _)) = members.iter().find(|(k, _)| !order.contains(&k.as_str())) {
                    return Err(CliError::input(format!(
                        "{k} is not a field of {}",
                        a.api_name
                    )));
                }
                members.sort_by_key(|(k, _)| order.iter().position(|d| d == k));
            }
            let fields: Vec<(&str, String)> = members
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str(),
                        match v {
                            Value::String(s) => s.clone(),
                            Value::Null => String::new(),
                            other => other.to_string(),
                        },
                    )
                })
                .collect();
            a.conn
                .client()?
                .call(&a.api_name, &fields)
                .await
                .map_err(err)?
        }
        Command::GetOrder(a) => a
            .conn
            .client()?
            .get_order_information(&a.order_id, a.shop_id)
            .await
            .map_err(err)?,
        Command::CreatePreOrder(a) => {
            let order = PreOrder {
                shop_id: a.shop_id,
                order_no: a.order_no.clone(),
                ship_num_day: a.ship_num_day,
                cyber_cash: Money::parse(&a.cyber_cash, Currency::VND)
                    .map_err(|e| CliError::input(format!("--cyber-cash: {e}")))?
                    .amount(),
                description: a.description.clone(),
                shop_back_url: a.shop_back_url.clone(),
                notify_url: a.notify_url.clone(),
                shop_title: a.shop_title.clone(),
                shop_domain: a.shop_domain.clone(),
                payment_expire_date: a.payment_expire_date.clone(),
                ..PreOrder::default()
            };
            let ledger = match &a.ledger {
                Some(url) => {
                    let amount = Money::new(order.cyber_cash, Currency::VND)?;
                    let ledger = crate::store::open(url).await?;
                    let payment = paybridge_ledger::NewPayment::new(
                        paybridge_payoo::PROVIDER_ID,
                        &order.order_no,
                        paybridge_core::PaymentStatus::Pending,
                        amount,
                    );
                    crate::store::record_first(&ledger, &payment, "use a new order number")
                        .await?;
                    Some(ledger)
                }
                None => None,
            };
            let sent = a.conn.client()?.create_pre_order(&order).await;
            crate::store::sent(
                ledger.as_ref(),
                paybridge_payoo::PROVIDER_ID,
                &order.order_no,
                sent.map_err(paybridge_core::Error::from),
            )
            .await?
        }
        Command::UpdateOrderStatus(a) => a
            .conn
            .client()?
            .update_order_status(
                a.shop_id,
                &a.order_id,
                a.new_status,
                a.update_log.as_deref(),
            )
            .await
            .map_err(err)?,
    };
    Ok(Outcome::ok(result_json(&r)))
}

/// The simulator, mounted in `paybridge sandbox`.
#[allow(
    clippy::unnecessary_wraps,
    reason = "every provider's mount has the registry's signature"
)]
pub(crate) fn mount(_ctx: &SandboxContext) -> Result<Mount, CliError> {
    Ok(Mount {
        name: "payoo",
        endpoint_path: sandbox::ENDPOINT_PATH.to_owned(),
        router: sandbox::router(),
        apis: vec![
            ("payoo-checkout", paybridge_payoo::sandbox::checkout::CREATE_PATH),
            ("payoo-rest", paybridge_payoo::sandbox::rest::BASE_PATH),
        ],
    })
}

/// create pre-order → notification → verify → get order.
pub(crate) async fn demo(endpoint: &str, base_url: &str, log: &mut FlowLog) -> Result<(), String> {
    log.start();
    let transport = HttpTransport::with_defaults().map_err(|e| e.to_string())?;
    let creds = Credentials::new(
        SANDBOX_USERNAME,
        SecretString::from(SANDBOX_PASSWORD),
        SecretString::from(SANDBOX_SIGNATURE),
        SecretString::from(SANDBOX_CHECKSUM_KEY),
    );
    let config = Config::new(endpoint, creds).soap_version(SoapVersion::V12);
    let client = Client::new(config, transport.clone()).map_err(|e| e.to_string())?;
    let order = PreOrder {
        shop_id: 1234,
        order_no: "demo-payoo-1".into(),
        cyber_cash: Decimal::from(150_000),
        description: "Đơn hàng demo".into(),
        ..PreOrder::default()
    };
    let created = client
        .create_pre_order(&order)
        .await
        .map_err(|e| e.to_string())?;
    log.step(
        "create pre-order (SOAP 1.2)",
        format!("{:?}, response signature verified", created.ack),
    );
    let pay = format!("{base_url}{}?order=demo-payoo-1", sandbox::PAY_PATH);
    let package = sandbox_post(&transport, pay, None, "pay").await?;
    log.step(
        "notification",
        format!("NotifyData {} bytes", package.body.len()),
    );
    let verifier = CallbackVerifier::new(SecretString::from(SANDBOX_CHECKSUM_KEY));
    let n = verifier
        .verify_body(&package.body)
        .map_err(|e| e.to_string())?;
    log.step(
        "verify NotifyData (KeyFields)",
        format!("order {} {} {} VND", n.order_no, n.state, n.amount),
    );
    let json_pay = format!(
        "{base_url}{}?order=demo-payoo-1&form=json&ip=127.0.0.1",
        sandbox::PAY_PATH
    );
    let package = sandbox_post(&transport, json_pay, None, "pay").await?;
    let n = verifier
        .verify_body_from(&package.body, Some(std::net::IpAddr::from([127, 0, 0, 1])))
        .map_err(|e| e.to_string())?;
    log.step(
        "verify NotifyData (JSON, signed over the caller's IP)",
        format!("order {} PaymentStatus {}", n.order_no, n.state),
    );
    let info = client
        .get_order_information("demo-payoo-1", 1234)
        .await
        .map_err(|e| e.to_string())?;
    let status = info
        .fields
        .iter()
        .find(|(k, _)| k == "OrderStatus")
        .map_or("?", |(_, v)| v.as_str());
    if status != "1" {
        return Err(format!("OrderStatus {status}, expected 1"));
    }
    log.step("get order", "OrderStatus 1 (paid)");
    Ok(())
}
