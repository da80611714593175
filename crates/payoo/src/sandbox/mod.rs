//! An ASP.NET-like Payoo simulator (feature `sandbox`) at `/CallerServices.asmx`, SOAP 1.1 and
//! 1.2 (answered in the request's version).
//!
//! It checks the `APICredential` header ([`SANDBOX_USERNAME`], [`SANDBOX_PASSWORD`],
//! [`SANDBOX_SIGNATURE`], a 14-digit `Timestamp`), the request's `DigitalSignature`
//! ([`SANDBOX_CHECKSUM_KEY`]), and — like a schema-validating server — the `_APIParam`
//! `xsi:type`, element order and value-type fields of the known APIs; a request failing any
//! of that is a SOAP Fault (HTTP 500). Answers are signed the same way.
//! Outcomes (our documented rules):
//! - `CreatePreOrder`: stores the order (`OrderNo`), answers `Success` with `OrderID` and
//!   `PaymentUrl`; `CyberCash` ≤ 0 answers `Failure` "Invalid amount".
//! - `GetOrderInformation`: `Success` in the documented shape: `OrderStatus`, `OrderCash`,
//!   `OrderFee`, `PaymentDate`, `ShippingDate`, `DeliveryDate` (no order fields); an unknown
//!   order answers `Failure` "Order not found".
//! - `UpdateOrderStatus`: `Success`; the same status again answers `SuccessWithWarning`
//!   "Status unchanged".
//! - Any other API answers `Failure` "API not supported".
//!
//! The current APIs share the same orders: the hosted checkout ([`checkout`],
//! `POST /v2/paynow/order/create`) and the REST Business API ([`rest`],
//! `POST /BusinessRestAPI.svc/<Method>`).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use paybridge_core::soap::{EnvelopeStyle, RawEnvelope, SoapVersion, wrap};
use paybridge_core::xml::{child, escape_text, text};

use crate::client::NAMESPACE;

pub mod checkout;
pub mod rest;
use crate::signature::{checksum, verify};

/// `APIUsername` the simulator accepts.
pub const SANDBOX_USERNAME: &str = "sandbox_shop";
/// `APIPassword`.
pub const SANDBOX_PASSWORD: &str = "sandbox-password";
/// `APISignature`.
pub const SANDBOX_SIGNATURE: &str = "sandbox-api-signature";
/// The checksum key.
pub const SANDBOX_CHECKSUM_KEY: &str = "sandbox-checksum-key";
/// The endpoint path.
pub const ENDPOINT_PATH: &str = "/CallerServices.asmx";
/// `POST /payoo/_sandbox/pay?order=NO[&form=json][&ip=IP]`: marks the order paid
/// (`OrderStatus` 1), posts the notification to the order's `NotifyUrl` when it has one
/// (until the shop answers `NOTIFY_RECEIVED`), and answers the same form body
/// (`NotifyData=…`): an XML package signed over [`SHOP_ORDER_KEY_FIELDS`](crate::notification::SHOP_ORDER_KEY_FIELDS), or — for an order whose
/// `InfoEx` asked for `JsonResponse` true, or with `form=json` — a JSON package signed for a
/// call from `ip` (default `127.0.0.1`).
pub const PAY_PATH: &str = "/payoo/_sandbox/pay";

const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// Declared fields of the known APIs: (name, value type?).
fn declared(api: &str) -> Option<&'static [(&'static str, bool)]> {
    Some(match api {
        "GetOrderInformation" => &[("OrderID", false), ("ShopID", true)],
        "UpdateOrderStatus" => &[
            ("ShopID", true),
            ("OrderID", false),
            ("NewStatus", true),
            ("UpdateLog", false),
        ],
        "CreatePreOrder" => &[
            ("ShopID", true),
            ("OrderNo", false),
            ("FromShipDate", false),
            ("ShipNumDay", true),
            ("Description", false),
            ("CyberCash", true),
            ("HttpReference", false),
            ("ShopBackURL", false),
            ("SessionShop", false),
            ("PaymentExpireDate", false),
            ("InfoEx", false),
            ("UserName", false),
            ("ShopTitle", false),
            ("ShopDomain", false),
            ("NotifyUrl", false),
            ("BillingCode", false),
        ],
        _ => return None,
    })
}

#[derive(Debug, Clone, Default)]
struct Order {
    shop_id: String,
    /// `0` unpaid, `1` paid, `3` cancelled.
    status: String,
    amount: String,
    /// The `CreatePreOrder` request's fields (or a checkout order's, under the same names),
    /// for the notification.
    fields: Vec<(String, String)>,
    /// When it was paid, `yyyyMMddHHmmss` (UTC+7).
    purchase_date: String,
    /// Refunds: (`RefundId`, `TransferCode`, amount in VND).
    refunds: Vec<(String, String, i64)>,
}

impl Order {
    fn get(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// Whether the order asked for JSON notifications (`JsonResponse` true in its `InfoEx`).
    fn wants_json(&self) -> bool {
        let info = self.get("InfoEx").to_ascii_lowercase();
        info.contains("<jsonresponse>true</jsonresponse>") || info.contains("jsonresponse=true")
    }
}

#[derive(Clone, Default)]
struct Sim {
    orders: Arc<Mutex<HashMap<String, Order>>>,
    /// The one client notifications are posted with, built at the first one.
    notifier: Arc<std::sync::OnceLock<Option<paybridge_core::http::HttpTransport>>>,
}

impl Sim {
    /// The notification client (`None` when none could be built).
    fn notifier(&self) -> Option<paybridge_core::http::HttpTransport> {
        self.notifier
            .get_or_init(|| {
                paybridge_core::http::HttpTransport::new(
                    paybridge_core::http::HttpConfig::default()
                        .timeout(std::time::Duration::from_secs(5))
                        .retry(paybridge_core::http::RetryPolicy::none()),
                )
                .ok()
            })
            .clone()
    }
}

/// The simulator's routes.
pub fn router() -> Router {
    Router::new()
        .route(ENDPOINT_PATH, post(endpoint))
        .route(PAY_PATH, post(pay))
        .route(checkout::CREATE_PATH, post(checkout::create))
        .route(checkout::LEGACY_PATH, post(checkout::legacy))
        .route(
            checkout::PAGE_PATH,
            axum::routing::get(checkout::page).post(checkout::choose),
        )
        .route(rest::ROUTE, post(rest::call))
        .with_state(Sim::default())
}

fn fault(v: SoapVersion, message: &str) -> Response {
    let xml = v.fault_xml(
        true,
        &format!("Server was unable to read request. ---> {message}"),
    );
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [(header::CONTENT_TYPE, v.response_content_type())],
        xml,
    )
        .into_response()
}

/// A signed `CallToPartnerResponse`.
fn answer(
    v: SoapVersion,
    ack: &str,
    error: Option<(i32, &str)>,
    fields: &[(&str, String)],
) -> Response {
    let mut signed: Vec<String> = Vec::new();
    let mut inner = String::new();
    if let Some((severity, message)) = error {
        signed.push(severity.to_string());
        signed.push(message.to_owned());
        let _ = write!(
            inner,
            "<Error><SeverityCode>{severity}</SeverityCode><Message>{}</Message></Error>",
            escape_text(message)
        );
    }
    for (name, value) in fields {
        signed.push(value.clone());
        let _ = write!(inner, "<{name}>{}</{name}>", escape_text(value));
    }
    signed.push(ack.to_owned());
    let signature =
        checksum(SANDBOX_CHECKSUM_KEY, signed.iter().map(String::as_str)).to_uppercase();
    let body = format!(
        r#"<CallToPartnerResponse xmlns="{NAMESPACE}"><CallToPartnerResult><DigitalSignature>{signature}</DigitalSignature>{inner}<AckCode>{ack}</AckCode></CallToPartnerResult></CallToPartnerResponse>"#
    );
    let xml = wrap(&EnvelopeStyle::new(v), None, &body);
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, v.response_content_type())],
        xml,
    )
        .into_response()
}

/// Check the request like a strict server; `Ok((api, fields))` or the Fault message.
fn read_request(body: &str) -> Result<(String, Vec<(String, String)>), String> {
    let env = RawEnvelope::parse(body).map_err(|e| e.to_string())?;
    let ns = Some(NAMESPACE);
    let header = env.headers.first().ok_or("APICredential header missing")?;
    let hdoc = paybridge_core::xml::parse(header).map_err(|e| e.to_string())?;
    let cred = hdoc.root_element();
    if !cred.has_tag_name((NAMESPACE, "APICredential")) {
        return Err("APICredential header missing".into());
    }
    let get = |n: &str| child(cred, ns, n).map(text).unwrap_or_default();
    if get("APIUsername") != SANDBOX_USERNAME
        || get("APIPassword") != SANDBOX_PASSWORD
        || get("APISignature") != SANDBOX_SIGNATURE
    {
        return Err("Invalid credential".into());
    }
    let ts = get("Timestamp");
    if ts.len() != 14 || !ts.bytes().all(|b| b.is_ascii_digit()) {
        return Err("Invalid Timestamp".into());
    }
    let doc = paybridge_core::xml::parse(&env.body).map_err(|e| e.to_string())?;
    let call = doc.root_element();
    if !call.has_tag_name((NAMESPACE, "CallToPartner")) {
        return Err("unknown operation".into());
    }
    let api = child(call, ns, "_APIName").map(text).unwrap_or_default();
    let param = child(call, ns, "_APIParam").ok_or("_APIParam missing")?;
    let children: Vec<_> = param
        .children()
        .filter(roxmltree::Node::is_element)
        .collect();
    let Some(first) = children.first() else {
        return Err("DigitalSignature missing".into());
    };
    if !first.has_tag_name((NAMESPACE, "DigitalSignature")) {
        return Err("DigitalSignature must come first".into());
    }
    let fields: Vec<(String, String)> = children
        .iter()
        .skip(1)
        .map(|c| (c.tag_name().name().to_owned(), text(*c)))
        .collect();
    if let Some(decl) = declared(&api) {
        let xsi_type = param.attribute((XSI, "type")).unwrap_or_default();
        if xsi_type.rsplit(':').next() != Some(&format!("{api}RequestType")) {
            return Err(format!(
                "_APIParam must be xsi:type {api}RequestType, got {xsi_type:?}"
            ));
        }
        // Element order and value-type presence, as XmlSerializer enforces them.
        let mut pos = 0;
        for (name, _) in &fields {
            let Some(i) = decl.iter().skip(pos).position(|(d, _)| d == name) else {
                return Err(format!("unexpected or misplaced element {name}"));
            };
            pos += i + 1;
        }
        for (name, value_type) in decl {
            if *value_type
                && !fields
                    .iter()
                    .any(|(n, v)| n == name && !v.trim().is_empty())
            {
                return Err(format!("value-type field {name} missing"));
            }
        }
    }
    let received = text(*first);
    let _checked = verify(
        SANDBOX_CHECKSUM_KEY,
        fields.iter().map(|(_, v)| v.as_str()),
        &received,
    )
    .map_err(|_| "Invalid DigitalSignature".to_owned())?;
    Ok((api, fields))
}

async fn endpoint(State(sim): State<Sim>, headers: HeaderMap, body: Bytes) -> Response {
    let v = SoapVersion::of_request(&headers);
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1")
        .to_owned();
    let Ok(text_body) = std::str::from_utf8(&body) else {
        return fault(v, "not UTF-8");
    };
    let (api, fields) = match read_request(text_body) {
        Ok(r) => r,
        Err(m) => return fault(v, &m),
    };
    let field = |n: &str| {
        fields
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let Ok(mut orders) = sim.orders.lock() else {
        return fault(v, "state");
    };
    match api.as_str() {
        "CreatePreOrder" => {
            let amount = field("CyberCash");
            if amount.parse::<f64>().map_or(true, |a| a <= 0.0) {
                return answer(v, "Failure", Some((1, "Invalid amount")), &[]);
            }
            let id = field("OrderNo");
            orders.insert(
                id.clone(),
                Order {
                    shop_id: field("ShopID"),
                    status: "0".into(),
                    amount: amount.clone(),
                    fields: fields.clone(),
                    ..Order::default()
                },
            );
            answer(
                v,
                "Success",
                None,
                &[
                    ("OrderID", id.clone()),
                    ("PaymentUrl", checkout::page_url(&host, &id)),
                ],
            )
        }
        "GetOrderInformation" => match orders.get(&field("OrderID")) {
            Some(o) => answer(
                v,
                "Success",
                None,
                &[
                    ("OrderStatus", o.status.clone()),
                    ("OrderCash", o.amount.clone()),
                    ("OrderFee", "0".into()),
                    ("PaymentDate", String::new()),
                    ("ShippingDate", o.get("FromShipDate").to_owned()),
                    ("DeliveryDate", String::new()),
                ],
            ),
            None => answer(v, "Failure", Some((2, "Order not found")), &[]),
        },
        "UpdateOrderStatus" => match orders.get_mut(&field("OrderID")) {
            Some(o) if o.status == field("NewStatus") => {
                answer(v, "SuccessWithWarning", Some((0, "Status unchanged")), &[])
            }
            Some(o) => {
                o.status = field("NewStatus");
                answer(v, "Success", None, &[])
            }
            None => answer(v, "Failure", Some((2, "Order not found")), &[]),
        },
        _ => answer(v, "Failure", Some((3, "API not supported")), &[]),
    }
}

async fn pay(
    State(sim): State<Sim>,
    axum::extract::Query(q): axum::extract::Query<HashMap<String, String>>,
) -> Response {
    let order_no = q.get("order").cloned().unwrap_or_default();
    let ip = q
        .get("ip")
        .and_then(|ip| ip.parse().ok())
        .unwrap_or(std::net::IpAddr::from([127, 0, 0, 1]));
    let json = q.get("form").map(String::as_str) == Some("json");
    match sim.settle(&order_no, None, json, ip) {
        Ok(form) => (
            [(header::CONTENT_TYPE, "application/x-www-form-urlencoded")],
            form,
        )
            .into_response(),
        Err(refused) => refused.into_response(),
    }
}

impl Sim {
    /// Mark `order_no` paid (`OrderStatus` 1; `paid` VND when the payer paid another amount
    /// than asked: the order's cash becomes what was paid, as Payoo reports it), post the
    /// notification to its `NotifyUrl` when it has one, and return the notification's form
    /// body. JSON when the order asked for it or `json`, signed for a call from `ip`.
    fn settle(
        &self,
        order_no: &str,
        paid: Option<String>,
        json: bool,
        ip: std::net::IpAddr,
    ) -> Result<String, (StatusCode, String)> {
        let Ok(mut orders) = self.orders.lock() else {
            return Err((StatusCode::INTERNAL_SERVER_ERROR, "state".into()));
        };
        let Some(order) = orders.get_mut(order_no) else {
            return Err((StatusCode::NOT_FOUND, "unknown order".into()));
        };
        order.status = "1".into();
        order.purchase_date = now_vietnam();
        if let Some(paid) = paid {
            order.amount = paid;
        }
        let package = if order.wants_json() || json {
            notification_json(order_no, order, ip)
        } else {
            notification_xml(order_no, order).map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e))?
        };
        let form: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("NotifyData", &package)
            .finish();
        let notify_url = order.get("NotifyUrl").to_owned();
        drop(orders);
        if !notify_url.is_empty()
            && let Some(transport) = self.notifier()
        {
            tokio::spawn(notify(transport, notify_url, form.clone()));
        }
        Ok(form)
    }
}

/// The JSON notification package of a paid order, signed for a call from `ip`.
fn notification_json(order_no: &str, order: &Order, ip: std::net::IpAddr) -> String {
    let data = serde_json::json!({
        "OrderNo": order_no,
        "OrderCash": order.amount,
        "PaymentStatus": 1,
        "PaymentMethod": 1,
        "PurchaseDate": order.purchase_date,
        "MerchantUsername": order.get("UserName"),
        "ShopId": order.shop_id,
        "BankName": "",
        "CardNumber": "",
        "BillingCode": order.get("BillingCode"),
    });
    crate::notification::json_package(SANDBOX_CHECKSUM_KEY, &data.to_string(), ip)
}

/// The XML notification package of a paid order, signed over its `KeyFields`.
fn notification_xml(order_no: &str, order: &Order) -> Result<String, String> {
    let description: String =
        form_urlencoded::byte_serialize(order.get("Description").as_bytes()).collect();
    let data = format!(
        "<PaymentNotification><shops><shop><session>{}</session><username>{}</username><shop_id>{}</shop_id><shop_title>{}</shop_title><shop_domain>{}</shop_domain><shop_back_url>{}</shop_back_url><order_no>{}</order_no><order_cash_amount>{}</order_cash_amount><order_ship_date>{}</order_ship_date><order_ship_days>{}</order_ship_days><order_description>{}</order_description><validity_time>{}</validity_time><notify_url>{}</notify_url></shop></shops><State>PAYMENT_RECEIVED</State><PaymentMethod>E_WALLET</PaymentMethod></PaymentNotification>",
        escape_text(order.get("SessionShop")),
        escape_text(order.get("UserName")),
        escape_text(&order.shop_id),
        escape_text(order.get("ShopTitle")),
        escape_text(order.get("ShopDomain")),
        escape_text(order.get("ShopBackURL")),
        escape_text(order_no),
        escape_text(&order.amount),
        escape_text(order.get("FromShipDate")),
        escape_text(order.get("ShipNumDay")),
        escape_text(&description),
        escape_text(order.get("PaymentExpireDate")),
        escape_text(order.get("NotifyUrl")),
    );
    crate::notification::keyfields_package(
        SANDBOX_CHECKSUM_KEY,
        &data,
        crate::notification::SHOP_ORDER_KEY_FIELDS,
    )
    .map_err(|e| e.to_string())
}

/// A URL-encoded field (`+` a space) as text: what Payoo reads from an encoded description
/// or URL.
fn decoded(s: &str) -> String {
    form_urlencoded::parse(format!("v={}", s.replace('&', "%26")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Now, `yyyyMMddHHmmss` in Vietnam time.
fn now_vietnam() -> String {
    crate::client::vietnam_timestamp(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0)),
    )
}

/// POST the notification to the order's `NotifyUrl` as Payoo does, until the shop answers
/// `NOTIFY_RECEIVED` (a few attempts: a sandbox, not a retry schedule).
async fn notify(transport: paybridge_core::http::HttpTransport, url: String, form: String) {
    for attempt in 1..=5_u64 {
        let request = paybridge_core::http::HttpRequest::post(url.clone(), form.clone())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .operation("payoo-sandbox", "notify");
        if let Ok(answer) = transport.send(request).await
            && (200..300).contains(&answer.status)
            && answer
                .body
                .starts_with(crate::notification::NOTIFY_RECEIVED.as_bytes())
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100 * attempt)).await;
    }
    tracing::warn!(%url, "sandbox notification not acknowledged with NOTIFY_RECEIVED");
}
