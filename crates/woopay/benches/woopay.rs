//! Wooppay benchmarks: encode a `cash_createInvoice` request and decode its answer; a full
//! `create_invoice` round trip on loopback against a raw `reqwest` POST of the same bytes.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "benchmark harness"
)]

use std::hint::black_box;

use axum::body::Bytes;
use axum::routing::post;
use criterion::{Criterion, criterion_group, criterion_main};
use paybridge_core::http::{HttpConfig, HttpTransport};
use paybridge_core::soap::encoded::{EncDecimal, EncInt, EncString};
use paybridge_core::soap::{
    EnvelopeStyle, EnvelopeTemplate, RawEnvelope, decode_rpc, from_fragment, to_fragment, wrap,
    wrap_rpc,
};
use paybridge_core::{Currency, Money};
use paybridge_testkit::raw_reqwest_post;
use paybridge_woopay::generated::xml_controller as wire;
use paybridge_woopay::{Client, Config, InvoiceRequest};
use rust_decimal::Decimal;
use secrecy::SecretString;

fn sample(name: &str) -> String {
    let text = std::fs::read_to_string(format!(
        "{}/../../schemas/woopay/samples/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    text.lines()
        .filter(|l| !l.starts_with("<!--"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn request() -> wire::CashCreateInvoiceRpc {
    let s = |v: &str| Some(EncString::new(v.to_owned()));
    wire::CashCreateInvoiceRpc {
        encoding_style: Some("http://schemas.xmlsoap.org/soap/encoding/".into()),
        cash_create_invoice_request: Some(wire::CashCreateInvoiceRequest {
            xsi_type: Some("ns1:CashCreateInvoiceRequest".into()),
            xsi_nil: None,
            reference_id: s("9379992"),
            back_url: s("https://www.test.wooppay.com/"),
            request_url: s("https://www.test.wooppay.com/"),
            add_info: Some(EncString::empty()),
            amount: Some(EncDecimal::new(Decimal::from(100))),
            death_date: Some(EncString::empty()),
            service_type: Some(EncInt::empty()),
            description: s("test sale"),
            order_number: Some(EncInt::empty()),
        }),
    }
}

/// The generated direct codec (what the client uses), and yaserde's for comparison.
fn codec(c: &mut Criterion) {
    let style = EnvelopeStyle::rpc_encoded("ns1", "urn:XmlControllerwsdl");
    let req = request();
    let mut group = c.benchmark_group("encode_cash_create_invoice");
    // What the client does: the envelope's head and tail written once, the body per call.
    let template = EnvelopeTemplate::new(&style);
    group.bench_function("direct", |b| {
        b.iter(|| template.wrap_rpc(black_box(&req)));
    });
    group.bench_function("yaserde", |b| {
        b.iter(|| wrap(&style, None, &to_fragment(black_box(&req)).unwrap()));
    });
    group.finish();
    let answer = sample("cash_createInvoice.response.xml");
    let mut group = c.benchmark_group("decode_cash_create_invoice_response");
    group.bench_function("direct", |b| {
        b.iter(|| decode_rpc::<wire::CashCreateInvoiceRpcResponse>(black_box(&answer)).unwrap());
    });
    group.bench_function("yaserde", |b| {
        b.iter(|| {
            let env = RawEnvelope::parse(black_box(&answer)).unwrap();
            let r: wire::CashCreateInvoiceRpcResponse = from_fragment(&env.body).unwrap();
            r
        });
    });
    group.finish();
}

/// A loopback server answering the invoice API guide's samples: the login answer to `core_login`,
/// the create-invoice answer to anything else.
fn loopback_server(rt: &tokio::runtime::Runtime) -> String {
    let login = sample("core_login.response.xml");
    let created = sample("cash_createInvoice.response.xml");
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = axum::Router::new().route(
            "/api/wsd/",
            post(move |body: Bytes| {
                let answer = if body.windows(10).any(|w| w == b"core_login") {
                    login.clone()
                } else {
                    created.clone()
                };
                async move { ([("content-type", "text/xml; charset=utf-8")], answer) }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        format!("http://{addr}/api/wsd/")
    })
}

fn round_trip(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let url = loopback_server(&rt);
    let client = Client::new(
        Config::new(url.clone(), "test_merch", SecretString::from("A12345678a")),
        HttpTransport::with_defaults().unwrap(),
    )
    .unwrap();
    let inv = InvoiceRequest::new(
        "9379992",
        Money::parse("100", Currency::KZT).unwrap(),
        "https://www.test.wooppay.com/",
        "https://www.test.wooppay.com/",
    );
    rt.block_on(client.create_invoice(&inv)).unwrap(); // logs in once

    let body = wrap_rpc(
        &EnvelopeStyle::rpc_encoded("ns1", "urn:XmlControllerwsdl"),
        &request(),
    );
    let defaults = HttpConfig::default();
    let raw = reqwest::Client::builder()
        .connect_timeout(defaults.connect_timeout)
        .timeout(defaults.timeout)
        .user_agent(defaults.user_agent.clone())
        .build()
        .unwrap();

    let body = Bytes::from(body);
    let headers = [
        ("content-type", "text/xml; charset=utf-8"),
        ("soapaction", "\"urn:XmlControllerwsdl#cash_createInvoice\""),
        ("cookie", "session=06e66b5a182aeeb197a250a35bae0ed5"),
    ];
    let raw_post = || rt.block_on(raw_reqwest_post(&raw, &url, &headers, body.clone()));
    let create_invoice = || rt.block_on(client.create_invoice(&inv)).unwrap();

    let mut group = c.benchmark_group("create_invoice_round_trip_loopback");
    group.bench_function("raw_reqwest_post_same_timeouts", |b| b.iter(raw_post));
    // The layers between raw reqwest and the client, to see where the difference goes.
    let transport = HttpTransport::with_defaults().unwrap();
    let soap_request = || {
        paybridge_core::http::HttpRequest::post(url.clone(), body.clone())
            .header(http::header::CONTENT_TYPE, "text/xml; charset=utf-8")
            .header("soapaction", "\"urn:XmlControllerwsdl#cash_createInvoice\"")
            .header(
                http::header::COOKIE,
                "session=06e66b5a182aeeb197a250a35bae0ed5",
            )
    };
    group.bench_function("paybridge_transport_send", |b| {
        b.iter(|| rt.block_on(transport.send(soap_request())).unwrap());
    });
    group.bench_function("transport_send_then_decode", |b| {
        b.iter(|| {
            let r = rt.block_on(transport.send(soap_request())).unwrap();
            decode_rpc::<wire::CashCreateInvoiceRpcResponse>(r.text().unwrap()).unwrap()
        });
    });
    group.bench_function("paybridge_create_invoice", |b| b.iter(create_invoice));
    group.finish();
}

criterion_group!(benches, codec, round_trip);
criterion_main!(benches);
