//! Workspace-level tests live in `tests/`; this library holds what they share with the fuzz
//! targets in `fuzz/` (outside the workspace build): one harness per target, so the fuzzer and
//! the corpus replay in `tests/fuzz_corpora.rs` run the same code.
#![forbid(unsafe_code)]

pub mod fixtures;
pub mod fuzz;
