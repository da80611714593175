//! `paybridge qvickly …` against the contract in docs/cli.md: callbacks verified and
//! forwarded, the Payment API's commands.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

use serde_json::{Value, json};

mod common;
use common::*;

#[test]
fn qvickly_verify_and_forward() {
    use paybridge_qvickly::sandbox::{CallbackSpec, Simulator};
    let sb = sandbox();
    let ep = sb.endpoints["qvickly"].as_str().unwrap();
    let body = Simulator::new().unwrap().signed_callback(&CallbackSpec {
        status: Some("Cancelled".into()),
        orderid: Some("P/1".into()),
        ..CallbackSpec::default()
    });
    let file = std::env::temp_dir().join(unique("qv"));
    std::fs::write(&file, &body).unwrap();
    let path = file.to_str().unwrap();
    let env = [
        ("PAYBRIDGE_QVICKLY_SECRET", QVICKLY_SECRET),
        ("PAYBRIDGE_QVICKLY_ID", "sandbox-merchant"),
    ];

    // A definitive negative outcome: the normal object, exit 1.
    let (out, v) = run(
        &["--json", "qvickly", "verify-callback", "--body", path],
        &env,
    );
    assert_eq!(out.status.code(), Some(1), "{v}");
    assert_eq!(v["status"], "cancelled");
    assert_eq!(v["provider_status"], "Cancelled");
    assert_eq!(v["order_id"], "P/1");
    assert_eq!(v["number"], "1001");
    assert_eq!(v["test"], true);
    assert!(v["url"].is_string());

    let paid = body.replace("Cancelled", "Paid");
    std::fs::write(&file, &paid).unwrap();
    let (out, v) = run(
        &["--json", "qvickly", "verify-callback", "--body", path],
        &env,
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "tampered status must not verify: {v}"
    );
    assert_eq!(v["error"]["kind"], "signature");

    std::fs::write(&file, &body).unwrap();
    let (out, v) = run(
        &[
            "--json",
            "qvickly",
            "forward",
            "--endpoint",
            ep,
            "--body",
            path,
            "--booking-id",
            "5",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{v}");
    assert_eq!(v["success"], true);
    assert!(v["message"].as_str().unwrap().contains("P/1"));

    std::fs::write(&file, "not a callback").unwrap();
    let (out, v) = run(
        &[
            "--json",
            "qvickly",
            "forward",
            "--endpoint",
            ep,
            "--body",
            path,
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{v}");
    assert_eq!(v["error"]["kind"], "input");
    let _ = std::fs::remove_file(file);
}

/// Qvickly's Payment API through the CLI against the sandbox: a card payment added, paid on
/// the card page, asked, activated, credited in part then in full, a further credit refused
/// (5204), another payment cancelled, the part-payment plans.
#[test]
#[allow(
    clippy::too_many_lines,
    reason = "one sandbox session through the Payment API commands, in order"
)]
fn qvickly_payment_api_commands() {
    let sb = sandbox();
    let endpoint = sb.qvickly_api();
    let env = [
        ("PAYBRIDGE_QVICKLY_ID", "sandbox-merchant"),
        ("PAYBRIDGE_QVICKLY_SECRET", "sandbox-secret-0001"),
        ("PAYBRIDGE_QVICKLY_ENDPOINT", endpoint.as_str()),
    ];
    let dir = std::env::temp_dir().join(unique("qvickly-api"));
    std::fs::create_dir_all(&dir).unwrap();
    let file = |name: &str, v: &Value| {
        let path = dir.join(name);
        std::fs::write(&path, v.to_string()).unwrap();
        path.display().to_string()
    };
    let order = |orderid: &str| {
        json!({
            "PaymentData": {"method": "8", "currency": "SEK", "language": "sv", "country": "SE", "orderid": orderid, "autoactivate": "0",
                            "accepturl": "https://shop.example/accept", "cancelurl": "https://shop.example/cancel"},
            "Customer": {"Billing": {"firstname": "Åsa", "lastname": "Öberg", "email": "asa@example.se"}},
            "Articles": [
                {"artnr": "A-1", "title": "Tröja", "quantity": "2", "aprice": "10000", "taxrate": "25", "discount": "0", "withouttax": "20000"},
                {"artnr": "A-2", "title": "Mössa", "quantity": "1", "aprice": "5000", "taxrate": "25", "discount": "0", "withouttax": "5000"}
            ],
            "Cart": {"Total": {"withouttax": "25000", "tax": "6250", "rounding": "0", "withtax": "31250"}}
        })
    };
    let add = file("add.json", &order("CLI-Q1"));
    let (out, v) = run(&["--json", "qvickly", "add-payment", "--body", &add], &env);
    assert_eq!(out.status.code(), Some(0), "{v}");
    let number = v["number"].as_str().unwrap().to_owned();
    let page = v["url"].as_str().unwrap().to_owned();
    assert_eq!(v["provider_status"], "Created", "{v}");
    // A cart that does not add up never leaves.
    let mut wrong = order("CLI-Q9");
    wrong["Cart"]["Total"]["withouttax"] = json!("25001");
    let wrong = file("wrong.json", &wrong);
    let (out, v) = run(
        &["--json", "qvickly", "add-payment", "--body", &wrong],
        &env,
    );
    assert_eq!(
        (out.status.code(), &v["error"]["kind"]),
        (Some(2), &json!("input")),
        "{v}"
    );

    let status = http("POST", &page, FORM, "choice=pay");
    assert!((200..300).contains(&status), "{status}");
    let (out, v) = run(
        &["--json", "qvickly", "payment-info", "--number", &number],
        &env,
    );
    assert_eq!(out.status.code(), Some(0), "{v}");
    assert_eq!(
        (&v["status"], &v["total"], &v["order_id"]),
        (&json!("pending"), &json!("312.50"), &json!("CLI-Q1")),
        "{v}"
    );
    let (out, v) = run(
        &["--json", "qvickly", "activate", "--number", &number],
        &env,
    );
    assert_eq!(
        (out.status.code(), &v["status"]),
        (Some(0), &json!("succeeded")),
        "{v}"
    );

    let part = file(
        "part.json",
        &json!({
            "Articles": [{"artnr": "A-2", "title": "Mössa", "quantity": "1", "aprice": "5000", "taxrate": "25", "discount": "0", "withouttax": "5000"}],
            "Cart": {"Total": {"withouttax": "5000", "tax": "1250", "rounding": "0", "withtax": "6250"}}
        }),
    );
    let (out, v) = run(
        &[
            "--json", "qvickly", "credit", "--number", &number, "--body", &part,
        ],
        &env,
    );
    assert_eq!(out.status.code(), Some(0), "{v}");
    assert_eq!(v["credited_payment"], number.as_str());
    let (out, v) = run(&["--json", "qvickly", "credit", "--number", &number], &env);
    assert_eq!(out.status.code(), Some(0), "the rest: {v}");
    let (out, v) = run(&["--json", "qvickly", "credit", "--number", &number], &env);
    assert_eq!(
        (out.status.code(), &v["error"]["code"]),
        (Some(1), &json!(5204)),
        "{v}"
    );
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Cannot credit more than balance due"),
        "{v}"
    );

    let other = file("other.json", &order("CLI-Q2"));
    let (_, v) = run(
        &["--json", "qvickly", "add-payment", "--body", &other],
        &env,
    );
    let other_number = v["number"].as_str().unwrap().to_owned();
    let (out, v) = run(
        &["--json", "qvickly", "cancel", "--number", &other_number],
        &env,
    );
    assert_eq!(
        (out.status.code(), &v["status"]),
        (Some(1), &json!("cancelled")),
        "{v}"
    );

    let (out, v) = run(
        &[
            "--json",
            "qvickly",
            "payment-plans",
            "--country",
            "se",
            "--currency",
            "SEK",
            "--language",
            "sv",
        ],
        &env,
    );
    assert_eq!(out.status.code(), Some(0), "{v}");
    assert_eq!(v["plans"][1]["months"], 12, "{v}");
    let _ = std::fs::remove_dir_all(dir);
}
