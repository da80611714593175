//! Sending IPNs: `POST …/PaymentNotification.asmx`, `IPNEventRaised`, SOAP 1.1 or 1.2.

use std::sync::Arc;

use paybridge_core::http::{Endpoint, HttpTransport, Reconcile};
use paybridge_core::soap::{
    self, EnvelopeStyle, SoapCall, SoapVersion, from_fragment, to_fragment, wrap,
};
use secrecy::{ExposeSecret, SecretString};

use crate::error::LinkifierError;
use crate::generated::payment_notification as wire;
use crate::record::IpnRecord;
use crate::signature::{CanonicalHmac, VerifyHasher};
use paybridge_core::CoreFailure as _;

/// Provider id used in tracing spans and by the `PaymentProvider` impl.
pub const PROVIDER_ID: &str = "linkifier-ipn";
/// The service namespace.
pub const NAMESPACE: &str = "http://tempuri.org/";

/// `IPNEventRaisedResult`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpnResult {
    /// `HasErrors`.
    pub has_errors: bool,
    /// `ErrorCode`.
    pub error_code: i32,
    /// `Message`.
    pub message: String,
    /// `ExtraMessage`.
    pub extra_message: String,
}

/// The `IPNEventRaised` element for a record, `VerifyHASH` computed.
#[must_use]
pub fn signed_request(
    record: &IpnRecord,
    key: &str,
    hasher: &dyn VerifyHasher,
) -> wire::IpnEventRaised {
    // The text hashed is the text written (`IpnRecord::wire_texts`).
    let texts = record.wire_texts();
    let mut w = record.clone();
    w.verify_hash = Some(hasher.hash(key, &crate::record::fields_of(&texts)));
    wire::IpnEventRaised {
        c_data_record_ipn: Some(w),
    }
}

/// Where and how to send IPNs: [`Config::new`] (the documented hash rule, SOAP 1.1), then a
/// setter for anything else. `Debug` shows the key as `[REDACTED]` (it is a `SecretString`).
#[derive(Debug, Clone)]
pub struct Config {
    endpoint: String,
    key: SecretString,
    version: SoapVersion,
    hasher: Arc<dyn VerifyHasher>,
}

impl Config {
    /// The receiver's `PaymentNotification.asmx` endpoint and the shared key.
    #[must_use]
    pub fn new(endpoint: impl Into<String>, key: SecretString) -> Self {
        Self {
            endpoint: endpoint.into(),
            key,
            version: SoapVersion::V11,
            hasher: Arc::new(CanonicalHmac),
        }
    }

    /// The SOAP version to speak (default 1.1).
    #[must_use]
    pub fn soap_version(mut self, version: SoapVersion) -> Self {
        self.version = version;
        self
    }

    /// Another `VerifyHASH` rule.
    #[must_use]
    pub fn hasher(mut self, hasher: Arc<dyn VerifyHasher>) -> Self {
        self.hasher = hasher;
        self
    }
}

/// Sends IPNs to one endpoint with one key (Linkifier's side of the exchange: the sandbox
/// and tests play Linkifier with it).
#[derive(Debug, Clone)]
pub struct IpnSender {
    endpoint: Endpoint,
    key: SecretString,
    version: SoapVersion,
    hasher: Arc<dyn VerifyHasher>,
    transport: HttpTransport,
}

/// What to do when an IPN may have reached the receiver and its answer is unknown.
pub const SEND_ADVICE: &str = "resending the same IPN is safe only because the receiver deduplicates it (on PayTransactionID, transaction type and message type); resend it unchanged, never with a new PayTransactionID";

impl IpnSender {
    /// A sender; the endpoint is checked here, not at the first send.
    pub fn new(config: Config, transport: HttpTransport) -> Result<Self, LinkifierError> {
        let endpoint = Endpoint::parse(&config.endpoint)?;
        Ok(Self {
            endpoint,
            key: config.key,
            version: config.version,
            hasher: config.hasher,
            transport,
        })
    }

    /// Send one IPN. `HasErrors = true` is [`LinkifierError::Rejected`]. Not retried: the
    /// receiver decides about duplicates.
    pub async fn send(&self, record: &IpnRecord) -> Result<IpnResult, LinkifierError> {
        record.check_amount_to_send()?;
        let body = to_fragment(&signed_request(
            record,
            self.key.expose_secret(),
            self.hasher.as_ref(),
        ))?;
        let envelope = wrap(&EnvelopeStyle::new(self.version), None, &body);
        let call = SoapCall {
            endpoint: &self.endpoint,
            version: self.version,
            action: &wire::IPN_EVENT_RAISED_ACTION,
            provider: PROVIDER_ID,
            operation: "IPNEventRaised",
            idempotent: false,
            reconcile: Some(Reconcile {
                reference: record.pay_transaction_id.clone().unwrap_or_default(),
                advice: SEND_ADVICE,
            }),
            extra_headers: Vec::new(),
        };
        let raw = soap::call(&self.transport, call, envelope).await?;
        paybridge_core::xml::expect_root(&raw.body, Some(NAMESPACE), "IPNEventRaisedResponse")?;
        let answer: wire::IpnEventRaisedResponse = from_fragment(&raw.body)?;
        let r = answer
            .ipn_event_raised_result
            .ok_or_else(|| LinkifierError::decode("no IPNEventRaisedResult"))?;
        let result = IpnResult {
            has_errors: r.has_errors,
            error_code: r.error_code,
            message: r.message.unwrap_or_default(),
            extra_message: r.extra_message.unwrap_or_default(),
        };
        if result.has_errors {
            return Err(LinkifierError::Rejected {
                code: result.error_code,
                message: result.message,
                extra: result.extra_message,
            });
        }
        Ok(result)
    }
}
