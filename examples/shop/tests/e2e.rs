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
    let ledger = Arc::new(
        paybridge_ledger::Ledger::open(&format!("sqlite://{}", dir.join("shop.db").display()))
            .await
            .unwrap(),
    );
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
        card_partner_key: SecretString::from(SANDBOX_PARTNER_KEY),
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
    let shop = Arc::new(Shop::default());
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
    for _ in 0..100 {
        if shop.credited(&order) == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(shop.credited(&order), 1);
    // The gateway delivers it again: acknowledged, not credited again.
    let sign = paybridge_card_charging::callback_sign(
        SANDBOX_PARTNER_KEY,
        "312821445892989",
        "10004783347874",
    );
    let again = format!(
        r#"{{"status":1,"message":"ok","request_id":"{order}","declared_value":50000,"value":50000,"amount":35000,"code":"312821445892989","serial":"10004783347874","telco":"VIETTEL","callback_sign":"{sign}"}}"#
    );
    let (status, _) = post(&format!("{shop_url}/receive/card-charging/callback"), again).await;
    assert_eq!(status, 200);
    assert_eq!(shop.credited(&order), 1);

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
    assert_eq!(shop.credited(&invoice_order), 1);
    woopay_sim.pay(id).await.unwrap();
    assert_eq!(shop.credited(&invoice_order), 1);
    let row = ledger.payment("woopay", &invoice_order).await.unwrap();
    let status = row.map(|r| r.payment.status);
    assert_eq!(status, Some(paybridge_core::PaymentStatus::Succeeded));
    let _ = std::fs::remove_dir_all(dir);
}
