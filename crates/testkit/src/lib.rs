//! Helpers for paybridge's benchmarks and tests (unpublished; a dev-dependency only), kept
//! out of the crates users depend on.
#![forbid(unsafe_code)]

mod proxy;
mod recording;

pub use proxy::{swallowing_proxy, swallowing_proxy_when};
pub use recording::{Recorded, RecordingTransport};

/// The baseline of the round-trip benchmarks: a plain `reqwest` POST of `body` with
/// `headers`, the answer read whole.
///
/// # Panics
///
/// When the request or the body read fails: it is a benchmark harness's baseline.
#[allow(
    clippy::expect_used,
    reason = "a benchmark baseline: failing loudly is the point"
)]
pub async fn raw_reqwest_post(
    client: &reqwest::Client,
    url: &str,
    headers: &[(&'static str, &'static str)],
    body: bytes::Bytes,
) -> bytes::Bytes {
    let mut request = client.post(url).body(body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request
        .send()
        .await
        .expect("baseline request")
        .bytes()
        .await
        .expect("baseline body")
}
