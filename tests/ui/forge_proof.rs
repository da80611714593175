// A SignatureProof cannot be built outside paybridge-core.
use paybridge_core::SignatureProof;

fn main() {
    let _proof = SignatureProof { _private: () };
}
