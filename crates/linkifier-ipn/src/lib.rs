//! # paybridge-linkifier-ipn
//!
//! Linkifier payment notifications (`IPNEventRaised`, SOAP 1.1 and 1.2): send signed IPNs
//! ([`IpnSender`]), receive and verify them ([`CallbackVerifier`]) and answer
//! ([`response_xml`]).
//!
//! How Linkifier computes `VerifyHASH` is not public: the default rule (ours, documented in
//! [`signature`]) is [`CanonicalHmac`], an HMAC-SHA512 over every field of the record, each
//! delimited unambiguously; the first rule this crate shipped stays as
//! [`Md5ConcatForgeable`] for accounts that use it (it signs four fields and is forgeable);
//! plug another through [`VerifyHasher`]. The wire spelling
//! `custopmerIP` is kept on the wire; the Rust field is `customer_ip`.
//!
//! ## Example: a receiving endpoint
//!
//! ```no_run
//! use paybridge_core::InMemorySeenStore;
//! use paybridge_linkifier_ipn::{CallbackVerifier, IpnResult, response_xml};
//! use secrecy::SecretString;
//!
//! # async fn handle(body: &[u8]) -> Result<String, Box<dyn std::error::Error>> {
//! let receiver = CallbackVerifier::new(SecretString::from(std::env::var("LINKIFIER_KEY")?));
//! let seen = InMemorySeenStore::new();
//! let got = receiver.receive(body, &seen).await?;
//! if !got.handled.duplicate {
//!     let sale = &got.handled.callback;
//!     println!("sale {:?}: {}", sale.pay_transaction_id, sale.pay_provider_amount);
//! }
//! let answer = IpnResult { has_errors: false, error_code: 0, message: "OK".into(), extra_message: String::new() };
//! Ok(response_xml(got.version, &answer)?)
//! # }
//! ```
#![forbid(unsafe_code)]

pub mod client;
pub mod error;
pub mod generated;
pub mod notification;
pub mod provider;
pub mod record;
pub mod route;
#[cfg(feature = "sandbox")]
pub mod sandbox;
pub mod signature;

pub use client::{Config, IpnResult, IpnSender, PROVIDER_ID, signed_request};
pub use error::LinkifierError;
pub use notification::{CallbackVerifier, ReceivedIpn, deduplicate, response_xml};
/// The SOAP version a client speaks (`soap_version`); re-exported so callers need no
/// direct `paybridge-core` dependency for it.
pub use paybridge_core::soap::SoapVersion;
pub use provider::LinkifierProvider;
pub use record::{BuyerInfo, IpnRecord};
pub use signature::{CanonicalHmac, FIELD_NAMES, Md5ConcatForgeable, RecordFields, VerifyHasher};
