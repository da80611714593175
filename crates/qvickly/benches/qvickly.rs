//! Verification of a typical JSON callback, as Qvickly posts it.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "benchmark harness"
)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use paybridge_qvickly::CallbackVerifier;
use paybridge_qvickly::sandbox::{CallbackSpec, SANDBOX_MERCHANT_ID, SANDBOX_SECRET, Simulator};
use secrecy::SecretString;

fn verify(c: &mut Criterion) {
    let body = Simulator::new().unwrap().signed_callback(&CallbackSpec {
        status: Some("Paid".into()),
        orderid: Some("P123456789".into()),
        number: Some("1001".into()),
        payment_url: Some("https://checkout.qvickly.io/invoice/1001/a1b2c3".into()),
        ..CallbackSpec::default()
    });
    let verifier = CallbackVerifier::new(
        Some(SANDBOX_MERCHANT_ID.into()),
        &SecretString::from(SANDBOX_SECRET),
    )
    .unwrap();
    assert!(verifier.verify_body(body.as_bytes()).is_ok());
    c.bench_function("verify_json_callback", |b| {
        b.iter(|| verifier.verify_body(black_box(body.as_bytes())).is_ok());
    });
}

criterion_group!(benches, verify);
criterion_main!(benches);
