//! Qvickly IPN callbacks: parse any of the three forms, verify, deduplicate.
//!
//! `hash = HMAC-SHA512(secret, json_encode(data))`, lowercase hex. Which bytes are hashed:
//! - **JSON body** `{"credentials": {...}, "data": {...}}`: the raw bytes of the `data` value
//!   exactly as received — nothing is re-encoded;
//! - **form body** (`credentials` and `data` fields holding JSON): `data` re-encoded as PHP's
//!   `json_encode` would ([`crate::php_json::reencode`]);
//! - **booking API XML** (`QvicklyCheckoutIpnCallBack`): `data` rebuilt from the DTO in
//!   Qvickly's key order `number, status, orderid, url` (not the DTO's alphabetical order) and
//!   encoded as PHP would.
//!
//! The comparison is constant time (`verify_slice`). When a merchant id is configured, a
//! callback naming another id, or none, is refused too. `credentials.test` is reported
//! ([`QvicklyCallback::test`]): the ledger's receiver never credits a test-mode callback
//! unless told to.

use std::borrow::Cow;

use paybridge_core::notification::Handled;
use paybridge_core::notification::Unverified;
use paybridge_core::scalar::WireScalar;
use paybridge_core::signature::HmacSha512Key;
use paybridge_core::{RawNotification, SeenStore, Verified};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::QvicklyError;
use crate::generated::booking_api::QvicklyCheckoutIpnCallBack;
use crate::php_json::reencode;
use crate::signature::data_json;
use crate::status::QvicklyStatus;
use paybridge_core::CoreFailure as _;

/// The booking API's DTO namespace.
pub const DTOS_NS: &str = "http://schemas.datacontract.org/2004/07/BokaMera.API.ServiceModel.Dtos";

/// A verified callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QvicklyCallback {
    /// `data.orderid`: Qvickly's order (invoice) id.
    pub order_id: Option<String>,
    /// `data.number`: the payment number.
    pub number: Option<String>,
    /// `data.status`.
    pub status: QvicklyStatus,
    /// `data.url`: the payment page or invoice URL.
    pub url: Option<String>,
    /// `credentials.test`: a test-mode payment.
    pub test: bool,
    /// `credentials.id`: the merchant id the callback is for.
    pub merchant_id: Option<String>,
    /// The exact bytes that were signed: PHP `json_encode` of `data`.
    pub signed_data: String,
}

/// What the merchant answers a callback with once it is handled: a 2xx (this body); any
/// other answer makes Qvickly deliver it again.
pub const CALLBACK_ANSWER: &str = "OK";

/// How long Qvickly delivers the same callback again: every minute for 10 minutes, hourly for
/// 10 hours, daily for 7 days, then monthly for 3 months — more than 3 months in all; a ledger
/// keeps handled callbacks 100 days.
pub const RETRY_HORIZON: std::time::Duration = std::time::Duration::from_hours(100 * 24);

impl QvicklyCallback {
    /// The key under which duplicates are detected: same payment, same status.
    pub fn dedup_key(&self) -> paybridge_core::Result<String> {
        self.key()
    }

    /// The payment's state as this callback reports it (Qvickly sends no amount).
    #[must_use]
    pub fn state(&self) -> paybridge_core::PaymentState {
        paybridge_core::PaymentState {
            payment: paybridge_core::PaymentRef {
                reference: self.order_id.clone().unwrap_or_default(),
                provider_reference: self.number.clone(),
            },
            status: self.status.normalized(),
            provider_status: self.status.as_str().to_owned(),
            amount: None,
            message: None,
        }
    }

    /// A callback without a payment number has no natural key: refused
    /// ([`paybridge_core::Error::Callback`]), never deduplicated under a made-up one.
    fn key(&self) -> paybridge_core::Result<String> {
        let number = self
            .number
            .as_deref()
            .filter(|n| !n.is_empty())
            .ok_or_else(|| paybridge_core::Error::callback("callback without data.number"))?;
        Ok(format!(
            "qvickly:{number}:{}:{}",
            self.order_id.as_deref().unwrap_or_default(),
            self.status.as_str()
        ))
    }
}

/// The form a callback arrived in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallbackFormat {
    /// JSON body.
    Json,
    /// `application/x-www-form-urlencoded` with JSON fields.
    Form,
    /// The booking API's XML DTO.
    Xml,
}

impl CallbackFormat {
    /// Guess from the first meaningful byte: `<` XML, `{` JSON, anything else a form.
    #[must_use]
    pub fn sniff(body: &[u8]) -> Self {
        let first = body
            .strip_prefix(b"\xEF\xBB\xBF")
            .unwrap_or(body)
            .iter()
            .find(|b| !b.is_ascii_whitespace());
        match first {
            Some(b'<') => Self::Xml,
            Some(b'{') => Self::Json,
            _ => Self::Form,
        }
    }
}

/// Verifies callbacks for one merchant. Prepares the HMAC key once.
#[derive(Debug, Clone)]
pub struct CallbackVerifier {
    merchant_id: Option<String>,
    key: HmacSha512Key,
}

/// What every form yields before verification.
struct Parsed<'a> {
    hash: Cow<'a, str>,
    merchant_id: Option<String>,
    test: bool,
    signed: String,
    fields: DataFields,
}

/// The four data fields, as text.
#[derive(Debug, Default)]
struct DataFields {
    number: Option<String>,
    status: Option<String>,
    orderid: Option<String>,
    url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct RawData<'a> {
    #[serde(borrow, default)]
    number: WireScalar<'a>,
    #[serde(borrow, default)]
    status: WireScalar<'a>,
    #[serde(borrow, default)]
    orderid: WireScalar<'a>,
    #[serde(borrow, default)]
    url: WireScalar<'a>,
}

impl RawData<'_> {
    fn owned(self) -> DataFields {
        DataFields {
            number: self.number.into_string(),
            status: self.status.into_string(),
            orderid: self.orderid.into_string(),
            url: self.url.into_string(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct Credentials<'a> {
    #[serde(borrow, default)]
    hash: WireScalar<'a>,
    #[serde(borrow, default)]
    id: WireScalar<'a>,
    #[serde(borrow, default)]
    test: WireScalar<'a>,
}

#[derive(Deserialize)]
struct JsonBody<'a> {
    #[serde(borrow)]
    credentials: Credentials<'a>,
    #[serde(borrow)]
    data: &'a RawValue,
}

fn decode<'a, T: Deserialize<'a>>(what: &str, json: &'a str) -> Result<T, QvicklyError> {
    serde_json::from_str(json).map_err(|e| QvicklyError::decode_from(format!("{what}: {e}"), e))
}

fn required_hash(hash: WireScalar<'_>) -> Result<Cow<'_, str>, QvicklyError> {
    hash.into_text()
        .ok_or_else(|| QvicklyError::Signature("credentials.hash is missing".into()))
}

impl CallbackVerifier {
    /// A verifier for `secret`; with `merchant_id`, callbacks for other ids are refused.
    pub fn new(merchant_id: Option<String>, secret: &SecretString) -> Result<Self, QvicklyError> {
        if secret.expose_secret().is_empty() {
            return Err(paybridge_core::Error::config("the Qvickly secret is empty").into());
        }
        Ok(Self {
            merchant_id: merchant_id.filter(|m| !m.is_empty()),
            key: HmacSha512Key::new(secret.expose_secret().as_bytes())?,
        })
    }

    /// Verify a callback as an HTTP server received it (format from `Content-Type`, else
    /// sniffed from the body).
    pub fn verify(&self, raw: &RawNotification) -> Result<Verified<QvicklyCallback>, QvicklyError> {
        let format = match raw.media_type().as_deref() {
            Some("application/json") => CallbackFormat::Json,
            Some("application/x-www-form-urlencoded") => CallbackFormat::Form,
            Some("application/xml" | "text/xml") => CallbackFormat::Xml,
            _ => CallbackFormat::sniff(&raw.body),
        };
        self.verify_as(format, &raw.body)
    }

    /// Verify a body whose format is sniffed.
    pub fn verify_body(&self, body: &[u8]) -> Result<Verified<QvicklyCallback>, QvicklyError> {
        self.verify_as(CallbackFormat::sniff(body), body)
    }

    /// Verify a body in a known format. A body that is not a callback is
    /// [`paybridge_core::Error::Callback`]; a wrong hash is [`QvicklyError::Signature`].
    pub fn verify_as(
        &self,
        format: CallbackFormat,
        body: &[u8],
    ) -> Result<Verified<QvicklyCallback>, QvicklyError> {
        self.read(format, body).map_err(|e| match e {
            QvicklyError::Core(e) => QvicklyError::Core(e.into_callback_error()),
            other => other,
        })
    }

    fn read(
        &self,
        format: CallbackFormat,
        body: &[u8],
    ) -> Result<Verified<QvicklyCallback>, QvicklyError> {
        paybridge_core::limits::Limits::CALLBACK.check_size(body)?;
        let text = std::str::from_utf8(body)
            .map_err(|e| QvicklyError::decode_from(format!("body is not UTF-8: {e}"), e))?;
        let parsed = match format {
            CallbackFormat::Json => parse_json(text)?,
            CallbackFormat::Form => parse_form(body)?,
            CallbackFormat::Xml => parse_xml(text)?,
        };
        self.check(parsed)
    }

    fn check(&self, p: Parsed<'_>) -> Result<Verified<QvicklyCallback>, QvicklyError> {
        // `credentials.id` is outside the hash: with an id configured, a callback must name
        // it (one without any id could be another merchant's, re-posted).
        if let Some(expected) = &self.merchant_id {
            match p.merchant_id.as_deref() {
                Some(got) if got == expected => {}
                Some(got) => {
                    return Err(QvicklyError::Signature(format!(
                        "callback is for merchant id {got}, not {expected}"
                    )));
                }
                None => {
                    return Err(QvicklyError::Signature(format!(
                        "callback names no merchant id (credentials.id); this receiver is for {expected}"
                    )));
                }
            }
        }
        let hash = p.hash;
        let callback = QvicklyCallback {
            order_id: p.fields.orderid,
            number: p.fields.number,
            status: QvicklyStatus::parse(p.fields.status.as_deref().unwrap_or_default()),
            url: p.fields.url,
            test: p.test,
            merchant_id: p.merchant_id,
            signed_data: p.signed,
        };
        Unverified::new(callback)
            .verify(|cb| self.key.verify_hex(cb.signed_data.as_bytes(), &hash))
            .map_err(|_| QvicklyError::Signature("hash does not match the data".into()))
    }
}

fn parse_json(text: &str) -> Result<Parsed<'_>, QvicklyError> {
    // serde with borrowed fields, and `data` kept as its exact bytes (what is signed).
    let body: JsonBody<'_> = decode("JSON callback", text)?;
    let data: RawData<'_> = decode("data", body.data.get())?;
    let (credentials, signed) = (body.credentials, body.data.get());
    Ok(Parsed {
        hash: required_hash(credentials.hash)?,
        test: credentials.test.is_truthy(),
        merchant_id: credentials.id.into_string(),
        fields: data.owned(),
        signed: signed.to_owned(),
    })
}

fn parse_form(body: &[u8]) -> Result<Parsed<'static>, QvicklyError> {
    let mut credentials = None;
    let mut data = None;
    for (k, v) in form_urlencoded::parse(body) {
        match k.as_ref() {
            "credentials" => credentials = Some(v),
            "data" => data = Some(v),
            _ => {}
        }
    }
    let credentials_text =
        credentials.ok_or_else(|| QvicklyError::decode("form without a credentials field"))?;
    let credentials: Credentials<'_> = decode("credentials", &credentials_text)?;
    let data: Cow<'_, str> =
        data.ok_or_else(|| QvicklyError::decode("form without a data field"))?;
    let signed = reencode(&data).map_err(|e| QvicklyError::decode(format!("data: {e}")))?;
    let fields = decode::<RawData<'_>>("data", &signed)?.owned();
    Ok(Parsed {
        test: credentials.test.is_truthy(),
        merchant_id: credentials.id.into_string(),
        hash: Cow::Owned(required_hash(credentials.hash)?.into_owned()),
        fields,
        signed,
    })
}

/// Parse the booking API's XML DTO (DTDs refused first, like every XML we read).
pub fn parse_dto(text: &str) -> Result<QvicklyCheckoutIpnCallBack, QvicklyError> {
    paybridge_core::xml::expect_root(text, Some(DTOS_NS), "QvicklyCheckoutIpnCallBack")?;
    paybridge_core::soap::from_fragment(text).map_err(QvicklyError::from)
}

fn parse_xml(text: &str) -> Result<Parsed<'static>, QvicklyError> {
    let dto = parse_dto(text)?;
    let credentials = dto.credentials.unwrap_or_default();
    let data = dto.data.unwrap_or_default();
    let signed = data_json(
        data.number.as_deref(),
        data.status.as_deref(),
        data.orderid.as_deref(),
        data.url.as_deref(),
    );
    Ok(Parsed {
        hash: Cow::Owned(
            credentials
                .hash
                .ok_or_else(|| QvicklyError::Signature("credentials.hash is missing".into()))?,
        ),
        merchant_id: credentials.id,
        test: credentials
            .test
            .map_or(WireScalar::Null, |t| WireScalar::Text(Cow::Owned(t)))
            .is_truthy(),
        fields: DataFields {
            number: data.number,
            status: data.status,
            orderid: data.orderid,
            url: data.url,
        },
        signed,
    })
}

/// Record a verified callback in `seen` and report whether it is a duplicate.
pub async fn deduplicate(
    callback: Verified<QvicklyCallback>,
    seen: &dyn SeenStore,
) -> Result<Handled<QvicklyCallback>, QvicklyError> {
    let key = callback.dedup_key()?;
    Ok(Handled::record(callback, &key, seen).await?)
}
