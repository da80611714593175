//! The callback router over a real ledger (SQLite, and PostgreSQL when configured): the
//! acknowledgement only after the handler committed, a failed handler retried, duplicates
//! acknowledged without a second effect, refusals recorded as nothing.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use paybridge_core::http::{HttpRequest, HttpTransport};
use paybridge_core::soap::SoapVersion;
use paybridge_core::{Currency, Money, PaymentStatus};
use paybridge_ledger::receive::{Callback, CallbackHandler, HandlerError, Receiver};
use paybridge_ledger::{Ledger, NewPayment};
use secrecy::SecretString;
use tokio::sync::Notify;

const KEY: &str = "partner-key";

/// Counts effects; fails the first `fail` calls; waits for `gate` when set.
#[derive(Default)]
struct Shop {
    effects: std::sync::Mutex<Vec<String>>,
    fail: AtomicUsize,
    gate: Option<Arc<Notify>>,
}

#[async_trait::async_trait]
impl CallbackHandler for Shop {
    async fn handle(&self, callback: &Callback) -> Result<(), HandlerError> {
        if let Some(gate) = &self.gate {
            gate.notified().await;
        }
        if self
            .fail
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err("the shop's database is down".into());
        }
        self.effects.lock().unwrap().push(callback.key.clone());
        Ok(())
    }
}

async fn serve(ledger: Arc<Ledger>, shop: Arc<Shop>) -> String {
    let router = Receiver::new(ledger, shop)
        .card_charging_trusting_unsigned_status(SecretString::from(KEY))
        .payoo(SecretString::from(KEY))
        .linkifier(paybridge_linkifier_ipn::CallbackVerifier::new(
            SecretString::from(paybridge_linkifier_ipn::sandbox::SANDBOX_KEY),
        ))
        .router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
    });
    base
}

/// Tests run in parallel: each gets its own file and schema.
static NEXT: AtomicUsize = AtomicUsize::new(0);

async fn ledgers() -> Vec<Arc<Ledger>> {
    let dir = std::env::temp_dir().join("paybridge-ledger-tests");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!(
        "receive-{}-{}-{}.db",
        std::process::id(),
        paybridge_ledger::now_ms(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let mut out = vec![Arc::new(
        Ledger::open(&format!("sqlite://{}", file.display()))
            .await
            .unwrap(),
    )];
    if let Ok(base) = std::env::var("PAYBRIDGE_TEST_POSTGRES") {
        let schema = format!(
            "receive_{}_{}_{}",
            std::process::id(),
            paybridge_ledger::now_ms(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let admin = sqlx::PgPool::connect(&base).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA \"{schema}\"")))
            .execute(&admin)
            .await
            .unwrap();
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
        out.push(Arc::new(Ledger::open(&url).await.unwrap()));
    } else {
        assert!(std::env::var("PAYBRIDGE_REQUIRE_POSTGRES").as_deref() != Ok("1"));
        eprintln!("skipped PostgreSQL: receive (set PAYBRIDGE_TEST_POSTGRES to run it)");
    }
    out
}

fn card_callback(request_id: &str, status: u8, sign_key: &str) -> String {
    let (code, serial) = ("312821445892981", "10004783347874");
    let sign = paybridge_card_charging::callback_sign(sign_key, code, serial);
    format!(
        r#"{{"status":{status},"message":"ok","request_id":"{request_id}","declared_value":50000,"value":50000,"amount":35000,"code":"{code}","serial":"{serial}","telco":"VIETTEL","trans_id":7,"callback_sign":"{sign}"}}"#
    )
}

async fn post(
    base: &str,
    path: &str,
    content_type: &str,
    body: String,
) -> (u16, String, Option<String>) {
    let t = HttpTransport::with_defaults().unwrap();
    let r = t
        .send(
            HttpRequest::post(format!("{base}{path}"), body)
                .header(http::header::CONTENT_TYPE, content_type)
                .idempotent(true),
        )
        .await
        .unwrap();
    let retry_after = r.header("retry-after").map(str::to_owned);
    (
        r.status,
        String::from_utf8_lossy(&r.body).into_owned(),
        retry_after,
    )
}

#[tokio::test]
async fn the_provider_is_acknowledged_only_after_the_handler_committed() {
    for ledger in ledgers().await {
        let shop = Arc::new(Shop {
            fail: AtomicUsize::new(1),
            ..Shop::default()
        });
        let base = serve(ledger.clone(), shop.clone()).await;
        ledger
            .record_payment(&NewPayment::new(
                "card-charging",
                "order-1",
                PaymentStatus::Pending,
                Money::parse("50000", Currency::VND).unwrap(),
            ))
            .await
            .unwrap();
        let body = card_callback("order-1", 1, KEY);
        // The shop's database is down: not acknowledged, nothing marked done.
        let (status, _, _) = post(
            &base,
            "/card-charging/callback",
            "application/json",
            body.clone(),
        )
        .await;
        assert_eq!(status, 500);
        assert!(shop.effects.lock().unwrap().is_empty());
        // The gateway retries: handled, then acknowledged.
        let (status, text, _) = post(
            &base,
            "/card-charging/callback",
            "application/json",
            body.clone(),
        )
        .await;
        assert_eq!((status, text.as_str()), (200, "OK"));
        // Delivered again: acknowledged, no second credit.
        let (status, _, _) = post(&base, "/card-charging/callback", "application/json", body).await;
        assert_eq!(status, 200);
        assert_eq!(
            shop.effects.lock().unwrap().as_slice(),
            ["card-charging:order-1:1"]
        );
        let record = ledger
            .callback("card-charging", "card-charging:order-1:1")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(record.deliveries, 3);
        assert!(record.done);
        let payment = ledger
            .payment("card-charging", "order-1")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(payment.payment.status, PaymentStatus::Succeeded);
    }
}

#[tokio::test]
async fn a_bad_signature_or_a_malformed_body_is_refused_and_not_recorded() {
    for ledger in ledgers().await {
        let shop = Arc::new(Shop::default());
        let base = serve(ledger.clone(), shop.clone()).await;
        let forged = card_callback("order-2", 1, "someone-else");
        let (status, _, _) =
            post(&base, "/card-charging/callback", "application/json", forged).await;
        assert_eq!(status, 401);
        let (status, _, _) = post(
            &base,
            "/card-charging/callback",
            "application/json",
            "not json".into(),
        )
        .await;
        assert_eq!(status, 400);
        assert!(ledger.callbacks(None, None).await.unwrap().is_empty());
        assert!(shop.effects.lock().unwrap().is_empty());
    }
}

#[tokio::test]
async fn a_delivery_during_handling_is_told_to_retry_later() {
    for ledger in ledgers().await {
        let gate = Arc::new(Notify::new());
        let shop = Arc::new(Shop {
            gate: Some(gate.clone()),
            ..Shop::default()
        });
        let base = serve(ledger.clone(), shop.clone()).await;
        let body = card_callback("order-3", 1, KEY);
        let first = tokio::spawn({
            let (base, body) = (base.clone(), body.clone());
            async move { post(&base, "/card-charging/callback", "application/json", body).await }
        });
        // Wait until the first delivery holds the claim.
        for _ in 0..200 {
            if ledger
                .callback("card-charging", "card-charging:order-3:1")
                .await
                .unwrap()
                .is_some()
            {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        let (status, _, retry_after) =
            post(&base, "/card-charging/callback", "application/json", body).await;
        assert_eq!(status, 503);
        assert!(retry_after.unwrap().parse::<u64>().unwrap() >= 1);
        gate.notify_one();
        assert_eq!(first.await.unwrap().0, 200);
        assert_eq!(shop.effects.lock().unwrap().len(), 1);
    }
}

#[tokio::test]
async fn each_provider_gets_its_own_acknowledgement() {
    for ledger in ledgers().await {
        let shop = Arc::new(Shop::default());
        let base = serve(ledger.clone(), shop.clone()).await;
        let data = "<PaymentNotification><BillingCode>888000001</BillingCode><OrderNo>P-1</OrderNo><OrderCashAmount>150000</OrderCashAmount><ShopId>1</ShopId><State>PAYMENT_RECEIVED</State></PaymentNotification>";
        let package = paybridge_payoo::keyfields_package(
            KEY,
            data,
            "State|ShopID|OrderNo|OrderCashAmount|ShippingDays|BillingCode",
        )
        .unwrap();
        let (status, text, _) = post(&base, "/payoo/notify", "text/xml", package).await;
        assert_eq!((status, text.as_str()), (200, "NOTIFY_RECEIVED"));
        let record = paybridge_linkifier_ipn::sandbox::sample_record();
        let frag = paybridge_core::soap::to_fragment(&paybridge_linkifier_ipn::signed_request(
            &record,
            paybridge_linkifier_ipn::sandbox::SANDBOX_KEY,
            &paybridge_linkifier_ipn::CanonicalHmac,
        ))
        .unwrap();
        let envelope = paybridge_core::soap::wrap(
            &paybridge_core::soap::EnvelopeStyle::new(SoapVersion::V12),
            None,
            &frag,
        );
        let (status, text, _) = post(
            &base,
            "/linkifier/ipn",
            "application/soap+xml; charset=utf-8",
            envelope,
        )
        .await;
        assert_eq!(status, 200);
        assert!(
            text.contains("IPNEventRaisedResponse")
                && text.contains("http://www.w3.org/2003/05/soap-envelope"),
            "{text}"
        );
        let effects = shop.effects.lock().unwrap().clone();
        assert_eq!(effects, ["P-1:succeeded", "TX-1001:1:sale:accepted"]);
    }
}

#[tokio::test]
async fn a_test_mode_qvickly_callback_is_acknowledged_and_never_credited_unless_accepted() {
    const SECRET: &str = "qvickly-secret-01";
    let data = r#"{"number":"9001","status":"Paid","orderid":"Q-T","url":"https:\/\/x"}"#;
    let hash = paybridge_core::signature::hmac_sha512_hex(SECRET.as_bytes(), data.as_bytes());
    let body = |test: &str| {
        format!(r#"{{"credentials":{{"hash":"{hash}","id":"m1","test":"{test}"}},"data":{data}}}"#)
    };
    for accept in [false, true] {
        let ledger = ledgers().await.remove(0);
        let shop = Arc::new(Shop::default());
        let verifier = paybridge_qvickly::CallbackVerifier::new(
            Some("m1".into()),
            &SecretString::from(SECRET),
        )
        .unwrap();
        let router = Receiver::new(ledger.clone(), shop.clone())
            .qvickly(verifier)
            .qvickly_accept_test(accept)
            .router();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        let (status, _, _) = post(&base, "/qvickly/callback", "application/json", body("1")).await;
        assert_eq!(status, 200);
        let credited = shop.effects.lock().unwrap().len();
        assert_eq!(credited, usize::from(accept), "accept={accept}");
        if !accept {
            assert!(ledger.callbacks(None, None).await.unwrap().is_empty());
            // The same payment live is credited.
            let (status, _, _) =
                post(&base, "/qvickly/callback", "application/json", body("0")).await;
            assert_eq!(status, 200);
            assert_eq!(shop.effects.lock().unwrap().len(), 1);
        }
    }
}

#[tokio::test]
async fn a_payoo_json_notification_is_checked_against_the_address_it_came_from() {
    for ledger in ledgers().await {
        let shop = Arc::new(Shop::default());
        let base = serve(ledger.clone(), shop.clone()).await;
        let data = r#"{"OrderNo":"PJ-1","OrderCash":150000,"PaymentStatus":1,"ShopId":1}"#;
        let form = |ip: [u8; 4]| {
            let package = paybridge_payoo::json_package(KEY, data, std::net::IpAddr::from(ip));
            form_urlencoded::Serializer::new(String::new())
                .append_pair("NotifyData", &package)
                .finish()
        };
        let mime = "application/x-www-form-urlencoded";
        // Signed for Payoo's address, but it came from here: refused, nothing recorded.
        let (status, _, _) = post(&base, "/payoo/notify", mime, form([118, 69, 56, 194])).await;
        assert_eq!(status, 401);
        assert!(shop.effects.lock().unwrap().is_empty());
        let (status, text, _) = post(&base, "/payoo/notify", mime, form([127, 0, 0, 1])).await;
        assert_eq!((status, text.as_str()), (200, "NOTIFY_RECEIVED"));
        assert_eq!(*shop.effects.lock().unwrap(), ["PJ-1:succeeded"]);
    }
}

#[tokio::test]
#[allow(
    clippy::too_many_lines,
    reason = "one attacker's story, told in order: every forgery of one genuine callback"
)]
async fn card_callbacks_are_confirmed_with_the_gateway_and_matched_to_the_recorded_card() {
    use paybridge_card_charging::sandbox::{
        ENDPOINT_PATH, SANDBOX_PARTNER_ID, SANDBOX_PARTNER_KEY, Simulator,
    };
    use paybridge_card_charging::{Card, Client, Config, RequestId, Telco};
    let sim = Simulator::new().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let gateway = format!("http://{}{ENDPOINT_PATH}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, sim.router()).await });
    let client = Client::new(
        Config::new(
            &gateway,
            SANDBOX_PARTNER_ID,
            SecretString::from(SANDBOX_PARTNER_KEY),
        ),
        HttpTransport::with_defaults().unwrap(),
    )
    .unwrap();
    let ledger = ledgers().await.remove(0);
    let fifty = Money::parse("50000", Currency::VND).unwrap();
    let now = paybridge_ledger::now_ms();
    // Three orders, each recorded with its card before it is charged: a good card, a
    // failed card (status 3) and a victim's card still pending.
    let charge = async |rid: &str, code: &str, serial: &str| {
        ledger
            .record_payment(
                &NewPayment::new("card-charging", rid, PaymentStatus::Pending, fifty)
                    .instrument(serial),
            )
            .await
            .unwrap();
        client
            .charge(
                &Card::new(Telco::Viettel, code, serial).unwrap(),
                fifty,
                &RequestId::new(rid).unwrap(),
            )
            .await
            .unwrap()
    };
    let (good, failed, victim) = (
        format!("good-{now}"),
        format!("failed-{now}"),
        format!("victim-{now}"),
    );
    let paid = charge(&good, "312821445892981", "10004783347874").await;
    let refused = charge(&failed, "412821445892983", "20004783347874").await;
    assert_eq!(refused.status.code(), 3);
    charge(&victim, "512821445892988", "30004783347874").await;
    let trans = paid.trans_id.clone().unwrap();
    let callback = |rid: &str, status: u8, amount: &str, code: &str, serial: &str, trans: &str| {
        let sign = paybridge_card_charging::callback_sign(SANDBOX_PARTNER_KEY, code, serial);
        format!(
            r#"{{"status":{status},"message":"ok","request_id":"{rid}","trans_id":"{trans}","declared_value":50000,"value":50000,"amount":{amount},"code":"{code}","serial":"{serial}","telco":"VIETTEL","callback_sign":"{sign}"}}"#
        )
    };
    let shop = Arc::new(Shop::default());
    let router = Receiver::new(ledger.clone(), shop.clone())
        .card_charging(client.clone())
        .router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    let send = |body: String| {
        let base = base.clone();
        async move {
            post(&base, "/card-charging/callback", "application/json", body)
                .await
                .0
        }
    };
    let (code, serial) = ("312821445892981", "10004783347874");
    // The sign covers only the card: each edit verifies, and is refused.
    assert_eq!(
        send(callback(&good, 1, "5000000", code, serial, &trans)).await,
        401,
        "amount raised"
    );
    assert_eq!(
        send(callback(&good, 1, "35000", code, serial, "999")).await,
        401,
        "trans_id changed"
    );
    let (fcode, fserial) = ("412821445892983", "20004783347874");
    assert_eq!(
        send(callback(&failed, 1, "35000", fcode, fserial, "x")).await,
        401,
        "3 flipped to 1"
    );
    assert_eq!(
        send(callback(&victim, 1, "35000", fcode, fserial, "x")).await,
        401,
        "request_id swapped"
    );
    assert!(ledger.callbacks(None, None).await.unwrap().is_empty());
    assert!(shop.effects.lock().unwrap().is_empty());
    // The genuine one is recorded, once.
    let genuine = callback(
        &good,
        1,
        &paid.amount.unwrap().amount_string(),
        code,
        serial,
        &trans,
    );
    assert_eq!(send(genuine.clone()).await, 200);
    assert_eq!(send(genuine).await, 200);
    assert_eq!(shop.effects.lock().unwrap().len(), 1);

    // Without confirmation (knowingly), the card is still matched to the recorded one.
    let shop = Arc::new(Shop::default());
    let router = Receiver::new(ledger.clone(), shop.clone())
        .card_charging_trusting_unsigned_status(SecretString::from(SANDBOX_PARTNER_KEY))
        .router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    let (status, text, _) = post(
        &base,
        "/card-charging/callback",
        "application/json",
        callback(&victim, 1, "35000", fcode, fserial, "x"),
    )
    .await;
    assert_eq!(status, 401, "{text}");
    assert!(text.contains("not the card recorded"), "{text}");
    assert!(shop.effects.lock().unwrap().is_empty());
}
