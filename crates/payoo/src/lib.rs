//! # paybridge-payoo
//!
//! Payoo BPG `CallToPartner` over SOAP 1.1 and 1.2, signed both ways (checksum mode). See
//! [`client`] for the wire rules as we read them.
//!
//! ```no_run
//! use paybridge_core::http::HttpTransport;
//! use paybridge_payoo::{Client, Config, Credentials};
//! use secrecy::SecretString;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let creds = Credentials::new(
//!     "iss_shop",
//!     SecretString::from(std::env::var("PAYOO_PASSWORD")?),
//!     SecretString::from(std::env::var("PAYOO_SIGNATURE")?),
//!     SecretString::from(std::env::var("PAYOO_CHECKSUM_KEY")?),
//! );
//! let config = Config::new("https://qr-gw-sb.payoo.vn/CallerServices.asmx", creds);
//! let client = Client::new(config, HttpTransport::with_defaults()?)?;
//! let order = client.get_order_information("ORD-1", 1234).await?;
//! println!("{:?} {:?}", order.ack, order.fields);
//! # Ok(())
//! # }
//! ```
//!
//! Payoo's checkout notification (`NotifyData`) is verified in checksum mode
//! ([`CallbackVerifier::verify`]); [`PayooProvider`] puts it all behind the common trait.
#![forbid(unsafe_code)]

pub mod checkout;
pub mod client;
pub mod error;
pub mod generated;
pub mod notification;
pub mod provider;
pub mod rest;
pub mod route;
#[cfg(feature = "sandbox")]
pub mod sandbox;
pub mod signature;

pub use checkout::{CheckoutClient, CheckoutOptions, CheckoutOrder, verify_return};
pub use client::{
    CallResult, Client, Config, Credentials, PROVIDER_ID, PreOrder, parse_result, vietnam_date,
    vietnam_timestamp,
};
pub use error::{PayooError, PayooMessage};
pub use notification::{
    CallbackVerifier, NOTIFY_RECEIVED, NotifyForm, PayooNotification, json_package,
    keyfields_package,
};
/// The SOAP version a client speaks (`soap_version`); re-exported so callers need no
/// direct `paybridge-core` dependency for it.
pub use paybridge_core::soap::SoapVersion;
pub use provider::{PayooProvider, Shop};
pub use rest::RestClient;
