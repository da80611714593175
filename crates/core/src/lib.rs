//! # paybridge-core
//!
//! What every paybridge provider crate shares:
//!
//! - [`PaymentProvider`]: the one async trait a service holds as `Arc<dyn PaymentProvider>`;
//! - [`Money`] and [`Currency`]: exact decimal amounts, never `f64`;
//! - [`PaymentStatus`]: the normalized status, always paired with the provider's raw status;
//! - [`Error`]: the common error every provider error maps into;
//! - [`http`]: one shared `reqwest` client (rustls) with timeouts, a streamed body limit,
//!   tracing and a retry policy that only retries idempotent requests;
//! - [`soap`]: SOAP 1.1 / 1.2 envelopes around yaserde payloads, Fault decoding, rpc/encoded
//!   values and the direct codec generated rpc/encoded types implement ([`soap::call_rpc`]);
//! - [`signature`]: md5 / sha512 / HMAC-SHA512 hex and constant-time verification;
//! - [`notification`]: raw callbacks and the [`Verified`] typestate;
//! - [`seen`]: the idempotency hook for callbacks;
//! - [`limits`]: the size, depth, attribute and element limits every untrusted document is
//!   read under.
//!
//! ## Example: a service that takes payments through any provider
//!
//! ```
//! use std::sync::Arc;
//! use paybridge_core::{
//!     Currency, Money, PaymentProvider, PaymentRequest, PaymentStatus, RawNotification,
//! };
//!
//! /// Start a checkout: the same code for every provider crate's `*Provider`.
//! async fn checkout(
//!     provider: Arc<dyn PaymentProvider>,
//!     order: &str,
//! ) -> paybridge_core::Result<Option<String>> {
//!     // Exact decimal money; an amount the currency cannot hold is an error, not rounded.
//!     let amount = Money::parse("50000", Currency::VND)?;
//!     let session = provider
//!         .create_payment(PaymentRequest::new(order, amount))
//!         .await?; // an `OutcomeUnknown` error here is never retried for you
//!     Ok(session.redirect_url)
//! }
//!
//! /// A callback: data only after the provider crate verified it.
//! async fn on_callback(
//!     provider: Arc<dyn PaymentProvider>,
//!     raw: &RawNotification,
//! ) -> paybridge_core::Result<()> {
//!     let verified = provider.verify_notification(raw).await?; // refused if not signed
//!     let event = verified.into_inner();
//!     if event.state.status == PaymentStatus::Succeeded && !event.duplicate {
//!         // credit `event.state.amount` for `event.state.payment.reference`, once
//!     }
//!     Ok(())
//! }
//! # let _ = (checkout, on_callback);
//! ```
//!
//! For callbacks in production use `paybridge-ledger`'s `Receiver`: it records each callback
//! durably and acknowledges it to the provider only after your handler committed.
//!
//! ## Example: how a provider crate verifies a callback
//!
//! ```
//! use paybridge_core::notification::Unverified;
//! use paybridge_core::signature;
//!
//! # fn main() -> Result<(), paybridge_core::Error> {
//! // A provider crate parses the callback, then verifies it; only `Verified` exposes the data.
//! let parsed = Unverified::new(("order-1", "79081f77644242a37d858d48aa83fc05"));
//! // The check computes md5(key + code + serial) itself and compares it in constant time.
//! let verified = parsed.verify(|(_, sign)| {
//!     signature::verify_md5_hex(&[b"partner-secret", b"1234567890", b"SERIAL123456"], sign)
//! })?;
//! assert_eq!(verified.0, "order-1");
//! # Ok(())
//! # }
//! ```
//!
//! ## The provider contract
//!
//! Every provider crate (`paybridge-<provider>`) is laid out the same way, so the same job has
//! the same name everywhere; `cargo xtask new-provider NAME [--soap WSDL | --json]` writes a new
//! crate in this shape.
//!
//! | module | holds | names |
//! |---|---|---|
//! | `client` | the outbound API | `Config` (built with `Config::new` and setters; private fields), `Client::new(config, transport)`, one `async fn` per documented operation, `PROVIDER_ID` |
//! | `notification` | inbound callbacks | `CallbackVerifier::new(secret)` and its one verb, `verify(&RawNotification)` → [`Verified`]; `verify_body` / `verify_json` / `verify_query` where the body arrives as bytes or a query; `deduplicate(verified, seen)` → [`Handled`], keyed on the callback's `dedup_key()` (the ledger's key too) |
//! | `signature` | the signature recipes, each with its public source | — |
//! | `provider` | the [`PaymentProvider`] impl, importing [`provider::prelude`] | `<Provider>Provider::new(client or verifier, …, `[`Stores`]`)`; `verify_notification` is `verify`, `deduplicate`, [`Handled::into_notification`]; a created payment is remembered as [`PaymentRecord::created`] |
//! | `error` | the crate's error | `<Provider>Error`: `Core(`[`Error`]`)` for every shared failure (transport, decoding, input, outcome unknown) and variants only for the provider's own meanings, its codes a [`code_table!`] enum with `meaning()` and `retryable()`; `From<…> for paybridge_core::Error` |
//! | `sandbox` (feature `sandbox`) | the provider's simulator | its rules on the module's page |
//! | `generated` | wire types `cargo xtask codegen` writes from `schemas/<provider>/` | never edited by hand; where a generated type is also the SDK's record (Linkifier's `IpnRecord`), `codegen.manifest` adds serde and Rust names — no hand-written copy |
//!
//! What they share comes from here: a verified callback and whether it is a duplicate is
//! [`Handled`]; every code table, numeric or words, is a [`code_table!`] enum; a SOAP provider speaks [`soap::SoapVersion`]; every client sends through one
//! [`http::HttpTransport`], whose policy (one deadline per call, no retry of anything that can
//! move money, no redirect, a streamed body limit, an unknown outcome reported as
//! [`Error::OutcomeUnknown`]) runs over a pluggable [`http::Transport`] — reqwest by default,
//! or a service's own client, proxy, middleware or recorder ([`http::HttpTransport::over`]).
//!
//! Where a provider truly differs, the name says so: Wooppay's callback is unsigned, so its
//! client *confirms* it (`Client::confirm_payment`, `handle_request_url`) by asking Wooppay;
//! Linkifier's crate also has the sender side (`IpnSender`, used by the sandbox and tests);
//! Qvickly's client is a forwarder to the merchant's booking API (`ForwardClient`), not a
//! Qvickly API client.
#![forbid(unsafe_code)]

pub mod codes;
pub mod error;
pub mod http;
pub mod limits;
pub mod money;
pub mod notification;
pub mod provider;
pub mod records;
pub mod route;
#[cfg(feature = "sandbox")]
pub mod sandbox;
pub mod scalar;
pub mod seen;
pub mod signature;
pub mod soap;
pub mod status;
pub mod time;
pub mod webhooks;
pub mod xml;

pub use error::{CoreFailure, Error, ErrorKind, Result};
pub use money::{Currency, Money};
pub use notification::{Handled, RawNotification, SignatureProof, Unverified, Verified};
pub use provider::{
    Capabilities, Notification, PaymentMethod, PaymentProvider, PaymentRef, PaymentRequest,
    PaymentSession, PaymentState, PrepaidCard, RefundQuery, RefundRequest, RefundState,
    RefundStatus, Stores,
};
pub use records::{InMemoryRecords, PaymentRecord, PaymentRecords};
pub use route::{
    Acknowledgement, AnyOf, CallbackReport, CallbackRoute, Received, confirmation_budget,
};
pub use seen::{InMemorySeenStore, SeenStore};
pub use status::PaymentStatus;
