//! The example shop end to end against the sandbox's card gateway and Wooppay: each order is
//! credited once, however often its callback comes.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a panic is a failed test"
)]

use std::sync::Arc;
use std::time::Duration;

use paybridge_card_charging::sandbox::{SANDBOX_PARTNER_ID, SANDBOX_PARTNER_KEY};
use paybridge_core::http::{HttpRequest, HttpTransport};
use paybridge_example_shop::{Config, Shop, app};
use secrecy::SecretString;
use serde_json::Value;

async fn listen() -> (tokio::net::TcpListener, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    (listener, base)
}

async fn post(url: &str, body: String) -> (u16, Value) {
    let t = HttpTransport::with_defaults().unwrap();
    let r = t
        .send(HttpRequest::post(url, body).header(http::header::CONTENT_TYPE, "application/json"))
        .await
        .unwrap();
    (
        r.status,
        serde_json::from_slice(&r.body).unwrap_or(Value::Null),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(
    clippy::too_many_lines,
    reason = "one shop's day, told in order: genuine callbacks, forgeries, an invoice"
)]
async fn each_order_is_credited_once() {
    // The providers: the sandbox's card gateway and Wooppay on one server.
    let card_sim = paybridge_card_charging::sandbox::Simulator::new().unwrap();
    let woopay_sim = paybridge_woopay::sandbox::Simulator::new().unwrap();
    let (listener, providers) = listen().await;
    let router = card_sim.router().merge(woopay_sim.router());
    tokio::spawn(async move { axum::serve(listener, router).await });

    // The shop, over a ledger in a temporary file.
    let dir = std::env::temp_dir().join(format!("paybridge-shop-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ledger_url = format!("sqlite://{}", dir.join("shop.db").display());
    let ledger = Arc::new(paybridge_ledger::Ledger::open(&ledger_url).await.unwrap());
    let transport = HttpTransport::with_defaults().unwrap();
    let config = Config {
        card: paybridge_card_charging::Client::new(
            paybridge_card_charging::Config::new(
                format!(
                    "{providers}{}",
                    paybridge_card_charging::sandbox::ENDPOINT_PATH
                ),
                SANDBOX_PARTNER_ID,
                SecretString::from(SANDBOX_PARTNER_KEY),
            ),
            transport.clone(),
        )
        .unwrap(),
        woopay: paybridge_woopay::Client::new(
            paybridge_woopay::Config::new(
                format!("{providers}{}", paybridge_woopay::sandbox::ENDPOINT_PATH),
                paybridge_woopay::sandbox::SANDBOX_USERNAME,
                SecretString::from(paybridge_woopay::sandbox::SANDBOX_PASSWORD),
            ),
            transport,
        )
        .unwrap(),
        public_url: String::new(),
    };
    let (listener, shop_url) = listen().await;
    let config = Config {
        public_url: shop_url.clone(),
        ..config
    };
    let shop = Shop::open(&ledger_url).await.unwrap();
    let router = app(config, ledger.clone(), shop.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    card_sim.set_callback_url(Some(format!("{shop_url}/receive/card-charging/callback")));

    // A card: pending, then the gateway's callback credits the order.
    let order = format!("card-{}", std::process::id());
    let (status, v) = post(
        &format!("{shop_url}/orders/card"),
        format!(
            r#"{{"order_id":"{order}","telco":"VIETTEL","code":"312821445892989","serial":"10004783347874","amount":"50000"}}"#
        ),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["status"], "pending");
    let credited = |provider: &'static str, order: String| {
        let shop = shop.clone();
        async move { shop.credited(provider, &order).await.unwrap() }
    };
    for _ in 0..100 {
        if credited("card-charging", order.clone()).await.len() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Credited once, with what the card was worth.
    let paid: Vec<String> = credited("card-charging", order.clone())
        .await
        .iter()
        .map(paybridge_core::Money::amount_string)
        .collect();
    assert_eq!(paid, ["50000"]);
    // The gateway delivers it again: acknowledged, not credited again.
    let checker = paybridge_card_charging::Client::new(
        paybridge_card_charging::Config::new(
            format!(
                "{providers}{}",
                paybridge_card_charging::sandbox::ENDPOINT_PATH
            ),
            SANDBOX_PARTNER_ID,
            SecretString::from(SANDBOX_PARTNER_KEY),
        ),
        HttpTransport::with_defaults().unwrap(),
    )
    .unwrap();
    let good_card = paybridge_card_charging::Card::new(
        paybridge_card_charging::Telco::Viettel,
        "312821445892989",
        "10004783347874",
    )
    .unwrap();
    let fifty = paybridge_core::Money::parse("50000", paybridge_core::Currency::VND).unwrap();
    let trans_id = checker
        .check(
            &good_card,
            fifty,
            &paybridge_card_charging::RequestId::new(&order).unwrap(),
        )
        .await
        .unwrap()
        .trans_id
        .unwrap();
    let callback = |order: &str, status: u8, amount: u64, code: &str, serial: &str, trans: &str| {
        let sign = paybridge_card_charging::callback_sign(SANDBOX_PARTNER_KEY, code, serial);
        format!(
            r#"{{"status":{status},"message":"ok","request_id":"{order}","trans_id":"{trans}","declared_value":50000,"value":50000,"amount":{amount},"code":"{code}","serial":"{serial}","telco":"VIETTEL","callback_sign":"{sign}"}}"#
        )
    };
    let receive = format!("{shop_url}/receive/card-charging/callback");
    let again = callback(
        &order,
        1,
        35000,
        "312821445892989",
        "10004783347874",
        &trans_id,
    );
    let (status, _) = post(&receive, again).await;
    assert_eq!(status, 200);
    assert_eq!(credited("card-charging", order.clone()).await.len(), 1);

    // Forgeries with a genuine callback_sign (it covers only code and serial), each refused
    // by the shop because the gateway's `check` or the ledger disagrees:
    // the amount raised,
    let raised = callback(
        &order,
        1,
        350_000,
        "312821445892989",
        "10004783347874",
        &trans_id,
    );
    // Its key (request id, status) was decided before, with the same card value: it is
    // answered from the ledger without asking the gateway again — acknowledged, nothing
    // recorded from it, nothing credited twice.
    assert_eq!(post(&receive, raised).await.0, 200);
    assert_eq!(credited("card-charging", order.clone()).await.len(), 1);
    // a failed card's status flipped to success,
    let failed = format!("fail-{}", std::process::id());
    let (status, v) = post(
        &format!("{shop_url}/orders/card"),
        format!(
            r#"{{"order_id":"{failed}","telco":"VIETTEL","code":"512821445892983","serial":"20004783347874","amount":"50000"}}"#
        ),
    )
    .await;
    assert_eq!((status, v["status"].as_str()), (200, Some("failed")), "{v}");
    let flipped = callback(&failed, 1, 35000, "512821445892983", "20004783347874", "x");
    assert_eq!(post(&receive, flipped).await.0, 401);
    assert!(credited("card-charging", failed.clone()).await.is_empty());
    // and that failed card's callback re-addressed to another customer's pending order.
    let victim = format!("victim-{}", std::process::id());
    let (status, _) = post(
        &format!("{shop_url}/orders/card"),
        format!(
            r#"{{"order_id":"{victim}","telco":"VIETTEL","code":"612821445892988","serial":"30004783347874","amount":"50000"}}"#
        ),
    )
    .await;
    assert_eq!(status, 200);
    let swapped = callback(&victim, 1, 35000, "512821445892983", "20004783347874", "x");
    assert_eq!(post(&receive, swapped).await.0, 401);
    assert!(credited("card-charging", victim.clone()).await.is_empty());

    // A Wooppay invoice: paid on Wooppay's page, whose requestUrl call credits the order;
    // a second call (Wooppay repeats until it reads {"data":1}) credits nothing more.
    let invoice_order = format!("inv-{}", std::process::id());
    let (status, v) = post(
        &format!("{shop_url}/orders/woopay"),
        format!(r#"{{"order_id":"{invoice_order}","amount":"100.50"}}"#),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    let id = v["operation_id"].as_i64().unwrap();
    assert_eq!(
        woopay_sim.pay(id).await.unwrap(),
        1,
        "the first requestUrl call was acknowledged"
    );
    assert_eq!(credited("woopay", invoice_order.clone()).await.len(), 1);
    woopay_sim.pay(id).await.unwrap();
    assert_eq!(credited("woopay", invoice_order.clone()).await.len(), 1);
    let row = ledger.payment("woopay", &invoice_order).await.unwrap();
    let status = row.map(|r| r.payment.status);
    assert_eq!(status, Some(paybridge_core::PaymentStatus::Succeeded));

    // One id, two providers: a cheap card charged under "w-big" credits the card order, never
    // an unpaid Wooppay order with the same id.
    let big = format!("w-big-{}", std::process::id());
    let (status, _) = post(
        &format!("{shop_url}/orders/woopay"),
        format!(r#"{{"order_id":"{big}","amount":"250000"}}"#),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = post(
        &format!("{shop_url}/orders/card"),
        format!(
            r#"{{"order_id":"{big}","telco":"VIETTEL","code":"712821445892981","serial":"40004783347874","amount":"10000"}}"#
        ),
    )
    .await;
    assert_eq!(status, 200);
    // A status-1 card is decided at once (no callback); its gateway-confirmed callback:
    let trans = checker
        .check(
            &paybridge_card_charging::Card::new(
                paybridge_card_charging::Telco::Viettel,
                "712821445892981",
                "40004783347874",
            )
            .unwrap(),
            paybridge_core::Money::parse("10000", paybridge_core::Currency::VND).unwrap(),
            &paybridge_card_charging::RequestId::new(&big).unwrap(),
        )
        .await
        .unwrap();
    let small = callback(
        &big,
        1,
        7000,
        "712821445892981",
        "40004783347874",
        &trans.trans_id.unwrap(),
    )
    .replace(
        r#""declared_value":50000,"value":50000"#,
        r#""declared_value":10000,"value":10000"#,
    );
    assert_eq!(post(&receive, small).await.0, 200);
    assert_eq!(credited("card-charging", big.clone()).await.len(), 1);
    assert!(credited("woopay", big.clone()).await.is_empty());
    // The same order id again for the same provider: refused, never a second invoice.
    let (status, v) = post(
        &format!("{shop_url}/orders/woopay"),
        format!(r#"{{"order_id":"{big}","amount":"250000"}}"#),
    )
    .await;
    assert_eq!(status, 409, "{v}");
    let _ = std::fs::remove_dir_all(dir);
}
