//! Qvickly's Payment API: request signing against Qvickly's published vector and against PHP
//! itself, the exact envelope of each function, documented answers decoded, a tampered
//! answer refused, and the whole story against the simulator — directly, through the
//! receiver's confirmed route, and through `QvicklyProvider`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use paybridge_core::signature::HmacSha512Key;
use paybridge_core::{
    CallbackRoute, Currency, Money, PaymentProvider, PaymentRef, PaymentRequest, PaymentStatus,
    RawNotification, Received,
};
use paybridge_qvickly::api::{
    Address, Article, Cart, Customer, Fee, NewPayment, PaymentData, PaymentInfo, PaymentMethod,
};
use paybridge_qvickly::sandbox::{SANDBOX_MERCHANT_ID, SANDBOX_SECRET, Simulator};
use paybridge_qvickly::{
    ApiErrorCode, CallbackVerifier, PaymentApi, QvicklyError, QvicklyProvider, QvicklyStatus,
};
use paybridge_testkit::RecordingTransport;
use secrecy::SecretString;
use serde_json::json;

fn sek(s: &str) -> Money {
    Money::parse(s, Currency::SEK).unwrap()
}

/// Qvickly's published vector: `{"id":"123456","amount":100,"currency":"SEK"}` under
/// `1234567890123456`.
#[test]
fn the_published_vector() {
    let key = HmacSha512Key::new(b"1234567890123456").unwrap();
    assert_eq!(
        key.sign_hex(br#"{"id":"123456","amount":100,"currency":"SEK"}"#),
        "8dde708fea8cfcee68d6817975f37bf9b0c5412f3edfbd1d1d2bca629bd49f06a57bddcaac465ebe8306d25d6e1ff32e8a225c6b58ebef2ea39f51a6777f037a"
    );
}

fn payment(orderid: &str, callbackurl: Option<String>) -> NewPayment {
    let articles = vec![
        Article::new("A-1", "Tröja / blå", 2, sek("99.50"), 25),
        Article::new("A-2", "Mössa \"vinter\"", 1, sek("49"), 12),
    ];
    let cart = Cart::of(
        &articles,
        Some(Fee {
            withouttax: sek("10"),
            taxrate: 25,
        }),
        Some(Fee {
            withouttax: sek("39"),
            taxrate: 25,
        }),
    )
    .unwrap();
    NewPayment {
        data: PaymentData {
            method: PaymentMethod::Card,
            currency: Currency::SEK,
            language: "sv".into(),
            country: "SE".into(),
            orderid: orderid.into(),
            autoactivate: false,
            autocancel: Some(30),
            accepturl: Some("https://shop.example/accept".into()),
            cancelurl: Some("https://shop.example/cancel".into()),
            callbackurl,
            returnmethod: Some("GET".into()),
        },
        info: PaymentInfo {
            yourreference: Some("Åsa Öberg".into()),
            ..PaymentInfo::default()
        },
        customer: Customer {
            nr: "12".into(),
            pno: "195501011018".into(),
            billing: Address {
                firstname: "Åsa".into(),
                lastname: "Öberg".into(),
                email: "asa@example.se".into(),
                country: "SE".into(),
                ..Address::default()
            },
            shipping: None,
        },
        articles,
        cart,
    }
}

#[test]
fn the_cart_adds_up_and_a_wrong_one_is_refused_before_sending() {
    let p = payment("O-1", None);
    // 2 × 99.50 + 49 + 10 + 39 = 297; tax 25 % of 199 + 12 % of 49 + 25 % of 49 = 49.75 +
    // 5.88 + 12.25 = 67.88.
    assert_eq!(p.cart.withouttax, sek("297"));
    assert_eq!(p.cart.tax, sek("67.88"));
    assert_eq!(p.cart.withtax, sek("364.88"));
    let mut wrong = p.cart.clone();
    wrong.withouttax = sek("296");
    assert!(wrong.check(&p.articles).is_err());
}

#[test]
fn requests_are_signed_over_what_php_would_encode() {
    let api = PaymentApi::new(
        "https://api.qvickly.io/",
        "12345",
        &SecretString::from("1234567890123456"),
        paybridge_core::http::HttpTransport::with_defaults().unwrap(),
    )
    .unwrap()
    .time("1764633600.1234");
    let data = json!({"PaymentData": {"orderid": "Ö/1", "url": "https://x.example/a?b=c"}, "Articles": [{"title": "Tröja", "aprice": 9950}]});
    let envelope = api.envelope("addPayment", &data).unwrap();
    let sent: serde_json::Value = serde_json::from_str(&envelope).unwrap();
    let data_text = envelope
        .split_once(r#""data":"#)
        .unwrap()
        .1
        .rsplit_once(r#","function":"#)
        .unwrap()
        .0;
    assert_eq!(
        data_text,
        r#"{"Articles":[{"aprice":9950,"title":"Tr\u00f6ja"}],"PaymentData":{"orderid":"\u00d6\/1","url":"https:\/\/x.example\/a?b=c"}}"#
    );
    let key = HmacSha512Key::new(b"1234567890123456").unwrap();
    assert_eq!(
        sent["credentials"]["hash"],
        key.sign_hex(data_text.as_bytes())
    );
    assert_eq!(
        sent["credentials"]["hash"],
        "438bc585f65b182db5cb5d08c0051f579e3558c9ec561e4120362b19e46d0eac2e796bc3b3857fdeab3cd84fbd07bf3317eafd912a0ad7bd4a07912c73309828",
        "the known answer (computed with PHP's hash_hmac over its own json_encode)"
    );
    // PHP itself, when it is here: json_encode(json_decode(data)) signed with hash_hmac.
    let php = Command::new("php")
        .args([
            "-r",
            "echo hash_hmac('sha512', json_encode(json_decode($argv[1], true)), $argv[2]);",
            &data.to_string(),
            "1234567890123456",
        ])
        .output();
    match php {
        Ok(out) if out.status.success() => {
            assert_eq!(
                sent["credentials"]["hash"],
                String::from_utf8_lossy(&out.stdout).as_ref()
            );
        }
        _ => assert!(
            std::env::var("PAYBRIDGE_REQUIRE_PHP").as_deref() != Ok("1"),
            "PAYBRIDGE_REQUIRE_PHP=1 but no php"
        ),
    }
    // Text Qvickly would turn into '?' (outside ISO-8859-1) never leaves.
    assert!(
        api.envelope("addPayment", &json!({"title": "Nhật"}))
            .is_err()
    );
}

/// An answer as Qvickly signs it (the sandbox secret).
fn signed(data: &str) -> String {
    let key = HmacSha512Key::new(SANDBOX_SECRET.as_bytes()).unwrap();
    format!(
        r#"{{"credentials":{{"hash":"{}"}},"data":{data}}}"#,
        key.sign_hex(data.as_bytes())
    )
}

fn recorded(answer: &str) -> (PaymentApi, Arc<RecordingTransport>) {
    let recorder = RecordingTransport::new();
    recorder.answer(200, "application/json", answer.to_owned());
    let api = PaymentApi::new(
        "https://api.qvickly.io/",
        SANDBOX_MERCHANT_ID,
        &SecretString::from(SANDBOX_SECRET),
        recorder.http(),
    )
    .unwrap()
    .time("1764633600.1234");
    (api, recorder)
}

/// The one request's `function` and `data` bytes (whose hash is checked).
fn sent(recorder: &RecordingTransport) -> (String, String) {
    let sent = recorder.sent();
    assert_eq!(sent.len(), 1, "sent once");
    assert_eq!(sent[0].header("content-type"), Some("application/json"));
    let body = sent[0].body_text();
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let data = body
        .split_once(r#""data":"#)
        .unwrap()
        .1
        .rsplit_once(r#","function":"#)
        .unwrap()
        .0
        .to_owned();
    let key = HmacSha512Key::new(SANDBOX_SECRET.as_bytes()).unwrap();
    assert_eq!(v["credentials"]["hash"], key.sign_hex(data.as_bytes()));
    assert_eq!(v["credentials"]["id"], SANDBOX_MERCHANT_ID);
    assert_eq!(v["credentials"]["time"], "1764633600.1234");
    assert_eq!(v["credentials"]["test"], "false");
    (v["function"].as_str().unwrap().to_owned(), data)
}

#[tokio::test]
async fn add_payment_on_the_wire() {
    let (api, rec) = recorded(&signed(
        r#"{"number":"1001","status":"Created","orderid":"O-1","url":"https:\/\/pay.qvickly.io\/card\/1001"}"#,
    ));
    let added = api
        .add_payment(&payment(
            "O-1",
            Some("https://shop.example/qvickly/callback".into()),
        ))
        .await
        .unwrap();
    assert_eq!(
        (added.number.as_str(), &added.status, added.url.as_deref()),
        (
            "1001",
            &QvicklyStatus::Created,
            Some("https://pay.qvickly.io/card/1001")
        )
    );
    let (function, data) = sent(&rec);
    assert_eq!(function, "addPayment");
    assert_eq!(
        data,
        r#"{"Articles":[{"aprice":9950,"artnr":"A-1","discount":0,"quantity":2,"taxrate":25,"title":"Tr\u00f6ja \/ bl\u00e5","withouttax":19900},{"aprice":4900,"artnr":"A-2","discount":0,"quantity":1,"taxrate":12,"title":"M\u00f6ssa \"vinter\"","withouttax":4900}],"Cart":{"Handling":{"taxrate":25,"withouttax":1000},"Shipping":{"taxrate":25,"withouttax":3900},"Total":{"rounding":0,"tax":6788,"withouttax":29700,"withtax":36488}},"Customer":{"Billing":{"city":"","company":"","country":"SE","email":"asa@example.se","firstname":"\u00c5sa","lastname":"\u00d6berg","phone":"","street":"","street2":"","zip":""},"nr":"12","pno":"195501011018"},"PaymentData":{"accepturl":"https:\/\/shop.example\/accept","autoactivate":"0","autocancel":30,"callbackurl":"https:\/\/shop.example\/qvickly\/callback","cancelurl":"https:\/\/shop.example\/cancel","country":"SE","currency":"SEK","language":"sv","method":8,"orderid":"O-1","returnmethod":"GET"},"PaymentInfo":{"yourreference":"\u00c5sa \u00d6berg"}}"#
    );
}

#[tokio::test]
async fn the_other_functions_on_the_wire_and_their_answers() {
    let (api, rec) = recorded(&signed(
        r#"{"number":"1001","orderid":"O-1","status":"Paid","url":""}"#,
    ));
    assert_eq!(
        api.activate("1001").await.unwrap().status,
        QvicklyStatus::Paid
    );
    assert_eq!(
        sent(&rec),
        ("activatePayment".into(), r#"{"number":"1001"}"#.into())
    );

    let (api, rec) = recorded(&signed(
        r#"{"number":"1001","orderid":"O-1","status":"Cancelled","url":""}"#,
    ));
    assert_eq!(
        api.cancel("1001").await.unwrap().status,
        QvicklyStatus::Cancelled
    );
    assert_eq!(
        sent(&rec),
        ("cancelPayment".into(), r#"{"number":"1001"}"#.into())
    );

    let (api, rec) = recorded(&signed(
        r#"{"number":"2001","orderid":"O-1","status":"Paid","url":""}"#,
    ));
    assert_eq!(api.credit("1001", None).await.unwrap().number, "2001");
    assert_eq!(
        sent(&rec),
        (
            "creditPayment".into(),
            r#"{"PaymentData":{"number":"1001","partcredit":"false"}}"#.into()
        )
    );

    let (api, rec) = recorded(&signed(
        r#"{"number":"2002","orderid":"O-1","status":"Paid","url":""}"#,
    ));
    let lines = vec![Article::new("A-2", "Mössa", 1, sek("49"), 12)];
    let cart = Cart::of(&lines, None, None).unwrap();
    api.credit("1001", Some((&lines, &cart))).await.unwrap();
    assert_eq!(
        sent(&rec),
        (
            "creditPayment".into(),
            r#"{"Articles":[{"aprice":4900,"artnr":"A-2","discount":0,"quantity":1,"taxrate":12,"title":"M\u00f6ssa","withouttax":4900}],"Cart":{"Total":{"rounding":0,"tax":588,"withouttax":4900,"withtax":5488}},"PaymentData":{"number":"1001","partcredit":"true"}}"#.into()
        )
    );

    // getPaymentinfo in the documented shape.
    let (api, rec) = recorded(&signed(
        r#"{"PaymentData":{"method":"8","paymentplanid":"","currency":"SEK","country":"se","language":"sv","autoactivate":"0","orderid":"O-1","status":"Paid","paymentid_related":"","url":""},"PaymentInfo":{"paymentdate":"2026-12-01","yourreference":""},"Card":{"promptname":"","recurring":"","recurringnr":""},"Settlement":{"number":"","date":""},"Customer":{"nr":"12","pno":"","Billing":{"firstname":"\u00c5sa"}},"Articles":[{"artnr":"A-1","title":"Tr\u00f6ja","quantity":"2","aprice":"9950","taxrate":"25","discount":"0","withouttax":"19900"}],"Cart":{"Handling":{"withouttax":"0","taxrate":"25"},"Shipping":{"withouttax":"0","taxrate":"25"},"Total":{"withouttax":"19900","tax":"4975","rounding":"0","withtax":"24875"}}}"#,
    ));
    let info = api.payment_info("1001").await.unwrap();
    assert_eq!(
        sent(&rec),
        ("getPaymentinfo".into(), r#"{"number":"1001"}"#.into())
    );
    assert_eq!(
        (
            &info.status,
            info.method,
            info.orderid.as_deref(),
            info.total
        ),
        (
            &QvicklyStatus::Paid,
            Some(PaymentMethod::Card),
            Some("O-1"),
            Some(sek("248.75"))
        )
    );

    let (api, rec) = recorded(&signed(
        r#"[{"paymentplanid":"1","description":"3 m\u00e5nader","nbrofmonths":"3","monthlycost":"0"}]"#,
    ));
    let plans = api.payment_plans("se", Currency::SEK, "sv").await.unwrap();
    assert_eq!(plans[0].months, Some(3));
    assert_eq!(plans[0].description.as_deref(), Some("3 månader"));
    assert_eq!(
        sent(&rec),
        (
            "getPaymentplans".into(),
            r#"{"PaymentData":{"country":"se","currency":"SEK","language":"sv"}}"#.into()
        )
    );

    let (api, rec) = recorded(&signed(
        r#"{"firstname":"Tess T","lastname":"Persson","street":"Testv\u00e4gen 1","zip":"12345","city":"Testinge","country":"SE"}"#,
    ));
    assert_eq!(
        api.address("195501011018", "SE").await.unwrap().street,
        "Testvägen 1"
    );
    assert_eq!(
        sent(&rec),
        (
            "getAddress".into(),
            r#"{"country":"SE","pno":"195501011018"}"#.into()
        )
    );
}

#[tokio::test]
async fn error_answers_carry_the_documented_meaning_and_a_tampered_hash_is_refused() {
    let (api, _) = recorded(&signed(
        r#"{"code":"5204","message":"Cannot credit more than balance due","logid":"77"}"#,
    ));
    match api.credit("1001", None).await {
        Err(QvicklyError::Api { code, message }) => {
            assert_eq!(code, ApiErrorCode::CannotCreditMoreThanBalance);
            assert_eq!(code.meaning(), "Cannot credit more than balance due");
            assert_eq!(message, "Cannot credit more than balance due");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        ApiErrorCode::from_code(1001).meaning(),
        "Credit denied for Personal/Organisationnumber."
    );
    assert_eq!(
        ApiErrorCode::from_code(9511),
        ApiErrorCode::VerificationError
    );
    assert!(ApiErrorCode::ALL.len() >= 215);
    // One byte of the data changed: refused before anything is read.
    let genuine = signed(r#"{"number":"1001","orderid":"O-1","status":"Created","url":""}"#);
    let (api, _) = recorded(&genuine.replace("Created", "Paid\u{0}").replace('\u{0}', ""));
    assert!(matches!(
        api.activate("1001").await,
        Err(QvicklyError::Signature(_))
    ));
    let e = paybridge_core::Error::from(api.activate("1001").await.unwrap_err());
    assert!(matches!(
        e.kind(),
        paybridge_core::ErrorKind::Signature | paybridge_core::ErrorKind::Transport
    ));
}

#[tokio::test]
async fn a_credit_whose_answer_is_lost_is_outcome_unknown_and_never_resent() {
    let recorder = RecordingTransport::new();
    recorder.fail(paybridge_core::http::TransportError::Sending(
        "reset".into(),
    ));
    let api = PaymentApi::new(
        "https://api.qvickly.io/",
        "1",
        &SecretString::from("k"),
        recorder.http(),
    )
    .unwrap();
    let e = paybridge_core::Error::from(api.credit("1001", None).await.unwrap_err());
    assert!(e.outcome_unknown());
    assert!(e.to_string().contains("getPaymentinfo"), "{e}");
    assert_eq!(recorder.sent().len(), 1);
}

async fn sandbox() -> (Simulator, String) {
    let sim = Simulator::new().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = sim.router();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (sim, base)
}

fn api(base: &str) -> PaymentApi {
    PaymentApi::new(
        &format!("{base}{}", paybridge_qvickly::sandbox::api::API_PATH),
        SANDBOX_MERCHANT_ID,
        &SecretString::from(SANDBOX_SECRET),
        paybridge_core::http::HttpTransport::with_defaults().unwrap(),
    )
    .unwrap()
}

struct NoRecords;

#[async_trait::async_trait]
impl paybridge_core::PaymentRecords for NoRecords {
    async fn remember(&self, _: paybridge_core::PaymentRecord) -> paybridge_core::Result<()> {
        Ok(())
    }
    async fn recall(
        &self,
        _: &str,
        _: &str,
    ) -> paybridge_core::Result<Option<paybridge_core::PaymentRecord>> {
        Ok(None)
    }
}

#[tokio::test]
#[allow(
    clippy::too_many_lines,
    reason = "one card payment's whole life, told in order"
)]
async fn card_payment_callback_confirmed_activated_credited_in_part_then_in_full() {
    let (_sim, base) = sandbox().await;
    let mut merchant = paybridge_core::sandbox::CallbackReceiver::start("/qvickly/callback", "OK")
        .await
        .unwrap();
    let api = api(&base);
    let added = api
        .add_payment(&payment("CARD-1", Some(merchant.url().to_owned())))
        .await
        .unwrap();
    assert_eq!(added.status, QvicklyStatus::Created);
    let page = added.url.clone().unwrap();
    // The same orderid again: 5199.
    assert!(matches!(
        api.add_payment(&payment("CARD-1", None)).await,
        Err(QvicklyError::Api {
            code: ApiErrorCode::InvoiceThatWithTheId,
            ..
        })
    ));
    // The payer pays (the script route beside the card page): the callback arrives, verifies,
    // and is confirmed.
    let pay = page.replace(
        paybridge_qvickly::sandbox::api::PAGE_PATH,
        paybridge_qvickly::sandbox::api::PAY_PATH,
    );
    assert_ne!(pay, page);
    let paid: serde_json::Value = serde_json::from_str(
        &reqwest::Client::new()
            .post(&pay)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(paid["delivered"], true, "{paid}");
    let body = merchant
        .next(Duration::from_secs(5))
        .await
        .expect("a callback");
    let verifier = CallbackVerifier::new(
        Some(SANDBOX_MERCHANT_ID.into()),
        &SecretString::from(SANDBOX_SECRET),
    )
    .unwrap();
    let route =
        paybridge_qvickly::route::Route::confirmed(verifier.clone(), api.clone()).accept_test(true);
    let raw = RawNotification::post("application/json", body.clone());
    let Received::Report(report) = route.receive(&raw, &NoRecords).await.unwrap() else {
        panic!("a report");
    };
    assert_eq!(
        (
            report.notification.state.status,
            report.notification.state.amount,
            report.notification.state.payment.reference.as_str()
        ),
        (PaymentStatus::Pending, Some(sek("364.88")), "CARD-1"),
        "authorised, not captured: pending, with Qvickly's total"
    );
    // A genuine callback re-addressed to another order is refused.
    let other = api.add_payment(&payment("CARD-2", None)).await.unwrap();
    let readdressed = String::from_utf8(body.to_vec())
        .unwrap()
        .replace("CARD-1", "CARD-2");
    assert!(
        route
            .receive(
                &RawNotification::post("application/json", readdressed),
                &NoRecords
            )
            .await
            .is_err()
    );

    assert_eq!(
        api.activate(&added.number).await.unwrap().status,
        QvicklyStatus::Paid
    );
    let info = api.payment_info(&added.number).await.unwrap();
    assert_eq!(
        (info.status, info.total),
        (QvicklyStatus::Paid, Some(sek("364.88")))
    );
    // Partial credit of one line (49 + 12 %), then the rest, then nothing more (5204).
    let lines = vec![Article::new("A-2", "Mössa", 1, sek("49"), 12)];
    let cart = Cart::of(&lines, None, None).unwrap();
    let credit = api
        .credit(&added.number, Some((&lines, &cart)))
        .await
        .unwrap();
    assert_ne!(credit.number, added.number, "a credit invoice of its own");
    api.credit(&added.number, None).await.unwrap();
    assert!(matches!(
        api.credit(&added.number, None).await,
        Err(QvicklyError::Api {
            code: ApiErrorCode::CannotCreditMoreThanBalance,
            ..
        })
    ));
    // An unpaid payment is cancelled; a paid one is not.
    assert_eq!(
        api.cancel(&other.number).await.unwrap().status,
        QvicklyStatus::Cancelled
    );
    assert!(matches!(
        api.cancel(&added.number).await,
        Err(QvicklyError::Api {
            code: ApiErrorCode::InvalidStatusOfPayment,
            ..
        })
    ));
}

#[tokio::test]
async fn through_qvickly_provider() {
    let (_sim, base) = sandbox().await;
    let verifier = CallbackVerifier::new(
        Some(SANDBOX_MERCHANT_ID.into()),
        &SecretString::from(SANDBOX_SECRET),
    )
    .unwrap();
    let provider =
        QvicklyProvider::new(verifier, paybridge_core::Stores::in_memory()).with_api(api(&base));
    assert!(provider.capabilities().refund && provider.capabilities().cancel);
    let mut request = PaymentRequest::new("PV-1", sek("500"));
    request.return_url = Some("https://shop.example/back".into());
    let session = provider.create_payment(request).await.unwrap();
    let page = session.redirect_url.unwrap();
    // The payer presses Pay on the page.
    reqwest::Client::new()
        .post(&page)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("choice=pay")
        .send()
        .await
        .unwrap();
    let payment = PaymentRef::merchant("PV-1");
    let state = provider.payment_status(&payment).await.unwrap();
    assert_eq!(
        (state.status, state.amount),
        (PaymentStatus::Pending, Some(sek("500")))
    );
    assert_eq!(
        provider.activate(&payment).await.unwrap().status,
        PaymentStatus::Succeeded
    );
    let r = provider
        .refund(
            &payment,
            paybridge_core::RefundRequest::partial("PV-1-r1", sek("100")),
        )
        .await
        .unwrap();
    assert_eq!(r.amount, sek("100"));
    let rest = provider
        .refund(&payment, paybridge_core::RefundRequest::full("PV-1-r2"))
        .await
        .unwrap();
    assert!(rest.provider_refund_id.is_some());
    assert!(
        provider
            .refund(
                &payment,
                paybridge_core::RefundRequest::partial("PV-1-r3", sek("1"))
            )
            .await
            .is_err()
    );
    let other = provider
        .create_payment(PaymentRequest::new("PV-2", sek("20")))
        .await
        .unwrap();
    assert!(other.redirect_url.is_some());
    assert_eq!(
        provider
            .cancel(&PaymentRef::merchant("PV-2"))
            .await
            .unwrap()
            .status,
        PaymentStatus::Cancelled
    );
}

/// A credit whose answer was lost is finished by asking again where Qvickly makes it harmless:
/// the rest of a payment, resent in full — credited now if the first never arrived, refused
/// with 5204 if it did: the money goes back once. A partial credit cannot be told: an error.
#[tokio::test]
async fn a_lost_credit_of_the_rest_is_finished_by_a_harmless_resend() {
    let (_sim, base) = sandbox().await;
    let verifier = CallbackVerifier::new(
        Some(SANDBOX_MERCHANT_ID.into()),
        &SecretString::from(SANDBOX_SECRET),
    )
    .unwrap();
    let provider =
        QvicklyProvider::new(verifier, paybridge_core::Stores::in_memory()).with_api(api(&base));
    for (reference, arrived) in [("LOST-1", true), ("LOST-2", false)] {
        let session = provider
            .create_payment(PaymentRequest::new(reference, sek("500")))
            .await
            .unwrap();
        reqwest::Client::new()
            .post(session.redirect_url.unwrap())
            .send()
            .await
            .unwrap();
        let payment = PaymentRef::merchant(reference);
        provider.activate(&payment).await.unwrap();
        let lost = paybridge_core::RefundRequest::partial(format!("{reference}-r1"), sek("500"));
        if arrived {
            // Qvickly credited it; only its answer was lost.
            provider.refund(&payment, lost.clone()).await.unwrap();
        }
        let query = paybridge_core::RefundQuery::new(lost, sek("0"), sek("500"));
        let state = provider.refund_status(&payment, &query).await.unwrap();
        assert_eq!(
            state.status,
            paybridge_core::RefundStatus::Succeeded,
            "{reference}"
        );
        assert_eq!(
            state.provider_status,
            if arrived { "5204" } else { "Paid" },
            "{reference}"
        );
        // Once more: nothing is left, and nothing moves.
        let again = provider.refund_status(&payment, &query).await.unwrap();
        assert_eq!(again.provider_status, "5204", "{reference}");
    }
    // A partial credit: Qvickly's answers cannot tell.
    let query = paybridge_core::RefundQuery::new(
        paybridge_core::RefundRequest::partial("LOST-1-r9", sek("100")),
        sek("0"),
        sek("500"),
    );
    assert!(
        provider
            .refund_status(&PaymentRef::merchant("LOST-1"), &query)
            .await
            .is_err()
    );
}
