//! The HTTP transport every provider client shares.
//!
//! One [`HttpTransport`] wraps one `reqwest::Client` (rustls with the `ring` provider, no
//! OpenSSL); clone it into every provider client so connections are pooled. It applies:
//!
//! - connect and total timeouts ([`HttpConfig`]);
//! - a response body limit enforced while streaming: a body over the limit is refused as
//!   soon as the limit is crossed, never buffered whole;
//! - a `tracing` span per call (`provider`, `operation`, `method`, `path`, `status`,
//!   `elapsed_ms`, `attempt`) that records no header, query or body — so no secret;
//! - a retry policy that retries **only** requests marked idempotent
//!   ([`HttpRequest::idempotent`]), on connect errors, timeouts and 429/502/503/504, with
//!   exponential backoff and full jitter. A payment request is never resent by the transport.
//!
//! Every status is returned to the caller: SOAP services send their Fault with HTTP 500, so the
//! body must be read first. [`HttpResponse::into_success`] turns a non-2xx status into
//! [`Error::Transport`] carrying the status.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use tracing::Instrument;

use crate::{Error, Result};

/// Check that `endpoint` is an `http://` or `https://` URL ([`Error::Config`] otherwise).
pub fn check_endpoint(endpoint: &str) -> Result<()> {
    Endpoint::parse(endpoint).map(drop)
}

/// A provider endpoint: an `http://` or `https://` URL, checked and parsed once, when a
/// client is built, so a bad configuration fails there and no call parses it again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint(reqwest::Url);

impl Endpoint {
    /// Parse and check `endpoint` ([`Error::Config`] when it is not an http(s) URL).
    pub fn parse(endpoint: &str) -> Result<Self> {
        let parsed = reqwest::Url::parse(endpoint)
            .map_err(|e| Error::Config(format!("endpoint {endpoint:?} is not a URL: {e}")))?;
        if matches!(parsed.scheme(), "http" | "https") {
            Ok(Self(parsed))
        } else {
            Err(Error::Config(format!(
                "endpoint must be an http(s) URL, got {endpoint:?}"
            )))
        }
    }

    /// The URL as text (normalized by the parse: `http://H` reads `http://H/`).
    #[must_use]
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a request goes: a URL as text, parsed when the request is sent, or an [`Endpoint`]
/// parsed before.
#[derive(Debug, Clone)]
pub enum RequestUrl {
    /// Text, parsed (and refused as [`Error::Config`] if it is no URL) when sent.
    Text(String),
    /// A checked endpoint.
    Endpoint(Endpoint),
}

impl From<String> for RequestUrl {
    fn from(url: String) -> Self {
        Self::Text(url)
    }
}

impl From<&str> for RequestUrl {
    fn from(url: &str) -> Self {
        Self::Text(url.to_owned())
    }
}

impl From<Endpoint> for RequestUrl {
    fn from(endpoint: Endpoint) -> Self {
        Self::Endpoint(endpoint)
    }
}

impl From<&Endpoint> for RequestUrl {
    fn from(endpoint: &Endpoint) -> Self {
        Self::Endpoint(endpoint.clone())
    }
}

/// Timeouts, limits and retry settings of a transport.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Time allowed to establish a connection.
    pub connect_timeout: Duration,
    /// Time allowed for a whole attempt, body included.
    pub timeout: Duration,
    /// Largest response body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Keep cookies between calls (session providers).
    pub cookie_store: bool,
    /// How idempotent requests are retried.
    pub retry: RetryPolicy,
    /// `User-Agent` header value.
    pub user_agent: String,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            max_body_bytes: 1024 * 1024,
            cookie_store: false,
            retry: RetryPolicy::default(),
            user_agent: concat!("paybridge/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }
}

/// Exponential backoff with full jitter, for idempotent requests only.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 = never retry).
    pub max_attempts: u32,
    /// Delay cap before the first retry; doubles each retry.
    pub base_delay: Duration,
    /// Largest delay between two attempts.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    #[must_use]
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Delay before retry number `retry` (1-based): uniform in `[0, min(max, base * 2^(retry-1))]`.
    #[must_use]
    pub fn delay(&self, retry: u32) -> Duration {
        let factor = 2_u32.saturating_pow(retry.saturating_sub(1));
        let cap = self.base_delay.saturating_mul(factor).min(self.max_delay);
        let cap_ms = u64::try_from(cap.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(fastrand::u64(0..=cap_ms))
    }
}

/// One request to send.
#[derive(Debug, Clone)]
pub struct HttpRequest {
    /// Method.
    pub method: Method,
    /// Full URL. Never logged: query strings may carry signatures or card data.
    pub url: RequestUrl,
    /// Headers to add. Never logged.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// Body bytes. Never logged.
    pub body: Bytes,
    /// Whether sending twice has the same effect as sending once; only then is it retried.
    pub idempotent: bool,
    /// Provider id, for the tracing span.
    pub provider: &'static str,
    /// Operation name, for the tracing span.
    pub operation: &'static str,
}

impl HttpRequest {
    /// A non-idempotent POST.
    #[must_use]
    pub fn post(url: impl Into<RequestUrl>, body: impl Into<Bytes>) -> Self {
        Self {
            method: Method::POST,
            url: url.into(),
            headers: Vec::new(),
            body: body.into(),
            idempotent: false,
            provider: "unknown",
            operation: "unknown",
        }
    }

    /// A PUT (idempotent unless said otherwise).
    #[must_use]
    pub fn put(url: impl Into<RequestUrl>, body: impl Into<Bytes>) -> Self {
        Self {
            method: Method::PUT,
            idempotent: true,
            ..Self::post(url, body)
        }
    }

    /// A GET (idempotent unless said otherwise).
    #[must_use]
    pub fn get(url: impl Into<RequestUrl>) -> Self {
        Self {
            method: Method::GET,
            idempotent: true,
            ..Self::post(url, Bytes::new())
        }
    }

    /// Add a header. Invalid values are refused as input errors.
    pub fn header(mut self, name: HeaderName, value: &str) -> Result<Self> {
        let v = HeaderValue::from_str(value)
            .map_err(|_| Error::Input(format!("invalid value for header {name}")))?;
        self.headers.push((name, v));
        Ok(self)
    }

    /// Add a header whose value was built for it (validated, not copied).
    pub fn owned_header(mut self, name: HeaderName, value: String) -> Result<Self> {
        let v = HeaderValue::from_maybe_shared(Bytes::from(value))
            .map_err(|_| Error::Input(format!("invalid value for header {name}")))?;
        self.headers.push((name, v));
        Ok(self)
    }

    /// Add a header whose value is built already.
    #[must_use]
    pub fn header_value(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    /// Add a header whose value is a constant (no validation or copy at run time).
    #[must_use]
    pub fn static_header(mut self, name: HeaderName, value: &'static str) -> Self {
        // `from_static` panics on what `from_str` refuses: check first (visible ASCII, space
        // and tab), and drop an invalid constant rather than panic.
        if value
            .bytes()
            .all(|b| b == b'\t' || (0x20..0x7f).contains(&b))
        {
            self.headers.push((name, HeaderValue::from_static(value)));
        }
        self
    }

    /// Mark whether the request may be retried.
    #[must_use]
    pub fn idempotent(mut self, idempotent: bool) -> Self {
        self.idempotent = idempotent;
        self
    }

    /// Name the call for tracing.
    #[must_use]
    pub fn operation(mut self, provider: &'static str, operation: &'static str) -> Self {
        self.provider = provider;
        self.operation = operation;
        self
    }
}

/// A response, whatever its status, with its body read within the limit.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// HTTP status code.
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

impl HttpResponse {
    /// `Ok(self)` for 2xx, else [`Error::Transport`] with the status and the start of the body.
    pub fn into_success(self) -> Result<Self> {
        if (200..300).contains(&self.status) {
            return Ok(self);
        }
        let snippet: String = String::from_utf8_lossy(&self.body)
            .chars()
            .take(200)
            .collect();
        Err(Error::Transport {
            status: Some(self.status),
            message: format!("unexpected HTTP status {}: {}", self.status, snippet.trim()),
            source: None,
        })
    }

    /// The body as UTF-8 text.
    pub fn text(&self) -> Result<&str> {
        std::str::from_utf8(&self.body)
            .map_err(|e| Error::Decode(format!("response body is not UTF-8: {e}")))
    }

    /// A header's value as text.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// The shared HTTP client. Cheap to clone; clones share one connection pool.
#[derive(Clone)]
pub struct HttpTransport {
    inner: Arc<Inner>,
}

struct Inner {
    client: reqwest::Client,
    config: HttpConfig,
}

impl std::fmt::Debug for HttpTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpTransport")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl HttpTransport {
    /// A transport with the given settings.
    pub fn new(config: HttpConfig) -> Result<Self> {
        // reqwest is built without a bundled crypto provider (aws-lc needs cmake and a long C
        // build); we use ring. Installing it is process-wide and only done when the
        // application has not chosen a provider itself.
        if rustls::crypto::CryptoProvider::get_default().is_none() {
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let client = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.timeout)
            .user_agent(config.user_agent.clone())
            .cookie_store(config.cookie_store)
            .build()
            .map_err(|e| Error::Config(format!("cannot build HTTP client: {e}")))?;
        Ok(Self {
            inner: Arc::new(Inner { client, config }),
        })
    }

    /// A transport with default settings.
    pub fn with_defaults() -> Result<Self> {
        Self::new(HttpConfig::default())
    }

    /// The settings in force.
    #[must_use]
    pub fn config(&self) -> &HttpConfig {
        &self.inner.config
    }

    /// Send a request, retrying it only if it is idempotent (see module docs).
    ///
    /// The request is taken apart before the returned future exists, and the future holds
    /// one attempt's state at a time: it is moved whole at every `await` that nests it, so
    /// its size is part of every call's cost.
    pub fn send(
        &self,
        mut request: HttpRequest,
    ) -> impl Future<Output = Result<HttpResponse>> + Send + '_ {
        // Parsed here, once: the attempts then take the URL from the request (a text that is
        // no URL stays text, and the attempt refuses it).
        if let RequestUrl::Text(text) = &request.url
            && let Ok(url) = reqwest::Url::parse(text)
        {
            request.url = RequestUrl::Endpoint(Endpoint(url));
        }
        let path = match &request.url {
            RequestUrl::Endpoint(Endpoint(url)) => url.path(),
            RequestUrl::Text(_) => "",
        };
        let span = tracing::info_span!(
            "paybridge.http",
            provider = request.provider,
            operation = request.operation,
            method = %request.method,
            path,
            status = tracing::field::Empty,
            elapsed_ms = tracing::field::Empty,
            attempt = tracing::field::Empty,
        );
        self.send_with_retry(request).instrument(span)
    }

    async fn send_with_retry(&self, mut request: HttpRequest) -> Result<HttpResponse> {
        let policy = self.inner.config.retry;
        let max_attempts = if request.idempotent {
            policy.max_attempts.max(1)
        } else {
            1
        };
        let started = Instant::now();
        let mut attempt = 1;
        loop {
            tracing::Span::current().record("attempt", attempt);
            // The last attempt takes the URL and the body themselves; earlier ones copies.
            let (url, body) = if attempt < max_attempts {
                (request.url.clone(), request.body.clone())
            } else {
                (
                    std::mem::replace(&mut request.url, RequestUrl::Text(String::new())),
                    std::mem::take(&mut request.body),
                )
            };
            let outcome = match url {
                RequestUrl::Endpoint(Endpoint(url)) => {
                    self.send_once(self.start(&request, url, body)).await
                }
                // Only a text `send` could not parse is left as text.
                RequestUrl::Text(text) => Err(Error::Config(match reqwest::Url::parse(&text) {
                    Err(e) => format!("invalid endpoint URL: {e}"),
                    Ok(_) => "no URL to send to".into(),
                })),
            };
            let retry = attempt < max_attempts
                && match &outcome {
                    Ok(resp) => matches!(resp.status, 429 | 502 | 503 | 504),
                    Err(e) => e.retryable(),
                };
            if !retry {
                let span = tracing::Span::current();
                span.record(
                    "elapsed_ms",
                    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                );
                match &outcome {
                    Ok(resp) => {
                        span.record("status", resp.status);
                        tracing::debug!(status = resp.status, "response");
                    }
                    Err(e) => tracing::warn!(error = %e, "request failed"),
                }
                return outcome;
            }
            drop(outcome);
            let delay = policy.delay(attempt);
            tracing::debug!(
                attempt,
                delay_ms = delay.as_millis(),
                "retrying idempotent request"
            );
            // Boxed: a timer is large, and only a retry needs one.
            Box::pin(tokio::time::sleep(delay)).await;
            attempt += 1;
        }
    }

    /// One attempt's request, built before its future: what the future holds is reqwest's
    /// (small) pending call.
    fn start(
        &self,
        request: &HttpRequest,
        url: reqwest::Url,
        body: Bytes,
    ) -> impl Future<Output = reqwest::Result<reqwest::Response>> + Send + use<> {
        let mut builder = self
            .inner
            .client
            .request(request.method.clone(), url)
            .body(body);
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        builder.send()
    }

    async fn send_once(
        &self,
        sent: impl Future<Output = reqwest::Result<reqwest::Response>>,
    ) -> Result<HttpResponse> {
        let mut response = sent.await.map_err(|e| self.map_reqwest(e))?;
        let status = response.status().as_u16();
        let limit = self.inner.config.max_body_bytes;
        let too_large = || Error::Transport {
            status: Some(status),
            message: format!("response body exceeds the limit of {limit} bytes"),
            source: None,
        };
        if response
            .content_length()
            .is_some_and(|len| len > limit as u64)
        {
            return Err(too_large());
        }
        // Small answers arrive as one chunk: kept as is, copied only when a second comes.
        let mut first: Option<Bytes> = None;
        let mut joined = BytesMut::new();
        let mut total = 0_usize;
        while let Some(chunk) = response.chunk().await.map_err(|e| self.map_reqwest(e))? {
            total += chunk.len();
            if total > limit {
                return Err(too_large());
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
        Ok(HttpResponse {
            status,
            // Taken after the body: not held in the future while the body is read.
            headers: std::mem::take(response.headers_mut()),
            body: first.unwrap_or_else(|| joined.freeze()),
        })
    }

    fn map_reqwest(&self, e: reqwest::Error) -> Error {
        if e.is_timeout() {
            return Error::Timeout(self.inner.config.timeout);
        }
        // reqwest's Display may include the URL, whose query can carry signatures: strip it.
        let e = e.without_url();
        let message = if e.is_connect() {
            "cannot connect".to_owned()
        } else if e.is_body() || e.is_decode() {
            "error reading the response body".to_owned()
        } else {
            "request failed".to_owned()
        };
        Error::Transport {
            status: e.status().map(|s| s.as_u16()),
            message,
            source: Some(Box::new(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_headers_are_kept_unless_invalid() {
        let r = HttpRequest::get("http://h/")
            .static_header(http::header::ACCEPT, "application/json")
            .static_header(http::header::CONTENT_TYPE, "bad\nvalue");
        assert_eq!(r.headers.len(), 1);
        assert_eq!(r.headers[0].1, "application/json");
    }

    #[test]
    fn endpoints_must_be_http_urls() {
        assert!(check_endpoint("https://gateway.example/chargingws/v2").is_ok());
        assert!(check_endpoint("http://127.0.0.1:8080/x").is_ok());
        for bad in ["", "gateway.example", "ftp://x/y", "https//x"] {
            assert!(
                matches!(check_endpoint(bad), Err(Error::Config(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn endpoints_are_parsed_once_and_requests_take_either_form() {
        let e = Endpoint::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(e.as_str(), "http://127.0.0.1:8080/");
        assert_eq!(e.to_string(), e.as_str());
        assert!(matches!(
            Endpoint::parse("mailto:a@b"),
            Err(Error::Config(_))
        ));
        assert!(
            matches!(HttpRequest::post(&e, "x").url, RequestUrl::Endpoint(parsed) if parsed == e)
        );
        assert!(
            matches!(HttpRequest::get("http://h/p").url, RequestUrl::Text(t) if t == "http://h/p")
        );
    }

    #[tokio::test]
    async fn a_text_that_is_no_url_is_refused_when_sent() {
        let t = HttpTransport::with_defaults().unwrap();
        match t.send(HttpRequest::get("not a url")).await {
            Err(Error::Config(message)) => assert!(message.contains("invalid endpoint URL")),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn backoff_is_capped_and_jittered() {
        let p = RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(300),
        };
        for _ in 0..100 {
            assert!(p.delay(1) <= Duration::from_millis(100));
            assert!(p.delay(2) <= Duration::from_millis(200));
            assert!(p.delay(10) <= Duration::from_millis(300));
        }
    }

    #[test]
    fn non_2xx_is_a_transport_error_with_status() {
        let r = HttpResponse {
            status: 500,
            headers: HeaderMap::new(),
            body: Bytes::from_static(b"<html><body>Internal Server Error</body></html>"),
        };
        match r.into_success() {
            Err(Error::Transport {
                status, message, ..
            }) => {
                assert_eq!(status, Some(500));
                assert!(message.contains("Internal Server Error"));
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
