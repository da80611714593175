//! The booking API's XML samples through the generated types: every value decoded, both
//! `DataContract` namespaces kept, and the request re-encoded to the same structure.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

use paybridge_core::soap::{from_fragment, to_fragment};
use paybridge_core::xml::canonicalize;
use paybridge_qvickly::generated::booking_api::{
    IpnCallBackResponse, QvicklyCheckoutIpnCallBack, QvicklyIpnCallbackResponseData,
};

fn sample(name: &str) -> String {
    let text = std::fs::read_to_string(format!(
        "{}/../../schemas/qvickly/samples/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    // Drop the provenance comment line: the payload starts at the root element.
    text.lines()
        .filter(|l| !l.starts_with("<!--"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn request_sample_decodes_with_every_value_and_reencodes() {
    let xml = sample("ipncallback-request.xml");
    let v: QvicklyCheckoutIpnCallBack = from_fragment(&xml).unwrap();
    assert_eq!(v.booking_id, Some(0));
    assert_eq!(
        v.company_id.as_deref(),
        Some("00000000-0000-0000-0000-000000000000")
    );
    let c = v.credentials.clone().unwrap();
    for (name, value) in [
        ("client", &c.client),
        ("hash", &c.hash),
        ("id", &c.id),
        ("language", &c.language),
        ("test", &c.test),
        ("time", &c.time),
        ("version", &c.version),
    ] {
        assert_eq!(value.as_deref(), Some("String"), "credentials.{name}");
    }
    let sd = c.serverdata.unwrap();
    for (name, value) in [
        ("GATEWAY_INTERFACE", &sd.gateway_interface),
        ("HTTP_ACCEPT", &sd.http_accept),
        ("HTTP_ACCEPT_ENCODING", &sd.http_accept_encoding),
        ("HTTP_ACCEPT_LANGUAGE", &sd.http_accept_language),
        ("HTTP_CACHE_CONTROL", &sd.http_cache_control),
        ("HTTP_CONNECTION", &sd.http_connection),
        ("HTTP_HOST", &sd.http_host),
        ("HTTP_USER_AGENT", &sd.http_user_agent),
        ("PATH", &sd.path),
        ("QUERY_STRING", &sd.query_string),
        ("REMOTE_ADDR", &sd.remote_addr),
        ("REMOTE_PORT", &sd.remote_port),
        ("REQUEST_METHOD", &sd.request_method),
        ("REQUEST_TIME", &sd.request_time),
        ("SERVER_ADDR", &sd.server_addr),
        ("SERVER_NAME", &sd.server_name),
        ("SERVER_PORT", &sd.server_port),
        ("SERVER_PROTOCOL", &sd.server_protocol),
        ("SERVER_SOFTWARE", &sd.server_software),
    ] {
        assert_eq!(value.as_deref(), Some("String"), "serverdata.{name}");
    }
    let s = Some("String".to_owned());
    assert_eq!(
        v.data,
        Some(QvicklyIpnCallbackResponseData {
            number: s.clone(),
            orderid: s.clone(),
            status: s.clone(),
            url: s.clone()
        })
    );

    let again = to_fragment(&v).unwrap();
    assert_eq!(
        canonicalize(&again).unwrap(),
        canonicalize(&xml).unwrap(),
        "{again}"
    );
    // The data children stay in their own DataContract namespace.
    assert!(canonicalize(&again).unwrap().contains(
        "{http://schemas.datacontract.org/2004/07/QvicklyIntegration.Models.Payment}orderid"
    ));
}

#[test]
fn response_sample_decodes() {
    let v: IpnCallBackResponse = from_fragment(&sample("ipncallback-response.xml")).unwrap();
    assert_eq!(v.message.as_deref(), Some("String"));
    assert_eq!(v.success, Some(false));
    let ok: IpnCallBackResponse = from_fragment(
        r#"<IpnCallBackResponse xmlns="http://schemas.datacontract.org/2004/07/BokaMera.API.ServiceModel.Dtos"><Message>Ödeme alındı — tack</Message><Success>true</Success></IpnCallBackResponse>"#,
    )
    .unwrap();
    assert_eq!(ok.success, Some(true));
    assert_eq!(ok.message.as_deref(), Some("Ödeme alındı — tack"));
}

#[test]
fn data_in_the_wrong_namespace_is_not_silently_accepted() {
    // The DESIGN trap: a qualification mismatch must not decode to empty fields unnoticed.
    let wrong = sample("ipncallback-request.xml").replace(
        "xmlns:d2p1=\"http://schemas.datacontract.org/2004/07/QvicklyIntegration.Models.Payment\"",
        "xmlns:d2p1=\"urn:wrong\"",
    );
    let decoded: Result<QvicklyCheckoutIpnCallBack, _> = from_fragment(&wrong);
    if let Ok(v) = decoded {
        assert_ne!(v.data.and_then(|d| d.orderid).as_deref(), Some("String"));
    }
}

proptest::proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
        let text = String::from_utf8_lossy(&bytes);
        let _: Result<QvicklyCheckoutIpnCallBack, _> = from_fragment(&text);
    }
}
