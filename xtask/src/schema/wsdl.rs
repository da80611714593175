//! WSDL 1.1: messages, port types, SOAP 1.1/1.2 bindings.

use std::collections::BTreeMap;

use super::model::{
    FieldType, Model, Operation, Reader, SOAP11, SOAP12, SchemaError, WSDL, XSD, elements, is,
};
use super::xsd::field_type;
use super::xsd::read_schema;

pub(super) fn read_wsdl(
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

pub(super) fn read_binding(
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
