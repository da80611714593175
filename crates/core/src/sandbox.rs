//! Helpers shared by the provider simulators (feature `sandbox`).

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::task::JoinHandle;

/// A merchant-side callback endpoint for tests and demos: a local HTTP server at `path` that
/// answers every POST and GET with `answer` and forwards each request (body for POST, query
/// string for GET) to the returned channel.
///
/// Returns the full URL to give the simulator, the channel, and the server task (abort it
/// when done).
pub async fn callback_receiver(
    path: &str,
    answer: &'static str,
) -> std::io::Result<(String, UnboundedReceiver<Bytes>, JoinHandle<()>)> {
    let (tx, rx) = unbounded_channel::<Bytes>();
    let router = Router::new()
        .route(
            path,
            axum::routing::post(
                move |State(tx): State<UnboundedSender<Bytes>>, body: Bytes| async move {
                    let _ = tx.send(body);
                    answer
                },
            )
            .get(
                move |State(tx): State<UnboundedSender<Bytes>>,
                      axum::extract::RawQuery(q): axum::extract::RawQuery| async move {
                    let _ = tx.send(Bytes::from(q.unwrap_or_default()));
                    answer
                },
            ),
        )
        .with_state(tx);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}{path}", listener.local_addr()?);
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Ok((url, rx, task))
}

/// Medians of `a` and `b` measured pair by pair: the calls alternate, so a machine whose
/// speed drifts (a shared VM drifts by 20 % within minutes) slows both sides alike. This is
/// how the round-trip benchmarks compare paybridge with a raw `reqwest` call.
pub fn interleaved_medians<A, B>(
    pairs: usize,
    mut a: impl FnMut() -> A,
    mut b: impl FnMut() -> B,
) -> (std::time::Duration, std::time::Duration) {
    let mut a_times = Vec::with_capacity(pairs);
    let mut b_times = Vec::with_capacity(pairs);
    for _ in 0..pairs {
        let t = std::time::Instant::now();
        std::hint::black_box(a());
        a_times.push(t.elapsed());
        let t = std::time::Instant::now();
        std::hint::black_box(b());
        b_times.push(t.elapsed());
    }
    let median = |mut v: Vec<std::time::Duration>| {
        v.sort_unstable();
        v.get(v.len() / 2).copied().unwrap_or_default()
    };
    (median(a_times), median(b_times))
}

/// Whether the benchmark group `group` was asked for on the command line (`cargo bench --
/// FILTER`; no filter: everything). A filter names it when the filter's part before the
/// first `/` (regex anchors dropped) is part of the group's name. Lets a bench skip
/// expensive setup nobody asked for.
#[must_use]
pub fn bench_requested(group: &str) -> bool {
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-') && a.parse::<f64>().is_err())
        .collect();
    filters.is_empty()
        || filters.iter().any(|f| {
            let head = f
                .trim_start_matches('^')
                .split('/')
                .next()
                .unwrap_or_default();
            group.contains(head.trim_end_matches('$'))
        })
}

/// [`interleaved_medians`] of a raw call and ours, printed as one line; returns ours/raw.
#[allow(clippy::print_stdout, reason = "a benchmark's report")]
pub fn print_interleaved_ratio<A, B>(
    label: &str,
    pairs: usize,
    raw: impl FnMut() -> A,
    ours: impl FnMut() -> B,
) -> f64 {
    let (raw_median, our_median) = interleaved_medians(pairs, raw, ours);
    let ratio = our_median.as_secs_f64() / raw_median.as_secs_f64();
    println!(
        "{label}, {pairs} interleaved pairs: raw reqwest median {raw_median:?}, paybridge median {our_median:?}, ratio {ratio:.3}"
    );
    ratio
}

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
