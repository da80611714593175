//! Every request that must not be repeated, against a server that reads the whole request and
//! then never answers, closes the connection, or sends half an answer: the error says the
//! outcome is unknown, is never retryable, and the server saw exactly one request. A refused
//! connection (nothing was written) stays a plain, retryable transport error.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use paybridge_core::Error;
use paybridge_core::http::{HttpConfig, HttpTransport};
use paybridge_core::{Currency, Money};
use secrecy::SecretString;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the server does once it has read a whole (non-login) request.
#[derive(Debug, Clone, Copy)]
enum Fault {
    NeverAnswer,
    Close,
    HalfBody,
}

const FAULTS: [Fault; 3] = [Fault::NeverAnswer, Fault::Close, Fault::HalfBody];

/// Wooppay's sample `core_login` answer, for the login that precedes every Wooppay call.
const LOGIN_ANSWER: &str = include_str!("../../schemas/woopay/samples/core_login.response.xml");

/// Read one HTTP/1.1 request (head and `Content-Length` body); `None` when the peer closed.
async fn read_request(sock: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut chunk = [0_u8; 8192];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().unwrap());
            while buf.len() < end + 4 + length {
                let n = sock.read(&mut chunk).await.ok()?;
                if n == 0 {
                    return None;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            return Some(String::from_utf8_lossy(&buf).into_owned());
        }
        let n = sock.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// A server applying `fault` to every request except Wooppay logins; counts those requests.
async fn fault_server(fault: Fault) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let seen = seen.clone();
            tokio::spawn(async move {
                while let Some(request) = read_request(&mut sock).await {
                    if request.contains("core_login") {
                        let answer = format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: text/xml; charset=utf-8\r\ncontent-length: {}\r\n\r\n{LOGIN_ANSWER}",
                            LOGIN_ANSWER.len()
                        );
                        sock.write_all(answer.as_bytes()).await.unwrap();
                        continue;
                    }
                    seen.fetch_add(1, Ordering::SeqCst);
                    match fault {
                        Fault::NeverAnswer => tokio::time::sleep(Duration::from_mins(1)).await,
                        Fault::Close => {}
                        Fault::HalfBody => {
                            let _ = sock
                                .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/xml\r\ncontent-length: 4000\r\n\r\n<?xml version=\"1.0\"?><soap:Envelope")
                                .await;
                        }
                    }
                    return;
                }
            });
        }
    });
    (url, count)
}

fn transport() -> HttpTransport {
    HttpTransport::new(
        HttpConfig::default()
            .timeout(Duration::from_millis(800))
            .connect_timeout(Duration::from_millis(800)),
    )
    .unwrap()
}

type Call = Box<dyn Fn(String) -> Pin<Box<dyn Future<Output = Error> + Send>> + Send + Sync>;

/// Every non-idempotent operation of every crate, as a call against a base URL.
#[allow(
    clippy::too_many_lines,
    reason = "one table of every operation, read top to bottom"
)]
fn operations() -> Vec<(&'static str, Call)> {
    let card: Call = Box::new(|base| {
        Box::pin(async move {
            use paybridge_card_charging::{Card, Client, Config, RequestId, Telco};
            let client = Client::new(
                Config::new(
                    format!("{base}/chargingws/v2"),
                    "p",
                    SecretString::from("k"),
                ),
                transport(),
            )
            .unwrap();
            let card = Card::new(Telco::Viettel, "312821445892989", "10004783347874").unwrap();
            client
                .charge(
                    &card,
                    Money::parse("50000", Currency::VND).unwrap(),
                    &RequestId::new("order-1").unwrap(),
                )
                .await
                .unwrap_err()
                .into()
        })
    });
    let payoo = |update: bool| -> Call {
        Box::new(move |base| {
            Box::pin(async move {
                use paybridge_payoo::{Client, PreOrder};
                let client = Client::new(
                    paybridge_payoo::Config::new(
                        format!("{base}/BPG/CallerServices.asmx"),
                        paybridge_tests::fixtures::dummy_payoo_credentials(),
                    ),
                    transport(),
                )
                .unwrap();
                let result = if update {
                    client.update_order_status(1, "order-1", 1, None).await
                } else {
                    client
                        .create_pre_order(&PreOrder {
                            shop_id: 1,
                            order_no: "order-1".into(),
                            cyber_cash: rust_decimal::Decimal::new(150_000, 0),
                            ..PreOrder::default()
                        })
                        .await
                };
                result.unwrap_err().into()
            })
        })
    };
    let woopay = |which: u8| -> Call {
        Box::new(move |base| {
            Box::pin(async move {
                use paybridge_woopay::{
                    Client, Config as WoopayConfig, ExtendedInvoiceRequest,
                    Invoice2ExtendedRequest, InvoiceRequest,
                };
                let client = Client::new(
                    WoopayConfig::new(
                        format!("{base}/api/wsd/"),
                        "test_merch",
                        SecretString::from("A12345678a"),
                    ),
                    transport(),
                )
                .unwrap();
                let invoice = InvoiceRequest::new(
                    "order-1",
                    Money::parse("100", Currency::KZT).unwrap(),
                    "https://shop.example/back",
                    "https://shop.example/paid",
                );
                let two = Invoice2ExtendedRequest {
                    invoice: invoice.clone(),
                    card_forbidden: false,
                    user_email: None,
                    user_phone: None,
                };
                let err = match which {
                    0 => client.create_invoice(&invoice).await.map(drop),
                    1 => client
                        .create_invoice_extended(&ExtendedInvoiceRequest {
                            invoice,
                            confirmation_code: "1234".into(),
                            user_phone: "77011234567".into(),
                            user_email: None,
                        })
                        .await
                        .map(drop),
                    2 => client.create_invoice_2_extended(&two).await.map(drop),
                    3 => client
                        .create_invoice_by_service("svc", &two)
                        .await
                        .map(drop),
                    _ => client
                        .request_confirmation_code("77011234567")
                        .await
                        .map(drop),
                };
                err.unwrap_err().into()
            })
        })
    };
    let linkifier: Call = Box::new(|base| {
        Box::pin(async move {
            use paybridge_linkifier_ipn::IpnSender;
            let sender = IpnSender::new(
                paybridge_linkifier_ipn::Config::new(
                    format!("{base}/PaymentNotification.asmx"),
                    SecretString::from("k"),
                ),
                transport(),
            )
            .unwrap();
            sender
                .send(&paybridge_linkifier_ipn::sandbox::sample_record())
                .await
                .unwrap_err()
                .into()
        })
    });
    let qvickly: Call = Box::new(|base| {
        Box::pin(async move {
            use paybridge_qvickly::sandbox::{CallbackSpec, Simulator};
            let body = Simulator::new()
                .unwrap()
                .signed_callback(&CallbackSpec::default());
            let dto = paybridge_qvickly::dto_from_callback(body.as_bytes(), None, None).unwrap();
            let client = paybridge_qvickly::ForwardClient::new(
                paybridge_qvickly::Config::new(format!("{base}/payment/billmate/v1/ipncallback")),
                transport(),
            )
            .unwrap();
            client.forward(&dto).await.unwrap_err().into()
        })
    });
    vec![
        ("card-charging charging", card),
        ("payoo CreatePreOrder", payoo(false)),
        ("payoo UpdateOrderStatus", payoo(true)),
        ("woopay cash_createInvoice", woopay(0)),
        ("woopay cash_createInvoiceExtended", woopay(1)),
        ("woopay cash_createInvoice2Extended", woopay(2)),
        ("woopay cash_createInvoiceByService", woopay(3)),
        ("woopay core_requestConfirmationCode", woopay(4)),
        ("linkifier-ipn IPNEventRaised", linkifier),
        ("qvickly forward", qvickly),
    ]
}

#[tokio::test]
async fn a_request_that_may_have_arrived_is_outcome_unknown_and_sent_once() {
    for (name, call) in operations() {
        for fault in FAULTS {
            let (base, count) = fault_server(fault).await;
            let started = std::time::Instant::now();
            let err = call(base).await;
            assert!(
                err.outcome_unknown(),
                "{name} / {fault:?}: expected outcome unknown, got {err:?}"
            );
            assert!(!err.retryable(), "{name} / {fault:?}: {err:?}");
            assert!(
                started.elapsed() < Duration::from_secs(3),
                "{name} / {fault:?} took {:?}",
                started.elapsed()
            );
            let message = err.to_string();
            assert!(message.contains("do not resend"), "{name}: {message}");
            // No resend, not even a late one.
            tokio::time::sleep(Duration::from_millis(100)).await;
            assert_eq!(
                count.load(Ordering::SeqCst),
                1,
                "{name} / {fault:?}: requests received"
            );
        }
    }
}

#[tokio::test]
async fn the_advice_names_how_to_find_out() {
    let expectations = [
        ("card-charging charging", "check` with the same request_id"),
        ("payoo CreatePreOrder", "GetOrderInformation"),
        ("woopay cash_createInvoice", "do not reuse the reference"),
        ("woopay cash_createInvoice", "deathDate"),
        ("linkifier-ipn IPNEventRaised", "receiver deduplicates"),
        ("qvickly forward", "deduplicates"),
    ];
    let ops = operations();
    for (name, needle) in expectations {
        let (_, call) = ops.iter().find(|(n, _)| *n == name).unwrap();
        let (base, _) = fault_server(Fault::Close).await;
        let err = call(base).await;
        match &err {
            Error::OutcomeUnknown {
                advice, reference, ..
            } => {
                assert!(advice.contains(needle), "{name}: {advice}");
                assert!(!reference.is_empty(), "{name}: no reference");
            }
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_refused_connection_is_a_plain_retryable_transport_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    for (name, call) in operations() {
        let err = call(format!("http://{addr}")).await;
        assert!(!err.outcome_unknown(), "{name}: {err:?}");
        assert!(err.retryable(), "{name}: {err:?}");
        let message = err.to_string();
        assert!(
            message.contains(&format!("cannot connect to {}:{}", addr.ip(), addr.port())),
            "{name}: {message}"
        );
        assert!(
            message.to_lowercase().contains("refused"),
            "{name}: {message}"
        );
    }
}
