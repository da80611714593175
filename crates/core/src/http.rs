//! The HTTP transport every provider client shares.
//!
//! One [`HttpTransport`] wraps one `reqwest::Client` (rustls with the `ring` provider, no
//! OpenSSL); clone it into every provider client so connections are pooled. It applies:
//!
//! - one deadline per call ([`HttpConfig::timeout`]): every attempt, backoff and body read
//!   together; each attempt gets what is left;
//! - no redirect is followed: a 3xx is [`Error::Transport`] naming its `Location` (opt in to
//!   same-origin redirects with [`HttpConfig::same_origin_redirects`]; a body or credential
//!   never goes to another origin);
//! - a response body limit enforced while streaming: a body over the limit is refused as
//!   soon as the limit is crossed, never buffered whole;
//! - a `tracing` span per call (`provider`, `operation`, `method`, `path`, `status`,
//!   `elapsed_ms`, `attempt`) that records no header, query or body — so no secret;
//! - a retry policy that retries **only** requests marked idempotent
//!   ([`HttpRequest::idempotent`]), on connect errors, timeouts and 429/502/503/504, with
//!   exponential backoff and full jitter. A payment request is never resent by the transport;
//!   when it may have been written and no answer could be read, the error is
//!   [`Error::OutcomeUnknown`] with the request's [`Reconcile`] advice.
//!
//! Every status is returned to the caller: SOAP services send their Fault with HTTP 500, so the
//! body must be read first. [`HttpResponse::into_success`] turns a non-2xx status into
//! [`Error::Transport`] carrying the status.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use tracing::Instrument;

use crate::error::BoxError;
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

    /// This endpoint with `query` added to its query (no parse of the whole URL again).
    #[must_use]
    pub fn with_query(&self, query: &str) -> Self {
        let mut url = self.0.clone();
        let joined = match url.query() {
            Some(existing) if !existing.is_empty() => format!("{existing}&{query}"),
            _ => query.to_owned(),
        };
        url.set_query(Some(&joined));
        Self(url)
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
    /// Time allowed to establish a connection (never more than what is left of `timeout`).
    pub connect_timeout: Duration,
    /// The deadline of a whole call: every attempt, the backoff between them and the body.
    pub timeout: Duration,
    /// Follow redirects to the same origin (scheme, host and port), at most 5. Off by default:
    /// a redirect is then an error naming its `Location`. A redirect to another origin is
    /// never followed.
    pub same_origin_redirects: bool,
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
            same_origin_redirects: false,
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

/// What to tell the caller when a request that must not be repeated may have reached the
/// provider and its outcome is unknown (see [`Error::OutcomeUnknown`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reconcile {
    /// The merchant's reference of the request (request id, order id, invoice reference).
    pub reference: String,
    /// How to find out what the provider did.
    pub advice: &'static str,
}

/// Advice for a non-idempotent request that named none.
const DEFAULT_ADVICE: &str =
    "ask the provider for the state of this request before sending anything again";

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
    /// For a request that is not idempotent: its reference and how to reconcile it.
    pub reconcile: Option<Reconcile>,
    /// Why a header given to [`HttpRequest::header`] was refused (reported when sent).
    invalid_header: Option<String>,
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
            reconcile: None,
            invalid_header: None,
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

    /// Add a header: a name and a value of any type `http` converts (`&str`, `String`,
    /// `HeaderName`/`HeaderValue`, a `&'static str` constant). As in reqwest, an invalid
    /// name or value is reported when the request is sent ([`Error::Input`], nothing sent).
    #[must_use]
    pub fn header<K, V>(mut self, name: K, value: V) -> Self
    where
        HeaderName: TryFrom<K>,
        HeaderValue: TryFrom<V>,
    {
        match (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            (Ok(name), Ok(value)) => self.headers.push((name, value)),
            (Ok(name), Err(_)) => {
                self.invalid_header = Some(format!("invalid value for header {name}"));
            }
            (Err(_), _) => self.invalid_header = Some("invalid header name".into()),
        }
        self
    }

    /// Mark whether the request may be retried.
    #[must_use]
    pub fn idempotent(mut self, idempotent: bool) -> Self {
        self.idempotent = idempotent;
        self
    }

    /// A request that must not be repeated: its reference and the advice an
    /// [`Error::OutcomeUnknown`] gives (marks it not idempotent).
    #[must_use]
    pub fn reconcile(mut self, reference: impl Into<String>, advice: &'static str) -> Self {
        self.idempotent = false;
        self.reconcile = Some(Reconcile {
            reference: reference.into(),
            advice,
        });
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
///
/// Only the transport builds one (it has a private field): a response is evidence that core
/// sent a request to a URL and read this answer from it ([`HttpResponse::came_from`]).
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// HTTP status code.
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
    exchange: Arc<Exchange>,
}

/// What a response was the answer to (shared by a call's attempts and its answer).
#[derive(Debug)]
struct Exchange {
    /// The URL the request was sent to.
    url: reqwest::Url,
    provider: &'static str,
    operation: &'static str,
    /// `Some` for a request that must not be repeated.
    reconcile: Option<Reconcile>,
}

impl Exchange {
    /// The exchange of `request` (its reconciliation advice taken) to `url`.
    fn of(request: &mut HttpRequest, url: reqwest::Url) -> Self {
        let reconcile = request.reconcile.take();
        Self {
            url,
            provider: request.provider,
            operation: request.operation,
            reconcile: (!request.idempotent).then(|| {
                reconcile.unwrap_or(Reconcile {
                    reference: String::new(),
                    advice: DEFAULT_ADVICE,
                })
            }),
        }
    }

    /// `host:port`, for messages (built only when one is written).
    fn host(&self) -> String {
        format!(
            "{}:{}",
            self.url.host_str().unwrap_or_default(),
            self.url.port_or_known_default().unwrap_or_default()
        )
    }

    /// The error of a request that may have been written and whose answer is unknown:
    /// [`Error::OutcomeUnknown`] when it must not be repeated, `otherwise` when it may be.
    fn unknown(&self, cause: String, source: Option<BoxError>, otherwise: Error) -> Error {
        match &self.reconcile {
            Some(r) => Error::OutcomeUnknown {
                provider: self.provider,
                operation: self.operation,
                reference: r.reference.clone(),
                cause,
                advice: r.advice,
                source,
            },
            None => otherwise,
        }
    }
}

/// Whether two URLs have one origin: scheme, host and port (a default port spelled out or
/// not is the same port).
fn same_origin(a: &reqwest::Url, b: &reqwest::Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// Provider text made safe to show: control characters escaped, at most `max` characters.
#[must_use]
pub fn printable(text: &str, max: usize) -> String {
    let mut out = String::new();
    for c in text.chars().take(max) {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

impl HttpResponse {
    /// `Ok(self)` for 2xx; else [`Error::Transport`] with the status and the start of the
    /// body — or [`Error::OutcomeUnknown`] for a 5xx to a request that must not be repeated
    /// (the provider may have acted before it failed).
    pub fn into_success(self) -> Result<Self> {
        if self.is_success() {
            return Ok(self);
        }
        Err(self.status_error())
    }

    fn status_error(&self) -> Error {
        let message = format!(
            "unexpected HTTP status {} from {}: {}",
            self.status,
            self.exchange.host(),
            self.snippet(200)
        );
        let plain = Error::Transport {
            status: Some(self.status),
            message: message.clone(),
            source: None,
        };
        if self.status >= 500 {
            self.exchange.unknown(message, None, plain)
        } else {
            plain
        }
    }

    /// The start of the body, printable.
    fn snippet(&self, max: usize) -> String {
        printable(String::from_utf8_lossy(&self.body).trim(), max)
    }

    /// The error for an answer that is not the protocol at all (an HTML page, another XML
    /// document, not JSON): "unexpected answer from HOST: HTTP STATUS, CONTENT-TYPE, FIRST
    /// BYTES" — [`Error::OutcomeUnknown`] for a 2xx or 5xx answer to a request that must not
    /// be repeated.
    #[must_use]
    pub fn not_the_protocol(&self) -> Error {
        let content_type = self.header("content-type").unwrap_or("no content type");
        let message = format!(
            "unexpected answer from {}: HTTP {}, {}, \"{}\"",
            self.exchange.host(),
            self.status,
            printable(content_type, 80),
            self.snippet(80)
        );
        let plain = Error::Transport {
            status: (!self.is_success()).then_some(self.status),
            message: message.clone(),
            source: None,
        };
        if self.may_have_acted() {
            self.exchange.unknown(message, None, plain)
        } else {
            plain
        }
    }

    /// The error for an answer in the protocol that could not be decoded (`problem`, e.g. a
    /// negative amount): `problem` itself for a 2xx, the status error for any other status,
    /// and [`Error::OutcomeUnknown`] for a 2xx or 5xx answer to a request that must not be
    /// repeated.
    #[must_use]
    pub fn undecodable(&self, problem: Error) -> Error {
        if self.may_have_acted() {
            let cause = format!(
                "HTTP {} from {}, its answer could not be read: {problem}",
                self.status,
                self.exchange.host()
            );
            return self.exchange.unknown(
                cause,
                Some(Box::new(problem)),
                Error::Decode(String::new()),
            );
        }
        if self.is_success() {
            problem
        } else {
            self.status_error()
        }
    }

    fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// A request that must not be repeated got an answer that does not say it was refused
    /// (2xx or 5xx): the provider may have acted on it.
    fn may_have_acted(&self) -> bool {
        self.exchange.reconcile.is_some() && (self.is_success() || self.status >= 500)
    }

    /// Whether this answer was read by core's transport from `endpoint`'s origin (scheme,
    /// host and port): the evidence an unsigned callback is confirmed with.
    #[must_use]
    pub fn came_from(&self, endpoint: &Endpoint) -> bool {
        same_origin(&self.exchange.url, &endpoint.0)
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
        let redirects = if config.same_origin_redirects {
            reqwest::redirect::Policy::custom(|attempt| {
                let same = attempt
                    .previous()
                    .first()
                    .is_some_and(|first| same_origin(first, attempt.url()));
                if !same {
                    attempt.stop()
                } else if attempt.previous().len() > 5 {
                    attempt.error("too many redirects")
                } else {
                    attempt.follow()
                }
            })
        } else {
            reqwest::redirect::Policy::none()
        };
        let client = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .redirect(redirects)
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

    /// Send a request, retrying it only if it is idempotent (see module docs), within one
    /// deadline ([`HttpConfig::timeout`]) for all its attempts.
    pub async fn send(&self, mut request: HttpRequest) -> Result<HttpResponse> {
        if let Some(problem) = request.invalid_header.take() {
            return Err(Error::Input(problem));
        }
        let url = match std::mem::replace(&mut request.url, RequestUrl::Text(String::new())) {
            RequestUrl::Endpoint(Endpoint(url)) => url,
            RequestUrl::Text(text) => reqwest::Url::parse(&text)
                .map_err(|e| Error::Config(format!("invalid endpoint URL: {e}")))?,
        };
        let span = tracing::info_span!(
            "paybridge.http",
            provider = request.provider,
            operation = request.operation,
            method = %request.method,
            path = url.path(),
            status = tracing::field::Empty,
            elapsed_ms = tracing::field::Empty,
        );
        self.send_with_retry(request, url).instrument(span).await
    }

    async fn send_with_retry(
        &self,
        mut request: HttpRequest,
        url: reqwest::Url,
    ) -> Result<HttpResponse> {
        let config = &self.inner.config;
        let max_attempts = if request.idempotent {
            config.retry.max_attempts.max(1)
        } else {
            1
        };
        let started = Instant::now();
        let deadline = started + config.timeout;
        let exchange = Arc::new(Exchange::of(&mut request, url));
        let mut attempt = 1;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let outcome = self.attempt(&request, &exchange, left).await;
            let retry_wanted = attempt < max_attempts
                && match &outcome {
                    Ok(resp) => matches!(resp.status, 429 | 502 | 503 | 504),
                    Err(e) => e.retryable(),
                };
            let delay = config.retry.delay(attempt);
            // A retry happens only if the backoff leaves time for another attempt.
            let time_left = deadline.saturating_duration_since(Instant::now());
            if !retry_wanted || delay >= time_left {
                let span = tracing::Span::current();
                span.record(
                    "elapsed_ms",
                    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                );
                match &outcome {
                    Ok(resp) => {
                        span.record("status", resp.status);
                        tracing::debug!(status = resp.status, attempts = attempt, "response");
                    }
                    // The caller reports the final error; here it is only a debug line.
                    Err(e) => tracing::debug!(error = %e, attempts = attempt, "request failed"),
                }
                return outcome;
            }
            if let Err(e) = &outcome {
                tracing::debug!(attempt, error = %e, delay_ms = delay.as_millis(), "retrying idempotent request");
            }
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    /// One attempt, allowed `left` of the call's deadline.
    async fn attempt(
        &self,
        request: &HttpRequest,
        exchange: &Arc<Exchange>,
        left: Duration,
    ) -> Result<HttpResponse> {
        let budget = self.inner.config.timeout;
        if left.is_zero() {
            return Err(Error::Timeout(budget));
        }
        let mut builder = self
            .inner
            .client
            .request(request.method.clone(), exchange.url.clone())
            .timeout(left)
            .body(request.body.clone());
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        let mut response = builder
            .send()
            .await
            .map_err(|e| self.map_reqwest(e, exchange, Phase::Sending))?;
        let status = response.status().as_u16();
        if response.status().is_redirection() {
            let location = response
                .headers()
                .get(http::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .map_or_else(|| "no Location".to_owned(), |l| printable(l, 200));
            return Err(Error::Transport {
                status: Some(status),
                message: format!(
                    "{} answered a redirect to {location}; redirects are not followed",
                    exchange.host()
                ),
                source: None,
            });
        }
        let limit = self.inner.config.max_body_bytes;
        let too_large = || {
            let message = format!(
                "the answer from {} exceeds the limit of {limit} bytes",
                exchange.host()
            );
            let plain = Error::Transport {
                status: Some(status),
                message: message.clone(),
                source: None,
            };
            exchange.unknown(message, None, plain)
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
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.map_reqwest(e, exchange, Phase::Reading))?
        {
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
            headers: std::mem::take(response.headers_mut()),
            body: first.unwrap_or_else(|| joined.freeze()),
            exchange: Arc::clone(exchange),
        })
    }

    /// A reqwest failure as our error. A failure to connect (refused, DNS, TLS handshake)
    /// happened before any byte of the request was written: a plain, retryable transport
    /// error. Anything later — a deadline, a reset, an answer cut off — may come after the
    /// provider acted: [`Error::OutcomeUnknown`] for a request that must not be repeated.
    fn map_reqwest(&self, e: reqwest::Error, exchange: &Exchange, phase: Phase) -> Error {
        // reqwest's Display may include the URL, whose query can carry signatures: strip it.
        let e = e.without_url();
        let host = exchange.host();
        let chain = cause_chain(&e);
        if e.is_connect() {
            return Error::Transport {
                status: None,
                message: format!("cannot connect to {host}: {chain}"),
                source: Some(Box::new(e)),
            };
        }
        let budget = self.inner.config.timeout;
        let what = match phase {
            _ if e.is_timeout() => format!(
                "no complete answer from {host} within the deadline of {budget:?} after the request was sent"
            ),
            Phase::Sending => {
                format!("the connection to {host} failed after the request was sent: {chain}")
            }
            Phase::Reading => format!("the answer from {host} was cut off: {chain}"),
        };
        if exchange.reconcile.is_some() {
            return exchange.unknown(what, Some(Box::new(e)), Error::Timeout(budget));
        }
        if e.is_timeout() {
            return Error::Timeout(budget);
        }
        Error::Transport {
            status: e.status().map(|s| s.as_u16()),
            message: what,
            source: Some(Box::new(e)),
        }
    }
}

/// Where a reqwest failure happened.
#[derive(Debug, Clone, Copy)]
enum Phase {
    /// Connecting, writing the request, waiting for the head of the answer.
    Sending,
    /// Reading the body of the answer.
    Reading,
}

/// The messages of an error and its sources, each once, joined by ": ".
fn cause_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = next {
        let text = err.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = err.source();
    }
    printable(&parts.join(": "), 400)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_of_any_form_and_invalid_ones_reported_when_sent() {
        let r = HttpRequest::get("http://h/")
            .header(http::header::ACCEPT, "application/json")
            .header("x-owned", String::from("v"))
            .header(SOAP, HeaderValue::from_static("\"a\""));
        assert_eq!(r.headers.len(), 3);
        assert_eq!(r.headers[0].1, "application/json");
        assert!(r.invalid_header.is_none());
        let bad = HttpRequest::get("http://h/").header(http::header::CONTENT_TYPE, "bad\nvalue");
        assert!(bad.headers.is_empty());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let t = HttpTransport::with_defaults().unwrap();
        assert!(
            matches!(rt.block_on(t.send(bad)), Err(Error::Input(m)) if m.contains("content-type"))
        );
    }

    const SOAP: HeaderName = HeaderName::from_static("soapaction");

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
        let with = Endpoint::parse("http://h/cw?x=1")
            .unwrap()
            .with_query("a=1&b=%C3%A0");
        assert_eq!(with.as_str(), "http://h/cw?x=1&a=1&b=%C3%A0");
        assert_eq!(e.with_query("a=1").as_str(), "http://127.0.0.1:8080/?a=1");
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
        let url = reqwest::Url::parse("http://gateway.example/x").unwrap();
        let answer = |idempotent: bool| HttpResponse {
            status: 500,
            headers: HeaderMap::new(),
            body: Bytes::from_static(b"<html><body>Internal Server Error</body></html>"),
            exchange: Arc::new(Exchange::of(
                &mut HttpRequest::post("http://gateway.example/x", "")
                    .idempotent(idempotent)
                    .operation("p", "op"),
                url.clone(),
            )),
        };
        // A 5xx to a request that must not be repeated: the provider may have acted.
        let unknown = answer(false).into_success().unwrap_err();
        assert!(unknown.outcome_unknown(), "{unknown:?}");
        assert!(!unknown.retryable());
        let r = answer(true);
        assert!(r.came_from(&Endpoint::parse("http://gateway.example:80/other").unwrap()));
        assert!(!r.came_from(&Endpoint::parse("https://gateway.example/x").unwrap()));
        assert!(!r.came_from(&Endpoint::parse("http://other.example/x").unwrap()));
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
