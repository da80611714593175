//! A Wooppay simulator (feature `sandbox`): the PHP `SoapServer` side of the XML API.
//!
//! - `POST /api/wsd/` (also `/api/xml`, `/api/wsdl`): every operation of its WSDL, answered the
//!   way PHP's `SoapServer` writes rpc/encoded (`SOAP-ENV`/`ns1` prefixes, `xsi:type` on every
//!   value, arrays with `SOAP-ENC:arrayType`, a nil `response` beside a non-zero `error_code`).
//!   A request part is bound by name or, as PHP's `SoapServer` does, by position (`param0`).
//!   Credentials: [`SANDBOX_USERNAME`] / [`SANDBOX_PASSWORD`] (the test merchant of Wooppay's invoice API guide).
//!   `core_login` answers `Set-Cookie: session=…` (a SOAP client's cookie jar picks it up; a
//!   cookie set by hand from `response.session` works as well); `core_logout` ends it.
//!   Errors: wrong credentials 101; no or unknown session cookie 5; expired session 607; empty
//!   required field 411; zero amount 215; negative amount 420; wrong SMS code 223; a
//!   `referenceId` used before 221; unknown operation id or reference 802; a refund of an
//!   unpaid operation or above what is left of it 14; a decline of a paid one 808. A malformed
//!   envelope or an unknown function is a SOAP Fault (HTTP 500).
//!   The SMS code for any phone is [`SANDBOX_SMS_CODE`]; the commission of any service is 2 %.
//! - `GET /api/wsd/?wsdl`, `GET /api/xml`, `GET /api/wsdl`: the WSDL, with this simulator's
//!   address ([`wsdl::served`]).
//! - `GET /invoice/operation?id=…&key=…`: the payment page an invoice's `operationUrl` points to
//!   (merchant, reference, amount, currency, description; Pay, Pay a wrong amount, Decline,
//!   Leave pending); its buttons post back to it, and the payer is then sent to the invoice's
//!   `backUrl`. Dates are the real time in Kazakhstan (UTC+5), so date filters find today's
//!   operations.
//! - `POST /invoice/pay?id=…`: pays the operation (status 4), then calls the merchant's
//!   `requestUrl` with GET until it answers `{"data":1}` (five attempts).
//! - `POST /api/wsd/_sandbox/expire-sessions`: expires every session (the next call gets 607).

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use paybridge_core::http::{HttpConfig, HttpRequest, HttpTransport, RetryPolicy};
use paybridge_core::soap::encoded::EncString;
use paybridge_core::soap::{RawEnvelope, from_fragment};
use paybridge_core::xml::escape_text;
use rust_decimal::Decimal;

use crate::client::NAMESPACE;
use crate::generated::xml_controller as wire;

mod history;
mod payer;
pub mod wsdl;

/// The document's test merchant login.
pub const SANDBOX_USERNAME: &str = "test_merch";
/// The document's test merchant password.
pub const SANDBOX_PASSWORD: &str = "A12345678a";
/// The SMS confirmation code the simulator "sends".
pub const SANDBOX_SMS_CODE: &str = "1234";
/// The API path.
pub const ENDPOINT_PATH: &str = "/api/wsd/";
/// The pay route.
pub const PAY_PATH: &str = "/invoice/pay";
/// The payment page route.
pub const PAGE_PATH: &str = "/invoice/operation";
/// The route that expires every session.
pub const EXPIRE_PATH: &str = "/api/wsd/_sandbox/expire-sessions";
/// Where else the WSDL is served (and the API answers), as on Wooppay's hosts.
pub const WSDL_PATHS: [&str; 2] = ["/api/xml", "/api/wsdl"];

#[derive(Debug, Clone)]
struct SimOperation {
    reference_id: String,
    amount: Decimal,
    request_url: String,
    description: String,
    status: i64,
    key: String,
    /// What was given back so far (refunds).
    refunded: Decimal,
    /// The invoice's currency (`cash_createInvoiceWithCurrency`), KZT otherwise.
    currency: String,
    /// Paid from the phone balance (`cash_createInvoiceExtended`, service type 2): refunded
    /// with `cash_mobileRefund` only.
    mobile: bool,
    /// Where the payer goes back to after the payment page (`backUrl`; empty: nowhere).
    back_url: String,
    /// When it was created, Wooppay's `YYYY-MM-DD HH:MM:SS` in Kazakhstan time.
    created: String,
    /// When it was paid (status 4), the same way; empty before.
    done: String,
}

#[derive(Default)]
struct Inner {
    /// session key → still valid
    sessions: Mutex<HashMap<String, bool>>,
    operations: Mutex<BTreeMap<i64, SimOperation>>,
    codes: Mutex<HashMap<String, String>>,
    next_id: AtomicI64,
    /// Every operation of the WSDL: request part and return type.
    ops: HashMap<String, wsdl::OpShape>,
}

/// The simulator. Cheap to clone; clones share state.
#[derive(Clone)]
pub struct Simulator {
    inner: Arc<Inner>,
    transport: HttpTransport,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator").finish_non_exhaustive()
    }
}

fn envelope(op: &str, return_type: &str, inner: &str) -> String {
    format!(
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?>"#,
            "\n",
            r#"<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ns1="urn:XmlControllerwsdl" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:SOAP-ENC="http://schemas.xmlsoap.org/soap/encoding/" SOAP-ENV:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/">"#,
            "<SOAP-ENV:Body><ns1:{op}Response><return xsi:type=\"ns1:{rt}\">{inner}</return></ns1:{op}Response></SOAP-ENV:Body></SOAP-ENV:Envelope>\n"
        ),
        op = op,
        rt = return_type,
        inner = inner
    )
}

fn val(name: &str, xsd: &str, value: &str) -> String {
    format!(
        "<{name} xsi:type=\"xsd:{xsd}\">{}</{name}>",
        escape_text(value)
    )
}

fn ok(op: &str, return_type: &str, response: &str) -> Response {
    xml(
        StatusCode::OK,
        envelope(
            op,
            return_type,
            &format!("{response}<error_code xsi:type=\"xsd:int\">0</error_code>"),
        ),
    )
}

fn error(op: &str, return_type: &str, code: i64) -> Response {
    xml(
        StatusCode::OK,
        envelope(
            op,
            return_type,
            &format!(
                "<response xsi:nil=\"true\"/><error_code xsi:type=\"xsd:int\">{code}</error_code>"
            ),
        ),
    )
}

fn fault(message: &str) -> Response {
    xml(
        StatusCode::INTERNAL_SERVER_ERROR,
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body><SOAP-ENV:Fault><faultcode>SOAP-ENV:Client</faultcode><faultstring>{}</faultstring></SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>
"#,
            escape_text(message)
        ),
    )
}

fn xml(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        body,
    )
        .into_response()
}

fn text(v: Option<&EncString>) -> String {
    v.and_then(|e| e.get().ok().flatten()).unwrap_or_default()
}

/// The fields every create operation shares, read from any of the four request types.
struct NewInvoice {
    reference_id: String,
    amount: Option<Decimal>,
    request_url: String,
    description: String,
    add_info: String,
    user_phone: Option<String>,
    service_type: Option<i64>,
    currency: Option<String>,
    back_url: String,
}

impl Simulator {
    /// A simulator with no operations.
    pub fn new() -> paybridge_core::Result<Self> {
        let ops = wsdl::operations()
            .ok_or_else(|| paybridge_core::Error::config("the shipped WSDL does not parse"))?;
        Ok(Self {
            inner: Arc::new(Inner {
                next_id: AtomicI64::new(50_146_000),
                ops,
                ..Inner::default()
            }),
            transport: HttpTransport::new(
                HttpConfig::default()
                    .timeout(Duration::from_secs(5))
                    .retry(RetryPolicy::none()),
            )?,
        })
    }

    /// The simulator's routes.
    pub fn router(&self) -> Router {
        let [xml_path, wsdl_path] = WSDL_PATHS;
        Router::new()
            .route(ENDPOINT_PATH, post(api).get(serve_wsdl))
            .route(xml_path, post(api).get(serve_wsdl))
            .route(wsdl_path, post(api).get(serve_wsdl))
            .route(EXPIRE_PATH, post(expire))
            .route(PAY_PATH, post(payer::pay))
            .route(PAGE_PATH, get(payer::page).post(payer::choose))
            .with_state(self.clone())
    }

    fn check_session(&self, headers: &HeaderMap) -> Result<(), i64> {
        let key = session_key(headers).ok_or(5_i64)?;
        match self.inner.sessions.lock().map_err(|_| 3_i64)?.get(key) {
            Some(true) => Ok(()),
            Some(false) => Err(607),
            None => Err(5),
        }
    }

    fn create(&self, op: &str, host: &str, inv: NewInvoice) -> Response {
        let rt = "CashCreateInvoiceResponse";
        if inv.reference_id.is_empty() || inv.request_url.is_empty() {
            return error(op, rt, 411);
        }
        let Some(amount) = inv.amount else {
            return error(op, rt, 411);
        };
        if amount.is_zero() {
            return error(op, rt, 215);
        }
        if amount.is_sign_negative() {
            return error(op, rt, 420);
        }
        if let Some(phone) = &inv.user_phone {
            let expected = self
                .inner
                .codes
                .lock()
                .ok()
                .and_then(|c| c.get(phone).cloned());
            if inv.service_type != Some(2) {
                return error(op, rt, 419);
            }
            if expected.as_deref() != Some(inv.add_info.as_str()) {
                return error(op, rt, 223);
            }
        }
        let Ok(mut ops) = self.inner.operations.lock() else {
            return error(op, rt, 3);
        };
        if ops.values().any(|o| o.reference_id == inv.reference_id) {
            return error(op, rt, 221);
        }
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let key = format!("{:032x}", fastrand::u128(..));
        let url = format!("http://{host}{PAGE_PATH}?id={id}&key={key}");
        ops.insert(
            id,
            SimOperation {
                mobile: inv.user_phone.is_some(),
                reference_id: inv.reference_id,
                amount,
                request_url: inv.request_url,
                description: inv.description,
                status: 1,
                key,
                refunded: Decimal::ZERO,
                currency: inv.currency.unwrap_or_else(|| "KZT".to_owned()),
                back_url: inv.back_url,
                created: now_kazakhstan(),
                done: String::new(),
            },
        );
        drop(ops);
        ok(
            op,
            rt,
            &format!(
                "<response xsi:type=\"ns1:CashCreateInvoiceResponseData\">{}{}</response>",
                val("operationId", "int", &id.to_string()),
                val("operationUrl", "string", &url)
            ),
        )
    }

    fn login(&self, op: &str, body: &str) -> Response {
        let rt = "CoreLoginResponse";
        let Ok(req) = from_fragment::<wire::CoreLoginRpc>(body) else {
            return fault("Bad request");
        };
        let r = req.core_login_request.unwrap_or_default();
        if text(r.username.as_ref()) != SANDBOX_USERNAME
            || text(r.password.as_ref()) != SANDBOX_PASSWORD
        {
            return error(op, rt, 101);
        }
        let session = format!("{:032x}", fastrand::u128(..));
        if let Ok(mut s) = self.inner.sessions.lock() {
            s.insert(session.clone(), true);
        }
        let mut answer = ok(
            op,
            rt,
            &format!(
                "<response xsi:type=\"ns1:CoreLoginResponseData\">{}{}{}{}{}<roles SOAP-ENC:arrayType=\"xsd:string[2]\" xsi:type=\"ns1:stringArray\"><item xsi:type=\"xsd:string\">rMerchant</item><item xsi:type=\"xsd:string\">rMerchantSmpp</item></roles></response>",
                val("session", "string", &session),
                val("id", "int", "384310"),
                val("username", "string", SANDBOX_USERNAME),
                val("login", "string", SANDBOX_USERNAME),
                val("type", "int", "3000"),
            ),
        );
        // What a SOAP client's cookie jar keeps and sends back on every later call.
        if let Ok(cookie) =
            axum::http::HeaderValue::from_str(&format!("session={session}; path=/; HttpOnly"))
        {
            answer.headers_mut().insert(header::SET_COOKIE, cookie);
        }
        answer
    }

    fn dispatch(&self, op: &str, body: &str, headers: &HeaderMap) -> Response {
        let host = headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("127.0.0.1")
            .to_owned();
        if op == "core_login" {
            return self.login(op, body);
        }
        let Some(shape) = self.inner.ops.get(op) else {
            return fault(&format!(
                "Function (\"{op}\") is not a valid method for this service"
            ));
        };
        let return_type = shape.return_type.as_str();
        if let Err(code) = self.check_session(headers) {
            return error(op, return_type, code);
        }
        let invoice = read_invoice(op, body);
        if op.starts_with("cash_createInvoice") {
            return match invoice {
                Some(inv) => self.create(op, &host, inv),
                None => fault("Bad request"),
            };
        }
        match op {
            "core_requestConfirmationCode" => {
                let Ok(r) = from_fragment::<wire::CoreRequestConfirmationCodeRpc>(body) else {
                    return fault("Bad request");
                };
                let phone = text(
                    r.core_request_confirmation_code_request
                        .unwrap_or_default()
                        .phone
                        .as_ref(),
                );
                if phone.is_empty() {
                    return error(op, return_type, 411);
                }
                if let Ok(mut c) = self.inner.codes.lock() {
                    c.insert(phone, SANDBOX_SMS_CODE.to_owned());
                }
                ok(
                    op,
                    return_type,
                    "<response xsi:type=\"xsd:boolean\">true</response>",
                )
            }
            "cash_getBalance" => {
                let paid: Decimal = self
                    .inner
                    .operations
                    .lock()
                    .map(|ops| {
                        ops.values()
                            .filter(|o| o.status == 4)
                            .map(|o| o.amount)
                            .sum()
                    })
                    .unwrap_or_default();
                let balance = Decimal::new(174_215, 1) + paid;
                ok(
                    op,
                    return_type,
                    &format!(
                        "<response xsi:type=\"ns1:CashGetBalanceResponseData\">{}</response>",
                        val("amount", "float", &balance.normalize().to_string())
                    ),
                )
            }
            "cash_paymentReturn"
            | "cash_paymentReturnPartial"
            | "cash_mobileRefund"
            | "cash_decline" => self.money_back(op, return_type, body),
            "core_logout" => {
                if let Some(key) = session_key(headers)
                    && let Ok(mut s) = self.inner.sessions.lock()
                {
                    s.remove(key);
                }
                ok(op, return_type, "")
            }
            "cash_getOperationData" => self.operation_records(op, return_type, body),
            _ => self.history(op, return_type, body),
        }
    }

    /// Refunds and decline, with state: a refund only of a paid operation (status 4) and never
    /// above what is left of its sum (else 14, "refund failed"); a phone-balance payment only
    /// with `cash_mobileRefund` (anything else with it: 228); all of it back → status 5; a
    /// decline only of an unpaid one (status 1 or 9) → status 7 (else 808, not finished).
    fn money_back(&self, op: &str, return_type: &str, body: &str) -> Response {
        let (id, amount) = match op {
            "cash_paymentReturn" => match from_fragment::<wire::CashPaymentReturnRpc>(body) {
                Ok(r) => (r.cash_return_request.and_then(|r| r.operation_id), None),
                Err(_) => return fault("Bad request"),
            },
            "cash_paymentReturnPartial" => {
                match from_fragment::<wire::CashPaymentReturnPartialRpc>(body) {
                    Ok(r) => {
                        let r = r.cash_return_partial_request.unwrap_or_default();
                        (
                            r.operation_id,
                            r.amount.and_then(|a| a.get().ok().flatten()),
                        )
                    }
                    Err(_) => return fault("Bad request"),
                }
            }
            "cash_mobileRefund" => match from_fragment::<wire::CashMobileRefundRpc>(body) {
                Ok(r) => {
                    let r = r.cash_mobile_refund_request.unwrap_or_default();
                    (
                        r.operation_id,
                        r.amount.and_then(|a| a.get().ok().flatten()),
                    )
                }
                Err(_) => return fault("Bad request"),
            },
            _ => match from_fragment::<wire::CashDeclineRpc>(body) {
                Ok(r) => (r.cash_decline_request.and_then(|r| r.operation_id), None),
                Err(_) => return fault("Bad request"),
            },
        };
        let Some(id) = id.and_then(|i| i.get().ok().flatten()) else {
            return error(op, return_type, 802);
        };
        let Ok(mut ops) = self.inner.operations.lock() else {
            return error(op, return_type, 3);
        };
        let Some(o) = ops.get_mut(&id) else {
            return error(op, return_type, 802);
        };
        if op == "cash_decline" {
            if !matches!(o.status, 1 | 9) {
                return error(op, return_type, 808);
            }
            o.status = 7;
            return ok(op, return_type, "");
        }
        let left = o.amount - o.refunded;
        let amount = match (op, amount) {
            ("cash_paymentReturn", _) => left,
            (_, Some(a)) => a,
            (_, None) => return error(op, return_type, 14),
        };
        // A phone-balance payment goes back to the phone (`cash_mobileRefund`), anything else
        // to where it came from: the wrong kind of refund is refused.
        let mobile_refund = op == "cash_mobileRefund";
        if mobile_refund != o.mobile {
            return error(op, return_type, if mobile_refund { 228 } else { 14 });
        }
        if o.status != 4 || amount <= Decimal::ZERO || amount > left {
            return error(op, return_type, 14);
        }
        o.refunded += amount;
        if o.refunded == o.amount {
            o.status = 5;
        }
        ok(op, return_type, "")
    }

    fn operation_records(&self, op: &str, return_type: &str, body: &str) -> Response {
        let Ok(r) = from_fragment::<wire::CashGetOperationDataRpc>(body) else {
            return fault("Bad request");
        };
        let ids: Vec<i64> = r
            .cash_get_operation_data_request
            .and_then(|r| r.operation_id)
            .map(|a| {
                a.items
                    .iter()
                    .filter_map(|i| i.get().ok().flatten())
                    .collect()
            })
            .unwrap_or_default();
        let Ok(ops) = self.inner.operations.lock() else {
            return error(op, return_type, 3);
        };
        let mut items = String::new();
        for id in &ids {
            let Some(o) = ops.get(id) else {
                return error(op, return_type, 802);
            };
            let _ = write!(
                items,
                "<item xsi:type=\"ns1:CashGetOperationDataResponseDataRecord\">{}{}{}{}{}{}{}{}{}{}{}{}</item>",
                val("id", "int", &id.to_string()),
                val("type", "int", "4"),
                val("lotId", "int", "0"),
                val("sum", "float", &o.amount.normalize().to_string()),
                val("fee", "float", "0"),
                val("date", "string", &o.created),
                val("status", "int", &o.status.to_string()),
                val("comment", "string", &o.description),
                val("fromSubject", "string", "Z77765431515"),
                val("toSubject", "string", SANDBOX_USERNAME),
                val("fromFullName", "string", "Sandbox Payer"),
                val("toFullName", "string", &o.reference_id),
            );
        }
        ok(
            op,
            return_type,
            &format!(
                "<response xsi:type=\"ns1:CashGetOperationDataResponseData\"><records SOAP-ENC:arrayType=\"ns1:CashGetOperationDataResponseDataRecord[{}]\" xsi:type=\"ns1:CashGetOperationDataResponseDataRecordArray\">{items}</records></response>",
                ids.len()
            ),
        )
    }

    /// Change operation `id` in place (nothing when there is no such operation).
    fn set(&self, id: i64, change: impl FnOnce(&mut SimOperation)) {
        if let Ok(mut ops) = self.inner.operations.lock()
            && let Some(op) = ops.get_mut(&id)
        {
            change(op);
        }
    }

    /// Pay an operation (status 4) and call its `requestUrl` until it answers `{"data":1}`.
    /// Returns how many calls it took, or why it gave up.
    pub async fn pay(&self, id: i64) -> Result<u32, String> {
        let url = {
            let mut ops = self
                .inner
                .operations
                .lock()
                .map_err(|_| "state poisoned".to_owned())?;
            let op = ops
                .get_mut(&id)
                .ok_or_else(|| format!("no operation {id}"))?;
            op.status = 4;
            op.done = now_kazakhstan();
            op.request_url.clone()
        };
        let mut last = String::new();
        for attempt in 1..=5_u32 {
            match self
                .transport
                .send(HttpRequest::get(url.clone()).operation("woopay-sandbox", "requestUrl"))
                .await
            {
                Ok(r)
                    if String::from_utf8_lossy(&r.body).replace(' ', "").trim()
                        == r#"{"data":1}"# =>
                {
                    return Ok(attempt);
                }
                Ok(r) => {
                    last = format!(
                        "HTTP {}: {}",
                        r.status,
                        String::from_utf8_lossy(&r.body)
                            .chars()
                            .take(80)
                            .collect::<String>()
                    );
                }
                Err(e) => last = e.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(50 * u64::from(attempt))).await;
        }
        Err(format!(
            "requestUrl did not answer {{\"data\":1}} after 5 calls ({last})"
        ))
    }
}

/// The `session` cookie's value.
fn session_key(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|c| c.split(';'))
        .find_map(|c| c.trim().strip_prefix("session="))
}

/// The invoice fields of any of the five create requests (`None`: not such a request, or
/// undecodable).
fn read_invoice(op: &str, body: &str) -> Option<NewInvoice> {
    /// The shared fields of a generated create request, plus the phone where there is one.
    macro_rules! new_invoice {
        ($r:expr, $phone:expr) => {{
            let r = $r;
            NewInvoice {
                reference_id: text(r.reference_id.as_ref()),
                amount: r.amount.as_ref().and_then(|e| e.get().ok().flatten()),
                request_url: text(r.request_url.as_ref()),
                description: text(r.description.as_ref()),
                add_info: text(r.add_info.as_ref()),
                user_phone: $phone,
                service_type: r.service_type.as_ref().and_then(|e| e.get().ok().flatten()),
                currency: None,
                back_url: text(r.back_url.as_ref()),
            }
        }};
    }
    match op {
        "cash_createInvoice" => from_fragment::<wire::CashCreateInvoiceRpc>(body)
            .ok()
            .map(|r| new_invoice!(r.cash_create_invoice_request.unwrap_or_default(), None)),
        "cash_createInvoiceExtended" => from_fragment::<wire::CashCreateInvoiceExtendedRpc>(body)
            .ok()
            .map(|r| {
                let r = r.cash_create_invoice_extended_request.unwrap_or_default();
                let phone = Some(text(r.user_phone.as_ref()));
                new_invoice!(r, phone)
            }),
        "cash_createInvoice2Extended" => from_fragment::<wire::CashCreateInvoice2ExtendedRpc>(body)
            .ok()
            .map(|r| {
                new_invoice!(
                    r.cash_create_invoice_extended2_request.unwrap_or_default(),
                    None
                )
            }),
        "cash_createInvoiceByService" => from_fragment::<wire::CashCreateInvoiceByServiceRpc>(body)
            .ok()
            .and_then(|r| r.cash_create_invoice_by_service_request)
            // Without a service name the request is refused like a missing field.
            .map(|r| {
                if text(r.service_name.as_ref()).is_empty() {
                    NewInvoice {
                        reference_id: String::new(),
                        amount: None,
                        request_url: String::new(),
                        description: String::new(),
                        add_info: String::new(),
                        user_phone: None,
                        service_type: None,
                        currency: None,
                        back_url: String::new(),
                    }
                } else {
                    new_invoice!(r, None)
                }
            }),
        "cash_createInvoiceWithCurrency" => {
            from_fragment::<wire::CashCreateInvoiceWithCurrencyRpc>(body)
                .ok()
                .and_then(|r| r.cash_create_invoice_with_currency_request)
                .map(|r| {
                    let currency = text(r.currency.as_ref());
                    NewInvoice {
                        currency: (!currency.is_empty()).then_some(currency),
                        ..new_invoice!(r, None)
                    }
                })
        }
        _ => None,
    }
}

async fn api(State(sim): State<Simulator>, headers: HeaderMap, body: Bytes) -> Response {
    let Ok(text) = std::str::from_utf8(&body) else {
        return fault("Bad Request");
    };
    let Ok(env) = RawEnvelope::parse(text) else {
        return fault("Bad Request");
    };
    let Ok(doc) = paybridge_core::xml::parse(&env.body) else {
        return fault("Bad Request");
    };
    let root = doc.root_element().tag_name();
    if root.namespace() != Some(NAMESPACE) {
        return fault("Procedure not present");
    }
    let op = root.name();
    let positional = sim
        .inner
        .ops
        .get(op)
        .and_then(|shape| wsdl::bind_positional(&env.body, &shape.part));
    sim.dispatch(op, positional.as_deref().unwrap_or(&env.body), &headers)
}

/// The WSDL, with this simulator's address (from the `Host` it was asked on).
async fn serve_wsdl(headers: HeaderMap) -> Response {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("127.0.0.1");
    xml(StatusCode::OK, wsdl::served(&format!("http://{host}")))
}

async fn expire(State(sim): State<Simulator>) -> StatusCode {
    if let Ok(mut s) = sim.inner.sessions.lock() {
        for valid in s.values_mut() {
            *valid = false;
        }
    }
    StatusCode::NO_CONTENT
}
/// Now as Wooppay writes dates: `YYYY-MM-DD HH:MM:SS`, Kazakhstan time (UTC+5).
fn now_kazakhstan() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
    let c = paybridge_core::time::civil(now + 5 * 3600);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    )
}
