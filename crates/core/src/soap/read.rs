//! Reading a received envelope: version, header and body, Faults, rpc bodies.

use yaserde::YaDeserialize;

use super::encoded;
use super::fault::SoapFault;
use super::fragment::from_fragment;
use super::version::SoapVersion;
use crate::xml;
use crate::{Error, Result};

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
pub(super) struct Located<'a, 'i> {
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
            .ok_or_else(|| Error::decode("not a SOAP envelope"))?;
        let env = Some(version.namespace());
        let body = xml::child(root, env, "Body")
            .ok_or_else(|| Error::decode("SOAP envelope without Body"))?;
        let first = xml::first_element(body).ok_or_else(|| Error::decode("empty SOAP Body"))?;
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

pub(super) fn decode_rpc_inner<T: encoded::RpcElement>(text: &str) -> Result<Result<T, SoapFault>> {
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
pub(super) fn decode_rpc_by_reference<T: encoded::RpcElement>(
    text: &str,
) -> Result<Result<T, SoapFault>> {
    let doc = xml::parse(text)?;
    let body = match Located::find(&doc)? {
        Ok(located) => located.body,
        Err(fault) => return Ok(Err(fault)),
    };
    let name = body.tag_name();
    if name.name() != T::NAME || name.namespace() != Some(T::NAMESPACE) {
        return Err(Error::decode(format!(
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
        None => Err(Error::decode("empty SOAP Body")),
    }
}

/// [`Located::find`] on a compact tree, for the one outcome it serves: the body's first
/// element is `T`'s element.
pub(super) fn rpc_body<'a, 'i, T: encoded::RpcElement>(
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
