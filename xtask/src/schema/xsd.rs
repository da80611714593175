//! XSD: schemas, elements, complex, array and simple types.

use std::collections::BTreeSet;

use super::model::{
    ArrayDef, Builtin, EnumDef, Field, FieldType, Model, Occurs, QName, Reader, SOAP_ENC,
    SchemaError, StructDef, TypeDef, WSDL, XSD, elements, is,
};

pub(super) fn read_schema(
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

pub(super) struct SchemaCtx {
    tns: String,
    qualified: bool,
}

pub(super) fn read_top_element(
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

pub(super) fn field_type(
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

pub(super) fn read_fields(
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
pub(super) fn read_attribute(
    r: &Reader<'_, '_>,
    attr: roxmltree::Node<'_, '_>,
) -> Result<Field, SchemaError> {
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

pub(super) fn read_complex(
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

pub(super) fn read_array(
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

pub(super) fn read_simple(
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
