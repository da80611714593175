//! The model to Rust source: yaserde structs and enums, SOAPAction constants.

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

use crate::names::{camel, screaming, snake};
use crate::schema::{
    ArrayDef, Builtin, EnumDef, FieldType, Model, Occurs, QName, SchemaError, StructDef, TypeDef,
};

const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

fn ident(s: &str) -> Ident {
    Ident::new(s, Span::call_site())
}

/// Prefixes: the primary namespace is `tns` (and the default namespace), others `ns1`, `ns2`…
/// in order of first use; `SOAP-ENC` and `xsi` are fixed.
struct Prefixes {
    primary: String,
    map: BTreeMap<String, String>,
}

impl Prefixes {
    fn new(model: &Model) -> Self {
        let primary = model.primary_namespace.clone().unwrap_or_default();
        let mut map = BTreeMap::new();
        map.insert(primary.clone(), "tns".to_owned());
        let mut n = 0;
        let field_namespaces = model.types.iter().flat_map(|t| match t {
            TypeDef::Struct(s) => s
                .fields
                .iter()
                .filter_map(|f| f.namespace.as_ref())
                .collect(),
            _ => Vec::new(),
        });
        for ns in model
            .types
            .iter()
            .map(|t| &t.name().namespace)
            .chain(field_namespaces)
        {
            if !map.contains_key(ns) {
                n += 1;
                map.insert(ns.clone(), format!("ns{n}"));
            }
        }
        Self { primary, map }
    }

    fn of(&self, ns: &str) -> &str {
        self.map.get(ns).map_or("tns", String::as_str)
    }
}

/// What a provider's `codegen.manifest` asks of the generated types beyond the schema.
///
/// Type and field names are the wire names (`cDataRecordIPN`, `custopmerIP`); a name that
/// is not in the schema is an error, so a typo never goes unnoticed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Options {
    /// Types that also derive serde (`Serialize`, `Deserialize`, unknown fields refused), so
    /// that the generated type can be the SDK's own record in JSON as well as on the wire.
    pub serde: BTreeSet<String>,
    /// `(type, field) → Rust name` where the wire name makes a poor Rust (and JSON) name.
    pub field_names: BTreeMap<(String, String), String>,
    /// `(type, field)` never read from or written to JSON (`#[serde(skip)]`).
    pub serde_skip: BTreeSet<(String, String)>,
}

impl Options {
    /// Every type and field named here exists in `model` (as a struct type and its own field),
    /// and every serde type's named field types derive serde too.
    fn check(&self, model: &Model) -> Result<(), SchemaError> {
        let error = |message: String| model.error(0, message);
        let find = |ty: &str| {
            model.types.iter().find_map(|t| match t {
                TypeDef::Struct(s) if s.name.name == ty => Some(s),
                _ => None,
            })
        };
        if model.encoded() && !self.serde.is_empty() {
            return Err(error(
                "codegen.manifest: `serde` is for document/literal types, not rpc/encoded ones"
                    .into(),
            ));
        }
        if let Some((ty, _)) = self
            .serde_skip
            .iter()
            .find(|(ty, _)| !self.serde.contains(ty))
        {
            return Err(error(format!(
                "codegen.manifest: `serde_skip` on `{ty}`, which does not derive serde (add `serde = {ty}`)"
            )));
        }
        if let Some(bad) = self
            .field_names
            .values()
            .find(|n| syn::parse_str::<Ident>(n).is_err())
        {
            return Err(error(format!(
                "codegen.manifest: `{bad}` is not a Rust field name"
            )));
        }
        let fields = self.field_names.keys().chain(&self.serde_skip);
        for (ty, field) in fields {
            let s = find(ty).ok_or_else(|| error(format!("codegen.manifest: no type `{ty}`")))?;
            if !s.fields.iter().any(|f| f.wire_name == *field) {
                return Err(error(format!(
                    "codegen.manifest: `{ty}` has no field `{field}`"
                )));
            }
        }
        for ty in &self.serde {
            let s = find(ty).ok_or_else(|| error(format!("codegen.manifest: no type `{ty}`")))?;
            for f in &s.fields {
                if let FieldType::Named(q) = &f.ty
                    && !self.serde.contains(&q.name)
                    && !self.serde_skip.contains(&(ty.clone(), f.wire_name.clone()))
                {
                    return Err(error(format!(
                        "codegen.manifest: `{ty}` derives serde, so its field type `{}` must too (add `serde = {}`)",
                        q.name, q.name
                    )));
                }
            }
        }
        Ok(())
    }

    fn skips(&self, ty: &str, wire: &str) -> bool {
        self.serde_skip.contains(&(ty.to_owned(), wire.to_owned()))
    }

    fn rust_field_name(&self, ty: &str, wire: &str) -> String {
        self.field_names
            .get(&(ty.to_owned(), wire.to_owned()))
            .cloned()
            .unwrap_or_else(|| snake(wire))
    }
}

struct Emitter<'a> {
    model: &'a Model,
    options: &'a Options,
    prefixes: Prefixes,
    by_name: BTreeMap<&'a QName, &'a TypeDef>,
    /// rpc/encoded: scalars are typed encoded values, every field optional, every struct
    /// carries `xsi:type` and `xsi:nil`.
    encoded: bool,
}

/// Generate the module source for one provider. `header` is the module doc text.
pub fn emit(model: &Model, header: &str, options: &Options) -> Result<String, SchemaError> {
    options.check(model)?;
    let by_name = model.types.iter().map(|t| (t.name(), t)).collect();
    let e = Emitter {
        model,
        options,
        prefixes: Prefixes::new(model),
        by_name,
        encoded: model.encoded(),
    };
    let mut seen = BTreeMap::new();
    for t in &model.types {
        if let Some(other) = seen.insert(camel(&t.name().name), t.name()) {
            return Err(model.error(
                0,
                format!(
                    "types {{{}}}{} and {{{}}}{} both become `{}` in Rust",
                    other.namespace,
                    other.name,
                    t.name().namespace,
                    t.name().name,
                    camel(&t.name().name)
                ),
            ));
        }
    }
    let mut items = Vec::new();
    for op in &model.operations {
        let name = ident(&format!("{}_ACTION", screaming(&op.name)));
        let action = &op.soap_action;
        let doc = format!(
            " SOAPAction of `{}` ({}/{}, SOAP {}; input `{}`, output `{}`).",
            op.name,
            op.style,
            op.use_,
            op.versions.join(" and "),
            op.input.as_deref().unwrap_or("-"),
            op.output.as_deref().unwrap_or("-"),
        );
        let quoted = format!("\"{action}\"");
        let soap12 = format!("application/soap+xml; charset=utf-8; action=\"{action}\"");
        items.push(quote! {
            #[doc = #doc]
            pub const #name: paybridge_core::soap::Action =
                paybridge_core::soap::Action::new(#action, #quoted, #soap12);
        });
    }
    for op in model.operations.iter().filter(|o| o.style == "rpc") {
        items.extend(e.rpc_wrappers(op));
    }
    for t in &model.types {
        items.push(match t {
            TypeDef::Struct(s) => e.structure(s)?,
            TypeDef::Enum(en) => Emitter::enumeration(&e.prefixes, en),
            TypeDef::Array(a) => e.array(a),
        });
    }
    let file = quote! {
        use yaserde::{YaDeserialize, YaSerialize};
        #(#items)*
    };
    let parsed: syn::File = syn::parse2(file)
        .map_err(|err| model.error(0, format!("generated code does not parse: {err}")))?;
    let body = prettyplease::unparse(&parsed);
    let doc: String = header
        .lines()
        .map(|l| {
            if l.is_empty() {
                "//!\n".to_owned()
            } else {
                format!("//! {l}\n")
            }
        })
        .collect();
    Ok(format!("{doc}\n{body}"))
}

/// A generated struct's derives: yaserde always, serde where the manifest asks for it.
fn struct_derives(serde: bool) -> TokenStream {
    if serde {
        quote! {
            #[derive(Debug, Default, Clone, PartialEq, YaSerialize, YaDeserialize, serde::Serialize, serde::Deserialize)]
            #[serde(deny_unknown_fields)]
        }
    } else {
        quote!(#[derive(Debug, Default, Clone, PartialEq, YaSerialize, YaDeserialize)])
    }
}

/// The Rust type for a field type; `encoded` scalars are typed rpc/encoded values.
fn type_tokens(ty: &FieldType, encoded: bool) -> TokenStream {
    if encoded && let FieldType::Builtin(b) = ty {
        return match b {
            Builtin::String => quote!(paybridge_core::soap::encoded::EncString),
            Builtin::Boolean => quote!(paybridge_core::soap::encoded::EncBool),
            Builtin::Decimal => quote!(paybridge_core::soap::encoded::EncDecimal),
            Builtin::Int
            | Builtin::Long
            | Builtin::Short
            | Builtin::Byte
            | Builtin::UnsignedInt
            | Builtin::UnsignedLong => quote!(paybridge_core::soap::encoded::EncInt),
        };
    }
    match ty {
        FieldType::Builtin(b) => match b {
            Builtin::String => quote!(String),
            Builtin::Boolean => quote!(bool),
            Builtin::Int => quote!(i32),
            Builtin::Long => quote!(i64),
            Builtin::Short => quote!(i16),
            Builtin::Byte => quote!(i8),
            Builtin::UnsignedInt => quote!(u32),
            Builtin::UnsignedLong => quote!(u64),
            Builtin::Decimal => quote!(paybridge_core::xml::XsdDecimal),
        },
        FieldType::Named(q) => {
            let id = ident(&camel(&q.name));
            quote!(#id)
        }
    }
}

impl Emitter<'_> {
    fn rust_type(&self, ty: &FieldType) -> TokenStream {
        type_tokens(ty, self.encoded)
    }

    fn wire_type_name(ty: &FieldType) -> String {
        match ty {
            FieldType::Builtin(b) => format!("{b:?}").to_lowercase(),
            FieldType::Named(q) => q.name.clone(),
        }
    }

    /// Fields of the whole extension chain, base first.
    fn all_fields<'s>(
        &'s self,
        s: &'s StructDef,
    ) -> Result<Vec<&'s crate::schema::Field>, SchemaError> {
        let mut chain = vec![s];
        let mut current = s;
        while let Some(base) = &current.base {
            match self.by_name.get(base) {
                Some(TypeDef::Struct(b)) if !chain.iter().any(|c| c.name == b.name) => {
                    chain.push(b);
                    current = b;
                }
                _ => {
                    return Err(self.model.error(
                        s.line,
                        format!(
                            "{}: base {} is not a complex type (or is circular)",
                            s.name.name, base.name
                        ),
                    ));
                }
            }
        }
        Ok(chain.iter().rev().flat_map(|c| c.fields.iter()).collect())
    }

    /// The struct's `#[yaserde(...)]` attribute: name, prefix, namespace declarations.
    fn container(&self, s: &StructDef) -> Result<TokenStream, SchemaError> {
        let wire = s.elements.first().unwrap_or(&s.name.name);
        let prefix = self.prefixes.of(&s.name.namespace);
        let ns = &s.name.namespace;
        // Declare the struct's own prefix, its fields' prefixes and, for a hierarchy, `xsi`.
        let mut declared: BTreeMap<&str, &str> = BTreeMap::new();
        declared.insert(prefix, ns.as_str());
        for f in self.all_fields(s)? {
            if let Some(fns) = &f.namespace {
                declared.insert(self.prefixes.of(fns), fns.as_str());
            }
        }
        if s.polymorphic {
            declared.insert("xsi", XSI);
        }
        let decls = declared.iter().map(|(p, u)| quote!(#p = #u));
        let unqualified = s
            .fields
            .iter()
            .filter(|f| !f.attribute)
            .all(|f| f.namespace.is_none())
            && s.fields.iter().any(|f| !f.attribute)
            && s.base.is_none();
        Ok(if self.encoded || unqualified {
            quote!(#[yaserde(rename = #wire, namespaces = { "xsi" = #XSI })])
        } else if *ns == self.prefixes.primary {
            quote!(#[yaserde(rename = #wire, prefix = #prefix, default_namespace = #prefix, namespaces = { #(#decls),* })])
        } else {
            quote!(#[yaserde(rename = #wire, prefix = #prefix, namespaces = { #(#decls),* })])
        })
    }

    fn structure(&self, s: &StructDef) -> Result<TokenStream, SchemaError> {
        let name = ident(&camel(&s.name.name));
        let container = self.container(s)?;
        let mut fields = Vec::new();
        if self.encoded {
            fields.push(quote! {
                #[doc = " `xsi:type`, e.g. `ns1:CoreLoginRequest`."]
                #[yaserde(attribute = true, prefix = "xsi", rename = "type")]
                pub xsi_type: Option<paybridge_core::soap::encoded::XsiType>,
                #[doc = " `xsi:nil`: PHP answers errors with a nil `response`."]
                #[yaserde(attribute = true, prefix = "xsi", rename = "nil")]
                pub xsi_nil: Option<String>,
            });
        } else if s.polymorphic {
            fields.push(quote! {
                #[doc = " `xsi:type`: names the concrete type where a base type is expected."]
                #[yaserde(attribute = true, prefix = "xsi", rename = "type")]
                pub xsi_type: Option<String>,
            });
        }
        let mut codec = EncodedCodec::default();
        if self.encoded {
            let known = format!("ns1:{}", s.name.name);
            codec.decoded_attribute("xsi_type", quote!(enc::xsi_type(node, #known)), "xsi:type");
            codec.attribute("xsi_nil", &quote!(enc::ns::XSI), "nil", "xsi:nil");
        }
        let mut rust_names = BTreeMap::new();
        let serde = self.options.serde.contains(&s.name.name);
        for f in self.all_fields(s)? {
            let fname = self.options.rust_field_name(&s.name.name, &f.wire_name);
            if let Some(prev) = rust_names.insert(fname.clone(), f.wire_name.clone()) {
                return Err(self.model.error(
                    s.line,
                    format!(
                        "{}: fields {prev} and {} both become `{fname}`",
                        s.name.name, f.wire_name
                    ),
                ));
            }
            let fid = ident(&fname);
            // Attribute values are plain text even in rpc/encoded services.
            let inner = type_tokens(&f.ty, self.encoded && !f.attribute);
            let (ty, occurs) = match (f.occurs, f.nillable) {
                (Occurs::Many, _) => (quote!(Vec<#inner>), "repeated"),
                (_, _) if self.encoded => {
                    (quote!(Option<#inner>), "rpc/encoded, may be absent or nil")
                }
                (Occurs::Optional, _) => (quote!(Option<#inner>), "optional"),
                (Occurs::Required, true) => (quote!(Option<#inner>), "required, nillable"),
                (Occurs::Required, false) => (inner, "required"),
            };
            let wire_name = &f.wire_name;
            let doc = format!(
                " `{}` (`{}`, {occurs}).",
                f.wire_name,
                Self::wire_type_name(&f.ty)
            );
            let attr = if f.attribute {
                quote!(#[yaserde(attribute = true, rename = #wire_name)])
            } else if let Some(fns) = &f.namespace {
                let p = self.prefixes.of(fns);
                quote!(#[yaserde(rename = #wire_name, prefix = #p)])
            } else {
                quote!(#[yaserde(rename = #wire_name)])
            };
            let serde_attr = if serde && self.options.skips(&s.name.name, &f.wire_name) {
                quote!(#[serde(skip)])
            } else {
                TokenStream::new()
            };
            fields.push(quote! { #[doc = #doc] #attr #serde_attr pub #fid: #ty, });
            if self.encoded {
                self.encoded_field(s, f, &fname, &mut codec)?;
            }
        }
        let mut doc = format!(" `{}` in `{}`.", s.name.name, s.name.namespace);
        if serde {
            doc.push_str(
                " Also JSON (serde): keys are the Rust field names, unknown keys refused.",
            );
        }
        let codec = if self.encoded {
            codec.element_impls(&name)
        } else {
            TokenStream::new()
        };
        let derives = struct_derives(serde);
        Ok(quote! {
            #[doc = #doc]
            #derives
            #container
            pub struct #name { #(#fields)* }
            #codec
        })
    }

    /// An rpc/encoded field in the direct codec. Only what PHP's SoapServer uses is
    /// supported: unqualified child elements and unqualified string attributes.
    fn encoded_field(
        &self,
        s: &StructDef,
        f: &crate::schema::Field,
        fname: &str,
        codec: &mut EncodedCodec,
    ) -> Result<(), SchemaError> {
        let unsupported = |what: &str| {
            self.model.error(
                s.line,
                format!(
                    "{}: {what} `{}` in an rpc/encoded type",
                    s.name.name, f.wire_name
                ),
            )
        };
        if f.namespace.is_some() {
            return Err(unsupported("qualified field"));
        }
        if f.attribute {
            if f.ty != FieldType::Builtin(Builtin::String) {
                return Err(unsupported("non-string attribute"));
            }
            codec.attribute(fname, &quote!(None), &f.wire_name, &f.wire_name);
        } else {
            codec.child(fname, &f.wire_name, f.occurs == Occurs::Many);
        }
        Ok(())
    }

    /// rpc style: the operation element (`<tns:op>` with the input parts) and the response
    /// element (`<tns:opResponse>` with the output parts), parts unqualified.
    fn rpc_wrappers(&self, op: &crate::schema::Operation) -> Vec<TokenStream> {
        let ns = op
            .namespace
            .clone()
            .unwrap_or_else(|| self.prefixes.primary.clone());
        let env = "http://schemas.xmlsoap.org/soap/envelope/";
        let wrapper = |wire: String, rust: String, parts: &[(String, FieldType)], doc: String| {
            let name = ident(&rust);
            let fields = parts.iter().map(|(part, ty)| {
                let fid = ident(&snake(part));
                let t = self.rust_type(ty);
                let doc = format!(" Part `{part}` (`{}`).", Self::wire_type_name(ty));
                quote! { #[doc = #doc] #[yaserde(rename = #part)] pub #fid: Option<#t>, }
            });
            let mut codec = EncodedCodec::default();
            codec.decoded_attribute(
                "encoding_style",
                quote!(enc::encoding_style(node)),
                "SOAP-ENV:encodingStyle",
            );
            for (part, _) in parts {
                codec.child(&snake(part), part, false);
            }
            let codec = if self.encoded {
                codec.rpc_impls(&name, &wire, &ns)
            } else {
                TokenStream::new()
            };
            quote! {
                #[doc = #doc]
                #[derive(Debug, Default, Clone, PartialEq, YaSerialize, YaDeserialize)]
                #[yaserde(rename = #wire, prefix = "tns", namespaces = { "tns" = #ns, "SOAP-ENV" = #env })]
                pub struct #name {
                    #[doc = " `SOAP-ENV:encodingStyle` on the operation element."]
                    #[yaserde(attribute = true, prefix = "SOAP-ENV", rename = "encodingStyle")]
                    pub encoding_style: Option<paybridge_core::soap::encoded::EncodingStyle>,
                    #(#fields)*
                }
                #codec
            }
        };
        vec![
            wrapper(
                op.name.clone(),
                format!("{}Rpc", camel(&op.name)),
                &op.input_parts,
                format!(" rpc request element of `{}`.", op.name),
            ),
            wrapper(
                format!("{}Response", op.name),
                format!("{}RpcResponse", camel(&op.name)),
                &op.output_parts,
                format!(" rpc response element of `{}`.", op.name),
            ),
        ]
    }

    fn enumeration(prefixes: &Prefixes, e: &EnumDef) -> TokenStream {
        let name = ident(&camel(&e.name.name));
        let variants = e.values.iter().map(|v| {
            let id = ident(&camel(v));
            let doc = format!(" `{v}`");
            quote! { #[doc = #doc] #[yaserde(rename = #v)] #id, }
        });
        // yaserde decodes text it does not know as the default variant: make that default a
        // variant of its own, so an undocumented value never reads as a documented one.
        let undocumented = quote! {
            #[doc = " A value the schema does not list (what yaserde decodes unknown text as)."]
            #[default]
            #[yaserde(rename = "__undocumented__")]
            Undocumented,
        };
        let doc = format!(
            " `{}` in `{}`: one of {}.",
            e.name.name,
            e.name.namespace,
            e.values
                .iter()
                .map(|v| format!("`{v}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let wire = &e.name.name;
        let ns = &e.name.namespace;
        let prefix = prefixes.of(ns);
        let container = if *ns == prefixes.primary {
            quote!(#[yaserde(rename = #wire, prefix = #prefix, default_namespace = #prefix, namespaces = { #prefix = #ns })])
        } else {
            quote!(#[yaserde(rename = #wire, prefix = #prefix, namespaces = { #prefix = #ns })])
        };
        quote! {
            #[doc = #doc]
            #[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Hash, YaSerialize, YaDeserialize)]
            #container
            pub enum #name { #(#variants)* #undocumented }
        }
    }

    fn array(&self, a: &ArrayDef) -> TokenStream {
        let name = ident(&camel(&a.name.name));
        let item = self.rust_type(&a.item);
        let wire = &a.name.name;
        let doc = format!(
            " `{}`: SOAP-encoded array of `{}`.",
            a.name.name, a.item_wire_type
        );
        let enc = crate::schema::SOAP_ENC;
        let mut codec = EncodedCodec::default();
        codec.attribute(
            "array_type",
            &quote!(enc::ns::SOAP_ENC),
            "arrayType",
            "SOAP-ENC:arrayType",
        );
        let known = format!("ns1:{}", a.name.name);
        codec.decoded_attribute("xsi_type", quote!(enc::xsi_type(node, #known)), "xsi:type");
        codec.child("items", "item", true);
        let codec = if self.encoded {
            codec.element_impls(&name)
        } else {
            TokenStream::new()
        };
        quote! {
            #[doc = #doc]
            #[derive(Debug, Default, Clone, PartialEq, YaSerialize, YaDeserialize)]
            #[yaserde(rename = #wire, namespaces = { "SOAP-ENC" = #enc, "xsi" = #XSI })]
            pub struct #name {
                #[doc = " `SOAP-ENC:arrayType`, e.g. `xsd:string[2]`."]
                #[yaserde(attribute = true, prefix = "SOAP-ENC", rename = "arrayType")]
                pub array_type: Option<String>,
                #[doc = " `xsi:type` of the array."]
                #[yaserde(attribute = true, prefix = "xsi", rename = "type")]
                pub xsi_type: Option<paybridge_core::soap::encoded::XsiType>,
                #[doc = " The `item` elements."]
                #[yaserde(rename = "item")]
                pub items: Vec<#item>,
            }
            #codec
        }
    }
}

/// The direct rpc/encoded codec of one generated type: `DecodeNode` over a parsed element
/// and `EncodeXml` straight into a string, next to yaserde's derives. Clients use it (one
/// parse per answer, no intermediate DOM on the way out); simulators keep yaserde, so each
/// direction is checked against an independent implementation.
#[derive(Default)]
struct EncodedCodec {
    /// Field, how it is read (tokens), qualified name written.
    attributes: Vec<(Ident, TokenStream, String)>,
    /// Field, element name, repeated.
    children: Vec<(Ident, String, bool)>,
}

impl EncodedCodec {
    fn attribute(&mut self, field: &str, namespace: &TokenStream, local: &str, written: &str) {
        self.decoded_attribute(
            field,
            quote!(enc::attribute(node, #namespace, #local)),
            written,
        );
    }

    /// An attribute read by `decode` (an expression over `node`).
    fn decoded_attribute(&mut self, field: &str, decode: TokenStream, written: &str) {
        self.attributes
            .push((ident(field), decode, written.to_owned()));
    }

    fn child(&mut self, field: &str, wire: &str, many: bool) {
        self.children.push((ident(field), wire.to_owned(), many));
    }

    fn decode_body(&self) -> TokenStream {
        let attrs = self
            .attributes
            .iter()
            .map(|(fid, decode, _)| quote! { #fid: #decode, });
        if self.children.is_empty() {
            return quote! { Ok(Self { #(#attrs)* }) };
        }
        let statement = |fid: &Ident, many: bool| {
            if many {
                quote! { out.#fid.push(enc::DecodeNode::decode_node(child)?); }
            } else {
                quote! { enc::decode_into(&mut out.#fid, child)?; }
            }
        };
        let dispatch = if let [(fid, wire, many)] = self.children.as_slice() {
            let statement = statement(fid, *many);
            quote! { if child.tag_name().name() == #wire { #statement } }
        } else {
            let arms = self.children.iter().map(|(fid, wire, many)| {
                let statement = statement(fid, *many);
                quote! { #wire => { #statement } }
            });
            quote! {
                match child.tag_name().name() {
                    #(#arms)*
                    _ => {}
                }
            }
        };
        quote! {
            let mut out = Self { #(#attrs)* ..Self::default() };
            for child in enc::elements(node) {
                #dispatch
            }
            Ok(out)
        }
    }

    fn encode_children(&self) -> TokenStream {
        let children = self.children.iter().map(|(fid, wire, many)| {
            if *many {
                quote! { for v in &self.#fid { enc::EncodeXml::encode_xml(v, #wire, out); } }
            } else {
                quote! { enc::encode_opt(self.#fid.as_ref(), #wire, out); }
            }
        });
        quote! { #(#children)* }
    }

    fn decode_impl(&self, name: &Ident) -> TokenStream {
        let body = self.decode_body();
        quote! {
            impl paybridge_core::soap::encoded::DecodeNode for #name {
                fn decode_node(node: paybridge_core::soap::encoded::Node<'_, '_>) -> paybridge_core::Result<Self> {
                    use paybridge_core::soap::encoded as enc;
                    #body
                }
            }
        }
    }

    /// A type used as a field or an array item.
    fn element_impls(&self, name: &Ident) -> TokenStream {
        let decode = self.decode_impl(name);
        let attrs = self.attributes.iter().map(|(fid, _, written)| {
            quote! { (#written, self.#fid.as_deref()), }
        });
        let children = self.encode_children();
        quote! {
            #decode
            impl paybridge_core::soap::encoded::EncodeXml for #name {
                fn encode_xml(&self, tag: &str, out: &mut String) {
                    use paybridge_core::soap::encoded as enc;
                    enc::start_tag(out, tag, &[#(#attrs)*]);
                    #children
                    enc::end_tag(out, tag);
                }
            }
        }
    }

    /// An operation's request or response element.
    fn rpc_impls(&self, name: &Ident, wire: &str, namespace: &str) -> TokenStream {
        let decode = self.decode_impl(name);
        let tag = format!("tns:{wire}");
        let children = self.encode_children();
        quote! {
            #decode
            impl paybridge_core::soap::encoded::RpcElement for #name {
                const NAME: &'static str = #wire;
                const NAMESPACE: &'static str = #namespace;
                fn encode_element(&self, out: &mut String) {
                    use paybridge_core::soap::encoded as enc;
                    enc::start_rpc_element(out, #tag, Self::NAMESPACE, self.encoding_style.as_deref());
                    #children
                    enc::end_tag(out, #tag);
                }
            }
        }
    }
}
