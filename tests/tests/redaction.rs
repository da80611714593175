//! No secret shows in `Debug` or `Display` of any public type that can hold one: card codes,
//! partner keys, passwords, session keys, checksum keys, HMAC secrets. One test per crate.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

use paybridge_core::http::HttpTransport;
use paybridge_core::{Currency, Money};
use secrecy::SecretString;

/// A value that would be obvious if it leaked.
const SECRET: &str = "S3CR3T-value-4242";
const PIN: &str = "312821445892981";

fn assert_hidden(what: &str, text: &str) {
    assert!(!text.contains(SECRET), "{what} shows a secret: {text}");
    assert!(!text.contains(PIN), "{what} shows the card PIN: {text}");
}

macro_rules! debug_hidden {
    ($($value:expr),+ $(,)?) => {
        $( assert_hidden(stringify!($value), &format!("{:?} {:#?}", $value, $value)); )+
    };
}

macro_rules! display_hidden {
    ($($value:expr),+ $(,)?) => {
        $( assert_hidden(stringify!($value), &format!("{} {:?}", $value, $value)); )+
    };
}

fn secret() -> SecretString {
    SecretString::from(SECRET)
}

fn transport() -> HttpTransport {
    HttpTransport::with_defaults().unwrap()
}

#[test]
fn core_types_hide_secrets() {
    use paybridge_core::{PaymentMethod, PaymentRequest, PrepaidCard};
    let card = PrepaidCard::new("VIETTEL", "10004783347874", SecretString::from(PIN));
    let method = PaymentMethod::PrepaidCard(card.clone());
    let request = PaymentRequest::new("order-1", Money::parse("50000", Currency::VND).unwrap())
        .with_method(method.clone());
    let key = paybridge_core::signature::HmacSha512Key::new(SECRET.as_bytes()).unwrap();
    debug_hidden!(card, method, request, key);
}

#[test]
fn card_charging_types_hide_secrets() {
    use paybridge_card_charging::{Card, CardChargingError, Client, Config, Telco};
    let config = Config::new("http://gateway.example/chargingws/v2", "p", secret());
    let client = Client::new(config.clone(), transport()).unwrap();
    let card = Card::new(Telco::Viettel, PIN, "10004783347874").unwrap();
    let sign = paybridge_card_charging::callback_sign(SECRET, PIN, "10004783347874");
    let body = format!(
        r#"{{"status":1,"request_id":"r","declared_value":50000,"value":50000,"amount":35000,"code":"{PIN}","serial":"10004783347874","telco":"VIETTEL","callback_sign":"{sign}"}}"#
    );
    let callback = paybridge_card_charging::CallbackVerifier::new(secret())
        .verify_json(body.as_bytes())
        .unwrap();
    // Errors a wrong callback or bad input produce.
    let wrong_key = paybridge_card_charging::CallbackVerifier::new(SecretString::from("other"))
        .verify_json(body.as_bytes())
        .unwrap_err();
    let bad_card = Card::new(Telco::Viettel, &format!("{PIN}!"), "1").unwrap_err();
    let verifier = client.callback_verifier();
    debug_hidden!(config, client, card, callback, verifier);
    display_hidden!(wrong_key, bad_card);
    let core: paybridge_core::Error =
        CardChargingError::Core(paybridge_core::Error::Input("x".into())).into();
    display_hidden!(core);
}

#[test]
fn woopay_types_hide_secrets() {
    use paybridge_woopay::{Client, Config as WoopayConfig};
    let config = WoopayConfig::new("http://wooppay.example/api/wsd/", "merchant", secret());
    let client = Client::new(config.clone(), transport()).unwrap();
    debug_hidden!(config, client);
}

#[tokio::test]
async fn woopay_login_info_and_errors_hide_the_session_and_password() {
    use paybridge_woopay::sandbox::{SANDBOX_PASSWORD, SANDBOX_USERNAME, Simulator};
    use paybridge_woopay::{Client, Config as WoopayConfig};
    let sim = Simulator::new().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, sim.router()).await });
    let endpoint = format!("{base}{}", paybridge_woopay::sandbox::ENDPOINT_PATH);
    let client = Client::new(
        WoopayConfig::new(
            endpoint.clone(),
            SANDBOX_USERNAME,
            SecretString::from(SANDBOX_PASSWORD),
        ),
        transport(),
    )
    .unwrap();
    let info = client.login().await.unwrap();
    let session = secrecy::ExposeSecret::expose_secret(&info.session).to_owned();
    let text = format!("{info:?} {client:?}");
    assert!(!text.contains(&session), "session key shown: {text}");
    assert!(!text.contains(SANDBOX_PASSWORD), "password shown: {text}");
    let wrong = Client::new(
        WoopayConfig::new(endpoint, SANDBOX_USERNAME, secret()),
        transport(),
    )
    .unwrap();
    let err = wrong.login().await.unwrap_err();
    display_hidden!(err);
}

#[test]
fn payoo_types_hide_secrets() {
    use paybridge_payoo::{Client, Config, Credentials, PayooProvider};
    let credentials = Credentials::new("shop", secret(), secret(), secret());
    let config = Config::new(
        "http://payoo.example/BPG/CallerServices.asmx",
        credentials.clone(),
    );
    let client = Client::new(config.clone(), transport()).unwrap();
    let provider = PayooProvider::new(
        client.clone(),
        secret(),
        1,
        paybridge_core::Stores::in_memory(),
    );
    let rest = paybridge_payoo::RestClient::new(
        "http://payoo.example/BusinessRestAPI.svc",
        credentials.clone(),
        transport(),
    )
    .unwrap();
    let checkout = paybridge_payoo::CheckoutClient::new(
        "http://payoo.example/v2/paynow/order/create",
        secret(),
        transport(),
    )
    .unwrap();
    let body = rest.body(r#"{"OrderId":"1"}"#);
    debug_hidden!(credentials, config, client, rest, checkout);
    // The body carries the signature, never the key.
    assert_hidden("a REST body", &body);
    let _ = provider;
    let forged = paybridge_payoo::keyfields_package(
        "other-key",
        "<PaymentNotification/>",
        "State|ShopID|OrderNo|OrderCashAmount",
    )
    .unwrap();
    let verifier = paybridge_payoo::CallbackVerifier::new(secrecy::SecretString::from(SECRET));
    debug_hidden!(verifier);
    let err = verifier.verify_body(forged.as_bytes()).unwrap_err();
    display_hidden!(err);
}

#[test]
fn linkifier_types_hide_secrets() {
    use paybridge_linkifier_ipn::{CallbackVerifier, IpnSender};
    let config = paybridge_linkifier_ipn::Config::new(
        "http://linkifier.example/PaymentNotification.asmx",
        secret(),
    );
    let sender = IpnSender::new(config.clone(), transport()).unwrap();
    let receiver = CallbackVerifier::new(secret());
    debug_hidden!(config, sender, receiver);
    let err = receiver.verify_body(b"<html/>").unwrap_err();
    display_hidden!(err);
}

#[test]
fn qvickly_types_hide_secrets() {
    use paybridge_qvickly::CallbackVerifier;
    let verifier = CallbackVerifier::new(Some("merchant".into()), &secret()).unwrap();
    let api =
        paybridge_qvickly::PaymentApi::new("http://qvickly.example/", "1", &secret(), transport())
            .unwrap();
    let envelope = api
        .envelope("getPaymentinfo", &serde_json::json!({"number": "1"}))
        .unwrap();
    debug_hidden!(verifier, api);
    assert_hidden("a Payment API envelope", &envelope);
    let err = verifier
        .verify_body(br#"{"credentials":{"hash":"00"},"data":{}}"#)
        .unwrap_err();
    display_hidden!(err);
}
