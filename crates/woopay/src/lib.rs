//! # paybridge-woopay
//!
//! Wooppay invoices over SOAP rpc/encoded (PHP `SoapServer`), with sessions.
//!
//! - every operation of Wooppay's invoice API guide as one `async fn` on [`Client`];
//! - one `core_login` shared by concurrent callers, renewed once on an expired session;
//! - creating an invoice is never resent: an unknown outcome is
//!   [`paybridge_core::Error::OutcomeUnknown`] (create a new invoice with a new reference);
//! - the unsigned `requestUrl` call is confirmed with `cash_getOperationData`
//!   ([`Client::confirm_payment`]: only status 4 yields a `Verified` operation).
//!
//! ## Example
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use paybridge_core::{Currency, Money};
//! use paybridge_woopay::{Client, InvoiceRequest, Config};
//! use secrecy::SecretString;
//!
//! let client = Client::new(
//!     Config::new("https://www.test.wooppay.com/api/wsd/", "test_merch", SecretString::from(std::env::var("WOOPAY_PASSWORD")?)),
//!     paybridge_core::http::HttpTransport::with_defaults()?,
//! )?;
//! let invoice = client
//!     .create_invoice(&InvoiceRequest::new(
//!         "order-1",
//!         Money::parse("100.50", Currency::KZT)?,
//!         "https://shop.example/orders/order-1",
//!         // The requestUrl names the order: the call that comes back has no data of its own.
//!         "https://shop.example/receive/woopay/request-url?reference=order-1",
//!     ))
//!     .await?;
//! println!("pay at {}", invoice.operation_url);
//!
//! // In the requestUrl handler (look the operation id up by the reference you stored):
//! let paid = client.confirm_payment(invoice.operation_id).await?; // Err unless status 4
//! println!("credit {:?}", paid.sum);
//! // ... then answer paybridge_woopay::REQUEST_URL_ANSWER ({"data":1})
//! # Ok(())
//! # }
//! ```
//!
//! Sandbox (feature `sandbox`): `test_merch` / `A12345678a`; `POST /invoice/pay?id=N` pays an
//! invoice and calls its `requestUrl` until it answers `{"data":1}`.
#![forbid(unsafe_code)]

pub mod client;
pub mod error;
pub mod generated;
pub mod notification;
pub mod operation;
pub mod provider;
pub mod route;
#[cfg(feature = "sandbox")]
pub mod sandbox;

pub use client::{
    Client, Config, ExtendedInvoiceRequest, INVOICE_OPERATION_TYPE, Invoice,
    Invoice2ExtendedRequest, InvoiceRequest, LoginInfo, OperationDetails, PROVIDER_ID, Receipt,
    StatusRecord, Transfer, Transfers, TransfersQuery, frame_url,
};
pub use error::{ErrorCode, WoopayError};
pub use notification::{ConfirmedPayment, REQUEST_URL_ANSWER};
pub use operation::{Operation, OperationStatus, OperationType};
pub use provider::WoopayProvider;
