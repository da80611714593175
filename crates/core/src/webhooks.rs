//! Standard Webhooks (<https://www.standardwebhooks.com>): how paybridge signs what it forwards
//! to a merchant, so that the official verifiers (PHP, Python, Node, Go, Rust, Java, Ruby, C#)
//! accept it.
//!
//! Headers `webhook-id`, `webhook-timestamp` (Unix seconds) and `webhook-signature`
//! (`v1,<base64 HMAC-SHA256 over "{id}.{timestamp}.{body}">`), keyed with the bytes of a
//! `whsec_<base64>` secret.

use base64::Engine as _;
use hmac::{KeyInit, Mac};
use secrecy::{ExposeSecret, SecretBox, SecretString};

use crate::{Error, Result};

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// The header names.
pub const HEADER_ID: &str = "webhook-id";
/// The timestamp header.
pub const HEADER_TIMESTAMP: &str = "webhook-timestamp";
/// The signature header.
pub const HEADER_SIGNATURE: &str = "webhook-signature";

/// A signing secret (`whsec_…`, base64 after the prefix). `Debug` never shows it.
pub struct WebhookSecret {
    key: SecretBox<Vec<u8>>,
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret([REDACTED])")
    }
}

impl Clone for WebhookSecret {
    fn clone(&self) -> Self {
        Self {
            key: SecretBox::new(Box::new(self.key.expose_secret().clone())),
        }
    }
}

impl WebhookSecret {
    /// Read `whsec_<base64>` (the prefix is optional, as in the official libraries).
    pub fn parse(secret: &SecretString) -> Result<Self> {
        let text = secret.expose_secret();
        let b64 = text.strip_prefix("whsec_").unwrap_or(text);
        let key = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|_| Error::config("a webhook secret is whsec_ followed by base64"))?;
        if key.len() < 16 {
            return Err(Error::config("a webhook secret has at least 16 bytes"));
        }
        Ok(Self {
            key: SecretBox::new(Box::new(key)),
        })
    }

    /// A new random secret, as `whsec_<base64>` (24 bytes, as Svix issues them), from the
    /// operating system's CSPRNG — a signing secret must not be guessable from a seed.
    pub fn generate() -> Result<SecretString> {
        let mut bytes = [0_u8; 24];
        getrandom::fill(&mut bytes)
            .map_err(|e| Error::config(format!("the OS random source failed: {e}")))?;
        Ok(SecretString::from(format!(
            "whsec_{}",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        )))
    }

    /// `webhook-signature` for a message: `v1,<base64 HMAC-SHA256("{id}.{timestamp}.{body}")>`.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> Result<String> {
        let mut mac = HmacSha256::new_from_slice(self.key.expose_secret())
            .map_err(|_| Error::config("webhook secret"))?;
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        Ok(format!(
            "v1,{}",
            base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The specification's published example (also the official libraries' test vector).
    #[test]
    fn the_published_vector() {
        let secret = WebhookSecret::parse(&SecretString::from(
            "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
        ))
        .unwrap();
        assert_eq!(
            secret
                .sign(
                    "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
                    1_649_367_553,
                    br#"{"email":"test@example.com","username":"test_user"}"#
                )
                .unwrap(),
            "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="
        );
        assert_eq!(format!("{secret:?}"), "WebhookSecret([REDACTED])");
        assert!(WebhookSecret::parse(&SecretString::from("whsec_not base64!")).is_err());
        assert!(WebhookSecret::parse(&WebhookSecret::generate().unwrap()).is_ok());
    }
}
