//! A card-charging gateway simulator: the provider's side of `chargingws/v2`.
//!
//! Mount [`Simulator::router`] in any axum server (the `paybridge sandbox` command does).
//! It checks every field and the `sign` like the gateway (either scheme: the documented
//! `md5(key + code + serial)` or the sorted-fields one some clones use), answers with the
//! documented codes, refuses a reused `request_id`, serves its fee table at
//! `GET /chargingws/v2/getfee?partner_id=`, and delivers signed callbacks for pending cards to
//! the callback URL configured on it ([`Simulator::set_callback_url`], or
//! `PUT /chargingws/v2/_sandbox/callback-url` with the URL as the body) — as a JSON `POST` by
//! default, or as a `GET` with the fields in the query ([`Simulator::set_callback_method`], or
//! `PUT /chargingws/v2/_sandbox/callback-method` with `GET` or `POST`).
//!
//! Credentials: partner id [`SANDBOX_PARTNER_ID`], key [`SANDBOX_PARTNER_KEY`]. More partners
//! — a platform's merchants, each with its own gateway account — are added with
//! [`Simulator::add_partner`] (`PUT /chargingws/v2/_sandbox/partners/{id}` with the key as the
//! body); each has its own callback URL when one is set for it
//! (`PUT …/_sandbox/callback-url?partner_id=ID`), else the gateway's.
//!
//! Outcomes are decided by the **last digit of the card code**:
//!
//! | last digit | answer to `charging` | callback |
//! |---|---|---|
//! | 1 | 1, right face value | none |
//! | 2 | 2, real value half the declared one | none |
//! | 3 | 3, card error | none |
//! | 4 | 4, maintenance (request id not consumed) | none |
//! | 8 | 99, pending | status 3 |
//! | any other | 99, pending | status 1 |
//!
//! The merchant is credited 70% of the face value (`amount`), as the sample answers show.
//! Bad input answers status 100 with the reason in `message`; a code or serial that is not
//! digits answers 102 (`INPUT_DATA_INCORRECT`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{any, get, put};
use paybridge_core::http::{HttpConfig, HttpRequest, HttpTransport, RetryPolicy};
use serde_json::{Value, json};

use crate::card::Telco;
use crate::signature::{SignScheme, SignedFields, callback_sign};
use crate::status::ChargeStatus;

/// Partner id the simulator accepts.
pub const SANDBOX_PARTNER_ID: &str = "sandbox-partner";
/// Partner key the simulator signs and verifies with.
pub const SANDBOX_PARTNER_KEY: &str = "sandbox-key";
/// Where the gateway endpoint is mounted.
pub const ENDPOINT_PATH: &str = "/chargingws/v2";

const REQUIRED: [&str; 8] = [
    "telco",
    "code",
    "serial",
    "amount",
    "request_id",
    "partner_id",
    "sign",
    "command",
];

#[derive(Debug, Clone)]
struct Record {
    telco: String,
    code: String,
    serial: String,
    declared: u64,
    status: ChargeStatus,
    value: Option<u64>,
    amount: Option<u64>,
    trans_id: u64,
    message: String,
}

impl Record {
    fn answer(&self, request_id: &str) -> Value {
        json!({
            "trans_id": self.trans_id,
            "request_id": request_id,
            "amount": self.amount,
            "value": self.value,
            "declared_value": self.declared,
            "telco": self.telco,
            "serial": self.serial,
            "code": self.code,
            "status": self.status.code(),
            "message": self.message,
        })
    }
}

struct Inner {
    partners: Mutex<HashMap<String, String>>,
    records: Mutex<HashMap<(String, String), Record>>,
    callback_url: Mutex<Option<String>>,
    /// A partner's own callback URL, over the gateway's.
    partner_callback_urls: Mutex<HashMap<String, String>>,
    callback_method: Mutex<Method>,
    callback_delay: Duration,
    next_trans_id: AtomicU64,
    transport: HttpTransport,
}

/// The simulator. Cheap to clone; clones share state.
#[derive(Clone)]
pub struct Simulator {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator").finish_non_exhaustive()
    }
}

impl Simulator {
    /// A simulator knowing the sandbox partner, delivering callbacks 50 ms after a charge.
    pub fn new() -> paybridge_core::Result<Self> {
        Self::with_partner(
            SANDBOX_PARTNER_ID,
            SANDBOX_PARTNER_KEY,
            Duration::from_millis(50),
        )
    }

    /// A simulator knowing one partner, with a given callback delay.
    pub fn with_partner(
        partner_id: &str,
        partner_key: &str,
        callback_delay: Duration,
    ) -> paybridge_core::Result<Self> {
        let transport = HttpTransport::new(
            HttpConfig::default()
                .timeout(Duration::from_secs(5))
                .retry(RetryPolicy::none()),
        )?;
        Ok(Self {
            inner: Arc::new(Inner {
                partners: Mutex::new(HashMap::from([(
                    partner_id.to_owned(),
                    partner_key.to_owned(),
                )])),
                records: Mutex::new(HashMap::new()),
                callback_url: Mutex::new(None),
                partner_callback_urls: Mutex::new(HashMap::new()),
                callback_method: Mutex::new(Method::POST),
                callback_delay,
                next_trans_id: AtomicU64::new(1),
                transport,
            }),
        })
    }

    /// One more partner account, with its key (a platform's merchant at the same gateway).
    pub fn add_partner(&self, partner_id: &str, partner_key: &str) {
        if let Ok(mut partners) = self.inner.partners.lock() {
            partners.insert(partner_id.to_owned(), partner_key.to_owned());
        }
    }

    /// Where partner `partner_id`'s callbacks go (`None`: where the gateway's go).
    pub fn set_partner_callback_url(&self, partner_id: &str, url: Option<String>) {
        if let Ok(mut urls) = self.inner.partner_callback_urls.lock() {
            match url {
                Some(url) => urls.insert(partner_id.to_owned(), url),
                None => urls.remove(partner_id),
            };
        }
    }

    fn partner_key(&self, partner_id: &str) -> Option<String> {
        self.inner.partners.lock().ok()?.get(partner_id).cloned()
    }

    /// Where callbacks go (`None`: nowhere).
    pub fn set_callback_url(&self, url: Option<String>) {
        if let Ok(mut slot) = self.inner.callback_url.lock() {
            *slot = url;
        }
    }

    /// How callbacks are delivered: `POST` with a JSON body (the default) or `GET` with the
    /// fields as the query string — the two ways the gateway family calls a merchant.
    pub fn set_callback_method(&self, method: Method) {
        if let Ok(mut slot) = self.inner.callback_method.lock() {
            *slot = method;
        }
    }

    /// The gateway routes: `ENDPOINT_PATH` (GET and POST), its fee table
    /// (`ENDPOINT_PATH/getfee?partner_id=`), and the settings `…/_sandbox/callback-url` and
    /// `…/_sandbox/callback-method` (`GET` or `POST`).
    pub fn router(&self) -> Router {
        Router::new()
            .route(ENDPOINT_PATH, any(gateway))
            .route(&format!("{ENDPOINT_PATH}/getfee"), get(fees))
            .route(
                &format!("{ENDPOINT_PATH}/_sandbox/callback-url"),
                put(set_callback),
            )
            .route(
                &format!("{ENDPOINT_PATH}/_sandbox/callback-method"),
                put(set_callback_method),
            )
            .route(
                &format!("{ENDPOINT_PATH}/_sandbox/partners/{{id}}"),
                put(add_partner),
            )
            .with_state(self.clone())
    }

    fn handle(&self, fields: &HashMap<String, String>) -> Value {
        let request_id = fields.get("request_id").cloned().unwrap_or_default();
        let fail = |status: ChargeStatus, message: &str| json!({"status": status.code(), "message": message, "request_id": request_id});
        if let Some(missing) = REQUIRED
            .iter()
            .find(|k| fields.get(**k).is_none_or(String::is_empty))
        {
            return fail(
                ChargeStatus::SubmissionFailed,
                &format!("Thiếu tham số {missing}"),
            );
        }
        let get = |k: &str| fields.get(k).map_or("", String::as_str);
        let Some(key) = self.partner_key(get("partner_id")) else {
            return fail(ChargeStatus::SubmissionFailed, "partner_id không tồn tại");
        };
        let command = get("command");
        if command != "charging" && command != "check" {
            return fail(ChargeStatus::SubmissionFailed, "command không hợp lệ");
        }
        if !signed_by(&key, fields) {
            return fail(ChargeStatus::SubmissionFailed, "Sai chữ ký");
        }
        let telco = match get("telco").parse::<Telco>() {
            Ok(Telco::Other(_)) | Err(_) => {
                return fail(ChargeStatus::SubmissionFailed, "Nhà mạng không hợp lệ");
            }
            Ok(t) => t,
        };
        let declared = match get("amount").parse::<u64>() {
            Ok(v) if telco.denominations().contains(&v) => v,
            _ => return fail(ChargeStatus::SubmissionFailed, "Mệnh giá không hợp lệ"),
        };
        let (code, serial) = (get("code"), get("serial"));
        if !code.bytes().all(|b| b.is_ascii_digit()) || !serial.bytes().all(|b| b.is_ascii_digit())
        {
            return fail(ChargeStatus::InputDataIncorrect, "INPUT_DATA_INCORRECT");
        }
        let partner = get("partner_id").to_owned();
        let Ok(mut records) = self.inner.records.lock() else {
            return fail(ChargeStatus::Maintenance, "Hệ thống bảo trì");
        };
        let slot = (partner, request_id.clone());
        if command == "check" {
            return match records.get(&slot) {
                None => fail(ChargeStatus::SubmissionFailed, "Không tìm thấy giao dịch"),
                Some(r) if r.code != code || r.serial != serial => {
                    fail(ChargeStatus::SubmissionFailed, "Thông tin thẻ không khớp")
                }
                Some(r) => r.answer(&request_id),
            };
        }
        if records.contains_key(&slot) {
            return fail(ChargeStatus::SubmissionFailed, "request_id đã tồn tại");
        }
        let last = code.bytes().last().unwrap_or(b'0');
        let (status, message, final_status) = match last {
            b'1' => (ChargeStatus::Success, "Thành công", None),
            b'2' => (
                ChargeStatus::SuccessWrongValue,
                "Thành công sai mệnh giá",
                None,
            ),
            b'3' => (ChargeStatus::CardError, "Thẻ lỗi", None),
            b'4' => return fail(ChargeStatus::Maintenance, "Hệ thống bảo trì"),
            b'8' => (
                ChargeStatus::Pending,
                "PENDING",
                Some(ChargeStatus::CardError),
            ),
            _ => (
                ChargeStatus::Pending,
                "PENDING",
                Some(ChargeStatus::Success),
            ),
        };
        let mut record = Record {
            telco: telco.as_str().to_owned(),
            code: code.to_owned(),
            serial: serial.to_owned(),
            declared,
            status,
            value: None,
            amount: None,
            trans_id: self.inner.next_trans_id.fetch_add(1, Ordering::Relaxed),
            message: message.to_owned(),
        };
        settle(&mut record, status);
        if status == ChargeStatus::Pending {
            // Like the gateway's example answer: what will be credited, before it is decided.
            record.amount = Some(declared * 7 / 10);
        }
        let answer = record.answer(&request_id);
        records.insert(slot.clone(), record);
        drop(records);
        if let Some(final_status) = final_status {
            let sim = self.clone();
            tokio::spawn(async move { sim.decide_later(slot, final_status, key).await });
        }
        answer
    }

    async fn decide_later(&self, slot: (String, String), status: ChargeStatus, key: String) {
        tokio::time::sleep(self.inner.callback_delay).await;
        let record = {
            let Ok(mut records) = self.inner.records.lock() else {
                return;
            };
            let Some(r) = records.get_mut(&slot) else {
                return;
            };
            settle(r, status);
            r.clone()
        };
        let own = self
            .inner
            .partner_callback_urls
            .lock()
            .ok()
            .and_then(|urls| urls.get(&slot.0).cloned());
        let url = own.or_else(|| self.inner.callback_url.lock().ok().and_then(|u| u.clone()));
        let Some(url) = url else { return };
        let mut body = record.answer(&slot.1);
        if let Value::Object(map) = &mut body {
            map.insert(
                "callback_sign".into(),
                Value::String(callback_sign(&key, &record.code, &record.serial)),
            );
        }
        let method = self
            .inner
            .callback_method
            .lock()
            .map_or(Method::POST, |m| m.clone());
        let query = match &body {
            Value::Object(map) => {
                let mut q = form_urlencoded::Serializer::new(String::new());
                for (k, v) in map {
                    match v {
                        Value::String(s) => q.append_pair(k, s),
                        Value::Null => q.append_pair(k, ""),
                        other => q.append_pair(k, &other.to_string()),
                    };
                }
                q.finish()
            }
            _ => String::new(),
        };
        let body = body.to_string();
        for attempt in 0..5_u32 {
            let request = if method == Method::GET {
                let sep = if url.contains('?') { '&' } else { '?' };
                HttpRequest::get(format!("{url}{sep}{query}"))
            } else {
                HttpRequest::post(url.clone(), body.clone())
                    .header(http::header::CONTENT_TYPE, "application/json")
            }
            .operation("card-charging-sandbox", "callback");
            match self.inner.transport.send(request).await {
                Ok(resp) if (200..300).contains(&resp.status) => return,
                _ => tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt + 1))).await,
            }
        }
        tracing::warn!(request_id = %slot.1, "sandbox callback not accepted after 5 attempts");
    }
}

/// Whether the request's `sign` verifies under either scheme, as the gateway family's clones
/// accept: the documented `md5(key + code + serial)`, or md5 over the six fields sorted by name.
fn signed_by(key: &str, fields: &HashMap<String, String>) -> bool {
    let get = |k: &str| fields.get(k).map_or("", String::as_str);
    let signed = SignedFields {
        code: get("code"),
        serial: get("serial"),
        command: get("command"),
        partner_id: get("partner_id"),
        request_id: get("request_id"),
        telco: get("telco"),
    };
    SignScheme::ALL
        .iter()
        .any(|scheme| scheme.verify(key, &signed, get("sign")).is_ok())
}

/// Set a record's final fields for `status`.
fn settle(r: &mut Record, status: ChargeStatus) {
    r.status = status;
    let (value, message) = match status {
        ChargeStatus::Success => (Some(r.declared), "Thành công"),
        ChargeStatus::SuccessWrongValue => (Some(r.declared / 2), "Thành công sai mệnh giá"),
        ChargeStatus::CardError => (None, "Thẻ lỗi"),
        _ => return,
    };
    r.value = value;
    r.amount = Some(value.map_or(0, |v| v * 7 / 10));
    message.clone_into(&mut r.message);
}

async fn gateway(
    State(sim): State<Simulator>,
    method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> impl IntoResponse {
    let content_type = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let mut fields: HashMap<String, String> = HashMap::new();
    if let Some(q) = &query {
        fields.extend(form_urlencoded::parse(q.as_bytes()).into_owned());
    }
    if method == Method::POST && !body.is_empty() {
        if let Some(boundary) = content_type
            .split(';')
            .find_map(|p| p.trim().strip_prefix("boundary="))
            .filter(|_| content_type.starts_with("multipart/form-data"))
        {
            fields.extend(parse_multipart(&body, boundary.trim_matches('"')));
        } else if body.first() == Some(&b'{') {
            match serde_json::from_slice::<serde_json::Map<String, Value>>(&body) {
                Ok(map) => fields.extend(map.into_iter().map(|(k, v)| {
                    let s = match v {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    (k, s)
                })),
                Err(_) => {
                    return (
                        StatusCode::OK,
                        axum::Json(json!({"status": 100, "message": "JSON không hợp lệ"})),
                    );
                }
            }
        } else {
            fields.extend(form_urlencoded::parse(&body).into_owned());
        }
    }
    (StatusCode::OK, axum::Json(sim.handle(&fields)))
}

/// The fee table: 30 % kept on every face value of every network (the simulator credits 70 %),
/// 50 % penalty on a wrong declared value; an unknown partner is status 100.
async fn fees(
    State(sim): State<Simulator>,
    axum::extract::Query(q): axum::extract::Query<HashMap<String, String>>,
) -> impl IntoResponse {
    let partner = q.get("partner_id").map_or("", String::as_str);
    if sim.partner_key(partner).is_none() {
        return axum::Json(json!({"status": 100, "message": "partner_id không tồn tại"}));
    }
    let rows: Vec<Value> = [
        Telco::Viettel,
        Telco::Vinaphone,
        Telco::Mobifone,
        Telco::Vietnamobile,
        Telco::Zing,
        Telco::Gate,
    ]
    .iter()
    .flat_map(|t| {
        t.denominations()
            .iter()
            .map(|v| json!({"telco": t.as_str(), "value": v, "fees": 30, "penalty": 50}))
    })
    .collect();
    axum::Json(Value::Array(rows))
}

async fn set_callback_method(State(sim): State<Simulator>, body: String) -> StatusCode {
    match body.trim().to_ascii_uppercase().as_str() {
        "GET" => sim.set_callback_method(Method::GET),
        "POST" => sim.set_callback_method(Method::POST),
        _ => return StatusCode::BAD_REQUEST,
    }
    StatusCode::NO_CONTENT
}

async fn set_callback(
    State(sim): State<Simulator>,
    axum::extract::Query(q): axum::extract::Query<HashMap<String, String>>,
    body: String,
) -> StatusCode {
    let url = body.trim();
    let url = (!url.is_empty()).then(|| url.to_owned());
    match q.get("partner_id") {
        Some(partner) => sim.set_partner_callback_url(partner, url),
        None => sim.set_callback_url(url),
    }
    StatusCode::NO_CONTENT
}

async fn add_partner(
    State(sim): State<Simulator>,
    axum::extract::Path(id): axum::extract::Path<String>,
    body: String,
) -> StatusCode {
    let key = body.trim();
    if id.is_empty() || key.is_empty() {
        return StatusCode::BAD_REQUEST;
    }
    sim.add_partner(&id, key);
    StatusCode::NO_CONTENT
}

/// The text parts of a `multipart/form-data` body (files are not expected here).
fn parse_multipart(body: &[u8], boundary: &str) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(body);
    let delimiter = format!("--{boundary}");
    text.split(delimiter.as_str())
        .filter_map(|part| {
            let part = part.strip_prefix("\r\n")?;
            let (head, value) = part.split_once("\r\n\r\n")?;
            let name = head
                .split(';')
                .find_map(|p| p.trim().strip_prefix("name="))?
                .split("\r\n")
                .next()?
                .trim_matches('"')
                .to_owned();
            Some((name, value.strip_suffix("\r\n").unwrap_or(value).to_owned()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_parser_reads_text_fields() {
        let body = "--b\r\nContent-Disposition: form-data; name=\"telco\"\r\n\r\nVIETTEL\r\n--b\r\nContent-Disposition: form-data; name=\"code\"\r\n\r\n123\r\n--b--\r\n";
        assert_eq!(
            parse_multipart(body.as_bytes(), "b"),
            vec![
                ("telco".to_owned(), "VIETTEL".to_owned()),
                ("code".to_owned(), "123".to_owned())
            ]
        );
    }

    proptest::proptest! {
        #[test]
        fn multipart_parser_never_panics(body in proptest::collection::vec(proptest::num::u8::ANY, 0..256), b in "[a-z-]{0,8}") {
            let _ = parse_multipart(&body, &b);
        }
    }
}
