//! Payoo's `NotifyData` as Payoo really signs it: the two real packages from Payoo's sandbox
//! (published in a public integration's tests, with the key they were signed with), packages
//! signed by an independent implementation of the `KeyFields` recipe written here from the
//! provider notes, and the JSON form.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

use std::fmt::Write as _;
use std::net::IpAddr;

use base64::Engine as _;
use paybridge_core::PaymentStatus;
use paybridge_payoo::{CallbackVerifier, NotifyForm, PayooError};
use secrecy::SecretString;
use sha2::Digest as _;

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors");

fn vector(name: &str) -> (String, String) {
    let read = |ext: &str| {
        std::fs::read_to_string(format!("{VECTORS}/{name}.{ext}"))
            .unwrap()
            .trim()
            .to_owned()
    };
    (read("form"), read("key"))
}

fn verifier(key: &str) -> CallbackVerifier {
    CallbackVerifier::new(SecretString::from(key.to_owned()))
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The package (XML) inside a posted form.
fn package_of(form: &str) -> String {
    form_urlencoded::parse(form.as_bytes())
        .find(|(k, _)| k == "NotifyData")
        .unwrap()
        .1
        .into_owned()
}

/// The decoded Data of a package.
fn data_of(package: &str) -> String {
    let start = package.find("<Data>").unwrap() + 6;
    let end = package.find("</Data>").unwrap();
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(&package[start..end])
            .unwrap(),
    )
    .unwrap()
}

fn with_data(package: &str, data: &str) -> String {
    let start = package.find("<Data>").unwrap() + 6;
    let end = package.find("</Data>").unwrap();
    format!("{}{}{}", &package[..start], b64(data), &package[end..])
}

#[test]
fn both_real_packages_from_payoos_sandbox_verify() {
    let (form, key) = vector("without_billing");
    let n = verifier(&key).verify_body(form.as_bytes()).unwrap();
    assert_eq!(n.form, NotifyForm::KeyFields);
    assert_eq!(n.order_no, "sbb-test-367");
    assert_eq!(n.state, "PAYMENT_RECEIVED");
    assert_eq!(n.status(), PaymentStatus::Succeeded);
    assert_eq!(n.amount, "10000");
    assert_eq!(n.shop_id, "741");
    assert_eq!(n.payment_method(), Some("E_WALLET"));
    assert_eq!(
        n.field("OrderDescription"),
        Some("Thank you for purchasing Test Test, enjoy this wonderful event.")
    );
    assert_eq!(n.field("StartShippingDate"), Some("23/02/2018"));
    // Only signed fields are handed out: the customer block is not in KeyFields.
    assert_eq!(n.fields.len(), 15);
    assert!(n.fields.iter().all(|(k, _)| !k.contains("customer")));
    let state = n.state().unwrap();
    assert_eq!(state.amount.unwrap().amount_string(), "10000");

    let (form, key) = vector("with_billing");
    let n = verifier(&key).verify_body(form.as_bytes()).unwrap();
    assert_eq!(n.order_no, "sbb-test-359");
    assert_eq!(n.amount, "10000");
    assert_eq!(n.shop_id, "741");
    assert_eq!(n.field("BillingCode"), Some("888515992"));
    // ShippingDays is absent from the Data: Payoo hashes it as 0.
    assert_eq!(n.field("ShippingDays"), Some("0"));
    // Not in this package's KeyFields, so not handed out.
    assert_eq!(n.payment_method(), None);
}

#[test]
fn every_signed_value_changed_under_a_genuine_signature_is_refused() {
    for name in ["without_billing", "with_billing"] {
        let (form, key) = vector(name);
        let package = package_of(&form);
        let data = data_of(&package);
        // Every leaf value of the Data that the package's KeyFields signs.
        let genuine = verifier(&key).verify_body(package.as_bytes()).unwrap();
        let mut changed = 0;
        for (field, _) in &genuine.fields {
            let tag = paybridge_payoo::notification::key_field_tag(field, name == "with_billing");
            let open = format!("<{tag}>");
            let Some(at) = data.find(&open) else { continue };
            let at = at + open.len();
            let forged = format!("{}9{}", &data[..at], &data[at..]);
            let result = verifier(&key).verify_body(with_data(&package, &forged).as_bytes());
            assert!(
                matches!(result, Err(PayooError::NotifySignature(_))),
                "{name}: {field} changed was accepted: {result:?}"
            );
            changed += 1;
        }
        assert!(changed >= 5, "{name}: only {changed} fields tried");
        // The amount dropped from KeyFields (the list travels unsigned) is refused by name.
        let unsigned = package.replace("|OrderCashAmount", "");
        let err = verifier(&key).verify_body(unsigned.as_bytes()).unwrap_err();
        assert!(
            err.to_string().contains("leaves OrderCashAmount unsigned"),
            "{err}"
        );
        // A second order number beside the signed one is refused, not guessed between.
        let tag = if name == "with_billing" {
            "OrderNo"
        } else {
            "order_no"
        };
        let doubled = data.replacen(
            "</PaymentNotification>",
            &format!("<{tag}>victim-1</{tag}></PaymentNotification>"),
            1,
        );
        assert!(
            verifier(&key)
                .verify_body(with_data(&package, &doubled).as_bytes())
                .is_err()
        );
        // A repeated Signature or Data element is refused.
        let twice = package.replacen("<Signature>", "<Signature>00</Signature><Signature>", 1);
        assert!(verifier(&key).verify_body(twice.as_bytes()).is_err());
        // The wrong key is a NotifyData signature error, named as such.
        let err = verifier("not-the-key")
            .verify_body(form.as_bytes())
            .unwrap_err();
        assert!(err.to_string().starts_with("NotifyData signature"), "{err}");
    }
}

/// The shop-order tag mapping, as the provider notes give it (written out here, apart from
/// the crate's table, so a mistake in one does not hide in the other).
const SHOP_TAGS: [(&str, &str); 15] = [
    ("PaymentMethod", "PaymentMethod"),
    ("State", "State"),
    ("Session", "session"),
    ("BusinessUsername", "username"),
    ("ShopID", "shop_id"),
    ("ShopTitle", "shop_title"),
    ("ShopDomain", "shop_domain"),
    ("ShopBackUrl", "shop_back_url"),
    ("OrderNo", "order_no"),
    ("OrderCashAmount", "order_cash_amount"),
    ("StartShippingDate", "order_ship_date"),
    ("ShippingDays", "order_ship_days"),
    ("OrderDescription", "order_description"),
    ("NotifyUrl", "notify_url"),
    ("PaymentExpireDate", "validity_time"),
];

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// An independent signer: a shop-order package for these values, signed as the notes say
/// (`sha512(key|v1|…)`, description URL-decoded, upper hex).
fn independent_package(key: &str, values: &[(&str, String)]) -> String {
    let get = |f: &str| {
        values
            .iter()
            .find(|(k, _)| *k == f)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let mut shop = String::new();
    for (field, tag) in SHOP_TAGS.iter().skip(2) {
        let _ = write!(shop, "<{tag}>{}</{tag}>", xml_escape(&get(field)));
    }
    let data = format!(
        "<PaymentNotification><shops><shop>{shop}<customer><name>x</name></customer></shop></shops><State>{}</State><PaymentMethod>{}</PaymentMethod></PaymentNotification>",
        xml_escape(&get("State")),
        xml_escape(&get("PaymentMethod"))
    );
    let mut signed = key.as_bytes().to_vec();
    for (field, _) in SHOP_TAGS {
        let mut v = get(field);
        if v.is_empty() && ["ShopID", "OrderCashAmount", "ShippingDays"].contains(&field) {
            v = "0".into();
        }
        let v: Vec<u8> = if field == "OrderDescription" {
            form_urlencoded::parse(format!("x={v}").as_bytes())
                .next()
                .map(|(_, d)| d.into_owned().into_bytes())
                .unwrap_or_default()
        } else {
            v.into_bytes()
        };
        signed.push(b'|');
        signed.extend_from_slice(&v);
    }
    let signature = hex::encode_upper(sha2::Sha512::digest(&signed));
    let keyfields: Vec<&str> = SHOP_TAGS.iter().map(|(f, _)| *f).collect();
    format!(
        "<PayooConnectionPackage><Data>{}</Data><Signature>{signature}</Signature><PayooSessionID>s</PayooSessionID><KeyFields>{}</KeyFields></PayooConnectionPackage>",
        b64(data),
        keyfields.join("|")
    )
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
    #[test]
    fn packages_signed_by_an_independent_implementation_verify(
        order in "[A-Za-z0-9-]{1,20}",
        amount in 1_u64..10_000_000_000,
        shop in 1_u32..1_000_000,
        days in proptest::option::of(0_u8..30),
        description in "[ -~À-ỹ]{0,40}",
        title in "[ -~]{0,20}",
        paid in proptest::bool::ANY,
    ) {
        let key = "69c215746ce4209a2e2ede09de9cca87";
        let encoded: String = form_urlencoded::byte_serialize(description.as_bytes()).collect();
        let state = if paid { "PAYMENT_RECEIVED" } else { "PAYMENT_PROCESSING" };
        let values = [
            ("PaymentMethod", "E_WALLET".to_owned()),
            ("State", state.to_owned()),
            ("Session", order.clone()),
            ("BusinessUsername", "iss_shop".to_owned()),
            ("ShopID", shop.to_string()),
            ("ShopTitle", title),
            ("ShopDomain", "http://shop.example".to_owned()),
            ("ShopBackUrl", "http://shop.example/back".to_owned()),
            ("OrderNo", order.clone()),
            ("OrderCashAmount", amount.to_string()),
            ("StartShippingDate", "01/12/2026".to_owned()),
            ("ShippingDays", days.map(|d| d.to_string()).unwrap_or_default()),
            ("OrderDescription", encoded),
            ("NotifyUrl", "http://shop.example/notify".to_owned()),
            ("PaymentExpireDate", "20261201235959".to_owned()),
        ];
        let package = independent_package(key, &values);
        let n = verifier(key).verify_body(package.as_bytes()).unwrap();
        proptest::prop_assert_eq!(&n.order_no, &order);
        proptest::prop_assert_eq!(&n.amount, &amount.to_string());
        proptest::prop_assert_eq!(n.field("OrderDescription"), Some(description.as_str()));
        proptest::prop_assert_eq!(n.status() == PaymentStatus::Succeeded, paid);
        // The same values signed with another key do not verify.
        let other = independent_package("another-key", &values);
        proptest::prop_assert!(verifier(key).verify_body(other.as_bytes()).is_err());
    }
}

const IP: [u8; 4] = [118, 69, 56, 194];

/// A JSON package signed independently: base64 of `{"ResponseData", "Signature"}`.
fn json_notify(key: &str, response_data: &str, ip: &str) -> String {
    let mut signed = key.as_bytes().to_vec();
    signed.extend_from_slice(response_data.as_bytes());
    signed.extend_from_slice(ip.as_bytes());
    let signature = hex::encode_upper(sha2::Sha512::digest(&signed));
    let package = serde_json::json!({"ResponseData": response_data, "Signature": signature});
    let form: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("NotifyData", &b64(package.to_string()))
        .finish();
    form
}

const RESPONSE_DATA: &str = r#"{"OrderNo":"ORD-77","OrderCash":250000,"PaymentStatus":1,"PaymentMethod":2,"PurchaseDate":"20261201101500","MerchantUsername":"iss_shop","ShopId":741,"BankName":"VCB","CardNumber":"411111******1111","BillingCode":""}"#;

#[test]
fn the_json_form_verifies_over_the_callers_ip() {
    let key = "K";
    let body = json_notify(key, RESPONSE_DATA, "118.69.56.194");
    let n = verifier(key)
        .verify_body_from(body.as_bytes(), Some(IpAddr::from(IP)))
        .unwrap();
    assert_eq!(n.form, NotifyForm::Json);
    assert_eq!(n.order_no, "ORD-77");
    assert_eq!(n.amount, "250000");
    assert_eq!(n.state, "1");
    assert_eq!(n.shop_id, "741");
    assert_eq!(n.status(), PaymentStatus::Succeeded);
    assert_eq!(n.field("CardNumber"), Some("411111******1111"));
    assert_eq!(n.state().unwrap().amount.unwrap().amount_string(), "250000");
    // An IPv4-mapped IPv6 peer address is the same caller.
    let mapped: IpAddr = "::ffff:118.69.56.194".parse().unwrap();
    assert!(
        verifier(key)
            .verify_body_from(body.as_bytes(), Some(mapped))
            .is_ok()
    );
    // Another caller's address: refused.
    let err = verifier(key)
        .verify_body_from(body.as_bytes(), Some(IpAddr::from([10, 0, 0, 1])))
        .unwrap_err();
    assert!(matches!(err, PayooError::NotifySignature(_)), "{err}");
    // No address at all: a clear input error, not a silent pass.
    let err = verifier(key).verify_body(body.as_bytes()).unwrap_err();
    assert!(err.to_string().contains("IP address"), "{err}");
    // Every field changed under the genuine signature: refused.
    let package: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(package_of(&body))
            .unwrap(),
    )
    .unwrap();
    let signature = package["Signature"].as_str().unwrap();
    let data: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(RESPONSE_DATA).unwrap();
    for field in data.keys() {
        let mut forged = data.clone();
        forged.insert(field.clone(), serde_json::json!("9"));
        let forged = serde_json::json!({
            "ResponseData": serde_json::Value::Object(forged).to_string(),
            "Signature": signature,
        });
        let result =
            verifier(key).verify_body_from(forged.to_string().as_bytes(), Some(IpAddr::from(IP)));
        assert!(
            matches!(result, Err(PayooError::NotifySignature(_))),
            "{field} changed was accepted"
        );
    }
}

#[test]
fn a_json_package_with_a_repeated_field_is_refused() {
    let data = r#"{"OrderNo":"A","OrderCash":1,"PaymentStatus":1,"OrderNo":"B"}"#;
    let body = json_notify("K", data, "118.69.56.194");
    assert!(
        verifier("K")
            .verify_body_from(body.as_bytes(), Some(IpAddr::from(IP)))
            .is_err()
    );
}
