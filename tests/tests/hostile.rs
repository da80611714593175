//! Hostile peers: answers and callbacks built to crash, stall or fool a client. Each is
//! answered with a typed error, quickly, and nothing is credited.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use paybridge_core::http::{HttpConfig, HttpTransport};
use paybridge_core::{Currency, Error, Money};
use secrecy::SecretString;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Debug builds are slow; a linear parser still stays far below this on a megabyte.
const QUICK: Duration = Duration::from_secs(2);

/// A server that answers every request with `body` (status 200, `content_type`) and counts
/// the requests.
async fn canned(content_type: &'static str, body: String) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    let body = Arc::new(body);
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let (seen, body) = (seen.clone(), body.clone());
            tokio::spawn(async move {
                let mut buf = vec![0_u8; 64 * 1024];
                // One request per connection is enough here: read what came, answer, close.
                let _ = sock.read(&mut buf).await;
                seen.fetch_add(1, Ordering::SeqCst);
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = sock.write_all(head.as_bytes()).await;
                let _ = sock.write_all(body.as_bytes()).await;
            });
        }
    });
    (url, count)
}

/// ` a0="1" a1="1" ...`, `n` attributes.
fn attributes(n: usize) -> String {
    let mut out = String::new();
    for i in 0..n {
        let _ = write!(out, " a{i}=\"1\"");
    }
    out
}

fn transport() -> HttpTransport {
    HttpTransport::new(HttpConfig::default().timeout(Duration::from_secs(5))).unwrap()
}

fn woopay(endpoint: String, password: &str) -> paybridge_woopay::Client {
    paybridge_woopay::Client::new(
        paybridge_woopay::Config::new(
            endpoint,
            "test_merch",
            SecretString::from(password.to_owned()),
        ),
        transport(),
    )
    .unwrap()
}

fn envelope(inner: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body>{inner}</SOAP-ENV:Body></SOAP-ENV:Envelope>"#
    )
}

#[tokio::test]
async fn a_deeply_nested_answer_is_refused_without_overflowing_the_stack() {
    // 15 000 levels (~100 KB): the size that aborted the process before.
    let depth = 15_000;
    let body = envelope(&format!("{}{}", "<a>".repeat(depth), "</a>".repeat(depth)));
    let (url, _) = canned("text/xml", body).await;
    let started = Instant::now();
    let err = woopay(format!("{url}/api/wsd/"), "pw")
        .login()
        .await
        .unwrap_err();
    assert!(started.elapsed() < QUICK, "{:?}", started.elapsed());
    let core: Error = err.into();
    assert!(core.to_string().contains("deeper than 64"), "{core}");
}

#[tokio::test]
async fn many_attributes_on_one_element_are_refused_in_linear_time() {
    // 80 000 attributes (~870 KB): 7 s of quadratic parsing before; Payoo's answer 146 s.
    let attrs = attributes(80_000);
    let body = envelope(&format!(
        "<CallToPartnerResponse xmlns=\"PayooBPGAdapter\"{attrs}/>"
    ));
    assert!(body.len() < 1024 * 1024);
    let (url, _) = canned("text/xml", body).await;
    let client = paybridge_payoo::Client::new(
        paybridge_payoo::Config::new(url, paybridge_tests::fixtures::dummy_payoo_credentials()),
        transport(),
    )
    .unwrap();
    let started = Instant::now();
    let err: Error = client
        .get_order_information("ORD-1", 1)
        .await
        .unwrap_err()
        .into();
    assert!(started.elapsed() < QUICK, "{:?}", started.elapsed());
    assert!(err.to_string().contains("more than 64 attributes"), "{err}");
}

#[test]
fn hostile_callbacks_are_refused_quickly_as_malformed() {
    use paybridge_core::limits::Limits;
    let qvickly = paybridge_qvickly::CallbackVerifier::new(
        Some("m".into()),
        &SecretString::from("secret-0001"),
    )
    .unwrap();
    let card_key = SecretString::from("k");
    let payoo_key = "ck";
    let linkifier = paybridge_linkifier_ipn::CallbackVerifier::new(SecretString::from("k"));
    let deep = |n: usize| format!("{}{}", "<a>".repeat(n), "</a>".repeat(n));
    let attrs = attributes(100_000);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        // 50 000 levels in a 350 KB Qvickly XML callback took 73 s before.
        ("deep XML", deep(50_000).into_bytes()),
        ("100 000 levels", deep(100_000).into_bytes()),
        (
            "10 MB of attributes",
            format!("<a{attrs}{attrs}{attrs}{attrs}{attrs}{attrs}{attrs}/>").into_bytes(),
        ),
        (
            "1M-character string",
            format!(r#"{{"message":"{}"}}"#, "x".repeat(1_000_000)).into_bytes(),
        ),
        ("1M query parameters", "a=1&".repeat(1_000_000).into_bytes()),
        (
            "deep JSON",
            format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)).into_bytes(),
        ),
        ("deep but small XML", deep(100).into_bytes()),
    ];
    for (what, body) in &cases {
        let started = Instant::now();
        let results: Vec<(&str, Error)> = vec![
            ("qvickly", qvickly.verify_body(body).unwrap_err().into()),
            (
                "card json",
                paybridge_card_charging::CallbackVerifier::new(card_key.clone())
                    .verify_json(body)
                    .unwrap_err()
                    .into(),
            ),
            (
                "card query",
                paybridge_card_charging::CallbackVerifier::new(card_key.clone())
                    .verify_query(&String::from_utf8_lossy(body))
                    .unwrap_err()
                    .into(),
            ),
            (
                "payoo",
                paybridge_payoo::CallbackVerifier::new(secrecy::SecretString::from(payoo_key))
                    .verify_body(body)
                    .unwrap_err()
                    .into(),
            ),
            ("linkifier", linkifier.verify_body(body).unwrap_err().into()),
        ];
        assert!(started.elapsed() < QUICK, "{what}: {:?}", started.elapsed());
        for (verifier, err) in results {
            // Refused input (a 4xx for the sender), or a signature that cannot verify.
            assert!(
                matches!(err, Error::Callback { .. } | Error::Signature(_)),
                "{verifier} / {what}: {err:?}"
            );
            if body.len() > Limits::CALLBACK.max_bytes {
                assert!(
                    matches!(err, Error::Callback { .. }),
                    "{verifier} / {what}: {err:?}"
                );
            }
        }
    }
}

#[tokio::test]
async fn reported_amounts_are_checked() {
    use paybridge_card_charging::{Card, Client, Config, RequestId, Telco};
    for (amount, needle) in [("-500", "negative"), ("99999999999999999999", "largest")] {
        let body = format!(
            r#"{{"status":1,"message":"ok","request_id":"r-1","declared_value":50000,"value":50000,"amount":{amount}}}"#
        );
        let (url, _) = canned("application/json", body).await;
        let client = Client::new(
            Config::new(format!("{url}/chargingws/v2"), "p", SecretString::from("k")),
            transport(),
        )
        .unwrap();
        let card = Card::new(Telco::Viettel, "312821445892981", "10004783347874").unwrap();
        let err: Error = client
            .check(
                &card,
                Money::parse("50000", Currency::VND).unwrap(),
                &RequestId::new("r-1").unwrap(),
            )
            .await
            .unwrap_err()
            .into();
        assert!(
            matches!(&err, Error::Decode { message: m, .. } if m.contains("amount") && m.contains(needle)),
            "{amount}: {err:?}"
        );
    }
}

#[tokio::test]
async fn concurrent_first_calls_share_one_failed_login() {
    use paybridge_woopay::sandbox::{ENDPOINT_PATH, Simulator};
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let sim = Simulator::new().unwrap();
    tokio::spawn(async move { axum::serve(listener, sim.router()).await });
    let client = woopay(format!("{base}{ENDPOINT_PATH}"), "wrong-password");
    let calls: Vec<_> = (0..200)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move { c.balance().await })
        })
        .collect();
    for call in calls {
        assert!(matches!(
            call.await.unwrap(),
            Err(paybridge_woopay::WoopayError::Api(
                paybridge_woopay::ErrorCode::InvalidCredentials
            ))
        ));
    }
    assert_eq!(
        client.login_count(),
        1,
        "logins sent for 200 waiting callers"
    );
    // The next call, after the failure, tries again (once).
    assert!(client.balance().await.is_err());
    assert_eq!(client.login_count(), 2);
}

#[tokio::test]
async fn a_hanging_login_costs_every_waiter_one_deadline_not_one_each() {
    // Accepts and never answers.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/api/wsd/", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = listener.accept().await {
            held.push(sock);
        }
    });
    let client = paybridge_woopay::Client::new(
        paybridge_woopay::Config::new(url, "test_merch", SecretString::from("pw")),
        HttpTransport::new(HttpConfig::default().timeout(Duration::from_secs(1))).unwrap(),
    )
    .unwrap();
    let started = Instant::now();
    let calls: Vec<_> = (0..10)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move { c.balance().await })
        })
        .collect();
    for call in calls {
        assert!(call.await.unwrap().is_err());
    }
    assert!(
        started.elapsed() < Duration::from_millis(2500),
        "10 waiters took {:?}",
        started.elapsed()
    );
    assert_eq!(client.login_count(), 1);
}
