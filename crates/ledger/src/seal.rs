//! Secrets at rest: AES-256-GCM under a key the application supplies, a fresh random nonce per
//! secret, and the row's provider and reference as associated data (a sealed value copied to
//! another payment's row does not open).

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use secrecy::{ExposeSecret, SecretString};

use crate::{LedgerError, Result};

/// Nonce length of AES-GCM.
const NONCE: usize = 12;

/// The key secrets are sealed with. `Debug` never shows it.
#[derive(Clone)]
pub struct SealKey(Aes256Gcm);

impl SealKey {
    /// A key from 32 bytes (keep them in your secret store, not in the ledger's database).
    #[must_use]
    pub fn new(key: &[u8; 32]) -> Self {
        Self(Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key)))
    }

    /// A key from 64 hex digits (e.g. an environment variable).
    pub fn from_hex(hex: &str) -> Result<Self> {
        let mut key = [0_u8; 32];
        ::hex::decode_to_slice(hex.trim(), &mut key).map_err(|e| {
            LedgerError::Seal(match e {
                ::hex::FromHexError::InvalidStringLength | ::hex::FromHexError::OddLength => {
                    "a seal key is 64 hex digits".into()
                }
                ::hex::FromHexError::InvalidHexCharacter { .. } => "not hex".into(),
            })
        })?;
        Ok(Self::new(&key))
    }

    pub(crate) fn seal(&self, secret: &SecretString, context: &[u8]) -> Result<Vec<u8>> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let sealed = self
            .0
            .encrypt(
                &nonce,
                Payload {
                    msg: secret.expose_secret().as_bytes(),
                    aad: context,
                },
            )
            .map_err(|_| LedgerError::Seal("cannot seal".into()))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    pub(crate) fn open(&self, sealed: &[u8], context: &[u8]) -> Result<SecretString> {
        let (nonce, ciphertext) = sealed
            .split_at_checked(NONCE)
            .ok_or_else(|| LedgerError::Seal("sealed value too short".into()))?;
        let plain = self
            .0
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context,
                },
            )
            .map_err(|_| LedgerError::Seal("cannot open: wrong key or altered row".into()))?;
        String::from_utf8(plain)
            .map(SecretString::from)
            .map_err(|_| LedgerError::Seal("sealed value is not text".into()))
    }
}

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealKey([hidden])")
    }
}

/// The associated data of a payment's secret.
pub(crate) fn context(merchant: &str, provider: &str, reference: &str) -> Vec<u8> {
    // The default merchant's payments keep the context they were sealed under before
    // merchants existed; another merchant's name it, so a secret opens only in its own row.
    if merchant.is_empty() {
        [provider.as_bytes(), b"\0", reference.as_bytes()].concat()
    } else {
        [
            b"payment\0",
            merchant.as_bytes(),
            b"\0",
            provider.as_bytes(),
            b"\0",
            reference.as_bytes(),
        ]
        .concat()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_only_with_their_key_and_row() {
        let key = SealKey::new(&[7; 32]);
        let secret = SecretString::from("312821445892981");
        let sealed = key.seal(&secret, &context("", "card", "r1")).unwrap();
        assert!(!sealed.windows(15).any(|w| w == b"312821445892981"));
        let opened = key.open(&sealed, &context("", "card", "r1")).unwrap();
        assert_eq!(opened.expose_secret(), "312821445892981");
        assert!(key.open(&sealed, &context("", "card", "r2")).is_err());
        // Another merchant's payment with the same reference: not this row.
        assert!(key.open(&sealed, &context("acme", "card", "r1")).is_err());
        assert!(
            SealKey::new(&[8; 32])
                .open(&sealed, &context("", "card", "r1"))
                .is_err()
        );
        assert_ne!(
            sealed,
            key.seal(&secret, &context("", "card", "r1")).unwrap(),
            "fresh nonce"
        );
        assert!(!format!("{key:?}").contains('7'));
        assert!(SealKey::from_hex(&"07".repeat(32)).is_ok());
        assert!(SealKey::from_hex("07").is_err());
    }
}
