//! Payoo's checksum mode: `DigitalSignature = sha512_hex(ChecksumKey + "|" + v1 + "|" + v2 …)`
//! over the non-empty values in order. Payoo's PHP sample drops values PHP's `empty()` calls
//! empty, `"0"` included — a known pitfall: we keep `"0"`.

use paybridge_core::notification::SignatureProof;
use paybridge_core::signature::{sha512_hex, verify_sha512_hex};

/// The signed parts: the key, then `|` and each non-empty value (a lone `|` when none).
fn parts<'a>(key: &'a str, values: impl IntoIterator<Item = &'a str>) -> Vec<&'a [u8]> {
    let mut parts: Vec<&[u8]> = vec![key.as_bytes()];
    for v in values.into_iter().filter(|v| !v.is_empty()) {
        parts.push(b"|");
        parts.push(v.as_bytes());
    }
    if parts.len() == 1 {
        parts.push(b"|");
    }
    parts
}

/// The checksum of `values` (empty ones left out), lowercase hex.
#[must_use]
pub fn checksum<'a>(key: &'a str, values: impl IntoIterator<Item = &'a str>) -> String {
    sha512_hex(&parts(key, values))
}

/// Check a received checksum, case-insensitively and in constant time.
pub fn verify<'a>(
    key: &'a str,
    values: impl IntoIterator<Item = &'a str>,
    received: &str,
) -> paybridge_core::Result<SignatureProof> {
    verify_sha512_hex(&parts(key, values), received)
}

/// The value of the field `name` in a list of (name, value) fields as Payoo wrote them (the
/// first, if it is named twice).
pub(crate) fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_values_are_left_out_but_zero_is_kept() {
        assert_eq!(
            checksum("K", ["A", "", "0", "B"]),
            sha512_hex(&[b"K|A|0|B"])
        );
        assert!(
            verify(
                "K",
                ["A", "0", "B"],
                &sha512_hex(&[b"K|A|0|B"]).to_uppercase()
            )
            .is_ok()
        );
        assert!(verify("K", ["A", "B"], &sha512_hex(&[b"K|A|0|B"])).is_err());
    }
}
