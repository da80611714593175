//! Receiving IPNs: parse `IPNEventRaised` (SOAP 1.1 or 1.2), check `VerifyHASH` over the
//! fields' text as received, report duplicates, and build the `IPNEventRaisedResponse`.
//!
//! Refused before any check: bodies over the size limit, documents with a DTD or entity
//! declarations (never expanded), envelopes whose body is not `IPNEventRaised`, and records
//! missing a value-type field.

use std::sync::Arc;

use paybridge_core::limits::Limits;
use paybridge_core::notification::Unverified;
use paybridge_core::soap::{
    EnvelopeStyle, RawEnvelope, SoapVersion, from_fragment, to_fragment, wrap,
};
use paybridge_core::xml::{child, text};
use paybridge_core::{Handled, RawNotification, SeenStore, Verified};
use secrecy::{ExposeSecret, SecretString};

use crate::client::{IpnResult, NAMESPACE};
use crate::error::LinkifierError;
use crate::generated::payment_notification as wire;
use crate::record::IpnRecord;
use crate::signature::{HashedFields, Md5Concat, VerifyHasher};
use paybridge_core::CoreFailure as _;

/// Value-type fields that must be present.
const VALUE_FIELDS: [&str; 7] = [
    "PayProviderID",
    "SalesSiteID",
    "SalesSiteProductID",
    "CustomerID",
    "TransactionTypeID",
    "PayProviderAmount",
    "SaleQuantity",
];

/// A verified IPN and whether it was received before ([`deduplicate`]'s key; core's [`Handled`],
/// the result of every provider's deduplication), with the SOAP version it came in: answer in
/// the same.
#[derive(Debug)]
#[non_exhaustive]
pub struct ReceivedIpn {
    /// The verified record, and whether it is a duplicate.
    pub handled: Handled<IpnRecord>,
    /// The version of the request.
    pub version: SoapVersion,
}

/// Verifies IPNs for one key (the one inbound verb: `verify`; `receive` also records it).
#[derive(Debug, Clone)]
pub struct CallbackVerifier {
    key: SecretString,
    hasher: Arc<dyn VerifyHasher>,
    limits: Limits,
}

impl CallbackVerifier {
    /// A verifier using the documented hash rule and the default size limit.
    #[must_use]
    pub fn new(key: SecretString) -> Self {
        Self {
            key,
            hasher: Arc::new(Md5Concat),
            limits: Limits::CALLBACK,
        }
    }

    /// Another `VerifyHASH` rule.
    #[must_use]
    pub fn hasher(mut self, hasher: Arc<dyn VerifyHasher>) -> Self {
        self.hasher = hasher;
        self
    }

    /// Read IPNs under other limits (default [`Limits::CALLBACK`]).
    #[must_use]
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Verify a posted IPN (its body: see [`verify_body`](Self::verify_body)).
    pub fn verify(
        &self,
        raw: &RawNotification,
    ) -> Result<(Verified<IpnRecord>, SoapVersion), LinkifierError> {
        self.verify_body(&raw.body)
    }

    /// Parse and verify an IPN request body. A body that is no `IPNEventRaised` request is
    /// [`paybridge_core::Error::Callback`]; a wrong `VerifyHASH` is
    /// [`LinkifierError::Signature`].
    pub fn verify_body(
        &self,
        body: &[u8],
    ) -> Result<(Verified<IpnRecord>, SoapVersion), LinkifierError> {
        self.read(body).map_err(|e| match e {
            LinkifierError::Core(e) => LinkifierError::Core(e.into_callback_error()),
            other => other,
        })
    }

    fn read(&self, body: &[u8]) -> Result<(Verified<IpnRecord>, SoapVersion), LinkifierError> {
        self.limits.check_size(body)?;
        let body_text = std::str::from_utf8(body)
            .map_err(|e| LinkifierError::decode_from(format!("not UTF-8: {e}"), e))?;
        // Core's decode errors pass through with their parser's error as source; a Fault is
        // no IPN (a request, never a provider's error answer).
        let env = RawEnvelope::parse_inner(body_text)?.map_err(|fault| {
            LinkifierError::decode(format!(
                "a SOAP Fault ({}), not an IPNEventRaised request",
                paybridge_core::http::printable(&fault.reason, 200)
            ))
        })?;
        let doc = paybridge_core::xml::parse_root(&env.body, Some(NAMESPACE), "IPNEventRaised")?;
        let ns = Some(NAMESPACE);
        let record = child(doc.root_element(), ns, "cDataRecordIPN")
            .ok_or_else(|| LinkifierError::decode("no cDataRecordIPN"))?;
        for name in VALUE_FIELDS {
            if child(record, ns, name).is_none_or(|n| text(n).trim().is_empty()) {
                return Err(LinkifierError::decode(format!(
                    "value-type field {name} is missing"
                )));
            }
        }
        let field = |name: &str| child(record, ns, name).map(text).unwrap_or_default();
        let (tx, ptx, amount, currency, received) = (
            field("PayTransactionID"),
            field("PayProviderTransactionID"),
            field("PayProviderAmount"),
            field("Currency"),
            field("VerifyHASH"),
        );
        let decoded: wire::IpnEventRaised = from_fragment(&env.body)?;
        let mut ipn = decoded
            .c_data_record_ipn
            .ok_or_else(|| LinkifierError::decode("no cDataRecordIPN"))?;
        // The digest is checked below and is not part of the data handed out.
        ipn.verify_hash = None;
        let fields = HashedFields {
            pay_transaction_id: &tx,
            pay_provider_transaction_id: &ptx,
            pay_provider_amount: amount.trim(),
            currency: &currency,
        };
        let verified = Unverified::new(ipn)
            .verify(|_| {
                self.hasher
                    .verify(self.key.expose_secret(), &fields, &received)
            })
            .map_err(|_| LinkifierError::Signature)?;
        verified.check_amount_reported()?;
        Ok((verified, env.version))
    }

    /// Verify and record in `seen` ([`deduplicate`]'s key).
    pub async fn receive(
        &self,
        body: &[u8],
        seen: &dyn SeenStore,
    ) -> Result<ReceivedIpn, LinkifierError> {
        let (record, version) = self.verify_body(body)?;
        Ok(ReceivedIpn {
            handled: deduplicate(record, seen).await?,
            version,
        })
    }
}

/// Record a verified IPN in `seen` (key: [`IpnRecord::dedup_key`] — transaction, type and
/// message type, as in the ledger: a refund of a paid transaction is news, not a duplicate of
/// its sale) and report whether it is a duplicate. An IPN without a `PayTransactionID` is
/// refused ([`paybridge_core::Error::Callback`]).
pub async fn deduplicate(
    record: Verified<IpnRecord>,
    seen: &dyn SeenStore,
) -> Result<Handled<IpnRecord>, LinkifierError> {
    let key = format!("linkifier:{}", record.dedup_key()?);
    Ok(Handled::record(record, &key, seen).await?)
}

/// The `IPNEventRaisedResponse` envelope to answer with, in `version`.
pub fn response_xml(version: SoapVersion, result: &IpnResult) -> Result<String, LinkifierError> {
    let body = wire::IpnEventRaisedResponse {
        ipn_event_raised_result: Some(wire::IpnEventRaisedResult {
            has_errors: result.has_errors,
            error_code: result.error_code,
            message: Some(result.message.clone()),
            extra_message: Some(result.extra_message.clone()),
        }),
    };
    Ok(wrap(
        &EnvelopeStyle::new(version),
        None,
        &to_fragment(&body)?,
    ))
}
