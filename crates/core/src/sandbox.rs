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
