//! SOAP 1.1 and 1.2 envelopes around yaserde payloads.
//!
//! The envelope is written and read here, outside yaserde (as onvif-rs does), and yaserde
//! handles only the payload: the header block and the body's first element. This keeps one
//! payload type usable in both SOAP versions and lets the envelope prefix follow the peer's
//! habits (`soap`, `soap12`, PHP's `SOAP-ENV`).
//!
//! Reading: [`RawEnvelope::parse`] refuses DTDs, detects the version from the envelope
//! namespace, turns a `Fault` (either version) into [`Error::Provider`], and hands out the
//! header and body elements as standalone XML with every in-scope namespace declared.
//!
//! ```
//! use paybridge_core::soap::{RawEnvelope, SoapVersion, EnvelopeStyle, wrap};
//!
//! let xml = wrap(&EnvelopeStyle::new(SoapVersion::V12), None, r#"<Ping xmlns="urn:x"/>"#);
//! let env = RawEnvelope::parse(&xml).unwrap();
//! assert_eq!(env.version, SoapVersion::V12);
//! assert!(env.body.contains("Ping"));
//! ```

use std::borrow::Cow;

use http::HeaderName;
use yaserde::{YaDeserialize, YaSerialize};

use crate::http::{HttpRequest, HttpTransport};
use crate::xml;
use crate::{Error, Result};

/// `xsi` namespace.
pub const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";
/// `xsd` namespace.
pub const XSD_NS: &str = "http://www.w3.org/2001/XMLSchema";
/// SOAP 1.1 encoding namespace (`SOAP-ENC`), also the rpc/encoded `encodingStyle`.
pub const SOAP_ENC_NS: &str = "http://schemas.xmlsoap.org/soap/encoding/";

/// The SOAP version of an envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SoapVersion {
    /// SOAP 1.1: `text/xml` and a `SOAPAction` header.
    V11,
    /// SOAP 1.2: `application/soap+xml` with an `action` parameter.
    V12,
}

impl SoapVersion {
    /// The envelope namespace.
    #[must_use]
    pub const fn namespace(self) -> &'static str {
        match self {
            Self::V11 => "http://schemas.xmlsoap.org/soap/envelope/",
            Self::V12 => "http://www.w3.org/2003/05/soap-envelope",
        }
    }

    /// The prefix ASP.NET uses for this version.
    #[must_use]
    pub const fn default_prefix(self) -> &'static str {
        match self {
            Self::V11 => "soap",
            Self::V12 => "soap12",
        }
    }

    /// The version whose envelope namespace is `uri`.
    #[must_use]
    pub fn from_namespace(uri: &str) -> Option<Self> {
        [Self::V11, Self::V12]
            .into_iter()
            .find(|v| v.namespace() == uri)
    }

    /// The `Content-Type` of a request with this action.
    #[must_use]
    pub fn content_type(self, action: &str) -> String {
        match self {
            Self::V11 => V11_CONTENT_TYPE.to_owned(),
            Self::V12 => format!("application/soap+xml; charset=utf-8; action=\"{action}\""),
        }
    }

    /// The version a request's `Content-Type` announces (`application/soap+xml` is 1.2).
    #[must_use]
    pub fn from_content_type(content_type: &str) -> Self {
        if content_type
            .trim_start()
            .to_ascii_lowercase()
            .starts_with("application/soap+xml")
        {
            Self::V12
        } else {
            Self::V11
        }
    }

    /// 1.2 when a `--soap12`-style switch is on, else 1.1.
    #[must_use]
    pub const fn from_soap12_flag(soap12: bool) -> Self {
        if soap12 { Self::V12 } else { Self::V11 }
    }

    /// The version a request's headers announce (its `Content-Type`; none means 1.1).
    #[must_use]
    pub fn of_request(headers: &http::HeaderMap) -> Self {
        Self::from_content_type(
            headers
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default(),
        )
    }

    /// The `Content-Type` of a response in this version.
    #[must_use]
    pub const fn response_content_type(self) -> &'static str {
        match self {
            Self::V11 => "text/xml; charset=utf-8",
            Self::V12 => "application/soap+xml; charset=utf-8",
        }
    }

    /// A complete Fault document as ASP.NET writes it: `soap:Client` (1.1) / `soap:Sender`
    /// (1.2) when `client_error`, else `soap:Server` / `soap:Receiver`.
    #[must_use]
    pub fn fault_xml(self, client_error: bool, reason: &str) -> String {
        let r = xml::escape_text(reason);
        let ns = self.namespace();
        match self {
            Self::V11 => {
                let code = if client_error {
                    "soap:Client"
                } else {
                    "soap:Server"
                };
                format!(
                    r#"<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{ns}"><soap:Body><soap:Fault><faultcode>{code}</faultcode><faultstring>{r}</faultstring><detail /></soap:Fault></soap:Body></soap:Envelope>"#
                )
            }
            Self::V12 => {
                let code = if client_error {
                    "soap:Sender"
                } else {
                    "soap:Receiver"
                };
                format!(
                    r#"<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{ns}"><soap:Body><soap:Fault><soap:Code><soap:Value>{code}</soap:Value></soap:Code><soap:Reason><soap:Text xml:lang="en">{r}</soap:Text></soap:Reason><soap:Detail /></soap:Fault></soap:Body></soap:Envelope>"#
                )
            }
        }
    }

    /// The HTTP headers of a request with this action: `Content-Type`, plus `SOAPAction`
    /// (quoted) for SOAP 1.1.
    #[must_use]
    pub fn request_headers(self, action: &str) -> Vec<(HeaderName, String)> {
        self.header_pairs(action)
            .into_iter()
            .flatten()
            .map(|(name, value)| (name, value.into_owned()))
            .collect()
    }

    /// [`request_headers`](Self::request_headers) with the constant values borrowed.
    fn header_pairs(self, action: &str) -> [Option<(HeaderName, Cow<'static, str>)>; 2] {
        match self {
            Self::V11 => [
                Some((http::header::CONTENT_TYPE, Cow::Borrowed(V11_CONTENT_TYPE))),
                Some((SOAP_ACTION, Cow::Owned(quoted(action)))),
            ],
            Self::V12 => [
                Some((
                    http::header::CONTENT_TYPE,
                    Cow::Owned(self.content_type(action)),
                )),
                None,
            ],
        }
    }
}

/// A SOAP operation's action, with the header values a request carries for it built when
/// compiled (generated code declares one constant per WSDL operation): `SOAPAction` for SOAP
/// 1.1, the `action` parameter of the `Content-Type` for SOAP 1.2. Nothing about the action
/// is formatted, quoted or validated per call.
#[derive(Debug, Clone)]
pub struct Action {
    name: &'static str,
    soap11: http::HeaderValue,
    soap12_content_type: http::HeaderValue,
}

impl Action {
    /// `name`, its quoted form and its SOAP 1.2 content type (the generator writes all three;
    /// an invalid header value fails the build, not a request).
    #[must_use]
    pub const fn new(
        name: &'static str,
        quoted: &'static str,
        soap12_content_type: &'static str,
    ) -> Self {
        Self {
            name,
            soap11: http::HeaderValue::from_static(quoted),
            soap12_content_type: http::HeaderValue::from_static(soap12_content_type),
        }
    }

    /// The action, unquoted.
    #[must_use]
    pub const fn name(&self) -> &'static str {
        self.name
    }
}

impl PartialEq<&str> for Action {
    fn eq(&self, other: &&str) -> bool {
        self.name == *other
    }
}

/// The `Content-Type` of a SOAP 1.1 request.
const V11_CONTENT_TYPE: &str = "text/xml; charset=utf-8";

/// [`V11_CONTENT_TYPE`] as a header value, checked when compiled rather than per request.
const V11_CONTENT_TYPE_VALUE: http::HeaderValue = http::HeaderValue::from_static(V11_CONTENT_TYPE);

/// `"value"` (the `SOAPAction` form), without the formatting machinery: it runs per request.
fn quoted(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    out.push_str(value);
    out.push('"');
    out
}

/// The SOAP 1.1 `SOAPAction` header.
const SOAP_ACTION: HeaderName = HeaderName::from_static("soapaction");

/// How an envelope is written: version, prefix, extra namespace declarations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvelopeStyle {
    /// SOAP version.
    pub version: SoapVersion,
    /// Envelope prefix (`soap`, `soap12`, `SOAP-ENV`).
    pub prefix: String,
    /// Extra `xmlns:prefix="uri"` declarations on the envelope, after `xsi` and `xsd`.
    pub namespaces: Vec<(String, String)>,
    /// Write `encodingStyle` (rpc/encoded) on the envelope.
    pub encoding_style: bool,
}

impl EnvelopeStyle {
    /// ASP.NET's style for this version (`soap:` / `soap12:`, `xsi` and `xsd` declared).
    #[must_use]
    pub fn new(version: SoapVersion) -> Self {
        Self {
            version,
            prefix: version.default_prefix().to_owned(),
            namespaces: Vec::new(),
            encoding_style: false,
        }
    }

    /// PHP SoapServer's rpc/encoded style: `SOAP-ENV`, `SOAP-ENC` and `encodingStyle`, plus
    /// the service namespace under `service_prefix`.
    #[must_use]
    pub fn rpc_encoded(service_prefix: &str, service_ns: &str) -> Self {
        Self {
            version: SoapVersion::V11,
            prefix: "SOAP-ENV".to_owned(),
            namespaces: vec![
                (service_prefix.to_owned(), service_ns.to_owned()),
                ("SOAP-ENC".to_owned(), SOAP_ENC_NS.to_owned()),
            ],
            encoding_style: true,
        }
    }
}

/// Write a complete envelope document around already-serialized header and body elements.
#[must_use]
pub fn wrap(style: &EnvelopeStyle, header: Option<&str>, body: &str) -> String {
    wrap_with(style, header, body.len(), |out| out.push_str(body))
}

/// Write an envelope whose body element is a generated rpc element, encoded in place.
#[must_use]
pub fn wrap_rpc<T: encoded::RpcElement>(style: &EnvelopeStyle, body: &T) -> String {
    wrap_with(style, None, 1024, |out| body.encode_element(out))
}

/// An envelope style written out once: the text before and after the body element, for
/// clients that send many envelopes of one style.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvelopeTemplate {
    head: String,
    tail: String,
}

impl EnvelopeTemplate {
    /// The template of `style` (no header).
    #[must_use]
    pub fn new(style: &EnvelopeStyle) -> Self {
        let mut head = String::new();
        write_head(style, None, &mut head);
        let mut tail = String::new();
        write_tail(style, &mut tail);
        Self { head, tail }
    }

    /// [`wrap_rpc`] with this template's style.
    #[must_use]
    pub fn wrap_rpc<T: encoded::RpcElement>(&self, body: &T) -> String {
        let mut out = String::with_capacity(self.head.len() + 1024 + self.tail.len());
        out.push_str(&self.head);
        body.encode_element(&mut out);
        out.push_str(&self.tail);
        out
    }
}

fn wrap_with(
    style: &EnvelopeStyle,
    header: Option<&str>,
    body_len: usize,
    write_body: impl FnOnce(&mut String),
) -> String {
    let mut out = String::with_capacity(body_len + header.map_or(0, str::len) + 400);
    write_head(style, header, &mut out);
    write_body(&mut out);
    write_tail(style, &mut out);
    out
}

/// Everything before the body element: declaration, envelope, header, `<Body>`.
fn write_head(style: &EnvelopeStyle, header: Option<&str>, out: &mut String) {
    let p = style.prefix.as_str();
    put(
        out,
        &[
            r#"<?xml version="1.0" encoding="utf-8"?><"#,
            p,
            ":Envelope xmlns:",
            p,
            "=\"",
            style.version.namespace(),
            "\" xmlns:xsi=\"",
            XSI_NS,
            "\" xmlns:xsd=\"",
            XSD_NS,
            "\"",
        ],
    );
    for (prefix, uri) in &style.namespaces {
        put(out, &[" xmlns:", prefix, "=\""]);
        xml::escape_into(out, uri, true);
        out.push('"');
    }
    if style.encoding_style {
        put(out, &[" ", p, ":encodingStyle=\"", SOAP_ENC_NS, "\""]);
    }
    put(out, &[">"]);
    if let Some(h) = header {
        put(out, &["<", p, ":Header>", h, "</", p, ":Header>"]);
    }
    put(out, &["<", p, ":Body>"]);
}

/// Everything after the body element.
fn write_tail(style: &EnvelopeStyle, out: &mut String) {
    let p = style.prefix.as_str();
    put(out, &["</", p, ":Body></", p, ":Envelope>"]);
}

/// Append `parts` in order (plain appends rather than `write!`: envelopes are written on
/// every request).
fn put(out: &mut String, parts: &[&str]) {
    for part in parts {
        out.push_str(part);
    }
}

/// Serialize a yaserde value as an element, without XML declaration or indentation.
pub fn to_fragment<T: YaSerialize>(value: &T) -> Result<String> {
    yaserde::ser::to_string_with_config(
        value,
        &yaserde::ser::Config {
            perform_indent: false,
            write_document_declaration: false,
            indent_string: None,
        },
    )
    .map_err(|e| Error::Input(format!("cannot serialize request: {e}")))
}

/// Deserialize a yaserde value from a standalone element.
pub fn from_fragment<T: YaDeserialize>(fragment: &str) -> Result<T> {
    yaserde::de::from_str(fragment)
        .map_err(|e| Error::Decode(format!("unexpected SOAP payload: {e}")))
}

/// A SOAP Fault, either version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoapFault {
    /// The version it came in.
    pub version: SoapVersion,
    /// `faultcode` (1.1) or `Code/Value` (1.2), as written (`soap:Client`).
    pub code: String,
    /// `faultstring` (1.1) or the first `Reason/Text` (1.2).
    pub reason: String,
    /// The text of `detail` / `Detail`, if any.
    pub detail: Option<String>,
}

impl SoapFault {
    fn from_node(version: SoapVersion, fault: roxmltree::Node<'_, '_>) -> Self {
        let env = Some(version.namespace());
        let (code, reason, detail) = match version {
            SoapVersion::V11 => (
                xml::child(fault, None, "faultcode").map(xml::text),
                xml::child(fault, None, "faultstring").map(xml::text),
                xml::child(fault, None, "detail")
                    .map(|d| d.descendants().filter_map(|n| n.text()).collect::<String>()),
            ),
            SoapVersion::V12 => (
                xml::child(fault, env, "Code")
                    .and_then(|c| xml::child(c, env, "Value"))
                    .map(xml::text),
                xml::child(fault, env, "Reason")
                    .and_then(|r| xml::child(r, env, "Text"))
                    .map(xml::text),
                xml::child(fault, env, "Detail")
                    .map(|d| d.descendants().filter_map(|n| n.text()).collect::<String>()),
            ),
        };
        Self {
            version,
            code: code.unwrap_or_default().trim().to_owned(),
            reason: reason.unwrap_or_default().trim().to_owned(),
            detail: detail
                .map(|d| d.trim().to_owned())
                .filter(|d| !d.is_empty()),
        }
    }

    /// Whether the fault blames the receiver (`Server` / `Receiver`): possibly transient.
    #[must_use]
    pub fn is_receiver_fault(&self) -> bool {
        let local = self.code.rsplit(':').next().unwrap_or_default();
        local.starts_with("Server") || local.starts_with("Receiver")
    }
}

impl From<SoapFault> for Error {
    fn from(f: SoapFault) -> Self {
        let retryable = f.is_receiver_fault();
        let message = match f.detail {
            Some(d) => format!("SOAP Fault: {} ({d})", f.reason),
            None => format!("SOAP Fault: {}", f.reason),
        };
        Error::Provider {
            code: Some(f.code),
            message,
            retryable,
        }
    }
}

/// A received envelope, split into standalone header and body elements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawEnvelope {
    /// The version, from the envelope namespace.
    pub version: SoapVersion,
    /// The header blocks (each a standalone element), in order.
    pub headers: Vec<String>,
    /// The body's first element, standalone.
    pub body: String,
}

impl RawEnvelope {
    /// Parse an envelope. A `Fault` body becomes [`Error::Provider`]; anything that is not a
    /// SOAP envelope is [`Error::Decode`].
    pub fn parse(text: &str) -> Result<Self> {
        Self::parse_inner(text)?.map_err(Error::from)
    }

    /// Parse an envelope, returning a Fault as a value instead of an error.
    pub fn parse_inner(text: &str) -> Result<Result<Self, SoapFault>> {
        let doc = xml::parse(text)?;
        let located = match Located::find(&doc)? {
            Ok(located) => located,
            Err(fault) => return Ok(Err(fault)),
        };
        let env = Some(located.version.namespace());
        let headers = xml::child(located.root, env, "Header")
            .map(|h| {
                h.children()
                    .filter(roxmltree::Node::is_element)
                    .map(|e| xml::standalone_fragment(text, e))
                    .collect()
            })
            .unwrap_or_default();
        Ok(Ok(Self {
            version: located.version,
            headers,
            body: xml::standalone_fragment(text, located.body),
        }))
    }

    /// Decode the body element.
    pub fn body<T: YaDeserialize>(&self) -> Result<T> {
        from_fragment(&self.body)
    }

    /// Decode the first header block, if there is one.
    pub fn header<T: YaDeserialize>(&self) -> Result<Option<T>> {
        self.headers.first().map(|h| from_fragment(h)).transpose()
    }
}

/// A parsed envelope's version, root and first body element (unless the body is a Fault).
struct Located<'a, 'i> {
    version: SoapVersion,
    root: roxmltree::Node<'a, 'i>,
    body: roxmltree::Node<'a, 'i>,
}

impl<'a, 'i> Located<'a, 'i> {
    fn find(doc: &'a roxmltree::Document<'i>) -> Result<Result<Self, SoapFault>> {
        let root = doc.root_element();
        let version = root
            .tag_name()
            .namespace()
            .and_then(SoapVersion::from_namespace)
            .filter(|_| root.tag_name().name() == "Envelope")
            .ok_or_else(|| Error::Decode("not a SOAP envelope".into()))?;
        let env = Some(version.namespace());
        let body = xml::child(root, env, "Body")
            .ok_or_else(|| Error::Decode("SOAP envelope without Body".into()))?;
        let first =
            xml::first_element(body).ok_or_else(|| Error::Decode("empty SOAP Body".into()))?;
        if first.tag_name().name() == "Fault" && first.tag_name().namespace() == env {
            return Ok(Err(SoapFault::from_node(version, first)));
        }
        Ok(Ok(Self {
            version,
            root,
            body: first,
        }))
    }
}

/// Parse an envelope and decode its body element as the rpc element `T`, in one parse.
/// The element's name and namespace are checked first: a body of another operation (or an
/// HTML page) is [`Error::Decode`], never an empty `T`. A Fault is [`Error::Provider`].
pub fn decode_rpc<T: encoded::RpcElement>(text: &str) -> Result<T> {
    decode_rpc_inner(text)?.map_err(Error::from)
}

fn decode_rpc_inner<T: encoded::RpcElement>(text: &str) -> Result<Result<T, SoapFault>> {
    // The compact reader takes the usual answer; faults, other elements, and whatever it
    // declines to read go the reference way below, which also words the errors.
    if let Some(doc) = xml::compact::Document::parse(text)
        && let Some(decoded) = doc.root().and_then(rpc_body::<T>).map(T::decode_node)
    {
        return decoded.map(Ok);
    }
    decode_rpc_by_reference(text)
}

/// The reference way of [`decode_rpc_inner`]: out of line, so the usual answer's code stays
/// compact.
#[cold]
#[inline(never)]
fn decode_rpc_by_reference<T: encoded::RpcElement>(text: &str) -> Result<Result<T, SoapFault>> {
    let doc = xml::parse(text)?;
    let body = match Located::find(&doc)? {
        Ok(located) => located.body,
        Err(fault) => return Ok(Err(fault)),
    };
    let name = body.tag_name();
    if name.name() != T::NAME || name.namespace() != Some(T::NAMESPACE) {
        return Err(Error::Decode(format!(
            "expected {{{}}}{} in the SOAP Body, got {{{}}}{}",
            T::NAMESPACE,
            T::NAME,
            name.namespace().unwrap_or_default(),
            name.name()
        )));
    }
    let tree = xml::compact::Document::from_roxmltree(body);
    match tree.root() {
        Some(root) => T::decode_node(root).map(Ok),
        None => Err(Error::Decode("empty SOAP Body".into())),
    }
}

/// [`Located::find`] on a compact tree, for the one outcome it serves: the body's first
/// element is `T`'s element.
fn rpc_body<'a, 'i, T: encoded::RpcElement>(
    root: xml::compact::Node<'a, 'i>,
) -> Option<xml::compact::Node<'a, 'i>> {
    let version = root
        .tag_name()
        .namespace()
        .and_then(SoapVersion::from_namespace)
        .filter(|_| root.tag_name().name() == "Envelope")?;
    let first = root
        .child(Some(version.namespace()), "Body")?
        .children()
        .next()?;
    let name = first.tag_name();
    (name.name() == T::NAME && name.namespace() == Some(T::NAMESPACE)).then_some(first)
}

/// A typed envelope: an optional header block and a body element, both yaserde types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope<H, B> {
    /// SOAP version.
    pub version: SoapVersion,
    /// The header block.
    pub header: Option<H>,
    /// The body element.
    pub body: B,
}

impl<H: YaSerialize, B: YaSerialize> Envelope<H, B> {
    /// Serialize in ASP.NET's style for the version.
    pub fn to_xml(&self) -> Result<String> {
        self.to_xml_with(&EnvelopeStyle::new(self.version))
    }

    /// Serialize in a given style (the style's version wins over `self.version`).
    pub fn to_xml_with(&self, style: &EnvelopeStyle) -> Result<String> {
        let header = self.header.as_ref().map(to_fragment).transpose()?;
        Ok(wrap(style, header.as_deref(), &to_fragment(&self.body)?))
    }
}

impl<H: YaDeserialize, B: YaDeserialize> Envelope<H, B> {
    /// Parse and decode (a Fault becomes [`Error::Provider`]).
    pub fn from_xml(text: &str) -> Result<Self> {
        let raw = RawEnvelope::parse(text)?;
        Ok(Self {
            version: raw.version,
            header: raw.header()?,
            body: raw.body()?,
        })
    }
}

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
/// (see [`decode_rpc`]), with the same Fault and status rules.
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

/// The HTTP request of a SOAP call: its two headers are the action's constants.
fn request(call: SoapCall<'_>, envelope: impl Into<bytes::Bytes>) -> HttpRequest {
    let mut request = HttpRequest::post(call.endpoint, envelope)
        .idempotent(call.idempotent)
        .operation(call.provider, call.operation);
    request.reconcile = call.reconcile;
    request.headers = call.extra_headers;
    match call.version {
        SoapVersion::V11 => request
            .header(http::header::CONTENT_TYPE, V11_CONTENT_TYPE_VALUE)
            .header(SOAP_ACTION, call.action.soap11.clone()),
        SoapVersion::V12 => request.header(
            http::header::CONTENT_TYPE,
            call.action.soap12_content_type.clone(),
        ),
    }
}

/// Send the call and read the answer. The request is built inside, so the future holds the
/// call (smaller) and the request only inside the transport's future.
async fn exchange<T>(
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
fn answer_error(response: &crate::http::HttpResponse, decode: Error) -> Error {
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

// The codegen runtime (see `xml::compact`): public for generated code, out of the docs.
#[doc(hidden)]
pub mod encoded;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_headers_per_version() {
        let a = "PayooBPGAdapter/CallToPartner";
        let h11 = SoapVersion::V11.request_headers(a);
        assert_eq!(h11[0].1, "text/xml; charset=utf-8");
        assert_eq!(h11[1].0.as_str(), "soapaction");
        assert_eq!(h11[1].1, "\"PayooBPGAdapter/CallToPartner\"");
        let h12 = SoapVersion::V12.request_headers(a);
        assert_eq!(h12.len(), 1);
        assert_eq!(
            h12[0].1,
            "application/soap+xml; charset=utf-8; action=\"PayooBPGAdapter/CallToPartner\""
        );
    }

    #[test]
    fn faults_written_here_decode_back() {
        for v in [SoapVersion::V11, SoapVersion::V12] {
            assert_eq!(SoapVersion::from_content_type(v.response_content_type()), v);
            match RawEnvelope::parse(&v.fault_xml(true, "bad <input> & more")) {
                Err(Error::Provider {
                    code,
                    message,
                    retryable,
                }) => {
                    assert!(code.unwrap().ends_with(if v == SoapVersion::V11 {
                        "Client"
                    } else {
                        "Sender"
                    }));
                    assert!(message.contains("bad <input> & more"));
                    assert!(!retryable);
                }
                other => panic!("{other:?}"),
            }
        }
    }

    /// `<tns:ping/>`, the smallest rpc element.
    #[derive(Debug, Default)]
    struct Ping;

    impl encoded::DecodeNode for Ping {
        fn decode_node(_: encoded::Node<'_, '_>) -> Result<Self> {
            Ok(Self)
        }
    }

    impl encoded::RpcElement for Ping {
        const NAME: &'static str = "ping";
        const NAMESPACE: &'static str = "urn:p";
        fn encode_element(&self, out: &mut String) {
            encoded::start_rpc_element(out, "tns:ping", Self::NAMESPACE, None);
            encoded::end_tag(out, "tns:ping");
        }
    }

    #[test]
    fn templates_write_what_wrap_rpc_writes() {
        let style = EnvelopeStyle::rpc_encoded("ns1", "urn:p");
        assert_eq!(
            EnvelopeTemplate::new(&style).wrap_rpc(&Ping),
            wrap_rpc(&style, &Ping)
        );
    }

    /// What the generator writes for an operation: the headers of both versions are constants.
    const PING: Action = Action::new(
        "urn:test#ping",
        "\"urn:test#ping\"",
        "application/soap+xml; charset=utf-8; action=\"urn:test#ping\"",
    );

    #[test]
    fn actions_carry_their_header_values() {
        let endpoint = crate::http::Endpoint::parse("http://h/").unwrap();
        let ping = PING;
        let call = |version| SoapCall {
            endpoint: &endpoint,
            version,
            action: &ping,
            provider: "p",
            operation: "ping",
            idempotent: true,
            reconcile: None,
            extra_headers: Vec::new(),
        };
        let v11 = request(call(SoapVersion::V11), "x");
        let header = |r: &HttpRequest, n: &str| {
            r.headers
                .iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(header(&v11, "soapaction").unwrap(), "\"urn:test#ping\"");
        assert_eq!(header(&v11, "content-type").unwrap(), V11_CONTENT_TYPE);
        let v12 = request(call(SoapVersion::V12), "x");
        assert!(header(&v12, "soapaction").is_none());
        assert_eq!(
            header(&v12, "content-type").unwrap(),
            SoapVersion::V12.content_type(PING.name())
        );
        assert!(PING == "urn:test#ping");
    }

    #[test]
    fn array_type_helpers() {
        assert_eq!(encoded::array_type("xsd:int", 2), "xsd:int[2]");
        assert_eq!(
            encoded::parse_array_type("xsd:int[12]"),
            Some(("xsd:int", 12))
        );
        assert_eq!(encoded::parse_array_type("xsd:int"), None);
        let doc = xml::parse(
            r#"<r xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:nil="true"/>"#,
        )
        .unwrap();
        let tree = xml::compact::Document::from_roxmltree(doc.root_element());
        assert!(encoded::is_nil(tree.root().unwrap()));
    }

    #[derive(Debug, Default, PartialEq, yaserde::YaSerialize, yaserde::YaDeserialize)]
    #[yaserde(rename = "req")]
    struct Req {
        #[yaserde(rename = "username")]
        username: Option<encoded::EncString>,
        #[yaserde(rename = "amount")]
        amount: Option<encoded::EncDecimal>,
        #[yaserde(rename = "captcha")]
        captcha: Option<encoded::EncString>,
        #[yaserde(rename = "id")]
        id: Option<encoded::EncInt>,
    }

    #[test]
    fn encoded_values_roundtrip_with_xsi_type_and_nil() {
        let xml = r#"<req xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema"><username xsi:type="xsd:string">test_merch</username><amount xsi:type="xsd:float">17421.5</amount><captcha xsi:type="xsd:string"/><id xsi:nil="true"/></req>"#;
        let r: Req = from_fragment(xml).unwrap();
        assert_eq!(
            r.username.as_ref().unwrap().get().unwrap().as_deref(),
            Some("test_merch")
        );
        assert_eq!(
            r.username.as_ref().unwrap().xsi_type.as_deref(),
            Some("xsd:string")
        );
        assert_eq!(
            r.amount.as_ref().unwrap().get().unwrap(),
            Some(rust_decimal::Decimal::new(174_215, 1))
        );
        assert_eq!(r.captcha.as_ref().unwrap().get().unwrap(), None);
        assert!(r.id.as_ref().unwrap().is_nil());
        assert_eq!(r.id.as_ref().unwrap().get().unwrap(), None);
        // `xsi:type` values name `xsd:` types: the envelope declares that prefix.
        let again = to_fragment(&r).unwrap();
        let style = EnvelopeStyle::new(SoapVersion::V11);
        let enveloped = RawEnvelope::parse(&wrap(&style, None, &again))
            .unwrap()
            .body;
        assert_eq!(
            crate::xml::canonicalize(&enveloped).unwrap(),
            crate::xml::canonicalize(xml).unwrap(),
            "{again}"
        );
        let bad: Req = from_fragment(r#"<req xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><id xsi:type="xsd:int">x</id></req>"#).unwrap();
        assert!(bad.id.unwrap().get().is_err());
        assert_eq!(
            encoded::EncDecimal::new(rust_decimal::Decimal::new(10_050, 2))
                .text
                .as_deref(),
            Some("100.5")
        );
    }

    #[test]
    fn not_an_envelope_is_a_decode_error() {
        assert!(matches!(
            RawEnvelope::parse("<html/>"),
            Err(Error::Decode(_))
        ));
        assert!(matches!(
            RawEnvelope::parse("garbage"),
            Err(Error::Decode(_))
        ));
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = RawEnvelope::parse(&String::from_utf8_lossy(&bytes));
        }

        #[test]
        fn parse_never_panics_on_envelope_like_text(body in "\\PC{0,200}") {
            let text = format!(r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>{body}</s:Body></s:Envelope>"#);
            let _ = RawEnvelope::parse(&text);
        }
    }
}
