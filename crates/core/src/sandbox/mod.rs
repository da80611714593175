//! Helpers shared by the provider simulators (feature `sandbox`): a merchant-side callback
//! endpoint for tests ([`CallbackReceiver`]) and the hosted pages a payer sees ([`page`]).

pub mod page;

use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::task::JoinHandle;

/// A merchant-side callback endpoint for tests and demos: a local HTTP server at a path that
/// answers every POST and GET with a fixed answer and hands over each request (the body of a
/// POST, the query string of a GET). The server stops when this is dropped.
#[derive(Debug)]
pub struct CallbackReceiver {
    url: String,
    requests: UnboundedReceiver<Bytes>,
    server: JoinHandle<()>,
}

impl CallbackReceiver {
    /// Listen on `127.0.0.1` (a free port) at `path`, answering every request with `answer`
    /// (a `&'static str` is plain text; `([(CONTENT_TYPE, …)], body)` sets the type).
    ///
    /// # Errors
    /// The socket's error when no port can be bound.
    pub async fn start<A>(path: &str, answer: A) -> std::io::Result<Self>
    where
        A: axum::response::IntoResponse + Clone + Send + Sync + 'static,
    {
        let (tx, requests) = unbounded_channel::<Bytes>();
        let posted = answer.clone();
        let router = Router::new()
            .route(
                path,
                axum::routing::post(
                    move |State(tx): State<UnboundedSender<Bytes>>, body: Bytes| async move {
                        let _ = tx.send(body);
                        posted
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
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Ok(Self {
            url,
            requests,
            server,
        })
    }

    /// The full URL to give the simulator.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The next request that arrives within `within`, or `None`.
    pub async fn next(&mut self, within: Duration) -> Option<Bytes> {
        tokio::time::timeout(within, self.requests.recv())
            .await
            .ok()
            .flatten()
    }
}

impl Drop for CallbackReceiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}
