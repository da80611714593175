//! Safe XML reading shared by the SOAP layer and callback parsers, and a structural
//! comparison for tests.
//!
//! Documents with a DTD are refused (roxmltree's default): no entity is ever expanded, so
//! "billion laughs" and external-entity documents fail fast.

// The codegen runtime: what generated code and the SOAP layer need, not the payment API
// (serde's `__private` convention: public for other paybridge crates, out of the docs).
#[doc(hidden)]
pub mod compact;
mod scan;

use std::fmt::Write as _;
use std::str::FromStr;

use rust_decimal::Decimal;

use crate::limits::Limits;
use crate::{Error, Result};

/// An `xsd:decimal`, `xsd:float` or `xsd:double` on the wire, held exactly as a [`Decimal`].
///
/// Parsing takes the wire text exactly (`100`, `100.50`, `-0.5`); exponent forms that PHP and
/// .NET emit for floats (`1.0E+2`) are read as the exact decimal they denote. Serialization
/// writes the shortest plain decimal (`100.5`, never an exponent). Generated types use this
/// for every such field, so no amount ever passes through `f64`.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, yaserde::DefaultYaSerde,
)]
pub struct XsdDecimal(pub Decimal);

impl FromStr for XsdDecimal {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let t = s.trim();
        Decimal::from_str_exact(t)
            .or_else(|_| Decimal::from_scientific(t))
            .map(|d| Self(d.normalize()))
            .map_err(|_| Error::decode(format!("not a decimal number: {s:?}")))
    }
}

impl std::fmt::Display for XsdDecimal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0.normalize())
    }
}

impl From<Decimal> for XsdDecimal {
    fn from(d: Decimal) -> Self {
        Self(d)
    }
}

/// JSON (for generated types that are also the SDK's records): written as a string in the
/// shortest plain form (`"19.99"`), so no reader turns it into a float; read from a string or
/// a number. A JSON number is taken through its shortest text (the text that round-trips to
/// the same `f64`), so `19.99` stays 19.99, never 19.989999….
impl serde::Serialize for XsdDecimal {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for XsdDecimal {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = XsdDecimal;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a decimal number or a decimal string")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<XsdDecimal, E> {
                v.parse()
                    .map_err(|_| E::custom(format!("{v:?} is not a decimal number")))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> std::result::Result<XsdDecimal, E> {
                Ok(XsdDecimal(Decimal::from(v)))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<XsdDecimal, E> {
                Ok(XsdDecimal(Decimal::from(v)))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> std::result::Result<XsdDecimal, E> {
                // `Display` of an `f64` is its shortest round-tripping text, never an exponent.
                let text = v.to_string();
                text.parse()
                    .map_err(|_| E::custom(format!("{text} is not a decimal number")))
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// Parse a document under [`Limits::ANSWER`], refusing DTDs. Errors are [`Error::Decode`].
pub fn parse(text: &str) -> Result<roxmltree::Document<'_>> {
    parse_limited(text, &Limits::ANSWER)
}

/// Parse a document under `limits` (checked in one linear pass first), refusing DTDs.
pub fn parse_limited<'i>(text: &'i str, limits: &Limits) -> Result<roxmltree::Document<'i>> {
    limits.check_xml(text)?;
    roxmltree::Document::parse_with_options(
        text,
        roxmltree::ParsingOptions {
            allow_dtd: false,
            nodes_limit: 1_000_000,
            ..roxmltree::ParsingOptions::default()
        },
    )
    .map_err(|e| Error::decode_from(format!("malformed XML: {e}"), e))
}

/// Whether `name` is an XML element name without a prefix (XML 1.0 `NCName`): a letter or
/// `_` (or another `NameStartChar`), then letters, digits, `-`, `.`, `_` and the other
/// `NameChar`s. Names written into a document are checked with this first, so that a name
/// can never close an element or open another.
#[must_use]
pub fn is_name(name: &str) -> bool {
    fn start(c: char) -> bool {
        matches!(c,
            'A'..='Z' | '_' | 'a'..='z' | '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}'
            | '\u{F8}'..='\u{2FF}' | '\u{370}'..='\u{37D}' | '\u{37F}'..='\u{1FFF}'
            | '\u{200C}'..='\u{200D}' | '\u{2070}'..='\u{218F}' | '\u{2C00}'..='\u{2FEF}'
            | '\u{3001}'..='\u{D7FF}' | '\u{F900}'..='\u{FDCF}' | '\u{FDF0}'..='\u{FFFD}'
            | '\u{10000}'..='\u{EFFFF}')
    }
    fn rest(c: char) -> bool {
        start(c)
            || matches!(c, '-' | '.' | '0'..='9' | '\u{B7}' | '\u{300}'..='\u{36F}' | '\u{203F}'..='\u{2040}')
    }
    let mut chars = name.chars();
    chars.next().is_some_and(start) && chars.all(rest)
}

/// Parse `text` (refusing DTDs) and check that its root element is `{namespace}local`.
///
/// yaserde decodes any root element into any struct — an HTML error page becomes a response
/// with every field empty — so every document decoded from the network is checked here first.
pub fn expect_root(text: &str, namespace: Option<&str>, local: &str) -> Result<()> {
    parse_root(text, namespace, local).map(drop)
}

/// [`expect_root`] that hands back the parsed document, for callers that read it next.
pub fn parse_root<'i>(
    text: &'i str,
    namespace: Option<&str>,
    local: &str,
) -> Result<roxmltree::Document<'i>> {
    let doc = parse(text)?;
    let root = doc.root_element().tag_name();
    if root.name() == local && root.namespace() == namespace {
        Ok(doc)
    } else {
        Err(Error::decode(format!(
            "expected <{local}> in namespace {}, found <{}> in namespace {}",
            namespace.unwrap_or("(none)"),
            root.name(),
            root.namespace().unwrap_or("(none)")
        )))
    }
}

/// The first element child of `node`.
#[must_use]
pub fn first_element<'a, 'input>(
    node: roxmltree::Node<'a, 'input>,
) -> Option<roxmltree::Node<'a, 'input>> {
    node.children().find(roxmltree::Node::is_element)
}

/// The element child of `node` with this namespace and local name.
#[must_use]
pub fn child<'a, 'input>(
    node: roxmltree::Node<'a, 'input>,
    namespace: Option<&str>,
    local: &str,
) -> Option<roxmltree::Node<'a, 'input>> {
    node.children().find(|c| {
        c.is_element() && c.tag_name().name() == local && c.tag_name().namespace() == namespace
    })
}

/// The text of an element, concatenated over its text children (empty when none).
#[must_use]
pub fn text(node: roxmltree::Node<'_, '_>) -> String {
    node.children()
        .filter(roxmltree::Node::is_text)
        .filter_map(|t| t.text())
        .collect()
}

/// The source text of `element` as a standalone document: every namespace in scope that the
/// element does not declare itself is declared on its start tag, so the fragment decodes the
/// same way outside its envelope (rpc/encoded bodies use `xsi:` prefixes declared on the
/// envelope).
#[must_use]
pub fn standalone_fragment(source: &str, element: roxmltree::Node<'_, '_>) -> String {
    let Some(fragment) = source.get(element.range()) else {
        return String::new();
    };
    let tag_end = start_tag_end(fragment);
    let name_end = fragment
        .char_indices()
        .skip(1)
        .find(|(_, c)| c.is_whitespace() || *c == '/' || *c == '>')
        .map_or(tag_end, |(i, _)| i);
    let start_tag = fragment.get(..tag_end).unwrap_or_default();
    let mut declarations = String::new();
    for ns in element.namespaces() {
        let attr = match ns.name() {
            Some("xml") => continue,
            Some(prefix) => format!("xmlns:{prefix}"),
            None => "xmlns".to_owned(),
        };
        if !declares(start_tag, &attr) {
            let _ = write!(declarations, " {attr}=\"{}\"", escape_attr(ns.uri()));
        }
    }
    let (head, tail) = fragment.split_at(name_end.min(fragment.len()));
    format!("{head}{declarations}{tail}")
}

/// Byte index just past the `>` that ends the start tag (quotes respected).
fn start_tag_end(fragment: &str) -> usize {
    let mut quote = None;
    for (i, c) in fragment.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return i + 1,
            _ => {}
        }
    }
    fragment.len()
}

/// Whether `start_tag` has an attribute named `attr`: the name after whitespace, then
/// optional whitespace and `=` (XML allows `xmlns:q = "urn:q"`).
fn declares(start_tag: &str, attr: &str) -> bool {
    start_tag.match_indices(attr).any(|(i, _)| {
        let before = start_tag
            .get(..i)
            .is_some_and(|p| p.ends_with(char::is_whitespace));
        let after = start_tag
            .get(i + attr.len()..)
            .is_some_and(|rest| rest.trim_start().starts_with('='));
        before && after
    })
}

/// Escape text for use inside a double-quoted attribute value.
#[must_use]
pub fn escape_attr(s: &str) -> String {
    escape(s, true)
}

/// Escape text for use as element content.
#[must_use]
pub fn escape_text(s: &str) -> String {
    escape(s, false)
}

fn escape(s: &str, attr: bool) -> String {
    let mut out = String::with_capacity(s.len());
    escape_into(&mut out, s, attr);
    out
}

/// Append `s` escaped as element content, or (`attr`) as a double-quoted attribute value.
/// A carriage return is written as `&#13;` so that it survives XML's line-end normalization.
pub fn escape_into(out: &mut String, s: &str, attr: bool) {
    // Every character escaped is ASCII, so the split points are char boundaries.
    let mut rest = s;
    while let Some(at) = next_escape(rest) {
        let (plain, tail) = rest.split_at(at);
        out.push_str(plain);
        let mut chars = tail.chars();
        match chars.next() {
            Some('&') => out.push_str("&amp;"),
            Some('<') => out.push_str("&lt;"),
            Some('>') => out.push_str("&gt;"),
            Some('"') if attr => out.push_str("&quot;"),
            Some('\r') => out.push_str("&#13;"),
            Some(c) => out.push(c),
            None => {}
        }
        rest = chars.as_str();
    }
    out.push_str(rest);
}

/// Where the next byte [`escape_into`] replaces is in `s`.
fn next_escape(s: &str) -> Option<usize> {
    let at = scan::run_len(s.as_bytes(), &ESCAPED, 1);
    (at < s.len()).then_some(at)
}

/// What [`escape_into`] replaces: class 1 for `&`, `<`, `>`, `"`, `\r`.
#[allow(
    clippy::indexing_slicing,
    reason = "ASCII bytes index a 256-entry table"
)]
static ESCAPED: [u8; 256] = {
    let mut table = [0; 256];
    table[b'&' as usize] = 1;
    table[b'<' as usize] = 1;
    table[b'>' as usize] = 1;
    table[b'"' as usize] = 1;
    table[b'\r' as usize] = 1;
    table
};

const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// `prefix:local` as `{namespace}local` when the prefix is in scope at `node`, else unchanged.
fn resolve_qname(node: roxmltree::Node<'_, '_>, value: &str) -> String {
    match value.split_once(':') {
        Some((prefix, local)) => node
            .lookup_namespace_uri(Some(prefix))
            .map_or_else(|| value.to_owned(), |uri| format!("{{{uri}}}{local}")),
        None => value.to_owned(),
    }
}

/// A canonical text form of a document for structural comparison: one line per element with
/// its `{namespace}name`, its attributes sorted (namespace declarations left out, since
/// prefixes are not significant; `xsi:type` values resolved to `{namespace}name`), and its
/// trimmed text. Two documents that differ only in
/// prefixes, attribute order, declarations or indentation canonicalize the same.
pub fn canonicalize(text: &str) -> Result<String> {
    let doc = parse(text)?;
    let mut out = String::new();
    write_canonical(doc.root_element(), 0, &mut out);
    Ok(out)
}

fn write_canonical(node: roxmltree::Node<'_, '_>, depth: usize, out: &mut String) {
    let name = node.tag_name();
    let _ = write!(
        out,
        "{:indent$}{{{}}}{}",
        "",
        name.namespace().unwrap_or_default(),
        name.name(),
        indent = depth * 2
    );
    let mut attrs: Vec<String> = node
        .attributes()
        .map(|a| {
            // `xsi:type` holds a QName: compare what it names, not the prefix it uses.
            let value = if a.namespace() == Some(XSI) && a.name() == "type" {
                resolve_qname(node, a.value())
            } else {
                a.value().to_owned()
            };
            format!(
                "{{{}}}{}={:?}",
                a.namespace().unwrap_or_default(),
                a.name(),
                value
            )
        })
        .collect();
    attrs.sort();
    for a in attrs {
        let _ = write!(out, " {a}");
    }
    let t = text(node);
    if !t.trim().is_empty() {
        let _ = write!(out, " = {:?}", t.trim());
    }
    out.push('\n');
    for c in node.children().filter(roxmltree::Node::is_element) {
        write_canonical(c, depth + 1, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xsd_decimal_is_exact() {
        let d: XsdDecimal = "100.50".parse().unwrap();
        assert_eq!(d.to_string(), "100.5");
        assert_eq!("1.0E+2".parse::<XsdDecimal>().unwrap().to_string(), "100");
        assert_eq!(
            "-0.125".parse::<XsdDecimal>().unwrap().to_string(),
            "-0.125"
        );
        assert!("abc".parse::<XsdDecimal>().is_err());
        assert!("".parse::<XsdDecimal>().is_err());
    }

    proptest::proptest! {
        /// Any JSON text: an error or a decimal, never a panic.
        #[test]
        fn xsd_decimal_json_never_panics(s in "\\PC{0,40}") {
            let _ = serde_json::from_str::<XsdDecimal>(&s);
        }

        /// A decimal written to JSON reads back as the same (normalized) value.
        #[test]
        fn xsd_decimal_json_round_trips(mantissa in proptest::num::i64::ANY, scale in 0_u32..=18) {
            let d = XsdDecimal(Decimal::new(mantissa, scale));
            let text = serde_json::to_string(&d).unwrap();
            let back: XsdDecimal = serde_json::from_str(&text).unwrap();
            proptest::prop_assert_eq!(back.0, d.0.normalize());
        }

        /// A JSON number is read as the decimal its shortest text says: the same `f64` again.
        #[test]
        fn xsd_decimal_from_a_json_number_is_its_shortest_text(cents in -1_000_000_000_000_i64..1_000_000_000_000) {
            #[allow(clippy::cast_precision_loss, reason = "the float is the input under test")]
            let f = cents as f64 / 100.0;
            let back: XsdDecimal = serde_json::from_str(&f.to_string()).unwrap();
            proptest::prop_assert_eq!(back.0.to_string().parse::<f64>().unwrap().to_bits(), f.to_bits());
            proptest::prop_assert!(back.0.scale() <= 2, "{back}");
        }
    }

    #[test]
    fn xsd_decimal_json_is_a_string_and_reads_strings_and_numbers_exactly() {
        let read = |json: &str| serde_json::from_str::<XsdDecimal>(json).map(|d| d.0);
        assert_eq!(read("19.99").unwrap(), Decimal::new(1999, 2));
        assert_eq!(read("\"100.50\"").unwrap(), Decimal::new(1005, 1));
        assert_eq!(read("100").unwrap(), Decimal::new(100, 0));
        assert_eq!(read("-7").unwrap(), Decimal::new(-7, 0));
        assert_eq!(read("0.1").unwrap(), Decimal::new(1, 1));
        assert_eq!(read("1e-7").unwrap(), Decimal::new(1, 7));
        for bad in ["\"abc\"", "true", "null", "[1]", "1e300"] {
            assert!(read(bad).is_err(), "{bad}");
        }
        let text = serde_json::to_string(&XsdDecimal(Decimal::new(100_500, 3))).unwrap();
        assert_eq!(text, "\"100.5\"");
    }

    #[test]
    fn expect_root_checks_name_and_namespace() {
        assert!(expect_root(r#"<a xmlns="urn:x"/>"#, Some("urn:x"), "a").is_ok());
        assert!(expect_root(r#"<a xmlns="urn:y"/>"#, Some("urn:x"), "a").is_err());
        assert!(expect_root("<html>oops</html>", Some("urn:x"), "a").is_err());
        assert!(expect_root("<a/>", None, "a").is_ok());
    }

    #[test]
    fn element_names_follow_the_xml_name_rule() {
        for good in ["OrderID", "_x", "a-b.c_1", "Đơn_hàng", "x\u{B7}y"] {
            assert!(is_name(good), "{good}");
        }
        for bad in [
            "",
            "1a",
            "-a",
            "a b",
            "a>b",
            "OrderID></OrderID><ShopID>999</ShopID><X",
            "p:q",
            "a\"",
            "a&b",
            ".a",
        ] {
            assert!(!is_name(bad), "{bad}");
        }
    }

    #[test]
    fn dtd_and_entities_are_refused() {
        let bomb = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><a>&lol2;</a>"#;
        assert!(matches!(parse(bomb), Err(Error::Decode { .. })));
    }

    #[test]
    fn fragment_carries_inherited_namespaces() {
        let src = r#"<e:Env xmlns:e="urn:e" xmlns:xsi="urn:xsi" xmlns="urn:d"><e:Body><op xmlns:x="urn:x" a=">"><v xsi:type="x:int">1</v></op></e:Body></e:Env>"#;
        let doc = parse(src).unwrap();
        let op = doc.descendants().find(|n| n.has_tag_name("op")).unwrap();
        let frag = standalone_fragment(src, op);
        let reparsed = parse(&frag).unwrap();
        let root = reparsed.root_element();
        assert_eq!(root.tag_name().namespace(), Some("urn:d"));
        let v = first_element(root).unwrap();
        assert_eq!(v.attribute(("urn:xsi", "type")), Some("x:int"));
        // Declared once only: `xmlns:x` was already on the element.
        assert_eq!(frag.matches("xmlns:x=").count(), 1);
    }

    #[test]
    fn a_declaration_with_spaces_around_the_equals_sign_is_not_repeated() {
        for decl in [
            r#"xmlns:q ="urn:q""#,
            r#"xmlns:q= "urn:q""#,
            "xmlns:q\n=\t'urn:q'",
        ] {
            let src = format!(
                r#"<e:Env xmlns:e="urn:e"><e:Body><q:op {decl} xmlns:qq="urn:qq"><q:v>1</q:v></q:op></e:Body></e:Env>"#
            );
            let doc = parse(&src).unwrap();
            let op = doc.descendants().find(|n| n.has_tag_name("op")).unwrap();
            let frag = standalone_fragment(&src, op);
            let reparsed = parse(&frag).unwrap_or_else(|e| panic!("{decl}: {e} in {frag}"));
            assert_eq!(
                reparsed.root_element().tag_name().namespace(),
                Some("urn:q")
            );
            // A prefix that merely starts like another (`qq`) does not count for `q`.
            assert_eq!(frag.matches("xmlns:qq").count(), 1, "{frag}");
        }
    }

    #[test]
    fn canonical_form_ignores_prefixes_and_layout() {
        let a = r#"<p:a xmlns:p="urn:p" y="2" x="1">  <p:b>t</p:b></p:a>"#;
        let b = "<a xmlns=\"urn:p\" x=\"1\" y=\"2\">\n<b>t</b>\n</a>";
        assert_eq!(canonicalize(a).unwrap(), canonicalize(b).unwrap());
        let t1 = r#"<a xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:n="urn:s" xsi:type="n:T"/>"#;
        let t2 = r#"<a xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:m="urn:s" xsi:type="m:T"/>"#;
        assert_eq!(canonicalize(t1).unwrap(), canonicalize(t2).unwrap());
        let c = r#"<a xmlns="urn:q" x="1" y="2"><b>t</b></a>"#;
        assert_ne!(canonicalize(a).unwrap(), canonicalize(c).unwrap());
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let s = String::from_utf8_lossy(&bytes);
            if let Ok(doc) = parse(&s) {
                let _ = standalone_fragment(&s, doc.root_element());
            }
            let _ = canonicalize(&s);
        }

        #[test]
        fn escaped_text_reads_back(text in "\\PC{0,40}") {
            let mut out = String::from("<a b=\"");
            escape_into(&mut out, &text, true);
            out.push_str("\">");
            escape_into(&mut out, &text, false);
            out.push_str("</a>");
            let doc = parse(&out).unwrap();
            proptest::prop_assert_eq!(doc.root_element().attribute("b"), Some(text.as_str()));
            proptest::prop_assert_eq!(doc.root_element().text().unwrap_or_default(), text.as_str());
        }
    }
}
