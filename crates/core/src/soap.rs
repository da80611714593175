//! SOAP 1.1 and 1.2 envelopes around yaserde payloads.
//!
//! The envelope is written and read here, outside yaserde (as onvif-rs does), and yaserde
//! handles only the payload: the header block and the body's first element. This keeps one
//! payload type usable in both SOAP versions and lets the envelope prefix follow the peer's
//! habits (`soap`, `soap12`, PHP's `SOAP-ENV`).
//!
//! Reading: [`RawEnvelope::parse`] refuses DTDs, detects the version from the envelope
//! namespace, turns a `Fault` (either version) into [`Error::Provider`](crate::Error::Provider), and hands out the
//! header and body elements as standalone XML with every in-scope namespace declared.
//!
//! ```
//! use paybridge_core::soap::{RawEnvelope, SoapVersion, EnvelopeStyle, wrap};
//!
//! let xml = wrap(&EnvelopeStyle::new(SoapVersion::V12), None, r#"<Ping xmlns="urn:x"/>"#);
//! let env = RawEnvelope::parse(&xml).unwrap();
//! assert_eq!(env.version, SoapVersion::V12);
//! assert!(env.body.contains("Ping"));
//! ```

mod call;
mod envelope;
mod fault;
mod fragment;
mod read;
mod version;

pub use call::{SoapCall, call, call_rpc, call_rpc_answered};
pub use envelope::{Envelope, EnvelopeStyle, EnvelopeTemplate, wrap, wrap_rpc};
pub use fault::SoapFault;
pub use fragment::{from_fragment, to_fragment};
pub use read::{RawEnvelope, decode_rpc};
pub use version::{Action, SOAP_ENC_NS, SoapVersion, XSD_NS, XSI_NS};

// The codegen runtime (see `xml::compact`): public for generated code, out of the docs.
#[doc(hidden)]
pub mod encoded;

#[cfg(test)]
mod tests {
    use super::call::request;
    use super::version::V11_CONTENT_TYPE;
    use super::*;
    use crate::http::HttpRequest;
    use crate::xml;
    use crate::{Error, Result};

    #[test]
    fn request_headers_per_version() {
        let a = "PayooBPGAdapter/CallToPartner";
        let h11 = SoapVersion::V11.request_headers(a);
        assert_eq!(h11[0].1, "text/xml; charset=utf-8");
        assert_eq!(h11[1].0.as_str(), "soapaction");
        assert_eq!(h11[1].1, "\"PayooBPGAdapter/CallToPartner\"");
        let h12 = SoapVersion::V12.request_headers(a);
        assert_eq!(h12.len(), 1);
        assert_eq!(
            h12[0].1,
            "application/soap+xml; charset=utf-8; action=\"PayooBPGAdapter/CallToPartner\""
        );
    }

    #[test]
    fn faults_written_here_decode_back() {
        for v in [SoapVersion::V11, SoapVersion::V12] {
            assert_eq!(SoapVersion::from_content_type(v.response_content_type()), v);
            match RawEnvelope::parse(&v.fault_xml(true, "bad <input> & more")) {
                Err(Error::Provider {
                    code,
                    message,
                    retryable,
                }) => {
                    assert!(code.unwrap().ends_with(if v == SoapVersion::V11 {
                        "Client"
                    } else {
                        "Sender"
                    }));
                    assert!(message.contains("bad <input> & more"));
                    assert!(!retryable);
                }
                other => panic!("{other:?}"),
            }
        }
    }

    /// `<tns:ping/>`, the smallest rpc element.
    #[derive(Debug, Default)]
    struct Ping;

    impl encoded::DecodeNode for Ping {
        fn decode_node(_: encoded::Node<'_, '_>) -> Result<Self> {
            Ok(Self)
        }
    }

    impl encoded::RpcElement for Ping {
        const NAME: &'static str = "ping";
        const NAMESPACE: &'static str = "urn:p";
        fn encode_element(&self, out: &mut String) {
            encoded::start_rpc_element(out, "tns:ping", Self::NAMESPACE, None);
            encoded::end_tag(out, "tns:ping");
        }
    }

    #[test]
    fn templates_write_what_wrap_rpc_writes() {
        let style = EnvelopeStyle::rpc_encoded("ns1", "urn:p");
        assert_eq!(
            EnvelopeTemplate::new(&style).wrap_rpc(&Ping),
            wrap_rpc(&style, &Ping)
        );
    }

    /// What the generator writes for an operation: the headers of both versions are constants.
    const PING: Action = Action::new(
        "urn:test#ping",
        "\"urn:test#ping\"",
        "application/soap+xml; charset=utf-8; action=\"urn:test#ping\"",
    );

    #[test]
    fn actions_carry_their_header_values() {
        let endpoint = crate::http::Endpoint::parse("http://h/").unwrap();
        let ping = PING;
        let call = |version| SoapCall {
            endpoint: &endpoint,
            version,
            action: &ping,
            provider: "p",
            operation: "ping",
            idempotent: true,
            reconcile: None,
            extra_headers: Vec::new(),
        };
        let v11 = request(call(SoapVersion::V11), "x");
        let header = |r: &HttpRequest, n: &str| {
            r.headers
                .iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(header(&v11, "soapaction").unwrap(), "\"urn:test#ping\"");
        assert_eq!(header(&v11, "content-type").unwrap(), V11_CONTENT_TYPE);
        let v12 = request(call(SoapVersion::V12), "x");
        assert!(header(&v12, "soapaction").is_none());
        assert_eq!(
            header(&v12, "content-type").unwrap(),
            SoapVersion::V12.content_type(PING.name())
        );
        assert!(PING == "urn:test#ping");
    }

    #[test]
    fn array_type_helpers() {
        assert_eq!(encoded::array_type("xsd:int", 2), "xsd:int[2]");
        assert_eq!(
            encoded::parse_array_type("xsd:int[12]"),
            Some(("xsd:int", 12))
        );
        assert_eq!(encoded::parse_array_type("xsd:int"), None);
        let doc = xml::parse(
            r#"<r xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:nil="true"/>"#,
        )
        .unwrap();
        let tree = xml::compact::Document::from_roxmltree(doc.root_element());
        assert!(encoded::is_nil(tree.root().unwrap()));
    }

    #[derive(Debug, Default, PartialEq, yaserde::YaSerialize, yaserde::YaDeserialize)]
    #[yaserde(rename = "req")]
    struct Req {
        #[yaserde(rename = "username")]
        username: Option<encoded::EncString>,
        #[yaserde(rename = "amount")]
        amount: Option<encoded::EncDecimal>,
        #[yaserde(rename = "captcha")]
        captcha: Option<encoded::EncString>,
        #[yaserde(rename = "id")]
        id: Option<encoded::EncInt>,
    }

    #[test]
    fn encoded_values_roundtrip_with_xsi_type_and_nil() {
        let xml = r#"<req xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema"><username xsi:type="xsd:string">test_merch</username><amount xsi:type="xsd:float">17421.5</amount><captcha xsi:type="xsd:string"/><id xsi:nil="true"/></req>"#;
        let r: Req = from_fragment(xml).unwrap();
        assert_eq!(
            r.username.as_ref().unwrap().get().unwrap().as_deref(),
            Some("test_merch")
        );
        assert_eq!(
            r.username.as_ref().unwrap().xsi_type.as_deref(),
            Some("xsd:string")
        );
        assert_eq!(
            r.amount.as_ref().unwrap().get().unwrap(),
            Some(rust_decimal::Decimal::new(174_215, 1))
        );
        assert_eq!(r.captcha.as_ref().unwrap().get().unwrap(), None);
        assert!(r.id.as_ref().unwrap().is_nil());
        assert_eq!(r.id.as_ref().unwrap().get().unwrap(), None);
        // `xsi:type` values name `xsd:` types: the envelope declares that prefix.
        let again = to_fragment(&r).unwrap();
        let style = EnvelopeStyle::new(SoapVersion::V11);
        let enveloped = RawEnvelope::parse(&wrap(&style, None, &again))
            .unwrap()
            .body;
        assert_eq!(
            crate::xml::canonicalize(&enveloped).unwrap(),
            crate::xml::canonicalize(xml).unwrap(),
            "{again}"
        );
        let bad: Req = from_fragment(r#"<req xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><id xsi:type="xsd:int">x</id></req>"#).unwrap();
        assert!(bad.id.unwrap().get().is_err());
        assert_eq!(
            encoded::EncDecimal::new(rust_decimal::Decimal::new(10_050, 2))
                .text
                .as_deref(),
            Some("100.5")
        );
    }

    #[test]
    fn not_an_envelope_is_a_decode_error() {
        assert!(matches!(
            RawEnvelope::parse("<html/>"),
            Err(Error::Decode { .. })
        ));
        assert!(matches!(
            RawEnvelope::parse("garbage"),
            Err(Error::Decode { .. })
        ));
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = RawEnvelope::parse(&String::from_utf8_lossy(&bytes));
        }

        #[test]
        fn parse_never_panics_on_envelope_like_text(body in "\\PC{0,200}") {
            let text = format!(r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>{body}</s:Body></s:Envelope>"#);
            let _ = RawEnvelope::parse(&text);
        }
    }
}
