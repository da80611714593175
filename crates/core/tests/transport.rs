//! The shared HTTP transport against real loopback servers.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use paybridge_core::Error;
use paybridge_core::http::{Endpoint, HttpConfig, HttpRequest, HttpTransport, RetryPolicy};
use paybridge_core::soap::{self, Action, SoapCall, SoapVersion};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wiremock::matchers::{body_string, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Actions as the generator declares them.
const A: Action = Action::new(
    "urn:a",
    "\"urn:a\"",
    "application/soap+xml; charset=utf-8; action=\"urn:a\"",
);
const CALL_TO_PARTNER: Action = Action::new(
    "PayooBPGAdapter/CallToPartner",
    "\"PayooBPGAdapter/CallToPartner\"",
    "application/soap+xml; charset=utf-8; action=\"PayooBPGAdapter/CallToPartner\"",
);
const IPN_EVENT_RAISED: Action = Action::new(
    "http://tempuri.org/IPNEventRaised",
    "\"http://tempuri.org/IPNEventRaised\"",
    "application/soap+xml; charset=utf-8; action=\"http://tempuri.org/IPNEventRaised\"",
);

fn transport(timeout: Duration, max_body: usize) -> HttpTransport {
    HttpTransport::new(
        HttpConfig::default()
            .connect_timeout(Duration::from_secs(2))
            .timeout(timeout)
            .max_body_bytes(max_body)
            .retry(
                RetryPolicy::default()
                    .max_attempts(3)
                    .base_delay(Duration::from_millis(5))
                    .max_delay(Duration::from_millis(20)),
            ),
    )
    .unwrap()
}

#[tokio::test]
async fn slow_server_is_a_timeout() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;
    let started = Instant::now();
    let err = transport(Duration::from_millis(200), 1024)
        .send(HttpRequest::post(server.uri(), "x").idempotent(true))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Timeout(d) if d == Duration::from_millis(200)),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn html_500_is_a_transport_error_carrying_the_status() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(500)
                .insert_header("content-type", "text/html")
                .set_body_string("<html><body><h1>Runtime Error</h1></body></html>"),
        )
        .mount(&server)
        .await;
    let t = transport(Duration::from_secs(5), 1 << 20);
    // Not repeatable: a 5xx may come after the provider acted.
    let resp = t.send(HttpRequest::post(server.uri(), "x")).await.unwrap();
    assert!(resp.into_success().unwrap_err().outcome_unknown());
    let resp = t
        .send(HttpRequest::post(server.uri(), "x").idempotent(true))
        .await
        .unwrap();
    assert_eq!(resp.status, 500);
    let err = resp.into_success().unwrap_err();
    assert!(
        matches!(
            err,
            Error::Transport {
                status: Some(500),
                ..
            }
        ),
        "{err:?}"
    );

    // Through the SOAP layer: the body is read, it is no Fault, so the status decides.
    let call = SoapCall {
        endpoint: &Endpoint::parse(&server.uri()).unwrap(),
        version: SoapVersion::V11,
        action: &A,
        provider: "test",
        operation: "op",
        idempotent: true,
        reconcile: None,
        extra_headers: vec![],
    };
    let err = soap::call(&t, call.clone(), "<x/>".into())
        .await
        .unwrap_err();
    match &err {
        Error::Transport {
            status: Some(500),
            message,
            ..
        } => assert!(
            message.starts_with("unexpected answer from 127.0.0.1:")
                && message.contains("HTTP 500")
                && message.contains("Runtime Error"),
            "{message}"
        ),
        other => panic!("{other:?}"),
    }
    let not_repeatable = SoapCall {
        idempotent: false,
        reconcile: Some(paybridge_core::http::Reconcile {
            reference: "order-9".into(),
            advice: "ask GetOrderInformation",
        }),
        ..call
    };
    match soap::call(&t, not_repeatable, "<x/>".into())
        .await
        .unwrap_err()
    {
        Error::OutcomeUnknown {
            reference, advice, ..
        } => {
            assert_eq!(reference, "order-9");
            assert_eq!(advice, "ask GetOrderInformation");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn soap_fault_with_http_500_is_a_provider_error() {
    let fault = r#"<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><soap:Fault><faultcode>soap:Client</faultcode><faultstring>Invalid credential</faultstring></soap:Fault></soap:Body></soap:Envelope>"#;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/CallerServices.asmx"))
        .and(header("content-type", "text/xml; charset=utf-8"))
        .and(header("soapaction", "\"PayooBPGAdapter/CallToPartner\""))
        .and(body_string("<env/>"))
        .respond_with(ResponseTemplate::new(500).set_body_string(fault))
        .expect(1)
        .mount(&server)
        .await;
    let url = Endpoint::parse(&format!("{}/CallerServices.asmx", server.uri())).unwrap();
    let call = SoapCall {
        endpoint: &url,
        version: SoapVersion::V11,
        action: &CALL_TO_PARTNER,
        provider: "payoo",
        operation: "CallToPartner",
        idempotent: true,
        reconcile: None,
        extra_headers: vec![],
    };
    let err = soap::call(
        &transport(Duration::from_secs(5), 1 << 20),
        call,
        "<env/>".into(),
    )
    .await
    .unwrap_err();
    match err {
        Error::Provider { code, message, .. } => {
            assert_eq!(code.as_deref(), Some("soap:Client"));
            assert!(message.contains("Invalid credential"));
        }
        other => panic!("expected provider error, got {other:?}"),
    }
}

#[tokio::test]
async fn soap12_request_carries_action_in_content_type() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(header(
            "content-type",
            "application/soap+xml; charset=utf-8; action=\"http://tempuri.org/IPNEventRaised\"",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_string(
            r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><R xmlns="urn:r"/></s:Body></s:Envelope>"#,
        ))
        .expect(1)
        .mount(&server)
        .await;
    let uri = Endpoint::parse(&server.uri()).unwrap();
    let call = SoapCall {
        endpoint: &uri,
        version: SoapVersion::V12,
        action: &IPN_EVENT_RAISED,
        provider: "linkifier",
        operation: "IPNEventRaised",
        idempotent: false,
        reconcile: None,
        extra_headers: vec![],
    };
    let env = soap::call(
        &transport(Duration::from_secs(5), 1 << 20),
        call,
        "<e/>".into(),
    )
    .await
    .unwrap();
    assert_eq!(env.version, SoapVersion::V12);
    let received = server.received_requests().await.unwrap();
    assert!(received[0].headers.get("soapaction").is_none());
}

#[tokio::test]
async fn body_over_the_limit_is_refused() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(vec![b'a'; 2 << 20]))
        .mount(&server)
        .await;
    let t = transport(Duration::from_secs(5), 1 << 20);
    let err = t
        .send(HttpRequest::post(server.uri(), "x").idempotent(true))
        .await
        .unwrap_err();
    match err {
        Error::Transport {
            status: Some(200),
            message,
            ..
        } => assert!(message.contains("limit")),
        other => panic!("unexpected {other:?}"),
    }
    // An answer too large to read, to a request that must not be repeated: unknown outcome.
    let err = t
        .send(HttpRequest::post(server.uri(), "x"))
        .await
        .unwrap_err();
    assert!(err.outcome_unknown(), "{err:?}");
}

/// A chunked answer of 256 MiB without Content-Length: the client must stop reading as soon as
/// the limit is crossed. The server counts what it managed to write before the client hung up.
#[tokio::test]
async fn streamed_body_over_the_limit_is_refused_without_buffering() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let written = Arc::new(AtomicUsize::new(0));
    let counter = written.clone();
    let server = tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut buf = [0_u8; 4096];
        let _ = sock.read(&mut buf).await;
        let head =
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-type: text/xml\r\n\r\n";
        if sock.write_all(head).await.is_err() {
            return;
        }
        let chunk = vec![b'x'; 64 * 1024];
        let frame = [
            format!("{:x}\r\n", chunk.len()).into_bytes(),
            chunk,
            b"\r\n".to_vec(),
        ]
        .concat();
        for _ in 0..4096 {
            // 4096 * 64 KiB = 256 MiB offered in all.
            if sock.write_all(&frame).await.is_err() {
                return;
            }
            counter.fetch_add(64 * 1024, Ordering::Relaxed);
        }
    });
    let t = transport(Duration::from_secs(20), 1 << 20);
    let err = t
        .send(HttpRequest::post(format!("http://{addr}/"), "x").idempotent(true))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    drop(t);
    let _ = tokio::time::timeout(Duration::from_secs(10), server).await;
    let sent = written.load(Ordering::Relaxed);
    assert!(
        sent < 32 << 20,
        "server wrote {sent} bytes: the client kept reading"
    );
}

/// A body sent in several chunks, with pauses so that they arrive apart, is read whole and
/// in order (the one-chunk fast path must not lose or reorder anything).
#[tokio::test]
async fn chunked_body_arrives_whole_and_in_order() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let pieces = ["<a>", "", "first,", "second,", "third</a>"];
    tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut buf = [0_u8; 4096];
        let _ = sock.read(&mut buf).await;
        let head =
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-type: text/xml\r\n\r\n";
        sock.write_all(head).await.unwrap();
        for piece in pieces.iter().filter(|p| !p.is_empty()) {
            let frame = format!("{:x}\r\n{piece}\r\n", piece.len());
            sock.write_all(frame.as_bytes()).await.unwrap();
            sock.flush().await.unwrap();
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        sock.write_all(b"0\r\n\r\n").await.unwrap();
    });
    let t = transport(Duration::from_secs(5), 1 << 20);
    let r = t
        .send(HttpRequest::post(format!("http://{addr}/"), "x"))
        .await
        .unwrap();
    assert_eq!(&r.body[..], pieces.concat().as_bytes());
}

#[tokio::test]
async fn non_idempotent_request_is_sent_exactly_once_on_failure() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .expect(1)
        .mount(&server)
        .await;
    let resp = transport(Duration::from_secs(5), 1024)
        .send(HttpRequest::post(server.uri(), "charge"))
        .await
        .unwrap();
    assert_eq!(resp.status, 503);
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn idempotent_request_is_retried_until_success() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .mount(&server)
        .await;
    let resp = transport(Duration::from_secs(5), 1024)
        .send(HttpRequest::post(server.uri(), "check").idempotent(true))
        .await
        .unwrap();
    assert_eq!(resp.status, 200);
    assert_eq!(&resp.body[..], b"ok");
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn idempotent_request_gives_up_after_max_attempts() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(502))
        .mount(&server)
        .await;
    let resp = transport(Duration::from_secs(5), 1024)
        .send(HttpRequest::post(server.uri(), "check").idempotent(true))
        .await
        .unwrap();
    assert_eq!(resp.status, 502);
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn non_idempotent_timeout_is_not_resent() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(2)))
        .mount(&server)
        .await;
    let err = transport(Duration::from_millis(100), 1024)
        .send(HttpRequest::post(server.uri(), "charge").reconcile("r-1", "call check"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::OutcomeUnknown { reference, advice, .. } if reference == "r-1" && *advice == "call check"),
        "{err:?}"
    );
    assert!(!err.retryable());
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn connection_refused_is_a_transport_error_without_the_url() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let err = transport(Duration::from_secs(2), 1024)
        .send(HttpRequest::post(
            format!("http://{addr}/cb?sign=SECRET-SIGN"),
            "x",
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Transport { status: None, .. }),
        "{err:?}"
    );
    let mut chain = format!("{err} {err:?}");
    let mut source = std::error::Error::source(&err);
    while let Some(s) = source {
        chain.push_str(&s.to_string());
        source = s.source();
    }
    assert!(!chain.contains("SECRET-SIGN"), "{chain}");
}

/// A server answering every request with `status` and `Location: location`.
async fn redirecting(status: u16, location: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/pay"))
        .respond_with(ResponseTemplate::new(status).insert_header("location", location))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn redirects_are_not_followed_and_never_leave_the_origin() {
    let other = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string("stolen"))
        .mount(&other)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string("stolen"))
        .mount(&other)
        .await;
    let follow_same =
        HttpTransport::new(HttpConfig::default().same_origin_redirects(true)).unwrap();
    for status in [301, 302, 307, 308] {
        let elsewhere = format!("{}/collect", other.uri());
        let server = redirecting(status, &elsewhere).await;
        for t in [transport(Duration::from_secs(5), 1024), follow_same.clone()] {
            let err = t
                .send(
                    HttpRequest::post(format!("{}/pay", server.uri()), "password=secret")
                        .idempotent(true),
                )
                .await
                .unwrap_err();
            match &err {
                Error::Transport {
                    status: Some(s),
                    message,
                    ..
                } => {
                    assert_eq!(*s, status);
                    assert!(
                        message.contains(&elsewhere) && message.contains("not followed"),
                        "{message}"
                    );
                }
                other => panic!("{status}: {other:?}"),
            }
        }
        assert!(
            other.received_requests().await.unwrap().is_empty(),
            "{status}: the request went to another origin"
        );
    }
    // Same origin, opted in: followed (307/308 keep the method and body, as HTTP says).
    for status in [301, 302, 307, 308] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/pay"))
            .respond_with(ResponseTemplate::new(status).insert_header("location", "/moved"))
            .mount(&server)
            .await;
        Mock::given(path("/moved"))
            .respond_with(ResponseTemplate::new(200).set_body_string("here"))
            .mount(&server)
            .await;
        let resp = follow_same
            .send(HttpRequest::post(format!("{}/pay", server.uri()), "x").idempotent(true))
            .await
            .unwrap();
        assert_eq!(&resp.body[..], b"here", "{status}");
        // Not opted in: the same redirect is an error.
        let err = transport(Duration::from_secs(5), 1024)
            .send(HttpRequest::post(format!("{}/pay", server.uri()), "x").idempotent(true))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Transport { status: Some(s), .. } if s == status));
    }
}
