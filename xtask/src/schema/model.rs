//! The model codegen emits from: types, fields, operations, and the reader's helpers.

use std::fmt;

pub const XSD: &str = "http://www.w3.org/2001/XMLSchema";
pub const WSDL: &str = "http://schemas.xmlsoap.org/wsdl/";
pub const SOAP11: &str = "http://schemas.xmlsoap.org/wsdl/soap/";
pub const SOAP12: &str = "http://schemas.xmlsoap.org/wsdl/soap12/";
pub const SOAP_ENC: &str = "http://schemas.xmlsoap.org/soap/encoding/";

/// A codegen error: where, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaError {
    pub file: String,
    pub line: u32,
    pub message: String,
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

impl std::error::Error for SchemaError {}

/// A namespace-qualified name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct QName {
    pub namespace: String,
    pub name: String,
}

/// Built-in XSD types and the Rust types they become.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    String,
    Boolean,
    Int,
    Long,
    Short,
    Byte,
    UnsignedInt,
    UnsignedLong,
    /// `decimal`, `float`, `double`: exact decimal, never `f64`.
    Decimal,
}

impl Builtin {
    pub(super) fn from_local(name: &str) -> Option<Self> {
        Some(match name {
            "string" | "dateTime" | "date" | "time" | "anyURI" | "base64Binary" | "guid"
            | "token" | "normalizedString" | "QName" | "duration" => Self::String,
            "boolean" => Self::Boolean,
            "int" | "integer" => Self::Int,
            "long" => Self::Long,
            "short" => Self::Short,
            "byte" => Self::Byte,
            "unsignedInt" => Self::UnsignedInt,
            "unsignedLong" => Self::UnsignedLong,
            "decimal" | "float" | "double" => Self::Decimal,
            _ => return None,
        })
    }
}

/// What a field holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldType {
    Builtin(Builtin),
    Named(QName),
}

/// How often a field occurs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Occurs {
    Required,
    Optional,
    Many,
}

/// One child element of a complex type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub wire_name: String,
    /// `None` for unqualified elements.
    pub namespace: Option<String>,
    pub ty: FieldType,
    pub occurs: Occurs,
    pub nillable: bool,
    /// An XML attribute rather than a child element.
    pub attribute: bool,
}

/// A complex type (or a top-level element with an inline complex type).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StructDef {
    pub name: QName,
    /// Own fields (base fields are resolved at emission).
    pub fields: Vec<Field>,
    pub base: Option<QName>,
    /// Part of an extension hierarchy: carries `xsi:type`.
    pub polymorphic: bool,
    /// Top-level element names whose type this is.
    pub elements: Vec<String>,
    pub line: u32,
}

/// A string enumeration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnumDef {
    pub name: QName,
    pub values: Vec<String>,
}

/// A SOAP-encoded array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArrayDef {
    pub name: QName,
    pub item: FieldType,
    /// The `arrayType` item type as written (`xsd:string`).
    pub item_wire_type: String,
}

/// A type definition, in document order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeDef {
    Struct(StructDef),
    Enum(EnumDef),
    Array(ArrayDef),
}

impl TypeDef {
    #[must_use]
    pub fn name(&self) -> &QName {
        match self {
            Self::Struct(s) => &s.name,
            Self::Enum(e) => &e.name,
            Self::Array(a) => &a.name,
        }
    }
}

/// A WSDL operation as its bindings describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    pub name: String,
    pub soap_action: String,
    pub style: String,
    pub use_: String,
    /// `"1.1"`, `"1.2"`.
    pub versions: Vec<&'static str>,
    pub input: Option<String>,
    pub output: Option<String>,
    /// rpc style: the `soap:body` namespace of the operation's wrapper elements.
    pub namespace: Option<String>,
    /// rpc style: the input message's parts (name, type).
    pub input_parts: Vec<(String, FieldType)>,
    /// rpc style: the output message's parts (name, type).
    pub output_parts: Vec<(String, FieldType)>,
}

impl Model {
    /// An error about this model at `line` of its sources (0: no one line).
    #[must_use]
    pub fn error(&self, line: u32, message: impl Into<String>) -> SchemaError {
        SchemaError {
            file: self.sources.join(", "),
            line,
            message: message.into(),
        }
    }

    /// Whether the service is rpc/encoded (every value carries `xsi:type`).
    #[must_use]
    pub fn encoded(&self) -> bool {
        self.operations.iter().any(|o| o.use_ == "encoded")
    }
}

/// Everything read from one provider's schema files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Model {
    pub sources: Vec<String>,
    pub types: Vec<TypeDef>,
    pub operations: Vec<Operation>,
    /// The namespace written as the default namespace of generated structs.
    pub primary_namespace: Option<String>,
    /// Top-level `element name=… type=…` declarations, resolved by [`Model::finish`]: the
    /// type may be declared after the element.
    pub element_refs: Vec<(QName, String)>,
}

pub(super) struct Reader<'a, 'i> {
    pub(super) file: &'a str,
    pub(super) doc: &'a roxmltree::Document<'i>,
}

impl Reader<'_, '_> {
    pub(super) fn err(
        &self,
        node: roxmltree::Node<'_, '_>,
        message: impl Into<String>,
    ) -> SchemaError {
        SchemaError {
            file: self.file.to_owned(),
            line: self.doc.text_pos_at(node.range().start).row,
            message: message.into(),
        }
    }

    pub(super) fn line(&self, node: roxmltree::Node<'_, '_>) -> u32 {
        self.doc.text_pos_at(node.range().start).row
    }

    /// Resolve a `prefix:name` attribute value against the namespaces in scope at `node`.
    pub(super) fn qname(
        &self,
        node: roxmltree::Node<'_, '_>,
        value: &str,
    ) -> Result<QName, SchemaError> {
        let (prefix, local) = value
            .split_once(':')
            .map_or((None, value), |(p, l)| (Some(p), l));
        let namespace = node
            .lookup_namespace_uri(prefix)
            .ok_or_else(|| self.err(node, format!("unknown namespace prefix in {value:?}")))?;
        Ok(QName {
            namespace: namespace.to_owned(),
            name: local.to_owned(),
        })
    }

    pub(super) fn unsupported(&self, node: roxmltree::Node<'_, '_>, context: &str) -> SchemaError {
        self.err(
            node,
            format!(
                "unsupported construct <{}> in {context}",
                node.tag_name().name()
            ),
        )
    }
}

pub(super) fn elements<'a, 'i>(
    node: roxmltree::Node<'a, 'i>,
) -> impl Iterator<Item = roxmltree::Node<'a, 'i>> {
    node.children().filter(roxmltree::Node::is_element)
}

pub(super) fn is(node: roxmltree::Node<'_, '_>, ns: &str, local: &str) -> bool {
    node.tag_name().namespace() == Some(ns) && node.tag_name().name() == local
}
