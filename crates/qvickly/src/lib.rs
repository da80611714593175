//! # paybridge-qvickly
//!
//! Qvickly (formerly Billmate) IPN callbacks, verified byte-exactly, and forwarded to the
//! BokaMera booking API as XML.
//!
//! - [`CallbackVerifier`] checks `hash = HMAC-SHA512(secret, json_encode(data))` in constant
//!   time for the three forms a callback takes (JSON body, form body with JSON fields, the
//!   booking API's XML DTO). It hashes the raw `data` bytes when it can and reproduces PHP's
//!   `json_encode` byte for byte when it must ([`php_json`]). Data is only reachable as
//!   [`Verified<QvicklyCallback>`](paybridge_core::Verified).
//! - Qvickly retries a callback that did not get a 2xx for months: [`deduplicate`] reports a
//!   repeat through [`paybridge_core::SeenStore`].
//! - [`ForwardClient`] posts the XML DTO to `POST /payment/billmate/v1/ipncallback` and decodes
//!   `IpnCallBackResponse`.
//!
//! ## Example: a callback handler
//!
//! ```no_run
//! use paybridge_core::{InMemorySeenStore, RawNotification};
//! use paybridge_qvickly::{CallbackVerifier, deduplicate};
//! use secrecy::SecretString;
//!
//! # async fn handle(raw: RawNotification) -> Result<(), Box<dyn std::error::Error>> {
//! let verifier = CallbackVerifier::new(
//!     Some("12345".to_owned()),
//!     &SecretString::from(std::env::var("QVICKLY_SECRET")?),
//! )?;
//! let seen = InMemorySeenStore::new(); // use your database in production
//! let handled = deduplicate(verifier.verify(&raw)?, &seen).await?;
//! if !handled.duplicate {
//!     println!("order {:?} is {:?}", handled.callback.order_id, handled.callback.status);
//! }
//! // Answer 2xx in every case, or Qvickly keeps retrying.
//! # Ok(())
//! # }
//! ```
//!
//! Normalized status (our documented choice): `Paid`, `Factoring`, `Service` → succeeded;
//! `Cancelled`/`canceled` → cancelled; `Created`, `Pending` and unknown words → pending.
#![forbid(unsafe_code)]

pub mod api;
pub mod api_codes;
pub mod checkout;
pub mod client;
pub mod error;
pub mod generated;
pub mod notification;
pub mod php_json;
pub mod provider;
pub mod route;
#[cfg(feature = "sandbox")]
pub mod sandbox;
pub mod signature;
pub mod status;

pub use api::PaymentApi;
pub use api_codes::ApiErrorCode;
pub use checkout::{CheckoutAnswer, CheckoutData, CheckoutPage, CheckoutState, NewCheckout};
pub use client::{Config, ForwardClient, PROVIDER_ID, dto_from_callback, parse_response};
pub use error::QvicklyError;
pub use notification::{CallbackFormat, CallbackVerifier, QvicklyCallback, deduplicate};
pub use provider::QvicklyProvider;
pub use signature::data_json;
pub use status::QvicklyStatus;
