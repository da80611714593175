//! Payoo as merchants integrate it today: the REST Business API on the wire (exact body and
//! headers, signed answers verified, every response code's meaning), the hosted checkout
//! (order XML, checksum, the answer's checksum), the return URL's checksum, and the whole
//! story against the simulator — directly and through `PayooProvider`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

use std::sync::Arc;
use std::time::Duration;

use paybridge_core::http::HttpTransport;
use paybridge_core::signature::sha512_hex;
use paybridge_core::{
    Currency, Money, PaymentProvider, PaymentRef, PaymentRequest, PaymentStatus, RawNotification,
};
use paybridge_payoo::checkout::{
    CheckoutOptions, CheckoutOrder, ReturnError, return_checksum, verify_return,
};
use paybridge_payoo::rest::{
    CancelCode, IssueCode, IssueRequest, OrderStatus, RefundCode, RefundRequest,
};
use paybridge_payoo::sandbox::{
    PAY_PATH, SANDBOX_CHECKSUM_KEY, SANDBOX_PASSWORD, SANDBOX_SIGNATURE, SANDBOX_USERNAME,
};
use paybridge_payoo::{
    CheckoutClient, Client, Config, Credentials, PayooError, PayooProvider, RestClient, Shop,
};
use paybridge_testkit::RecordingTransport;
use secrecy::SecretString;

const KEY: &str = SANDBOX_CHECKSUM_KEY;

fn creds() -> Credentials {
    Credentials::new(
        SANDBOX_USERNAME,
        SecretString::from(SANDBOX_PASSWORD),
        SecretString::from(SANDBOX_SIGNATURE),
        SecretString::from(KEY),
    )
}

fn vnd(n: i64) -> Money {
    Money::new(n.into(), Currency::VND).unwrap()
}

/// An answer as Payoo signs it.
fn signed(data: &str) -> String {
    serde_json::json!({
        "ResponseData": data,
        "Signature": sha512_hex(&[KEY.as_bytes(), data.as_bytes()]),
    })
    .to_string()
}

fn recorded(answer: &str) -> (RestClient, Arc<RecordingTransport>) {
    let recorder = RecordingTransport::new();
    recorder.answer(200, "application/json; charset=utf-8", answer.to_owned());
    let client = RestClient::new(
        "https://bizsandbox.payoo.com.vn/BusinessRestAPI.svc",
        creds(),
        recorder.http(),
    )
    .unwrap();
    (client, recorder)
}

/// The one request sent: its URL, its credential headers, and its `RequestData` (whose
/// signature is checked).
fn sent(recorder: &RecordingTransport) -> (String, String) {
    let sent = recorder.sent();
    assert_eq!(sent.len(), 1, "sent once");
    let r = &sent[0];
    assert_eq!(r.header("apiusername"), Some(SANDBOX_USERNAME));
    assert_eq!(r.header("apipassword"), Some(SANDBOX_PASSWORD));
    assert_eq!(r.header("apisignature"), Some(SANDBOX_SIGNATURE));
    assert_eq!(r.header("content-type"), Some("application/json"));
    let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    let data = body["RequestData"].as_str().unwrap().to_owned();
    assert_eq!(
        body["Signature"].as_str().unwrap(),
        sha512_hex(&[KEY.as_bytes(), data.as_bytes()]).to_uppercase()
    );
    assert_eq!(
        r.body_text(),
        format!(
            r#"{{"RequestData":{},"Signature":"{}"}}"#,
            serde_json::Value::String(data.clone()),
            sha512_hex(&[KEY.as_bytes(), data.as_bytes()]).to_uppercase()
        ),
        "exactly these bytes"
    );
    (r.url.clone(), data)
}

#[tokio::test]
async fn get_order_info_on_the_wire() {
    let (c, rec) = recorded(&signed(
        r#"{"ResponseCode":"0","OrderNo":"ORD-1","OrderCash":150000,"PaymentStatus":1,"PaymentMethod":2,"PurchaseDate":"20261201093015","MerchantUserName":"SB_Shop","ShopId":11495,"BankName":"VCB","CardNumber":"411111******1111","BillingCode":"","CardIssuanceType":0}"#,
    ));
    let info = c
        .order_info("ORD-1", 11495, Some("20261201"))
        .await
        .unwrap();
    let (url, data) = sent(&rec);
    assert_eq!(
        url,
        "https://bizsandbox.payoo.com.vn/BusinessRestAPI.svc/getorderinfo"
    );
    assert_eq!(
        data,
        r#"{"OrderId":"ORD-1","PurchaseDate":"20261201","ShopId":11495}"#
    );
    assert_eq!(info.status, OrderStatus::Paid);
    assert_eq!(info.status.normalized(), PaymentStatus::Succeeded);
    assert_eq!(info.amount, Some(vnd(150_000)));
    assert_eq!(info.payment_method, Some(2));
    assert_eq!(info.purchase_date.as_deref(), Some("20261201093015"));
    assert_eq!(info.card_number.as_deref(), Some("411111******1111"));
    // An answer about another order is not this one's.
    let (c, _) = recorded(&signed(
        r#"{"ResponseCode":0,"OrderNo":"ORD-2","OrderCash":1}"#,
    ));
    assert!(matches!(
        c.order_info("ORD-1", 11495, None).await,
        Err(PayooError::NotThisRequest(_))
    ));
}

#[tokio::test]
async fn a_tampered_answer_is_refused_before_it_is_read() {
    let genuine =
        signed(r#"{"ResponseCode":0,"OrderNo":"ORD-1","OrderCash":150000,"PaymentStatus":1}"#);
    let tampered = genuine.replace("150000", "990000");
    let (c, _) = recorded(&tampered);
    let e = paybridge_core::Error::from(c.order_info("ORD-1", 1, None).await.unwrap_err());
    assert_eq!(e.kind(), paybridge_core::ErrorKind::Signature, "{e}");
    let (c, _) = recorded(r#"{"ResponseData":"{\"ResponseCode\":0}","Signature":"00"}"#);
    assert!(c.order_info("ORD-1", 1, None).await.is_err());
}

#[tokio::test]
async fn refund_on_the_wire_and_its_codes() {
    let request = RefundRequest {
        order_no: "ORD-1".into(),
        amount: vnd(50_000),
        refund_id: "ORD-1-r1".into(),
        purchase_date: "20261201".into(),
        description: "damaged item".into(),
    };
    let (c, rec) = recorded(&signed(
        r#"{"ResponseCode":0,"TransferCode":"RF0001","AmountRefunded":50000}"#,
    ));
    let refund = c.refund(&request).await.unwrap();
    let (url, data) = sent(&rec);
    assert!(url.ends_with("/refund"), "{url}");
    assert_eq!(
        data,
        r#"{"ActionType":2,"Description":"damaged item","Money":50000,"OrderNo":"ORD-1","PurchaseDate":"20261201","RefundId":"ORD-1-r1"}"#
    );
    assert_eq!(
        (
            refund.transfer_code.as_deref(),
            refund.amount_refunded,
            refund.repeat
        ),
        (Some("RF0001"), Some(vnd(50_000)), false)
    );
    // 99: the earlier refund, not an error and not a second refund.
    let (c, _) = recorded(&signed(
        r#"{"ResponseCode":"99","TransferCode":"RF0001","AmountRefunded":50000}"#,
    ));
    let again = c.refund(&request).await.unwrap();
    assert!(again.repeat);
    assert_eq!(again.transfer_code.as_deref(), Some("RF0001"));
    // Every other documented code is an error carrying its meaning.
    for code in RefundCode::ALL {
        if matches!(code, RefundCode::Ok | RefundCode::RefundIdExists) {
            continue;
        }
        let (c, _) = recorded(&signed(&format!(r#"{{"ResponseCode":{}}}"#, code.code())));
        match c.refund(&request).await {
            Err(PayooError::Rest {
                method: "Refund",
                code: got,
                meaning,
                ..
            }) => {
                assert_eq!(got, code.code());
                assert_eq!(meaning, code.meaning());
                assert!(!meaning.is_empty());
            }
            other => panic!("{code:?}: {other:?}"),
        }
    }
    assert_eq!(
        RefundCode::from_code(97).meaning(),
        "more than the order's total (less earlier refunds)"
    );
    // A refund answered with another amount is not this refund.
    let (c, _) = recorded(&signed(
        r#"{"ResponseCode":0,"TransferCode":"RF0002","AmountRefunded":60000}"#,
    ));
    assert!(matches!(
        c.refund(&request).await,
        Err(PayooError::NotThisRequest(_))
    ));
}

#[tokio::test]
async fn a_refund_whose_answer_is_lost_says_to_resend_with_the_same_refund_id() {
    let recorder = RecordingTransport::new();
    recorder.fail(paybridge_core::http::TransportError::Sending(
        "reset".into(),
    ));
    let c = RestClient::new(
        "https://biz.example/BusinessRestAPI.svc",
        creds(),
        recorder.http(),
    )
    .unwrap();
    let e = paybridge_core::Error::from(
        c.refund(&RefundRequest {
            order_no: "ORD-1".into(),
            amount: vnd(1000),
            refund_id: "r-9".into(),
            purchase_date: "20261201".into(),
            description: String::new(),
        })
        .await
        .unwrap_err(),
    );
    assert!(e.outcome_unknown());
    assert!(e.to_string().contains("same RefundId"), "{e}");
    assert_eq!(recorder.sent().len(), 1, "never resent");
}

#[tokio::test]
async fn cancel_billing_code_and_qr_code_on_the_wire() {
    let (c, rec) = recorded(&signed(r#"{"ResponseCode":0}"#));
    assert_eq!(
        c.cancel_order(11495, "ORD-2", "out of stock")
            .await
            .unwrap(),
        CancelCode::Ok
    );
    let (url, data) = sent(&rec);
    assert!(url.ends_with("/CancelOrder"), "{url}");
    assert_eq!(
        data,
        r#"{"NewStatus":3,"OrderID":"ORD-2","ShopID":11495,"UpdateLog":"out of stock"}"#
    );
    for (code, variant) in [
        (11, CancelCode::InvalidStatusChange),
        (12, CancelCode::AlreadyCancelled),
    ] {
        let (c, _) = recorded(&signed(&format!(r#"{{"ResponseCode":{code}}}"#)));
        match c.cancel_order(1, "X", "").await {
            Err(PayooError::Rest {
                code: got, meaning, ..
            }) => {
                assert_eq!((got, meaning), (code, variant.meaning()));
            }
            other => panic!("{other:?}"),
        }
    }

    let issue = IssueRequest {
        shop_id: 11495,
        order_no: "STORE-1".into(),
        amount: vnd(200_000),
        description: "Thanh toán đơn hàng STORE-1 tại cửa hàng tiện lợi gần nhất".into(),
        ship_date: "02/12/2026".into(),
        ship_days: 1,
        expires: "20261203235959".into(),
        notify_url: "https://shop.example/payoo/notify".into(),
        username: "SB_Shop".into(),
        json_notify: true,
    };
    let (c, rec) = recorded(&signed(r#"{"ResponseCode":0,"BillingCode":"888123456"}"#));
    assert_eq!(c.billing_code(&issue).await.unwrap().code, "888123456");
    let (url, data) = sent(&rec);
    assert!(url.ends_with("/GetBillingCode"), "{url}");
    assert_eq!(
        data,
        r#"{"CyberCash":200000,"Description":"Thanh+to%C3%A1n+%C4%91%C6%A1n+h%C3%A0ng+STORE-1+t%E1%BA%A1i+c%E1%BB%ADa+h%C3%A0ng+ti%E1%BB%87n+l%E1%BB%A3i+g%E1%BA%A7n+nh%E1%BA%A5t","FromShipDate":"02/12/2026","InfoEx":"%3CInfoEx%3E%3CJsonResponse%3ETRUE%3C%2FJsonResponse%3E%3C%2FInfoEx%3E","NotifyUrl":"https://shop.example/payoo/notify","OrderNo":"STORE-1","PaymentExpireDate":"20261203235959","ShipNumDay":1,"ShopID":11495}"#
    );
    let (c, rec) = recorded(&signed(
        r#"{"ResponseCode":0,"QRCode":"000201","QRCodeLink":"https://qr/1.png","MultiQRCodeLink":[{"QRCodeLink":"https://qr/app.png","AppSupportModels":[{"AppCode":"VCB"}]}]}"#,
    ));
    let qr = c.qr_code(&issue).await.unwrap();
    let (url, data) = sent(&rec);
    assert!(url.ends_with("/GetQRCode"), "{url}");
    assert!(
        data.contains(r#""IsJsonResponse":true"#) && data.contains(r#""UserName":"SB_Shop""#),
        "{data}"
    );
    assert_eq!(
        (
            qr.code.as_deref(),
            qr.link.as_deref(),
            qr.app_links.as_slice()
        ),
        (
            Some("000201"),
            Some("https://qr/1.png"),
            ["https://qr/app.png".to_owned()].as_slice()
        )
    );
    for code in IssueCode::ALL {
        assert!(!code.meaning().is_empty());
    }
    let (c, _) = recorded(&signed(r#"{"ResponseCode":-2}"#));
    assert!(matches!(
        c.billing_code(&issue).await,
        Err(PayooError::Rest { code: -2, .. })
    ));
    // A short description never leaves.
    let (c, rec) = recorded("");
    let short = IssueRequest {
        description: "too short".into(),
        ..issue
    };
    assert!(c.billing_code(&short).await.is_err());
    assert!(rec.sent().is_empty());
}

fn order(order_no: &str, amount: i64, json: bool) -> CheckoutOrder {
    CheckoutOrder {
        username: "SB_Shop".into(),
        shop_id: 11495,
        session: format!("sess-{order_no}"),
        shop_title: "Shop Demo".into(),
        shop_domain: "https://shop.example".into(),
        back_url: "https://shop.example/payoo/return?x=1".into(),
        order_no: order_no.into(),
        amount: vnd(amount),
        ship_date: "02/12/2026".into(),
        ship_days: 1,
        description: format!("Thanh toán đơn hàng {order_no} tại Shop Demo — 1 x áo thun"),
        notify_url: "https://shop.example/payoo/notify".into(),
        validity_time: "20261203235959".into(),
        json_notify: json,
        customer: None,
        installment_tenors: None,
        mdd: [None, None],
    }
}

#[tokio::test]
async fn checkout_order_xml_checksum_and_answer() {
    let o = order("ORD-7", 150_000, true);
    let xml = o.to_xml().unwrap();
    assert_eq!(
        xml,
        "<shops><shop><session>sess-ORD-7</session><username>SB_Shop</username><shop_id>11495</shop_id><shop_title>Shop Demo</shop_title><shop_domain>https://shop.example</shop_domain><shop_back_url>https%3A%2F%2Fshop.example%2Fpayoo%2Freturn%3Fx%3D1</shop_back_url><order_no>ORD-7</order_no><order_cash_amount>150000</order_cash_amount><order_ship_date>02/12/2026</order_ship_date><order_ship_days>1</order_ship_days><order_description>Thanh+to%C3%A1n+%C4%91%C6%A1n+h%C3%A0ng+ORD-7+t%E1%BA%A1i+Shop+Demo+%E2%80%94+1+x+%C3%A1o+thun</order_description><notify_url>https%3A%2F%2Fshop.example%2Fpayoo%2Fnotify</notify_url><validity_time>20261203235959</validity_time><JsonResponse>TRUE</JsonResponse></shop></shops>"
    );
    let order_json = r#"{"order_id":"PY1","order_no":"ORD-7","amount":150000,"payment_code":"","expiry_date":"20261203235959","token":"t0k","payment_url":"https://newsandbox.payoo.com.vn/v2/paynow/ORD-7"}"#;
    let answer = format!(
        r#"{{"result":"success","checksum":"{}","order":{order_json}}}"#,
        sha512_hex(&[KEY.as_bytes(), order_json.as_bytes()])
    );
    let recorder = RecordingTransport::new();
    recorder.answer(200, "application/json", answer.clone());
    let c = CheckoutClient::new(
        "https://newsandbox.payoo.com.vn/v2/paynow/order/create",
        SecretString::from(KEY),
        recorder.http(),
    )
    .unwrap();
    let options = CheckoutOptions {
        refer: "https://shop.example".into(),
        payment_group: Some("CC,QRCode".into()),
        ..CheckoutOptions::default()
    };
    let created = c.create(&o, &options).await.unwrap();
    assert_eq!(
        created.payment_url,
        "https://newsandbox.payoo.com.vn/v2/paynow/ORD-7"
    );
    assert_eq!(created.token.as_deref(), Some("t0k"));
    let sent = recorder.sent();
    let form: Vec<(String, String)> = form_urlencoded::parse(&sent[0].body).into_owned().collect();
    assert_eq!(
        form,
        [
            ("data".to_owned(), xml.clone()),
            (
                "checksum".to_owned(),
                sha512_hex(&[KEY.as_bytes(), xml.as_bytes()])
            ),
            ("refer".to_owned(), "https://shop.example".to_owned()),
            ("payment_group".to_owned(), "CC,QRCode".to_owned()),
        ]
    );
    // The answer's checksum is over the order as sent: one byte changed is refused.
    let recorder = RecordingTransport::new();
    recorder.answer(
        200,
        "application/json",
        answer.replace("\"t0k\"", "\"t0K\""),
    );
    let c = CheckoutClient::new(
        "https://x.example/create",
        SecretString::from(KEY),
        recorder.http(),
    )
    .unwrap();
    let e = paybridge_core::Error::from(c.create(&o, &options).await.unwrap_err());
    assert_eq!(e.kind(), paybridge_core::ErrorKind::Signature);
    // A refusal.
    let recorder = RecordingTransport::new();
    recorder.answer(
        200,
        "application/json",
        r#"{"result":"fail","message":"Invalid checksum","order":null}"#,
    );
    let c = CheckoutClient::new(
        "https://x.example/create",
        SecretString::from(KEY),
        recorder.http(),
    )
    .unwrap();
    assert!(
        matches!(c.create(&o, &options).await, Err(PayooError::CheckoutRefused(m)) if m == "Invalid checksum")
    );
    // What Payoo would refuse never leaves.
    let mut short = o.clone();
    short.description = "short".into();
    assert!(short.to_xml().is_err());
}

#[test]
fn the_return_url_checksum() {
    let key = SecretString::from(KEY);
    let sum = return_checksum(KEY, "sess-1", "ORD-1", "1");
    let genuine = format!(
        "session=sess-1&order_no=ORD-1&status=1&errorcode=0&errormsg=&checksum={sum}&paymethod=CC&totalAmount=150000"
    );
    let r = verify_return(&key, &genuine).unwrap();
    assert_eq!((r.order_no.as_str(), r.status, r.error), ("ORD-1", 1, None));
    assert_eq!(r.normalized(), PaymentStatus::Succeeded);
    // Upper-case hex is the same checksum.
    assert!(verify_return(&key, &genuine.replace(&sum, &sum.to_uppercase())).is_ok());
    // Another order, or a failure turned into a success: refused.
    for tampered in [
        genuine.replace("order_no=ORD-1", "order_no=ORD-2"),
        format!("session=sess-1&order_no=ORD-1&status=0&checksum={sum}"),
    ] {
        let e = paybridge_core::Error::from(verify_return(&key, &tampered).unwrap_err());
        assert_eq!(e.kind(), paybridge_core::ErrorKind::Signature, "{tampered}");
    }
    let failed = format!(
        "session=sess-1&order_no=ORD-1&status=0&errorcode=521&errormsg=Insufficient+fund&checksum={}",
        return_checksum(KEY, "sess-1", "ORD-1", "0")
    );
    let r = verify_return(&key, &failed).unwrap();
    assert_eq!(r.error, Some(ReturnError::InsufficientFund));
    assert_eq!(r.normalized(), PaymentStatus::Failed);
    assert!(verify_return(&key, "session=a&order_no=b").is_err());
}

async fn sandbox() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = paybridge_payoo::sandbox::router();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    base
}

#[tokio::test]
#[allow(
    clippy::too_many_lines,
    reason = "one order's whole life against the simulator, told in order"
)]
async fn checkout_pay_notify_status_refunds_and_cancel_against_the_simulator() {
    let base = sandbox().await;
    let mut merchant =
        paybridge_core::sandbox::CallbackReceiver::start("/payoo/notify", "NOTIFY_RECEIVED")
            .await
            .unwrap();
    let http = HttpTransport::with_defaults().unwrap();
    let checkout = CheckoutClient::new(
        format!("{base}{}", paybridge_payoo::sandbox::checkout::CREATE_PATH),
        SecretString::from(KEY),
        http.clone(),
    )
    .unwrap();
    let rest = RestClient::new(
        format!("{base}{}", paybridge_payoo::sandbox::rest::BASE_PATH),
        creds(),
        http.clone(),
    )
    .unwrap();
    let mut o = order("E2E-1", 300_000, true);
    o.notify_url = merchant.url().to_owned();
    let created = checkout
        .create(
            &o,
            &CheckoutOptions {
                refer: o.shop_domain.clone(),
                ..CheckoutOptions::default()
            },
        )
        .await
        .unwrap();
    assert!(created.payment_url.contains("E2E-1"), "{created:?}");
    // The same order again: Payoo refuses it.
    assert!(matches!(
        checkout.create(&o, &CheckoutOptions::default()).await,
        Err(PayooError::CheckoutRefused(_))
    ));
    let before = rest.order_info("E2E-1", 11495, None).await.unwrap();
    assert_eq!(before.status, OrderStatus::Unpaid);

    // Paid in the sandbox: the JSON notification (the order asked for it) arrives and verifies.
    let paid = reqwest::Client::new()
        .post(format!("{base}{PAY_PATH}?order=E2E-1"))
        .send()
        .await
        .unwrap();
    assert!(paid.status().is_success());
    let body = merchant
        .next(Duration::from_secs(5))
        .await
        .expect("a notification");
    let verifier = paybridge_payoo::CallbackVerifier::new(SecretString::from(KEY));
    let n = verifier
        .verify(
            &RawNotification::post("application/x-www-form-urlencoded", body)
                .from_addr(std::net::IpAddr::from([127, 0, 0, 1])),
        )
        .unwrap();
    let state = n.state().unwrap();
    assert_eq!(
        (state.status, state.amount),
        (PaymentStatus::Succeeded, Some(vnd(300_000)))
    );

    let info = rest.order_info("E2E-1", 11495, None).await.unwrap();
    assert_eq!(
        (info.status, info.amount),
        (OrderStatus::Paid, Some(vnd(300_000)))
    );
    let purchase_date = info.purchase_date.unwrap()[..8].to_owned();
    let refund = |id: &str, amount: i64| RefundRequest {
        order_no: "E2E-1".into(),
        amount: vnd(amount),
        refund_id: id.into(),
        purchase_date: purchase_date.clone(),
        description: "partial".into(),
    };
    let first = rest.refund(&refund("E2E-1-r1", 100_000)).await.unwrap();
    assert!(!first.repeat);
    // The same refund id again: harmless, the earlier refund.
    let again = rest.refund(&refund("E2E-1-r1", 100_000)).await.unwrap();
    assert!(again.repeat);
    assert_eq!(again.transfer_code, first.transfer_code);
    // Beyond what is left (200000): refused, 97.
    assert!(matches!(
        rest.refund(&refund("E2E-1-r2", 200_001)).await,
        Err(PayooError::Rest { code: 97, .. })
    ));
    rest.refund(&refund("E2E-1-r3", 200_000)).await.unwrap();
    // A paid order cannot be cancelled (11); an unpaid one can, once (12 after).
    assert!(matches!(
        rest.cancel_order(11495, "E2E-1", "").await,
        Err(PayooError::Rest { code: 11, .. })
    ));
    let mut other = order("E2E-2", 50_000, false);
    other.notify_url = merchant.url().to_owned();
    checkout
        .create(&other, &CheckoutOptions::default())
        .await
        .unwrap();
    rest.cancel_order(11495, "E2E-2", "customer changed their mind")
        .await
        .unwrap();
    assert_eq!(
        rest.order_info("E2E-2", 11495, None).await.unwrap().status,
        OrderStatus::Cancelled
    );
    assert!(matches!(
        rest.cancel_order(11495, "E2E-2", "").await,
        Err(PayooError::Rest { code: 12, .. })
    ));
    // A billing code and a QR code are new orders.
    let issue = IssueRequest {
        shop_id: 11495,
        order_no: "E2E-STORE".into(),
        amount: vnd(20_000),
        description: "Thanh toán đơn hàng E2E-STORE tại cửa hàng tiện lợi gần nhất nhé".into(),
        ship_date: "02/12/2026".into(),
        ship_days: 1,
        expires: "20261203235959".into(),
        notify_url: merchant.url().to_owned(),
        username: "SB_Shop".into(),
        json_notify: false,
    };
    assert!(
        rest.billing_code(&issue)
            .await
            .unwrap()
            .code
            .starts_with("888")
    );
    assert!(matches!(
        rest.billing_code(&issue).await,
        Err(PayooError::Rest { code: 83, .. })
    ));
    let qr = rest
        .qr_code(&IssueRequest {
            order_no: "E2E-QR".into(),
            ..issue
        })
        .await
        .unwrap();
    assert!(qr.code.is_some() && qr.link.is_some());
    // Wrong credentials: 1001.
    let wrong = RestClient::new(
        format!("{base}{}", paybridge_payoo::sandbox::rest::BASE_PATH),
        Credentials::new(
            SANDBOX_USERNAME,
            SecretString::from("nope"),
            SecretString::from(SANDBOX_SIGNATURE),
            SecretString::from(KEY),
        ),
        http,
    )
    .unwrap();
    assert!(matches!(
        wrong.order_info("E2E-1", 11495, None).await,
        Err(PayooError::Rest { code: 1001, .. })
    ));
}

#[tokio::test]
async fn through_payoo_provider_checkout_status_refund_and_cancel() {
    let base = sandbox().await;
    let http = HttpTransport::with_defaults().unwrap();
    let soap = Client::new(
        Config::new(format!("{base}/CallerServices.asmx"), creds()),
        http.clone(),
    )
    .unwrap();
    let provider = PayooProvider::new(
        soap,
        SecretString::from(KEY),
        11495,
        paybridge_core::Stores::in_memory(),
    )
    .with_rest(
        RestClient::new(
            format!("{base}{}", paybridge_payoo::sandbox::rest::BASE_PATH),
            creds(),
            http.clone(),
        )
        .unwrap(),
    )
    .with_checkout(
        CheckoutClient::new(
            format!("{base}{}", paybridge_payoo::sandbox::checkout::CREATE_PATH),
            SecretString::from(KEY),
            http,
        )
        .unwrap(),
        Shop {
            username: "SB_Shop".into(),
            title: "Shop Demo".into(),
            domain: "https://shop.example".into(),
            ship_days: 1,
            valid_for_secs: 86_400,
            json_notify: true,
        },
    );
    let caps = provider.capabilities();
    assert!(caps.refund && caps.cancel);
    let mut request = PaymentRequest::new("PV-1", vnd(120_000));
    request.return_url = Some("https://shop.example/back".into());
    request.notify_url = Some("http://127.0.0.1:9/notify".into());
    let session = provider.create_payment(request).await.unwrap();
    assert!(session.redirect_url.unwrap().contains("PV-1"));
    let payment = PaymentRef::merchant("PV-1");
    assert_eq!(
        provider.payment_status(&payment).await.unwrap().status,
        PaymentStatus::Pending
    );
    reqwest::Client::new()
        .post(format!("{base}{PAY_PATH}?order=PV-1"))
        .send()
        .await
        .unwrap();
    let paid = provider.payment_status(&payment).await.unwrap();
    assert_eq!(
        (paid.status, paid.amount),
        (PaymentStatus::Succeeded, Some(vnd(120_000)))
    );
    let r = provider
        .refund(
            &payment,
            paybridge_core::RefundRequest::partial("PV-1-r1", vnd(20_000)),
        )
        .await
        .unwrap();
    assert_eq!((r.amount, r.provider_status.as_str()), (vnd(20_000), "0"));
    assert!(r.provider_refund_id.is_some());
    let repeat = provider
        .refund(
            &payment,
            paybridge_core::RefundRequest::partial("PV-1-r1", vnd(20_000)),
        )
        .await
        .unwrap();
    assert_eq!(
        repeat.provider_status, "99",
        "the earlier refund, nothing moved"
    );
    assert!(
        provider
            .refund(
                &payment,
                paybridge_core::RefundRequest::partial("PV-1-r2", vnd(100_001))
            )
            .await
            .is_err()
    );
    let mut other = PaymentRequest::new("PV-2", vnd(10_000));
    other.notify_url = Some("http://127.0.0.1:9/notify".into());
    provider.create_payment(other).await.unwrap();
    let cancelled = provider
        .cancel(&PaymentRef::merchant("PV-2"))
        .await
        .unwrap();
    assert_eq!(cancelled.status, PaymentStatus::Cancelled);
}

/// A refund whose purchase day is known (the merchant's `--purchase-date`, or the day the
/// ledger recorded the order) sends it as given — no `GetOrderInfo` first; and a refund whose
/// outcome is unknown is asked about by resending it under the same `RefundId`, which Payoo
/// makes harmless (99: the earlier refund went through).
#[tokio::test]
async fn a_refund_sends_the_known_purchase_date_and_its_unknown_outcome_is_resent_harmlessly() {
    let (rest, recorder) = recorded(&signed(
        r#"{"ResponseCode":0,"TransferCode":"RF0009","AmountRefunded":30000}"#,
    ));
    let provider = PayooProvider::current(
        rest,
        SecretString::from(KEY),
        11495,
        paybridge_core::Stores::in_memory(),
    );
    let payment = PaymentRef::merchant("ORD-9");
    let request =
        paybridge_core::RefundRequest::partial("ORD-9-r1", vnd(30_000)).purchase_date("20261130");
    let r = provider.refund(&payment, request.clone()).await.unwrap();
    assert_eq!(r.provider_refund_id.as_deref(), Some("RF0009"));
    let (url, data) = sent(&recorder);
    assert!(
        url.ends_with("/refund"),
        "only the refund, no lookup first: {url}"
    );
    let data: serde_json::Value = serde_json::from_str(&data).unwrap();
    assert_eq!(
        (&data["PurchaseDate"], &data["RefundId"], &data["Money"]),
        (
            &serde_json::json!("20261130"),
            &serde_json::json!("ORD-9-r1"),
            &serde_json::json!(30000)
        )
    );
    let (rest, recorder) = recorded(&signed(
        r#"{"ResponseCode":"99","TransferCode":"RF0009","AmountRefunded":30000}"#,
    ));
    let provider = PayooProvider::current(
        rest,
        SecretString::from(KEY),
        11495,
        paybridge_core::Stores::in_memory(),
    );
    let query = paybridge_core::RefundQuery::new(request, vnd(0), vnd(120_000));
    let state = provider.refund_status(&payment, &query).await.unwrap();
    assert_eq!(
        (state.status, state.provider_status.as_str()),
        (paybridge_core::RefundStatus::Succeeded, "99")
    );
    let (_, data) = sent(&recorder);
    assert!(data.contains(r#""RefundId":"ORD-9-r1""#), "{data}");
}

/// The legacy checkout omnipay-payoo and redSHOP use: the shop's page posts `OrdersForPayoo`
/// (the order XML, built here by hand as those clients build it) and `CheckSum` to
/// `/v2/paynow/`; the payer lands on the payment page, pays, and is sent back with the signed
/// return. A wrong checksum is refused.
#[tokio::test]
async fn the_legacy_paynow_form_shows_the_payment_page() {
    let base = sandbox().await;
    let description: String = form_urlencoded::byte_serialize(
        "Thanh toan don hang LEG-1 tai Shop Demo: 2 x ao thun, giao trong ngay".as_bytes(),
    )
    .collect();
    let xml = format!(
        "<shops><shop><session>LEG-1</session><username>SB_Shop</username><shop_id>11495</shop_id><shop_title>Shop Demo</shop_title><shop_domain>https://shop.example</shop_domain><shop_back_url>https%3A%2F%2Fshop.example%2Freturn</shop_back_url><order_no>LEG-1</order_no><order_cash_amount>120000</order_cash_amount><order_ship_date>05/12/2026</order_ship_date><order_ship_days>1</order_ship_days><order_description>{description}</order_description><validity_time>20261231235959</validity_time></shop></shops>"
    );
    let checksum = sha512_hex(&[SANDBOX_CHECKSUM_KEY.as_bytes(), xml.as_bytes()]);
    // Our transport installs the process's TLS provider, which reqwest's builder needs.
    HttpTransport::with_defaults().unwrap();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let post = |fields: Vec<(&'static str, String)>| {
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        client
            .post(format!("{base}/v2/paynow/"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    let tampered = post(vec![
        ("OrdersForPayoo", xml.clone()),
        ("CheckSum", checksum.replace('a', "b")),
    ])
    .await
    .unwrap();
    assert_eq!(tampered.status(), 400);
    let page = post(vec![
        ("OrdersForPayoo", xml),
        ("CheckSum", checksum),
        ("bc", String::new()),
        ("pm", String::new()),
    ])
    .await
    .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"<p id="amount">120000 VND</p>"#), "{html}");
    let paid = client
        .post(format!("{base}/v2/paynow/_sandbox/checkout?order=LEG-1"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("choice=pay")
        .send()
        .await
        .unwrap();
    assert_eq!(paid.status(), 303);
    let location = paid.headers()["location"].to_str().unwrap();
    let query = location
        .strip_prefix("https://shop.example/return?")
        .unwrap();
    let back = verify_return(&SecretString::from(SANDBOX_CHECKSUM_KEY), query).unwrap();
    assert_eq!((back.order_no.as_str(), back.status), ("LEG-1", 1));
}
