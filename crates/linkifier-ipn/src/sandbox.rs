//! A Linkifier simulator (feature `sandbox`).
//!
//! - `POST /PaymentNotification.asmx` (SOAP 1.1 or 1.2, answered in the same version): checks
//!   `VerifyHASH` with [`SANDBOX_KEY`] and answers `IPNEventRaisedResult`. Our documented codes:
//!   0 accepted ("IPN received", or "Duplicate IPN, already recorded" for a repeated
//!   IPN: same `PayTransactionID`, transaction type and message type); 1 `VerifyHASH` mismatch; 2 invalid record (a value-type field
//!   missing). Anything that is not an `IPNEventRaised` envelope is a SOAP Fault, HTTP 500, as
//!   ASP.NET answers.
//! - `POST /linkifier/_sandbox/send` with JSON `{"url", "soap12"?, "record"?}` signs the record
//!   (default: [`sample_record`]) and posts it to `url`, answering the merchant's result.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use paybridge_core::InMemorySeenStore;
use paybridge_core::http::HttpTransport;
use paybridge_core::soap::SoapVersion;
use rust_decimal::Decimal;
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::json;

use crate::client::{IpnResult, IpnSender};
use crate::error::LinkifierError;
use crate::notification::{CallbackVerifier, response_xml};
use crate::record::{BuyerInfo, IpnRecord};

/// The key the simulator signs and verifies with.
pub const SANDBOX_KEY: &str = "sandbox-linkifier-key";
/// The endpoint path.
pub const ENDPOINT_PATH: &str = "/PaymentNotification.asmx";
/// The route that sends a signed IPN to a merchant.
pub const SEND_PATH: &str = "/linkifier/_sandbox/send";

/// A typical record: Unicode and XML-special characters included on purpose.
#[must_use]
pub fn sample_record() -> IpnRecord {
    IpnRecord {
        pay_transaction_id: Some("TX-1001".into()),
        pay_provider_id: 7,
        sales_site_id: 12,
        sales_site_product_id: 345,
        customer_id: 9_000_000_001,
        customer_ip: Some("203.0.113.7".into()),
        payment_date_time: Some("2026-11-23T12:00:00".into()),
        transaction_type_id: 1,
        pay_provider_transaction_id: Some("PP-77".into()),
        pay_provider_amount: Decimal::new(1999, 2).into(),
        promo_code: Some("AUTUMN&CO".into()),
        sale_description: Some("Gói <Premium> — Smörgås 😀".into()),
        sale_quantity: 1,
        custom_referrer: None,
        currency: Some("USD".into()),
        fraud_status: Some("accepted".into()),
        message_type: Some("sale".into()),
        buyer_info: Some(BuyerInfo {
            first_name: Some("Nguyễn".into()),
            last_name: Some("Văn A".into()),
            payer_email: Some("a@example.com".into()),
            ..BuyerInfo::default()
        }),
        verify_hash: None,
    }
}

#[derive(Clone)]
struct Sim {
    receiver: CallbackVerifier,
    seen: Arc<InMemorySeenStore>,
    transport: HttpTransport,
}

/// The simulator's routes.
pub fn router() -> paybridge_core::Result<Router> {
    let sim = Sim {
        receiver: CallbackVerifier::new(SecretString::from(SANDBOX_KEY)),
        seen: Arc::new(InMemorySeenStore::new()),
        transport: HttpTransport::with_defaults()?,
    };
    Ok(Router::new()
        .route(ENDPOINT_PATH, post(endpoint))
        .route(SEND_PATH, post(send))
        .with_state(sim))
}

fn soap_answer(version: SoapVersion, result: &IpnResult) -> Response {
    match response_xml(version, result) {
        Ok(xml) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, version.response_content_type())],
            xml,
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

fn fault(version: SoapVersion, message: &str) -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [(header::CONTENT_TYPE, version.response_content_type())],
        version.fault_xml(true, message),
    )
        .into_response()
}

fn result(has_errors: bool, code: i32, message: &str, extra: &str) -> IpnResult {
    IpnResult {
        has_errors,
        error_code: code,
        message: message.to_owned(),
        extra_message: extra.to_owned(),
    }
}

async fn endpoint(State(sim): State<Sim>, headers: HeaderMap, body: Bytes) -> Response {
    let version = SoapVersion::of_request(&headers);
    match sim.receiver.receive(&body, sim.seen.as_ref()).await {
        Ok(got) if got.handled.duplicate => soap_answer(
            got.version,
            &result(false, 0, "Duplicate IPN, already recorded", ""),
        ),
        Ok(got) => soap_answer(
            got.version,
            &result(
                false,
                0,
                "IPN received",
                got.handled
                    .callback
                    .pay_transaction_id
                    .as_deref()
                    .unwrap_or_default(),
            ),
        ),
        Err(LinkifierError::Signature) => {
            soap_answer(version, &result(true, 1, "VerifyHASH mismatch", ""))
        }
        Err(LinkifierError::Core(paybridge_core::Error::Callback { message: m, .. }))
            if m.contains("value-type field") =>
        {
            soap_answer(version, &result(true, 2, "Invalid record", &m))
        }
        Err(e) => fault(
            version,
            &format!("Server was unable to read request. ---> {e}"),
        ),
    }
}

#[derive(Deserialize)]
struct SendSpec {
    url: String,
    #[serde(default)]
    soap12: bool,
    record: Option<IpnRecord>,
}

async fn send(State(sim): State<Sim>, body: Bytes) -> Response {
    let spec: SendSpec = match serde_json::from_slice(&body) {
        Ok(s) => s,
        Err(e) => return (StatusCode::BAD_REQUEST, format!("bad JSON: {e}")).into_response(),
    };
    let config = crate::Config::new(spec.url, SecretString::from(SANDBOX_KEY))
        .soap_version(SoapVersion::from_soap12_flag(spec.soap12));
    let sender = match IpnSender::new(config, sim.transport.clone()) {
        Ok(s) => s,
        Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    let record = spec.record.unwrap_or_else(sample_record);
    match sender.send(&record).await {
        Ok(r) => axum::Json(json!({"delivered": true, "has_errors": r.has_errors, "error_code": r.error_code, "message": r.message})).into_response(),
        Err(e) => (StatusCode::BAD_GATEWAY, axum::Json(json!({"delivered": false, "error": e.to_string()}))).into_response(),
    }
}
