//! Reading WSDL 1.1 and XSD into a small model of what codegen emits.
//!
//! Supported: `schema` (several per file, several files per provider), top-level `element`
//! (named type or inline `complexType`), `complexType` with `sequence`/`all` of `element`s
//! (`minOccurs`, `maxOccurs`, `nillable`), `complexContent/extension` (fields of the base
//! first; the hierarchy gets an `xsi:type` attribute), SOAP-encoded arrays
//! (`complexContent/restriction base="soapenc:Array"` with `wsdl:arrayType`), `simpleType`
//! enumerations of strings, and WSDL messages, port types and SOAP 1.1/1.2 bindings (operation
//! names, `soapAction`, style, use; rpc message parts). A file that is neither a schema nor a
//! WSDL is read as an XML sample document and its types inferred from its structure
//! ([`read_file`]). Anything else is an error naming the file, the line and the construct —
//! never a silent skip.

use std::collections::{BTreeMap, BTreeSet};
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
    fn from_local(name: &str) -> Option<Self> {
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

struct Reader<'a, 'i> {
    file: &'a str,
    doc: &'a roxmltree::Document<'i>,
}

impl Reader<'_, '_> {
    fn err(&self, node: roxmltree::Node<'_, '_>, message: impl Into<String>) -> SchemaError {
        SchemaError {
            file: self.file.to_owned(),
            line: self.doc.text_pos_at(node.range().start).row,
            message: message.into(),
        }
    }

    fn line(&self, node: roxmltree::Node<'_, '_>) -> u32 {
        self.doc.text_pos_at(node.range().start).row
    }

    /// Resolve a `prefix:name` attribute value against the namespaces in scope at `node`.
    fn qname(&self, node: roxmltree::Node<'_, '_>, value: &str) -> Result<QName, SchemaError> {
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

    fn unsupported(&self, node: roxmltree::Node<'_, '_>, context: &str) -> SchemaError {
        self.err(
            node,
            format!(
                "unsupported construct <{}> in {context}",
                node.tag_name().name()
            ),
        )
    }
}

fn elements<'a, 'i>(
    node: roxmltree::Node<'a, 'i>,
) -> impl Iterator<Item = roxmltree::Node<'a, 'i>> {
    node.children().filter(roxmltree::Node::is_element)
}

fn is(node: roxmltree::Node<'_, '_>, ns: &str, local: &str) -> bool {
    node.tag_name().namespace() == Some(ns) && node.tag_name().name() == local
}

/// Read one file (WSDL or XSD) into `model`.
pub fn read_file(model: &mut Model, file: &str, text: &str) -> Result<(), SchemaError> {
    let doc = roxmltree::Document::parse(text).map_err(|e| SchemaError {
        file: file.to_owned(),
        line: e.pos().row,
        message: format!("malformed XML: {e}"),
    })?;
    let r = Reader { file, doc: &doc };
    model.sources.push(file.to_owned());
    let root = doc.root_element();
    if is(root, XSD, "schema") {
        read_schema(&r, model, root)
    } else if is(root, WSDL, "definitions") {
        read_wsdl(&r, model, root)
    } else {
        read_sample(&r, model, root)
    }
}

/// Infer types from an XML sample document (for providers that publish samples, not schemas):
/// an element with child elements is a struct named after it; a leaf is an optional string
/// (sample values are placeholders, so no narrower type is inferred); a child repeated under
/// one parent is a `Vec`; namespaces are the document's. An element name seen in several
/// places is one type whose fields are the union, in first-seen order. Attributes other than
/// namespace declarations and `xsi:*` are not supported (an error).
fn read_sample(
    r: &Reader<'_, '_>,
    model: &mut Model,
    root: roxmltree::Node<'_, '_>,
) -> Result<(), SchemaError> {
    if model.primary_namespace.is_none() {
        model.primary_namespace = Some(root.tag_name().namespace().unwrap_or_default().to_owned());
    }
    let name = infer_struct(r, model, root)?;
    if let Some(TypeDef::Struct(s)) = model.types.iter_mut().find(|t| *t.name() == name)
        && !s.elements.contains(&name.name)
    {
        s.elements.push(name.name.clone());
    }
    Ok(())
}

fn infer_struct(
    r: &Reader<'_, '_>,
    model: &mut Model,
    el: roxmltree::Node<'_, '_>,
) -> Result<QName, SchemaError> {
    if let Some(a) = el
        .attributes()
        .find(|a| a.namespace() != Some("http://www.w3.org/2001/XMLSchema-instance"))
    {
        return Err(r.err(
            el,
            format!("attribute {} in an XML sample is not supported", a.name()),
        ));
    }
    let name = QName {
        namespace: el.tag_name().namespace().unwrap_or_default().to_owned(),
        name: el.tag_name().name().to_owned(),
    };
    let mut fields: Vec<Field> = Vec::new();
    for child in elements(el) {
        let wire = child.tag_name().name().to_owned();
        let namespace = child.tag_name().namespace().map(str::to_owned);
        let ty = if elements(child).next().is_some() {
            FieldType::Named(infer_struct(r, model, child)?)
        } else {
            if let Some(a) = child
                .attributes()
                .find(|a| a.namespace() != Some("http://www.w3.org/2001/XMLSchema-instance"))
            {
                return Err(r.err(
                    child,
                    format!("attribute {} in an XML sample is not supported", a.name()),
                ));
            }
            FieldType::Builtin(Builtin::String)
        };
        match fields
            .iter_mut()
            .find(|f| f.wire_name == wire && f.namespace == namespace)
        {
            Some(f) => f.occurs = Occurs::Many,
            None => fields.push(Field {
                wire_name: wire,
                namespace,
                ty,
                occurs: Occurs::Optional,
                nillable: false,
                attribute: false,
            }),
        }
    }
    let line = r.line(el);
    match model.types.iter_mut().find(|t| *t.name() == name) {
        Some(TypeDef::Struct(existing)) => {
            for f in fields {
                if !existing
                    .fields
                    .iter()
                    .any(|e| e.wire_name == f.wire_name && e.namespace == f.namespace)
                {
                    existing.fields.push(f);
                }
            }
        }
        Some(_) => {
            return Err(r.err(
                el,
                format!("{} is both a simple and a complex type", name.name),
            ));
        }
        None => model.types.push(TypeDef::Struct(StructDef {
            name: name.clone(),
            fields,
            base: None,
            polymorphic: false,
            elements: Vec::new(),
            line,
        })),
    }
    Ok(name)
}

fn read_schema(
    r: &Reader<'_, '_>,
    model: &mut Model,
    schema: roxmltree::Node<'_, '_>,
) -> Result<(), SchemaError> {
    let tns = schema
        .attribute("targetNamespace")
        .unwrap_or_default()
        .to_owned();
    let qualified = schema.attribute("elementFormDefault") == Some("qualified");
    if model.primary_namespace.is_none() {
        model.primary_namespace = Some(tns.clone());
    }
    let ctx = SchemaCtx { tns, qualified };
    for child in elements(schema) {
        if child.tag_name().namespace() != Some(XSD) {
            return Err(r.unsupported(child, "xs:schema"));
        }
        match child.tag_name().name() {
            "import" | "annotation" => {}
            "element" => read_top_element(r, model, &ctx, child)?,
            "complexType" => {
                let name = child
                    .attribute("name")
                    .ok_or_else(|| r.err(child, "complexType without name"))?;
                let def = read_complex(r, &ctx, child, name)?;
                model.types.push(def);
            }
            "simpleType" => {
                let name = child
                    .attribute("name")
                    .ok_or_else(|| r.err(child, "simpleType without name"))?;
                model.types.push(read_simple(r, &ctx, child, name)?);
            }
            _ => return Err(r.unsupported(child, "xs:schema")),
        }
    }
    Ok(())
}

struct SchemaCtx {
    tns: String,
    qualified: bool,
}

fn read_top_element(
    r: &Reader<'_, '_>,
    model: &mut Model,
    ctx: &SchemaCtx,
    el: roxmltree::Node<'_, '_>,
) -> Result<(), SchemaError> {
    let name = el
        .attribute("name")
        .ok_or_else(|| r.err(el, "element without name"))?;
    if let Some(ty) = el.attribute("type") {
        let q = r.qname(el, ty)?;
        model.element_refs.push((q, name.to_owned()));
        return Ok(());
    }
    let inline = elements(el)
        .find(|c| is(*c, XSD, "complexType"))
        .ok_or_else(|| {
            r.err(
                el,
                format!("element {name} has neither a type nor an inline complexType"),
            )
        })?;
    let mut def = read_complex(r, ctx, inline, name)?;
    if let TypeDef::Struct(s) = &mut def {
        s.elements.push(name.to_owned());
    }
    model.types.push(def);
    Ok(())
}

impl Model {
    /// Attach element names to their types, mark extension hierarchies, check references.
    pub fn finish(&mut self) -> Result<(), SchemaError> {
        for (ty, el) in std::mem::take(&mut self.element_refs) {
            match self.types.iter_mut().find(|t| *t.name() == ty) {
                Some(TypeDef::Struct(s)) => s.elements.push(el),
                _ => {
                    return Err(SchemaError {
                        file: self.sources.join(", "),
                        line: 0,
                        message: format!("element {el} refers to unknown complex type {}", ty.name),
                    });
                }
            }
        }
        let bases: Vec<QName> = self
            .types
            .iter()
            .filter_map(|t| match t {
                TypeDef::Struct(s) => s.base.clone(),
                _ => None,
            })
            .collect();
        for t in &mut self.types {
            if let TypeDef::Struct(s) = t
                && (s.base.is_some() || bases.contains(&s.name))
            {
                s.polymorphic = true;
            }
        }
        let known: BTreeSet<QName> = self.types.iter().map(|t| t.name().clone()).collect();
        for t in &self.types {
            let refs: Vec<&FieldType> = match t {
                TypeDef::Struct(s) => s.fields.iter().map(|f| &f.ty).collect(),
                TypeDef::Array(a) => vec![&a.item],
                TypeDef::Enum(_) => vec![],
            };
            for r in refs {
                if let FieldType::Named(q) = r
                    && !known.contains(q)
                {
                    return Err(SchemaError {
                        file: self.sources.join(", "),
                        line: match t {
                            TypeDef::Struct(s) => s.line,
                            _ => 0,
                        },
                        message: format!(
                            "{} refers to unknown type {{{}}}{}",
                            t.name().name,
                            q.namespace,
                            q.name
                        ),
                    });
                }
            }
        }
        Ok(())
    }
}

fn field_type(
    r: &Reader<'_, '_>,
    node: roxmltree::Node<'_, '_>,
    ty: &str,
) -> Result<FieldType, SchemaError> {
    let q = r.qname(node, ty)?;
    if q.namespace == XSD || q.namespace == "http://microsoft.com/wsdl/types/" {
        return Builtin::from_local(&q.name)
            .map(FieldType::Builtin)
            .ok_or_else(|| r.err(node, format!("unsupported built-in type xs:{}", q.name)));
    }
    Ok(FieldType::Named(q))
}

fn read_fields(
    r: &Reader<'_, '_>,
    ctx: &SchemaCtx,
    group: roxmltree::Node<'_, '_>,
) -> Result<Vec<Field>, SchemaError> {
    let mut fields = Vec::new();
    for el in elements(group) {
        if !is(el, XSD, "element") {
            return Err(r.unsupported(el, "a sequence"));
        }
        let name = el
            .attribute("name")
            .ok_or_else(|| r.err(el, "element without name (ref= is not supported)"))?;
        let ty = el.attribute("type").ok_or_else(|| {
            r.err(
                el,
                format!("element {name} without type (inline types are not supported)"),
            )
        })?;
        let max = el.attribute("maxOccurs").unwrap_or("1");
        let min = el.attribute("minOccurs").unwrap_or("1");
        let occurs = if max == "unbounded" || max.parse::<u32>().is_ok_and(|m| m > 1) {
            Occurs::Many
        } else if min == "0" {
            Occurs::Optional
        } else {
            Occurs::Required
        };
        fields.push(Field {
            wire_name: name.to_owned(),
            namespace: ctx.qualified.then(|| ctx.tns.clone()),
            ty: field_type(r, el, ty)?,
            occurs,
            nillable: el.attribute("nillable") == Some("true"),
            attribute: false,
        });
    }
    Ok(fields)
}

/// `xs:attribute name=… type=… use=…` of a simple built-in type; unqualified, as
/// `attributeFormDefault` defaults to.
fn read_attribute(r: &Reader<'_, '_>, attr: roxmltree::Node<'_, '_>) -> Result<Field, SchemaError> {
    let name = attr.attribute("name").ok_or_else(|| {
        r.err(
            attr,
            "attribute without name (ref= is only supported in soapenc arrays)",
        )
    })?;
    let ty = match attr.attribute("type") {
        Some(t) => field_type(r, attr, t)?,
        None => FieldType::Builtin(Builtin::String),
    };
    if !matches!(ty, FieldType::Builtin(_)) {
        return Err(r.err(
            attr,
            format!("attribute {name}: only built-in simple types are supported"),
        ));
    }
    Ok(Field {
        wire_name: name.to_owned(),
        namespace: None,
        ty,
        occurs: if attr.attribute("use") == Some("required") {
            Occurs::Required
        } else {
            Occurs::Optional
        },
        nillable: false,
        attribute: true,
    })
}

fn read_complex(
    r: &Reader<'_, '_>,
    ctx: &SchemaCtx,
    ct: roxmltree::Node<'_, '_>,
    name: &str,
) -> Result<TypeDef, SchemaError> {
    let qname = QName {
        namespace: ctx.tns.clone(),
        name: name.to_owned(),
    };
    let mut def = StructDef {
        name: qname.clone(),
        fields: Vec::new(),
        base: None,
        polymorphic: false,
        elements: Vec::new(),
        line: r.line(ct),
    };
    for child in elements(ct) {
        match (child.tag_name().namespace(), child.tag_name().name()) {
            (Some(XSD), "sequence" | "all") => {
                let mut fields = read_fields(r, ctx, child)?;
                def.fields.append(&mut fields);
            }
            (Some(XSD), "attribute") => def.fields.push(read_attribute(r, child)?),
            (Some(XSD), "annotation") => {}
            (Some(XSD), "complexContent") => {
                let inner = elements(child)
                    .next()
                    .ok_or_else(|| r.err(child, "empty complexContent"))?;
                let base = inner
                    .attribute("base")
                    .ok_or_else(|| r.err(inner, "missing base"))?;
                let base = r.qname(inner, base)?;
                if is(inner, XSD, "extension") {
                    def.base = Some(base);
                    for g in elements(inner) {
                        if is(g, XSD, "sequence") || is(g, XSD, "all") {
                            def.fields = read_fields(r, ctx, g)?;
                        } else {
                            return Err(r.unsupported(g, "an extension"));
                        }
                    }
                } else if is(inner, XSD, "restriction")
                    && base.namespace == SOAP_ENC
                    && base.name == "Array"
                {
                    return read_array(r, qname, inner);
                } else {
                    return Err(r.unsupported(inner, "complexContent"));
                }
            }
            _ => return Err(r.unsupported(child, &format!("complexType {name}"))),
        }
    }
    Ok(TypeDef::Struct(def))
}

fn read_array(
    r: &Reader<'_, '_>,
    name: QName,
    restriction: roxmltree::Node<'_, '_>,
) -> Result<TypeDef, SchemaError> {
    let attr = elements(restriction)
        .find(|a| is(*a, XSD, "attribute"))
        .ok_or_else(|| {
            r.err(
                restriction,
                "soapenc:Array restriction without an arrayType attribute",
            )
        })?;
    let array_type = attr
        .attribute((WSDL, "arrayType"))
        .ok_or_else(|| r.err(attr, "missing wsdl:arrayType"))?;
    let item = array_type.trim_end_matches("[]");
    Ok(TypeDef::Array(ArrayDef {
        name,
        item: field_type(r, attr, item)?,
        item_wire_type: item.to_owned(),
    }))
}

fn read_simple(
    r: &Reader<'_, '_>,
    ctx: &SchemaCtx,
    st: roxmltree::Node<'_, '_>,
    name: &str,
) -> Result<TypeDef, SchemaError> {
    let restriction = elements(st)
        .find(|c| is(*c, XSD, "restriction"))
        .ok_or_else(|| {
            r.err(
                st,
                format!("simpleType {name}: only restrictions are supported"),
            )
        })?;
    let values: Vec<String> = elements(restriction)
        .map(|e| {
            if is(e, XSD, "enumeration") {
                e.attribute("value")
                    .map(str::to_owned)
                    .ok_or_else(|| r.err(e, "enumeration without value"))
            } else {
                Err(r.unsupported(e, &format!("simpleType {name}")))
            }
        })
        .collect::<Result<_, _>>()?;
    if values.is_empty() {
        return Err(r.err(
            st,
            format!("simpleType {name}: only string enumerations are supported"),
        ));
    }
    Ok(TypeDef::Enum(EnumDef {
        name: QName {
            namespace: ctx.tns.clone(),
            name: name.to_owned(),
        },
        values,
    }))
}

fn read_wsdl(
    r: &Reader<'_, '_>,
    model: &mut Model,
    defs: roxmltree::Node<'_, '_>,
) -> Result<(), SchemaError> {
    let mut messages: BTreeMap<String, Vec<(String, String, Option<FieldType>)>> = BTreeMap::new();
    let mut port_ops: Vec<(String, Option<String>, Option<String>)> = Vec::new();
    for child in elements(defs) {
        if child.tag_name().namespace() != Some(WSDL) {
            return Err(r.unsupported(child, "wsdl:definitions"));
        }
        match child.tag_name().name() {
            "types" => {
                for schema in elements(child) {
                    if !is(schema, XSD, "schema") {
                        return Err(r.unsupported(schema, "wsdl:types"));
                    }
                    read_schema(r, model, schema)?;
                }
            }
            "message" => {
                let name = child.attribute("name").unwrap_or_default().to_owned();
                let parts = elements(child)
                    .map(|p| {
                        let part = p.attribute("name").unwrap_or_default().to_owned();
                        if let Some(el) = p.attribute("element") {
                            Ok((part, el.rsplit(':').next().unwrap_or(el).to_owned(), None))
                        } else if let Some(ty) = p.attribute("type") {
                            Ok((part, ty.to_owned(), Some(field_type(r, p, ty)?)))
                        } else {
                            Err(r.err(p, "part without element or type"))
                        }
                    })
                    .collect::<Result<_, _>>()?;
                messages.insert(name, parts);
            }
            "portType" => {
                for op in elements(child) {
                    let name = op.attribute("name").unwrap_or_default().to_owned();
                    let msg = |dir: &str| {
                        elements(op)
                            .find(|c| is(*c, WSDL, dir))
                            .and_then(|c| c.attribute("message"))
                            .map(|m| m.rsplit(':').next().unwrap_or(m).to_owned())
                    };
                    port_ops.push((name, msg("input"), msg("output")));
                }
            }
            "binding" => read_binding(r, model, child)?,
            "service" | "documentation" => {}
            _ => return Err(r.unsupported(child, "wsdl:definitions")),
        }
    }
    for op in &mut model.operations {
        if let Some((_, input, output)) = port_ops.iter().find(|(n, _, _)| *n == op.name) {
            let parts = |m: &Option<String>| {
                m.as_ref()
                    .and_then(|m| messages.get(m))
                    .cloned()
                    .unwrap_or_default()
            };
            let (inp, out) = (parts(input), parts(output));
            op.input = inp.first().map(|p| p.1.clone());
            op.output = out.first().map(|p| p.1.clone());
            let typed = |ps: Vec<(String, String, Option<FieldType>)>| {
                ps.into_iter()
                    .filter_map(|(n, _, t)| t.map(|t| (n, t)))
                    .collect()
            };
            op.input_parts = typed(inp);
            op.output_parts = typed(out);
        }
    }
    Ok(())
}

fn read_binding(
    r: &Reader<'_, '_>,
    model: &mut Model,
    binding: roxmltree::Node<'_, '_>,
) -> Result<(), SchemaError> {
    let (soap_ns, version) = if elements(binding).any(|c| is(c, SOAP11, "binding")) {
        (SOAP11, "1.1")
    } else if elements(binding).any(|c| is(c, SOAP12, "binding")) {
        (SOAP12, "1.2")
    } else {
        return Err(r.err(binding, "binding without soap:binding or soap12:binding"));
    };
    let default_style = elements(binding)
        .find(|c| is(*c, soap_ns, "binding"))
        .and_then(|b| b.attribute("style"))
        .unwrap_or("document");
    for op in elements(binding).filter(|c| is(*c, WSDL, "operation")) {
        let name = op.attribute("name").unwrap_or_default();
        let soap_op = elements(op)
            .find(|c| is(*c, soap_ns, "operation"))
            .ok_or_else(|| r.err(op, format!("operation {name} without soap operation")))?;
        let action = soap_op
            .attribute("soapAction")
            .unwrap_or_default()
            .to_owned();
        let style = soap_op
            .attribute("style")
            .unwrap_or(default_style)
            .to_owned();
        let body = elements(op)
            .find(|c| is(*c, WSDL, "input"))
            .and_then(|i| elements(i).find(|c| is(*c, soap_ns, "body")));
        let use_ = body
            .and_then(|b| b.attribute("use"))
            .unwrap_or("literal")
            .to_owned();
        let namespace = body
            .and_then(|b| b.attribute("namespace"))
            .map(str::to_owned);
        if let Some(existing) = model.operations.iter_mut().find(|o| o.name == name) {
            if existing.soap_action != action {
                return Err(r.err(
                    soap_op,
                    format!("operation {name}: bindings disagree on soapAction"),
                ));
            }
            if !existing.versions.contains(&version) {
                existing.versions.push(version);
            }
        } else {
            model.operations.push(Operation {
                name: name.to_owned(),
                soap_action: action,
                style,
                use_,
                versions: vec![version],
                input: None,
                output: None,
                namespace,
                input_parts: Vec::new(),
                output_parts: Vec::new(),
            });
        }
    }
    Ok(())
}
