//! Receiving IPNs: parse `IPNEventRaised` (SOAP 1.1 or 1.2), check `VerifyHASH` over the
//! fields' text as received, report duplicates, and build the `IPNEventRaisedResponse`.
//!
//! Refused before any check: bodies over the size limit, documents with a DTD or entity
//! declarations (never expanded), envelopes whose body is not `IPNEventRaised`, and records
//! missing a value-type field.

use std::sync::Arc;

use paybridge_core::limits::Limits;
use paybridge_core::notification::Unverified;
use paybridge_core::soap::{EnvelopeStyle, RawEnvelope, SoapVersion, to_fragment, wrap};
use paybridge_core::xml::text;
use paybridge_core::{Handled, RawNotification, SeenStore, Verified};
use secrecy::{ExposeSecret, SecretString};

use crate::client::{IpnResult, NAMESPACE};
use crate::error::LinkifierError;
use crate::generated::payment_notification as wire;
use crate::record::IpnRecord;
use crate::signature::{CanonicalHmac, FIELD_NAMES, VerifyHasher};
use paybridge_core::CoreFailure as _;

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
    /// A verifier using the default hash rule ([`CanonicalHmac`]) and the default size limit.
    #[must_use]
    pub fn new(key: SecretString) -> Self {
        Self {
            key,
            hasher: Arc::new(CanonicalHmac),
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
        let doc = paybridge_core::xml::parse_limited(&env.body, &self.limits)?;
        let root = doc.root_element();
        if !root.has_tag_name((NAMESPACE, "IPNEventRaised")) {
            return Err(LinkifierError::decode(format!(
                "expected <IPNEventRaised> in {NAMESPACE}, found <{}>",
                root.tag_name().name()
            )));
        }
        let mut records = elements(root)?;
        let record = match (records.next(), records.next()) {
            (Some(r), None) if r.has_tag_name((NAMESPACE, "cDataRecordIPN")) => r,
            (None, _) => return Err(LinkifierError::decode("no cDataRecordIPN")),
            _ => {
                return Err(LinkifierError::decode(
                    "IPNEventRaised must hold exactly one cDataRecordIPN",
                ));
            }
        };
        // One parse: the digest and every value handed out come from the same elements.
        let wire = WireRecord::read(record)?;
        let fields = crate::record::fields_of(&wire.texts);
        let received = wire.verify_hash.as_deref().unwrap_or_default();
        let proof = self
            .hasher
            .verify(self.key.expose_secret(), &fields, received)
            .map_err(|_| LinkifierError::Signature)?;
        let ipn = wire.record(self.hasher.as_ref())?;
        let verified = Unverified::new(ipn).verify(|_| Ok(proof))?;
        verified.check_amount_reported()?;
        Ok((verified, env.version))
    }

    /// Whether the hash rule covers every field a status is read from (`fraud_status`,
    /// `message_type`, `TransactionTypeID`): true for the default [`CanonicalHmac`], false
    /// for [`crate::Md5ConcatForgeable`].
    #[must_use]
    pub fn signs_status(&self) -> bool {
        STATUS_FIELDS.iter().all(|f| self.hasher.covers(f))
    }

    /// The payment's state as a verified IPN reports it: [`IpnRecord::state`] when the hash
    /// rule signs the status fields; otherwise `pending`, whatever the record says — under a
    /// rule that leaves them unsigned (the forgeable legacy one) no status is read from an
    /// IPN: confirm the payment with Linkifier.
    #[must_use]
    pub fn state(&self, record: &IpnRecord) -> paybridge_core::PaymentState {
        let mut state = record.state();
        if !self.signs_status() {
            state.status = paybridge_core::PaymentStatus::Pending;
            state.message = Some(
                "status fields unsigned under the configured VerifyHASH rule: confirm with Linkifier"
                    .into(),
            );
        }
        state
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

/// Value-type fields that must be present (refused before the hash is checked).
const VALUE_FIELDS: [&str; 7] = [
    "PayProviderID",
    "SalesSiteID",
    "SalesSiteProductID",
    "CustomerID",
    "TransactionTypeID",
    "PayProviderAmount",
    "SaleQuantity",
];

/// The fields a status is read from.
const STATUS_FIELDS: [&str; 3] = ["fraud_status", "message_type", "TransactionTypeID"];

/// The element children of `node`; text other than whitespace between them is refused.
fn elements<'a, 'i>(
    node: roxmltree::Node<'a, 'i>,
) -> Result<impl Iterator<Item = roxmltree::Node<'a, 'i>>, LinkifierError> {
    if node
        .children()
        .any(|c| c.is_text() && !c.text().unwrap_or_default().trim().is_empty())
    {
        return Err(LinkifierError::decode(format!(
            "text beside the elements of <{}>",
            node.tag_name().name()
        )));
    }
    Ok(node.children().filter(roxmltree::Node::is_element))
}

/// A received record's element texts, by [`FIELD_NAMES`] position, and its `VerifyHASH`.
struct WireRecord {
    texts: crate::record::WireTexts,
    verify_hash: Option<String>,
}

impl WireRecord {
    /// Read `cDataRecordIPN`'s children in schema order: an unknown, repeated or misplaced
    /// element is refused (a digest read from one element and a value from another is how a
    /// genuine IPN gets bent), and so is an element with children where text belongs.
    fn read(record: roxmltree::Node<'_, '_>) -> Result<Self, LinkifierError> {
        let mut wire = Self {
            texts: Default::default(),
            verify_hash: None,
        };
        let mut last: Option<usize> = None;
        for child in elements(record)? {
            let name = child.tag_name().name();
            if child.tag_name().namespace() != Some(NAMESPACE) {
                return Err(LinkifierError::decode(format!(
                    "<{name}> is not in {NAMESPACE}"
                )));
            }
            if wire.verify_hash.is_some() {
                return Err(LinkifierError::decode(format!(
                    "<{name}> after VerifyHASH: repeated or misplaced"
                )));
            }
            if name == "VerifyHASH" {
                wire.verify_hash = Some(leaf_text(child)?);
                continue;
            }
            let index = FIELD_NAMES
                .iter()
                .position(|n| *n == name)
                .ok_or_else(|| LinkifierError::decode(format!("unknown element <{name}>")))?;
            if name == "BuyerInfo" {
                wire.put(&mut last, index, name, String::new())?;
                wire.read_buyer(child, &mut last)?;
            } else {
                wire.put(&mut last, index, name, leaf_text(child)?)?;
            }
        }
        for name in VALUE_FIELDS {
            wire.required(name)?;
        }
        Ok(wire)
    }

    /// A value-type field's trimmed text; missing or empty is refused.
    fn required(&self, name: &str) -> Result<&str, LinkifierError> {
        FIELD_NAMES
            .iter()
            .position(|n| *n == name)
            .and_then(|i| self.texts.get(i))
            .and_then(Option::as_deref)
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| LinkifierError::decode(format!("value-type field {name} is missing")))
    }

    /// Keep `text` as field `index`, which must come after the last element read (schema
    /// order, no repeats).
    fn put(
        &mut self,
        last: &mut Option<usize>,
        index: usize,
        name: &str,
        text: String,
    ) -> Result<(), LinkifierError> {
        if last.is_some_and(|l| index <= l) {
            return Err(LinkifierError::decode(format!(
                "<{name}> is repeated or out of order"
            )));
        }
        *last = Some(index);
        if let Some(slot) = self.texts.get_mut(index) {
            *slot = Some(text);
        }
        Ok(())
    }

    fn read_buyer(
        &mut self,
        buyer: roxmltree::Node<'_, '_>,
        last: &mut Option<usize>,
    ) -> Result<(), LinkifierError> {
        for child in elements(buyer)? {
            let name = child.tag_name().name();
            let index = FIELD_NAMES
                .iter()
                .position(|n| n.strip_prefix("BuyerInfo/") == Some(name))
                .filter(|_| child.tag_name().namespace() == Some(NAMESPACE))
                .ok_or_else(|| {
                    LinkifierError::decode(format!("unknown element <{name}> in BuyerInfo"))
                })?;
            self.put(last, index, name, leaf_text(child)?)?;
        }
        Ok(())
    }

    /// The record handed out: the fields `hasher` covers (an uncovered string is `None`, an
    /// uncovered number `0`). A missing value-type field is refused whatever the rule.
    fn record(&self, hasher: &dyn VerifyHasher) -> Result<IpnRecord, LinkifierError> {
        let text = |name: &str| -> Option<String> {
            let i = FIELD_NAMES.iter().position(|n| *n == name)?;
            self.texts
                .get(i)
                .cloned()
                .flatten()
                .filter(|_| hasher.covers(name))
        };
        let int64 = |name: &str| number::<i64>(name, self.required(name)?, hasher.covers(name));
        let int32 = |name: &str| number::<i32>(name, self.required(name)?, hasher.covers(name));
        let amount_text = self.required("PayProviderAmount")?;
        let amount = if hasher.covers("PayProviderAmount") {
            amount_text.parse::<rust_decimal::Decimal>().map_err(|e| {
                LinkifierError::decode_from(format!("PayProviderAmount {amount_text:?}: {e}"), e)
            })?
        } else {
            rust_decimal::Decimal::ZERO
        };
        let buyer = text("BuyerInfo").map(|_| crate::record::BuyerInfo {
            payer_id: text("BuyerInfo/PayerID"),
            business_name: text("BuyerInfo/BusinessName"),
            first_name: text("BuyerInfo/FirstName"),
            last_name: text("BuyerInfo/LastName"),
            payer_email: text("BuyerInfo/PayerEmail"),
            address: text("BuyerInfo/Address"),
            contact_phone: text("BuyerInfo/ContactPhone"),
            residence_country: text("BuyerInfo/ResidenceCountry"),
            payer_status: text("BuyerInfo/PayerStatus"),
        });
        Ok(IpnRecord {
            pay_transaction_id: text("PayTransactionID"),
            pay_provider_id: int64("PayProviderID")?,
            sales_site_id: int64("SalesSiteID")?,
            sales_site_product_id: int64("SalesSiteProductID")?,
            customer_id: int64("CustomerID")?,
            customer_ip: text("custopmerIP"),
            payment_date_time: text("PaymentDateTime"),
            transaction_type_id: int32("TransactionTypeID")?,
            pay_provider_transaction_id: text("PayProviderTransactionID"),
            pay_provider_amount: amount.into(),
            promo_code: text("PromoCode"),
            sale_description: text("SaleDescription"),
            sale_quantity: int32("SaleQuantity")?,
            custom_referrer: text("CustomReferrer"),
            currency: text("Currency"),
            fraud_status: text("fraud_status"),
            message_type: text("message_type"),
            buyer_info: buyer,
            verify_hash: None,
        })
    }
}

/// A whole number field's value: parsed when the rule covers it, else `0`.
fn number<T: std::str::FromStr + Default>(
    name: &str,
    text: &str,
    covered: bool,
) -> Result<T, LinkifierError> {
    if !covered {
        return Ok(T::default());
    }
    text.parse()
        .map_err(|_| LinkifierError::decode(format!("{name} {text:?} is not a whole number")))
}

/// The text of an element that must hold text only.
fn leaf_text(node: roxmltree::Node<'_, '_>) -> Result<String, LinkifierError> {
    if node.children().any(|c| c.is_element()) {
        return Err(LinkifierError::decode(format!(
            "<{}> holds elements where text belongs",
            node.tag_name().name()
        )));
    }
    Ok(text(node))
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
