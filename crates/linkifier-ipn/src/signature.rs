//! `VerifyHASH`. How Linkifier computes it is not public, so the rule is ours, pluggable
//! ([`VerifyHasher`]) and documented — and it must make every field it hands out trustworthy.
//!
//! **Default: [`CanonicalHmac`].** `VerifyHASH = hmac_sha512_hex_lower(key, canonical)`, where
//! `canonical` encodes **every field of the record** in schema order ([`FIELD_NAMES`]), each
//! as a netstring of its name followed by a netstring of its text on the wire (`~` when the
//! element is absent):
//!
//! ```text
//! 16:PayTransactionID,8:ORD-2007,13:PayProviderID,1:7,…,9:PromoCode,~…
//! ```
//!
//! A netstring is `<byte length>:<bytes>,`, so no character can move from one field into
//! another without changing a length; text is hashed as received (after XML's own
//! end-of-line normalization, `\r\n` and `\r` → `\n`, which both ends apply).
//!
//! **[`Md5ConcatForgeable`]** is the first rule this crate shipped,
//! `md5_hex_lower(key + PayTransactionID + PayProviderTransactionID + PayProviderAmount +
//! Currency)`: no separators (characters moved between fields keep the digest) and every
//! status field outside it. It is kept, under a name that says what it is, for accounts that
//! use it; with it the verifier hands out only those four fields and never reads a status from
//! the record (see `CallbackVerifier::state`).

use std::fmt::Write as _;

use paybridge_core::notification::SignatureProof;
use paybridge_core::signature::{hmac_sha512_hex, md5_hex, verify_hmac_sha512_hex, verify_md5_hex};

/// The fields of a `cDataRecordIPN`, in schema order, by their wire names; `BuyerInfo`'s
/// children follow it as `BuyerInfo/<name>`. `VerifyHASH` is not among them.
pub const FIELD_NAMES: [&str; 27] = [
    "PayTransactionID",
    "PayProviderID",
    "SalesSiteID",
    "SalesSiteProductID",
    "CustomerID",
    "custopmerIP",
    "PaymentDateTime",
    "TransactionTypeID",
    "PayProviderTransactionID",
    "PayProviderAmount",
    "PromoCode",
    "SaleDescription",
    "SaleQuantity",
    "CustomReferrer",
    "Currency",
    "fraud_status",
    "message_type",
    "BuyerInfo",
    "BuyerInfo/PayerID",
    "BuyerInfo/BusinessName",
    "BuyerInfo/FirstName",
    "BuyerInfo/LastName",
    "BuyerInfo/PayerEmail",
    "BuyerInfo/Address",
    "BuyerInfo/ContactPhone",
    "BuyerInfo/ResidenceCountry",
    "BuyerInfo/PayerStatus",
];

/// Every field of one record as text on the wire (`None` when the element is absent;
/// `BuyerInfo` itself is `Some("")` when present), in [`FIELD_NAMES`] order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordFields<'a> {
    values: [Option<&'a str>; FIELD_NAMES.len()],
}

impl<'a> RecordFields<'a> {
    /// The fields of texts already in [`FIELD_NAMES`] order.
    #[must_use]
    pub fn from_texts(texts: &'a [Option<String>; FIELD_NAMES.len()]) -> Self {
        Self {
            values: texts.each_ref().map(Option::as_deref),
        }
    }

    /// Set `name`'s text (a name outside [`FIELD_NAMES`] is ignored: the caller refuses
    /// unknown elements before it gets here).
    pub fn set(&mut self, name: &str, value: &'a str) {
        if let Some(slot) = FIELD_NAMES
            .iter()
            .position(|n| *n == name)
            .and_then(|i| self.values.get_mut(i))
        {
            *slot = Some(value);
        }
    }

    /// `name`'s text, when present.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&'a str> {
        FIELD_NAMES
            .iter()
            .position(|n| *n == name)
            .and_then(|i| self.values.get(i).copied().flatten())
    }

    /// `(name, text)` for every field, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, Option<&'a str>)> + '_ {
        FIELD_NAMES.iter().copied().zip(self.values.iter().copied())
    }

    /// The canonical encoding [`CanonicalHmac`] signs (see the module docs).
    #[must_use]
    pub fn canonical(&self) -> String {
        fn netstring(out: &mut String, s: &str) {
            let _ = write!(out, "{}:{s},", s.len());
        }
        let mut out = String::with_capacity(512);
        for (name, value) in self.iter() {
            netstring(&mut out, name);
            match value {
                Some(v) if v.contains('\r') => {
                    netstring(&mut out, &v.replace("\r\n", "\n").replace('\r', "\n"));
                }
                Some(v) => netstring(&mut out, v),
                None => out.push('~'),
            }
        }
        out
    }
}

/// A `VerifyHASH` rule.
pub trait VerifyHasher: Send + Sync + std::fmt::Debug {
    /// The hash to send for these fields.
    fn hash(&self, key: &str, fields: &RecordFields<'_>) -> String;

    /// Check a received hash in constant time.
    fn verify(
        &self,
        key: &str,
        fields: &RecordFields<'_>,
        received: &str,
    ) -> paybridge_core::Result<SignatureProof>;

    /// Whether the hash covers the field `name` (a [`FIELD_NAMES`] entry). The verifier hands
    /// out only covered fields, and reads a status only when `fraud_status`, `message_type`
    /// and `TransactionTypeID` are all covered.
    fn covers(&self, name: &str) -> bool;
}

/// The default rule: HMAC-SHA512 over the canonical encoding of every field.
#[derive(Debug, Clone, Copy, Default)]
pub struct CanonicalHmac;

impl VerifyHasher for CanonicalHmac {
    fn hash(&self, key: &str, fields: &RecordFields<'_>) -> String {
        hmac_sha512_hex(key.as_bytes(), fields.canonical().as_bytes())
    }

    fn verify(
        &self,
        key: &str,
        fields: &RecordFields<'_>,
        received: &str,
    ) -> paybridge_core::Result<SignatureProof> {
        verify_hmac_sha512_hex(key.as_bytes(), fields.canonical().as_bytes(), received)
    }

    fn covers(&self, _name: &str) -> bool {
        true
    }
}

/// The forgeable legacy rule (see the module docs): md5 of the key and four fields run
/// together, lowercase hex. Use it only for an account that already signs this way.
#[derive(Debug, Clone, Copy, Default)]
pub struct Md5ConcatForgeable;

impl Md5ConcatForgeable {
    /// The four fields it covers.
    pub const COVERED: [&'static str; 4] = [
        "PayTransactionID",
        "PayProviderTransactionID",
        "PayProviderAmount",
        "Currency",
    ];

    fn parts<'a>(key: &'a str, f: &RecordFields<'a>) -> [&'a [u8]; 5] {
        let get = |n: &str| f.get(n).unwrap_or_default().as_bytes();
        [
            key.as_bytes(),
            get("PayTransactionID"),
            get("PayProviderTransactionID"),
            f.get("PayProviderAmount")
                .unwrap_or_default()
                .trim()
                .as_bytes(),
            get("Currency"),
        ]
    }
}

impl VerifyHasher for Md5ConcatForgeable {
    fn hash(&self, key: &str, fields: &RecordFields<'_>) -> String {
        md5_hex(&Self::parts(key, fields))
    }

    fn verify(
        &self,
        key: &str,
        fields: &RecordFields<'_>,
        received: &str,
    ) -> paybridge_core::Result<SignatureProof> {
        verify_md5_hex(&Self::parts(key, fields), received)
    }

    fn covers(&self, name: &str) -> bool {
        Self::COVERED.contains(&name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moving_characters_between_fields_changes_the_canonical_text() {
        let mut a = RecordFields::default();
        a.set("PayTransactionID", "ORD-2007");
        a.set("PayProviderAmount", "1");
        let mut b = RecordFields::default();
        b.set("PayTransactionID", "ORD-200");
        b.set("PayProviderAmount", "71");
        assert_ne!(a.canonical(), b.canonical());
        assert!(
            a.canonical()
                .starts_with("16:PayTransactionID,8:ORD-2007,13:PayProviderID,~")
        );
        // Absent and empty differ.
        let mut c = RecordFields::default();
        c.set("PromoCode", "");
        assert_ne!(c.canonical(), RecordFields::default().canonical());
        assert_eq!(a.get("PayProviderAmount"), Some("1"));
        assert_eq!(a.get("Currency"), None);
    }

    #[test]
    fn the_legacy_rule_is_forgeable_and_says_so() {
        // The weakness that retired it as the default: ORD-2007 + $1 = ORD-200 + $71.
        let mut a = RecordFields::default();
        a.set("PayTransactionID", "ORD-2007");
        a.set("PayProviderAmount", "1");
        let mut b = RecordFields::default();
        b.set("PayTransactionID", "ORD-200");
        b.set("PayProviderAmount", "71");
        assert_eq!(
            Md5ConcatForgeable.hash("k", &a),
            Md5ConcatForgeable.hash("k", &b)
        );
        assert_ne!(CanonicalHmac.hash("k", &a), CanonicalHmac.hash("k", &b));
        assert!(!Md5ConcatForgeable.covers("fraud_status"));
        assert!(CanonicalHmac.covers("fraud_status"));
    }
}
