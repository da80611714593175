//! Payoo benchmarks: encode + sign a `GetOrderInformation` request; verify + decode its answer.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "benchmark harness"
)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use paybridge_core::http::HttpTransport;
use paybridge_core::soap::{EnvelopeStyle, RawEnvelope, SoapVersion, wrap};
use paybridge_payoo::signature::checksum;
use paybridge_payoo::{Client, Config, Credentials, parse_result};
use secrecy::SecretString;

fn bench(c: &mut Criterion) {
    let creds = Credentials::new(
        "shop",
        SecretString::from("p"),
        SecretString::from("s"),
        SecretString::from("checksum-key"),
    );
    let client = Client::new(
        Config::new("http://127.0.0.1/CallerServices.asmx", creds).timestamp("20261123190000"),
        HttpTransport::with_defaults().unwrap(),
    )
    .unwrap();
    let fields = [
        ("OrderID", "ORD-1".to_owned()),
        ("ShopID", "1234".to_owned()),
    ];
    c.bench_function("encode_sign_get_order_information", |b| {
        b.iter(|| {
            client
                .request_xml(black_box("GetOrderInformation"), black_box(&fields))
                .unwrap()
        });
    });

    let values = ["1", "150000", "0", "Success"];
    let sig = checksum("checksum-key", values);
    let body = format!(
        r#"<CallToPartnerResponse xmlns="PayooBPGAdapter"><CallToPartnerResult><DigitalSignature>{sig}</DigitalSignature><OrderStatus>1</OrderStatus><OrderCash>150000</OrderCash><OrderFee>0</OrderFee><AckCode>Success</AckCode></CallToPartnerResult></CallToPartnerResponse>"#
    );
    let answer = wrap(&EnvelopeStyle::new(SoapVersion::V11), None, &body);
    c.bench_function("verify_decode_get_order_information_answer", |b| {
        b.iter(|| {
            let env = RawEnvelope::parse(black_box(&answer)).unwrap();
            parse_result(&env.body, "checksum-key").unwrap()
        });
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
