// There is no way to claim "confirmed by the status API" without an answer core's transport read.
use paybridge_core::{SignatureProof, Verified};

fn main() {
    let _v = Verified::new(1, SignatureProof::from_status_confirmation("anyone"));
}
