//! Helpers for rpc/encoded payloads (PHP `SoapServer` and friends).
//!
//! rpc/encoded puts `xsi:type` on every value and `xsi:nil="true"` on absent ones. The typed
//! values below carry both attributes and keep the text as received; `get()` parses it.
//! Generated rpc/encoded types use them for every scalar field.

use std::borrow::Cow;
use std::str::FromStr;

use rust_decimal::Decimal;

use crate::{Error, Result};

pub use crate::xml::compact::Node;

/// Decoding from an element of an already parsed document.
///
/// Generated rpc/encoded types implement it next to their yaserde derives, so that a
/// client reads an answer with one parse ([`decode_rpc`](super::decode_rpc)) instead of
/// three (envelope, root check, yaserde's own pull parser). Child elements are matched by
/// local name, as rpc/encoded parts are unqualified; children nobody declared are skipped.
pub trait DecodeNode: Sized {
    /// Decode `node`.
    fn decode_node(node: Node<'_, '_>) -> Result<Self>;
}

/// Writing as an element straight into a string: the request side of [`DecodeNode`].
pub trait EncodeXml {
    /// Append `self` as the element `tag` (a qualified name whose prefix is in scope).
    fn encode_xml(&self, tag: &str, out: &mut String);
}

/// A generated rpc operation element: an operation's request or response wrapper.
pub trait RpcElement: DecodeNode {
    /// Local name on the wire (`cash_createInvoice`, `cash_createInvoiceResponse`).
    const NAME: &'static str;
    /// Its namespace (written with the prefix `tns`).
    const NAMESPACE: &'static str;

    /// Append the element. It declares `tns`, `SOAP-ENV`, `SOAP-ENC`, `xsi` and `xsd` itself, so it
    /// stands alone as well as inside any envelope.
    fn encode_element(&self, out: &mut String);

    /// The element as a standalone XML fragment.
    fn to_xml(&self) -> String {
        let mut out = String::with_capacity(1024);
        self.encode_element(&mut out);
        out
    }
}

/// Namespaces of the attributes rpc/encoded elements carry.
pub mod ns {
    /// `xsi` (`xsi:type`, `xsi:nil`).
    pub const XSI: Option<&str> = Some(crate::soap::version::XSI_NS);
    /// `SOAP-ENC` (`SOAP-ENC:arrayType`).
    pub const SOAP_ENC: Option<&str> = Some(crate::soap::version::SOAP_ENC_NS);
    /// `SOAP-ENV` 1.1 (`SOAP-ENV:encodingStyle`): rpc/encoded is SOAP 1.1 only.
    pub const SOAP_ENV: Option<&str> = Some(crate::soap::version::SoapVersion::V11.namespace());
}

/// The value of the attribute `{namespace}local` (`None`: unqualified).
#[must_use]
pub fn attribute(node: Node<'_, '_>, namespace: Option<&str>, local: &str) -> Option<String> {
    node.attribute(namespace, local).map(str::to_owned)
}

/// The element children of `node`, in document order.
pub fn elements<'a, 'i>(node: Node<'a, 'i>) -> impl Iterator<Item = Node<'a, 'i>> {
    node.children()
}

/// The concatenated text of `node`'s text children, trimmed; `None` when that is empty.
/// Trimmed as yaserde reads it (and as every `get()` parses it): both codecs agree.
#[must_use]
pub fn text_content(node: Node<'_, '_>) -> Option<String> {
    let text = node.text();
    (!text.is_empty()).then(|| text.to_owned())
}

/// Append `<tag a="v"…>`, skipping absent attributes.
pub fn start_tag(out: &mut String, tag: &str, attributes: &[(&str, Option<&str>)]) {
    open(out, tag, attributes);
    out.push('>');
}

/// Append `</tag>`.
pub fn end_tag(out: &mut String, tag: &str) {
    out.push_str("</");
    out.push_str(tag);
    out.push('>');
}

fn open(out: &mut String, tag: &str, list: &[(&str, Option<&str>)]) {
    out.push('<');
    out.push_str(tag);
    attributes(out, list);
}

/// Append ` name="value"` for each present attribute.
fn attributes(out: &mut String, list: &[(&str, Option<&str>)]) {
    for (name, value) in list {
        if let Some(value) = value {
            out.push(' ');
            out.push_str(name);
            out.push_str("=\"");
            crate::xml::escape_into(out, value, true);
            out.push('"');
        }
    }
}

/// Append the start tag of a generated rpc element, declaring what it needs to stand alone.
pub fn start_rpc_element(
    out: &mut String,
    tag: &str,
    namespace: &str,
    encoding_style: Option<&str>,
) {
    out.push('<');
    out.push_str(tag);
    out.push_str(" xmlns:tns=\"");
    crate::xml::escape_into(out, namespace, true);
    out.push_str(RPC_DECLARATIONS);
    if let Some(style) = encoding_style {
        out.push_str(" SOAP-ENV:encodingStyle=\"");
        crate::xml::escape_into(out, style, true);
        out.push('"');
    }
    out.push('>');
}

/// The constant declarations of [`start_rpc_element`], written in one piece (checked against
/// the namespace constants in the tests).
const RPC_DECLARATIONS: &str = "\" xmlns:SOAP-ENV=\"http://schemas.xmlsoap.org/soap/envelope/\" \
     xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
     xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" \
     xmlns:SOAP-ENC=\"http://schemas.xmlsoap.org/soap/encoding/\"";

/// Decode a child into its optional slot (the last occurrence wins, as with yaserde).
pub fn decode_into<T: DecodeNode>(slot: &mut Option<T>, node: Node<'_, '_>) -> Result<()> {
    *slot = Some(T::decode_node(node)?);
    Ok(())
}

/// Append an optional child; nothing when absent.
pub fn encode_opt<T: EncodeXml>(value: Option<&T>, tag: &str, out: &mut String) {
    if let Some(v) = value {
        v.encode_xml(tag, out);
    }
}

/// The `SOAP-ENC:arrayType` value for `len` items of `item_type` (`xsd:int[2]`).
#[must_use]
pub fn array_type(item_type: &str, len: usize) -> String {
    format!("{item_type}[{len}]")
}

/// Split an `arrayType` value into item type and length.
#[must_use]
pub fn parse_array_type(value: &str) -> Option<(&str, usize)> {
    let (item, rest) = value.trim().split_once('[')?;
    let len = rest.strip_suffix(']')?.parse().ok()?;
    Some((item, len))
}

/// Whether an element is `xsi:nil="true"` (or `"1"`).
#[must_use]
pub fn is_nil(node: Node<'_, '_>) -> bool {
    matches!(node.attribute(ns::XSI, "nil"), Some("true" | "1"))
}

/// An attribute value type whose usual values are constants: built from them, or read as
/// one of them, it allocates nothing.
macro_rules! constant_text {
    ($(#[$doc:meta])* $name:ident, [$($known:literal),* $(,)?]) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Default, yaserde::DefaultYaSerde)]
        pub struct $name(Cow<'static, str>);

        impl $name {
            /// A value known at compile time.
            #[must_use]
            pub const fn from_static(value: &'static str) -> Self {
                Self(Cow::Borrowed(value))
            }

            /// A value as received (the usual ones are not copied).
            #[must_use]
            pub fn new(value: &str) -> Self {
                // Literal patterns: compared without a call per candidate.
                match value {
                    $($known => Self::from_static($known),)*
                    _ => Self(Cow::Owned(value.to_owned())),
                }
            }

            /// A value as received, not copied when it is `known` either.
            #[must_use]
            pub fn new_or(value: &str, known: &'static str) -> Self {
                if value == known {
                    Self::from_static(known)
                } else {
                    Self::new(value)
                }
            }

            /// The value as written.
            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl FromStr for $name {
            type Err = std::convert::Infallible;
            fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
                Ok(Self::new(s))
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self::new(value)
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self(Cow::Owned(value))
            }
        }
    };
}

constant_text!(
    /// An `xsi:type` value (`xsd:string`, `ns1:CashCreateInvoiceRequest`). The standard
    /// scalar types are held as constants, so building or reading the usual values allocates
    /// nothing for their type.
    XsiType,
    ["xsd:string", "xsd:int", "xsd:float", "xsd:boolean", "xsd:double", "xsd:decimal"]
);

constant_text!(
    /// A `SOAP-ENV:encodingStyle` value; SOAP 1.1's encoding is a constant.
    EncodingStyle,
    ["http://schemas.xmlsoap.org/soap/encoding/"]
);

/// `xsi:type` of a generated type's element; `known` is the value PHP SoapServer writes for
/// it (the service namespace as `ns1`), read without a copy.
#[must_use]
pub fn xsi_type(node: Node<'_, '_>, known: &'static str) -> Option<XsiType> {
    node.attribute(ns::XSI, "type")
        .map(|value| XsiType::new_or(value, known))
}

/// `SOAP-ENV:encodingStyle` of an operation element.
#[must_use]
pub fn encoding_style(node: Node<'_, '_>) -> Option<EncodingStyle> {
    node.attribute(ns::SOAP_ENV, "encodingStyle")
        .map(EncodingStyle::new)
}

/// What every encoded value reads: `xsi:type`, `xsi:nil`, the text. One function for all
/// value types (not one copy each), so a message's values run one piece of code.
#[inline(never)]
fn decode_value(node: Node<'_, '_>) -> (Option<XsiType>, Option<String>, Option<String>) {
    (
        node.attribute(ns::XSI, "type").map(XsiType::new),
        attribute(node, ns::XSI, "nil"),
        text_content(node),
    )
}

/// What every encoded value writes; `own_type` is the value type's `xsi:type` and its
/// attribute written out, for the usual case.
#[inline(never)]
fn encode_value(
    out: &mut String,
    tag: &str,
    own_type: (&str, &str),
    xsi_type: Option<&str>,
    xsi_nil: Option<&str>,
    text: Option<&str>,
) {
    out.push('<');
    out.push_str(tag);
    match xsi_type {
        // The usual case, written as one constant rather than escaped.
        Some(t) if t == own_type.0 => out.push_str(own_type.1),
        other => attributes(out, &[("xsi:type", other)]),
    }
    if xsi_nil.is_some() {
        attributes(out, &[("xsi:nil", xsi_nil)]);
    }
    match text {
        Some(text) if !text.is_empty() => {
            out.push('>');
            crate::xml::escape_into(out, text, false);
            end_tag(out, tag);
        }
        _ => out.push_str("/>"),
    }
}

macro_rules! encoded_value {
    ($(#[$doc:meta])* $name:ident, $xsd:literal, $ty:ty, $parse:expr, $show:expr) => {
        $(#[$doc])*
        #[derive(Debug, Default, Clone, PartialEq, Eq, yaserde::YaSerialize, yaserde::YaDeserialize)]
        #[yaserde(namespaces = { "xsi" = "http://www.w3.org/2001/XMLSchema-instance" })]
        pub struct $name {
            /// `xsi:type`, e.g. `xsd:int`.
            #[yaserde(attribute = true, prefix = "xsi", rename = "type")]
            pub xsi_type: Option<XsiType>,
            /// `xsi:nil`.
            #[yaserde(attribute = true, prefix = "xsi", rename = "nil")]
            pub xsi_nil: Option<String>,
            /// The text as on the wire (`None` for an empty element).
            #[yaserde(text = true)]
            pub text: Option<String>,
        }

        impl DecodeNode for $name {
            fn decode_node(node: Node<'_, '_>) -> Result<Self> {
                let (xsi_type, xsi_nil, text) = decode_value(node);
                Ok(Self { xsi_type, xsi_nil, text })
            }
        }

        impl EncodeXml for $name {
            fn encode_xml(&self, tag: &str, out: &mut String) {
                encode_value(
                    out,
                    tag,
                    ($xsd, concat!(" xsi:type=\"", $xsd, "\"")),
                    self.xsi_type.as_deref(),
                    self.xsi_nil.as_deref(),
                    self.text.as_deref(),
                );
            }
        }

        impl $name {
            /// The `xsi:type` this value is written with.
            pub const XSI_TYPE: &'static str = $xsd;

            /// A value written with its `xsi:type`.
            #[must_use]
            pub fn new(value: $ty) -> Self {
                // By value: a string is moved in, not copied.
                let show: fn($ty) -> String = $show;
                Self { xsi_type: Some(XsiType::from_static($xsd)), xsi_nil: None, text: Some(show(value)) }
            }

            /// An empty element with its `xsi:type` (what PHP sends for an unset value).
            #[must_use]
            pub fn empty() -> Self {
                Self { xsi_type: Some(XsiType::from_static($xsd)), xsi_nil: None, text: None }
            }

            /// Whether the element is `xsi:nil`.
            #[must_use]
            pub fn is_nil(&self) -> bool {
                matches!(self.xsi_nil.as_deref(), Some("true" | "1"))
            }

            /// The value: `None` when nil or empty, an error when the text is not a value.
            pub fn get(&self) -> Result<Option<$ty>> {
                let t = self.text.as_deref().unwrap_or_default().trim_ascii();
                if self.is_nil() || t.is_empty() {
                    return Ok(None);
                }
                let parse: fn(&str) -> Option<$ty> = $parse;
                parse(t).map(Some).ok_or_else(|| {
                    Error::decode(format!("{t:?} is not a valid {}", $xsd))
                })
            }
        }
    };
}

encoded_value!(
    /// An `xsd:string` value.
    EncString, "xsd:string", String, |t| Some(t.to_owned()), std::convert::identity
);
impl EncString {
    /// [`get`](Self::get), taking the value: no copy when the text needs no trimming.
    #[must_use]
    pub fn into_value(self) -> Option<String> {
        if self.is_nil() {
            return None;
        }
        let text = self.text?;
        let trimmed = text.trim_ascii();
        if trimmed.is_empty() {
            None
        } else if trimmed.len() == text.len() {
            Some(text)
        } else {
            Some(trimmed.to_owned())
        }
    }
}

encoded_value!(
    /// An `xsd:int` value.
    EncInt, "xsd:int", i64, |t| i64::from_str(t).ok(), |i| i.to_string()
);
encoded_value!(
    /// An `xsd:float`/`xsd:double` value, held exactly (never `f64`).
    EncDecimal, "xsd:float", Decimal, |t| Decimal::from_str_exact(t).or_else(|_| Decimal::from_scientific(t)).ok(), |d| d.normalize().to_string()
);
encoded_value!(
    /// An `xsd:boolean` value (`true`/`false`/`1`/`0`).
    EncBool, "xsd:boolean", bool, |t| match t { "true" | "1" => Some(true), "false" | "0" => Some(false), _ => None }, |b| b.to_string()
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_xsi_types_are_constants_others_kept_as_received() {
        for standard in [
            "xsd:string",
            "xsd:int",
            "xsd:float",
            "xsd:boolean",
            "xsd:double",
            "xsd:decimal",
        ] {
            let t = XsiType::new(standard);
            assert!(matches!(t.0, Cow::Borrowed(_)), "{standard}");
            assert_eq!(t.as_str(), standard);
        }
        assert!(matches!(
            EncString::empty().xsi_type.unwrap().0,
            Cow::Borrowed("xsd:string")
        ));
        let other = XsiType::new("t:string");
        assert!(matches!(other.0, Cow::Owned(_)));
        assert_eq!(other.to_string(), "t:string");
        assert_eq!("t:string".parse::<XsiType>().unwrap(), other);
        assert_eq!(EncInt::new(5).xsi_type.as_deref(), Some("xsd:int"));
    }

    #[test]
    fn into_value_reads_as_get() {
        for text in [None, Some(""), Some("  "), Some("a"), Some(" a b ")] {
            for nil in [None, Some("true")] {
                let v = EncString {
                    xsi_type: None,
                    xsi_nil: nil.map(str::to_owned),
                    text: text.map(str::to_owned),
                };
                assert_eq!(v.get().unwrap(), v.clone().into_value(), "{text:?} {nil:?}");
            }
        }
    }

    #[test]
    fn rpc_declarations_are_the_namespace_constants() {
        let expected = format!(
            "\" xmlns:SOAP-ENV=\"{}\" xmlns:xsi=\"{}\" xmlns:xsd=\"{}\" xmlns:SOAP-ENC=\"{}\"",
            crate::soap::version::SoapVersion::V11.namespace(),
            crate::soap::version::XSI_NS,
            crate::soap::version::XSD_NS,
            crate::soap::version::SOAP_ENC_NS
        );
        assert_eq!(RPC_DECLARATIONS, expected);
        let mut out = String::new();
        start_rpc_element(&mut out, "tns:op", "urn:a&b", Some("enc"));
        assert_eq!(
            out,
            format!("<tns:op xmlns:tns=\"urn:a&amp;b{expected} SOAP-ENV:encodingStyle=\"enc\">")
        );
    }
}
