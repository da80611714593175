// Data held as Unverified is not readable: no field access, no Deref.
use paybridge_core::Unverified;

fn main() {
    let parsed = Unverified::new(String::from("amount=50000"));
    let _peek: &String = &parsed.value;
    let _len = parsed.len();
}
