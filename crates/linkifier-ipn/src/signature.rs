//! `VerifyHASH`. How Linkifier computes it is not public; our documented default is
//! `md5_hex_lower(key + PayTransactionID + PayProviderTransactionID + PayProviderAmount +
//! Currency)`, with the amount as the text on the wire. Plug another rule in through
//! [`VerifyHasher`].

use paybridge_core::notification::SignatureProof;
use paybridge_core::signature::{md5_hex, verify_md5_hex};

/// The hashed fields, as text on the wire (absent strings are empty).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HashedFields<'a> {
    /// `PayTransactionID`.
    pub pay_transaction_id: &'a str,
    /// `PayProviderTransactionID`.
    pub pay_provider_transaction_id: &'a str,
    /// `PayProviderAmount`, exactly as written.
    pub pay_provider_amount: &'a str,
    /// `Currency`.
    pub currency: &'a str,
}

/// A `VerifyHASH` rule.
pub trait VerifyHasher: Send + Sync + std::fmt::Debug {
    /// The hash to send for these fields.
    fn hash(&self, key: &str, fields: &HashedFields<'_>) -> String;

    /// Check a received hash in constant time.
    fn verify(
        &self,
        key: &str,
        fields: &HashedFields<'_>,
        received: &str,
    ) -> paybridge_core::Result<SignatureProof>;
}

/// The documented default: md5 of the concatenation, lowercase hex.
#[derive(Debug, Clone, Copy, Default)]
pub struct Md5Concat;

impl Md5Concat {
    fn parts<'a>(key: &'a str, f: &HashedFields<'a>) -> [&'a [u8]; 5] {
        [
            key.as_bytes(),
            f.pay_transaction_id.as_bytes(),
            f.pay_provider_transaction_id.as_bytes(),
            f.pay_provider_amount.as_bytes(),
            f.currency.as_bytes(),
        ]
    }
}

impl VerifyHasher for Md5Concat {
    fn hash(&self, key: &str, fields: &HashedFields<'_>) -> String {
        md5_hex(&Self::parts(key, fields))
    }

    fn verify(
        &self,
        key: &str,
        fields: &HashedFields<'_>,
        received: &str,
    ) -> paybridge_core::Result<SignatureProof> {
        verify_md5_hex(&Self::parts(key, fields), received)
    }
}
