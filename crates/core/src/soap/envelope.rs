//! Writing envelopes: styles, templates, yaserde fragments, the typed `Envelope`.

use yaserde::{YaDeserialize, YaSerialize};

use super::encoded;
use super::fragment::to_fragment;
use super::read::RawEnvelope;
use super::version::{SOAP_ENC_NS, SoapVersion, XSD_NS, XSI_NS};
use crate::Result;
use crate::xml;

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

pub(super) fn wrap_with(
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
pub(super) fn write_head(style: &EnvelopeStyle, header: Option<&str>, out: &mut String) {
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
pub(super) fn write_tail(style: &EnvelopeStyle, out: &mut String) {
    let p = style.prefix.as_str();
    put(out, &["</", p, ":Body></", p, ":Envelope>"]);
}

/// Append `parts` in order (plain appends rather than `write!`: envelopes are written on
/// every request).
pub(super) fn put(out: &mut String, parts: &[&str]) {
    for part in parts {
        out.push_str(part);
    }
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
    /// Parse and decode (a Fault becomes [`Error::Provider`](crate::Error::Provider)).
    pub fn from_xml(text: &str) -> Result<Self> {
        let raw = RawEnvelope::parse(text)?;
        Ok(Self {
            version: raw.version,
            header: raw.header()?,
            body: raw.body()?,
        })
    }
}
