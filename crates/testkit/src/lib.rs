//! Harnesses shared by the fuzz targets (`fuzz/`, outside the workspace build) and the tests
//! that replay their corpora (`tests/fuzz_corpora.rs`): one function per target, so the
//! fuzzer and CI run exactly the same code.
#![forbid(unsafe_code)]

pub mod fuzz;
