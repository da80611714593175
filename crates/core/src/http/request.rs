//! What is sent: endpoints, requests and what to say when their outcome is unknown.

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method};

use crate::{Error, Result};

/// `url` with `pairs` added to its query (after any query it has; before a `#fragment`).
#[must_use]
pub fn with_query(url: &str, pairs: &[(&str, &str)]) -> String {
    if pairs.is_empty() {
        return url.to_owned();
    }
    let (base, fragment) = url
        .split_once('#')
        .map_or((url, None), |(b, f)| (b, Some(f)));
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    let joiner = if !base.contains('?') {
        "?"
    } else if base.ends_with('?') || base.ends_with('&') {
        ""
    } else {
        "&"
    };
    let mut out = format!("{base}{joiner}{query}");
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

/// Check that `endpoint` is an `http://` or `https://` URL ([`Error::Config`] otherwise).
pub fn check_endpoint(endpoint: &str) -> Result<()> {
    Endpoint::parse(endpoint).map(drop)
}

/// A provider endpoint: an `http://` or `https://` URL, checked and parsed once, when a
/// client is built, so a bad configuration fails there and no call parses it again. Shared:
/// a call holds it without copying the URL (one copy fewer per call, BENCHMARKS.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint(pub(super) std::sync::Arc<reqwest::Url>);

impl Endpoint {
    /// Parse and check `endpoint` ([`Error::Config`] when it is not an http(s) URL).
    pub fn parse(endpoint: &str) -> Result<Self> {
        let parsed = reqwest::Url::parse(endpoint).map_err(|e| {
            Error::config_from(format!("endpoint {endpoint:?} is not a URL: {e}"), e)
        })?;
        if matches!(parsed.scheme(), "http" | "https") {
            Ok(Self(parsed.into()))
        } else {
            Err(Error::config(format!(
                "endpoint must be an http(s) URL, got {endpoint:?}"
            )))
        }
    }

    /// This endpoint with `query` added to its query (no parse of the whole URL again).
    #[must_use]
    pub fn with_query(&self, query: &str) -> Self {
        let mut url = reqwest::Url::clone(&self.0);
        let joined = match url.query() {
            Some(existing) if !existing.is_empty() => format!("{existing}&{query}"),
            _ => query.to_owned(),
        };
        url.set_query(Some(&joined));
        Self(url.into())
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
pub(super) const DEFAULT_ADVICE: &str =
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
    pub(super) invalid_header: Option<String>,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_urls_keep_their_own_query_and_fragment() {
        assert_eq!(
            with_query("https://shop/r", &[("a", "1 2")]),
            "https://shop/r?a=1+2"
        );
        assert_eq!(
            with_query("https://shop/r?x=1#top", &[("a", "&")]),
            "https://shop/r?x=1&a=%26#top"
        );
        assert_eq!(
            with_query("https://shop/r?", &[("a", "1")]),
            "https://shop/r?a=1"
        );
        assert_eq!(with_query("https://shop/r?x=1", &[]), "https://shop/r?x=1");
    }
}
