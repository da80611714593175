//! The fuzz targets' bodies. Each takes arbitrary bytes, must never panic, and asserts what
//! must hold for every input.

use paybridge_core::xml::compact::Document;
use secrecy::SecretString;

/// A fuzz target's body: arbitrary bytes in, a panic on a finding.
pub type Harness = fn(&[u8]);

/// The fuzz targets, by name (the names of `fuzz/fuzz_targets/*.rs` and of the corpus
/// folders).
pub const TARGETS: &[(&str, Harness)] = &[
    ("xml_compact", xml_compact),
    ("soap_answers", soap_answers),
    ("callbacks", callbacks),
    ("payoo_keyfields", payoo_keyfields),
    ("payoo_json", payoo_json),
    ("payoo_rest", payoo_rest),
];

/// The compact reader against roxmltree (the reference): whatever the compact reader
/// accepts, roxmltree accepts too and reads as the same tree. The compact reader may
/// decline anything (it then hands the document to roxmltree).
///
/// # Panics
/// When the two readers disagree: that is the finding.
#[allow(
    clippy::panic,
    reason = "a fuzz harness reports a finding by panicking: that is how libFuzzer sees it"
)]
pub fn xml_compact(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let reference = paybridge_core::xml::parse(text);
    if let Some(compact) = Document::parse(text) {
        match reference {
            Ok(doc) => assert!(
                compact == Document::from_roxmltree(doc.root_element()),
                "the compact reader reads {text:?} differently from roxmltree"
            ),
            Err(e) => panic!("the compact reader accepts {text:?}, roxmltree refuses it: {e}"),
        }
    }
}

/// Every provider answer decoder on the same bytes: Wooppay's rpc/encoded answers, Payoo's
/// `CallToPartnerResponse`, Linkifier's envelope reader, Qvickly's booking-API answer and its
/// Payment API answers (also as the `data` of an answer the harness signs, which must verify).
///
/// # Panics
/// When a Qvickly answer signed over its own `data` is refused as a bad signature.
#[allow(
    clippy::panic,
    reason = "a fuzz harness reports a finding by panicking: that is how libFuzzer sees it"
)]
pub fn soap_answers(data: &[u8]) {
    use paybridge_woopay::generated::xml_controller as woopay;
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = paybridge_core::soap::decode_rpc::<woopay::CashGetOperationDataRpcResponse>(text);
    let _ = paybridge_core::soap::decode_rpc::<woopay::CashCreateInvoiceRpcResponse>(text);
    let _ = paybridge_core::soap::decode_rpc::<woopay::CoreLoginRpcResponse>(text);
    let _ =
        paybridge_core::soap::decode_rpc::<woopay::CashGetOperationDataExtendedRpcResponse>(text);
    let _ = paybridge_core::soap::decode_rpc::<woopay::CashGetOperationsStatusRpcResponse>(text);
    let _ = paybridge_core::soap::decode_rpc::<woopay::CashGetTransfersRpcResponse>(text);
    let _ = paybridge_core::soap::decode_rpc::<woopay::CashGetOperationReceiptRpcResponse>(text);
    let _ = paybridge_core::soap::decode_rpc::<woopay::CashPaymentReturnPartialRpcResponse>(text);
    let _ = paybridge_core::soap::RawEnvelope::parse(text);
    let _ = paybridge_payoo::client::parse_result(text, "checksum-key");
    let _ = paybridge_qvickly::parse_response(text);
    if let Ok(key) = paybridge_core::signature::HmacSha512Key::new(b"fuzz-key") {
        let _ = paybridge_qvickly::api::read_answer(&key, data);
        // What Qvickly signs is `json_encode`'s output, which has no surrounding whitespace
        // (the answer's `data` value is read without it).
        let text = text.trim_matches([' ', '\t', '\n', '\r']);
        if serde_json::from_str::<serde_json::Value>(text).is_ok() {
            let signed = format!(
                r#"{{"credentials":{{"hash":"{}"}},"data":{text}}}"#,
                key.sign_hex(text.as_bytes())
            );
            if let Err(e @ paybridge_qvickly::QvicklyError::Signature(_)) =
                paybridge_qvickly::api::read_answer(&key, signed.as_bytes())
            {
                panic!("an answer signed over its own data is refused: {e} ({text:?})");
            }
        }
    }
}

/// Every callback verifier on the same bytes (as body, and as query where the provider
/// calls with GET): none may panic, stall or overflow. Wooppay's `requestUrl` carries no data
/// of its own: nothing to parse.
pub fn callbacks(data: &[u8]) {
    let key = SecretString::from("fuzz-key");
    let _ = paybridge_card_charging::CallbackVerifier::new(key.clone()).verify_json(data);
    let _ = paybridge_card_charging::CallbackVerifier::new(key.clone())
        .verify_query(&String::from_utf8_lossy(data));
    let _ = paybridge_payoo::CallbackVerifier::new(secrecy::SecretString::from("fuzz-key"))
        .verify_body(data);
    let _ = paybridge_linkifier_ipn::CallbackVerifier::new(key.clone()).verify_body(data);
    if let Ok(qvickly) = paybridge_qvickly::CallbackVerifier::new(None, &key) {
        let _ = qvickly.verify_body(data);
    }
}

/// Payoo's XML `NotifyData` package: the bytes as a posted body, and as the Data document of
/// a package the harness signs over Payoo's shop-order `KeyFields` — which must then verify
/// (the signer and the verifier read the same values from the same document) unless the
/// document is refused for its shape.
///
/// # Panics
/// When a package signed over these very values is refused as a bad signature.
#[allow(
    clippy::panic,
    reason = "a fuzz harness reports a finding by panicking: that is how libFuzzer sees it"
)]
pub fn payoo_keyfields(data: &[u8]) {
    const KEY: &str = "fuzz-key";
    let verifier = paybridge_payoo::CallbackVerifier::new(SecretString::from(KEY));
    let _ = verifier.verify_body(data);
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for key_fields in [
        paybridge_payoo::notification::SHOP_ORDER_KEY_FIELDS,
        paybridge_payoo::notification::PAY_AT_STORE_KEY_FIELDS,
    ] {
        let Ok(package) = paybridge_payoo::keyfields_package(KEY, text, key_fields) else {
            continue;
        };
        if let Err(e @ paybridge_payoo::PayooError::NotifySignature(_)) =
            verifier.verify_body(package.as_bytes())
        {
            panic!("a package signed over its own values is refused: {e} ({text:?})");
        }
    }
}

/// Payoo's JSON `NotifyData`: the bytes as a posted body, and as the `ResponseData` of a
/// package the harness signs for a caller's address — which must verify unless the
/// `ResponseData` is refused for its content.
///
/// # Panics
/// When a package signed over these very bytes is refused as a bad signature.
#[allow(
    clippy::panic,
    reason = "a fuzz harness reports a finding by panicking: that is how libFuzzer sees it"
)]
pub fn payoo_json(data: &[u8]) {
    const KEY: &str = "fuzz-key";
    let ip = std::net::IpAddr::from([118, 69, 56, 194]);
    let verifier = paybridge_payoo::CallbackVerifier::new(SecretString::from(KEY));
    let _ = verifier.verify_body_from(data, Some(ip));
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let package = paybridge_payoo::json_package(KEY, text, ip);
    if let Err(e @ paybridge_payoo::PayooError::NotifySignature(_)) =
        verifier.verify_body_from(package.as_bytes(), Some(ip))
    {
        panic!("a package signed over its own bytes is refused: {e} ({text:?})");
    }
}

/// Payoo's REST Business API answers and the checkout's return URL: the bytes as an answer
/// (never a panic), and as the `ResponseData` of an answer the harness signs — which must then
/// verify (a refusal may only be for its content, never its signature).
///
/// # Panics
/// When an answer signed over these very bytes is refused as a bad signature.
#[allow(
    clippy::panic,
    reason = "a fuzz harness reports a finding by panicking: that is how libFuzzer sees it"
)]
pub fn payoo_rest(data: &[u8]) {
    const KEY: &str = "fuzz-key";
    let _ = paybridge_payoo::rest::read_answer(KEY, data);
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = paybridge_payoo::verify_return(&SecretString::from(KEY), text);
    let answer = paybridge_payoo::rest::signed_answer(KEY, text);
    if let Err(paybridge_payoo::PayooError::Core(e @ paybridge_core::Error::Signature(_))) =
        paybridge_payoo::rest::read_answer(KEY, answer.as_bytes())
    {
        panic!("an answer signed over its own bytes is refused: {e} ({text:?})");
    }
}
