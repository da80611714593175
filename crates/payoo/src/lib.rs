//! # paybridge-payoo
//!
//! Payoo BPG `CallToPartner` (SOAP 1.1/1.2, SHA-512 checksums).
//!
//! **Status:** only the wire types generated from `schemas/` by `cargo xtask codegen` exist
//! so far ([`generated`]); the client, signatures, callbacks, sandbox and CLI commands are
//! issue 7 and are not implemented yet.
#![forbid(unsafe_code)]

pub mod generated;
