//! End to end: client → simulator → pending → callback delivered to a merchant receiver →
//! verified → `check` agrees. Plus the simulator's documented refusals.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

use std::time::Duration;

use paybridge_card_charging::sandbox::{SANDBOX_PARTNER_ID, SANDBOX_PARTNER_KEY, Simulator};
use paybridge_card_charging::{
    Card, CardChargingError, CardChargingProvider, ChargeStatus, Client, Config, RequestId, Telco,
    callback_sign,
};
use paybridge_core::http::HttpTransport;
use paybridge_core::sandbox::CallbackReceiver;
use paybridge_core::{
    Currency, Money, PaymentMethod, PaymentProvider, PaymentRef, PaymentRequest, PaymentStatus,
    PrepaidCard, RawNotification,
};
use secrecy::SecretString;

async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

/// A merchant callback endpoint that forwards every body it receives.
async fn receiver() -> (String, CallbackReceiver) {
    let callbacks = CallbackReceiver::start("/charge/callback", "OK")
        .await
        .unwrap();
    (callbacks.url().to_owned(), callbacks)
}

async fn setup() -> (Simulator, Client, String) {
    let sim = Simulator::with_partner(
        SANDBOX_PARTNER_ID,
        SANDBOX_PARTNER_KEY,
        Duration::from_millis(20),
    )
    .unwrap();
    let base = serve(sim.router()).await;
    let client = Client::new(
        Config::new(
            format!("{base}/chargingws/v2"),
            SANDBOX_PARTNER_ID,
            SecretString::from(SANDBOX_PARTNER_KEY),
        ),
        HttpTransport::with_defaults().unwrap(),
    )
    .unwrap();
    (sim, client, base)
}

fn vnd(s: &str) -> Money {
    Money::parse(s, Currency::VND).unwrap()
}

#[tokio::test]
async fn pending_card_is_decided_by_a_verified_callback_that_check_confirms() {
    let (sim, client, _) = setup().await;
    let (url, mut callbacks) = receiver().await;
    sim.set_callback_url(Some(url));

    let card = Card::new(Telco::Viettel, "312821445892989", "10004783347874").unwrap();
    let rid = RequestId::generate();
    let charged = client.charge(&card, vnd("50000"), &rid).await.unwrap();
    assert_eq!(charged.status, ChargeStatus::Pending);
    assert_eq!(charged.request_id, rid.as_str());

    let body = callbacks.next(Duration::from_secs(5)).await.unwrap();
    let verified = client
        .callback_verifier()
        .verify(&RawNotification::post("application/json", body.clone()))
        .unwrap();
    assert_eq!(verified.status, ChargeStatus::Success);
    assert_eq!(verified.request_id, rid.as_str());
    assert_eq!(verified.value, Some(vnd("50000")));
    assert_eq!(verified.amount, Some(vnd("35000")));

    let confirmed = client.confirm_callback(&verified).await.unwrap();
    assert_eq!(confirmed.status, ChargeStatus::Success);
    assert_eq!(confirmed.amount, verified.amount);
    let checked = client.check(&card, vnd("50000"), &rid).await.unwrap();
    assert_eq!(checked.payment_status(), PaymentStatus::Succeeded);

    // A callback whose status or amount was altered in transit still carries a valid sign
    // (the sign covers only code and serial) — confirmation with the gateway catches it.
    let text = String::from_utf8(body.to_vec()).unwrap();
    for forged in [
        text.replace("\"amount\":35000", "\"amount\":350000"),
        text.replace("\"status\":1", "\"status\":2"),
    ] {
        assert_ne!(forged, text);
        let v = client
            .callback_verifier()
            .verify(&RawNotification::post("application/json", forged))
            .unwrap();
        let err = client.confirm_callback(&v).await.unwrap_err();
        assert!(matches!(err, CardChargingError::Signature(_)), "{err:?}");
    }
}

#[tokio::test]
async fn card_error_arrives_by_callback_too() {
    let (sim, client, _) = setup().await;
    let (url, mut callbacks) = receiver().await;
    sim.set_callback_url(Some(url));
    let card = Card::new(Telco::Mobifone, "664196324428", "089801001443088").unwrap();
    let rid = RequestId::generate();
    assert_eq!(
        client
            .charge(&card, vnd("100000"), &rid)
            .await
            .unwrap()
            .status,
        ChargeStatus::Pending
    );
    let body = callbacks.next(Duration::from_secs(5)).await.unwrap();
    let v = client
        .callback_verifier()
        .verify(&RawNotification::post("application/json", body))
        .unwrap();
    assert_eq!(v.status, ChargeStatus::CardError);
    assert_eq!(v.payment_status(), PaymentStatus::Failed);
}

#[tokio::test]
async fn immediate_outcomes_follow_the_last_digit_rule() {
    let (_sim, client, _) = setup().await;
    let cases = [
        ("1", ChargeStatus::Success, Some("50000"), Some("35000")),
        (
            "2",
            ChargeStatus::SuccessWrongValue,
            Some("25000"),
            Some("17500"),
        ),
        ("3", ChargeStatus::CardError, None, Some("0")),
    ];
    for (digit, status, value, amount) in cases {
        let card = Card::new(Telco::Vinaphone, &format!("12345678901{digit}"), "555").unwrap();
        let r = client
            .charge(&card, vnd("50000"), &RequestId::generate())
            .await
            .unwrap();
        assert_eq!(r.status, status);
        assert_eq!(r.value, value.map(vnd));
        assert_eq!(r.amount, amount.map(vnd));
    }
    let card = Card::new(Telco::Vinaphone, "1234567894", "555").unwrap();
    let err = client
        .charge(&card, vnd("50000"), &RequestId::generate())
        .await
        .unwrap_err();
    assert!(matches!(err, CardChargingError::Maintenance { .. }));
}

#[tokio::test]
async fn simulator_refuses_bad_sign_missing_fields_and_reused_request_ids() {
    let (_sim, client, base) = setup().await;
    let card = Card::new(Telco::Viettel, "1111111111", "2222").unwrap();
    let rid = RequestId::generate();
    client.charge(&card, vnd("10000"), &rid).await.unwrap();
    let reused = client.charge(&card, vnd("10000"), &rid).await.unwrap();
    assert_eq!(reused.status, ChargeStatus::SubmissionFailed);
    assert_eq!(reused.message, "request_id đã tồn tại");

    let wrong_key = Client::new(
        Config::new(
            format!("{base}/chargingws/v2"),
            SANDBOX_PARTNER_ID,
            SecretString::from("not-the-key"),
        ),
        HttpTransport::with_defaults().unwrap(),
    )
    .unwrap();
    let r = wrong_key
        .charge(&card, vnd("10000"), &RequestId::generate())
        .await
        .unwrap();
    assert_eq!(r.status, ChargeStatus::SubmissionFailed);
    assert_eq!(r.message, "Sai chữ ký");

    let http = reqwest::Client::new();
    let sign = callback_sign(SANDBOX_PARTNER_KEY, "1111111111", "2222");
    let form: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("telco", "VIETTEL"),
            ("code", "1111111111"),
            ("serial", "2222"),
            ("request_id", "x1"),
            ("partner_id", SANDBOX_PARTNER_ID),
            ("sign", sign.as_str()),
            ("command", "charging"),
        ])
        .finish();
    let bytes = http
        .post(format!("{base}/chargingws/v2"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let answer: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(answer["status"], 100);
    assert_eq!(answer["message"], "Thiếu tham số amount");

    let unknown = client
        .check(&card, vnd("10000"), &RequestId::new("never-sent").unwrap())
        .await
        .unwrap();
    assert_eq!(unknown.status, ChargeStatus::SubmissionFailed);
}

#[tokio::test]
async fn provider_trait_drives_the_same_flow() {
    let (sim, client, _) = setup().await;
    let (url, mut callbacks) = receiver().await;
    sim.set_callback_url(Some(url));
    let provider = CardChargingProvider::new(client, paybridge_core::Stores::in_memory());
    let rid = RequestId::generate();
    // The PIN travels as a secret, never in metadata.
    let mut leaky = PaymentRequest::new(rid.as_str(), vnd("20000"));
    leaky.metadata.insert("code".into(), "99887766550".into());
    assert!(matches!(
        provider.create_payment(leaky).await,
        Err(paybridge_core::Error::Input(_))
    ));
    let req =
        PaymentRequest::new(rid.as_str(), vnd("20000")).with_method(PaymentMethod::PrepaidCard(
            PrepaidCard::new("VIETTEL", "123123", SecretString::from("99887766550")),
        ));
    assert!(!format!("{req:?}").contains("99887766550"));
    let session = provider.create_payment(req).await.unwrap();
    assert_eq!(session.state.status, PaymentStatus::Pending);
    let body = callbacks.next(Duration::from_secs(5)).await.unwrap();
    let raw = RawNotification::post("application/json", body);
    let n = provider.verify_notification(&raw).await.unwrap();
    assert_eq!(n.state.status, PaymentStatus::Succeeded);
    assert!(!n.duplicate);
    assert!(provider.verify_notification(&raw).await.unwrap().duplicate);
    let state = provider
        .payment_status(&PaymentRef::merchant(rid.as_str()))
        .await
        .unwrap();
    assert_eq!(state.status, PaymentStatus::Succeeded);
    assert_eq!(state.provider_status, "1");
    // What was paid: the card's face value (the merchant receives 14 000 after the fee).
    assert_eq!(state.amount, Some(vnd("20000")));
}

#[tokio::test]
async fn the_simulator_accepts_either_signature_scheme_and_calls_back_by_get() {
    let (sim, _, base) = setup().await;
    let (url, mut callbacks) = receiver().await;
    sim.set_callback_url(Some(url));
    sim.set_callback_method(http::Method::GET);
    // A client signing with the sorted-fields scheme some clones require.
    let sorted = Client::new(
        Config::new(
            format!("{base}/chargingws/v2"),
            SANDBOX_PARTNER_ID,
            SecretString::from(SANDBOX_PARTNER_KEY),
        )
        .sign_scheme(paybridge_card_charging::SignScheme::SortedFields),
        HttpTransport::with_defaults().unwrap(),
    )
    .unwrap();
    let card = Card::new(Telco::Viettel, "312821445892989", "10004783347874").unwrap();
    let rid = RequestId::generate();
    let charged = sorted.charge(&card, vnd("50000"), &rid).await.unwrap();
    assert_eq!(charged.status, ChargeStatus::Pending);
    // The callback arrives as a GET query, and verifies as one.
    let query = callbacks.next(Duration::from_secs(5)).await.unwrap();
    let query = std::str::from_utf8(&query).unwrap();
    assert!(query.contains("callback_sign="), "{query}");
    let verified = sorted
        .callback_verifier()
        .verify(&RawNotification::get(query))
        .unwrap();
    assert_eq!(verified.status, ChargeStatus::Success);
    assert_eq!(verified.request_id, rid.as_str());
    // A wrong sign under both schemes is refused.
    let forged = Client::new(
        Config::new(
            format!("{base}/chargingws/v2"),
            SANDBOX_PARTNER_ID,
            SecretString::from("not-the-key"),
        ),
        HttpTransport::with_defaults().unwrap(),
    )
    .unwrap();
    let answer = forged
        .charge(&card, vnd("50000"), &RequestId::generate())
        .await
        .unwrap();
    assert_eq!(answer.status, ChargeStatus::SubmissionFailed);
}

#[tokio::test]
async fn the_fee_table_is_served_and_read_exactly() {
    let (_, client, base) = setup().await;
    let fees = client.fees().await.unwrap();
    let viettel_50k = fees
        .iter()
        .find(|f| f.telco == Telco::Viettel && f.value == 50_000)
        .unwrap();
    assert_eq!(viettel_50k.fee_percent, rust_decimal::Decimal::from(30));
    assert_eq!(viettel_50k.credited(), rust_decimal::Decimal::from(35_000));
    let stranger = Client::new(
        Config::new(
            format!("{base}/chargingws/v2"),
            "someone-else",
            SecretString::from(SANDBOX_PARTNER_KEY),
        ),
        HttpTransport::with_defaults().unwrap(),
    )
    .unwrap();
    assert!(stranger.fees().await.is_err());
}
