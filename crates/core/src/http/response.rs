//! What was read: a response and the exchange it answers.

use std::sync::Arc;

use bytes::Bytes;
use http::HeaderMap;

use super::request::DEFAULT_ADVICE;
use super::request::{Endpoint, HttpRequest, Reconcile};
use crate::error::BoxError;
use crate::{Error, Result};

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
    pub(super) exchange: Arc<Exchange>,
}

/// What a response was the answer to (shared by a call's attempts and its answer).
#[derive(Debug)]
pub(super) struct Exchange {
    /// The URL the request was sent to.
    pub(super) url: Arc<reqwest::Url>,
    provider: &'static str,
    operation: &'static str,
    /// `Some` for a request that must not be repeated.
    pub(super) reconcile: Option<Reconcile>,
}

impl Exchange {
    /// The exchange of `request` (its reconciliation advice taken) to `url`.
    pub(super) fn of(request: &mut HttpRequest, url: Arc<reqwest::Url>) -> Self {
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
    pub(super) fn host(&self) -> String {
        format!(
            "{}:{}",
            self.url.host_str().unwrap_or_default(),
            self.url.port_or_known_default().unwrap_or_default()
        )
    }

    /// The error of a request that may have been written and whose answer is unknown:
    /// [`Error::OutcomeUnknown`] when it must not be repeated, `otherwise` when it may be.
    pub(super) fn unknown(
        &self,
        cause: String,
        source: Option<BoxError>,
        otherwise: Error,
    ) -> Error {
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
pub(super) fn same_origin(a: &reqwest::Url, b: &reqwest::Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// A URL as it may be shown (help, logs, errors): without user, password, query or fragment,
/// where tokens hide (`https://user:token@shop/hooks?key=…` → `https://shop/hooks`).
#[must_use]
pub fn redacted_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) => {
            let hidden = !u.username().is_empty()
                || u.password().is_some()
                || u.query().is_some()
                || u.fragment().is_some();
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.set_query(None);
            u.set_fragment(None);
            let mut shown = u.to_string();
            if hidden {
                shown.push_str(" (credentials hidden)");
            }
            shown
        }
        Err(_) => "(an unparseable URL)".to_owned(),
    }
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
                Error::decode(String::new()),
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
            .map_err(|e| Error::decode_from(format!("response body is not UTF-8: {e}"), e))
    }

    /// A header's value as text.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

#[cfg(test)]
mod redaction_tests {
    #[test]
    fn urls_are_shown_without_their_credentials() {
        assert_eq!(
            super::redacted_url("https://user:s3cret@shop.example/hooks?token=abc#x"),
            "https://shop.example/hooks (credentials hidden)"
        );
        assert_eq!(
            super::redacted_url("http://127.0.0.1:8080/hooks"),
            "http://127.0.0.1:8080/hooks"
        );
        assert!(!super::redacted_url("not a url s3cret").contains("s3cret"));
    }
}
