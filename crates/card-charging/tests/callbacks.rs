//! Callback verification on the provider page's examples, tampering, GET/POST, duplicates.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

use paybridge_card_charging::{
    CallbackVerifier, CardChargingError, ChargeStatus, callback_sign, deduplicate,
};
use paybridge_core::{Currency, InMemorySeenStore, Money, PaymentStatus, RawNotification};
use secrecy::SecretString;

/// The provider page's POST example, verbatim except the sign (its partner key is unknown):
/// re-signed with our test key over the same code and serial.
const POST_EXAMPLE: &str = r#"{"status":1,"message":"Th\u00e0nh c\u00f4ng","request_id":"989876","declared_value":50000,"value":50000,"amount":25000,"code":"314688440422676","serial":"10003395125761","telco":"VIETTEL","trans_id":54180,"callback_sign":"17b118fe86852c52ea126c9537617f6d"}"#;
/// The provider page's GET example (its curl form, percent-encoded).
const GET_EXAMPLE: &str = "status=1&message=Th%C3%A0nh%20c%C3%B4ng&request_id=989876&declared_value=50000&card_value=50000&value=50000&amount=25000&code=314688440422676&serial=10003395125761&telco=VIETTEL&trans_id=343424&callback_sign=17b118fe86852c52ea126c9537617f6d";
const KEY: &str = "test-partner-key";

fn key() -> SecretString {
    SecretString::from(KEY)
}

fn signed(text: &str) -> String {
    text.replace(
        "17b118fe86852c52ea126c9537617f6d",
        &callback_sign(KEY, "314688440422676", "10003395125761"),
    )
}

fn vnd(s: &str) -> Money {
    Money::parse(s, Currency::VND).unwrap()
}

#[test]
fn post_example_decodes_with_every_value() {
    let cb = CallbackVerifier::new(key())
        .verify_json(signed(POST_EXAMPLE).as_bytes())
        .unwrap();
    assert_eq!(cb.status, ChargeStatus::Success);
    assert_eq!(cb.payment_status(), PaymentStatus::Succeeded);
    assert_eq!(cb.message, "Thành công");
    assert_eq!(cb.request_id, "989876");
    assert_eq!(cb.declared_value, Some(vnd("50000")));
    assert_eq!(cb.value, Some(vnd("50000")));
    assert_eq!(cb.card_value, None);
    assert_eq!(cb.amount, Some(vnd("25000")));
    assert_eq!(cb.serial, "10003395125761");
    assert_eq!(cb.telco, "VIETTEL");
    assert_eq!(cb.trans_id.as_deref(), Some("54180"));
    assert!(!cb.amount_mismatch());
    assert!(
        !format!("{cb:?}").contains("314688440422676"),
        "card code leaked into Debug"
    );
}

#[test]
fn get_example_decodes_with_card_value() {
    for q in [signed(GET_EXAMPLE), format!("?{}", signed(GET_EXAMPLE))] {
        let cb = CallbackVerifier::new(key()).verify_query(&q).unwrap();
        assert_eq!(cb.status, ChargeStatus::Success);
        assert_eq!(cb.message, "Thành công");
        assert_eq!(cb.card_value, Some(vnd("50000")));
        assert_eq!(cb.amount, Some(vnd("25000")));
        assert_eq!(cb.trans_id.as_deref(), Some("343424"));
    }
    // Through RawNotification, both methods.
    assert!(
        CallbackVerifier::new(key())
            .verify(&RawNotification::get(&signed(GET_EXAMPLE)))
            .is_ok()
    );
    assert!(
        CallbackVerifier::new(key())
            .verify(&RawNotification::post(
                "application/json",
                signed(POST_EXAMPLE)
            ))
            .is_ok()
    );
    assert!(
        CallbackVerifier::new(key())
            .verify(&RawNotification::post(
                "application/x-www-form-urlencoded",
                signed(GET_EXAMPLE)
            ))
            .is_ok()
    );
}

#[test]
fn original_sign_does_not_verify_under_another_key() {
    let err = CallbackVerifier::new(key())
        .verify_json(POST_EXAMPLE.as_bytes())
        .unwrap_err();
    assert!(matches!(err, CardChargingError::Signature(_)));
}

#[test]
fn tampering_with_a_signed_field_or_the_sign_is_rejected() {
    let good = signed(POST_EXAMPLE);
    let good_sign = callback_sign(KEY, "314688440422676", "10003395125761");
    let mut flipped = good_sign.clone().into_bytes();
    flipped[0] = if flipped[0] == b'a' { b'b' } else { b'a' };
    let tampered = [
        good.replace("314688440422676", "314688440422677"),
        good.replace("10003395125761", "10003395125762"),
        good.replace(&good_sign, std::str::from_utf8(&flipped).unwrap()),
        good.replace(&good_sign, ""),
        good.replace(&format!(",\"callback_sign\":\"{good_sign}\""), ""),
    ];
    for t in tampered {
        let err = CallbackVerifier::new(key())
            .verify_json(t.as_bytes())
            .unwrap_err();
        assert!(
            matches!(err, CardChargingError::Signature(_)),
            "{t}: {err:?}"
        );
    }
    let q = signed(GET_EXAMPLE).replace("serial=10003395125761", "serial=10003395125760");
    assert!(matches!(
        CallbackVerifier::new(key()).verify_query(&q),
        Err(CardChargingError::Signature(_))
    ));
}

#[test]
fn sign_comparison_ignores_hex_case() {
    let upper = POST_EXAMPLE.replace(
        "17b118fe86852c52ea126c9537617f6d",
        &callback_sign(KEY, "314688440422676", "10003395125761").to_uppercase(),
    );
    assert!(
        CallbackVerifier::new(key())
            .verify_json(upper.as_bytes())
            .is_ok()
    );
}

#[tokio::test]
async fn duplicate_callback_is_reported_and_never_fresh_twice() {
    let store = InMemorySeenStore::new();
    let first = deduplicate(
        CallbackVerifier::new(key())
            .verify_json(signed(POST_EXAMPLE).as_bytes())
            .unwrap(),
        &store,
    )
    .await
    .unwrap();
    assert!(!first.duplicate);
    let again = deduplicate(
        CallbackVerifier::new(key())
            .verify_json(signed(POST_EXAMPLE).as_bytes())
            .unwrap(),
        &store,
    )
    .await
    .unwrap();
    assert!(again.duplicate);
    // The same card delivered by GET is the same request and status: a duplicate too.
    let by_get = deduplicate(
        CallbackVerifier::new(key())
            .verify_query(&signed(GET_EXAMPLE))
            .unwrap(),
        &store,
    )
    .await
    .unwrap();
    assert!(by_get.duplicate);
    // A different final status for the same request is news.
    let failed = signed(POST_EXAMPLE).replace("\"status\":1", "\"status\":3");
    let other = deduplicate(
        CallbackVerifier::new(key())
            .verify_json(failed.as_bytes())
            .unwrap(),
        &store,
    )
    .await
    .unwrap();
    assert!(!other.duplicate);
}

proptest::proptest! {
    #[test]
    fn arbitrary_callback_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
        let _ = CallbackVerifier::new(key()).verify_json(&bytes);
        let _ = CallbackVerifier::new(key()).verify_query(&String::from_utf8_lossy(&bytes));
        let _ = CallbackVerifier::new(key()).verify(&RawNotification::post("application/x-www-form-urlencoded", bytes.clone()));
    }

    #[test]
    fn json_shaped_callbacks_never_panic(status in proptest::prelude::any::<i64>(), amount in "\\PC{0,12}", value in proptest::prelude::any::<f64>()) {
        let body = serde_json::json!({"status": status, "amount": amount, "value": value, "request_id": "1", "code": "1", "serial": "2", "callback_sign": "x"}).to_string();
        let _ = CallbackVerifier::new(key()).verify_json(body.as_bytes());
    }
}
