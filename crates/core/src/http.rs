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
//! What sends the bytes is a [`Transport`]: reqwest by default ([`HttpTransport::new`]), or
//! one a service supplies ([`HttpTransport::over`]) — its own client, a proxy, middleware, a
//! recorder — under the same policy.
//!
//! Every status is returned to the caller: SOAP services send their Fault with HTTP 500, so the
//! body must be read first. [`HttpResponse::into_success`] turns a non-2xx status into
//! [`Error::Transport`] carrying the status.

mod config;
mod request;
mod response;
mod transport;

use std::sync::Arc;
use std::time::{Duration, Instant};

use tracing::Instrument;

pub use config::{HttpConfig, RetryPolicy};
pub use request::{Endpoint, HttpRequest, Reconcile, RequestUrl, check_endpoint, with_query};
use response::{Exchange, same_origin};
pub use response::{HttpResponse, printable, redacted_url};
pub use transport::{BoxFuture, Incoming, Outgoing, Transport, TransportError};

use crate::{Error, Result};

/// The shared HTTP client: the policy of the module docs over a [`Transport`]. Cheap to
/// clone; clones share one connection pool.
#[derive(Clone)]
pub struct HttpTransport {
    inner: Arc<Inner>,
}

struct Inner {
    backend: Backend,
    config: HttpConfig,
}

/// What sends the bytes. reqwest is called directly (no boxed future on the hot path).
enum Backend {
    Reqwest(reqwest::Client),
    Custom(Arc<dyn Transport>),
}

impl std::fmt::Debug for HttpTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let backend: &dyn std::fmt::Debug = match &self.inner.backend {
            Backend::Reqwest(_) => &"reqwest",
            Backend::Custom(t) => t,
        };
        f.debug_struct("HttpTransport")
            .field("config", &self.inner.config)
            .field("transport", backend)
            .finish()
    }
}

/// An [`HttpTransport`] is also a [`Transport`]: one attempt through its own backend, so a
/// wrapper (a recorder, middleware) can sit in front of reqwest.
impl Transport for HttpTransport {
    fn exchange<'a>(
        &'a self,
        request: Outgoing<'a>,
    ) -> BoxFuture<'a, std::result::Result<Incoming, TransportError>> {
        match &self.inner.backend {
            Backend::Reqwest(client) => Box::pin(transport::reqwest_exchange(client, request)),
            Backend::Custom(t) => t.exchange(request),
        }
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
        let builder = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .redirect(redirects)
            .user_agent(config.user_agent.clone());
        // The cookie jar runs on every request of a client that has one: only when asked.
        #[cfg(feature = "cookies")]
        let builder = builder.cookie_store(config.cookie_store);
        #[cfg(not(feature = "cookies"))]
        if config.cookie_store {
            return Err(Error::config(
                "HttpConfig::cookie_store needs paybridge-core's `cookies` feature",
            ));
        }
        let client = builder
            .build()
            .map_err(|e| Error::config_from(format!("cannot build HTTP client: {e}"), e))?;
        Ok(Self {
            inner: Arc::new(Inner {
                backend: Backend::Reqwest(client),
                config,
            }),
        })
    }

    /// The policy of `config` (deadline, retries, body limit) over `transport`, which sends
    /// the bytes. `connect_timeout`, `same_origin_redirects`, `cookie_store` and
    /// `user_agent` are then the transport's business; every redirect it returns is refused.
    #[must_use]
    pub fn over(config: HttpConfig, transport: impl Transport + 'static) -> Self {
        Self {
            inner: Arc::new(Inner {
                backend: Backend::Custom(Arc::new(transport)),
                config,
            }),
        }
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
                .map_err(|e| Error::config_from(format!("invalid endpoint URL: {e}"), e))?
                .into(),
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
        url: Arc<reqwest::Url>,
    ) -> Result<HttpResponse> {
        let config = &self.inner.config;
        let max_attempts = if request.idempotent {
            config.retry.max_attempts.max(1)
        } else {
            1
        };
        // The clock is read once on the usual path (one attempt, no subscriber): the first
        // attempt has the whole timeout, and the time left is read again only before a retry
        // (each read is ~85 instructions of a ~97 k call, BENCHMARKS.md).
        let started = Instant::now();
        let deadline = started + config.timeout;
        let exchange = Arc::new(Exchange::of(&mut request, url));
        let mut attempt = 1;
        let mut left = config.timeout;
        loop {
            let outcome = self.attempt(&request, &exchange, left).await;
            let retry_wanted = attempt < max_attempts
                && match &outcome {
                    Ok(resp) => matches!(resp.status, 429 | 502 | 503 | 504),
                    Err(e) => e.retryable(),
                };
            let delay = config.retry.delay(attempt);
            // A retry happens only if the backoff leaves time for another attempt.
            if !retry_wanted || delay >= deadline.saturating_duration_since(Instant::now()) {
                let span = tracing::Span::current();
                if !span.is_disabled() {
                    span.record(
                        "elapsed_ms",
                        u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                    );
                }
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
            left = deadline.saturating_duration_since(Instant::now());
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
        let limit = self.inner.config.max_body_bytes;
        let outgoing = Outgoing::new(
            &request.method,
            &exchange.url,
            &request.headers,
            &request.body,
            left,
            limit,
        );
        let incoming = match &self.inner.backend {
            // Boxed: reqwest's state then lives on the heap once instead of being moved, as
            // part of every enclosing future, into each caller's (−0.3 k instructions a call,
            // BENCHMARKS.md).
            Backend::Reqwest(client) => {
                Box::pin(transport::reqwest_exchange(client, outgoing)).await
            }
            Backend::Custom(t) => t.exchange(outgoing).await,
        }
        .map_err(|e| self.failure(e, exchange))?;
        let status = incoming.status;
        if (300..400).contains(&status) {
            let location = incoming
                .headers
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
        // reqwest stops at the limit while streaming; a supplied transport is held to it here.
        if incoming.body.len() > limit {
            return Err(self.failure(TransportError::TooLarge { status }, exchange));
        }
        Ok(HttpResponse {
            status,
            headers: incoming.headers,
            body: incoming.body,
            exchange: Arc::clone(exchange),
        })
    }

    /// A failed attempt as our error. A failure to connect (refused, DNS, TLS handshake)
    /// happened before any byte of the request was written: a plain, retryable transport
    /// error. Anything later — a deadline, a reset, an answer cut off or too long — may come
    /// after the provider acted: [`Error::OutcomeUnknown`] for a request that must not be
    /// repeated.
    fn failure(&self, e: TransportError, exchange: &Exchange) -> Error {
        let host = exchange.host();
        let budget = self.inner.config.timeout;
        let (what, source) = match e {
            TransportError::Connect(source) => {
                return Error::Transport {
                    status: None,
                    message: format!("cannot connect to {host}: {}", cause_chain(&*source)),
                    source: Some(source),
                };
            }
            TransportError::TooLarge { status } => {
                let limit = self.inner.config.max_body_bytes;
                let message = format!("the answer from {host} exceeds the limit of {limit} bytes");
                let plain = Error::Transport {
                    status: Some(status),
                    message: message.clone(),
                    source: None,
                };
                return exchange.unknown(message, None, plain);
            }
            TransportError::Timeout(source) => {
                let what = format!(
                    "no complete answer from {host} within the deadline of {budget:?} after the request was sent"
                );
                if exchange.reconcile.is_none() {
                    return Error::Timeout(budget);
                }
                (what, source)
            }
            TransportError::Sending(source) => (
                format!(
                    "the connection to {host} failed after the request was sent: {}",
                    cause_chain(&*source)
                ),
                Some(source),
            ),
            TransportError::Reading(source) => (
                format!(
                    "the answer from {host} was cut off: {}",
                    cause_chain(&*source)
                ),
                Some(source),
            ),
        };
        if exchange.reconcile.is_some() {
            return exchange.unknown(what, source, Error::Timeout(budget));
        }
        Error::Transport {
            status: None,
            message: what,
            source,
        }
    }
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
    use bytes::Bytes;
    use http::{HeaderMap, HeaderName, HeaderValue};

    use super::*;

    #[test]
    fn a_cookie_jar_is_built_only_with_the_cookies_feature() {
        let asked = HttpTransport::new(HttpConfig::default().cookie_store(true));
        if cfg!(feature = "cookies") {
            assert!(asked.is_ok());
        } else {
            assert!(matches!(asked, Err(Error::Config { .. })));
        }
        assert!(HttpTransport::new(HttpConfig::default()).is_ok());
    }

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
                matches!(check_endpoint(bad), Err(Error::Config { .. })),
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
            Err(Error::Config { .. })
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
            Err(Error::Config { message, .. }) => assert!(message.contains("invalid endpoint URL")),
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
        let url = Arc::new(reqwest::Url::parse("http://gateway.example/x").unwrap());
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
