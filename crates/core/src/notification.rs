//! Callbacks as they arrive, and the typestate that guards their data.
//!
//! A callback's data is reachable only as [`Verified<T>`]. A `Verified<T>` is built only
//! from a [`SignatureProof`], and a proof comes only out of core:
//!
//! - the checks of [`crate::signature`], each of which computes the digest or MAC itself
//!   from the key and the signed bytes and compares it in constant time with the received
//!   signature (never two strings the caller chose);
//! - [`SignatureProof::from_status_answer`], for a provider whose callback is unsigned
//!   (Wooppay's `requestUrl`): it takes an [`HttpResponse`] — which only core's transport
//!   builds, from an answer it really read — and checks that the answer came from the
//!   client's configured endpoint.
//!
//! Parsed but unchecked data is held as [`Unverified<T>`], which exposes nothing.
//!
//! What this guarantees: a provider crate (or your code) cannot *forget* to verify — data
//! that was not checked has no `Verified` type, and the compile-fail cases in `tests/ui`
//! prove each way around it fails to build. What it does not guarantee: code in your process
//! that computes a valid signature for data it made up (it holds the key) gets a proof; the
//! typestate guards against mistakes, not against malicious code in the same process.

use std::ops::Deref;

use bytes::Bytes;
use http::{HeaderMap, Method};

use crate::http::{Endpoint, HttpResponse};
use crate::{Error, Result};

/// A callback exactly as the HTTP server received it, from any framework.
#[derive(Debug, Clone)]
pub struct RawNotification {
    /// HTTP method (`GET` for query callbacks, `POST` otherwise).
    pub method: Method,
    /// The raw query string, without `?` (empty when none).
    pub query: String,
    /// Request headers.
    pub headers: HeaderMap,
    /// The raw body bytes, untouched: signatures are checked over these.
    pub body: Bytes,
    /// The address the request came from, when the server knows it. Payoo's JSON
    /// notification is signed over the IP address Payoo called from, so its verifier needs
    /// this; behind a reverse proxy, set it from the proxy's trusted forwarding header.
    pub remote_addr: Option<std::net::IpAddr>,
}

impl RawNotification {
    /// A POST with a body and a content type.
    #[must_use]
    pub fn post(content_type: &str, body: impl Into<Bytes>) -> Self {
        let mut headers = HeaderMap::new();
        if let Ok(v) = http::HeaderValue::from_str(content_type) {
            headers.insert(http::header::CONTENT_TYPE, v);
        }
        Self {
            method: Method::POST,
            query: String::new(),
            headers,
            body: body.into(),
            remote_addr: None,
        }
    }

    /// A GET with a query string (with or without the leading `?`).
    #[must_use]
    pub fn get(query: &str) -> Self {
        Self {
            method: Method::GET,
            query: query.strip_prefix('?').unwrap_or(query).to_owned(),
            headers: HeaderMap::new(),
            body: Bytes::new(),
            remote_addr: None,
        }
    }

    /// This notification as received from `addr` (see [`RawNotification::remote_addr`]).
    #[must_use]
    pub fn from_addr(mut self, addr: std::net::IpAddr) -> Self {
        self.remote_addr = Some(addr.to_canonical());
        self
    }

    /// The `Content-Type` header's media type, lowercased, without parameters.
    #[must_use]
    pub fn media_type(&self) -> Option<String> {
        let v = self
            .headers
            .get(http::header::CONTENT_TYPE)?
            .to_str()
            .ok()?;
        Some(v.split(';').next().unwrap_or(v).trim().to_ascii_lowercase())
    }
}

impl From<http::Request<Bytes>> for RawNotification {
    fn from(req: http::Request<Bytes>) -> Self {
        let (parts, body) = req.into_parts();
        Self {
            method: parts.method,
            query: parts.uri.query().unwrap_or_default().to_owned(),
            headers: parts.headers,
            body,
            remote_addr: None,
        }
    }
}

/// Evidence that a signature check (or a confirming status call) succeeded.
///
/// It cannot be built outside this crate, cannot be cloned, and is consumed by
/// [`Verified::new`]: one check, one verified value.
#[derive(Debug)]
#[must_use = "a proof is only useful to build a Verified value"]
pub struct SignatureProof {
    _private: (),
}

impl SignatureProof {
    pub(crate) fn new() -> Self {
        Self { _private: () }
    }

    /// A proof that an answer of the provider's status API confirmed what an unsigned
    /// callback claims (Wooppay's `requestUrl`: the payment is confirmed with
    /// `cash_getOperationData`). `answer` must be a successful answer core's transport read
    /// from `endpoint`'s origin (scheme, host, port); anything else is
    /// [`Error::Signature`]. The caller checks what the answer says before using the proof.
    pub fn from_status_answer(answer: &HttpResponse, endpoint: &Endpoint) -> Result<Self> {
        if !(200..300).contains(&answer.status) {
            return Err(Error::Signature(format!(
                "a status answer with HTTP {} confirms nothing",
                answer.status
            )));
        }
        if !answer.came_from(endpoint) {
            return Err(Error::Signature(
                "the status answer did not come from the configured endpoint".into(),
            ));
        }
        Ok(Self::new())
    }
}

/// A verified callback and whether it arrived before: the one result type of every
/// provider's `deduplicate`.
#[derive(Debug)]
#[non_exhaustive]
pub struct Handled<T> {
    /// The callback.
    pub callback: Verified<T>,
    /// `true` when the same callback (same provider dedup key) was recorded before: answer
    /// the provider as before, but do not act twice.
    pub duplicate: bool,
}

impl<T> Handled<T> {
    /// Record `key` in `seen` and report whether `callback` is a duplicate.
    ///
    /// A [`SeenStore`](crate::SeenStore) marks the key *before* the merchant acts; prefer
    /// the ledger's claim/complete where a failed handler must see the retry again.
    ///
    /// # Errors
    /// The store's error.
    pub async fn record(
        callback: Verified<T>,
        key: &str,
        seen: &dyn crate::SeenStore,
    ) -> crate::Result<Self> {
        let fresh = seen.insert_if_absent(key).await?;
        Ok(Self {
            callback,
            duplicate: !fresh,
        })
    }

    /// The common trait's [`Notification`](crate::Notification): the payment state `state`
    /// reads from the callback, and whether the callback is a duplicate — what every
    /// provider's `verify_notification` returns.
    pub fn into_notification(
        self,
        state: impl FnOnce(&T) -> crate::PaymentState,
    ) -> Verified<crate::Notification> {
        let duplicate = self.duplicate;
        self.callback.map(|cb| crate::Notification {
            state: state(&cb),
            duplicate,
        })
    }
}

/// Data from a callback whose signature has been checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified<T> {
    value: T,
}

impl<T> Verified<T> {
    /// Wrap `value`, consuming the proof that it was verified.
    #[allow(
        clippy::needless_pass_by_value,
        reason = "consuming the proof is the point: one check, one value"
    )]
    pub fn new(value: T, proof: SignatureProof) -> Self {
        let _ = proof;
        Self { value }
    }

    /// The verified data.
    pub fn into_inner(self) -> T {
        self.value
    }

    /// Transform the data, keeping it verified.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Verified<U> {
        Verified {
            value: f(self.value),
        }
    }
}

impl<T> Deref for Verified<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

/// Data parsed from a callback that has not been verified yet. It exposes nothing: the
/// only way to the data is [`Unverified::verify`].
pub struct Unverified<T> {
    value: T,
}

impl<T> Unverified<T> {
    /// Hold parsed, unchecked data.
    pub fn new(value: T) -> Self {
        Self { value }
    }

    /// Run the check on the data; on success the data becomes [`Verified`].
    pub fn verify(self, check: impl FnOnce(&T) -> Result<SignatureProof>) -> Result<Verified<T>> {
        let proof = check(&self.value)?;
        Ok(Verified::new(self.value, proof))
    }
}

impl<T> std::fmt::Debug for Unverified<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Unverified(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signature;

    #[test]
    fn unverified_becomes_verified_only_when_check_passes() {
        let sign = signature::md5_hex(&[b"key", b"7"]);
        let ok = Unverified::new(7).verify(|_| signature::verify_md5_hex(&[b"key", b"7"], &sign));
        assert_eq!(ok.map(Verified::into_inner).ok(), Some(7));
        let bad = Unverified::new(7).verify(|_| signature::verify_md5_hex(&[b"key", b"8"], &sign));
        assert!(matches!(bad, Err(crate::Error::Signature(_))));
    }

    #[test]
    fn raw_notification_from_http_request() {
        let req = http::Request::builder()
            .method("GET")
            .uri("/cb?status=1&sign=x")
            .body(Bytes::new())
            .unwrap();
        let raw = RawNotification::from(req);
        assert_eq!(raw.method, Method::GET);
        assert_eq!(raw.query, "status=1&sign=x");
        let post = RawNotification::post("application/json; charset=utf-8", "{}");
        assert_eq!(post.media_type().as_deref(), Some("application/json"));
    }
}
