//! Types inferred from an XML sample document (a provider that publishes no schema).

use super::model::{
    Builtin, Field, FieldType, Model, Occurs, QName, Reader, SchemaError, StructDef, TypeDef,
    elements,
};

/// Infer types from an XML sample document (for providers that publish samples, not schemas):
/// an element with child elements is a struct named after it; a leaf is an optional string
/// (sample values are placeholders, so no narrower type is inferred); a child repeated under
/// one parent is a `Vec`; namespaces are the document's. An element name seen in several
/// places is one type whose fields are the union, in first-seen order. Attributes other than
/// namespace declarations and `xsi:*` are not supported (an error).
pub(super) fn read_sample(
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

pub(super) fn infer_struct(
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
