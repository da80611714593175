//! The receiver's limits: a body over the callback limit refused unread, slow and idle clients
//! never keeping a genuine callback waiting, a stalled body answered 408.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

mod common;

use common::receiving::*;

use std::sync::Arc;

use paybridge_core::Currency;
use paybridge_ledger::receive::Receiver;
use secrecy::SecretString;

#[tokio::test]
async fn a_body_over_the_callback_limit_is_refused_unread() {
    for ledger in ledgers().await {
        let shop = Arc::new(Shop::default());
        let base = serve(ledger.clone(), shop.clone()).await;
        let huge = format!("{{\"pad\":\"{}\"}}", "x".repeat(70 * 1024));
        let (status, _, _) = post(&base, "/card-charging/callback", "application/json", huge).await;
        assert_eq!(status, 413);
        assert!(ledger.callbacks(None, None).await.unwrap().is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_idle_clients_never_keep_a_genuine_callback_waiting() {
    use paybridge_ledger::receive::{ServeLimits, serve_with};
    use tokio::io::AsyncWriteExt as _;
    let ledger = ledgers().await.remove(0);
    let shop = Arc::new(Shop::default());
    let router = Receiver::new(ledger.clone(), shop.clone())
        .mount(
            paybridge_card_charging::route::Route::trusting_unsigned_status(SecretString::from(
                KEY,
            )),
        )
        .body_timeout(std::time::Duration::from_secs(1))
        .router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mut limits = ServeLimits::default();
    limits.header_timeout = std::time::Duration::from_secs(1);
    limits.max_connections = 64;
    tokio::spawn(serve_with(listener, router, std::future::pending(), limits));
    let host = base.trim_start_matches("http://").to_owned();
    // 300 attackers, more than the connection cap: half send headers forever (slowloris),
    // half connect and send nothing; a few promise a body that never comes.
    let mut held = Vec::new();
    for i in 0..300 {
        let mut sock = tokio::net::TcpStream::connect(&host).await.unwrap();
        if i % 2 == 0 {
            let _ = sock
                .write_all(b"POST /card-charging/callback HTTP/1.1\r\nhost: x\r\n")
                .await;
        }
        held.push(sock);
    }
    for _ in 0..5 {
        let mut sock = tokio::net::TcpStream::connect(&host).await.unwrap();
        let _ = sock
            .write_all(b"POST /card-charging/callback HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{")
            .await;
        held.push(sock);
    }
    expect_payment(
        &ledger,
        "card-charging",
        "genuine-1",
        "50000",
        Currency::VND,
    )
    .await;
    let started = std::time::Instant::now();
    let (status, _, _) = post(
        &base,
        "/card-charging/callback",
        "application/json",
        card_callback("genuine-1", 1, KEY),
    )
    .await;
    assert_eq!(status, 200);
    // Answered within a few seconds of the header deadline, though every slot was taken.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(shop.effects.lock().unwrap().len(), 1);
    drop(held);
}

#[tokio::test]
async fn a_stalled_body_is_answered_408() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let ledger = ledgers().await.remove(0);
    let router = Receiver::new(ledger, Arc::new(Shop::default()))
        .mount(
            paybridge_card_charging::route::Route::trusting_unsigned_status(SecretString::from(
                KEY,
            )),
        )
        .body_timeout(std::time::Duration::from_millis(300))
        .router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let host = listener.local_addr().unwrap().to_string();
    tokio::spawn(paybridge_ledger::receive::serve(
        listener,
        router,
        std::future::pending(),
    ));
    let mut sock = tokio::net::TcpStream::connect(&host).await.unwrap();
    sock.write_all(b"POST /card-charging/callback HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{")
        .await
        .unwrap();
    let mut answer = String::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        sock.read_to_string(&mut answer),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
}
