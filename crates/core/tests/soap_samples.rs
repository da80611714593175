//! The SOAP samples of the provider pages (copied to `schemas/*/samples/`) decode into
//! yaserde payloads with every value, and re-encode to the same structure: element names,
//! namespaces, header.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

use paybridge_core::soap::{Envelope, RawEnvelope, SoapVersion};
use paybridge_core::xml::canonicalize;
use yaserde::{YaDeserialize, YaSerialize};

fn sample(provider: &str, name: &str) -> String {
    let path = format!(
        "{}/../../schemas/{provider}/samples/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[derive(Debug, Default, PartialEq, YaSerialize, YaDeserialize)]
#[yaserde(rename = "APICredential", prefix = "p", default_namespace = "p", namespaces = { "p" = "PayooBPGAdapter" })]
struct ApiCredential {
    #[yaserde(rename = "APIUsername", prefix = "p")]
    api_username: String,
    #[yaserde(rename = "APIPassword", prefix = "p")]
    api_password: String,
    #[yaserde(rename = "APISignature", prefix = "p")]
    api_signature: String,
    #[yaserde(rename = "Timestamp", prefix = "p")]
    timestamp: String,
}

#[derive(Debug, Default, PartialEq, YaSerialize, YaDeserialize)]
#[yaserde(rename = "_APIParam", prefix = "p", default_namespace = "p", namespaces = { "p" = "PayooBPGAdapter" })]
struct ApiParam {
    #[yaserde(rename = "DigitalSignature", prefix = "p")]
    digital_signature: String,
}

#[derive(Debug, Default, PartialEq, YaSerialize, YaDeserialize)]
#[yaserde(rename = "CallToPartner", prefix = "p", default_namespace = "p", namespaces = { "p" = "PayooBPGAdapter" })]
struct CallToPartner {
    #[yaserde(rename = "_APIName", prefix = "p")]
    api_name: String,
    #[yaserde(rename = "_APIParam", prefix = "p")]
    api_param: ApiParam,
}

#[derive(Debug, Default, PartialEq, YaSerialize, YaDeserialize)]
#[yaserde(rename = "Error", prefix = "p", default_namespace = "p", namespaces = { "p" = "PayooBPGAdapter" })]
struct PayooError {
    #[yaserde(rename = "SeverityCode", prefix = "p")]
    severity_code: String,
    #[yaserde(rename = "Message", prefix = "p")]
    message: String,
}

#[derive(Debug, Default, PartialEq, YaSerialize, YaDeserialize)]
#[yaserde(rename = "CallToPartnerResult", prefix = "p", default_namespace = "p", namespaces = { "p" = "PayooBPGAdapter" })]
struct CallToPartnerResult {
    #[yaserde(rename = "DigitalSignature", prefix = "p")]
    digital_signature: String,
    #[yaserde(rename = "Error", prefix = "p")]
    error: Option<PayooError>,
    #[yaserde(rename = "AckCode", prefix = "p")]
    ack_code: String,
}

#[derive(Debug, Default, PartialEq, YaSerialize, YaDeserialize)]
#[yaserde(rename = "CallToPartnerResponse", prefix = "p", default_namespace = "p", namespaces = { "p" = "PayooBPGAdapter" })]
struct CallToPartnerResponse {
    #[yaserde(rename = "CallToPartnerResult", prefix = "p")]
    result: CallToPartnerResult,
}

fn assert_roundtrip<H, B>(xml: &str, expected_version: SoapVersion) -> Envelope<H, B>
where
    H: YaSerialize + YaDeserialize + PartialEq + std::fmt::Debug,
    B: YaSerialize + YaDeserialize + PartialEq + std::fmt::Debug,
{
    let env: Envelope<H, B> = Envelope::from_xml(xml).unwrap();
    assert_eq!(env.version, expected_version);
    let again = env.to_xml().unwrap();
    assert_eq!(
        canonicalize(&again).unwrap(),
        canonicalize(xml).unwrap(),
        "re-encoded:\n{again}"
    );
    env
}

#[test]
fn payoo_request_samples_roundtrip_in_both_versions() {
    for (file, version) in [
        ("soap11-request.xml", SoapVersion::V11),
        ("soap12-request.xml", SoapVersion::V12),
    ] {
        let env = assert_roundtrip::<ApiCredential, CallToPartner>(&sample("payoo", file), version);
        assert_eq!(
            env.header,
            Some(ApiCredential {
                api_username: "string".into(),
                api_password: "string".into(),
                api_signature: "string".into(),
                timestamp: "string".into(),
            })
        );
        assert_eq!(env.body.api_name, "string");
        assert_eq!(env.body.api_param.digital_signature, "string");
    }
}

#[test]
fn payoo_response_samples_roundtrip_in_both_versions() {
    for (file, version) in [
        ("soap11-response.xml", SoapVersion::V11),
        ("soap12-response.xml", SoapVersion::V12),
    ] {
        let env = assert_roundtrip::<ApiCredential, CallToPartnerResponse>(
            &sample("payoo", file),
            version,
        );
        assert_eq!(env.header, None);
        let r = env.body.result;
        assert_eq!(r.digital_signature, "string");
        assert_eq!(
            r.error,
            Some(PayooError {
                severity_code: "int".into(),
                message: "string".into()
            })
        );
        assert_eq!(r.ack_code, "Success or SuccessWithWarning or Failure");
    }
}

#[derive(Debug, Default, PartialEq, YaSerialize, YaDeserialize)]
#[yaserde(rename = "BuyerInfo", prefix = "t", default_namespace = "t", namespaces = { "t" = "http://tempuri.org/" })]
struct BuyerInfo {
    #[yaserde(rename = "PayerID", prefix = "t")]
    payer_id: String,
    #[yaserde(rename = "BusinessName", prefix = "t")]
    business_name: String,
    #[yaserde(rename = "FirstName", prefix = "t")]
    first_name: String,
    #[yaserde(rename = "LastName", prefix = "t")]
    last_name: String,
    #[yaserde(rename = "PayerEmail", prefix = "t")]
    payer_email: String,
    #[yaserde(rename = "Address", prefix = "t")]
    address: String,
    #[yaserde(rename = "ContactPhone", prefix = "t")]
    contact_phone: String,
    #[yaserde(rename = "ResidenceCountry", prefix = "t")]
    residence_country: String,
    #[yaserde(rename = "PayerStatus", prefix = "t")]
    payer_status: String,
}

#[derive(Debug, Default, PartialEq, YaSerialize, YaDeserialize)]
#[yaserde(rename = "cDataRecordIPN", prefix = "t", default_namespace = "t", namespaces = { "t" = "http://tempuri.org/" })]
struct Record {
    #[yaserde(rename = "PayTransactionID", prefix = "t")]
    pay_transaction_id: String,
    #[yaserde(rename = "PayProviderID", prefix = "t")]
    pay_provider_id: String,
    #[yaserde(rename = "SalesSiteID", prefix = "t")]
    sales_site_id: String,
    #[yaserde(rename = "SalesSiteProductID", prefix = "t")]
    sales_site_product_id: String,
    #[yaserde(rename = "CustomerID", prefix = "t")]
    customer_id: String,
    #[yaserde(rename = "custopmerIP", prefix = "t")]
    customer_ip: String,
    #[yaserde(rename = "PaymentDateTime", prefix = "t")]
    payment_date_time: String,
    #[yaserde(rename = "TransactionTypeID", prefix = "t")]
    transaction_type_id: String,
    #[yaserde(rename = "PayProviderTransactionID", prefix = "t")]
    pay_provider_transaction_id: String,
    #[yaserde(rename = "PayProviderAmount", prefix = "t")]
    pay_provider_amount: String,
    #[yaserde(rename = "PromoCode", prefix = "t")]
    promo_code: String,
    #[yaserde(rename = "SaleDescription", prefix = "t")]
    sale_description: String,
    #[yaserde(rename = "SaleQuantity", prefix = "t")]
    sale_quantity: String,
    #[yaserde(rename = "CustomReferrer", prefix = "t")]
    custom_referrer: String,
    #[yaserde(rename = "Currency", prefix = "t")]
    currency: String,
    #[yaserde(rename = "fraud_status", prefix = "t")]
    fraud_status: String,
    #[yaserde(rename = "message_type", prefix = "t")]
    message_type: String,
    #[yaserde(rename = "BuyerInfo", prefix = "t")]
    buyer_info: BuyerInfo,
    #[yaserde(rename = "VerifyHASH", prefix = "t")]
    verify_hash: String,
}

#[derive(Debug, Default, PartialEq, YaSerialize, YaDeserialize)]
#[yaserde(rename = "IPNEventRaised", prefix = "t", default_namespace = "t", namespaces = { "t" = "http://tempuri.org/" })]
struct IpnEventRaised {
    #[yaserde(rename = "cDataRecordIPN", prefix = "t")]
    record: Record,
}

#[derive(Debug, Default, PartialEq, YaSerialize, YaDeserialize)]
#[yaserde(rename = "IPNEventRaisedResult", prefix = "t", default_namespace = "t", namespaces = { "t" = "http://tempuri.org/" })]
struct IpnResult {
    #[yaserde(rename = "HasErrors", prefix = "t")]
    has_errors: String,
    #[yaserde(rename = "ErrorCode", prefix = "t")]
    error_code: String,
    #[yaserde(rename = "Message", prefix = "t")]
    message: String,
    #[yaserde(rename = "ExtraMessage", prefix = "t")]
    extra_message: String,
}

#[derive(Debug, Default, PartialEq, YaSerialize, YaDeserialize)]
#[yaserde(rename = "IPNEventRaisedResponse", prefix = "t", default_namespace = "t", namespaces = { "t" = "http://tempuri.org/" })]
struct IpnResponse {
    #[yaserde(rename = "IPNEventRaisedResult", prefix = "t")]
    result: IpnResult,
}

#[test]
fn linkifier_request_samples_roundtrip_in_both_versions() {
    for (file, version) in [
        ("soap11-request.xml", SoapVersion::V11),
        ("soap12-request.xml", SoapVersion::V12),
    ] {
        let env =
            assert_roundtrip::<BuyerInfo, IpnEventRaised>(&sample("linkifier", file), version);
        assert_eq!(env.header, None);
        let r = env.body.record;
        for (name, value, expected) in [
            ("PayTransactionID", &r.pay_transaction_id, "string"),
            ("PayProviderID", &r.pay_provider_id, "long"),
            ("SalesSiteID", &r.sales_site_id, "long"),
            ("SalesSiteProductID", &r.sales_site_product_id, "long"),
            ("CustomerID", &r.customer_id, "long"),
            ("custopmerIP", &r.customer_ip, "string"),
            ("PaymentDateTime", &r.payment_date_time, "string"),
            ("TransactionTypeID", &r.transaction_type_id, "int"),
            (
                "PayProviderTransactionID",
                &r.pay_provider_transaction_id,
                "string",
            ),
            ("PayProviderAmount", &r.pay_provider_amount, "double"),
            ("PromoCode", &r.promo_code, "string"),
            ("SaleDescription", &r.sale_description, "string"),
            ("SaleQuantity", &r.sale_quantity, "int"),
            ("CustomReferrer", &r.custom_referrer, "string"),
            ("Currency", &r.currency, "string"),
            ("fraud_status", &r.fraud_status, "string"),
            ("message_type", &r.message_type, "string"),
            ("VerifyHASH", &r.verify_hash, "string"),
            ("PayerID", &r.buyer_info.payer_id, "string"),
            ("BusinessName", &r.buyer_info.business_name, "string"),
            ("FirstName", &r.buyer_info.first_name, "string"),
            ("LastName", &r.buyer_info.last_name, "string"),
            ("PayerEmail", &r.buyer_info.payer_email, "string"),
            ("Address", &r.buyer_info.address, "string"),
            ("ContactPhone", &r.buyer_info.contact_phone, "string"),
            (
                "ResidenceCountry",
                &r.buyer_info.residence_country,
                "string",
            ),
            ("PayerStatus", &r.buyer_info.payer_status, "string"),
        ] {
            assert_eq!(value, expected, "{file}: {name}");
        }
    }
}

#[test]
fn linkifier_response_samples_roundtrip_in_both_versions() {
    for (file, version) in [
        ("soap11-response.xml", SoapVersion::V11),
        ("soap12-response.xml", SoapVersion::V12),
    ] {
        let env = assert_roundtrip::<BuyerInfo, IpnResponse>(&sample("linkifier", file), version);
        assert_eq!(
            env.body.result,
            IpnResult {
                has_errors: "boolean".into(),
                error_code: "int".into(),
                message: "string".into(),
                extra_message: "string".into(),
            }
        );
    }
}

#[test]
fn raw_envelope_exposes_header_and_body_as_standalone_elements() {
    let raw = RawEnvelope::parse(&sample("payoo", "soap11-request.xml")).unwrap();
    assert_eq!(raw.headers.len(), 1);
    assert!(raw.headers[0].starts_with("<APICredential "));
    assert!(raw.headers[0].contains(" xmlns=\"PayooBPGAdapter\""));
    // The body fragment declares the envelope's namespaces it may use (xsi, xsd, soap).
    assert!(
        raw.body
            .contains("xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"")
    );
}

const FAULT_11: &str = r#"<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><soap:Fault><faultcode>soap:Client</faultcode><faultstring>Server was unable to read request. ---&gt; There is an error in XML document (1, 2).</faultstring><detail /></soap:Fault></soap:Body></soap:Envelope>"#;
const FAULT_12: &str = r#"<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body><soap:Fault><soap:Code><soap:Value>soap:Receiver</soap:Value></soap:Code><soap:Reason><soap:Text xml:lang="en">Server was unable to process request. ---&gt; Lỗi hệ thống</soap:Text></soap:Reason><soap:Detail /></soap:Fault></soap:Body></soap:Envelope>"#;

#[test]
fn faults_decode_to_provider_errors_in_both_versions() {
    match RawEnvelope::parse(FAULT_11) {
        Err(paybridge_core::Error::Provider {
            code,
            message,
            retryable,
        }) => {
            assert_eq!(code.as_deref(), Some("soap:Client"));
            assert!(
                message.contains("Server was unable to read request. ---> There is an error"),
                "{message}"
            );
            assert!(!retryable);
        }
        other => panic!("expected a provider error, got {other:?}"),
    }
    match RawEnvelope::parse(FAULT_12) {
        Err(paybridge_core::Error::Provider {
            code,
            message,
            retryable,
        }) => {
            assert_eq!(code.as_deref(), Some("soap:Receiver"));
            assert!(message.contains("Lỗi hệ thống"), "{message}");
            assert!(retryable);
        }
        other => panic!("expected a provider error, got {other:?}"),
    }
}
