//! How the gateway signs: `sign` on requests, `callback_sign` on callbacks.

use paybridge_core::notification::SignatureProof;
use paybridge_core::signature::{md5_hex, verify_md5_hex};

/// How request signatures are computed. Real gateways differ; the first is the documented one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SignScheme {
    /// `md5(partner_key + code + serial)` — the provider page's rule.
    #[default]
    CodeSerial,
    /// `md5(partner_key + code + command + partner_id + request_id + serial + telco)`: the
    /// values of those six fields sorted by field name, as some clones require.
    SortedFields,
}

/// The fields a request signature may cover.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SignedFields<'a> {
    pub code: &'a str,
    pub serial: &'a str,
    pub command: &'a str,
    pub partner_id: &'a str,
    pub request_id: &'a str,
    pub telco: &'a str,
}

impl SignScheme {
    /// Every scheme, the documented one first.
    pub const ALL: [Self; 2] = [Self::CodeSerial, Self::SortedFields];

    /// The signed parts: the key, then the scheme's fields.
    fn parts<'a>(self, partner_key: &'a str, f: &SignedFields<'a>) -> Vec<&'a [u8]> {
        match self {
            Self::CodeSerial => vec![
                partner_key.as_bytes(),
                f.code.as_bytes(),
                f.serial.as_bytes(),
            ],
            // Field names in sorted order: code, command, partner_id, request_id, serial, telco.
            Self::SortedFields => vec![
                partner_key.as_bytes(),
                f.code.as_bytes(),
                f.command.as_bytes(),
                f.partner_id.as_bytes(),
                f.request_id.as_bytes(),
                f.serial.as_bytes(),
                f.telco.as_bytes(),
            ],
        }
    }

    /// The request `sign`.
    pub(crate) fn sign(self, partner_key: &str, f: &SignedFields<'_>) -> String {
        md5_hex(&self.parts(partner_key, f))
    }

    /// Check a received request `sign` under this scheme, in constant time (the simulator
    /// accepts either).
    #[cfg(feature = "sandbox")]
    pub(crate) fn verify(
        self,
        partner_key: &str,
        f: &SignedFields<'_>,
        received: &str,
    ) -> paybridge_core::Result<SignatureProof> {
        verify_md5_hex(&self.parts(partner_key, f), received)
    }
}

/// `callback_sign = md5(partner_key + code + serial)`, lowercase hex.
#[must_use]
pub fn callback_sign(partner_key: &str, code: &str, serial: &str) -> String {
    md5_hex(&[partner_key.as_bytes(), code.as_bytes(), serial.as_bytes()])
}

/// Check a received `sign` / `callback_sign` (`md5(partner_key + code + serial)`, either hex
/// case) at the digest level, in constant time.
pub fn verify_sign(
    partner_key: &str,
    code: &str,
    serial: &str,
    received: &str,
) -> paybridge_core::Result<SignatureProof> {
    verify_md5_hex(
        &[partner_key.as_bytes(), code.as_bytes(), serial.as_bytes()],
        received,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_known_answer() {
        assert_eq!(
            callback_sign("partner-secret", "1234567890", "SERIAL123456"),
            "79081f77644242a37d858d48aa83fc05"
        );
    }

    #[test]
    fn sorted_fields_scheme_concatenates_in_field_name_order() {
        let f = SignedFields {
            code: "C",
            serial: "S",
            command: "charging",
            partner_id: "P",
            request_id: "R",
            telco: "VIETTEL",
        };
        assert_eq!(
            SignScheme::SortedFields.sign("k", &f),
            md5_hex(&[b"kCchargingPRSVIETTEL"])
        );
        assert_eq!(SignScheme::CodeSerial.sign("k", &f), md5_hex(&[b"kCS"]));
    }
}
