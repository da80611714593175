// A Verified value cannot be assembled by hand: its field is private.
use paybridge_core::Verified;

fn main() {
    let _v: Verified<u32> = Verified { value: 42 };
}
