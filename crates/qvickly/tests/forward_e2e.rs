//! Forwarding on the wire, and end to end: sandbox posts a signed callback → merchant handler
//! verifies → forward to the booking API → response.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

use std::time::Duration;

use paybridge_core::RawNotification;
use paybridge_core::http::HttpTransport;
use paybridge_core::xml::canonicalize;
use paybridge_qvickly::sandbox::{
    CallbackSpec, FORWARD_PATH, SANDBOX_MERCHANT_ID, SANDBOX_SECRET, Simulator,
};
use paybridge_qvickly::{
    CallbackVerifier, ForwardClient, QvicklyError, QvicklyStatus, dto_from_callback,
};
use secrecy::SecretString;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const OK_ANSWER: &str = r#"<IpnCallBackResponse xmlns:i="http://www.w3.org/2001/XMLSchema-instance" xmlns="http://schemas.datacontract.org/2004/07/BokaMera.API.ServiceModel.Dtos"><Message>ok</Message><Success>true</Success></IpnCallBackResponse>"#;

#[tokio::test]
async fn forward_sends_the_dto_with_both_namespaces_and_xml_headers() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(FORWARD_PATH))
        .and(header("content-type", "application/xml"))
        .and(header("accept", "application/xml"))
        .respond_with(ResponseTemplate::new(200).set_body_string(OK_ANSWER))
        .expect(1)
        .mount(&server)
        .await;
    let sim = Simulator::new().unwrap();
    let body = sim.signed_callback(&CallbackSpec {
        status: Some("Paid".into()),
        ..CallbackSpec::default()
    });
    let dto = dto_from_callback(
        body.as_bytes(),
        Some("11111111-2222-3333-4444-555555555555".into()),
        Some(42),
    )
    .unwrap();
    let client = ForwardClient::new(
        paybridge_qvickly::Config::new(format!("{}{FORWARD_PATH}", server.uri())),
        HttpTransport::with_defaults().unwrap(),
    )
    .unwrap();
    let answer = client.forward(&dto).await.unwrap();
    assert_eq!(answer.success, Some(true));
    assert_eq!(answer.message.as_deref(), Some("ok"));

    let sent =
        String::from_utf8(server.received_requests().await.unwrap()[0].body.clone()).unwrap();
    let canon = canonicalize(&sent).unwrap();
    let dtos = "{http://schemas.datacontract.org/2004/07/BokaMera.API.ServiceModel.Dtos}";
    let payment = "{http://schemas.datacontract.org/2004/07/QvicklyIntegration.Models.Payment}";
    for line in [
        format!("{dtos}QvicklyCheckoutIpnCallBack"),
        format!("  {dtos}BookingId = \"42\""),
        format!("  {dtos}CompanyId = \"11111111-2222-3333-4444-555555555555\""),
        format!("    {dtos}id = \"{SANDBOX_MERCHANT_ID}\""),
        format!("  {dtos}data"),
        format!("    {payment}number = \"1001\""),
        format!("    {payment}status = \"Paid\""),
    ] {
        assert!(
            canon.lines().any(|l| l == line),
            "missing {line:?} in\n{canon}"
        );
    }
}

#[tokio::test]
async fn refused_and_broken_answers() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200).set_body_string(
                OK_ANSWER
                    .replace("true", "false")
                    .replace(">ok<", ">9511 Verification error<"),
            ),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500).set_body_string("<html>oops</html>"))
        .mount(&server)
        .await;
    let client = ForwardClient::new(
        paybridge_qvickly::Config::new(server.uri()),
        HttpTransport::with_defaults().unwrap(),
    )
    .unwrap();
    let dto = dto_from_callback(
        Simulator::new()
            .unwrap()
            .signed_callback(&CallbackSpec::default())
            .as_bytes(),
        None,
        None,
    )
    .unwrap();
    match client.forward(&dto).await {
        Err(QvicklyError::Refused { message }) => assert_eq!(message, "9511 Verification error"),
        other => panic!("{other:?}"),
    }
    // A 500 HTML page to a forward: it may have been recorded before the page came.
    let err = client.forward(&dto).await.unwrap_err();
    assert!(
        matches!(
            &err,
            QvicklyError::Core(paybridge_core::Error::OutcomeUnknown { cause, advice, .. })
                if cause.contains("HTTP 500") && advice.contains("deduplicates")
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn sandbox_callback_verified_by_merchant_then_forwarded() {
    let sim = Simulator::new().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = sim.router();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

    // The merchant's endpoint fails once: the sandbox must retry until a 2xx.
    let mut rx = paybridge_core::sandbox::CallbackReceiver::start("/qvickly/ipn", "OK")
        .await
        .unwrap();
    let url = rx.url().to_owned();
    let flaky = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&flaky)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&flaky)
        .await;
    let attempts = sim.deliver(&flaky.uri(), "{}").await.unwrap();
    assert_eq!(attempts, 2);

    let spec = CallbackSpec {
        status: Some("Paid".into()),
        orderid: Some("P/2026/7".into()),
        ..CallbackSpec::default()
    };
    let body = sim.signed_callback(&spec);
    assert_eq!(sim.deliver(&url, &body).await.unwrap(), 1);
    let received = rx.next(Duration::from_secs(5)).await.unwrap();

    let verifier = CallbackVerifier::new(
        Some(SANDBOX_MERCHANT_ID.into()),
        &SecretString::from(SANDBOX_SECRET),
    )
    .unwrap();
    let cb = verifier
        .verify(&RawNotification::post("application/json", received.clone()))
        .unwrap();
    assert_eq!(cb.status, QvicklyStatus::Paid);
    assert_eq!(cb.order_id.as_deref(), Some("P/2026/7"));

    let client = ForwardClient::new(
        paybridge_qvickly::Config::new(format!("{base}{FORWARD_PATH}")),
        HttpTransport::with_defaults().unwrap(),
    )
    .unwrap();
    let dto = dto_from_callback(&received, None, Some(7)).unwrap();
    let answer = client.forward(&dto).await.unwrap();
    assert_eq!(answer.success, Some(true));
    assert!(answer.message.unwrap().contains("P/2026/7"));

    // The booking API checks the hash itself.
    let mut forged = dto.clone();
    forged.data.as_mut().unwrap().status = Some("Cancelled".into());
    match client.forward(&forged).await {
        Err(QvicklyError::Refused { message }) => assert!(message.contains("9511")),
        other => panic!("{other:?}"),
    }
}
