//! # paybridge-payoo
//!
//! Payoo BPG `CallToPartner` over SOAP 1.1 and 1.2, signed both ways (checksum mode). See
//! [`client`] for the wire rules as we read them.
//!
//! ```no_run
//! use paybridge_core::http::HttpTransport;
//! use paybridge_payoo::{Client, PayooCredentials};
//! use secrecy::SecretString;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let creds = PayooCredentials {
//!     username: "iss_shop".into(),
//!     password: SecretString::from(std::env::var("PAYOO_PASSWORD")?),
//!     signature: SecretString::from(std::env::var("PAYOO_SIGNATURE")?),
//!     checksum_key: SecretString::from(std::env::var("PAYOO_CHECKSUM_KEY")?),
//! };
//! let client = Client::new("https://qr-gw-sb.payoo.vn/CallerServices.asmx", creds, HttpTransport::with_defaults()?)?;
//! let order = client.get_order_information("ORD-1", 1234).await?;
//! println!("{:?} {:?}", order.ack, order.fields);
//! # Ok(())
//! # }
//! ```
//!
//! **Status:** client and simulator; Payoo's checkout notification (`NotifyData`), the
//! `PaymentProvider` impl, the CLI commands, the demo flow and benches are not done yet
//! (issue 7).
#![forbid(unsafe_code)]

pub mod client;
pub mod error;
pub mod generated;
#[cfg(feature = "sandbox")]
pub mod sandbox;
pub mod signature;

pub use client::{
    CallResult, Client, PROVIDER_ID, PayooCredentials, PreOrder, parse_result, vietnam_timestamp,
};
pub use error::{PayooError, PayooMessage};
