//! The provider page's SOAP samples through the generated types: every value decoded, and the
//! request re-encoded to the same structure (names, namespaces, order) in SOAP 1.1 and 1.2.
//!
//! The published samples hold type placeholders (`int`, `Success or SuccessWithWarning or
//! Failure`); where a placeholder is not a valid value of its type it is replaced by one.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

use paybridge_core::soap::{Envelope, SoapVersion};
use paybridge_core::xml::canonicalize;
use paybridge_payoo::generated::caller_services::{
    AckCodeType, ApiCredential, ApiParamType, CALL_TO_PARTNER_ACTION, CallToPartner,
    CallToPartnerResponse, Error, GetOrderInformationRequestType,
};

fn sample(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/../../schemas/payoo/samples/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

#[test]
fn soap_action_constant() {
    assert_eq!(CALL_TO_PARTNER_ACTION, "PayooBPGAdapter/CallToPartner");
}

#[test]
fn request_samples_decode_and_reencode_in_both_versions() {
    for (file, version) in [
        ("soap11-request.xml", SoapVersion::V11),
        ("soap12-request.xml", SoapVersion::V12),
    ] {
        let xml = sample(file);
        let env: Envelope<ApiCredential, CallToPartner> = Envelope::from_xml(&xml).unwrap();
        assert_eq!(env.version, version);
        let s = Some("string".to_owned());
        assert_eq!(
            env.header,
            Some(ApiCredential {
                api_username: s.clone(),
                api_password: s.clone(),
                api_signature: s.clone(),
                timestamp: s.clone()
            })
        );
        assert_eq!(env.body.api_name, s);
        assert_eq!(
            env.body.api_param,
            Some(ApiParamType {
                xsi_type: None,
                digital_signature: s.clone()
            })
        );
        let again = env.to_xml().unwrap();
        assert_eq!(
            canonicalize(&again).unwrap(),
            canonicalize(&xml).unwrap(),
            "{again}"
        );
    }
}

#[test]
fn response_samples_decode_with_every_value() {
    for (file, version) in [
        ("soap11-response.xml", SoapVersion::V11),
        ("soap12-response.xml", SoapVersion::V12),
    ] {
        let xml = sample(file)
            .replace(
                "<SeverityCode>int</SeverityCode>",
                "<SeverityCode>2</SeverityCode>",
            )
            .replace(
                "Success or SuccessWithWarning or Failure",
                "SuccessWithWarning",
            );
        let env: Envelope<ApiCredential, CallToPartnerResponse> = Envelope::from_xml(&xml).unwrap();
        assert_eq!(env.version, version);
        let r = env.body.call_to_partner_result.clone().unwrap();
        assert_eq!(r.digital_signature.as_deref(), Some("string"));
        assert_eq!(
            r.error,
            Some(Error {
                severity_code: 2,
                message: Some("string".into())
            })
        );
        assert_eq!(r.ack_code, AckCodeType::SuccessWithWarning);
        let again = env.to_xml().unwrap();
        assert_eq!(
            canonicalize(&again).unwrap(),
            canonicalize(&xml).unwrap(),
            "{again}"
        );
    }
}

#[test]
fn an_undocumented_ack_code_is_not_silently_defaulted() {
    let xml = sample("soap11-response.xml")
        .replace(
            "<SeverityCode>int</SeverityCode>",
            "<SeverityCode>2</SeverityCode>",
        )
        .replace("Success or SuccessWithWarning or Failure", "Bogus");
    let env: Envelope<ApiCredential, CallToPartnerResponse> = Envelope::from_xml(&xml).unwrap();
    assert_eq!(
        env.body.call_to_partner_result.unwrap().ack_code,
        AckCodeType::Undocumented
    );
}

#[test]
fn derived_request_type_serializes_fields_in_declared_order() {
    let req = GetOrderInformationRequestType {
        xsi_type: Some("GetOrderInformationRequestType".into()),
        digital_signature: Some("abc".into()),
        order_id: Some("ORD-1".into()),
        shop_id: 123,
    };
    let xml = paybridge_core::soap::to_fragment(&req).unwrap();
    let canon = canonicalize(&xml).unwrap();
    let expected = "{PayooBPGAdapter}GetOrderInformationRequestType {http://www.w3.org/2001/XMLSchema-instance}type=\"GetOrderInformationRequestType\"\n  {PayooBPGAdapter}DigitalSignature = \"abc\"\n  {PayooBPGAdapter}OrderID = \"ORD-1\"\n  {PayooBPGAdapter}ShopID = \"123\"\n";
    assert_eq!(canon, expected, "{xml}");
}
