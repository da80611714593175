//! # paybridge-woopay
//!
//! Wooppay invoices over SOAP rpc/encoded (PHP `SoapServer`), with sessions.
//!
//! **Status:** only the wire types generated from `schemas/woopay/XmlController.wsdl` by
//! `cargo xtask codegen` exist so far ([`generated`]); the client, sessions, callbacks,
//! sandbox and CLI commands are issue 5 and are not implemented yet.
#![forbid(unsafe_code)]

pub mod generated;
