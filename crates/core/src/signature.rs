//! Hashes and signatures the providers use, and their constant-time checks.
//!
//! Every successful check returns a [`SignatureProof`]: the only value from which a
//! [`Verified`](crate::Verified) can be built.

use hmac::{KeyInit, Mac};
use md5::Md5;
use sha2::{Digest, Sha512};
use subtle::ConstantTimeEq;

use crate::notification::SignatureProof;
use crate::{Error, Result};

type HmacSha512 = hmac::Hmac<Sha512>;

/// Lowercase hex of `bytes`, without per-character iteration.
fn to_hex(bytes: &[u8]) -> String {
    fn digit(n: u8) -> char {
        char::from(if n < 10 { b'0' + n } else { b'a' + n - 10 })
    }
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(digit(b >> 4));
        out.push(digit(b & 0x0f));
    }
    out
}

/// Decode hex (either case) into `out`; `None` unless `hex` is exactly `2 * out.len()` hex digits.
fn decode_hex(hex: &str, out: &mut [u8]) -> Option<()> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    let h = hex.as_bytes();
    if h.len() != out.len() * 2 {
        return None;
    }
    for (o, pair) in out.iter_mut().zip(h.chunks_exact(2)) {
        let (hi, lo) = (pair.first().copied()?, pair.get(1).copied()?);
        *o = nibble(hi)? << 4 | nibble(lo)?;
    }
    Some(())
}

fn md5_digest(parts: &[&[u8]]) -> [u8; 16] {
    let mut h = Md5::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// Lowercase hex MD5 of the concatenation of `parts`.
#[must_use]
pub fn md5_hex(parts: &[&[u8]]) -> String {
    to_hex(&md5_digest(parts))
}

/// Check a received hex MD5 (either case) of the concatenation of `parts`, comparing the
/// digests in constant time. Allocation-free: this is the hot path of callback verification.
pub fn verify_md5_hex(parts: &[&[u8]], received_hex: &str) -> Result<SignatureProof> {
    let mut received = [0_u8; 16];
    decode_hex(received_hex.trim(), &mut received)
        .ok_or_else(|| Error::Signature("signature is not a 32-digit hex MD5".into()))?;
    if bool::from(md5_digest(parts).ct_eq(&received)) {
        Ok(SignatureProof::new())
    } else {
        Err(Error::Signature("signature mismatch".into()))
    }
}

fn sha512_digest(parts: &[&[u8]]) -> [u8; 64] {
    let mut h = Sha512::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// Lowercase hex SHA-512 of the concatenation of `parts`.
#[must_use]
pub fn sha512_hex(parts: &[&[u8]]) -> String {
    to_hex(&sha512_digest(parts))
}

/// Check a received hex SHA-512 (either case) of the concatenation of `parts` (the key among
/// them, as the provider's recipe says), comparing the digests in constant time.
pub fn verify_sha512_hex(parts: &[&[u8]], received_hex: &str) -> Result<SignatureProof> {
    let mut received = [0_u8; 64];
    decode_hex(received_hex.trim(), &mut received)
        .ok_or_else(|| Error::Signature("signature is not a 128-digit hex SHA-512".into()))?;
    if bool::from(sha512_digest(parts).ct_eq(&received)) {
        Ok(SignatureProof::new())
    } else {
        Err(Error::Signature("signature mismatch".into()))
    }
}

/// Lowercase hex HMAC-SHA512 of `message` under `key`.
#[must_use]
pub fn hmac_sha512_hex(key: &[u8], message: &[u8]) -> String {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail here.
    match HmacSha512::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(message);
            to_hex(&mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    }
}

/// Verify a received hex HMAC-SHA512 (either case) over `message` with `verify_slice`.
pub fn verify_hmac_sha512_hex(
    key: &[u8],
    message: &[u8],
    received_hex: &str,
) -> Result<SignatureProof> {
    let tag = hex::decode(received_hex.trim())
        .map_err(|_| Error::Signature("signature is not hex".into()))?;
    let mut mac =
        HmacSha512::new_from_slice(key).map_err(|_| Error::Signature("invalid HMAC key".into()))?;
    mac.update(message);
    mac.verify_slice(&tag)
        .map(|()| SignatureProof::new())
        .map_err(|_| Error::Signature("signature mismatch".into()))
}

/// An HMAC-SHA512 key prepared once (inner and outer pads hashed), for verifying many
/// messages under the same secret: each check clones the keyed state instead of re-deriving it.
#[derive(Clone)]
pub struct HmacSha512Key {
    mac: HmacSha512,
}

impl HmacSha512Key {
    /// Prepare `key` (any length).
    pub fn new(key: &[u8]) -> Result<Self> {
        HmacSha512::new_from_slice(key)
            .map(|mac| Self { mac })
            .map_err(|_| Error::config("invalid HMAC key"))
    }

    /// Lowercase hex HMAC of `message`.
    #[must_use]
    pub fn sign_hex(&self, message: &[u8]) -> String {
        let mut mac = self.mac.clone();
        mac.update(message);
        to_hex(&mac.finalize().into_bytes())
    }

    /// Verify a received hex HMAC (either case) of `message` with `verify_slice`.
    pub fn verify_hex(&self, message: &[u8], received_hex: &str) -> Result<SignatureProof> {
        let mut tag = [0_u8; 64];
        decode_hex(received_hex.trim(), &mut tag).ok_or_else(|| {
            Error::Signature("signature is not a 128-digit hex HMAC-SHA512".into())
        })?;
        let mut mac = self.mac.clone();
        mac.update(message);
        mac.verify_slice(&tag)
            .map(|()| SignatureProof::new())
            .map_err(|_| Error::Signature("signature mismatch".into()))
    }
}

impl std::fmt::Debug for HmacSha512Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HmacSha512Key([hidden])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Card charging (public integrations' known answer): md5("partner-secret" + "1234567890" + "SERIAL123456").
    #[test]
    fn md5_known_answer() {
        assert_eq!(
            md5_hex(&[b"partner-secret", b"1234567890", b"SERIAL123456"]),
            "79081f77644242a37d858d48aa83fc05"
        );
    }

    /// Qvickly (its public PHP sample): HMAC-SHA512 of the PHP `json_encode` of the data.
    const QVICKLY_HASH: &str = "8dde708fea8cfcee68d6817975f37bf9b0c5412f3edfbd1d1d2bca629bd49f06a57bddcaac465ebe8306d25d6e1ff32e8a225c6b58ebef2ea39f51a6777f037a";

    #[test]
    fn hmac_sha512_known_answer() {
        let data = br#"{"id":"123456","amount":100,"currency":"SEK"}"#;
        assert_eq!(hmac_sha512_hex(b"1234567890123456", data), QVICKLY_HASH);
        assert!(verify_hmac_sha512_hex(b"1234567890123456", data, QVICKLY_HASH).is_ok());
        assert!(
            verify_hmac_sha512_hex(b"1234567890123456", data, &QVICKLY_HASH.to_uppercase()).is_ok()
        );
        assert!(verify_hmac_sha512_hex(b"1234567890123457", data, QVICKLY_HASH).is_err());
        assert!(verify_hmac_sha512_hex(b"1234567890123456", data, "zz").is_err());
        let key = HmacSha512Key::new(b"1234567890123456").unwrap();
        assert_eq!(key.sign_hex(data), QVICKLY_HASH);
        assert!(key.verify_hex(data, QVICKLY_HASH).is_ok());
        assert!(key.verify_hex(data, &QVICKLY_HASH.to_uppercase()).is_ok());
        assert!(key.verify_hex(b"{}", QVICKLY_HASH).is_err());
        assert!(key.verify_hex(data, &QVICKLY_HASH[..126]).is_err());
        assert!(!format!("{key:?}").contains("1234567890123456"));
    }

    #[test]
    fn sha512_known_answer() {
        // sha512("abc"), FIPS 180-2 test vector.
        assert_eq!(
            sha512_hex(&[b"a", b"bc"]),
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
        );
    }

    #[test]
    fn verify_md5_hex_compares_digests() {
        let parts: [&[u8]; 3] = [b"partner-secret", b"1234567890", b"SERIAL123456"];
        assert!(verify_md5_hex(&parts, "79081f77644242a37d858d48aa83fc05").is_ok());
        assert!(verify_md5_hex(&parts, "79081F77644242A37D858D48AA83FC05").is_ok());
        assert!(verify_md5_hex(&parts, "79081f77644242a37d858d48aa83fc06").is_err());
        assert!(verify_md5_hex(&parts, "79081f77644242a37d858d48aa83fc0").is_err());
        assert!(verify_md5_hex(&parts, "").is_err());
        assert!(verify_md5_hex(&parts, "zz081f77644242a37d858d48aa83fc05").is_err());
    }

    #[test]
    fn verify_sha512_hex_compares_digests() {
        let abc = "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f";
        assert!(verify_sha512_hex(&[b"ab", b"c"], abc).is_ok());
        assert!(verify_sha512_hex(&[b"ab", b"c"], &abc.to_uppercase()).is_ok());
        assert!(verify_sha512_hex(&[b"ab", b"d"], abc).is_err());
        assert!(verify_sha512_hex(&[b"ab", b"c"], &abc[..126]).is_err());
        assert!(verify_sha512_hex(&[b"ab", b"c"], "").is_err());
    }
}
