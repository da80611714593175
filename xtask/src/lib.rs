//! paybridge's project automation. `codegen` turns the stored WSDL/XSD files in `schemas/`
//! into yaserde wire types in `crates/<provider>/src/generated/`.
#![forbid(unsafe_code)]
#![allow(
    missing_docs,
    reason = "internal build tool, never published; its modules document themselves"
)]

pub mod codegen;
pub mod emit;
pub mod names;
pub mod new_provider;
pub mod schema;

use std::path::{Path, PathBuf};

/// The workspace root (the parent of this crate's directory).
#[must_use]
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}
