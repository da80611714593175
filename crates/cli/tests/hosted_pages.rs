//! Every hosted page a payer sees, in a real browser (headless Chromium over WebDriver):
//! the amount shown, each button clicked, the payment's state afterwards asked of the
//! simulator through the CLI, and the browser sent back to the shop the provider's way with
//! parameters the shop can verify (Payoo's return checksum through `payoo verify-return`,
//! Qvickly's signed `credentials`+`data` through `qvickly verify-callback`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

mod common;

use std::time::Duration;

use common::browser::Browser;
use common::{run, sandbox, unique};
use paybridge_core::sandbox::CallbackReceiver;
use serde_json::{Value, json};

/// The shop's return page: answers every browser with a page of its own.
async fn shop() -> CallbackReceiver {
    CallbackReceiver::start(
        "/shop/return",
        (
            [(http::header::CONTENT_TYPE, "text/html")],
            "<html><body><h1 id=\"shop\">Back at the shop</h1></body></html>",
        ),
    )
    .await
    .unwrap()
}

/// A CLI run off the async workers (it blocks).
async fn cli(args: Vec<String>, env: Vec<(&'static str, String)>) -> (i32, Value) {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (out, v) = run(&args, &env);
        (out.status.code().unwrap_or(-1), v)
    })
    .await
    .unwrap()
}

/// `paybridge --json <command> --body FILE` over `body` written to a file of its own.
async fn verify_file(
    command: &[&str],
    body: &[u8],
    env: Vec<(&'static str, String)>,
) -> (i32, Value) {
    let dir = std::env::temp_dir().join(unique("hosted-page-body"));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("body");
    std::fs::write(&file, body).unwrap();
    let mut args = vec!["--json".to_owned()];
    args.extend(command.iter().map(|c| (*c).to_owned()));
    args.extend(["--body".to_owned(), file.display().to_string()]);
    let answer = cli(args, env).await;
    let _ = std::fs::remove_dir_all(dir);
    answer
}

/// A Qvickly return to the shop (the GET query, or the posted form: `credentials` and `data`
/// as JSON texts) through `qvickly verify-callback`.
async fn verified_return(received: &[u8], env: Vec<(&'static str, String)>) -> (i32, Value) {
    let fields: std::collections::HashMap<String, String> =
        form_urlencoded::parse(received).into_owned().collect();
    let callback = format!(
        r#"{{"credentials":{},"data":{}}}"#,
        fields["credentials"], fields["data"]
    );
    verify_file(&["qvickly", "verify-callback"], callback.as_bytes(), env).await
}

/// The Qvickly commands' environment: the sandbox merchant and the sandbox's Payment API.
fn qvickly_env(endpoints: &Value) -> Vec<(&'static str, String)> {
    vec![
        ("PAYBRIDGE_QVICKLY_ID", "sandbox-merchant".to_owned()),
        (
            "PAYBRIDGE_QVICKLY_SECRET",
            common::QVICKLY_SECRET.to_owned(),
        ),
        ("PAYBRIDGE_QVICKLY_ENDPOINT", common::qvickly_api(endpoints)),
    ]
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_hosted_page_in_a_real_browser() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let sb = tokio::task::spawn_blocking(sandbox).await.unwrap();
    let endpoints = sb.endpoints.clone();
    wooppay(&browser, &endpoints).await;
    payoo(&browser, &endpoints).await;
    qvickly(&browser, &endpoints).await;
    qvickly_checkout(&browser, &endpoints).await;
    browser.close().await;
    drop(sb);
}

/// Wooppay: the invoice's page, each button, then `backUrl`; the operation's status and sum
/// as `cash_getOperationData` reports them.
async fn wooppay(browser: &Browser, endpoints: &Value) {
    let endpoint = endpoints["woopay"].as_str().unwrap().to_owned();
    let env = vec![
        ("PAYBRIDGE_WOOPAY_USERNAME", "test_merch".to_owned()),
        (
            "PAYBRIDGE_WOOPAY_PASSWORD",
            common::WOOPAY_PASSWORD.to_owned(),
        ),
    ];
    let mut shop = shop().await;
    let merchant = CallbackReceiver::start("/woopay/request-url", r#"{"data":1}"#)
        .await
        .unwrap();
    for (button, status, sum) in [
        ("pay", 4, "1500.00"),
        ("wrong-amount", 4, "1499.00"),
        ("decline", 3, "1500.00"),
        ("pending", 1, "1500.00"),
    ] {
        let reference = unique("wp-page");
        let back = format!("{}?order={reference}", shop.url());
        let (code, v) = cli(
            strings(&[
                "--json",
                "woopay",
                "create-invoice",
                "--endpoint",
                &endpoint,
                "--reference-id",
                &reference,
                "--amount",
                "1500",
                "--description",
                "Two tickets, row 7",
                "--back-url",
                &back,
                "--request-url",
                merchant.url(),
            ]),
            env.clone(),
        )
        .await;
        assert_eq!(code, 0, "{v}");
        let url = v["operation_url"].as_str().unwrap();
        assert_eq!(browser.open(url, "amount").await, "1500 KZT");
        assert_eq!(browser.text("order").await, reference);
        assert_eq!(browser.text("merchant").await, "test_merch");
        assert_eq!(browser.text("description").await, "Two tickets, row 7");
        if button == "pay" {
            browser.screenshot("wooppay").await;
        }
        let landed = browser.click_until(button, shop.url()).await;
        assert_eq!(landed, back, "{button}");
        assert_eq!(browser.text("shop").await, "Back at the shop");
        let query = shop.next(Duration::from_secs(5)).await.unwrap();
        assert_eq!(query, format!("order={reference}").as_bytes());
        let id = v["operation_id"].as_i64().unwrap().to_string();
        let (code, op) = cli(
            strings(&[
                "--json",
                "woopay",
                "operation-data",
                "--endpoint",
                &endpoint,
                "--operation-id",
                &id,
            ]),
            env.clone(),
        )
        .await;
        assert_eq!(code, 0, "{op}");
        let record = &op["operations"][0];
        assert_eq!(
            (&record["provider_status"], &record["sum"]),
            (&json!(status), &json!(sum)),
            "{button}: {op}"
        );
        // Chosen, the invoice is closed (its page says so); left pending, it can still be paid.
        if button == "pending" {
            assert_eq!(browser.open(url, "amount").await, "1500 KZT");
        } else {
            assert!(
                browser
                    .open(url, "message")
                    .await
                    .contains("no longer open")
            );
        }
    }
}

/// Payoo: the checkout order's page, each button, then `shop_back_url` with the return
/// parameters `payoo verify-return` accepts; paid orders notify the shop with what was paid.
async fn payoo(browser: &Browser, endpoints: &Value) {
    use paybridge_payoo::sandbox as sb;
    let soap = endpoints["payoo"].as_str().unwrap();
    let base = soap.trim_end_matches("/CallerServices.asmx");
    let checkout_url = format!("{base}/v2/paynow/order/create");
    let env: Vec<_> = [
        ("PAYBRIDGE_PAYOO_USERNAME", sb::SANDBOX_USERNAME),
        ("PAYBRIDGE_PAYOO_PASSWORD", sb::SANDBOX_PASSWORD),
        ("PAYBRIDGE_PAYOO_SIGNATURE", sb::SANDBOX_SIGNATURE),
        ("PAYBRIDGE_PAYOO_CHECKSUM_KEY", sb::SANDBOX_CHECKSUM_KEY),
    ]
    .map(|(k, v)| (k, v.to_owned()))
    .to_vec();
    let mut shop = shop().await;
    let mut notify = CallbackReceiver::start("/payoo/notify", "NOTIFY_RECEIVED")
        .await
        .unwrap();
    let description = "Thanh toán đơn hàng tại Shop Demo — 2 x áo thun, giao trong ngày";
    for (button, status, paid) in [
        ("pay", "succeeded", Some("300000")),
        ("wrong-amount", "succeeded", Some("299000")),
        ("decline", "failed", None),
        ("pending", "cancelled", None),
    ] {
        let order = unique("PY-PAGE");
        let (code, v) = cli(
            strings(&[
                "--json",
                "payoo",
                "checkout",
                "--endpoint",
                &checkout_url,
                "--order-no",
                &order,
                "--amount",
                "300000",
                "--description",
                description,
                "--shop-id",
                "11495",
                "--business-username",
                "SB_Shop",
                "--shop-title",
                "Shop Demo",
                "--shop-domain",
                "https://shop.example",
                "--refer",
                "https://shop.example",
                "--back-url",
                shop.url(),
                "--notify-url",
                notify.url(),
            ]),
            env.clone(),
        )
        .await;
        assert_eq!(code, 0, "{v}");
        let url = v["payment_url"].as_str().unwrap();
        assert_eq!(browser.open(url, "amount").await, "300000 VND");
        assert_eq!(browser.text("merchant").await, "Shop Demo");
        assert_eq!(browser.text("order").await, order);
        assert_eq!(browser.text("description").await, description);
        if button == "pay" {
            browser.screenshot("payoo").await;
        }
        let landed = browser.click_until(button, shop.url()).await;
        let query = landed.split_once('?').unwrap().1.to_owned();
        let received = shop.next(Duration::from_secs(5)).await.unwrap();
        assert_eq!(received, query.as_bytes());
        let (code, r) = cli(
            strings(&["--json", "payoo", "verify-return", "--query", &query]),
            env.clone(),
        )
        .await;
        // A verified return exits as its status does (Conventions: failed, cancelled → 1).
        assert_eq!(code, i32::from(paid.is_none()), "{r}");
        assert_eq!(
            (&r["order_no"], &r["status"]),
            (&json!(order), &json!(status)),
            "{button}"
        );
        let notified = notify.next(Duration::from_secs(3)).await;
        match paid {
            Some(amount) => {
                let body = notified.expect("a paid order notifies");
                let (code, n) = verify_file(&["payoo", "verify-notify"], &body, env.clone()).await;
                assert_eq!(code, 0, "{n}");
                assert_eq!(
                    (&n["order_no"], &n["amount"]),
                    (&json!(order), &json!(amount)),
                    "{button}: {n}"
                );
            }
            None => assert!(
                notified.is_none(),
                "{button}: nothing paid, nothing notified"
            ),
        }
    }
}

/// Qvickly: a card payment's page, each button, then `accepturl`/`cancelurl` with the signed
/// `credentials` and `data` — by GET or by POST per `returnmethod` — which verify as a
/// callback does; the callback itself reaches `callbackurl`.
async fn qvickly(browser: &Browser, endpoints: &Value) {
    let env = qvickly_env(endpoints);
    let mut shop = shop().await;
    let mut callbacks = CallbackReceiver::start("/qvickly/callback", "OK")
        .await
        .unwrap();
    let dir = std::env::temp_dir().join(unique("qvickly-page"));
    std::fs::create_dir_all(&dir).unwrap();
    for (button, method, status) in [
        ("pay", "GET", "Paid"),
        ("decline", "POST", "Cancelled"),
        ("pending", "POST", "Pending"),
        ("pay", "POST", "Paid"),
    ] {
        let orderid = unique("QV-PAGE");
        let data = json!({
            "PaymentData": {"method": "8", "currency": "SEK", "language": "sv", "country": "SE",
                            "orderid": orderid, "autoactivate": "1",
                            "accepturl": format!("{}?accepted=1", shop.url()),
                            "cancelurl": format!("{}?cancelled=1", shop.url()),
                            "callbackurl": callbacks.url(), "returnmethod": method},
            "Customer": {"Billing": {"firstname": "Åsa", "lastname": "Öberg", "email": "asa@example.se"}},
            "Articles": [
                {"artnr": "A-1", "title": "Tröja", "quantity": "2", "aprice": "10000", "taxrate": "25", "discount": "0", "withouttax": "20000"},
                {"artnr": "A-2", "title": "Mössa", "quantity": "1", "aprice": "5000", "taxrate": "25", "discount": "0", "withouttax": "5000"}
            ],
            "Cart": {"Total": {"withouttax": "25000", "tax": "6250", "rounding": "0", "withtax": "31250"}}
        });
        let body = dir.join(format!("{orderid}.json"));
        std::fs::write(&body, data.to_string()).unwrap();
        let (code, v) = cli(
            strings(&[
                "--json",
                "qvickly",
                "add-payment",
                "--body",
                &body.display().to_string(),
            ]),
            env.clone(),
        )
        .await;
        assert_eq!(code, 0, "{v}");
        let url = v["url"].as_str().unwrap();
        assert_eq!(browser.open(url, "amount").await, "312.50 SEK");
        assert_eq!(browser.text("order").await, orderid);
        assert_eq!(browser.text("description").await, "Tröja, Mössa");
        assert!(
            browser
                .client
                .find(fantoccini::Locator::Id("wrong-amount"))
                .await
                .is_err(),
            "Qvickly's reports carry no amount paid: no wrong-amount button"
        );
        if button == "pay" && method == "GET" {
            browser.screenshot("qvickly").await;
        }
        let landed = browser.click_until(button, shop.url()).await;
        let expect = if button == "decline" {
            "cancelled=1"
        } else {
            "accepted=1"
        };
        assert!(landed.contains(expect), "{button}: {landed}");
        let received = shop.next(Duration::from_secs(5)).await.unwrap();
        let (code, r) = verified_return(&received, env.clone()).await;
        assert!(matches!(code, 0 | 1), "{r}");
        assert_eq!(
            (&r["order_id"], &r["provider_status"]),
            (&json!(orderid), &json!(status)),
            "{button} by {method}: {r}"
        );
        let posted = callbacks
            .next(Duration::from_secs(3))
            .await
            .expect("the callback arrives");
        assert!(String::from_utf8_lossy(&posted).contains(&orderid));
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// Qvickly Checkout: the checkout's page (`init-checkout`'s `url`), Pay, then `accepturl` with
/// the signed callback of a payment whose number is not the checkout's.
async fn qvickly_checkout(browser: &Browser, endpoints: &Value) {
    let env = qvickly_env(endpoints);
    let mut shop = shop().await;
    for (button, status) in [
        ("pay", Some("Paid")),
        ("pending", Some("Pending")),
        ("decline", None),
    ] {
        let orderid = unique("BOOKING");
        let data = json!({
            "CheckoutData": {"terms": "https://shop.example/terms"},
            "PaymentData": {"currency": "SEK", "language": "sv", "country": "SE", "orderid": orderid,
                            "autoactivate": "1", "accepturl": format!("{}?accepted=1", shop.url()),
                            "cancelurl": format!("{}?cancelled=1", shop.url()), "returnmethod": "POST"},
            "Articles": [{"artnr": "M-60", "title": "Massage 60 min", "quantity": "1", "aprice": "60000",
                          "taxrate": "25", "discount": "0", "withouttax": "60000"}],
            "Cart": {"Total": {"withouttax": "60000", "tax": "15000", "rounding": "0", "withtax": "75000"}}
        });
        let (code, v) = verify_file(
            &["qvickly", "init-checkout"],
            data.to_string().as_bytes(),
            env.clone(),
        )
        .await;
        assert_eq!(code, 0, "{v}");
        let checkout_number = v["number"].as_str().unwrap().to_owned();
        let url = v["url"].as_str().unwrap().to_owned();
        assert_eq!(browser.open(&url, "amount").await, "750.00 SEK");
        assert_eq!(browser.text("order").await, orderid);
        assert_eq!(browser.text("description").await, "Massage 60 min");
        if button == "pay" {
            browser.screenshot("qvickly-checkout").await;
        }
        let landed = browser.click_until(button, shop.url()).await;
        let received = shop.next(Duration::from_secs(5)).await.unwrap();
        let Some(status) = status else {
            // Declined: back to cancelurl, the checkout cancelled, no payment made.
            assert!(landed.ends_with("?cancelled=1"), "{landed}");
            let hash = v["hash"].as_str().unwrap();
            let (code, state) = cli(
                strings(&["--json", "qvickly", "get-checkout", "--hash", hash]),
                env.clone(),
            )
            .await;
            assert_eq!(code, 0, "{state}");
            assert_eq!(
                (&state["provider_status"], &state["number"]),
                (&json!("Cancelled"), &Value::Null),
                "{state}"
            );
            continue;
        };
        assert!(landed.ends_with("?accepted=1"), "{landed}");
        let (code, r) = verified_return(&received, env.clone()).await;
        assert_eq!(code, 0, "{r}");
        assert_eq!(
            (&r["order_id"], &r["provider_status"]),
            (&json!(orderid), &json!(status)),
            "{button}: {r}"
        );
        assert_ne!(
            r["number"],
            json!(checkout_number),
            "the payment has its own number"
        );
        // Completed, the page says so.
        assert!(
            browser
                .open(&url, "message")
                .await
                .contains("This checkout is")
        );
    }
}
