// Verified::new demands a proof; a look-alike value does not do.
use paybridge_core::Verified;

struct MyProof;

fn main() {
    let _v = Verified::new(42_u32, MyProof);
}
