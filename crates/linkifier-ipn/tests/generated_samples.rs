//! The provider page's SOAP samples through the generated types, SOAP 1.1 and 1.2.
//!
//! The published samples hold type placeholders (`long`, `int`, `double`, `boolean`); those
//! that are not valid values of their type are replaced by values before decoding.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

mod common;

use common::{sample, with_values};
use paybridge_core::soap::{Envelope, SoapVersion};
use paybridge_core::xml::{XsdDecimal, canonicalize};
use paybridge_linkifier_ipn::generated::payment_notification::{
    BuyerInfo, CDataRecordIpn, IPN_EVENT_RAISED_ACTION, IpnEventRaised, IpnEventRaisedResponse,
    IpnEventRaisedResult,
};

#[test]
fn soap_action_constant() {
    assert_eq!(IPN_EVENT_RAISED_ACTION, "http://tempuri.org/IPNEventRaised");
}

#[test]
fn request_samples_decode_and_reencode_in_both_versions() {
    for (file, version) in [
        ("soap11-request.xml", SoapVersion::V11),
        ("soap12-request.xml", SoapVersion::V12),
    ] {
        let xml = with_values(&sample(file));
        let env: Envelope<BuyerInfo, IpnEventRaised> = Envelope::from_xml(&xml).unwrap();
        assert_eq!(env.version, version);
        let s = || Some("string".to_owned());
        let expected = CDataRecordIpn {
            pay_transaction_id: s(),
            pay_provider_id: 7,
            sales_site_id: 12,
            sales_site_product_id: 345,
            customer_id: 9_000_000_001,
            customer_ip: s(),
            payment_date_time: s(),
            transaction_type_id: 1,
            pay_provider_transaction_id: s(),
            pay_provider_amount: "19.99".parse::<XsdDecimal>().unwrap(),
            promo_code: s(),
            sale_description: s(),
            sale_quantity: 2,
            custom_referrer: s(),
            currency: s(),
            fraud_status: s(),
            message_type: s(),
            buyer_info: Some(BuyerInfo {
                payer_id: s(),
                business_name: s(),
                first_name: s(),
                last_name: s(),
                payer_email: s(),
                address: s(),
                contact_phone: s(),
                residence_country: s(),
                payer_status: s(),
            }),
            verify_hash: s(),
        };
        assert_eq!(env.body.c_data_record_ipn, Some(expected));
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
        let xml = with_values(&sample(file));
        let env: Envelope<BuyerInfo, IpnEventRaisedResponse> = Envelope::from_xml(&xml).unwrap();
        assert_eq!(env.version, version);
        assert_eq!(
            env.body.ipn_event_raised_result,
            Some(IpnEventRaisedResult {
                has_errors: true,
                error_code: 17,
                message: Some("string".into()),
                extra_message: Some("string".into()),
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
