// The evidence for an unsigned callback is an HTTP answer core's transport read: a downstream
// crate cannot build one.
use paybridge_core::SignatureProof;
use paybridge_core::http::{Endpoint, HttpResponse};

fn main() {
    let endpoint = Endpoint::parse("https://www.wooppay.com/api/wsd/").unwrap();
    let answer = HttpResponse {
        status: 200,
        headers: Default::default(),
        body: Default::default(),
    };
    let _proof = SignatureProof::from_status_answer(&answer, &endpoint);
}
