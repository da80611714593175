//! # paybridge-qvickly
//!
//! Qvickly IPN callbacks (HMAC-SHA512) and the BokaMera forward DTO.
//!
//! **Status:** only the wire types generated from `schemas/` by `cargo xtask codegen` exist
//! so far ([`generated`]); the client, signatures, callbacks, sandbox and CLI commands are
//! issue 6 and are not implemented yet.
#![forbid(unsafe_code)]

pub mod generated;
