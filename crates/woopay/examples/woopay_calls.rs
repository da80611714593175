//! N `create_invoice` calls against a server in another process (`canned_server`), through
//! paybridge or through raw reqwest posting the same precomputed bytes with the same timeouts.
//! Run under `valgrind --tool=callgrind` at two N: the difference divided by the difference
//! in N is the client's user-space instructions per call (start-up and login cancel out).
//!
//! `woopay_calls URL N paybridge|reqwest` — see BENCHMARKS.md.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "benchmark harness"
)]

use std::time::Duration;

use paybridge_core::http::{HttpConfig, HttpTransport};
use paybridge_core::{Currency, Money};
use paybridge_woopay::{Client, Config, InvoiceRequest};
use secrecy::SecretString;

/// The envelope paybridge sends for the invoice below, byte for byte (what raw reqwest posts;
/// `tests/client.rs` checks that the client sends exactly these bytes).
const ENVELOPE: &str = include_str!("create_invoice.envelope.xml");

fn main() {
    let mut args = std::env::args().skip(1);
    let url = args.next().expect("URL");
    let n: usize = args.next().expect("N").parse().unwrap();
    let mode = args.next().expect("paybridge|reqwest");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        match mode.as_str() {
            "paybridge" => {
                let client = Client::new(
                    Config::new(url, "test_merch", SecretString::from("A12345678a")),
                    HttpTransport::new(HttpConfig::default()).unwrap(),
                )
                .unwrap();
                let invoice = InvoiceRequest::new(
                    "9379992",
                    Money::parse("100", Currency::KZT).unwrap(),
                    "https://shop.example/back",
                    "https://shop.example/paid",
                );
                for _ in 0..n {
                    let created = client.create_invoice(&invoice).await.unwrap();
                    std::hint::black_box(created);
                }
            }
            "reqwest" => {
                let _ = rustls::crypto::ring::default_provider().install_default();
                let client = reqwest::Client::builder()
                    .connect_timeout(Duration::from_secs(10))
                    .timeout(Duration::from_secs(30))
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .unwrap();
                let body = bytes::Bytes::from_static(ENVELOPE.as_bytes());
                for _ in 0..n {
                    let answer = client
                        .post(&url)
                        .header("content-type", "text/xml; charset=utf-8")
                        .header("soapaction", "\"urn:XmlControllerwsdl#cash_createInvoice\"")
                        .header("cookie", "session=06e66b5a182aeeb197a250a35bae0ed5")
                        .body(body.clone())
                        .send()
                        .await
                        .unwrap()
                        .bytes()
                        .await
                        .unwrap();
                    std::hint::black_box(answer);
                }
            }
            other => panic!("unknown mode {other}"),
        }
    });
}
