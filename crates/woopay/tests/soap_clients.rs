//! The simulator as generic SOAP clients meet it: the WSDL it serves is the schema the wire
//! types are generated from (with its own address); `core_login` sets the session cookie;
//! a positional part (`param0`) is bound; and PHP's own `SoapClient` — an independent SOAP
//! stack reading the served WSDL — drives login → invoice → pay → partial refund → the
//! rest → a refund beyond the paid sum (refused, 14).
//!
//! The PHP test needs `php` with the soap extension (Debian's `php-cli`, `php-soap`): skipped
//! with a message when missing, unless `PAYBRIDGE_REQUIRE_PHP=1` (CI), which makes it a failure.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

use std::collections::HashMap;
use std::process::Command;

use paybridge_woopay::sandbox::wsdl::PRODUCTION_ADDRESS;
use paybridge_woopay::sandbox::{ENDPOINT_PATH, PAY_PATH, Simulator, WSDL_PATHS};

async fn sandbox() -> (Simulator, String) {
    let sim = Simulator::new().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = sim.router();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (sim, base)
}

const SCHEMA: &str = include_str!("../../../schemas/woopay/XmlController.wsdl");

#[tokio::test]
async fn the_served_wsdl_is_the_schema_with_the_simulators_address() {
    let (_sim, base) = sandbox().await;
    let http = reqwest::Client::new();
    let urls = [
        format!("{base}{ENDPOINT_PATH}?wsdl"),
        format!("{base}{}", WSDL_PATHS[0]),
        format!("{base}{}", WSDL_PATHS[1]),
    ];
    for url in urls {
        let served = http.get(&url).send().await.unwrap();
        assert_eq!(served.status(), 200, "{url}");
        let served = served.text().await.unwrap();
        let own = format!("location=\"{base}{ENDPOINT_PATH}\"");
        assert!(served.contains(&own), "{url} names its own address");
        assert_eq!(
            served.replace(&own, &format!("location=\"{PRODUCTION_ADDRESS}\"")),
            SCHEMA,
            "{url} serves schemas/woopay/XmlController.wsdl"
        );
    }
    // Every operation the WSDL lists is one the simulator answers (never "not a valid method").
    for op in SCHEMA
        .split("<wsdl:operation name=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
    {
        let body = format!(
            r#"<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ns1="urn:XmlControllerwsdl"><SOAP-ENV:Body><ns1:{op}/></SOAP-ENV:Body></SOAP-ENV:Envelope>"#
        );
        let answer = http
            .post(format!("{base}{ENDPOINT_PATH}"))
            .body(body)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!answer.contains("not a valid method"), "{op}: {answer}");
        assert!(!answer.contains("not implemented"), "{op}: {answer}");
    }
}

fn envelope(op: &str, inner: &str) -> String {
    format!(
        r#"<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ns1="urn:XmlControllerwsdl" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:SOAP-ENC="http://schemas.xmlsoap.org/soap/encoding/"><SOAP-ENV:Body><ns1:{op}>{inner}</ns1:{op}></SOAP-ENV:Body></SOAP-ENV:Envelope>"#
    )
}

fn error_code(answer: &str) -> &str {
    answer
        .split("<error_code xsi:type=\"xsd:int\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap()
}

#[tokio::test]
async fn login_sets_the_session_cookie_and_positional_parts_are_bound() {
    let (_sim, base) = sandbox().await;
    let http = reqwest::Client::new();
    let url = format!("{base}{ENDPOINT_PATH}");
    let login = http
        .post(&url)
        .body(envelope(
            "core_login",
            r#"<param0 xsi:type="SOAP-ENC:Struct"><username xsi:type="xsd:string">test_merch</username><password xsi:type="xsd:string">A12345678a</password></param0>"#,
        ))
        .send()
        .await
        .unwrap();
    let cookie = login
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap()
        .to_owned();
    let text = login.text().await.unwrap();
    assert_eq!(
        error_code(&text),
        "0",
        "a positional login is bound: {text}"
    );
    let session = cookie
        .split(';')
        .next()
        .and_then(|c| c.strip_prefix("session="))
        .unwrap();
    assert!(
        text.contains(&format!(">{session}</session>")),
        "the cookie is the session"
    );

    let balance = |cookie: Option<String>| {
        let mut req = http.post(&url).body(envelope(
            "cash_getBalance",
            r#"<param0 xsi:type="SOAP-ENC:Struct"/>"#,
        ));
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        async move { req.send().await.unwrap().text().await.unwrap() }
    };
    assert_eq!(
        error_code(&balance(Some(format!("session={session}"))).await),
        "0"
    );
    assert_eq!(
        error_code(&balance(None).await),
        "5",
        "no session: login required"
    );

    // A repeated referenceId is refused with 221, by name or by position.
    let invoice = |part: &str| {
        envelope(
            "cash_createInvoice",
            &format!(
                r#"<{part}><referenceId xsi:type="xsd:string">dup-1</referenceId><requestUrl xsi:type="xsd:string">http://127.0.0.1:9/cb</requestUrl><amount xsi:type="xsd:float">10</amount></{part}>"#
            ),
        )
    };
    let create = |body: String| {
        let req = http
            .post(&url)
            .header("cookie", format!("session={session}"))
            .body(body);
        async move { req.send().await.unwrap().text().await.unwrap() }
    };
    assert_eq!(
        error_code(&create(invoice("cashCreateInvoiceRequest")).await),
        "0"
    );
    assert_eq!(error_code(&create(invoice("param0")).await), "221");
}

#[tokio::test]
async fn php_soapclient_drives_login_invoice_pay_and_refunds() {
    let php = Command::new("php")
        .args(["-r", "echo class_exists('SoapClient') ? 'yes' : 'no';"])
        .output();
    let soap = php.as_ref().is_ok_and(|o| o.stdout == b"yes");
    if !soap {
        assert!(
            std::env::var("PAYBRIDGE_REQUIRE_PHP").as_deref() != Ok("1"),
            "PAYBRIDGE_REQUIRE_PHP=1 but no php with the soap extension on PATH"
        );
        eprintln!("skipped: no php with SoapClient (apt-get install php-cli php-soap to run it)");
        return;
    }
    let (_sim, base) = sandbox().await;
    let merchant = paybridge_core::sandbox::CallbackReceiver::start(
        "/woopay/request",
        paybridge_woopay::REQUEST_URL_ANSWER,
    )
    .await
    .unwrap();
    let script = format!(
        "{}/tests/php/soapclient_flow.php",
        env!("CARGO_MANIFEST_DIR")
    );
    let wsdl = format!("{base}{ENDPOINT_PATH}?wsdl");
    let pay = format!("{base}{PAY_PATH}");
    let request_url = merchant.url().to_owned();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("php")
            .args([&script, &wsdl, &request_url, &pay, "php-order-1"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "php failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let steps: HashMap<String, serde_json::Value> = stdout
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (v["step"].as_str().unwrap().to_owned(), v["value"].clone())
        })
        .collect();
    let step = |name: &str| {
        steps
            .get(name)
            .unwrap_or_else(|| panic!("no {name}: {stdout}"))
            .clone()
    };
    assert_eq!(
        step("functions"),
        20,
        "PHP read every operation of the served WSDL"
    );
    assert_eq!(step("login"), 0);
    assert_eq!(step("invoice"), 0);
    assert_eq!(step("paid"), true);
    assert_eq!(step("refund_partial"), 0, "2000 of 5000 back");
    assert_eq!(step("refund_rest"), 0, "the other 3000 back");
    assert_eq!(step("refund_beyond"), 14, "nothing left: refund failed");
    assert_eq!(step("status"), 5, "returned in full");
    assert_eq!(step("ret_sum"), 500_000, "5000 KZT in tiyn");
    assert_eq!(step("positional_sent_param0"), true);
    assert_eq!(step("positional_found"), step("operation_id"));
    assert_eq!(step("logout"), 0);
    assert_eq!(step("after_logout"), 5, "the session ended: login required");
}
