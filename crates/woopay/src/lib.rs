//! # paybridge-woopay
//!
//! Wooppay invoices over SOAP rpc/encoded (PHP `SoapServer`), with sessions.
#![forbid(unsafe_code)]

pub mod client;
pub mod error;
pub mod generated;
pub mod notification;
pub mod operation;
pub mod provider;
#[cfg(feature = "sandbox")]
pub mod sandbox;

pub use client::{
    Client, ExtendedInvoiceRequest, Invoice, Invoice2ExtendedRequest, InvoiceRequest, LoginInfo,
    PROVIDER_ID, WoopayConfig, frame_url,
};
pub use error::{ErrorCode, WoopayError};
pub use notification::{ConfirmedPayment, REQUEST_URL_ANSWER};
pub use operation::{Operation, OperationStatus, OperationType};
pub use provider::WoopayProvider;
