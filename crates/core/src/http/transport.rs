//! The pluggable part of the transport: one attempt of one request.
//!
//! [`HttpTransport`](super::HttpTransport) keeps the policy every provider relies on — the
//! call's deadline, retrying only idempotent requests, no redirect, the body limit, telling an
//! unknown outcome from a refused connection, the tracing span. What sends the bytes is a
//! [`Transport`]: reqwest by default, or anything a service puts in front of it (its own
//! client, a proxy, middleware, a recorder) with
//! [`HttpTransport::over`](super::HttpTransport::over).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue, Method};

use crate::error::BoxError;

/// The future a [`Transport`] returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Sends one attempt of one request and reads its answer. Object safe: a client holds any
/// transport as `Arc<dyn Transport>`.
///
/// A transport must not retry, follow redirects or keep the request beyond the call: the
/// [`HttpTransport`](super::HttpTransport) above it decides all of that. It must tell a
/// failure before any byte was written ([`TransportError::Connect`]) from one after
/// (everything else): only the first is safe to resend when money may move.
///
/// ```
/// use paybridge_core::http::{
///     BoxFuture, HttpConfig, HttpTransport, Incoming, Outgoing, Transport, TransportError,
/// };
///
/// /// Counts the requests it passes on to reqwest.
/// #[derive(Debug)]
/// struct Counting {
///     inner: HttpTransport,
///     sent: std::sync::atomic::AtomicUsize,
/// }
///
/// impl Transport for Counting {
///     fn exchange<'a>(
///         &'a self,
///         request: Outgoing<'a>,
///     ) -> BoxFuture<'a, Result<Incoming, TransportError>> {
///         self.sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
///         self.inner.exchange(request)
///     }
/// }
///
/// let config = HttpConfig::default();
/// let counting = Counting { inner: HttpTransport::new(config.clone())?, sent: 0.into() };
/// // Every provider client takes this transport as it takes the default one.
/// let transport = HttpTransport::over(config, counting);
/// # Ok::<(), paybridge_core::Error>(())
/// ```
pub trait Transport: Send + Sync + std::fmt::Debug {
    /// Send `request` and read the whole answer (at most [`Outgoing::max_body_bytes`] of
    /// body, within [`Outgoing::timeout`]).
    fn exchange<'a>(
        &'a self,
        request: Outgoing<'a>,
    ) -> BoxFuture<'a, Result<Incoming, TransportError>>;
}

impl<T: Transport + ?Sized> Transport for Arc<T> {
    fn exchange<'a>(
        &'a self,
        request: Outgoing<'a>,
    ) -> BoxFuture<'a, Result<Incoming, TransportError>> {
        (**self).exchange(request)
    }
}

/// One attempt of one request, as a [`Transport`] sends it. Its `Debug` shows the method,
/// host, path, header names and body length — never a header value, query or body.
#[non_exhaustive]
pub struct Outgoing<'a> {
    /// Method.
    pub method: &'a Method,
    /// Full URL (its query may carry signatures: do not log it).
    pub url: &'a reqwest::Url,
    /// Headers (cookies and session keys among them: do not log them).
    pub headers: &'a [(HeaderName, HeaderValue)],
    /// Body.
    pub body: &'a Bytes,
    /// What is left of the call's deadline for this attempt.
    pub timeout: Duration,
    /// Largest body to read; a longer one is [`TransportError::TooLarge`].
    pub max_body_bytes: usize,
}

impl<'a> Outgoing<'a> {
    /// An attempt (for transports that wrap or test others).
    #[must_use]
    pub fn new(
        method: &'a Method,
        url: &'a reqwest::Url,
        headers: &'a [(HeaderName, HeaderValue)],
        body: &'a Bytes,
        timeout: Duration,
        max_body_bytes: usize,
    ) -> Self {
        Self {
            method,
            url,
            headers,
            body,
            timeout,
            max_body_bytes,
        }
    }
}

impl std::fmt::Debug for Outgoing<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outgoing")
            .field("method", self.method)
            .field("host", &self.url.host_str().unwrap_or_default())
            .field("path", &self.url.path())
            .field(
                "headers",
                &self.headers.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .field("body_bytes", &self.body.len())
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// What a [`Transport`] read: status, headers and the whole body. Its `Debug` shows the
/// status, header names and body length.
#[derive(Clone)]
#[non_exhaustive]
pub struct Incoming {
    /// HTTP status code.
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

impl Incoming {
    /// An answer.
    #[must_use]
    pub fn new(status: u16, headers: HeaderMap, body: impl Into<Bytes>) -> Self {
        Self {
            status,
            headers,
            body: body.into(),
        }
    }
}

impl std::fmt::Debug for Incoming {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Incoming")
            .field("status", &self.status)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("body_bytes", &self.body.len())
            .finish()
    }
}

/// Why an attempt failed. Only [`Connect`](Self::Connect) says that nothing reached the
/// provider; after any other failure a request that moves money has an unknown outcome.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// No byte of the request was written: the connection could not be made (refused, DNS,
    /// TLS handshake). Safe to retry.
    #[error("cannot connect")]
    Connect(#[source] BoxError),
    /// The attempt's timeout passed before the whole answer was read.
    #[error("no complete answer within the timeout")]
    Timeout(#[source] Option<BoxError>),
    /// The exchange failed after the request may have been written (a reset, a closed
    /// connection, no answer head).
    #[error("the exchange failed after the request was sent")]
    Sending(#[source] BoxError),
    /// The answer's body was cut off.
    #[error("the answer was cut off")]
    Reading(#[source] BoxError),
    /// The answer's body is longer than [`Outgoing::max_body_bytes`].
    #[error("the answer (HTTP {status}) exceeds the body limit")]
    TooLarge {
        /// The answer's status.
        status: u16,
    },
}

/// The reqwest exchange: the answer's head, then its body streamed up to the limit (a body
/// over it is refused as soon as the limit is crossed, never buffered whole). A redirect is
/// returned as it came, without its body: the caller refuses it.
pub(super) async fn reqwest_exchange(
    client: &reqwest::Client,
    request: Outgoing<'_>,
) -> Result<Incoming, TransportError> {
    let mut builder = client
        .request(request.method.clone(), request.url.clone())
        .timeout(request.timeout)
        .body(request.body.clone());
    for (name, value) in request.headers {
        builder = builder.header(name, value);
    }
    let mut response = builder
        .send()
        .await
        .map_err(|e| classify(e, TransportError::Sending))?;
    let status = response.status().as_u16();
    let headers = std::mem::take(response.headers_mut());
    if response.status().is_redirection() {
        return Ok(Incoming::new(status, headers, Bytes::new()));
    }
    let limit = request.max_body_bytes;
    if response
        .content_length()
        .is_some_and(|len| len > limit as u64)
    {
        return Err(TransportError::TooLarge { status });
    }
    // Small answers arrive as one chunk: kept as is, copied only when a second comes.
    let mut first: Option<Bytes> = None;
    let mut joined = BytesMut::new();
    let mut total = 0_usize;
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| classify(e, TransportError::Reading))?
    {
        total += chunk.len();
        if total > limit {
            return Err(TransportError::TooLarge { status });
        }
        if let Some(f) = first.take() {
            joined.extend_from_slice(&f);
        }
        if joined.is_empty() {
            first = Some(chunk);
        } else {
            joined.extend_from_slice(&chunk);
        }
    }
    Ok(Incoming::new(
        status,
        headers,
        first.unwrap_or_else(|| joined.freeze()),
    ))
}

/// A reqwest failure as a [`TransportError`]: a connect failure, a timeout, or `otherwise`
/// (where it happened). reqwest's message may include the URL, whose query can carry
/// signatures: it is stripped.
fn classify(e: reqwest::Error, otherwise: fn(BoxError) -> TransportError) -> TransportError {
    let e = e.without_url();
    if e.is_connect() {
        TransportError::Connect(Box::new(e))
    } else if e.is_timeout() {
        TransportError::Timeout(Some(Box::new(e)))
    } else {
        otherwise(Box::new(e))
    }
}
