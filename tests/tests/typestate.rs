//! Compile-fail proofs that a callback's data is reachable only through verification.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

#[test]
fn verified_cannot_be_forged() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/*.rs");
}
