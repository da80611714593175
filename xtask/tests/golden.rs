//! The generator's own tests: golden output, errors that name file and line, check mode.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs,
    reason = "test code: a panic is a failed test"
)]

use std::path::{Path, PathBuf};

use xtask::codegen::{MANIFEST, diff, generate, rustfmt, targets};
use xtask::emit::{Options, emit};
use xtask::schema::{Model, read_file};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn generate_str(file: &str, text: &str) -> Result<String, String> {
    let mut model = Model::default();
    read_file(&mut model, file, text).map_err(|e| e.to_string())?;
    model.finish().map_err(|e| e.to_string())?;
    rustfmt(&emit(&model, "Golden fixture.", &Options::default()).map_err(|e| e.to_string())?)
}

/// Generate from the fixture `input` and compare with the fixture `expected`, twice (the
/// output must be deterministic). Regenerate with `UPDATE_GOLDEN=1 cargo test -p xtask`.
fn assert_golden(input: &str, expected: &str) {
    let text = std::fs::read_to_string(fixtures().join(input)).unwrap();
    let out = generate_str(input, &text).unwrap();
    let expected_path = fixtures().join(expected);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&expected_path, &out).unwrap();
    }
    let expected = std::fs::read_to_string(&expected_path).unwrap();
    assert!(
        out == expected,
        "golden output changed:\n{}",
        diff(&expected, &out)
    );
    // Deterministic: a second run gives the same bytes.
    assert_eq!(generate_str(input, &text).unwrap(), out);
}

#[test]
fn golden_output() {
    assert_golden("golden.wsdl", "golden.rs.txt");
}

/// XML-sample inference, golden too.
#[test]
fn golden_output_from_an_xml_sample() {
    assert_golden("sample.xml", "sample.rs.txt");
}

/// The booking API publishes both an XML sample and (our) XSDs: inference from the sample must
/// find the same elements, in the same namespaces, as the schemas.
#[test]
fn sample_inference_agrees_with_the_qvickly_schemas() {
    let root = xtask::workspace_root();
    let read = |files: &[&str]| {
        let mut m = Model::default();
        for f in files {
            read_file(&mut m, f, &std::fs::read_to_string(root.join(f)).unwrap()).unwrap();
        }
        m.finish().unwrap();
        let mut shape: Vec<String> = m
            .types
            .iter()
            .filter_map(|t| match t {
                xtask::schema::TypeDef::Struct(s) if !s.fields.is_empty() => Some(
                    s.fields
                        .iter()
                        .map(|f| {
                            format!(
                                "{}/{}@{}",
                                s.fields.len(),
                                f.wire_name,
                                f.namespace.as_deref().unwrap_or("")
                            )
                        })
                        .collect::<Vec<_>>()
                        .join(","),
                ),
                _ => None,
            })
            .collect();
        shape.sort();
        shape
    };
    let from_schemas = read(&[
        "schemas/qvickly/BokaMera.API.ServiceModel.Dtos.xsd",
        "schemas/qvickly/QvicklyIntegration.Models.Payment.xsd",
    ]);
    let from_sample = read(&["schemas/qvickly/samples/ipncallback-request.xml"]);
    // The schemas also describe IpnCallBackResponse, which the request sample does not hold.
    let without_response: Vec<String> = from_schemas
        .into_iter()
        .filter(|s| !s.contains("/Success@"))
        .collect();
    assert_eq!(from_sample, without_response);
}

#[test]
fn sample_attributes_are_refused_with_their_line() {
    let err = generate_str("s.xml", "<a>\n<b kind=\"x\"><c/></b></a>").unwrap_err();
    assert!(err.starts_with("s.xml:2: attribute kind"), "{err}");
}

#[test]
fn attributes_of_complex_types_are_read() {
    let body = "<s:complexType name=\"A\"><s:sequence><s:element name=\"x\" type=\"s:string\"/></s:sequence><s:attribute name=\"id\" type=\"s:int\" use=\"required\"/><s:attribute name=\"note\"/></s:complexType>";
    let out = generate_str("a.xsd", &schema(body)).unwrap();
    assert!(
        out.contains("#[yaserde(attribute = true, rename = \"id\")]\n    pub id: i32,"),
        "{out}"
    );
    assert!(
        out.contains(
            "#[yaserde(attribute = true, rename = \"note\")]\n    pub note: Option<String>,"
        ),
        "{out}"
    );
    let err = generate_str(
        "a.xsd",
        &schema(
            "<s:complexType name=\"A\">\n<s:attribute name=\"k\" type=\"tns:A\"/></s:complexType>",
        ),
    )
    .unwrap_err();
    assert!(
        err.contains("a.xsd:4: attribute k: only built-in simple types are supported"),
        "{err}"
    );
}

fn schema(body: &str) -> String {
    format!(
        "<?xml version=\"1.0\"?>\n<s:schema xmlns:s=\"http://www.w3.org/2001/XMLSchema\" xmlns:tns=\"urn:t\" targetNamespace=\"urn:t\" elementFormDefault=\"qualified\">\n{body}\n</s:schema>\n"
    )
}

#[test]
fn unsupported_constructs_are_errors_with_file_and_line() {
    let cases = [
        (
            "<s:complexType name=\"A\">\n  <s:choice><s:element name=\"x\" type=\"s:string\"/></s:choice>\n</s:complexType>",
            "bad.xsd:4: unsupported construct <choice> in complexType A",
        ),
        (
            "<s:complexType name=\"A\"><s:sequence>\n<s:element name=\"x\" type=\"s:hexBinary\"/></s:sequence></s:complexType>",
            "bad.xsd:4: unsupported built-in type xs:hexBinary",
        ),
        (
            "<s:complexType name=\"A\"><s:sequence>\n<s:element name=\"x\" type=\"tns:Missing\"/></s:sequence></s:complexType>",
            "A refers to unknown type {urn:t}Missing",
        ),
        (
            "<s:group name=\"g\"/>",
            "bad.xsd:3: unsupported construct <group> in xs:schema",
        ),
        (
            "<s:complexType name=\"A\"><s:sequence><s:element ref=\"tns:x\"/></s:sequence></s:complexType>",
            "element without name (ref= is not supported)",
        ),
        (
            "<s:simpleType name=\"S\"><s:list itemType=\"s:int\"/></s:simpleType>",
            "simpleType S: only restrictions are supported",
        ),
    ];
    for (body, expected) in cases {
        let err = generate_str("bad.xsd", &schema(body)).unwrap_err();
        assert!(err.contains(expected), "{err}\n  expected: {expected}");
    }
    let err = generate_str("broken.xsd", "<s:schema").unwrap_err();
    assert!(err.starts_with("broken.xsd:1: malformed XML"), "{err}");
}

#[test]
fn name_collisions_are_errors() {
    let body = "<s:complexType name=\"A\"><s:sequence><s:element name=\"OrderID\" type=\"s:string\"/><s:element name=\"order_id\" type=\"s:string\"/></s:sequence></s:complexType>";
    let err = generate_str("c.xsd", &schema(body)).unwrap_err();
    assert!(err.contains("both become `order_id`"), "{err}");
}

/// A scratch workspace holding a copy of `schemas/`.
fn scratch() -> PathBuf {
    let root = std::env::temp_dir().join(format!(
        "xtask-check-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let _ = std::fs::remove_dir_all(&root);
    let src = xtask::workspace_root().join("schemas");
    for target in targets(src.parent().unwrap()).unwrap() {
        for s in &target.sources {
            let to = root.join(s);
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(src.parent().unwrap().join(s), &to).unwrap();
            let manifest = to.parent().unwrap().join(MANIFEST);
            std::fs::copy(
                src.parent().unwrap().join(s).with_file_name(MANIFEST),
                manifest,
            )
            .unwrap();
        }
    }
    root
}

#[test]
fn check_mode_fails_when_a_schema_or_a_generated_file_changes() {
    let root = scratch();
    let first = generate(&root, false).unwrap();
    assert_eq!(first.written, first.files);
    assert_eq!(generate(&root, true).unwrap().written, 0);

    // A hand edit of generated code is drift.
    let generated = root.join("crates/payoo/src/generated/caller_services.rs");
    let original = std::fs::read_to_string(&generated).unwrap();
    std::fs::write(
        &generated,
        original.replace("pub shop_id: i64", "pub shop_id: i32"),
    )
    .unwrap();
    let err = generate(&root, true).unwrap_err();
    assert!(
        err.contains("crates/payoo/src/generated/caller_services.rs is out of date"),
        "{err}"
    );
    assert!(
        err.contains('-') && err.contains("pub shop_id: i32") && err.contains("pub shop_id: i64"),
        "{err}"
    );
    generate(&root, false).unwrap();

    // A schema edit without regeneration is drift too.
    let wsdl = root.join("schemas/linkifier/PaymentNotification.wsdl");
    let text = std::fs::read_to_string(&wsdl).unwrap();
    std::fs::write(
        &wsdl,
        text.replace("name=\"PromoCode\"", "name=\"PromotionCode\""),
    )
    .unwrap();
    let err = generate(&root, true).unwrap_err();
    assert!(
        err.contains("payment_notification.rs is out of date") && err.contains("PromotionCode"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn checked_in_code_matches_the_schemas() {
    generate(&xtask::workspace_root(), true).unwrap();
}

fn generate_with(manifest_options: &str, body: &str) -> Result<String, String> {
    let manifest = format!("crate = c\nmodule = m\nsource = a.xsd\n{manifest_options}");
    let target = xtask::codegen::read_manifest("schemas/x", &manifest)?;
    let mut model = Model::default();
    read_file(&mut model, "a.xsd", &schema(body)).map_err(|e| e.to_string())?;
    model.finish().map_err(|e| e.to_string())?;
    rustfmt(&emit(&model, "Options.", &target.options).map_err(|e| e.to_string())?)
}

const RECORD: &str = "<s:complexType name=\"Rec\"><s:sequence><s:element name=\"custopmerIP\" type=\"s:string\" minOccurs=\"0\"/><s:element name=\"Hash\" type=\"s:string\" minOccurs=\"0\"/><s:element name=\"Buyer\" type=\"tns:Buyer\" minOccurs=\"0\"/></s:sequence></s:complexType><s:complexType name=\"Buyer\"><s:sequence><s:element name=\"Name\" type=\"s:string\" minOccurs=\"0\"/></s:sequence></s:complexType>";

/// The manifest's options: serde derives, a Rust field name, a field kept out of JSON — and
/// every name they use must be in the schema.
#[test]
fn manifest_options_add_serde_and_rename_fields() {
    let out = generate_with(
        "serde = Rec\nserde = Buyer\nfield = Rec.custopmerIP customer_ip\nserde_skip = Rec.Hash\n",
        RECORD,
    )
    .unwrap();
    assert!(
        out.contains("#[yaserde(rename = \"custopmerIP\", prefix = \"tns\")]\n    pub customer_ip: Option<String>,"),
        "{out}"
    );
    assert!(
        out.contains("#[yaserde(rename = \"Hash\", prefix = \"tns\")]\n    #[serde(skip)]\n    pub hash: Option<String>,"),
        "{out}"
    );
    assert_eq!(
        out.matches("#[serde(deny_unknown_fields)]").count(),
        2,
        "{out}"
    );
    assert_eq!(out.matches("serde::Deserialize,").count(), 2, "{out}");
    // Without options, nothing of serde.
    assert!(!generate_with("", RECORD).unwrap().contains(" serde::"));

    for (options, expected) in [
        (
            "serde = Rec\n",
            "`Rec` derives serde, so its field type `Buyer` must too",
        ),
        ("serde = Nope\n", "no type `Nope`"),
        (
            "field = Rec.custopmer customer_ip\n",
            "`Rec` has no field `custopmer`",
        ),
        (
            "field = Rec.custopmerIP 9ip\n",
            "`9ip` is not a Rust field name",
        ),
        (
            "serde_skip = Buyer.Name\n",
            "`serde_skip` on `Buyer`, which does not derive serde",
        ),
        ("field = Rec\n", "expected `field = Type.field rust_name`"),
        ("serde_skip = Rec\n", "expected `Type.field`"),
    ] {
        let err = generate_with(options, RECORD).unwrap_err();
        assert!(err.contains(expected), "{options}: {err}");
    }
}
