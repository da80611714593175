//! The transport's policy over a supplied [`Transport`] (a recorder from the testkit): what is
//! sent, what is retried and how each failure reads — without a socket.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

use std::sync::Arc;

use http::{HeaderMap, HeaderValue};
use paybridge_core::http::{
    BoxFuture, Endpoint, HttpConfig, HttpRequest, HttpTransport, Incoming, Outgoing, Transport,
    TransportError,
};
use paybridge_testkit::RecordingTransport;

const URL: &str = "https://gateway.example/api?sign=secret";

fn charge() -> HttpRequest {
    HttpRequest::post(URL, "amount=100")
        .header("content-type", "application/x-www-form-urlencoded")
        .operation("card", "charging")
        .reconcile("R-1", "call check with the same request_id")
}

#[tokio::test]
async fn the_exact_request_reaches_the_transport_and_its_answer_comes_back() {
    let recorder = RecordingTransport::new();
    recorder.answer(200, "application/json", r#"{"status":1}"#);
    let answer = recorder.http().send(charge()).await.unwrap();
    assert_eq!(answer.status, 200);
    assert_eq!(answer.text().unwrap(), r#"{"status":1}"#);
    assert!(answer.came_from(&Endpoint::parse("https://gateway.example/").unwrap()));
    let sent = recorder.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].method, http::Method::POST);
    assert_eq!(sent[0].url, URL);
    assert_eq!(
        sent[0].header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(sent[0].body_text(), "amount=100");
}

#[tokio::test]
async fn a_request_that_moves_money_is_sent_once_and_its_failure_is_an_unknown_outcome() {
    for failure in [
        TransportError::Timeout(None),
        TransportError::Sending("connection reset".into()),
        TransportError::Reading("unexpected end of body".into()),
        TransportError::TooLarge { status: 200 },
    ] {
        let recorder = RecordingTransport::new();
        recorder.fail(failure);
        let err = recorder.http().send(charge()).await.unwrap_err();
        assert!(err.outcome_unknown(), "{err:?}");
        assert!(!err.retryable());
        assert!(
            err.to_string()
                .contains("call check with the same request_id"),
            "{err}"
        );
        assert_eq!(recorder.sent().len(), 1);
    }
}

#[tokio::test]
async fn a_refused_connection_is_retryable_and_names_the_host_not_the_query() {
    let recorder = RecordingTransport::new();
    recorder.fail(TransportError::Connect("connection refused".into()));
    let err = recorder.http().send(charge()).await.unwrap_err();
    assert!(!err.outcome_unknown());
    assert!(err.retryable());
    let text = err.to_string();
    assert!(
        text.contains("cannot connect to gateway.example:443: connection refused"),
        "{text}"
    );
    assert!(!text.contains("secret"), "{text}");
}

#[tokio::test]
async fn an_idempotent_request_is_retried_on_503_and_a_failure_within_the_deadline() {
    let recorder = RecordingTransport::new();
    recorder
        .answer(503, "text/plain", "busy")
        .fail(TransportError::Timeout(None))
        .answer(200, "text/plain", "ok");
    let answer = recorder
        .http()
        .send(HttpRequest::get("https://gateway.example/status"))
        .await
        .unwrap();
    assert_eq!(answer.text().unwrap(), "ok");
    assert_eq!(recorder.sent().len(), 3);
    // With nothing scripted, every attempt is refused: three attempts, then the error.
    let err = recorder
        .http()
        .send(HttpRequest::get("https://gateway.example/status"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no answer scripted"), "{err}");
    assert_eq!(recorder.sent().len(), 6);
}

#[tokio::test]
async fn a_supplied_transport_is_held_to_the_redirect_and_body_rules() {
    let recorder = RecordingTransport::new();
    let mut headers = HeaderMap::new();
    headers.insert(
        http::header::LOCATION,
        HeaderValue::from_static("https://elsewhere.example/steal"),
    );
    recorder.answer_with(Incoming::new(307, headers, ""));
    let err = recorder
        .http()
        .send(HttpRequest::get(URL))
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("redirect to https://elsewhere.example/steal; redirects are not followed"),
        "{err}"
    );
    let limited = HttpTransport::over(
        HttpConfig::default().max_body_bytes(4),
        Arc::clone(&recorder),
    );
    recorder.answer(200, "text/plain", "12345");
    let err = limited.send(charge()).await.unwrap_err();
    assert!(err.outcome_unknown(), "{err:?}");
    assert!(
        err.to_string().contains("exceeds the limit of 4 bytes"),
        "{err}"
    );
}

/// A transport a service writes itself: an object behind `Arc<dyn Transport>`, wrapping
/// another.
#[derive(Debug)]
struct Tagging(Arc<dyn Transport>);

impl Transport for Tagging {
    fn exchange<'a>(
        &'a self,
        request: Outgoing<'a>,
    ) -> BoxFuture<'a, Result<Incoming, TransportError>> {
        Box::pin(async move {
            let mut answer = self.0.exchange(request).await?;
            answer
                .headers
                .insert("x-seen-by", HeaderValue::from_static("tagging"));
            Ok(answer)
        })
    }
}

#[tokio::test]
async fn middleware_wraps_a_transport_as_a_trait_object() {
    let recorder = RecordingTransport::new();
    recorder.answer(200, "text/plain", "ok");
    let inner: Arc<dyn Transport> = recorder.clone();
    let transport = HttpTransport::over(HttpConfig::default(), Tagging(inner));
    let answer = transport.send(charge()).await.unwrap();
    assert_eq!(answer.header("x-seen-by"), Some("tagging"));
    assert_eq!(recorder.sent().len(), 1);
    assert!(format!("{transport:?}").contains("Tagging"));
}

#[test]
fn what_a_transport_sees_prints_without_secrets() {
    let url = reqwest::Url::parse(URL).unwrap();
    let headers = [(
        http::header::COOKIE,
        HeaderValue::from_static("PHPSESSID=session-secret"),
    )];
    let body = bytes::Bytes::from_static(b"password=hunter2");
    let outgoing = Outgoing::new(
        &http::Method::POST,
        &url,
        &headers,
        &body,
        std::time::Duration::from_secs(1),
        1024,
    );
    let shown = format!("{outgoing:?}");
    for secret in ["secret", "hunter2", "sign="] {
        assert!(!shown.contains(secret), "{shown}");
    }
    assert!(
        shown.contains("cookie") && shown.contains("gateway.example"),
        "{shown}"
    );
    let mut answer_headers = HeaderMap::new();
    answer_headers.insert(
        http::header::SET_COOKIE,
        HeaderValue::from_static("PHPSESSID=session-secret"),
    );
    let shown = format!("{:?}", Incoming::new(200, answer_headers, "card=4111"));
    assert!(
        !shown.contains("session-secret") && !shown.contains("4111"),
        "{shown}"
    );
}
