//! Card-charging benchmarks: callback verification throughput, and the overhead of a full
//! `charge` round trip compared with a raw `reqwest` POST of the same bytes to the same
//! loopback server.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "benchmark harness"
)]

use std::hint::black_box;

use axum::routing::post;
use criterion::{Criterion, criterion_group, criterion_main};
use paybridge_card_charging::{
    CallbackVerifier, Card, Client, Config, RequestId, Telco, callback_sign,
};
use paybridge_core::http::HttpTransport;
use paybridge_core::{Currency, Money};
use paybridge_testkit::raw_reqwest_post;
use secrecy::SecretString;

const KEY: &str = "bench-partner-key";

const ANSWER: &str = r#"{"trans_id":8,"request_id":"323233","amount":35000,"value":null,"declared_value":50000,"telco":"VIETTEL","serial":"10004783347874","code":"312821445892982","status":99,"message":"PENDING"}"#;

fn callback_body() -> Vec<u8> {
    let sign = callback_sign(KEY, "314688440422676", "10003395125761");
    format!(r#"{{"status":1,"message":"Th\u00e0nh c\u00f4ng","request_id":"989876","declared_value":50000,"value":50000,"amount":25000,"code":"314688440422676","serial":"10003395125761","telco":"VIETTEL","trans_id":54180,"callback_sign":"{sign}"}}"#).into_bytes()
}

fn verify(c: &mut Criterion) {
    let verifier = CallbackVerifier::new(SecretString::from(KEY));
    let body = callback_body();
    assert!(verifier.verify_json(&body).is_ok());
    c.bench_function("verify_posted_json_callback", |b| {
        b.iter(|| black_box(&verifier).verify_json(black_box(&body)).is_ok());
    });
}

fn round_trip(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let url = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = axum::Router::new().route("/chargingws/v2", post(|| async { ANSWER }));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        format!("http://{addr}/chargingws/v2")
    });
    let transport = HttpTransport::with_defaults().unwrap();
    let bare = transport.clone();
    let client = Client::new(
        Config::new(url.clone(), "3681148751", SecretString::from(KEY)),
        transport,
    )
    .unwrap();
    let card = Card::new(Telco::Viettel, "312821445892982", "10004783347874").unwrap();
    let amount = Money::parse("50000", Currency::VND).unwrap();
    let rid = RequestId::new("323233").unwrap();

    // The exact bytes the client sends, precomputed for the raw baseline.
    let sign = callback_sign(KEY, "312821445892982", "10004783347874");
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("telco", "VIETTEL"),
            ("code", "312821445892982"),
            ("serial", "10004783347874"),
            ("amount", "50000"),
            ("request_id", "323233"),
            ("partner_id", "3681148751"),
            ("sign", sign.as_str()),
            ("command", "charging"),
        ])
        .finish();
    let raw = reqwest::Client::builder().build().unwrap();
    // The same client settings paybridge applies (timeouts, user agent): isolates the SDK's
    // own work from the cost of the timers every production client should have.
    let defaults = paybridge_core::http::HttpConfig::default();
    let raw_configured = reqwest::Client::builder()
        .connect_timeout(defaults.connect_timeout)
        .timeout(defaults.timeout)
        .user_agent(defaults.user_agent.clone())
        .build()
        .unwrap();

    // The same POST of the same bytes, by a raw reqwest client.
    let body = bytes::Bytes::from(body);
    let headers = [
        ("content-type", "application/x-www-form-urlencoded"),
        ("accept", "application/json"),
    ];
    let raw_post =
        |raw: &reqwest::Client| rt.block_on(raw_reqwest_post(raw, &url, &headers, body.clone()));
    let charge = || rt.block_on(client.charge(&card, amount, &rid)).unwrap();

    let mut group = c.benchmark_group("charge_round_trip_loopback");
    group.bench_function("paybridge_transport_send", |b| {
        b.iter(|| {
            let req = paybridge_core::http::HttpRequest::post(url.clone(), body.clone())
                .header(
                    http::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                )
                .header(http::header::ACCEPT, "application/json");
            rt.block_on(bare.send(req)).unwrap()
        });
    });
    group.bench_function("paybridge_charge", |b| b.iter(charge));
    for (name, raw) in [
        ("raw_reqwest_post", &raw),
        ("raw_reqwest_post_same_timeouts", &raw_configured),
    ] {
        group.bench_function(name, |b| b.iter(|| raw_post(raw)));
    }
    group.finish();
}

criterion_group!(benches, verify, round_trip);
criterion_main!(benches);
