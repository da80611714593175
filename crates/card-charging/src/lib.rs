//! # paybridge-card-charging
//!
//! Vietnamese telco prepaid-card gateways speaking `chargingws/v2`: submit a card
//! (`charging`), ask for its state (`check`), and verify the gateway's callbacks.
//!
//! Money safety is built in:
//! - [`RequestId::generate`] never repeats;
//! - a `charge` is never resent: when it may have reached the gateway and no answer could be
//!   read (a timeout after sending, a cut connection, a 5xx), the error is
//!   [`paybridge_core::Error::OutcomeUnknown`] telling you to `check` the same request id —
//!   never retryable — while `check` is retried;
//! - callback data is only reachable as [`Verified<CardCallback>`](paybridge_core::Verified)
//!   after a constant-time `callback_sign` check, and [`Client::confirm_callback`] confirms
//!   status and amounts with the gateway before you credit;
//! - a repeated callback is reported as a duplicate ([`deduplicate`]);
//! - the credited value is `amount` (after fees), never `declared_value`.
//!
//! ## Example
//!
//! ```no_run
//! use paybridge_card_charging::{Card, Client, Config, RequestId, Telco};
//! use paybridge_core::http::HttpTransport;
//! use paybridge_core::{Currency, Money};
//! use secrecy::SecretString;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let transport = HttpTransport::with_defaults()?; // share this one across providers
//! let client = Client::new(
//!     Config::new(
//!         "https://gateway.example/chargingws/v2",
//!         "8740404061",
//!         SecretString::from(std::env::var("PARTNER_KEY")?),
//!     ),
//!     transport,
//! )?;
//! let card = Card::new(Telco::Viettel, "312821445892982", "10004783347874")?;
//! let request_id = RequestId::generate(); // store it with the order before sending
//! let result = client
//!     .charge(&card, Money::parse("50000", Currency::VND)?, &request_id)
//!     .await?;
//! println!("{:?} -> {}", result.status, result.payment_status());
//! # Ok(())
//! # }
//! ```
//!
//! Later the gateway calls your callback URL. Hand the request to the client as it came
//! (`RawNotification`: method, query, headers, body untouched), then credit only what the
//! gateway itself confirms:
//!
//! ```no_run
//! use paybridge_card_charging::{Client, ChargeStatus};
//! use paybridge_core::{PaymentStatus, RawNotification};
//!
//! async fn on_callback(
//!     client: &Client,
//!     raw: &RawNotification,
//! ) -> Result<(), Box<dyn std::error::Error>> {
//!     // Refused unless `callback_sign` matches (constant time): nothing unverified is data.
//!     let verified = client.callback_verifier().verify(raw)?;
//!     // Asks the gateway (`check`) and refuses a callback whose status or amounts differ.
//!     let confirmed = client.confirm_callback(&verified).await?;
//!     if confirmed.payment_status() == PaymentStatus::Succeeded {
//!         // Credit `amount` (after the gateway's fee), never `declared_value`; record
//!         // `confirmed.request_id` in the same transaction so a repeat is not credited twice.
//!         let credit = confirmed.amount.ok_or("no amount confirmed")?;
//!         println!("credit {} for {}", credit, confirmed.request_id);
//!     } else if confirmed.status == ChargeStatus::Pending {
//!         // Not final yet: another callback (or a later `check`) will tell.
//!     }
//!     Ok(())
//! }
//! ```
//!
//! [`paybridge-ledger`](https://docs.rs/paybridge-ledger)'s `Receiver` does the
//! verify → confirm → record-once → acknowledge sequence for you, durably.
//!
//! The wire rules (fields, sign, codes) are those of the provider page
//! (the gateway's `chargingws/v2` API page) and of public integrations; see [`SignScheme`] and
//! [`BodyEncoding`] for the variants real gateways use.
#![forbid(unsafe_code)]

pub mod card;
pub mod client;
pub mod error;
pub mod fees;
pub mod notification;
pub mod provider;
pub mod route;
#[cfg(feature = "sandbox")]
pub mod sandbox;
pub mod signature;
pub mod status;
pub mod wire;

pub use card::{Card, RequestId, Telco};
pub use client::{CHARGE_ADVICE, ChargeResult, Client, Config, PROVIDER_ID};
pub use error::CardChargingError;
pub use fees::{Fee, parse_fees};
pub use notification::{CallbackVerifier, CardCallback, UNSIGNED_FIELDS, deduplicate};
pub use provider::CardChargingProvider;
pub use signature::{SignScheme, callback_sign};
pub use status::ChargeStatus;
pub use wire::BodyEncoding;
