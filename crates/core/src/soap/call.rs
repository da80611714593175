//! One SOAP call over the shared transport: request, answer, errors.

use http::HeaderName;

use super::encoded;
use super::fault::SoapFault;
use super::read::{RawEnvelope, decode_rpc_inner};
use super::version::{Action, SOAP_ACTION, SoapVersion, V11_CONTENT_TYPE_VALUE};
use crate::http::{HttpRequest, HttpTransport};
use crate::xml;
use crate::{Error, Result};

/// One SOAP call's addressing.
#[derive(Debug, Clone)]
pub struct SoapCall<'a> {
    /// The endpoint.
    pub endpoint: &'a crate::http::Endpoint,
    /// SOAP version.
    pub version: SoapVersion,
    /// The operation's action.
    pub action: &'a Action,
    /// Provider id, for tracing.
    pub provider: &'static str,
    /// Operation name, for tracing.
    pub operation: &'static str,
    /// Whether the call may be retried by the transport.
    pub idempotent: bool,
    /// For a call that must not be repeated: its reference and how to reconcile it when its
    /// outcome is unknown ([`Error::OutcomeUnknown`]).
    pub reconcile: Option<crate::http::Reconcile>,
    /// Extra headers (e.g. a session cookie, best marked sensitive).
    pub extra_headers: Vec<(HeaderName, http::HeaderValue)>,
}

/// Post an envelope and read the answer: the body is read before the status is judged, so a
/// Fault sent with HTTP 500 surfaces as [`Error::Provider`]; a non-2xx answer that is not a
/// Fault is [`Error::Transport`] with its status.
pub async fn call(
    transport: &HttpTransport,
    call: SoapCall<'_>,
    envelope: String,
) -> Result<RawEnvelope> {
    exchange(transport, call, envelope.into(), RawEnvelope::parse_inner)
        .await
        .map(|(envelope, _)| envelope)
}

/// [`call`] for a generated rpc element: the answer is parsed once and decoded as `T`
/// (see [`decode_rpc`](super::decode_rpc)), with the same Fault and status rules.
pub async fn call_rpc<T: encoded::RpcElement>(
    transport: &HttpTransport,
    call: SoapCall<'_>,
    envelope: impl Into<bytes::Bytes>,
) -> Result<T> {
    call_rpc_answered(transport, call, envelope)
        .await
        .map(|(value, _)| value)
}

/// [`call_rpc`] that also hands back the HTTP answer it read: the evidence
/// ([`crate::SignatureProof::from_status_answer`]) that this value came from the endpoint.
pub async fn call_rpc_answered<T: encoded::RpcElement>(
    transport: &HttpTransport,
    call: SoapCall<'_>,
    envelope: impl Into<bytes::Bytes>,
) -> Result<(T, crate::http::HttpResponse)> {
    exchange(transport, call, envelope.into(), decode_rpc_inner::<T>).await
}

/// The HTTP request of a SOAP call: its two headers are the action's constants. Filled in
/// place rather than through the request's builder methods, each of which moves the whole
/// request (−0.2 k instructions a call, BENCHMARKS.md).
pub(super) fn request(call: SoapCall<'_>, envelope: impl Into<bytes::Bytes>) -> HttpRequest {
    let mut headers = call.extra_headers;
    match call.version {
        SoapVersion::V11 => {
            headers.push((http::header::CONTENT_TYPE, V11_CONTENT_TYPE_VALUE));
            headers.push((SOAP_ACTION, call.action.soap11.clone()));
        }
        SoapVersion::V12 => headers.push((
            http::header::CONTENT_TYPE,
            call.action.soap12_content_type.clone(),
        )),
    }
    let mut request = HttpRequest::post(call.endpoint, envelope);
    request.idempotent = call.idempotent;
    request.provider = call.provider;
    request.operation = call.operation;
    request.reconcile = call.reconcile;
    request.headers = headers;
    request
}

/// Send the call and read the answer. The request is built inside, so the future holds the
/// call (smaller) and the request only inside the transport's future.
pub(super) async fn exchange<T>(
    transport: &HttpTransport,
    call: SoapCall<'_>,
    envelope: bytes::Bytes,
    read: impl FnOnce(&str) -> Result<Result<T, SoapFault>>,
) -> Result<(T, crate::http::HttpResponse)> {
    let response = transport.send(request(call, envelope)).await?;
    let parsed = response.text().and_then(read);
    match parsed {
        Ok(Err(fault)) => Err(fault.into()),
        Ok(Ok(envelope)) => Ok((envelope, response.into_success()?)),
        Err(decode) => Err(answer_error(&response, decode)),
    }
}

/// The error for an answer that could not be read as the expected envelope: "unexpected
/// answer" when it is no SOAP envelope at all (an HTML page, another XML document), else the
/// decode problem (see [`HttpResponse::undecodable`]).
pub(super) fn answer_error(response: &crate::http::HttpResponse, decode: Error) -> Error {
    // Over a limit: said so (the document was not parsed), whatever it looks like.
    if let Ok(text) = response.text()
        && let Err(limit) = crate::limits::Limits::ANSWER.check_xml(text)
    {
        return response.undecodable(limit);
    }
    let is_envelope = response
        .text()
        .ok()
        .and_then(|t| xml::parse(t).ok())
        .is_some_and(|doc| {
            let root = doc.root_element().tag_name();
            root.name() == "Envelope"
                && root
                    .namespace()
                    .and_then(SoapVersion::from_namespace)
                    .is_some()
        });
    if is_envelope {
        response.undecodable(decode)
    } else {
        response.not_the_protocol()
    }
}
