//! Qvickly's side of the protocol, and the booking API's forward route (feature `sandbox`).
//!
//! - [`Simulator::signed_callback`] builds a callback exactly as Qvickly posts it (JSON,
//!   `data` PHP-encoded and signed with the sandbox secret); [`Simulator::deliver`] POSTs it
//!   to a merchant URL and retries until a 2xx (five attempts, 50 ms apart growing — Qvickly
//!   itself retries for months).
//! - `POST /qvickly/_sandbox/callback` with JSON `{"url"?, "number"?, "status"?, "orderid"?,
//!   "payment_url"?, "test"?}` does the same over HTTP: without `url` it answers the signed
//!   callback body (save it to a file for `paybridge qvickly verify-callback`), with `url` it
//!   delivers it and answers `{"delivered", "attempts", "callback"}`.
//! - `POST /payment/billmate/v1/ipncallback` is the booking API: it reads the XML DTO, checks
//!   the hash like the real service (data rebuilt in Qvickly's order), and answers
//!   `IpnCallBackResponse` — `Success=false` with `9511 Verification error` on a bad hash.
//!
//! - `POST /qvickly/api/` is the Payment API ([`api`]): every function the client speaks, with a
//!   state machine per payment, answers signed like Qvickly's, callbacks to `callbackurl`.
//!
//! Credentials: merchant id [`SANDBOX_MERCHANT_ID`], secret [`SANDBOX_SECRET`].

use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use paybridge_core::http::{HttpConfig, HttpRequest, HttpTransport, RetryPolicy};
use paybridge_core::signature::HmacSha512Key;
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::VERIFICATION_ERROR_CODE;
use crate::generated::booking_api::IpnCallBackResponse;
use crate::notification::{CallbackFormat, CallbackVerifier};
use crate::signature::data_json;

pub mod api;
mod books;
pub mod checkout;

/// Merchant id of the sandbox.
pub const SANDBOX_MERCHANT_ID: &str = "sandbox-merchant";
/// Secret the sandbox signs with.
pub const SANDBOX_SECRET: &str = "sandbox-secret-0001";
/// The booking API route.
pub const FORWARD_PATH: &str = "/payment/billmate/v1/ipncallback";
/// The route that creates (and optionally delivers) signed callbacks.
pub const SEND_PATH: &str = "/qvickly/_sandbox/callback";

/// One callback's data.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CallbackSpec {
    /// Where to deliver it (only for `SEND_PATH`).
    pub url: Option<String>,
    /// Payment number.
    pub number: Option<String>,
    /// Status word.
    pub status: Option<String>,
    /// Order id.
    pub orderid: Option<String>,
    /// Payment page URL.
    pub payment_url: Option<String>,
    /// Test mode (default true).
    pub test: Option<bool>,
}

/// The simulator. Cheap to clone; clones share the payments.
#[derive(Clone)]
pub struct Simulator {
    pub(crate) key: HmacSha512Key,
    verifier: CallbackVerifier,
    transport: HttpTransport,
    pub(crate) payments: std::sync::Arc<std::sync::Mutex<books::Payments>>,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator").finish_non_exhaustive()
    }
}

impl Simulator {
    /// A simulator for the sandbox merchant.
    pub fn new() -> paybridge_core::Result<Self> {
        let secret = SecretString::from(SANDBOX_SECRET);
        Ok(Self {
            key: HmacSha512Key::new(SANDBOX_SECRET.as_bytes())?,
            verifier: CallbackVerifier::new(Some(SANDBOX_MERCHANT_ID.to_owned()), &secret)?,
            transport: HttpTransport::new(
                HttpConfig::default()
                    .timeout(Duration::from_secs(5))
                    .retry(RetryPolicy::none()),
            )?,
            payments: std::sync::Arc::default(),
        })
    }

    /// A callback body exactly as Qvickly posts it.
    #[must_use]
    pub fn signed_callback(&self, spec: &CallbackSpec) -> String {
        let (credentials, data) = self.signed_parts(spec);
        format!("{{\"credentials\":{credentials},\"data\":{data}}}")
    }

    /// A callback's two JSON texts, `credentials` and the `data` its hash covers (a return to
    /// the shop carries them as two fields).
    #[must_use]
    pub fn signed_parts(&self, spec: &CallbackSpec) -> (String, String) {
        let number = spec.number.clone().unwrap_or_else(|| "1001".to_owned());
        let data = data_json(
            Some(&number),
            Some(spec.status.as_deref().unwrap_or("Paid")),
            Some(spec.orderid.as_deref().unwrap_or("P123456789")),
            Some(
                spec.payment_url
                    .as_deref()
                    .unwrap_or("https://sandbox.qvickly.invalid/invoice/1001"),
            ),
        );
        let hash = crate::signature::sign(&self.key, &data);
        let credentials = json!({
            "hash": hash,
            "id": SANDBOX_MERCHANT_ID,
            "version": "2.2.2",
            "client": "Qvickly:Sandbox:1.0",
            "serverdata": [],
            "time": "2026-11-23 12:00:00",
            "test": if spec.test.unwrap_or(true) { "1" } else { "0" },
            "language": "sv",
        });
        (credentials.to_string(), data)
    }

    /// POST `body` to `url` until a 2xx answer; returns the number of attempts it took.
    pub async fn deliver(&self, url: &str, body: &str) -> Result<u32, String> {
        let mut last = String::new();
        for attempt in 1..=5_u32 {
            let request = HttpRequest::post(url.to_owned(), body.to_owned())
                .header(http::header::CONTENT_TYPE, "application/json")
                .operation("qvickly-sandbox", "callback");
            match self.transport.send(request).await {
                Ok(r) if (200..300).contains(&r.status) => return Ok(attempt),
                Ok(r) => last = format!("HTTP {}", r.status),
                Err(e) => last = e.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(50 * u64::from(attempt))).await;
        }
        Err(format!("not accepted after 5 attempts ({last})"))
    }

    /// The simulator's routes.
    pub fn router(&self) -> Router {
        Router::new()
            .route(api::API_PATH, post(api::call))
            .route(api::PAY_PATH, post(api::pay))
            .route(
                api::PAGE_PATH,
                axum::routing::get(api::page).post(api::choose),
            )
            .route(
                &format!("{}/{{eid}}/{{hash}}", books::PAGE_PREFIX),
                axum::routing::get(checkout::page).post(checkout::choose),
            )
            .route(
                &format!("{}/{{eid}}/{{hash}}/test", books::PAGE_PREFIX),
                axum::routing::get(checkout::page).post(checkout::choose),
            )
            .route(FORWARD_PATH, post(booking_api))
            .route(SEND_PATH, post(send))
            .with_state(self.clone())
    }
}

fn xml_answer(status: StatusCode, success: bool, message: &str) -> Response {
    let answer = IpnCallBackResponse {
        message: Some(message.to_owned()),
        success: Some(success),
    };
    match paybridge_core::soap::to_fragment(&answer) {
        Ok(xml) => (status, [(header::CONTENT_TYPE, "application/xml")], xml).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

async fn booking_api(State(sim): State<Simulator>, body: Bytes) -> Response {
    if CallbackFormat::sniff(&body) != CallbackFormat::Xml {
        return xml_answer(
            StatusCode::BAD_REQUEST,
            false,
            "Expected an XML QvicklyCheckoutIpnCallBack document",
        );
    }
    match sim.verifier.verify_as(CallbackFormat::Xml, &body) {
        Ok(cb) => xml_answer(
            StatusCode::OK,
            true,
            &format!(
                "IPN processed: order {} is {}",
                cb.order_id.as_deref().unwrap_or("?"),
                cb.status.as_str()
            ),
        ),
        Err(crate::QvicklyError::Signature(_)) => xml_answer(
            StatusCode::OK,
            false,
            &format!("{VERIFICATION_ERROR_CODE} Verification error"),
        ),
        Err(e) => xml_answer(
            StatusCode::BAD_REQUEST,
            false,
            &format!("Malformed request: {e}"),
        ),
    }
}

async fn send(State(sim): State<Simulator>, body: Bytes) -> Response {
    let spec: CallbackSpec = if body.is_empty() {
        CallbackSpec::default()
    } else {
        match serde_json::from_slice(&body) {
            Ok(s) => s,
            Err(e) => return (StatusCode::BAD_REQUEST, format!("bad JSON: {e}")).into_response(),
        }
    };
    let callback = sim.signed_callback(&spec);
    let Some(url) = spec.url.clone() else {
        return ([(header::CONTENT_TYPE, "application/json")], callback).into_response();
    };
    let as_json: Value = serde_json::from_str(&callback).unwrap_or(Value::Null);
    match sim.deliver(&url, &callback).await {
        Ok(attempts) => {
            axum::Json(json!({"delivered": true, "attempts": attempts, "callback": as_json}))
                .into_response()
        }
        Err(e) => (
            StatusCode::BAD_GATEWAY,
            axum::Json(json!({"delivered": false, "error": e, "callback": as_json})),
        )
            .into_response(),
    }
}
