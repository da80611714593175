//! A transport that sends nothing: it records every attempt and answers from a script, so a
//! test sees the exact bytes a client sends and the client's reading of a given answer
//! without a socket.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method};
use paybridge_core::http::{
    BoxFuture, HttpConfig, HttpTransport, Incoming, Outgoing, RetryPolicy, Transport,
    TransportError,
};

/// One attempt as the client sent it.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// Method.
    pub method: Method,
    /// The full URL.
    pub url: String,
    /// Headers in the order sent, values as text (`?` for a value that is not).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Bytes,
}

impl Recorded {
    /// The first value of header `name` (case-insensitive).
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as text (lossy).
    #[must_use]
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A scripted step: an answer or a failure.
#[derive(Debug)]
enum Step {
    Answer(Incoming),
    Fail(TransportError),
}

/// Records every attempt and answers each with the next scripted step; with nothing left to
/// answer, an attempt fails as a refused connection ("no answer scripted").
#[derive(Debug, Default)]
pub struct RecordingTransport {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    script: VecDeque<Step>,
    sent: Vec<Recorded>,
}

impl RecordingTransport {
    /// An empty recorder.
    #[must_use]
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Answer the next attempt with `status`, a `Content-Type` and `body`.
    ///
    /// # Panics
    ///
    /// When `content_type` is not a valid header value (a test's own mistake).
    #[allow(
        clippy::expect_used,
        reason = "a test helper: a bad literal is the test's bug"
    )]
    pub fn answer(&self, status: u16, content_type: &str, body: impl Into<Bytes>) -> &Self {
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_str(content_type).expect("a valid content type"),
        );
        self.answer_with(Incoming::new(status, headers, body))
    }

    /// Answer the next attempt with `incoming`.
    pub fn answer_with(&self, incoming: Incoming) -> &Self {
        self.state().script.push_back(Step::Answer(incoming));
        self
    }

    /// Fail the next attempt with `error`.
    pub fn fail(&self, error: TransportError) -> &Self {
        self.state().script.push_back(Step::Fail(error));
        self
    }

    /// Every attempt so far, in order.
    #[must_use]
    pub fn sent(&self) -> Vec<Recorded> {
        self.state().sent.clone()
    }

    /// An [`HttpTransport`] over this recorder: default settings, except that retries wait
    /// at most 5 ms.
    #[must_use]
    pub fn http(self: &Arc<Self>) -> HttpTransport {
        HttpTransport::over(
            HttpConfig::default().retry(
                RetryPolicy::default()
                    .max_attempts(3)
                    .base_delay(Duration::from_millis(1))
                    .max_delay(Duration::from_millis(5)),
            ),
            Arc::clone(self),
        )
    }
}

impl Transport for RecordingTransport {
    fn exchange<'a>(
        &'a self,
        request: Outgoing<'a>,
    ) -> BoxFuture<'a, Result<Incoming, TransportError>> {
        let recorded = Recorded {
            method: request.method.clone(),
            url: request.url.to_string(),
            headers: request
                .headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("?").to_owned()))
                .collect(),
            body: request.body.clone(),
        };
        let step = {
            let mut state = self.state();
            state.sent.push(recorded);
            state.script.pop_front()
        };
        Box::pin(async move {
            match step {
                Some(Step::Answer(incoming)) => Ok(incoming),
                Some(Step::Fail(error)) => Err(error),
                None => Err(TransportError::Connect("no answer scripted".into())),
            }
        })
    }
}
