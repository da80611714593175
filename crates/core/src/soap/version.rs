//! The SOAP version and an operation's action: the headers a request carries.

use std::borrow::Cow;

use http::HeaderName;

use crate::xml;

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
    pub(super) soap11: http::HeaderValue,
    pub(super) soap12_content_type: http::HeaderValue,
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
pub(super) const V11_CONTENT_TYPE: &str = "text/xml; charset=utf-8";

/// [`V11_CONTENT_TYPE`] as a header value, checked when compiled rather than per request.
pub(super) const V11_CONTENT_TYPE_VALUE: http::HeaderValue =
    http::HeaderValue::from_static(V11_CONTENT_TYPE);

/// `"value"` (the `SOAPAction` form), without the formatting machinery: it runs per request.
pub(super) fn quoted(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    out.push_str(value);
    out.push('"');
    out
}

/// The SOAP 1.1 `SOAPAction` header.
pub(super) const SOAP_ACTION: HeaderName = HeaderName::from_static("soapaction");

/// `xsi` namespace.
pub const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";
/// `xsd` namespace.
pub const XSD_NS: &str = "http://www.w3.org/2001/XMLSchema";
/// SOAP 1.1 encoding namespace (`SOAP-ENC`), also the rpc/encoded `encodingStyle`.
pub const SOAP_ENC_NS: &str = "http://schemas.xmlsoap.org/soap/encoding/";
