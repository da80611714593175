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

mod common;
use common::vnd;

use common::receiving::*;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use paybridge_core::http::HttpTransport;
use paybridge_core::soap::SoapVersion;
use paybridge_core::{Currency, PaymentStatus};
use paybridge_ledger::NewPayment;
use paybridge_ledger::receive::Receiver;
use secrecy::SecretString;
use tokio::sync::Notify;

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
                vnd(50_000),
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
        expect_payment(&ledger, "card-charging", "order-3", "50000", Currency::VND).await;
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
        // Wait until the handler is running (the change is claimed), then deliver again.
        for _ in 0..200 {
            if shop.entered.load(Ordering::SeqCst) == 1 {
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
        expect_payment(&ledger, "payoo", "P-1", "150000", Currency::VND).await;
        expect_payment(&ledger, "linkifier-ipn", "TX-1001", "19.99", Currency::USD).await;
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
        expect_payment(&ledger, "qvickly", "Q-T", "100", Currency::SEK).await;
        let shop = Arc::new(Shop::default());
        let verifier = paybridge_qvickly::CallbackVerifier::new(
            Some("m1".into()),
            &SecretString::from(SECRET),
        )
        .unwrap();
        let router = Receiver::new(ledger.clone(), shop.clone())
            .mount(paybridge_qvickly::route::Route::new(verifier).accept_test(accept))
            .router();
        let base = served(router).await;
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
        expect_payment(&ledger, "payoo", "PJ-1", "150000", Currency::VND).await;
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
    use paybridge_card_charging::sandbox::SANDBOX_PARTNER_KEY;
    use paybridge_card_charging::{Card, RequestId, Telco};
    let client = card_gateway(Arc::default()).await;
    let ledger = ledgers().await.remove(0);
    let fifty = vnd(50_000);
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
        .mount(paybridge_card_charging::route::Route::confirmed(
            client.clone(),
        ))
        .router();
    let base = served(router).await;
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
        .mount(
            paybridge_card_charging::route::Route::trusting_unsigned_status(SecretString::from(
                SANDBOX_PARTNER_KEY,
            )),
        )
        .router();
    let base = served(router).await;
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

fn linkifier_ipn(record: &paybridge_linkifier_ipn::IpnRecord) -> String {
    let frag = paybridge_core::soap::to_fragment(&paybridge_linkifier_ipn::signed_request(
        record,
        paybridge_linkifier_ipn::sandbox::SANDBOX_KEY,
        &paybridge_linkifier_ipn::CanonicalHmac,
    ))
    .unwrap();
    paybridge_core::soap::wrap(
        &paybridge_core::soap::EnvelopeStyle::new(SoapVersion::V11),
        None,
        &frag,
    )
}

#[tokio::test]
async fn variants_of_one_state_change_it_once_and_a_purge_never_makes_a_replay_new() {
    for ledger in ledgers().await {
        let shop = Arc::new(Shop::default());
        let base = serve(ledger.clone(), shop.clone()).await;
        expect_payment(&ledger, "linkifier-ipn", "TX-1001", "19.99", Currency::USD).await;
        // Two callbacks with different natural keys, both saying "paid".
        let mut accepted = paybridge_linkifier_ipn::sandbox::sample_record();
        accepted.fraud_status = Some("accepted".into());
        let mut pass = accepted.clone();
        pass.fraud_status = Some("pass".into());
        for ipn in [&accepted, &pass, &accepted] {
            let (status, _, _) = post(
                &base,
                "/linkifier/ipn",
                "text/xml; charset=utf-8",
                linkifier_ipn(ipn),
            )
            .await;
            assert_eq!(status, 200);
        }
        assert_eq!(
            shop.changes.lock().unwrap().len(),
            1,
            "one state, one change"
        );
        // The delivery records go; the payment's state stays: a replay is old news.
        assert_eq!(
            ledger.purge(|_| std::time::Duration::ZERO).await.unwrap(),
            2
        );
        let (status, _, _) = post(
            &base,
            "/linkifier/ipn",
            "text/xml; charset=utf-8",
            linkifier_ipn(&accepted),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(
            shop.changes.lock().unwrap().len(),
            1,
            "nothing new after a purge"
        );
    }
}

#[tokio::test]
async fn money_is_checked_before_it_is_believed_and_unknown_payments_are_not_payments() {
    use paybridge_ledger::Anomaly;
    for ledger in ledgers().await {
        let shop = Arc::new(Shop::default());
        let base = serve(ledger.clone(), shop.clone()).await;
        // A status-2 card: 25 000 real value on a 50 000 order.
        expect_payment(&ledger, "card-charging", "under-1", "50000", Currency::VND).await;
        let under =
            card_callback("under-1", 2, KEY).replace(r#""value":50000"#, r#""value":25000"#);
        // A card worth more than the order.
        expect_payment(&ledger, "card-charging", "over-1", "20000", Currency::VND).await;
        let over = card_callback("over-1", 1, KEY);
        // A Linkifier sale in another currency than recorded.
        expect_payment(&ledger, "linkifier-ipn", "TX-1001", "19.99", Currency::EUR).await;
        let ipn = linkifier_ipn(&paybridge_linkifier_ipn::sandbox::sample_record());
        for (path, mime, body) in [
            ("/card-charging/callback", "application/json", under),
            ("/card-charging/callback", "application/json", over),
            ("/linkifier/ipn", "text/xml; charset=utf-8", ipn),
        ] {
            assert_eq!(post(&base, path, mime, body).await.0, 200);
        }
        let changes = shop.changes.lock().unwrap().clone();
        assert_eq!(
            changes,
            [
                (
                    "under-1".to_owned(),
                    PaymentStatus::NeedsReview,
                    Some(Anomaly::Underpaid)
                ),
                (
                    "over-1".to_owned(),
                    PaymentStatus::NeedsReview,
                    Some(Anomaly::Overpaid)
                ),
                (
                    "TX-1001".to_owned(),
                    PaymentStatus::NeedsReview,
                    Some(Anomaly::CurrencyMismatch)
                ),
            ]
        );
        let row = ledger
            .payment("card-charging", "under-1")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.payment.status, PaymentStatus::NeedsReview);
        assert_eq!(row.anomaly, Some(Anomaly::Underpaid));
        assert_eq!(row.paid_amount.unwrap().amount_string(), "25000");
        // A genuine callback for a reference the ledger never recorded: acknowledged,
        // recorded as unknown_payment, not handed out.
        let (status, _, _) = post(
            &base,
            "/card-charging/callback",
            "application/json",
            card_callback("never-recorded", 1, KEY),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(shop.changes.lock().unwrap().len(), 3);
        let record = ledger
            .callback("card-charging", "card-charging:never-recorded:1")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(record.anomaly, Some(Anomaly::UnknownPayment));
        assert!(
            ledger
                .payment("card-charging", "never-recorded")
                .await
                .unwrap()
                .is_none()
        );
    }
}

/// The card sandbox as a gateway, counting the `check` requests it is sent, and a client of it
/// with the sandbox partner.
async fn card_gateway(checks: Arc<AtomicUsize>) -> paybridge_card_charging::Client {
    use paybridge_card_charging::sandbox::{
        ENDPOINT_PATH, SANDBOX_PARTNER_ID, SANDBOX_PARTNER_KEY, Simulator,
    };
    let router = Simulator::new()
        .unwrap()
        .router()
        .layer(axum::middleware::from_fn(
            move |req: axum::extract::Request, next: axum::middleware::Next| {
                let checks = checks.clone();
                async move {
                    let (parts, body) = req.into_parts();
                    let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap();
                    if form_urlencoded::parse(&bytes).any(|(k, v)| k == "command" && v == "check") {
                        checks.fetch_add(1, Ordering::SeqCst);
                    }
                    next.run(axum::extract::Request::from_parts(parts, bytes.into()))
                        .await
                }
            },
        ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let gateway = format!("http://{}{ENDPOINT_PATH}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    paybridge_card_charging::Client::new(
        paybridge_card_charging::Config::new(
            &gateway,
            SANDBOX_PARTNER_ID,
            SecretString::from(SANDBOX_PARTNER_KEY),
        ),
        HttpTransport::with_defaults().unwrap(),
    )
    .unwrap()
}

/// Duplicates are cheap: a genuine card callback delivered again and again is confirmed with the
/// gateway once — every later delivery saying the same is answered from the ledger (counted,
/// acknowledged, credited nothing) without a `check`; a variant saying another amount is
/// confirmed like a new callback, and refused.
#[tokio::test]
#[allow(
    clippy::too_many_lines,
    reason = "one story per backend: a charge, 50 deliveries, a variant"
)]
async fn a_duplicate_callback_is_answered_from_the_ledger_without_asking_the_gateway() {
    use paybridge_card_charging::sandbox::SANDBOX_PARTNER_KEY;
    use paybridge_card_charging::{Card, RequestId, Telco};
    let checks = Arc::new(AtomicUsize::new(0));
    let client = card_gateway(checks.clone()).await;
    for ledger in ledgers().await {
        checks.store(0, Ordering::SeqCst);
        let rid = format!("dup-{}", paybridge_ledger::now_ms());
        let fifty = vnd(50_000);
        let (code, serial) = ("312821445892981", "10004783347874");
        ledger
            .record_payment(
                &NewPayment::new("card-charging", &rid, PaymentStatus::Pending, fifty)
                    .instrument(serial),
            )
            .await
            .unwrap();
        let paid = client
            .charge(
                &Card::new(Telco::Viettel, code, serial).unwrap(),
                fifty,
                &RequestId::new(&rid).unwrap(),
            )
            .await
            .unwrap();
        let sign = paybridge_card_charging::callback_sign(SANDBOX_PARTNER_KEY, code, serial);
        let callback = |amount: &str| {
            format!(
                r#"{{"status":1,"message":"ok","request_id":"{rid}","trans_id":"{}","declared_value":50000,"value":{},"amount":{amount},"code":"{code}","serial":"{serial}","telco":"VIETTEL","callback_sign":"{sign}"}}"#,
                paid.trans_id.clone().unwrap(),
                paid.value.unwrap().amount_string(),
            )
        };
        let genuine = callback(&paid.amount.unwrap().amount_string());
        let shop = Arc::new(Shop::default());
        let router = Receiver::new(ledger.clone(), shop.clone())
            .mount(paybridge_card_charging::route::Route::confirmed(
                client.clone(),
            ))
            .router();
        let base = served(router).await;
        for _ in 0..50 {
            let (status, _, _) = post(
                &base,
                "/card-charging/callback",
                "application/json",
                genuine.clone(),
            )
            .await;
            assert_eq!(status, 200);
        }
        assert_eq!(
            checks.load(Ordering::SeqCst),
            1,
            "one check for 50 deliveries"
        );
        let record = ledger
            .callback("card-charging", &format!("card-charging:{rid}:1"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(record.deliveries, 50);
        assert_eq!(shop.effects.lock().unwrap().len(), 1, "credited once");
        // A value-changed variant is not the same callback: confirmed, and refused.
        let variant = callback(&paid.amount.unwrap().amount_string()).replace(
            &format!(r#""value":{}"#, paid.value.unwrap().amount_string()),
            r#""value":500000"#,
        );
        let (status, _, _) = post(
            &base,
            "/card-charging/callback",
            "application/json",
            variant,
        )
        .await;
        assert_eq!(status, 401);
        assert_eq!(checks.load(Ordering::SeqCst), 2);
        // Confirmations per payment are bounded: ten a minute; past them, "retry later"
        // without asking the gateway.
        let mut statuses = Vec::new();
        for value in 1..=12 {
            let variant = callback(&paid.amount.unwrap().amount_string()).replace(
                &format!(r#""value":{}"#, paid.value.unwrap().amount_string()),
                &format!(r#""value":{value}000"#),
            );
            statuses.push(
                post(
                    &base,
                    "/card-charging/callback",
                    "application/json",
                    variant,
                )
                .await
                .0,
            );
        }
        assert_eq!(checks.load(Ordering::SeqCst), 10, "{statuses:?}");
        assert_eq!(
            statuses.iter().filter(|s| **s == 503).count(),
            4,
            "{statuses:?}"
        );
    }
}
