//! The compact reader against roxmltree: fixed cases and generated documents.
use std::fmt::Write as _;

use super::*;
use proptest::prelude::*;

const ANSWER: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ns1="urn:XmlControllerwsdl" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <SOAP-ENV:Body>
<ns1:r>
  <url xsi:type="xsd:string">https://x/?id=1&amp;key=2</url>
  <n xsi:type="xsd:int"> 7 </n><empty xsi:nil="true"/>
</ns1:r>
  </SOAP-ENV:Body>
</SOAP-ENV:Envelope>
"#;

fn reference(text: &str) -> Option<roxmltree::Document<'_>> {
    crate::xml::parse(text).ok()
}

#[test]
fn reads_an_answer_like_roxmltree() {
    let doc = Document::parse(ANSWER).unwrap();
    let root = doc.root().unwrap();
    assert_eq!(root.tag_name().name(), "Envelope");
    let env = Some("http://schemas.xmlsoap.org/soap/envelope/");
    assert_eq!(root.tag_name().namespace(), env);
    let r = root.child(env, "Body").unwrap().children().next().unwrap();
    assert_eq!(r.tag_name().namespace(), Some("urn:XmlControllerwsdl"));
    let fields: Vec<_> = r.children().collect();
    assert_eq!(fields.len(), 3);
    assert_eq!(fields[0].text(), "https://x/?id=1&key=2");
    let xsi = Some("http://www.w3.org/2001/XMLSchema-instance");
    assert_eq!(fields[0].attribute(xsi, "type"), Some("xsd:string"));
    assert_eq!(fields[0].attribute(None, "type"), None);
    assert_eq!(fields[1].text(), "7");
    assert_eq!(fields[2].text(), "");
    assert_eq!(fields[2].attribute(xsi, "nil"), Some("true"));
    assert!(fields[2].children().next().is_none());
    let reference = reference(ANSWER).unwrap();
    let converted = Document::from_roxmltree(reference.root_element());
    assert_eq!(converted, doc);
}

#[test]
fn declines_what_it_leaves_to_roxmltree() {
    for text in [
        "",
        "  ",
        "\u{feff}<a/>",
        "<a><!-- c --></a>",
        "<a><![CDATA[x]]></a>",
        "<a><?pi x?></a>",
        "<!DOCTYPE a><a/>",
        "<a>x\r\ny</a>",
        "<a>&nbsp;</a>",
        "<a b='x\ny'/>",
        "<a xml:lang='en'/>",
        "<a><b></a></b>",
        "<a></b>",
        "<a>",
        "<a/><b/>",
        "x<a/>",
        "<a/>x",
        "<p:a/>",
        "<a b='1' b='2'/>",
        "<a p:b='1' p:b='2' xmlns:p='u'/>",
        "<a xmlns:p='u' xmlns:p='u'/>",
        "<a xmlns='u' xmlns='u'/>",
        "<ab></a>",
        "<a></ab>",
        "<a></a:b>",
        "<p:a xmlns:p='u'></p:ab>",
        "<p:a xmlns:p='u'></p>",
        r#"<a xmlns:p="u" xmlns:q="u" p:b="1" q:b="2"/>"#,
        "<a>]]></a>",
        "<a>&#0;</a>",
        "<a>\u{fffe}</a>",
        "<?xml version='1.1'?><a/>",
        "<?xml version='1.0' encoding='latin1'?><a/>",
        "<a\u{e9}/>",
    ] {
        assert!(Document::parse(text).is_none(), "{text:?}");
    }
}

#[test]
fn deep_or_declaration_heavy_documents_are_left_to_roxmltree() {
    let nested = |depth: usize| format!("{}{}", "<a>".repeat(depth), "</a>".repeat(depth));
    assert!(Document::parse(&nested(MAX_DEPTH)).is_some());
    assert!(Document::parse(&nested(MAX_DEPTH + 1)).is_none());
    assert!(reference(&nested(MAX_DEPTH + 1)).is_some());
    let declarations = |n: usize| {
        let mut doc = String::from("<a");
        for i in 0..n {
            let _ = write!(doc, " xmlns:p{i}=\"urn:{i}\"");
        }
        doc.push_str("/>");
        doc
    };
    assert!(Document::parse(&declarations(MAX_DECLARATIONS)).is_some());
    assert!(Document::parse(&declarations(MAX_DECLARATIONS + 1)).is_none());
}

#[test]
fn text_around_children_is_joined_as_roxmltree_joins_it() {
    for text in [
        "<a> x <b/> y </a>",
        "<a>\n  <b/>\n</a>",
        "<a>&lt;<b/>&gt;<c/></a>",
        "<a>  <b/>x&amp;y<c/>  </a>",
    ] {
        let doc = Document::parse(text).unwrap();
        let parsed = reference(text).unwrap();
        let converted = Document::from_roxmltree(parsed.root_element());
        assert_eq!(doc, converted, "{text:?}");
        let joined: String = reference(text)
            .unwrap()
            .root_element()
            .children()
            .filter(roxmltree::Node::is_text)
            .filter_map(|n| n.text())
            .collect();
        assert_eq!(doc.root().unwrap().text(), joined.trim_ascii(), "{text:?}");
    }
}

const PLAIN_DECLARATIONS: [&str; 4] = [
    "",
    r#"<?xml version="1.0" encoding="UTF-8"?>"#,
    "<?xml version='1.0'?>\n",
    r#"<?xml version="1.0" encoding="utf-8" standalone="yes" ?>"#,
];

/// A random document; `plain` keeps to what [`Document::parse`] reads itself.
fn document(rng: &mut fastrand::Rng, plain: bool) -> String {
    let mut out = String::new();
    let declarations: &[&str] = if plain {
        &PLAIN_DECLARATIONS
    } else {
        &[
            PLAIN_DECLARATIONS[0],
            PLAIN_DECLARATIONS[1],
            "<?xml version=\"1.1\"?>",
            "<?xml encoding=\"utf-8\"?>",
            "<?xml version=\"1.0\" standalone=\"maybe\"?>",
            "<?xml  version='1.0' encoding='latin1' ?>",
            " <?xml version='1.0'?>",
            "<!-- c -->",
        ]
    };
    out.push_str(declarations[rng.usize(..declarations.len())]);
    out.push_str(["", "\n", "  "][rng.usize(..3)]);
    element(rng, plain, 0, &mut Vec::new(), &mut out);
    out.push_str(["", "\n", " \n"][rng.usize(..3)]);
    out
}

fn element(
    rng: &mut fastrand::Rng,
    plain: bool,
    depth: usize,
    scope: &mut Vec<&'static str>,
    out: &mut String,
) {
    const PREFIXES: [&str; 4] = ["", "a", "ns1", "SOAP-ENV"];
    const LOCALS: [&str; 6] = ["Envelope", "Body", "item", "x", "a.b", "_c-d"];
    const URIS: [&str; 4] = ["urn:a", "urn:b", "http://x/y?a=1&amp;b=2", ""];
    let scoped = scope.len();
    let mut attributes = String::new();
    let mut declared: Vec<&str> = Vec::new();
    let mut prefix = PREFIXES[rng.usize(..PREFIXES.len())];
    for _ in 0..rng.usize(..3) {
        let p = PREFIXES[rng.usize(..PREFIXES.len())];
        if plain && declared.contains(&p) {
            continue;
        }
        let uri = URIS[rng.usize(..if plain { 2 } else { 4 })];
        let name = if p.is_empty() {
            "xmlns".to_owned()
        } else {
            format!("xmlns:{p}")
        };
        let _ = write!(attributes, " {name}=\"{uri}\"");
        declared.push(p);
        scope.push(p);
    }
    if plain && !prefix.is_empty() && !scope.contains(&prefix) {
        prefix = "";
    }
    let mut used: Vec<String> = Vec::new();
    for _ in 0..rng.usize(..3) {
        let p = if rng.bool() {
            ""
        } else {
            PREFIXES[rng.usize(1..PREFIXES.len())]
        };
        let local = ["k", "type", "nil", "id"][rng.usize(..4)];
        let qname = if p.is_empty() {
            local.to_owned()
        } else {
            format!("{p}:{local}")
        };
        if plain && (used.contains(&qname) || (!p.is_empty() && !scope.contains(&p))) {
            continue;
        }
        // Two prefixes bound to one URI make the same expanded name: keep plain ones unqualified.
        let qname = if plain && !p.is_empty() {
            local.to_owned()
        } else {
            qname
        };
        if plain && used.contains(&qname) {
            continue;
        }
        let quote = if rng.bool() { '"' } else { '\'' };
        let value = text(rng, plain, Some(quote));
        let _ = write!(attributes, " {qname}={quote}{value}{quote}");
        used.push(qname);
    }
    let name = if prefix.is_empty() {
        LOCALS[rng.usize(..LOCALS.len())].to_owned()
    } else {
        format!("{prefix}:{}", LOCALS[rng.usize(..LOCALS.len())])
    };
    out.push('<');
    out.push_str(&name);
    out.push_str(&attributes);
    out.push_str(["", " ", "\n "][rng.usize(..3)]);
    let children = if depth > 4 { 0 } else { rng.usize(..4) };
    if children == 0 && rng.bool() {
        out.push_str("/>");
    } else {
        out.push('>');
        for _ in 0..children {
            match rng.usize(..if plain { 2 } else { 4 }) {
                0 => element(rng, plain, depth + 1, scope, out),
                1 => out.push_str(&text(rng, plain, None)),
                2 => {
                    out.push_str(["<!-- c -->", "<![CDATA[<x>]]>", "<?pi x?>"][rng.usize(..3)]);
                }
                _ => out.push_str(&text(rng, false, None)),
            }
        }
        out.push_str("</");
        out.push_str(&name);
        out.push_str(["", " ", "\n"][rng.usize(..3)]);
        out.push('>');
    }
    scope.truncate(scoped);
}

fn text(rng: &mut fastrand::Rng, plain: bool, quote: Option<char>) -> String {
    const PLAIN: [&str; 15] = [
        "abc",
        " ",
        "&amp;",
        "&lt;",
        "&gt;",
        "&#x41;",
        "&#65;",
        "Привет",
        "é",
        "&quot;",
        "&apos;",
        ">",
        "1.5",
        "&#13;",
        "&#x1F600;",
    ];
    const ODD: [&str; 16] = [
        "&",
        "<",
        "]]>",
        "\r",
        "\r\n",
        "&#0;",
        "&#xD800;",
        "&nbsp;",
        "\u{1}",
        "\u{fffe}",
        "&#x;",
        "&#-1;",
        "&#+65;",
        "\"",
        "'",
        "&#xFFFFFFFFF;",
    ];
    let mut out = String::new();
    for _ in 0..rng.usize(..4) {
        let odd = !plain && rng.usize(..3) == 0;
        let piece = if odd {
            ODD[rng.usize(..ODD.len())]
        } else {
            PLAIN[rng.usize(..PLAIN.len())]
        };
        out.push_str(piece);
        if quote.is_none() && !odd && rng.usize(..4) == 0 {
            out.push_str("\n  \t");
        }
    }
    if let Some(q) = quote.filter(|_| plain) {
        out.retain(|c| c != q);
    }
    out
}

/// A few random edits: deletions, insertions of markup, repeats.
fn mutate(rng: &mut fastrand::Rng, text: &str) -> String {
    const SNIPPETS: [&str; 14] = [
        "<",
        ">",
        "/",
        "&",
        "\"",
        "'",
        "=",
        ":",
        " ",
        "xmlns:a=\"u\" ",
        "<!-- c -->",
        "</x>",
        "&#0;",
        "\u{fffe}",
    ];
    let mut chars: Vec<char> = text.chars().collect();
    for _ in 0..rng.usize(1..4) {
        let at = rng.usize(..=chars.len());
        match rng.usize(..3) {
            0 => {
                let end = (at + rng.usize(1..4)).min(chars.len());
                chars.drain(at..end);
            }
            1 => {
                let snippet = SNIPPETS[rng.usize(..SNIPPETS.len())];
                chars.splice(at..at, snippet.chars());
            }
            _ => {
                let end = (at + rng.usize(1..8)).min(chars.len());
                let copy: Vec<char> = chars[at..end].to_vec();
                let to = rng.usize(..=chars.len());
                chars.splice(to..to, copy);
            }
        }
    }
    chars.into_iter().collect()
}

/// Whatever the compact reader accepts, roxmltree accepts and reads the same way.
fn agrees_with_roxmltree(text: &str) -> Result<bool, TestCaseError> {
    let Some(doc) = Document::parse(text) else {
        return Ok(false);
    };
    let Some(reference) = reference(text) else {
        return Err(TestCaseError::fail(format!(
            "accepted what roxmltree refuses: {text:?}"
        )));
    };
    prop_assert_eq!(
        &doc,
        &Document::from_roxmltree(reference.root_element()),
        "{:?}",
        text
    );
    Ok(true)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn plain_documents_are_read_and_read_as_roxmltree_reads_them(seed: u64) {
        let text = document(&mut fastrand::Rng::with_seed(seed), true);
        prop_assert!(agrees_with_roxmltree(&text)?, "declined a plain document: {:?}", text);
    }

    #[test]
    fn odd_documents_are_declined_or_read_as_roxmltree_reads_them(seed: u64) {
        let text = document(&mut fastrand::Rng::with_seed(seed), false);
        agrees_with_roxmltree(&text)?;
    }

    #[test]
    fn mutated_documents_are_declined_or_read_as_roxmltree_reads_them(seed: u64) {
        let mut rng = fastrand::Rng::with_seed(seed);
        let plain = rng.bool();
        let original = document(&mut rng, plain);
        let text = mutate(&mut rng, &original);
        agrees_with_roxmltree(&text)?;
    }

    #[test]
    fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let text = String::from_utf8_lossy(&bytes);
        if let Some(doc) = Document::parse(&text) {
            prop_assert!(reference(&text).is_some());
            let root = doc.root().unwrap();
            for c in root.children() {
                let _ = (c.text(), c.attribute(None, "a"));
            }
        }
    }
}
