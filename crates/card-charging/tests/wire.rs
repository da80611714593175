//! What the client puts on the wire and how it reads the gateway's answers.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

use std::collections::HashMap;
use std::time::Duration;

use paybridge_card_charging::{
    BodyEncoding, Card, CardChargingError, ChargeStatus, Client, Config, RequestId, SignScheme,
    Telco,
};
use paybridge_core::http::{HttpConfig, HttpTransport, RetryPolicy};
use paybridge_core::signature::md5_hex;
use paybridge_core::{Currency, Money, PaymentStatus};
use secrecy::SecretString;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The provider page's sample answer to `charging`.
const SAMPLE_ANSWER: &str = r#"{
  "trans_id": 8,
  "request_id": "323233",
  "amount": 35000,
  "value": null,
  "declared_value": 50000,
  "telco": "VIETTEL",
  "serial": "10004783347874",
  "code": "312821445892982",
  "status": 99,
  "message": "PENDING"
}"#;

fn transport(timeout: Duration) -> HttpTransport {
    HttpTransport::new(
        HttpConfig::default().timeout(timeout).retry(
            RetryPolicy::default()
                .max_attempts(3)
                .base_delay(Duration::from_millis(5))
                .max_delay(Duration::from_millis(10)),
        ),
    )
    .unwrap()
}

fn client(uri: &str, encoding: BodyEncoding, scheme: SignScheme, timeout: Duration) -> Client {
    let config = Config::new(
        format!("{uri}/chargingws/v2"),
        "3681148751",
        SecretString::from("partner-secret"),
    )
    .encoding(encoding)
    .sign_scheme(scheme);
    Client::new(config, transport(timeout)).unwrap()
}

fn sample_card() -> Card {
    Card::new(Telco::Viettel, "312821445892982", "10004783347874").unwrap()
}

fn vnd(s: &str) -> Money {
    Money::parse(s, Currency::VND).unwrap()
}

fn form_fields(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body).into_owned().collect()
}

fn expected_fields(command: &str, sign: &str) -> Vec<(String, String)> {
    [
        ("telco", "VIETTEL"),
        ("code", "312821445892982"),
        ("serial", "10004783347874"),
        ("amount", "50000"),
        ("request_id", "323233"),
        ("partner_id", "3681148751"),
        ("sign", sign),
        ("command", command),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect()
}

/// Without a socket: the testkit's recorder takes the request and answers the sample.
#[tokio::test]
async fn charging_sends_every_field_in_order_with_the_documented_sign() {
    let recorder = paybridge_testkit::RecordingTransport::new();
    recorder.answer(200, "application/json", SAMPLE_ANSWER);
    let config = Config::new(
        "https://gateway.example/chargingws/v2",
        "3681148751",
        SecretString::from("partner-secret"),
    );
    let c = Client::new(config, recorder.http()).unwrap();
    let result = c
        .charge(
            &sample_card(),
            vnd("50000"),
            &RequestId::new("323233").unwrap(),
        )
        .await
        .unwrap();

    let sign = md5_hex(&[b"partner-secret312821445892982", b"10004783347874"]);
    let sent = recorder.sent();
    assert_eq!(sent.len(), 1, "a charge is sent once");
    assert_eq!(sent[0].method, http::Method::POST);
    assert_eq!(sent[0].url, "https://gateway.example/chargingws/v2");
    assert_eq!(
        sent[0].header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        form_fields(&sent[0].body),
        expected_fields("charging", &sign)
    );

    // The sample answer, every value.
    assert_eq!(result.status, ChargeStatus::Pending);
    assert_eq!(result.payment_status(), PaymentStatus::Pending);
    assert_eq!(result.request_id, "323233");
    assert_eq!(result.trans_id.as_deref(), Some("8"));
    assert_eq!(result.amount, Some(vnd("35000")));
    assert_eq!(result.value, None);
    assert_eq!(result.declared_value, Some(vnd("50000")));
    assert_eq!(result.message, "PENDING");
    assert!(!result.amount_mismatch());
}

#[tokio::test]
async fn check_sends_the_same_fields_and_sign_with_command_check() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string(
            r#"{"trans_id":8,"request_id":"323233","amount":35000,"value":50000,"declared_value":50000,"status":1,"message":"Thành công"}"#,
        ))
        .mount(&server)
        .await;
    let c = client(
        &server.uri(),
        BodyEncoding::Form,
        SignScheme::CodeSerial,
        Duration::from_secs(5),
    );
    let r = c
        .check(
            &sample_card(),
            vnd("50000"),
            &RequestId::new("323233").unwrap(),
        )
        .await
        .unwrap();
    let sign = md5_hex(&[b"partner-secret312821445892982", b"10004783347874"]);
    let received = &server.received_requests().await.unwrap()[0];
    assert_eq!(form_fields(&received.body), expected_fields("check", &sign));
    assert_eq!(r.status, ChargeStatus::Success);
    assert_eq!(r.message, "Thành công");
    assert_eq!(r.value, Some(vnd("50000")));
}

#[tokio::test]
async fn other_encodings_and_sorted_sign_scheme() {
    let server = MockServer::start().await;
    Mock::given(path("/chargingws/v2"))
        .respond_with(ResponseTemplate::new(200).set_body_string(SAMPLE_ANSWER))
        .mount(&server)
        .await;
    let rid = RequestId::new("323233").unwrap();
    let sorted_sign = md5_hex(&[
        b"partner-secret",
        b"312821445892982",
        b"charging",
        b"3681148751",
        b"323233",
        b"10004783347874",
        b"VIETTEL",
    ]);

    client(
        &server.uri(),
        BodyEncoding::Json,
        SignScheme::SortedFields,
        Duration::from_secs(5),
    )
    .charge(&sample_card(), vnd("50000"), &rid)
    .await
    .unwrap();
    client(
        &server.uri(),
        BodyEncoding::Query,
        SignScheme::CodeSerial,
        Duration::from_secs(5),
    )
    .charge(&sample_card(), vnd("50000"), &rid)
    .await
    .unwrap();
    client(
        &server.uri(),
        BodyEncoding::Multipart,
        SignScheme::CodeSerial,
        Duration::from_secs(5),
    )
    .charge(&sample_card(), vnd("50000"), &rid)
    .await
    .unwrap();
    let reqs = server.received_requests().await.unwrap();

    assert_eq!(
        reqs[0].headers.get("content-type").unwrap(),
        "application/json"
    );
    let json: HashMap<String, String> = serde_json::from_slice(&reqs[0].body).unwrap();
    let expected: HashMap<String, String> = expected_fields("charging", &sorted_sign)
        .into_iter()
        .collect();
    assert_eq!(json, expected);

    assert_eq!(reqs[1].method.as_str(), "GET");
    let sign = md5_hex(&[b"partner-secret312821445892982", b"10004783347874"]);
    assert_eq!(
        form_fields(reqs[1].url.query().unwrap().as_bytes()),
        expected_fields("charging", &sign)
    );

    let ct = reqs[2]
        .headers
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(ct.starts_with("multipart/form-data; boundary="));
    let body = String::from_utf8(reqs[2].body.clone()).unwrap();
    for (k, v) in expected_fields("charging", &sign) {
        assert!(
            body.contains(&format!("name=\"{k}\"\r\n\r\n{v}\r\n")),
            "{k} missing in {body}"
        );
    }
}

#[tokio::test]
async fn charge_that_times_out_is_not_resent_and_says_to_check() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string(SAMPLE_ANSWER)
                .set_delay(Duration::from_secs(2)),
        )
        .mount(&server)
        .await;
    let c = client(
        &server.uri(),
        BodyEncoding::Form,
        SignScheme::CodeSerial,
        Duration::from_millis(150),
    );
    let err = c
        .charge(
            &sample_card(),
            vnd("50000"),
            &RequestId::new("777").unwrap(),
        )
        .await
        .unwrap_err();
    match &err {
        CardChargingError::Core(paybridge_core::Error::OutcomeUnknown {
            reference,
            operation,
            ..
        }) => {
            assert_eq!(reference, "777");
            assert_eq!(*operation, "charging");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(!err.retryable());
    assert!(!paybridge_core::Error::from(err).retryable());
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn check_is_retried_on_transient_failures() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string(SAMPLE_ANSWER))
        .mount(&server)
        .await;
    let c = client(
        &server.uri(),
        BodyEncoding::Form,
        SignScheme::CodeSerial,
        Duration::from_secs(5),
    );
    let r = c
        .check(
            &sample_card(),
            vnd("50000"),
            &RequestId::new("323233").unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(r.status, ChargeStatus::Pending);
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

/// A form charge answered with `status` and `body`: the error and how many requests arrived.
async fn charge_answered(status: u16, body: &str) -> (CardChargingError, usize) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(status).set_body_string(body))
        .mount(&server)
        .await;
    let c = client(
        &server.uri(),
        BodyEncoding::Form,
        SignScheme::CodeSerial,
        Duration::from_secs(5),
    );
    let err = c
        .charge(&sample_card(), vnd("50000"), &RequestId::new("1").unwrap())
        .await
        .unwrap_err();
    (err, server.received_requests().await.unwrap().len())
}

#[tokio::test]
async fn a_charge_answered_503_is_not_retried_and_its_outcome_is_unknown() {
    let (err, requests) = charge_answered(503, "busy").await;
    assert!(
        matches!(
            &err,
            CardChargingError::Core(paybridge_core::Error::OutcomeUnknown { reference, .. })
                if reference == "1"
        ),
        "{err:?}"
    );
    assert!(!err.retryable());
    assert_eq!(requests, 1);
}

#[tokio::test]
async fn a_charge_answered_400_was_refused_not_unknown() {
    let (err, requests) = charge_answered(400, "<html>Bad Request</html>").await;
    assert!(
        matches!(
            err,
            CardChargingError::Core(paybridge_core::Error::Transport {
                status: Some(400),
                ..
            })
        ),
        "{err:?}"
    );
    assert_eq!(requests, 1);
}

#[tokio::test]
async fn maintenance_is_a_retryable_provider_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string(r#"{"status":4,"message":"Hệ thống bảo trì"}"#),
        )
        .mount(&server)
        .await;
    let c = client(
        &server.uri(),
        BodyEncoding::Form,
        SignScheme::CodeSerial,
        Duration::from_secs(5),
    );
    let err = c
        .charge(&sample_card(), vnd("50000"), &RequestId::new("1").unwrap())
        .await
        .unwrap_err();
    assert!(matches!(err, CardChargingError::Maintenance { .. }));
    assert!(err.retryable());
    let core: paybridge_core::Error = err.into();
    assert_eq!(core.provider_code(), Some("4"));
    assert!(core.retryable());
}

#[tokio::test]
async fn submission_failure_keeps_the_message() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string(r#"{"status":100,"message":"Sai chữ ký","request_id":"1"}"#),
        )
        .mount(&server)
        .await;
    let c = client(
        &server.uri(),
        BodyEncoding::Form,
        SignScheme::CodeSerial,
        Duration::from_secs(5),
    );
    let r = c
        .charge(&sample_card(), vnd("50000"), &RequestId::new("1").unwrap())
        .await
        .unwrap();
    assert_eq!(r.status, ChargeStatus::SubmissionFailed);
    assert_eq!(r.payment_status(), PaymentStatus::Failed);
    assert_eq!(r.message, "Sai chữ ký");
}

#[tokio::test]
async fn bad_input_is_refused_before_anything_is_sent() {
    let server = MockServer::start().await;
    let c = client(
        &server.uri(),
        BodyEncoding::Form,
        SignScheme::CodeSerial,
        Duration::from_secs(5),
    );
    let rid = RequestId::new("1").unwrap();
    for amount in [
        vnd("12345"),
        vnd("0"),
        Money::parse("50000", Currency::USD).unwrap(),
    ] {
        let err = c.charge(&sample_card(), amount, &rid).await.unwrap_err();
        assert!(
            matches!(
                err,
                CardChargingError::Core(paybridge_core::Error::Input(_))
            ),
            "{err:?}"
        );
    }
    assert!(server.received_requests().await.unwrap().is_empty());
    // The explicit override sends an unusual face value anyway.
    let config = c.config().clone().check_denomination(false);
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string(SAMPLE_ANSWER))
        .mount(&server)
        .await;
    Client::new(config, transport(Duration::from_secs(5)))
        .unwrap()
        .charge(&sample_card(), vnd("12345"), &rid)
        .await
        .unwrap();
}

#[tokio::test]
async fn html_error_page_is_an_unexpected_answer_naming_host_and_content() {
    let (err, _) = charge_answered(502, "<html>Bad Gateway</html>").await;
    // A charge: the gateway may have acted before its proxy failed.
    assert!(
        matches!(
            &err,
            CardChargingError::Core(paybridge_core::Error::OutcomeUnknown { cause, .. })
                if cause.contains("unexpected answer from 127.0.0.1:") && cause.contains("<html>Bad Gateway")
        ),
        "{err:?}"
    );
    // A check (idempotent): a plain transport error with the status, after its retries.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>Not the gateway</html>"))
        .mount(&server)
        .await;
    let err = client(
        &server.uri(),
        BodyEncoding::Form,
        SignScheme::CodeSerial,
        Duration::from_secs(5),
    )
    .check(&sample_card(), vnd("50000"), &RequestId::new("1").unwrap())
    .await
    .unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("unexpected answer from 127.0.0.1:")
            && message.contains("Not the gateway"),
        "{message}"
    );
    assert!(!message.contains("malformed"), "{message}");
}

#[test]
fn secrets_never_appear_in_debug_or_errors() {
    let config = Config::new(
        "http://h/chargingws/v2",
        "p",
        SecretString::from("partner-secret-XYZ"),
    );
    let dbg = format!("{config:?}");
    assert!(!dbg.contains("partner-secret-XYZ"), "{dbg}");
    let t = transport(Duration::from_secs(1));
    let c = Client::new(config, t).unwrap();
    assert!(!format!("{c:?}").contains("partner-secret-XYZ"));
    let card = Card::new(Telco::Viettel, "999888777", "123").unwrap();
    assert!(!format!("{card:?}").contains("999888777"));
}
