// A proof never comes from comparing two strings the caller chose: core computes the digest.
use paybridge_core::notification::Unverified;
use paybridge_core::signature;

fn main() {
    let _v = Unverified::new(1).verify(|_| signature::verify_hex("x", "x"));
}
