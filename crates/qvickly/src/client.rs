//! Forwarding a callback to the BokaMera booking API: `POST /payment/billmate/v1/ipncallback`
//! with the XML DTO (`Content-Type` and `Accept: application/xml`).

use paybridge_core::http::{Endpoint, HttpRequest, HttpTransport};
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::error::QvicklyError;
use crate::generated::booking_api::{
    CredentialsResponse, IpnCallBackResponse, QvicklyCheckoutIpnCallBack,
    QvicklyIpnCallbackResponseData, ServerDataResponse,
};
use crate::notification::{CallbackFormat, parse_dto};
use paybridge_core::CoreFailure as _;

/// Provider id used in tracing spans and by the `PaymentProvider` impl.
pub const PROVIDER_ID: &str = "qvickly";

/// Where to forward verified callbacks: [`Config::new`] with the full URL of the booking
/// API's IPN route (`https://api.bokamera.se/payment/billmate/v1/ipncallback`).
#[derive(Debug, Clone)]
pub struct Config {
    endpoint: String,
}

impl Config {
    /// The booking API's IPN route.
    #[must_use]
    pub fn new(endpoint: impl Into<String>) -> Self {
        Self {
            endpoint: endpoint.into(),
        }
    }

    /// The route as given.
    #[must_use]
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }
}

/// Forwards verified Qvickly callbacks to the booking API's IPN route (the merchant side:
/// Qvickly's own API is not called).
#[derive(Debug, Clone)]
pub struct ForwardClient {
    endpoint: Endpoint,
    transport: HttpTransport,
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

#[derive(Deserialize)]
struct JsonBody<'a> {
    #[serde(borrow)]
    credentials: Option<&'a RawValue>,
    #[serde(borrow)]
    data: Option<&'a RawValue>,
}

fn object(raw: Option<&str>, what: &str) -> Result<serde_json::Map<String, Value>, QvicklyError> {
    match raw {
        None => Err(QvicklyError::decode(format!(
            "a callback needs a {what} field"
        ))),
        Some(r) => match serde_json::from_str::<Value>(r) {
            Ok(Value::Object(m)) => Ok(m),
            // PHP encodes an empty associative array as `[]`.
            Ok(Value::Array(a)) if a.is_empty() => Ok(serde_json::Map::new()),
            Ok(_) => Err(QvicklyError::decode(format!("{what} is not an object"))),
            Err(e) => Err(QvicklyError::decode_from(format!("{what}: {e}"), e)),
        },
    }
}

/// The XML DTO for a callback received as JSON, a form, or already as XML.
pub fn dto_from_callback(
    body: &[u8],
    company_id: Option<String>,
    booking_id: Option<i32>,
) -> Result<QvicklyCheckoutIpnCallBack, QvicklyError> {
    let text_body = std::str::from_utf8(body)
        .map_err(|e| QvicklyError::decode_from(format!("body is not UTF-8: {e}"), e))?;
    let mut dto = match CallbackFormat::sniff(body) {
        CallbackFormat::Xml => parse_dto(text_body)?,
        format => {
            let (credentials, data) = if format == CallbackFormat::Json {
                let b: JsonBody<'_> = serde_json::from_str(text_body)
                    .map_err(|e| QvicklyError::decode_from(format!("JSON callback: {e}"), e))?;
                (
                    object(b.credentials.map(RawValue::get), "credentials")?,
                    object(b.data.map(RawValue::get), "data")?,
                )
            } else {
                let mut c = None;
                let mut d = None;
                for (k, v) in form_urlencoded::parse(body) {
                    match k.as_ref() {
                        "credentials" => c = Some(v.into_owned()),
                        "data" => d = Some(v.into_owned()),
                        _ => {}
                    }
                }
                (
                    object(c.as_deref(), "credentials")?,
                    object(d.as_deref(), "data")?,
                )
            };
            let server = object(
                credentials
                    .get("serverdata")
                    .map(ToString::to_string)
                    .as_deref(),
                "serverdata",
            )?;
            let s = |k: &str| text(server.get(k));
            QvicklyCheckoutIpnCallBack {
                booking_id: None,
                company_id: None,
                credentials: Some(CredentialsResponse {
                    client: text(credentials.get("client")),
                    hash: text(credentials.get("hash")),
                    id: text(credentials.get("id")),
                    language: text(credentials.get("language")),
                    serverdata: Some(ServerDataResponse {
                        gateway_interface: s("GATEWAY_INTERFACE"),
                        http_accept: s("HTTP_ACCEPT"),
                        http_accept_encoding: s("HTTP_ACCEPT_ENCODING"),
                        http_accept_language: s("HTTP_ACCEPT_LANGUAGE"),
                        http_cache_control: s("HTTP_CACHE_CONTROL"),
                        http_connection: s("HTTP_CONNECTION"),
                        http_host: s("HTTP_HOST"),
                        http_user_agent: s("HTTP_USER_AGENT"),
                        path: s("PATH"),
                        query_string: s("QUERY_STRING"),
                        remote_addr: s("REMOTE_ADDR"),
                        remote_port: s("REMOTE_PORT"),
                        request_method: s("REQUEST_METHOD"),
                        request_time: s("REQUEST_TIME"),
                        server_addr: s("SERVER_ADDR"),
                        server_name: s("SERVER_NAME"),
                        server_port: s("SERVER_PORT"),
                        server_protocol: s("SERVER_PROTOCOL"),
                        server_software: s("SERVER_SOFTWARE"),
                    }),
                    test: text(credentials.get("test")),
                    time: text(credentials.get("time")),
                    version: text(credentials.get("version")),
                }),
                data: Some(QvicklyIpnCallbackResponseData {
                    number: text(data.get("number")),
                    orderid: text(data.get("orderid")),
                    status: text(data.get("status")),
                    url: text(data.get("url")),
                }),
            }
        }
    };
    if company_id.is_some() {
        dto.company_id = company_id;
    }
    if booking_id.is_some() {
        dto.booking_id = booking_id;
    }
    Ok(dto)
}

/// What to do when a forwarded callback may have reached the booking API and its answer is
/// unknown.
pub const FORWARD_ADVICE: &str = "forwarding the same callback again is safe only because the booking API deduplicates it (Qvickly itself retries for months); resend it unchanged";

impl ForwardClient {
    /// A forwarder; the route is checked here, not at the first forward.
    #[allow(
        clippy::needless_pass_by_value,
        reason = "every provider's client takes its Config by value"
    )]
    pub fn new(config: Config, transport: HttpTransport) -> Result<Self, QvicklyError> {
        let endpoint = Endpoint::parse(&config.endpoint)?;
        Ok(Self {
            endpoint,
            transport,
        })
    }

    /// Post the DTO and read `IpnCallBackResponse`. `Success = false` is
    /// [`QvicklyError::Refused`] with the booking API's message. Not resent automatically:
    /// when it may have arrived and its answer is unknown the error is
    /// [`paybridge_core::Error::OutcomeUnknown`] ([`FORWARD_ADVICE`]).
    pub async fn forward(
        &self,
        dto: &QvicklyCheckoutIpnCallBack,
    ) -> Result<IpnCallBackResponse, QvicklyError> {
        let body = paybridge_core::soap::to_fragment(dto)?;
        let request = HttpRequest::post(&self.endpoint, body)
            .header(http::header::CONTENT_TYPE, "application/xml")
            .header(http::header::ACCEPT, "application/xml")
            .operation(PROVIDER_ID, "ipncallback")
            .reconcile(
                dto.data
                    .as_ref()
                    .and_then(|d| d.number.clone())
                    .unwrap_or_default(),
                FORWARD_ADVICE,
            );
        let response = self.transport.send(request).await?;
        let decoded = response
            .text()
            .map_err(QvicklyError::from)
            .and_then(parse_response);
        match decoded {
            Ok(r) if r.success == Some(true) => Ok(response.into_success().map(|_| r)?),
            Ok(r) => Err(QvicklyError::Refused {
                message: r
                    .message
                    .unwrap_or_else(|| format!("Success=false (HTTP {})", response.status)),
            }),
            Err(QvicklyError::Core(paybridge_core::Error::Decode { .. })) => {
                Err(response.not_the_protocol().into())
            }
            Err(e) => Err(response.undecodable(e.into()).into()),
        }
    }
}

/// Decode an `IpnCallBackResponse` document.
pub fn parse_response(text: &str) -> Result<IpnCallBackResponse, QvicklyError> {
    paybridge_core::xml::expect_root(
        text,
        Some(crate::notification::DTOS_NS),
        "IpnCallBackResponse",
    )?;
    Ok(paybridge_core::soap::from_fragment(text)?)
}
