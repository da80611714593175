//! Callback verification in the three forms, byte-exactly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

use paybridge_core::InMemorySeenStore;
use paybridge_core::signature::hmac_sha512_hex;
use paybridge_qvickly::{
    CallbackFormat, CallbackVerifier, QvicklyError, QvicklyStatus, data_json, deduplicate,
};
use secrecy::SecretString;

const KEY: &str = "1234567890123456";

fn verifier(id: Option<&str>) -> CallbackVerifier {
    CallbackVerifier::new(id.map(str::to_owned), &SecretString::from(KEY)).unwrap()
}

/// A JSON body as Qvickly posts it: `data` is PHP's `json_encode` output, verbatim.
fn json_body(php_data: &str) -> String {
    let hash = hmac_sha512_hex(KEY.as_bytes(), php_data.as_bytes());
    format!(
        r#"{{"credentials":{{"hash":"{hash}","id":"123","version":"2.2.2","client":"Pluginname:Qvickly:1.0","serverdata":[],"time":"2026-11-23 12:00:00","test":"1","language":"sv"}},"data":{php_data}}}"#
    )
}

/// PHP 8 `json_encode` of data holding `/`, Swedish letters, an emoji and nested values
/// (hand-checked: `/` → `\/`, non-ASCII → lowercase `\uXXXX`, emoji → surrogate pair).
const PHP_DATA: &str = r#"{"number":"1001","status":"Paid","orderid":"P\/2026\/42","url":"https:\/\/shop.se\/tack?k=\u00e5\u00e4\u00f6","note":"\ud83d\ude00 Sm\u00f6rg\u00e5s","meta":{"items":[{"sku":"A\/1","qty":2}],"empty":{}}}"#;
/// The same data as a client might put it in a form field: unescaped, spaced.
const PLAIN_DATA: &str = "{ \"number\": \"1001\", \"status\": \"Paid\", \"orderid\": \"P/2026/42\", \"url\": \"https://shop.se/tack?k=åäö\", \"note\": \"😀 Smörgås\", \"meta\": {\"items\": [{\"sku\": \"A/1\", \"qty\": 2}], \"empty\": {}} }";

#[test]
fn notes_known_answer_vector() {
    let data = r#"{"id":"123456","amount":100,"currency":"SEK"}"#;
    let body = format!(
        r#"{{"credentials":{{"hash":"8dde708fea8cfcee68d6817975f37bf9b0c5412f3edfbd1d1d2bca629bd49f06a57bddcaac465ebe8306d25d6e1ff32e8a225c6b58ebef2ea39f51a6777f037a"}},"data":{data}}}"#
    );
    let cb = verifier(None).verify_body(body.as_bytes()).unwrap();
    assert_eq!(cb.signed_data, data);
}

#[test]
fn json_body_with_slashes_swedish_emoji_and_nesting_verifies() {
    let cb = verifier(Some("123"))
        .verify_body(json_body(PHP_DATA).as_bytes())
        .unwrap();
    assert_eq!(cb.number.as_deref(), Some("1001"));
    assert_eq!(cb.order_id.as_deref(), Some("P/2026/42"));
    assert_eq!(cb.url.as_deref(), Some("https://shop.se/tack?k=åäö"));
    assert_eq!(cb.status, QvicklyStatus::Paid);
    assert!(cb.test);
    assert_eq!(cb.merchant_id.as_deref(), Some("123"));
}

#[test]
fn form_body_is_reencoded_as_php_does() {
    let hash = hmac_sha512_hex(KEY.as_bytes(), PHP_DATA.as_bytes());
    let credentials = format!(r#"{{"hash":"{hash}","id":"123","test":0}}"#);
    let body: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("credentials", &credentials)
        .append_pair("data", PLAIN_DATA)
        .finish();
    let cb = verifier(Some("123"))
        .verify_as(CallbackFormat::Form, body.as_bytes())
        .unwrap();
    assert_eq!(cb.signed_data, PHP_DATA);
    assert_eq!(cb.order_id.as_deref(), Some("P/2026/42"));
    assert!(!cb.test);
    // Sniffed as a form too.
    assert!(verifier(None).verify_body(body.as_bytes()).is_ok());
}

#[test]
fn xml_dto_is_rebuilt_in_qvickly_key_order() {
    let data = data_json(
        Some("1001"),
        Some("Paid"),
        Some("P/2026/42"),
        Some("https://shop.se/tack?k=åäö"),
    );
    assert_eq!(
        data,
        r#"{"number":"1001","status":"Paid","orderid":"P\/2026\/42","url":"https:\/\/shop.se\/tack?k=\u00e5\u00e4\u00f6"}"#
    );
    let hash = hmac_sha512_hex(KEY.as_bytes(), data.as_bytes());
    let xml = format!(
        r#"<QvicklyCheckoutIpnCallBack xmlns:i="http://www.w3.org/2001/XMLSchema-instance" xmlns="http://schemas.datacontract.org/2004/07/BokaMera.API.ServiceModel.Dtos">
  <BookingId>0</BookingId>
  <credentials><hash>{hash}</hash><id>123</id><test>1</test></credentials>
  <data xmlns:d2p1="http://schemas.datacontract.org/2004/07/QvicklyIntegration.Models.Payment">
    <d2p1:number>1001</d2p1:number>
    <d2p1:orderid>P/2026/42</d2p1:orderid>
    <d2p1:status>Paid</d2p1:status>
    <d2p1:url>https://shop.se/tack?k=åäö</d2p1:url>
  </data>
</QvicklyCheckoutIpnCallBack>"#
    );
    let cb = verifier(Some("123")).verify_body(xml.as_bytes()).unwrap();
    assert_eq!(cb.status, QvicklyStatus::Paid);
    assert_eq!(cb.order_id.as_deref(), Some("P/2026/42"));
    let tampered = xml.replace(
        "<d2p1:status>Paid</d2p1:status>",
        "<d2p1:status>Cancelled</d2p1:status>",
    );
    assert!(matches!(
        verifier(None).verify_body(tampered.as_bytes()),
        Err(QvicklyError::Signature(_))
    ));
    let dtd = format!("<!DOCTYPE x [<!ENTITY a \"b\">]>{xml}");
    assert!(matches!(
        verifier(None).verify_body(dtd.as_bytes()),
        Err(QvicklyError::Core(_))
    ));
}

#[test]
fn every_tampered_byte_is_rejected() {
    let body = json_body(PHP_DATA);
    let start = body.find(r#""data":"#).unwrap() + 7;
    let v = verifier(None);
    assert!(v.verify_body(body.as_bytes()).is_ok());
    let bytes = body.as_bytes();
    for i in start..bytes.len() - 1 {
        let mut t = bytes.to_vec();
        t[i] = if t[i] == b'x' { b'y' } else { b'x' };
        assert!(v.verify_body(&t).is_err(), "tampered byte {i} accepted");
    }
    // Same decoded value, different bytes: still not what was signed.
    let upper = body.replace("\\u00e5", "\\u00E5");
    assert!(v.verify_body(upper.as_bytes()).is_err());
    // The hash itself.
    let hash_at = body.find("\"hash\":\"").unwrap() + 8;
    let mut t = bytes.to_vec();
    t[hash_at] = if t[hash_at] == b'0' { b'1' } else { b'0' };
    assert!(matches!(v.verify_body(&t), Err(QvicklyError::Signature(_))));
}

#[test]
fn another_merchant_id_is_refused() {
    let err = verifier(Some("999"))
        .verify_body(json_body(PHP_DATA).as_bytes())
        .unwrap_err();
    assert!(matches!(err, QvicklyError::Signature(_)), "{err:?}");
}

#[test]
fn a_callback_without_a_merchant_id_is_refused_when_one_is_configured() {
    let hash = hmac_sha512_hex(KEY.as_bytes(), PHP_DATA.as_bytes());
    let anonymous = format!(r#"{{"credentials":{{"hash":"{hash}"}},"data":{PHP_DATA}}}"#);
    let err = verifier(Some("123"))
        .verify_body(anonymous.as_bytes())
        .unwrap_err();
    assert!(
        matches!(&err, QvicklyError::Signature(m) if m.contains("names no merchant id")),
        "{err:?}"
    );
    // Without a configured id, the same callback verifies (nothing to compare with).
    assert!(verifier(None).verify_body(anonymous.as_bytes()).is_ok());
}

#[test]
fn form_numbers_are_signed_as_php_rewrites_them() {
    // A PHP client posts `data` as a form field; PHP's receiver verifies
    // `json_encode(json_decode($data))`, which writes 100.50 as 100.5, 1.0 as 1, 1e2 as 100.
    let plain =
        r#"{"number":"1001","status":"Paid","orderid":"P-1","amount":100.50,"qty":1.0,"big":1e2}"#;
    let php =
        r#"{"number":"1001","status":"Paid","orderid":"P-1","amount":100.5,"qty":1,"big":100}"#;
    let hash = hmac_sha512_hex(KEY.as_bytes(), php.as_bytes());
    let body: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("credentials", &format!(r#"{{"hash":"{hash}","id":"123"}}"#))
        .append_pair("data", plain)
        .finish();
    let cb = verifier(Some("123"))
        .verify_as(CallbackFormat::Form, body.as_bytes())
        .unwrap();
    assert_eq!(cb.signed_data, php);
    // A hash over the text as written (what PHP never signs) does not verify.
    let wrong = hmac_sha512_hex(KEY.as_bytes(), plain.as_bytes());
    let body = body.replace(&hash, &wrong);
    assert!(
        verifier(Some("123"))
            .verify_as(CallbackFormat::Form, body.as_bytes())
            .is_err()
    );
}

#[test]
fn wrong_secret_and_missing_hash_are_refused() {
    let other = CallbackVerifier::new(None, &SecretString::from("another-secret")).unwrap();
    assert!(matches!(
        other.verify_body(json_body(PHP_DATA).as_bytes()),
        Err(QvicklyError::Signature(_))
    ));
    let no_hash = format!(r#"{{"credentials":{{"id":"1"}},"data":{PHP_DATA}}}"#);
    assert!(matches!(
        verifier(None).verify_body(no_hash.as_bytes()),
        Err(QvicklyError::Signature(_))
    ));
}

#[tokio::test]
async fn repeated_callback_is_a_duplicate() {
    let store = InMemorySeenStore::new();
    let v = verifier(None);
    let first = deduplicate(
        v.verify_body(json_body(PHP_DATA).as_bytes()).unwrap(),
        &store,
    )
    .await
    .unwrap();
    assert!(!first.duplicate);
    let again = deduplicate(
        v.verify_body(json_body(PHP_DATA).as_bytes()).unwrap(),
        &store,
    )
    .await
    .unwrap();
    assert!(again.duplicate);
    let cancelled = PHP_DATA.replace("\"Paid\"", "\"Cancelled\"");
    let news = deduplicate(
        v.verify_body(json_body(&cancelled).as_bytes()).unwrap(),
        &store,
    )
    .await
    .unwrap();
    assert!(!news.duplicate);
}

#[test]
fn secrets_stay_out_of_debug() {
    let v = verifier(Some("123"));
    assert!(!format!("{v:?}").contains(KEY));
}

proptest::proptest! {
    #[test]
    fn arbitrary_bodies_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
        let v = verifier(None);
        let _ = v.verify_body(&bytes);
        for f in [CallbackFormat::Json, CallbackFormat::Form, CallbackFormat::Xml] {
            let _ = v.verify_as(f, &bytes);
        }
    }

    #[test]
    fn callback_shaped_bodies_never_panic(data in "\\PC{0,80}", hash in "[0-9a-f]{0,130}") {
        let body = format!(r#"{{"credentials":{{"hash":"{hash}"}},"data":{data}}}"#);
        let _ = verifier(None).verify_body(body.as_bytes());
    }
}
