//! `paybridge payoo …` against the contract in docs/cli.md: the legacy SOAP API in both SOAP
//! versions, `verify-notify` over Payoo's real packages, the hosted checkout, REST and return.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

use serde_json::json;

mod common;
use common::*;

#[test]
#[allow(
    clippy::too_many_lines,
    reason = "one end-to-end scenario, read top to bottom"
)]
fn payoo_commands_in_both_soap_versions() {
    let sb = sandbox();
    let ep = sb.endpoints["payoo"].as_str().unwrap();
    let env = [
        ("PAYBRIDGE_PAYOO_USERNAME", "sandbox_shop"),
        ("PAYBRIDGE_PAYOO_PASSWORD", "sandbox-password"),
        ("PAYBRIDGE_PAYOO_SIGNATURE", "sandbox-api-signature"),
        ("PAYBRIDGE_PAYOO_CHECKSUM_KEY", "sandbox-checksum-key"),
    ];
    for soap12 in [false, true] {
        let no = format!("CLI-{soap12}");
        let mut args = vec![
            "--json",
            "payoo",
            "create-pre-order",
            "--endpoint",
            ep,
            "--shop-id",
            "1234",
            "--order-no",
            &no,
            "--cyber-cash",
            "150000",
        ];
        if soap12 {
            args.push("--soap12");
        }
        let ledger_dir = std::env::temp_dir().join(unique("payoo-ledger"));
        std::fs::create_dir_all(&ledger_dir).unwrap();
        let ledger = format!("sqlite://{}", ledger_dir.join("l.db").display());
        args.extend(["--ledger", &ledger]);
        let (out, v) = run(&args, &env);
        assert_eq!(out.status.code(), Some(0), "{v}");
        assert_eq!(v["ack"], "Success");
        assert_eq!(v["response"]["OrderID"], no.as_str());
        let (_, recorded) = run(&["--json", "ledger", "payments", "--ledger", &ledger], &[]);
        assert_eq!(
            recorded["payments"][0]["reference"],
            no.as_str(),
            "{recorded}"
        );
        assert_eq!(recorded["payments"][0]["amount"], "150000");
        assert!(v["errors"].as_array().unwrap().is_empty());

        let mut get = vec![
            "--json",
            "payoo",
            "get-order",
            "--endpoint",
            ep,
            "--order-id",
            &no,
            "--shop-id",
            "1234",
        ];
        if soap12 {
            get.push("--soap12");
        }
        let (out, v) = run(&get, &env);
        assert_eq!(out.status.code(), Some(0), "{v}");
        assert_eq!(v["response"]["OrderCash"], "150000");
    }
    let (out, v) = run(
        &[
            "--json",
            "payoo",
            "get-order",
            "--endpoint",
            ep,
            "--order-id",
            "missing",
            "--shop-id",
            "1",
        ],
        &env,
    );
    assert_eq!(out.status.code(), Some(1), "{v}");
    assert_eq!(v["error"]["kind"], "provider");

    let dir = std::env::temp_dir().join(unique("payoo"));
    std::fs::create_dir_all(&dir).unwrap();
    let param = dir.join("p.json");
    std::fs::write(
        &param,
        r#"{"NewStatus": 2, "OrderID": "CLI-false", "ShopID": 1234}"#,
    )
    .unwrap();
    // The same command each time; the parameter file changes in between.
    let update_status = || {
        run(
            &[
                "--json",
                "payoo",
                "call",
                "--endpoint",
                ep,
                "--api-name",
                "UpdateOrderStatus",
                "--param",
                param.to_str().unwrap(),
            ],
            &env,
        )
    };
    let (out, v) = update_status();
    assert_eq!(out.status.code(), Some(0), "{v}");
    let (out, v) = update_status();
    assert_eq!(out.status.code(), Some(0), "{v}");
    assert_eq!(v["ack"], "SuccessWithWarning");
    std::fs::write(&param, r#"{"Bogus": 1}"#).unwrap();
    let (out, v) = update_status();
    assert_eq!(out.status.code(), Some(2), "{v}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn payoo_verify_notify_checks_the_package() {
    let key = "sandbox-checksum-key";
    let data = "<PaymentNotification><shops><shop><shop_id>1</shop_id><order_no>P-9</order_no><order_cash_amount>150000</order_cash_amount></shop></shops><State>PAYMENT_RECEIVED</State></PaymentNotification>";
    let key_fields = "State|ShopID|OrderNo|OrderCashAmount";
    let dir = std::env::temp_dir().join(unique("notify"));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, body: &str| {
        let path = dir.join(name);
        std::fs::write(&path, body).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let package = paybridge_payoo::keyfields_package(key, data, key_fields).unwrap();
    let good = write("good.xml", &package);
    let form = write(
        "good.form",
        &format!(
            "NotifyData={}",
            package
                .replace('+', "%2B")
                .replace('=', "%3D")
                .replace('/', "%2F")
        ),
    );
    let forged = write(
        "forged.xml",
        &paybridge_payoo::keyfields_package("another-key", data, key_fields).unwrap(),
    );
    let junk = write("junk", "not a notification");
    let env = [("PAYBRIDGE_PAYOO_CHECKSUM_KEY", key)];
    for path in [&good, &form] {
        let (out, v) = run(&["--json", "payoo", "verify-notify", "--body", path], &env);
        assert_eq!(out.status.code(), Some(0), "{v}");
        assert_eq!(v["order_no"], "P-9");
        assert_eq!(v["status"], "succeeded");
        assert_eq!(v["amount"], "150000");
    }
    let (out, v) = run(
        &["--json", "payoo", "verify-notify", "--body", &forged],
        &env,
    );
    assert_eq!(
        (out.status.code(), v["error"]["kind"].as_str()),
        (Some(1), Some("signature")),
        "{v}"
    );
    let (out, v) = run(&["--json", "payoo", "verify-notify", "--body", &junk], &env);
    assert_eq!(
        (out.status.code(), v["error"]["kind"].as_str()),
        (Some(2), Some("input")),
        "{v}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn payoo_verify_notify_accepts_payoos_real_packages_and_the_json_form() {
    let vectors = concat!(env!("CARGO_MANIFEST_DIR"), "/../payoo/tests/vectors");
    for (name, order, fields) in [
        ("without_billing", "sbb-test-367", 15),
        ("with_billing", "sbb-test-359", 6),
    ] {
        let key = std::fs::read_to_string(format!("{vectors}/{name}.key")).unwrap();
        let body = format!("{vectors}/{name}.form");
        let env = [("PAYBRIDGE_PAYOO_CHECKSUM_KEY", key.trim())];
        let (out, v) = run(&["--json", "payoo", "verify-notify", "--body", &body], &env);
        assert_eq!(out.status.code(), Some(0), "{name}: {v}");
        assert_eq!(v["order_no"], order);
        assert_eq!(v["status"], "succeeded");
        assert_eq!(v["provider_status"], "PAYMENT_RECEIVED");
        assert_eq!(v["amount"], "10000");
        assert_eq!(v["shop_id"], "741");
        assert_eq!(v["fields"].as_object().unwrap().len(), fields);
    }
    // The JSON form is signed over the caller's address: --remote-ip.
    let dir = std::env::temp_dir().join(unique("notify-json"));
    std::fs::create_dir_all(&dir).unwrap();
    let data = r#"{"OrderNo":"J-1","OrderCash":50000,"PaymentStatus":1,"ShopId":7}"#;
    let package =
        paybridge_payoo::json_package("K", data, std::net::IpAddr::from([118, 69, 56, 194]));
    let path = dir.join("json.form");
    std::fs::write(&path, format!("NotifyData={package}").replace('+', "%2B")).unwrap();
    let path = path.to_str().unwrap();
    let env = [("PAYBRIDGE_PAYOO_CHECKSUM_KEY", "K")];
    let (out, v) = run(
        &[
            "--json",
            "payoo",
            "verify-notify",
            "--body",
            path,
            "--remote-ip",
            "118.69.56.194",
        ],
        &env,
    );
    assert_eq!(out.status.code(), Some(0), "{v}");
    assert_eq!(
        (v["order_no"].as_str(), v["form"].as_str()),
        (Some("J-1"), Some("json"))
    );
    assert_eq!(v["amount"], "50000");
    let (out, v) = run(
        &[
            "--json",
            "payoo",
            "verify-notify",
            "--body",
            path,
            "--remote-ip",
            "10.0.0.1",
        ],
        &env,
    );
    assert_eq!(
        (out.status.code(), v["error"]["kind"].as_str()),
        (Some(1), Some("signature")),
        "{v}"
    );
    let (out, v) = run(&["--json", "payoo", "verify-notify", "--body", path], &env);
    assert_eq!(out.status.code(), Some(2), "{v}");
    let _ = std::fs::remove_dir_all(dir);
}

/// Payoo's current APIs through the CLI: a checkout recorded in a ledger, paid in the
/// sandbox, asked with `order-info`, refunded in part, the same refund id again (harmless),
/// more than is left (refused, 97), another order cancelled, a billing code, and the return
/// URL's checksum.
#[test]
#[allow(
    clippy::too_many_lines,
    reason = "one sandbox session through Payoo's current commands, in order"
)]
fn payoo_checkout_rest_and_return() {
    let sb = sandbox();
    let soap = sb.endpoints["payoo"].as_str().unwrap();
    let base = soap.trim_end_matches("/CallerServices.asmx").to_owned();
    let rest = format!("{base}/BusinessRestAPI.svc");
    let checkout_url = format!("{base}/v2/paynow/order/create");
    let env = [
        ("PAYBRIDGE_PAYOO_USERNAME", "sandbox_shop"),
        ("PAYBRIDGE_PAYOO_PASSWORD", "sandbox-password"),
        ("PAYBRIDGE_PAYOO_SIGNATURE", "sandbox-api-signature"),
        ("PAYBRIDGE_PAYOO_CHECKSUM_KEY", "sandbox-checksum-key"),
    ];
    let dir = std::env::temp_dir().join(unique("payoo-current"));
    std::fs::create_dir_all(&dir).unwrap();
    let ledger = format!("sqlite://{}", dir.join("paybridge.db").display());
    let description = "Thanh toán đơn hàng CLI-P1 tại Shop Demo — 2 x áo thun, giao trong ngày";
    let checkout = |order_no: &'static str, amount: &'static str| {
        let args = vec![
            "--json",
            "payoo",
            "checkout",
            "--endpoint",
            checkout_url.as_str(),
            "--order-no",
            order_no,
            "--amount",
            amount,
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
            "https://shop.example/payoo/return",
            "--notify-url",
            "http://127.0.0.1:9/payoo/notify",
            "--json-notify",
            "--ledger",
            ledger.as_str(),
        ];
        run(&args, &env)
    };
    let (out, v) = checkout("CLI-P1", "300000");
    assert_eq!(out.status.code(), Some(0), "{v}");
    assert!(v["payment_url"].as_str().unwrap().contains("CLI-P1"), "{v}");
    let (out, v) = checkout("CLI-P1", "300000");
    assert_eq!(
        out.status.code(),
        Some(2),
        "the ledger holds it already: {v}"
    );
    let status = http(
        "POST",
        &format!("{base}/payoo/_sandbox/pay?order=CLI-P1"),
        "text/plain",
        "",
    );
    assert!((200..300).contains(&status), "{status}");

    // The reconciler asks GetOrderInfo and records the checkout paid.
    let mut reconcile_env = env.to_vec();
    reconcile_env.extend([
        ("PAYBRIDGE_PAYOO_REST_ENDPOINT", rest.as_str()),
        ("PAYBRIDGE_PAYOO_SHOP_ID", "11495"),
    ]);
    let (out, v) = run(
        &[
            "--json",
            "reconcile",
            "--ledger",
            &ledger,
            "--once",
            "--all",
        ],
        &reconcile_env,
    );
    assert_eq!(out.status.code(), Some(0), "{v}");
    let (_, v) = run(&["--json", "ledger", "payments", "--ledger", &ledger], &[]);
    assert_eq!(
        (
            &v["payments"][0]["status"],
            &v["payments"][0]["paid_amount"]
        ),
        (&json!("succeeded"), &json!("300000")),
        "{v}"
    );

    let net = |cmd: &'static str| vec!["--json", "payoo", cmd, "--endpoint", rest.as_str()];
    let mut info = net("order-info");
    info.extend(["--order-id", "CLI-P1", "--shop-id", "11495"]);
    let (out, v) = run(&info, &env);
    assert_eq!(out.status.code(), Some(0), "{v}");
    assert_eq!(
        (&v["status"], &v["amount"]),
        (&json!("succeeded"), &json!("300000")),
        "{v}"
    );
    let day = v["purchase_date"].as_str().unwrap()[..8].to_owned();
    let refund = |id: &'static str, amount: &'static str| {
        let mut args = net("refund");
        args.extend([
            "--order-no",
            "CLI-P1",
            "--amount",
            amount,
            "--refund-id",
            id,
            "--purchase-date",
            day.as_str(),
        ]);
        run(&args, &env)
    };
    let (out, v) = refund("CLI-P1-r1", "100000");
    assert_eq!(out.status.code(), Some(0), "{v}");
    assert_eq!(
        (&v["refunded"], &v["repeat"]),
        (&json!("100000"), &json!(false)),
        "{v}"
    );
    let transfer = v["transfer_code"].clone();
    let (out, v) = refund("CLI-P1-r1", "100000");
    assert_eq!(
        (out.status.code(), &v["repeat"], &v["transfer_code"]),
        (Some(0), &json!(true), &transfer),
        "the same refund id is the same refund: {v}"
    );
    let (out, v) = refund("CLI-P1-r2", "200001");
    assert_eq!(
        (out.status.code(), &v["error"]["code"]),
        (Some(1), &json!(97)),
        "{v}"
    );
    // Through the ledger: recorded against the payment, the refund id recognised, never more
    // than the ledger knows was paid.
    let recorded = |id: &'static str, amount: &'static str| {
        let mut args = net("refund");
        args.extend([
            "--order-no",
            "CLI-P1",
            "--amount",
            amount,
            "--refund-id",
            id,
            "--ledger",
            ledger.as_str(),
            "--shop-id",
            "11495",
        ]);
        run(&args, &env)
    };
    let (out, v) = recorded("CLI-P1-L1", "50000");
    assert_eq!(out.status.code(), Some(0), "{v}");
    assert_eq!(
        (&v["refunded"], &v["repeat"], &v["payment_status"]),
        (&json!("50000"), &json!(false), &json!("partially_refunded")),
        "{v}"
    );
    let (out, v) = recorded("CLI-P1-L1", "50000");
    assert_eq!(
        (out.status.code(), &v["repeat"]),
        (Some(0), &json!(true)),
        "{v}"
    );
    let (out, v) = recorded("CLI-P1-L2", "250001");
    assert_eq!(
        (out.status.code(), &v["error"]["kind"]),
        (Some(2), &json!("input")),
        "more than the ledger knows was paid: {v}"
    );

    let (out, v) = checkout("CLI-P2", "50000");
    assert_eq!(out.status.code(), Some(0), "{v}");
    let mut cancel = net("cancel-order");
    cancel.extend(["--order-id", "CLI-P2", "--shop-id", "11495"]);
    let (out, v) = run(&cancel, &env);
    assert_eq!(
        (out.status.code(), &v["status"]),
        (Some(0), &json!("cancelled")),
        "{v}"
    );
    let (out, v) = run(&cancel, &env);
    assert_eq!(
        (out.status.code(), &v["error"]["code"]),
        (Some(1), &json!(12)),
        "{v}"
    );

    let mut code = net("billing-code");
    code.extend([
        "--shop-id",
        "11495",
        "--order-no",
        "CLI-STORE",
        "--amount",
        "20000",
        "--description",
        description,
        "--notify-url",
        "http://127.0.0.1:9/payoo/notify",
        "--ship-date",
        "02/12/2026",
        "--expires",
        "20261203235959",
    ]);
    let (out, v) = run(&code, &env);
    assert_eq!(out.status.code(), Some(0), "{v}");
    assert!(
        v["billing_code"].as_str().unwrap().starts_with("888"),
        "{v}"
    );

    let checksum =
        paybridge_payoo::checkout::return_checksum("sandbox-checksum-key", "CLI-P1", "CLI-P1", "1");
    let query = format!("session=CLI-P1&order_no=CLI-P1&status=1&checksum={checksum}");
    let (out, v) = run(
        &["--json", "payoo", "verify-return", "--query", &query],
        &env,
    );
    assert_eq!(
        (out.status.code(), &v["status"]),
        (Some(0), &json!("succeeded")),
        "{v}"
    );
    let tampered = query.replace("status=1", "status=0");
    let (out, v) = run(
        &["--json", "payoo", "verify-return", "--query", &tampered],
        &env,
    );
    assert_eq!(
        (out.status.code(), &v["error"]["kind"]),
        (Some(1), &json!("signature")),
        "{v}"
    );
    let _ = std::fs::remove_dir_all(dir);
}
