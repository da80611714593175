//! The WSDL the simulator serves — the very file the crate's wire types are generated from
//! (`schemas/woopay/XmlController.wsdl`, copied by `cargo xtask codegen`) with the
//! simulator's own address — and what the simulator reads from it: each operation's request
//! part (to bind a positional `param0` as PHP's `SoapServer` does) and return type.

use std::collections::HashMap;

/// The WSDL, as generated code ships it.
pub const WSDL: &str = include_str!("../generated/XmlController.wsdl");

/// The production address the WSDL is written with; the simulator serves its own instead.
pub const PRODUCTION_ADDRESS: &str = "https://www.wooppay.com/api/wsd/";

/// The WSDL with `base` (e.g. `http://127.0.0.1:8080`) as the service's address.
#[must_use]
pub fn served(base: &str) -> String {
    WSDL.replace(
        &format!("location=\"{PRODUCTION_ADDRESS}\""),
        &format!("location=\"{base}{}\"", super::ENDPOINT_PATH),
    )
}

/// One operation of the WSDL: its request part's name and its answer's type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct OpShape {
    pub(super) part: String,
    pub(super) return_type: String,
}

/// Every operation of the WSDL (`None`: the shipped WSDL does not parse, a build defect the
/// tests catch).
pub(super) fn operations() -> Option<HashMap<String, OpShape>> {
    let doc = paybridge_core::xml::parse(WSDL).ok()?;
    let messages: HashMap<&str, (&str, &str)> = doc
        .descendants()
        .filter(|n| n.has_tag_name((WSDL_NS, "message")))
        .filter_map(|m| {
            let part = m.children().find(|c| c.has_tag_name((WSDL_NS, "part")))?;
            Some((
                m.attribute("name")?,
                (part.attribute("name")?, part.attribute("type")?),
            ))
        })
        .collect();
    let port = doc
        .descendants()
        .find(|n| n.has_tag_name((WSDL_NS, "portType")))?;
    port.children()
        .filter(|n| n.has_tag_name((WSDL_NS, "operation")))
        .map(|op| {
            let name = op.attribute("name")?;
            let message = |tag: &str| {
                op.children()
                    .find(|c| c.has_tag_name((WSDL_NS, tag)))
                    .and_then(|c| c.attribute("message"))
                    .map(|m| m.trim_start_matches("tns:"))
                    .and_then(|m| messages.get(m))
            };
            let (input_part, _) = message("input")?;
            let (_, return_type) = message("output")?;
            Some((
                name.to_owned(),
                OpShape {
                    part: (*input_part).to_owned(),
                    return_type: return_type.trim_start_matches("tns:").to_owned(),
                },
            ))
        })
        .collect()
}

const WSDL_NS: &str = "http://schemas.xmlsoap.org/wsdl/";

/// `body` (an rpc operation element) with a positional part (`param0`, what PHP's
/// `SoapClient` writes without a WSDL) renamed to `part`, as PHP's `SoapServer` binds
/// parameters by position when their names do not match. Anything else comes back as it was.
pub(super) fn bind_positional(body: &str, part: &str) -> Option<String> {
    let doc = paybridge_core::xml::parse(body).ok()?;
    let first = doc
        .root_element()
        .children()
        .find(roxmltree::Node::is_element)?;
    let name = first.tag_name().name();
    if first.tag_name().namespace().is_some() || name != "param0" {
        return None;
    }
    let range = first.range();
    let element = body.get(range.clone())?;
    let after_name = element.strip_prefix("<param0")?;
    let renamed = match after_name.strip_suffix("</param0>") {
        Some(inner) => format!("<{part}{inner}</{part}>"),
        None => format!("<{part}{after_name}"),
    };
    Some(format!(
        "{}{renamed}{}",
        body.get(..range.start)?,
        body.get(range.end..)?
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_has_a_part_and_a_return_type() {
        let ops = operations().expect("the shipped WSDL parses");
        assert_eq!(ops.len(), 20);
        assert_eq!(
            ops.get("cash_paymentReturn"),
            Some(&OpShape {
                part: "cashReturnRequest".into(),
                return_type: "CashReturnResponse".into()
            })
        );
    }

    #[test]
    fn a_positional_part_is_bound_by_position() {
        let body = r#"<ns1:cash_decline xmlns:ns1="urn:XmlControllerwsdl"><param0 a="1"><operationId>7</operationId></param0></ns1:cash_decline>"#;
        assert_eq!(
            bind_positional(body, "cashDeclineRequest").as_deref(),
            Some(
                r#"<ns1:cash_decline xmlns:ns1="urn:XmlControllerwsdl"><cashDeclineRequest a="1"><operationId>7</operationId></cashDeclineRequest></ns1:cash_decline>"#
            )
        );
        let empty =
            r#"<ns1:core_logout xmlns:ns1="urn:XmlControllerwsdl"><param0/></ns1:core_logout>"#;
        assert_eq!(
            bind_positional(empty, "coreLogoutRequest").as_deref(),
            Some(
                r#"<ns1:core_logout xmlns:ns1="urn:XmlControllerwsdl"><coreLogoutRequest/></ns1:core_logout>"#
            )
        );
        let named = r#"<ns1:cash_decline xmlns:ns1="urn:XmlControllerwsdl"><cashDeclineRequest/></ns1:cash_decline>"#;
        assert_eq!(bind_positional(named, "cashDeclineRequest"), None);
    }

    #[test]
    fn the_served_wsdl_has_the_simulators_address() {
        let w = served("http://127.0.0.1:9");
        assert!(w.contains(r#"location="http://127.0.0.1:9/api/wsd/""#));
        assert!(!w.contains(PRODUCTION_ADDRESS));
    }
}
