//! The `paybridge` binary against the contract in docs/cli.md: fields, exit codes, error
//! JSON, secrets kept out of every output.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

mod common;
use common::*;

#[test]
fn sandbox_prints_one_json_line_with_every_endpoint() {
    let sb = sandbox();
    let ep = sb.endpoints["card-charging"].as_str().unwrap();
    assert!(
        ep.starts_with("http://127.0.0.1:") && ep.ends_with("/chargingws/v2"),
        "{ep}"
    );
    // Every API a simulator serves has its own key, and answers there.
    for (key, path) in [
        ("woopay-wsdl", "/api/wsd/?wsdl"),
        ("payoo-checkout", "/v2/paynow/order/create"),
        ("payoo-rest", "/BusinessRestAPI.svc"),
        ("qvickly-api", "/qvickly/api/"),
    ] {
        let url = sb.endpoints[key]
            .as_str()
            .unwrap_or_else(|| panic!("{key} missing"));
        assert!(url.ends_with(path), "{key}: {url}");
    }
    let status = http(
        "GET",
        sb.endpoints["woopay-wsdl"].as_str().unwrap(),
        "text/plain",
        "",
    );
    assert_eq!(status, 200);
}

/// Interrupted (Ctrl-C), the sandbox stops cleanly and removes its ledger's directory.
#[test]
fn an_interrupted_sandbox_exits_0_and_leaves_no_ledger_behind() {
    // Ctrl-C, and SIGTERM (what a service manager or a CI runner sends).
    for signal in ["-INT", "-TERM"] {
        let mut sb = sandbox();
        let url = sb.endpoints["ledger"].as_str().unwrap().to_owned();
        let db = std::path::PathBuf::from(url.strip_prefix("sqlite://").unwrap());
        assert!(db.exists(), "{}", db.display());
        let pid = sb.child.id().to_string();
        let sent = Command::new("kill").args([signal, &pid]).status().unwrap();
        assert!(sent.success());
        let status = sb.child.wait().unwrap();
        assert!(status.success(), "{signal}: {status}");
        assert!(
            !db.parent().unwrap().exists(),
            "{signal}: {} left behind",
            db.display()
        );
    }
}

#[test]
fn charge_outcomes_and_exit_codes() {
    let sb = sandbox();
    let ep = sb.endpoints["card-charging"].as_str().unwrap();

    let rid = unique("ok");
    let (out, v) = run(&charge_args(ep, "charge", "312821445892981", &rid), &CREDS);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(v["status"], "succeeded");
    assert_eq!(v["provider_status"], 1);
    assert_eq!(v["request_id"], rid.as_str());
    assert_eq!(v["declared_value"], "50000");
    assert_eq!(v["value"], "50000");
    assert_eq!(v["amount"], "35000");
    assert_eq!(v["amount_mismatch"], false);
    assert!(v["trans_id"].is_string());
    assert_eq!(v["message"], "Thành công");

    let (out, v) = run(
        &charge_args(ep, "charge", "312821445892982", &unique("mismatch")),
        &CREDS,
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(v["status"], "succeeded");
    assert_eq!(v["amount_mismatch"], true);

    let (out, v) = run(
        &charge_args(ep, "charge", "312821445892983", &unique("fail")),
        &CREDS,
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(v["status"], "failed");
    assert_eq!(v["provider_status"], 3);

    let (out, v) = run(
        &charge_args(ep, "charge", "312821445892984", &unique("maint")),
        &CREDS,
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(v["error"]["kind"], "provider");
    assert_eq!(v["error"]["code"], 4);

    // Pending, then check.
    let rid = unique("pending");
    let (out, v) = run(&charge_args(ep, "charge", "312821445892989", &rid), &CREDS);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(v["status"], "pending");
    assert_eq!(v["provider_status"], 99);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let (out, v) = run(&charge_args(ep, "check", "312821445892989", &rid), &CREDS);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(v["status"], "succeeded");

    // Reused request id: the gateway's 100, message kept.
    let (out, v) = run(&charge_args(ep, "charge", "312821445892989", &rid), &CREDS);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(v["status"], "failed");
    assert_eq!(v["provider_status"], 100);
    assert_eq!(v["message"], "request_id đã tồn tại");
}

#[test]
fn flags_win_over_environment() {
    let sb = sandbox();
    let ep = sb.endpoints["card-charging"].as_str().unwrap();
    let mut args = charge_args(ep, "charge", "312821445892981", "flag-wins");
    args.extend(["--partner-key", "wrong-key"]);
    let (out, v) = run(&args, &CREDS);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(v["message"], "Sai chữ ký");
}

#[test]
fn input_and_transport_errors() {
    let (out, v) = run(
        &charge_args("http://127.0.0.1:9/chargingws/v2", "charge", "1", "r1"),
        &CREDS,
    );
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(v["error"]["kind"], "transport");

    let mut bad_amount = charge_args("http://127.0.0.1:9/x", "charge", "1", "r1");
    bad_amount[12] = "100.5";
    let (out, v) = run(&bad_amount, &CREDS);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(v["error"]["kind"], "input");

    let (out, v) = run(
        &[
            "--json",
            "card-charging",
            "charge",
            "--endpoint",
            "http://x",
        ],
        &CREDS,
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(v["error"]["kind"], "input");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("--telco"),
        "{v}"
    );

    let (out, v) = run(
        &[
            "--json",
            "card-charging",
            "verify-callback",
            "--partner-key",
            KEY,
            "--body",
            "/nonexistent",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(v["error"]["kind"], "input");
}

#[test]
fn verify_callback_body_and_query() {
    let sign = paybridge_card_charging::callback_sign(KEY, "314688440422676", "10003395125761");
    let body = format!(
        r#"{{"status":1,"message":"Th\u00e0nh c\u00f4ng","request_id":"989876","declared_value":50000,"value":50000,"amount":25000,"code":"314688440422676","serial":"10003395125761","telco":"VIETTEL","trans_id":54180,"callback_sign":"{sign}"}}"#
    );
    let dir = std::env::temp_dir().join(unique("cb"));
    std::fs::write(&dir, &body).unwrap();
    let path = dir.to_str().unwrap();

    let (out, v) = run(
        &[
            "--json",
            "card-charging",
            "verify-callback",
            "--partner-key",
            KEY,
            "--body",
            path,
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(v["status"], "succeeded");
    assert_eq!(v["amount"], "25000");
    assert_eq!(v["request_id"], "989876");
    assert_eq!(v["message"], "Thành công");

    let (out, v) = run(
        &["--json", "card-charging", "verify-callback", "--body", path],
        &[("PAYBRIDGE_CARD_PARTNER_KEY", "other-key")],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(v["error"]["kind"], "signature");

    let query = format!(
        "status=1&message=Th%C3%A0nh%20c%C3%B4ng&request_id=989876&declared_value=50000&card_value=50000&value=50000&amount=25000&code=314688440422676&serial=10003395125761&telco=VIETTEL&trans_id=343424&callback_sign={sign}"
    );
    let (out, v) = run(
        &[
            "--json",
            "card-charging",
            "verify-callback",
            "--partner-key",
            KEY,
            "--query",
            &query,
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(v["trans_id"], "343424");
    let tampered = query.replace("serial=10003395125761", "serial=1");
    let (out, _) = run(
        &[
            "--json",
            "card-charging",
            "verify-callback",
            "--partner-key",
            KEY,
            "--query",
            &tampered,
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    let _ = std::fs::remove_file(dir);
}

#[test]
fn demo_passes() {
    let (out, v) = run(&["--json", "demo"], &[]);
    assert_eq!(out.status.code(), Some(0), "{v}");
    assert_eq!(v["passed"], true);
    assert!(
        v["flows"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["provider"] == "card-charging" && f["passed"] == true)
    );
}

#[test]
fn version_and_help_exit_zero() {
    let out = Command::new(BIN).arg("--version").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("paybridge "));
}

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

#[test]
#[allow(
    clippy::too_many_lines,
    reason = "one sandbox session through every Wooppay command, in order"
)]
fn woopay_commands() {
    let sb = sandbox();
    let ep = sb.endpoints["woopay"].as_str().unwrap();
    let env = [
        ("PAYBRIDGE_WOOPAY_USERNAME", "test_merch"),
        ("PAYBRIDGE_WOOPAY_PASSWORD", WOOPAY_PASSWORD),
    ];
    let net = |cmd: &'static str| vec!["--json", "woopay", cmd, "--endpoint", ep];

    let (out, v) = run(&net("balance"), &env);
    assert_eq!(out.status.code(), Some(0), "{v}");
    assert_eq!(v["amount"], "17421.50");

    let mut create = net("create-invoice");
    create.extend([
        "--reference-id",
        "cli-1",
        "--amount",
        "100.50",
        "--back-url",
        "https://shop/back",
        "--request-url",
        "https://shop/cb",
        "--death-date",
        "2030-01-01 00:00:00",
    ]);
    let (out, v) = run(&create, &env);
    assert_eq!(out.status.code(), Some(0), "{v}");
    let id = v["operation_id"].as_i64().unwrap();
    assert!(
        v["operation_url"]
            .as_str()
            .unwrap()
            .contains(&format!("id={id}"))
    );

    // Found again by the reference alone (`cash_getOperationDataByExtId`).
    let mut find = net("find");
    find.extend(["--reference-id", "cli-1"]);
    let (out, v) = run(&find, &env);
    assert_eq!(out.status.code(), Some(0), "{v}");
    assert_eq!(
        (v["id"].as_i64(), &v["status"]),
        (Some(id), &json!("pending")),
        "{v}"
    );
    let mut find = net("find");
    find.extend(["--reference-id", "never-created"]);
    let (out, v) = run(&find, &env);
    assert_eq!(
        (out.status.code(), &v["error"]["code"]),
        (Some(1), &json!(802)),
        "{v}"
    );

    // Money back: not before it is paid (14), 50 then the rest, then nothing more (14).
    let mut refunded = net("create-invoice");
    refunded.extend([
        "--reference-id",
        "cli-3",
        "--amount",
        "100.50",
        "--back-url",
        "https://shop/back",
        "--request-url",
        "https://shop/cb",
    ]);
    let (_, v) = run(&refunded, &env);
    let id_arg = v["operation_id"].as_i64().unwrap().to_string();
    let refund = |operation: &str, amount: Option<&'static str>| {
        let mut args = net("refund");
        args.extend(["--operation-id", operation]);
        if let Some(a) = amount {
            args.extend(["--amount", a]);
        }
        run(&args, &env)
    };
    let (out, v) = refund(&id_arg, Some("50"));
    assert_eq!(
        (out.status.code(), &v["error"]["code"]),
        (Some(1), &json!(14)),
        "{v}"
    );
    let base = ep.split("/api/").next().unwrap();
    // Paid on the sandbox's page (its requestUrl, https://shop/cb, is unreachable: 502, but the
    // operation is paid).
    let pay = |id: &str| {
        let status = http(
            "POST",
            &format!("{base}/invoice/pay?id={id}"),
            "text/plain",
            "",
        );
        assert!(status == 502 || (200..300).contains(&status), "{status}");
    };
    pay(&id_arg);
    let (out, v) = refund(&id_arg, Some("50"));
    assert_eq!(out.status.code(), Some(0), "{v}");
    assert_eq!(
        (&v["refunded"], &v["status"]),
        (&json!("50.00"), &json!("succeeded"))
    );
    let (out, v) = refund(&id_arg, Some("50.50"));
    assert_eq!(out.status.code(), Some(0), "{v}");
    let (out, v) = refund(&id_arg, Some("0.01"));
    assert_eq!(
        (out.status.code(), &v["error"]["code"]),
        (Some(1), &json!(14)),
        "{v}"
    );
    let mut second = net("create-invoice");
    second.extend([
        "--reference-id",
        "cli-2",
        "--amount",
        "70",
        "--back-url",
        "https://shop/back",
        "--request-url",
        "https://shop/cb",
    ]);
    let (_, v) = run(&second, &env);
    let second_id = v["operation_id"].as_i64().unwrap().to_string();
    // Unpaid: declined (cancelled); a declined invoice cannot be paid back.
    let mut decline = net("decline");
    decline.extend(["--operation-id", second_id.as_str()]);
    let (out, v) = run(&decline, &env);
    assert_eq!(
        (out.status.code(), &v["status"]),
        (Some(0), &json!("cancelled")),
        "{v}"
    );
    let (out, _) = run(&decline, &env);
    assert_eq!(out.status.code(), Some(1), "declined twice");

    let id_text = id.to_string();
    let mut data = net("operation-data");
    data.extend(["--operation-id", id_text.as_str()]);
    let (out, v) = run(&data, &env);
    assert_eq!(out.status.code(), Some(0), "{v}");
    let op = &v["operations"][0];
    assert_eq!(op["id"], id);
    assert_eq!(op["status"], "pending");
    assert_eq!(op["provider_status"], 1);
    assert_eq!(op["sum"], "100.50");
    for field in [
        "type",
        "fee",
        "date",
        "comment",
        "from_subject",
        "to_subject",
        "from_full_name",
        "to_full_name",
    ] {
        assert!(op.get(field).is_some(), "{field} missing: {op}");
    }

    let (out, v) = run(&net("login"), &env);
    assert_eq!(out.status.code(), Some(0), "{v}");
    assert!(v["session"].as_str().unwrap().len() >= 16);
    assert_eq!(v["user_id"], 384_310);
    assert_eq!(v["roles"][0], "rMerchant");

    let mut phone = net("request-confirmation-code");
    phone.extend(["--phone", "77001112233"]);
    let (out, v) = run(&phone, &env);
    assert_eq!(out.status.code(), Some(0), "{v}");
    assert_eq!(v["sent"], true);

    let mut wrong = net("balance");
    wrong.extend(["--password", "not-it"]);
    let (out, v) = run(&wrong, &env);
    assert_eq!(out.status.code(), Some(1), "{v}");
    assert_eq!(v["error"]["code"], 101);
    assert_eq!(v["error"]["kind"], "provider");
}

#[test]
#[allow(
    clippy::too_many_lines,
    reason = "one end-to-end scenario, read top to bottom"
)]
fn linkifier_send_and_verify() {
    use paybridge_linkifier_ipn::sandbox::sample_record;
    let sb = sandbox();
    let ep = sb.endpoints["linkifier-ipn"].as_str().unwrap();
    let env = [("PAYBRIDGE_LINKIFIER_KEY", LINKIFIER_KEY)];
    let dir = std::env::temp_dir().join(unique("ipn"));
    std::fs::create_dir_all(&dir).unwrap();
    let record = dir.join("record.json");
    // The record users start from is what `template` prints: it must be exactly the
    // sandbox sample, and `send` must accept it as is.
    let (out, template) = run(&["--json", "linkifier-ipn", "template"], &[]);
    assert_eq!(out.status.code(), Some(0), "{template}");
    assert_eq!(template, serde_json::to_value(sample_record()).unwrap());
    std::fs::write(&record, template.to_string()).unwrap();
    let record = record.to_str().unwrap();

    for extra in [&[][..], &["--soap12"][..]] {
        let mut args = vec![
            "--json",
            "linkifier-ipn",
            "send",
            "--endpoint",
            ep,
            "--ipn",
            record,
        ];
        args.extend(extra);
        let (out, v) = run(&args, &env);
        assert_eq!(out.status.code(), Some(0), "{v}");
        assert_eq!(v["has_errors"], false);
        assert_eq!(v["error_code"], 0);
        assert!(v["message"].is_string() && v["extra_message"].is_string());
    }
    let (out, v) = run(
        &[
            "--json",
            "linkifier-ipn",
            "send",
            "--endpoint",
            ep,
            "--ipn",
            record,
            "--key",
            "not-the-key",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{v}");
    assert_eq!(v["error"]["code"], 1);

    let mut partial = serde_json::to_value(sample_record()).unwrap();
    partial.as_object_mut().unwrap().remove("pay_provider_id");
    let bad = dir.join("bad.json");
    std::fs::write(&bad, partial.to_string()).unwrap();
    let (out, v) = run(
        &[
            "--json",
            "linkifier-ipn",
            "send",
            "--endpoint",
            ep,
            "--ipn",
            bad.to_str().unwrap(),
        ],
        &env,
    );
    assert_eq!(out.status.code(), Some(2), "{v}");
    assert_eq!(v["error"]["kind"], "input");

    let body = {
        let frag = paybridge_core::soap::to_fragment(&paybridge_linkifier_ipn::signed_request(
            &sample_record(),
            LINKIFIER_KEY,
            &paybridge_linkifier_ipn::CanonicalHmac,
        ))
        .unwrap();
        paybridge_core::soap::wrap(
            &paybridge_core::soap::EnvelopeStyle::new(paybridge_core::soap::SoapVersion::V12),
            None,
            &frag,
        )
    };
    let received = dir.join("received.xml");
    std::fs::write(&received, &body).unwrap();
    let (out, v) = run(
        &[
            "--json",
            "linkifier-ipn",
            "verify",
            "--body",
            received.to_str().unwrap(),
        ],
        &env,
    );
    assert_eq!(out.status.code(), Some(0), "{v}");
    assert_eq!(v["pay_transaction_id"], "TX-1001");
    assert_eq!(v["customer_ip"], "203.0.113.7");
    assert_eq!(v["pay_provider_amount"], "19.99");
    std::fs::write(&received, body.replace("<Currency>USD<", "<Currency>EUR<")).unwrap();
    let (out, v) = run(
        &[
            "--json",
            "linkifier-ipn",
            "verify",
            "--body",
            received.to_str().unwrap(),
        ],
        &env,
    );
    assert_eq!(out.status.code(), Some(1), "{v}");
    assert_eq!(v["error"]["kind"], "signature");
    let _ = std::fs::remove_dir_all(dir);
}

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

/// A server that accepts connections, reads what comes and never answers; counts connections.
fn hung_server() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::Read;
    use std::sync::atomic::Ordering;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let connections = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = connections.clone();
    std::thread::spawn(move || {
        for sock in listener.incoming().flatten() {
            seen.fetch_add(1, Ordering::SeqCst);
            std::thread::spawn(move || {
                let mut sock = sock;
                let mut buf = [0_u8; 4096];
                while sock.read(&mut buf).is_ok_and(|n| n > 0) {}
            });
        }
    });
    (format!("http://{addr}"), connections)
}

#[test]
fn a_hung_charge_is_outcome_unknown_within_the_deadline_and_sent_once() {
    let (base, connections) = hung_server();
    let endpoint = format!("{base}/chargingws/v2");
    let mut args = charge_args(&endpoint, "charge", "312821445892981", "order-77");
    args.extend(["--timeout", "2"]);
    let started = std::time::Instant::now();
    let (out, v) = run(&args, &CREDS);
    let elapsed = started.elapsed();
    assert_eq!(out.status.code(), Some(3), "{v}");
    assert_eq!(v["error"]["kind"], "transport");
    assert_eq!(v["error"]["outcome_unknown"], true, "{v}");
    let message = v["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("order-77") && message.contains("`check` with the same request_id"),
        "{message}"
    );
    // The 2 s deadline, not the 30 s default: a bound with room for a loaded 2-core machine
    // starting the process (2.5 s flaked there under the whole suite).
    assert!(elapsed < std::time::Duration::from_secs(5), "{elapsed:?}");
    assert_eq!(connections.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[test]
fn the_timeout_is_the_whole_commands_deadline_retries_included() {
    let (base, _) = hung_server();
    let endpoint = format!("{base}/chargingws/v2");
    let mut args = charge_args(&endpoint, "check", "312821445892981", "order-78");
    args.extend(["--timeout", "2"]);
    let started = std::time::Instant::now();
    let (out, v) = run(&args, &CREDS);
    assert_eq!(out.status.code(), Some(3), "{v}");
    assert!(v["error"].get("outcome_unknown").is_none(), "{v}");
    assert!(started.elapsed() < std::time::Duration::from_millis(2500));

    let endpoint = format!("{base}/api/wsd/");
    let started = std::time::Instant::now();
    let (out, v) = run(
        &[
            "--json",
            "woopay",
            "balance",
            "--endpoint",
            &endpoint,
            "--timeout",
            "2",
        ],
        &[
            ("PAYBRIDGE_WOOPAY_USERNAME", "test_merch"),
            ("PAYBRIDGE_WOOPAY_PASSWORD", WOOPAY_PASSWORD),
        ],
    );
    assert_eq!(out.status.code(), Some(3), "{v}");
    assert!(started.elapsed() < std::time::Duration::from_millis(2500));
}

#[test]
fn the_timeout_must_be_more_than_zero() {
    for bad in ["0", "-5", "abc"] {
        let mut args = charge_args("http://127.0.0.1:9/chargingws/v2", "check", "1", "r1");
        args.extend(["--timeout", bad]);
        let (out, v) = run(&args, &CREDS);
        assert_eq!(out.status.code(), Some(2), "--timeout {bad}: {v}");
        assert_eq!(v["error"]["kind"], "input");
        assert!(
            v["error"]["message"]
                .as_str()
                .unwrap()
                .contains("--timeout"),
            "{v}"
        );
    }
}

#[test]
fn a_refused_connection_names_the_host_and_the_cause() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let endpoint = format!("http://{addr}/chargingws/v2");
    let (out, v) = run(
        &charge_args(&endpoint, "charge", "312821445892981", "r-refused"),
        &CREDS,
    );
    assert_eq!(out.status.code(), Some(3));
    assert!(v["error"].get("outcome_unknown").is_none(), "{v}");
    let message = v["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("cannot connect to {addr}")) && message.contains("refused"),
        "{message}"
    );
}

#[test]
fn malformed_callback_files_are_input_errors() {
    let dir = std::env::temp_dir().join(unique("malformed"));
    std::fs::create_dir_all(&dir).unwrap();
    let file = |name: &str, body: &str| {
        let path = dir.join(name);
        std::fs::write(&path, body).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let cases = [
        (
            vec![
                "card-charging",
                "verify-callback",
                "--partner-key",
                KEY,
                "--body",
            ],
            vec![
                file("card1", "not json"),
                file("card2", r#"{"status":1,"code":"31"#),
            ],
            vec![],
        ),
        (
            vec!["qvickly", "verify-callback", "--body"],
            vec![
                file("qv1", "not json"),
                file("qv2", r#"{"credentials":{"hash":"ab"#),
            ],
            vec![
                ("PAYBRIDGE_QVICKLY_SECRET", QVICKLY_SECRET),
                ("PAYBRIDGE_QVICKLY_ID", "sandbox-merchant"),
            ],
        ),
        (
            vec!["linkifier-ipn", "verify", "--body"],
            vec![
                file("lk1", "<html>not soap</html>"),
                file("lk2", "<soap:Envelope"),
            ],
            vec![("PAYBRIDGE_LINKIFIER_KEY", LINKIFIER_KEY)],
        ),
    ];
    for (command, files, env) in cases {
        for path in files {
            let mut args = vec!["--json"];
            args.extend(command.iter().copied());
            args.push(&path);
            let (out, v) = run(&args, &env);
            assert_eq!(out.status.code(), Some(2), "{command:?} {path}: {v}");
            assert_eq!(v["error"]["kind"], "input", "{v}");
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn verify_callback_lists_unsigned_fields_and_confirm_catches_a_tampered_amount() {
    let sb = sandbox();
    let ep = sb.endpoints["card-charging"].as_str().unwrap();
    let rid = unique("confirm");
    let (code, serial) = ("312821445892981", "10004783347874");
    let (out, charged) = run(&charge_args(ep, "charge", code, &rid), &CREDS);
    assert_eq!(out.status.code(), Some(0), "{charged}");
    let sign = paybridge_card_charging::callback_sign(KEY, code, serial);
    let callback = |amount: &str| {
        format!(
            r#"{{"status":1,"message":"ok","request_id":"{rid}","declared_value":50000,"value":50000,"amount":{amount},"code":"{code}","serial":"{serial}","telco":"VIETTEL","trans_id":1,"callback_sign":"{sign}"}}"#
        )
    };
    let dir = std::env::temp_dir().join(unique("confirm-cb"));
    std::fs::create_dir_all(&dir).unwrap();
    let honest = dir.join("honest");
    let tampered = dir.join("tampered");
    let credited = charged["amount"].as_str().unwrap();
    std::fs::write(&honest, callback(credited)).unwrap();
    std::fs::write(&tampered, callback("5000000")).unwrap();
    let verify = |path: &std::path::Path, confirm: bool| {
        let mut args = vec![
            "--json",
            "card-charging",
            "verify-callback",
            "--partner-key",
            KEY,
            "--body",
            path.to_str().unwrap(),
        ];
        if confirm {
            args.extend([
                "--confirm",
                "--endpoint",
                ep,
                "--partner-id",
                "sandbox-partner",
            ]);
        }
        run(&args, &[])
    };
    // The sign covers code and serial only: a changed amount still verifies, and says so.
    let (out, v) = verify(&tampered, false);
    assert_eq!(out.status.code(), Some(0), "{v}");
    let unsigned = v["unsigned_fields"].as_array().unwrap();
    assert!(unsigned.contains(&Value::from("amount")) && unsigned.contains(&Value::from("status")));
    // Asking the gateway catches it.
    let (out, v) = verify(&tampered, true);
    assert_eq!(out.status.code(), Some(1), "{v}");
    assert_eq!(v["error"]["kind"], "signature");
    let (out, v) = verify(&honest, true);
    assert_eq!(out.status.code(), Some(0), "{v}");
    assert_eq!(v["confirmed"]["amount"], credited);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn provider_text_cannot_draw_on_the_terminal() {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for mut sock in listener.incoming().flatten() {
            let mut buf = [0_u8; 8192];
            let _ = sock.read(&mut buf);
            let body = "\u{1b}[2J\u{1b}[1;1H\r\nerror (transport): none\r\n";
            let head = format!(
                "HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = sock.write_all(head.as_bytes());
            let _ = sock.write_all(body.as_bytes());
        }
    });
    let endpoint = format!("http://{addr}/chargingws/v2");
    let mut args = charge_args(&endpoint, "check", "312821445892981", "r-esc");
    args.remove(0); // human mode
    let (out, _) = run(&args, &CREDS);
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last = stderr.lines().last().unwrap();
    assert!(last.starts_with("error (transport): "), "{stderr}");
    assert!(
        !stderr.contains('\u{1b}') && !stderr.contains('\r'),
        "{stderr:?}"
    );
    assert!(last.contains("\\u{1b}[2J"), "{last}");
    assert_eq!(stderr.matches("error (transport)").count(), 2, "{stderr}");
}

/// A minimal HTTP/1.1 request with std only; returns the status code.
/// A form body's type (what a payer's browser posts: `choice=pay` is the page's Pay button).
const FORM: &str = "application/x-www-form-urlencoded";

fn http(method: &str, url: &str, content_type: &str, body: &str) -> u16 {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest
        .split_once('/')
        .map_or((rest, "/".to_owned()), |(h, p)| (h, format!("/{p}")));
    let mut sock = std::net::TcpStream::connect(host).unwrap();
    write!(
        sock,
        "{method} {path} HTTP/1.1\r\nhost: {host}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    let _ = sock.read_to_string(&mut answer);
    answer.split(' ').nth(1).unwrap_or("0").parse().unwrap_or(0)
}

/// `paybridge receive` over an SQLite ledger, printing its routes; card callbacks are
/// confirmed with the gateway at `card_endpoint`.
fn receiver(ledger: &str, card_endpoint: &str) -> (Child, Value) {
    let mut child = Command::new(BIN)
        .args(["receive", "--addr", "127.0.0.1:0", "--ledger", ledger])
        .args(["--card-endpoint", card_endpoint])
        .env("PAYBRIDGE_CARD_PARTNER_KEY", KEY)
        .env("PAYBRIDGE_CARD_PARTNER_ID", CREDS[0].1)
        .env("PAYBRIDGE_QVICKLY_SECRET", QVICKLY_SECRET)
        .env("PAYBRIDGE_QVICKLY_ID", "sandbox-merchant")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let routes = first_line(&mut child);
    (child, routes)
}

fn ledger_events(ledger: &str) -> Vec<Value> {
    let (out, v) = run(&["--json", "ledger", "events", "--ledger", ledger], &[]);
    assert_eq!(out.status.code(), Some(0), "{v}");
    v["events"].as_array().unwrap().clone()
}

#[test]
#[allow(
    clippy::too_many_lines,
    reason = "one end-to-end story, told in order: receive, deliver, restart, reconcile"
)]
fn receive_records_each_callback_once_across_deliveries_and_restarts() {
    let sb = sandbox();
    let card_ep = sb.endpoints["card-charging"].as_str().unwrap().to_owned();
    let qvickly_ep = sb.endpoints["qvickly"].as_str().unwrap().to_owned();
    let base = qvickly_ep.split("/payment").next().unwrap().to_owned();
    let dir = std::env::temp_dir().join(unique("receive"));
    std::fs::create_dir_all(&dir).unwrap();
    let ledger = format!("sqlite://{}", dir.join("paybridge.db").display());
    let (mut rx, routes) = receiver(&ledger, &card_ep);
    let card_cb = routes["card-charging"].as_str().unwrap();
    let qvickly_cb = routes["qvickly"].as_str().unwrap();
    assert!(card_cb.ends_with("/card-charging/callback"), "{routes}");

    // A card: charged with --ledger (the card kept sealed), pending, then its callback.
    let set = http(
        "PUT",
        &format!("{card_ep}/_sandbox/callback-url"),
        "text/plain",
        card_cb,
    );
    assert!((200..300).contains(&set), "{set}");
    let rid = unique("rx");
    let seal = ("PAYBRIDGE_LEDGER_KEY", "11".repeat(32));
    let mut args = charge_args(&card_ep, "charge", "312821445892989", &rid);
    args.extend(["--ledger", &ledger]);
    let (out, v) = run(&args, &[CREDS[0], CREDS[1], (seal.0, seal.1.as_str())]);
    assert_eq!(out.status.code(), Some(0), "{v}");
    assert_eq!(v["status"], "pending");
    // A Qvickly callback, delivered three times.
    let spec = format!(
        r#"{{"url":"{qvickly_cb}","number":"7001","status":"Paid","orderid":"Q-1","test":false}}"#
    );
    for _ in 0..3 {
        assert_eq!(
            http(
                "POST",
                &format!("{base}/qvickly/_sandbox/callback"),
                "application/json",
                &spec
            ),
            200
        );
    }
    let mut events = Vec::new();
    for _ in 0..100 {
        events = ledger_events(&ledger);
        if events.len() >= 2 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let find = |events: &[Value], provider: &str| {
        events
            .iter()
            .find(|e| e["provider"] == provider)
            .cloned()
            .unwrap_or_else(|| panic!("no {provider} event in {events:?}"))
    };
    let qv = find(&events, "qvickly");
    assert_eq!(qv["deliveries"], 3, "{qv}");
    assert_eq!(qv["status"], "succeeded");
    assert_eq!(qv["reference"], "Q-1");
    let card = find(&events, "card-charging");
    assert_eq!(card["reference"], rid.as_str());
    assert_eq!(card["status"], "succeeded");

    // kill -9, restart: the events are still there, and a fourth delivery is a duplicate.
    rx.kill().unwrap();
    let _ = rx.wait();
    let (mut rx, routes) = receiver(&ledger, &card_ep);
    let spec = format!(
        r#"{{"url":"{}","number":"7001","status":"Paid","orderid":"Q-1","test":false}}"#,
        routes["qvickly"].as_str().unwrap()
    );
    assert_eq!(
        http(
            "POST",
            &format!("{base}/qvickly/_sandbox/callback"),
            "application/json",
            &spec
        ),
        200
    );
    let events = ledger_events(&ledger);
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(find(&events, "qvickly")["deliveries"], 4);

    // The payment the charge recorded moved forward with the callback, and `check` needs
    // no card flags: the ledger holds the card, sealed.
    let (out, v) = run(
        &[
            "--json",
            "ledger",
            "payments",
            "--ledger",
            &ledger,
            "--provider",
            "card-charging",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(v["payments"][0]["status"], "succeeded", "{v}");
    assert_eq!(v["payments"][0]["amount"], "50000");
    let (out, v) = run(
        &[
            "--json",
            "card-charging",
            "check",
            "--endpoint",
            &card_ep,
            "--request-id",
            &rid,
            "--ledger",
            &ledger,
        ],
        &[CREDS[0], CREDS[1], (seal.0, seal.1.as_str())],
    );
    assert_eq!(out.status.code(), Some(0), "{v}");
    assert_eq!(v["status"], "succeeded");
    let (out, v) = run(
        &[
            "--json",
            "card-charging",
            "check",
            "--endpoint",
            &card_ep,
            "--request-id",
            &rid,
            "--ledger",
            &ledger,
        ],
        &[CREDS[0], CREDS[1]],
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "without the seal key the card cannot be read: {v}"
    );
    let (out, v) = run(&["--json", "ledger", "purge", "--ledger", &ledger], &[]);
    assert_eq!(
        (out.status.code(), v["purged"].as_u64()),
        (Some(0), Some(0)),
        "{v}"
    );
    let _ = rx.kill();
    let _ = rx.wait();
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn woopay_confirm_is_what_a_request_url_handler_does() {
    let sb = sandbox();
    let ep = sb.endpoints["woopay"].as_str().unwrap();
    let base = ep.split("/api/").next().unwrap();
    let env = [
        ("PAYBRIDGE_WOOPAY_USERNAME", "test_merch"),
        ("PAYBRIDGE_WOOPAY_PASSWORD", WOOPAY_PASSWORD),
    ];
    // The merchant's requestUrl: answers what Wooppay waits for.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let request_url = format!("http://{}/paid", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for mut sock in listener.incoming().flatten() {
            let mut buf = [0_u8; 4096];
            let _ = sock.read(&mut buf);
            let _ = sock.write_all(
                b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\nconnection: close\r\n\r\n{\"data\":1}",
            );
        }
    });
    let reference = unique("confirm");
    let (out, v) = run(
        &[
            "--json",
            "woopay",
            "create-invoice",
            "--endpoint",
            ep,
            "--reference-id",
            &reference,
            "--amount",
            "100",
            "--back-url",
            "https://shop/back",
            "--request-url",
            &request_url,
        ],
        &env,
    );
    assert_eq!(out.status.code(), Some(0), "{v}");
    let id = v["operation_id"].as_i64().unwrap().to_string();
    let confirm = [
        "--json",
        "woopay",
        "confirm",
        "--endpoint",
        ep,
        "--operation-id",
        &id,
    ];
    // Not paid yet: the operation, exit 1.
    let (out, v) = run(&confirm, &env);
    assert_eq!(out.status.code(), Some(1), "{v}");
    assert_eq!(v["status"], "pending");
    assert_eq!(v["provider_status"], 1);
    // Paid on the sandbox's page: confirmed, exit 0.
    assert!((200..300).contains(&http(
        "POST",
        &format!("{base}/invoice/pay?id={id}"),
        "text/plain",
        ""
    )));
    let (out, v) = run(&confirm, &env);
    assert_eq!(out.status.code(), Some(0), "{v}");
    assert_eq!(v["status"], "succeeded");
    assert_eq!(v["provider_status"], 4);
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
fn receive_refuses_an_unconfirmed_card_route_unless_told_to_trust_it() {
    let dir = std::env::temp_dir().join(unique("card-route"));
    std::fs::create_dir_all(&dir).unwrap();
    let ledger = format!("sqlite://{}", dir.join("paybridge.db").display());
    let (out, v) = run(
        &[
            "--json",
            "receive",
            "--addr",
            "127.0.0.1:0",
            "--ledger",
            &ledger,
        ],
        &[("PAYBRIDGE_CARD_PARTNER_KEY", KEY)],
    );
    assert_eq!(out.status.code(), Some(2), "{v}");
    let message = v["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("--card-endpoint") && message.contains("--trust-unsigned-card-status"),
        "{message}"
    );
    // The opt-out starts, and says so on stderr.
    let mut child = Command::new(BIN)
        .args(["receive", "--addr", "127.0.0.1:0", "--ledger", &ledger])
        .arg("--trust-unsigned-card-status")
        .env("PAYBRIDGE_CARD_PARTNER_KEY", KEY)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let routes = first_line(&mut child);
    assert!(routes["card-charging"].is_string(), "{routes}");
    // SIGTERM: stops accepting, finishes what is in hand, exits 0.
    let sent = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}: {stderr}");
    assert!(stderr.contains("not confirmed"), "{stderr}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn card_charging_fees_prints_the_gateways_table() {
    let sb = sandbox();
    let ep = sb.endpoints["card-charging"].as_str().unwrap().to_owned();
    let (out, v) = run(
        &["--json", "card-charging", "fees", "--endpoint", &ep],
        &[CREDS[0]],
    );
    assert_eq!(out.status.code(), Some(0), "{v}");
    let fees = v["fees"].as_array().unwrap();
    assert!(fees.iter().any(|f| f["telco"] == "VIETTEL"
        && f["value"] == "50000"
        && f["fee_percent"] == "30"
        && f["penalty_percent"] == "50"));
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

#[test]
#[allow(
    clippy::too_many_lines,
    reason = "one end-to-end story, told in order: receive, invoice, pay, confirm"
)]
fn a_wooppay_request_url_is_recorded_once_confirmed() {
    let sb = sandbox();
    let ep = sb.endpoints["woopay"].as_str().unwrap().to_owned();
    let base = ep.split("/api/").next().unwrap().to_owned();
    let dir = std::env::temp_dir().join(unique("woopay-rx"));
    std::fs::create_dir_all(&dir).unwrap();
    let ledger = format!("sqlite://{}", dir.join("paybridge.db").display());
    let mut rx = Command::new(BIN)
        .args(["receive", "--ledger", &ledger, "--woopay-endpoint", &ep])
        .env("PAYBRIDGE_WOOPAY_USERNAME", "test_merch")
        .env("PAYBRIDGE_WOOPAY_PASSWORD", WOOPAY_PASSWORD)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let routes = first_line(&mut rx);
    let request_url = routes["woopay"].as_str().unwrap();
    let env = [
        ("PAYBRIDGE_WOOPAY_USERNAME", "test_merch"),
        ("PAYBRIDGE_WOOPAY_PASSWORD", WOOPAY_PASSWORD),
    ];
    let reference = unique("inv");
    let (out, v) = run(
        &[
            "--json",
            "woopay",
            "create-invoice",
            "--endpoint",
            &ep,
            "--reference-id",
            &reference,
            "--amount",
            "100.50",
            "--back-url",
            "https://shop/back",
            "--request-url",
            request_url,
            "--ledger",
            &ledger,
        ],
        &env,
    );
    assert_eq!(out.status.code(), Some(0), "{v}");
    let id = v["operation_id"].as_i64().unwrap();
    let (out, v) = run(
        &[
            "--json",
            "ledger",
            "payments",
            "--ledger",
            &ledger,
            "--provider",
            "woopay",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        v["payments"][0]["provider_reference"],
        id.to_string(),
        "{v}"
    );
    // Paid: the sandbox calls the requestUrl until it answers {"data":1}; the receiver
    // confirms status 4 with cash_getOperationData before it does.
    let paid = http(
        "POST",
        &format!("{base}/invoice/pay?id={id}"),
        "text/plain",
        "",
    );
    assert!((200..300).contains(&paid), "{paid}");
    let (_, v) = run(
        &[
            "--json",
            "ledger",
            "events",
            "--ledger",
            &ledger,
            "--provider",
            "woopay",
        ],
        &[],
    );
    let event = &v["events"][0];
    assert_eq!(event["key"], format!("{id}:4"), "{v}");
    assert_eq!(event["status"], "succeeded");
    assert_eq!(event["reference"], reference.as_str());
    let (_, v) = run(
        &[
            "--json",
            "ledger",
            "payments",
            "--ledger",
            &ledger,
            "--provider",
            "woopay",
        ],
        &[],
    );
    assert_eq!(v["payments"][0]["status"], "succeeded", "{v}");
    let _ = rx.kill();
    let _ = rx.wait();
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_sandbox_plays_the_merchant_too_over_a_temporary_ledger() {
    let sb = sandbox();
    let card_ep = sb.endpoints["card-charging"].as_str().unwrap();
    let receive = sb.endpoints["receive"]["card-charging"].as_str().unwrap();
    let ledger = sb.endpoints["ledger"].as_str().unwrap();
    assert!(ledger.starts_with("sqlite://"), "{}", sb.endpoints);
    let set = http(
        "PUT",
        &format!("{card_ep}/_sandbox/callback-url"),
        "text/plain",
        receive,
    );
    assert!((200..300).contains(&set));
    let rid = unique("sb");
    let (out, v) = run(
        &charge_args(card_ep, "charge", "312821445892989", &rid),
        &CREDS,
    );
    assert_eq!(out.status.code(), Some(0), "{v}");
    let mut events = Vec::new();
    for _ in 0..100 {
        events = ledger_events(ledger);
        if events.iter().any(|e| e["reference"] == rid.as_str()) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let event = events
        .iter()
        .find(|e| e["reference"] == rid.as_str())
        .unwrap();
    assert_eq!(event["status"], "succeeded");
}

#[test]
fn flags_are_validated_in_users_terms() {
    let (out, v) = run(
        &[
            "--json",
            "qvickly",
            "forward",
            "--endpoint",
            "http://127.0.0.1:9/x",
            "--body",
            "-",
            "--company-id",
            "notaguid",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{v}");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("GUID"),
        "{v}"
    );
    let mut amount = charge_args("http://127.0.0.1:9/x", "charge", "1", "r1");
    amount[12] = "-5";
    let (out, v) = run(&amount, &CREDS);
    assert_eq!(out.status.code(), Some(2), "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("more than zero"),
        "{v}"
    );
    // A host name for --addr.
    let sb = sandbox_at("localhost:0");
    let card = sb.endpoints["card-charging"].as_str().unwrap();
    assert!(card.starts_with("http://"), "{card}");
}

/// `paybridge ARGS` without `PAYBRIDGE_LOG`, stdout and stderr as text.
fn plain(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .env_remove("PAYBRIDGE_LOG")
        .env_remove("PAYBRIDGE_CARD_PARTNER_KEY")
        .env_remove("PAYBRIDGE_CARD_PARTNER_ID")
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A card command against a port where nothing listens.
fn offline_card(command: &'static str, amount: &'static str) -> Vec<&'static str> {
    vec![
        "card-charging",
        command,
        "--endpoint",
        "http://127.0.0.1:9/x",
        "--partner-id",
        "p",
        "--partner-key",
        "k",
        "--telco",
        "VIETTEL",
        "--code",
        "312821445892981",
        "--serial",
        "10004783347874",
        "--amount",
        amount,
        "--request-id",
        "r1",
    ]
}

/// Habits of the tools people know: typos refused locally or answered with the closest
/// name, shell completions.
#[test]
fn typos_are_caught_and_completions_are_printed() {
    // A telco typo is refused here (exit 2, nothing sent: the endpoint is unreachable anyway),
    // naming the networks; --any-telco sends it (and meets the unreachable endpoint: exit 3).
    let mut typo = offline_card("charge", "10000");
    typo[9] = "VIETEL";
    let (code, _, err) = plain(&typo);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("VIETTEL, VINAPHONE") && err.contains("--any-telco"),
        "{err}"
    );
    typo.push("--any-telco");
    let (code, _, err) = plain(&typo);
    assert_eq!(code, Some(3), "{err}");

    // Typos get suggestions, as in the tools people know.
    let (code, _, err) = plain(&["ledgr", "payments"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("similar subcommand exists: 'ledger'"), "{err}");
    let (_, _, err) = plain(&["ledger", "payments", "--ledgr", "x"]);
    assert!(err.contains("similar argument exists: '--ledger'"), "{err}");
    // Shell completions for every command.
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let (code, script, err) = plain(&["completions", shell]);
        assert_eq!(code, Some(0), "{shell}: {err}");
        assert!(
            script.contains("paybridge") && script.contains("verify-return"),
            "{shell}"
        );
    }
}

#[test]
fn help_and_output_speak_the_users_language() {
    // Every file argument says it takes a path or `-` for stdin.
    for (args, flag) in [
        (["payoo", "call", "--help"], "--param"),
        (["linkifier-ipn", "send", "--help"], "--ipn"),
        (["qvickly", "verify-callback", "--help"], "--body"),
        (["payoo", "verify-notify", "--help"], "--body"),
        (["card-charging", "verify-callback", "--help"], "--body"),
    ] {
        let (code, help, _) = plain(&args);
        assert_eq!(code, Some(0), "{args:?}");
        let line = help
            .lines()
            .find(|l| l.trim_start().starts_with(flag))
            .unwrap_or_else(|| panic!("{args:?}: no {flag} in {help}"));
        assert!(line.contains("`-` for stdin"), "{args:?}: {line}");
    }
    // `send --help` says where a record to start from comes from, and that command prints
    // one `send` takes.
    let (_, help, _) = plain(&["linkifier-ipn", "send", "--help"]);
    assert!(help.contains("paybridge linkifier-ipn template"), "{help}");
    let (code, template, _) = plain(&["--json", "linkifier-ipn", "template"]);
    assert_eq!(code, Some(0));
    let record: Value = serde_json::from_str(&template).unwrap();
    assert!(record["pay_transaction_id"].is_string(), "{record}");
    assert!(record["pay_provider_amount"].is_string(), "{record}");

    // Errors name the CLI's flags, not the library's fields.
    let (code, _, err) = plain(&offline_card("charge", "12345"));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("pass --any-amount"), "{err}");
    assert!(!err.contains("check_denomination"), "{err}");
    // On a non-terminal stderr: no colours, and the final error once, not echoed by a log line.
    let (code, _, err) = plain(&offline_card("check", "10000"));
    assert_eq!(code, Some(3), "{err}");
    assert!(!err.contains('\u{1b}'), "colour codes on a pipe: {err:?}");
    assert_eq!(
        err.matches("cannot connect to 127.0.0.1:9").count(),
        1,
        "{err}"
    );

    // Debug logs: one span per call, its fields not piled up across the retried attempts.
    let out = Command::new(BIN)
        .args(offline_card("check", "10000"))
        .env("PAYBRIDGE_LOG", "debug")
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(
        log.contains("retrying idempotent request attempt=2"),
        "{log}"
    );
    for line in log.lines() {
        assert!(line.matches("attempt=").count() <= 1, "{line}");
    }

    // Human output of a nested result reads as an indented list, not as JSON paths.
    let (_, human, _) = plain(&["linkifier-ipn", "template"]);
    assert!(human.contains("buyer_info:\n  "), "{human}");
    assert!(!human.contains("[0]"), "{human}");

    // A reader that goes away early (`| head`) is not a crash.
    let mut child = Command::new(BIN)
        .args(["linkifier-ipn", "template"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("panicked"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The demo says where it runs and ends with commands to try by hand.
    let (code, demo, _) = plain(&["demo"]);
    assert_eq!(code, Some(0), "{demo}");
    assert!(
        demo.lines()
            .next()
            .unwrap()
            .contains("runs against an in-process sandbox"),
        "{demo}"
    );
    assert!(
        demo.contains("try the sandbox by hand:\n  paybridge sandbox"),
        "{demo}"
    );
    assert!(demo.contains("--partner-id sandbox-partner"), "{demo}");
}

#[test]
fn a_wooppay_invoice_is_recorded_before_it_is_sent_and_a_reference_is_used_once() {
    let dir = std::env::temp_dir().join(unique("woopay-before"));
    std::fs::create_dir_all(&dir).unwrap();
    let ledger = format!("sqlite://{}", dir.join("paybridge.db").display());
    // Nothing listens there: the creation fails, the pending invoice is already recorded.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/api/wsd/", l.local_addr().unwrap())
    };
    let env = [
        ("PAYBRIDGE_WOOPAY_USERNAME", "test_merch"),
        ("PAYBRIDGE_WOOPAY_PASSWORD", WOOPAY_PASSWORD),
    ];
    let create = |reference: &str| {
        run(
            &[
                "--json",
                "woopay",
                "create-invoice",
                "--endpoint",
                &dead,
                "--timeout",
                "2",
                "--reference-id",
                reference,
                "--amount",
                "2500",
                "--back-url",
                "https://shop/back",
                "--request-url",
                "https://shop/rx",
                "--ledger",
                &ledger,
            ],
            &env,
        )
    };
    let (out, v) = create("inv-1");
    assert_eq!(out.status.code(), Some(3), "{v}");
    let (_, payments) = run(&["--json", "ledger", "payments", "--ledger", &ledger], &[]);
    let held = payments["payments"].as_array().unwrap();
    assert_eq!(held.len(), 1, "{payments}");
    assert_eq!(
        (held[0]["reference"].as_str(), held[0]["status"].as_str()),
        (Some("inv-1"), Some("pending"))
    );
    // The same reference again: refused before anything is sent.
    let (out, v) = create("inv-1");
    assert_eq!(out.status.code(), Some(2), "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("already holds"),
        "{v}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn ledger_payments_pages_with_a_cursor() {
    let dir = std::env::temp_dir().join(unique("pages"));
    std::fs::create_dir_all(&dir).unwrap();
    let ledger_url = format!("sqlite://{}", dir.join("paybridge.db").display());
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let ledger = paybridge_ledger::Ledger::open(&ledger_url).await.unwrap();
            for i in 0..5 {
                ledger
                    .record_payment(&paybridge_ledger::NewPayment::new(
                        "woopay",
                        format!("p-{i}"),
                        paybridge_core::PaymentStatus::Pending,
                        paybridge_core::Money::parse("100", paybridge_core::Currency::KZT).unwrap(),
                    ))
                    .await
                    .unwrap();
            }
        });
    let mut after: Option<String> = None;
    let mut seen = Vec::new();
    for _ in 0..3 {
        let mut args = vec![
            "--json",
            "ledger",
            "payments",
            "--ledger",
            &ledger_url,
            "--limit",
            "2",
        ];
        if let Some(a) = &after {
            args.extend(["--after", a.as_str()]);
        }
        let (out, v) = run(&args, &[]);
        assert_eq!(out.status.code(), Some(0), "{v}");
        for p in v["payments"].as_array().unwrap() {
            seen.push(p["reference"].as_str().unwrap().to_owned());
        }
        after = v["next"].as_str().map(str::to_owned);
    }
    assert!(after.is_none(), "three pages of 2, 2 and 1");
    seen.sort();
    assert_eq!(seen, ["p-0", "p-1", "p-2", "p-3", "p-4"]);
    let (out, v) = run(
        &[
            "--json",
            "ledger",
            "payments",
            "--ledger",
            &ledger_url,
            "--after",
            "junk",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{v}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn ledger_review_lists_what_needs_a_person_with_its_anomaly() {
    let dir = std::env::temp_dir().join(unique("review"));
    std::fs::create_dir_all(&dir).unwrap();
    let ledger_url = format!("sqlite://{}", dir.join("paybridge.db").display());
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let ledger = paybridge_ledger::Ledger::open(&ledger_url).await.unwrap();
            let vnd =
                |n: &str| paybridge_core::Money::parse(n, paybridge_core::Currency::VND).unwrap();
            for reference in ["fine", "short"] {
                ledger
                    .record_payment(&paybridge_ledger::NewPayment::new(
                        "card-charging",
                        reference,
                        paybridge_core::PaymentStatus::Pending,
                        vnd("500000"),
                    ))
                    .await
                    .unwrap();
            }
            for (reference, paid) in [("fine", "500000"), ("short", "175000")] {
                let outcome = paybridge_ledger::Outcome::new(
                    reference,
                    paybridge_core::PaymentStatus::Succeeded,
                    "2",
                )
                .with_amount(vnd(paid));
                ledger
                    .report(
                        "card-charging",
                        &outcome,
                        paybridge_ledger::Source::StatusCheck,
                    )
                    .await
                    .unwrap();
            }
        });
    let (out, v) = run(
        &["--json", "ledger", "review", "--ledger", &ledger_url],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{v}");
    let payments = v["payments"].as_array().unwrap();
    assert_eq!(payments.len(), 1, "{v}");
    assert_eq!(payments[0]["reference"], "short");
    assert_eq!(payments[0]["anomaly"], "underpaid");
    assert_eq!(payments[0]["paid_amount"], "175000");
    assert_eq!(payments[0]["events"][1]["source"], "status_check");
    let _ = std::fs::remove_dir_all(dir);
}

/// The contract's transcript: a charge through a gateway that never answers is recorded and
/// its outcome unknown; `reconcile --once --all` asks the sandbox and records what happened;
/// a charge the gateway never saw is handed to a person, not failed.
#[test]
fn a_charge_whose_outcome_is_unknown_is_reconciled_from_the_ledger() {
    let sb = sandbox();
    let endpoint = sb.endpoints["card-charging"].as_str().unwrap().to_owned();
    let hanging = format!(
        "{}/chargingws/v2",
        paybridge_testkit::swallowing_proxy(endpoint.trim_end_matches("/chargingws/v2"))
    );
    let dir = std::env::temp_dir().join(unique("reconcile"));
    std::fs::create_dir_all(&dir).unwrap();
    let ledger_url = format!("sqlite://{}", dir.join("paybridge.db").display());
    let sealed = "11".repeat(32);
    let mut env = CREDS.to_vec();
    env.push(("PAYBRIDGE_LEDGER_KEY", &sealed));
    let taken = unique("order");
    let mut args = charge_args(&hanging, "charge", "312821445892981", &taken);
    args.extend(["--ledger", &ledger_url, "--timeout", "2"]);
    let (out, v) = run(&args, &env);
    assert_eq!(out.status.code(), Some(3), "{v}");
    assert_eq!(v["error"]["outcome_unknown"], true, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`paybridge reconcile`"),
        "{v}"
    );
    // A gateway that never even saw the charge.
    let (lost, _) = hung_server();
    let unseen = unique("unseen");
    let lost = format!("{lost}/chargingws/v2");
    let mut args = charge_args(&lost, "charge", "312821445892981", &unseen);
    args.extend(["--ledger", &ledger_url, "--timeout", "2"]);
    assert_eq!(run(&args, &env).0.status.code(), Some(3));

    let payments = |status: &str| {
        let (out, v) = run(
            &[
                "--json",
                "ledger",
                "payments",
                "--ledger",
                &ledger_url,
                "--status",
                status,
            ],
            &[],
        );
        assert_eq!(out.status.code(), Some(0), "{v}");
        v["payments"].as_array().unwrap().clone()
    };
    let pending = payments("pending");
    assert_eq!(pending.len(), 2, "{pending:?}");
    assert!(pending.iter().all(|p| p["next_check_at"].is_string()));

    env.push(("PAYBRIDGE_CARD_ENDPOINT", &endpoint));
    let reconcile = [
        "--json",
        "reconcile",
        "--ledger",
        &ledger_url,
        "--once",
        "--all",
    ];
    let (out, v) = run(&reconcile, &env);
    assert_eq!(out.status.code(), Some(0), "{v}");
    assert_eq!(
        v,
        json!({"checked": 2, "changed": 2, "needs_review": 1, "refunds_resolved": 0})
    );
    let succeeded = payments("succeeded");
    assert_eq!(succeeded.len(), 1, "{succeeded:?}");
    assert_eq!(succeeded[0]["reference"], taken.as_str());
    assert_eq!(succeeded[0]["paid_amount"], "50000");
    assert!(succeeded[0]["next_check_at"].is_null());
    let (_, review) = run(
        &["--json", "ledger", "review", "--ledger", &ledger_url],
        &[],
    );
    let review = review["payments"].as_array().unwrap();
    assert_eq!(review.len(), 1, "{review:?}");
    assert_eq!(review[0]["reference"], unseen.as_str());
    assert_eq!(review[0]["anomaly"], "unreconciled");
    assert!(
        review[0]["last_check_error"]
            .as_str()
            .unwrap()
            .contains("did not answer `check`"),
        "{review:?}"
    );
    // Nothing is left to ask.
    let (_, v) = run(&reconcile, &env);
    assert_eq!(
        v,
        json!({"checked": 0, "changed": 0, "needs_review": 0, "refunds_resolved": 0})
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// Wooppay's money back and lookups through the CLI: an invoice recorded in a ledger, paid in
/// the sandbox, half refunded with `--ledger`, the rest, a repeat of the same command
/// (recognised, nothing sent), more than was paid (refused by the ledger before sending), and
/// the payment `partially_refunded` then `reversed`; then every lookup command.
#[test]
#[allow(
    clippy::too_many_lines,
    reason = "one sandbox session through the money-back and lookup commands, in order"
)]
fn woopay_refunds_through_the_ledger_and_lookups() {
    let sb = sandbox();
    let ep = sb.endpoints["woopay"].as_str().unwrap();
    let base = ep.split("/api/").next().unwrap();
    let env = [
        ("PAYBRIDGE_WOOPAY_USERNAME", "test_merch"),
        ("PAYBRIDGE_WOOPAY_PASSWORD", WOOPAY_PASSWORD),
    ];
    let dir = std::env::temp_dir().join(unique("woopay-refunds"));
    std::fs::create_dir_all(&dir).unwrap();
    let ledger = format!("sqlite://{}", dir.join("paybridge.db").display());
    let net = |cmd: &'static str| vec!["--json", "woopay", cmd, "--endpoint", ep];

    let mut create = net("create-invoice");
    create.extend([
        "--reference-id",
        "order-77",
        "--amount",
        "5000",
        "--back-url",
        "https://shop/back",
        "--request-url",
        "https://shop/cb",
        "--ledger",
        &ledger,
    ]);
    let (out, v) = run(&create, &env);
    assert_eq!(out.status.code(), Some(0), "{v}");
    let id = v["operation_id"].as_i64().unwrap().to_string();
    let status = http(
        "POST",
        &format!("{base}/invoice/pay?id={id}"),
        "text/plain",
        "",
    );
    assert!(status == 502 || (200..300).contains(&status), "{status}");

    let refund = |amount: Option<&'static str>| {
        let mut args = net("refund");
        args.extend(["--operation-id", id.as_str(), "--ledger", ledger.as_str()]);
        if let Some(a) = amount {
            args.extend(["--amount", a]);
        }
        run(&args, &env)
    };
    let payment_status = || {
        let (_, v) = run(&["--json", "ledger", "payments", "--ledger", &ledger], &[]);
        (
            v["payments"][0]["status"].clone(),
            v["payments"][0]["refunded_amount"].clone(),
        )
    };
    // The ledger has not heard of the payment yet (its requestUrl is unreachable): refused,
    // with how to let it learn; the reconciler asks Wooppay and records it paid.
    let (out, v) = refund(Some("2500"));
    assert_eq!(
        (out.status.code(), &v["error"]["kind"]),
        (Some(2), &json!("input")),
        "{v}"
    );
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("reconcile"),
        "{v}"
    );
    let mut reconcile_env = env.to_vec();
    reconcile_env.push(("PAYBRIDGE_WOOPAY_ENDPOINT", ep));
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
    assert_eq!(payment_status(), (json!("succeeded"), Value::Null));

    let (out, v) = refund(Some("2500"));
    assert_eq!(out.status.code(), Some(0), "{v}");
    assert_eq!(
        (&v["refunded"], &v["status"], &v["repeat"], &v["reference"]),
        (
            &json!("2500.00"),
            &json!("succeeded"),
            &json!(false),
            &json!("order-77")
        ),
        "{v}"
    );
    assert_eq!(v["payment_status"], "partially_refunded");
    assert_eq!(
        payment_status(),
        (json!("partially_refunded"), json!("2500.00"))
    );
    // The same refund retried with the amount spelled another way: one refund (the default id
    // names the amount in minor units), answered from the ledger, nothing sent.
    let (out, v) = refund(Some("2500.00"));
    assert_eq!(out.status.code(), Some(0), "{v}");
    assert_eq!(
        (&v["repeat"], &v["refunded"]),
        (&json!(true), &json!("2500.00")),
        "{v}"
    );
    assert_eq!(
        payment_status(),
        (json!("partially_refunded"), json!("2500.00"))
    );
    let (out, v) = refund(None);
    assert_eq!(out.status.code(), Some(0), "{v}");
    assert_eq!(
        (&v["refunded"], &v["repeat"]),
        (&json!("2500.00"), &json!(false))
    );
    assert_eq!(payment_status(), (json!("reversed"), json!("5000.00")));
    // The same command again is the same refund: answered from the ledger, nothing sent.
    let (out, v) = refund(None);
    assert_eq!(
        (out.status.code(), &v["repeat"]),
        (Some(0), &json!(true)),
        "{v}"
    );
    // More than was paid: the ledger refuses before anything is sent.
    let (out, v) = refund(Some("1"));
    assert_eq!(
        (out.status.code(), &v["error"]["kind"]),
        (Some(2), &json!("input")),
        "{v}"
    );
    // And Wooppay agrees: nothing is left of the operation (14).
    let mut direct = net("refund");
    direct.extend(["--operation-id", id.as_str(), "--amount", "1"]);
    let (out, v) = run(&direct, &env);
    assert_eq!(
        (out.status.code(), &v["error"]["code"]),
        (Some(1), &json!(14)),
        "{v}"
    );

    // Lookups.
    let mut extended = net("operation-data");
    extended.extend(["--operation-id", id.as_str(), "--extended"]);
    let (out, v) = run(&extended, &env);
    assert_eq!(out.status.code(), Some(0), "{v}");
    let op = &v["operations"][0];
    assert_eq!(
        (&op["external_id"], &op["status"], &op["ret_sum_raw"]),
        (&json!("order-77"), &json!("reversed"), &json!(500_000)),
        "{op}"
    );
    // The simulator stamps operations with the real time: today's window finds them.
    let day = |offset: i64| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let c = paybridge_core::time::civil(i64::try_from(now).unwrap() + offset * 86_400);
        format!("{:04}-{:02}-{:02}", c.year, c.month, c.day)
    };
    let (from, to) = (day(-1), day(1));
    let mut statuses = net("operations-status");
    statuses.extend([
        "--reference-id",
        "order-77",
        "--from",
        from.as_str(),
        "--to",
        to.as_str(),
    ]);
    let (out, v) = run(&statuses, &env);
    assert_eq!(out.status.code(), Some(0), "{v}");
    assert_eq!(v["operations"][0]["provider_status"], 5, "{v}");
    let (before, long_before) = (day(-9), day(-10));
    let mut last_week = net("operations-status");
    last_week.extend([
        "--reference-id",
        "order-77",
        "--from",
        long_before.as_str(),
        "--to",
        before.as_str(),
    ]);
    let (_, v) = run(&last_week, &env);
    assert_eq!(v["operations"], json!([]), "not created then: {v}");
    let mut transfers = net("transfers");
    transfers.extend(["--per-page", "10", "--status", "5"]);
    let (out, v) = run(&transfers, &env);
    assert_eq!(out.status.code(), Some(0), "{v}");
    assert_eq!(v["records"][0]["sum"], "5000.00", "{v}");
    let mut receipt = net("receipt");
    receipt.extend(["--operation-id", id.as_str()]);
    let (out, v) = run(&receipt, &env);
    assert_eq!(
        (out.status.code(), &v["ident"][0]),
        (Some(0), &json!("order-77")),
        "{v}"
    );
    let mut commission = net("commission");
    commission.extend(["--service-id", "7", "--amount", "1000"]);
    let (out, v) = run(&commission, &env);
    assert_eq!(
        (out.status.code(), &v["commission"]),
        (Some(0), &json!("20.00")),
        "{v}"
    );
    let mut usd = net("create-invoice");
    usd.extend([
        "--reference-id",
        "order-usd",
        "--amount",
        "19.99",
        "--currency",
        "USD",
        "--back-url",
        "https://shop/back",
        "--request-url",
        "https://shop/cb",
    ]);
    let (out, v) = run(&usd, &env);
    assert_eq!(out.status.code(), Some(0), "{v}");
    let (out, v) = run(&usd, &env);
    assert_eq!(
        (out.status.code(), &v["error"]["code"]),
        (Some(1), &json!(221)),
        "a reference used before: {v}"
    );
    // A phone-balance payment goes back with refund-mobile only.
    let mut mobile = net("refund-mobile");
    mobile.extend(["--operation-id", id.as_str(), "--amount", "1"]);
    let (out, v) = run(&mobile, &env);
    assert_eq!(
        (out.status.code(), &v["error"]["code"]),
        (Some(1), &json!(228)),
        "{v}"
    );
    let (out, v) = run(&net("logout"), &env);
    assert_eq!(
        (out.status.code(), &v["logged_out"]),
        (Some(0), &json!(true)),
        "{v}"
    );
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
    let forward = sb.endpoints["qvickly"].as_str().unwrap();
    let base = forward.split("/payment/").next().unwrap().to_owned();
    let endpoint = format!("{base}/qvickly/api/");
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

/// A merchant that verifies Standard Webhooks with the official `standardwebhooks` crate:
/// answers 500 to the first attempt of each message, 204 afterwards; keeps the verified
/// bodies and every attempt's `webhook-id`.
/// Texts a test thread and the test share.
type Shared = Arc<Mutex<Vec<String>>>;

fn verifying_merchant(secret: &str) -> (String, Shared, Shared) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    let verified = Arc::new(Mutex::new(Vec::new()));
    let attempts = Arc::new(Mutex::new(Vec::new()));
    let webhook = standardwebhooks::Webhook::new(secret).unwrap();
    let (v, a) = (verified.clone(), attempts.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (headers, body) = common::read_request(&stream).unwrap();
            let id = headers["webhook-id"].to_str().unwrap().to_owned();
            let first = !a.lock().unwrap().contains(&id);
            a.lock().unwrap().push(id);
            let status = if webhook.verify(&body, &headers).is_err() {
                "401 Unauthorized"
            } else if first {
                "500 Internal Server Error"
            } else {
                common::assert_valid_event(&body);
                v.lock().unwrap().push(String::from_utf8(body).unwrap());
                "204 No Content"
            };
            common::respond(stream, status);
        }
    });
    (url, verified, attempts)
}

/// `receive --forward`: a Qvickly card payment recorded with `add-payment --ledger`, paid in the
/// sandbox; its callback is confirmed with `getPaymentinfo` (status and total) and the state
/// change is delivered to the merchant as a Standard Webhooks request the official library
/// verifies — refused once (500), delivered on the retry 5 s later, never again; the outbox is
/// then empty.
#[test]
#[allow(
    clippy::too_many_lines,
    reason = "one story: receive with forwarding, a paid payment, its delivery and retry"
)]
fn receive_forwards_each_state_change_as_a_standard_webhook() {
    let sb = sandbox();
    let forward = sb.endpoints["qvickly"].as_str().unwrap();
    let base = forward.split("/payment/").next().unwrap().to_owned();
    let api = format!("{base}/qvickly/api/");
    let secret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    let (merchant, verified, attempts) = verifying_merchant(secret);
    let dir = std::env::temp_dir().join(unique("forward"));
    std::fs::create_dir_all(&dir).unwrap();
    let ledger = format!("sqlite://{}", dir.join("paybridge.db").display());
    let mut rx = Command::new(BIN)
        .args([
            "receive",
            "--addr",
            "127.0.0.1:0",
            "--ledger",
            &ledger,
            "--no-reconcile",
        ])
        .args(["--forward", &merchant, "--metrics-addr", "127.0.0.1:0"])
        .env("PAYBRIDGE_FORWARD_SECRET", secret)
        .env("PAYBRIDGE_QVICKLY_SECRET", QVICKLY_SECRET)
        .env("PAYBRIDGE_QVICKLY_ID", "sandbox-merchant")
        .env("PAYBRIDGE_QVICKLY_ENDPOINT", &api)
        .env("PAYBRIDGE_QVICKLY_ACCEPT_TEST", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let routes = first_line(&mut rx);
    let callback = routes["qvickly"].as_str().unwrap().to_owned();
    let env = [
        ("PAYBRIDGE_QVICKLY_ID", "sandbox-merchant"),
        ("PAYBRIDGE_QVICKLY_SECRET", QVICKLY_SECRET),
        ("PAYBRIDGE_QVICKLY_ENDPOINT", api.as_str()),
    ];
    let v = common::add_qvickly_payment(
        &json!({
            "PaymentData": {"method": "8", "currency": "SEK", "language": "sv", "country": "SE", "orderid": "FWD-1",
                            "autoactivate": "1", "callbackurl": callback},
            "Customer": {"Billing": {"email": "asa@example.se"}},
            "Articles": [{"artnr": "A-1", "title": "Tröja", "quantity": "1", "aprice": "25000", "taxrate": "25", "discount": "0", "withouttax": "25000"}],
            "Cart": {"Total": {"withouttax": "25000", "tax": "6250", "rounding": "0", "withtax": "31250"}}
        }),
        &ledger,
        &env,
    );
    let page = v["url"].as_str().unwrap().to_owned();
    let status = http("POST", &page, FORM, "choice=pay");
    assert!((200..300).contains(&status), "{status}");
    // The first attempt is refused; the retry 5 s later is delivered.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while verified.lock().unwrap().is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    let bodies = verified.lock().unwrap().clone();
    assert_eq!(bodies.len(), 1, "attempts: {:?}", attempts.lock().unwrap());
    let event: Value = serde_json::from_str(&bodies[0]).unwrap();
    assert_eq!(event["type"], "payment.succeeded", "{event}");
    assert_eq!(
        (
            &event["data"]["reference"],
            &event["data"]["amount"],
            &event["data"]["currency"]
        ),
        (&json!("FWD-1"), &json!("312.50"), &json!("SEK")),
        "the money is Qvickly's answer, not the callback's: {event}"
    );
    assert_eq!(event["data"]["provider_reference"], v["number"], "{event}");
    assert_eq!(
        attempts.lock().unwrap().len(),
        2,
        "refused once, delivered once"
    );
    let (out, v) = run(&["--json", "ledger", "outbox", "--ledger", &ledger], &[]);
    assert_eq!(
        (out.status.code(), &v["deliveries"]),
        (Some(0), &json!([])),
        "{v}"
    );
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(attempts.lock().unwrap().len(), 2, "never again");

    // A forged callback is refused, and counted.
    let status = http(
        "POST",
        &callback,
        "application/json",
        r#"{"credentials":{"hash":"00","id":"sandbox-merchant"},"data":{"number":"1","status":"Paid","orderid":"FWD-1","url":""}}"#,
    );
    assert_eq!(status, 401);
    let metrics = get_text(routes["metrics"].as_str().unwrap());
    let samples = prometheus_samples(&metrics);
    let sample = |name: &str| {
        samples
            .get(name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} missing:\n{metrics}"))
    };
    assert_eq!(
        sample(r#"paybridge_callbacks_total{provider="qvickly",outcome="verified"}"#),
        "1"
    );
    assert_eq!(
        sample(r#"paybridge_callbacks_total{provider="qvickly",outcome="refused"}"#),
        "1"
    );
    assert_eq!(
        sample(r#"paybridge_state_changes_total{provider="qvickly",outcome="succeeded"}"#),
        "1"
    );
    assert_eq!(
        sample(r#"paybridge_forward_attempts_total{outcome="retrying"}"#),
        "1"
    );
    assert_eq!(
        sample(r#"paybridge_forward_attempts_total{outcome="delivered"}"#),
        "1"
    );
    assert_eq!(sample("paybridge_outbox_depth"), "0");
    assert!(!metrics.contains("FWD-1"), "no reference as a label");
    let _ = rx.kill();
    let _ = rx.wait();
    let _ = std::fs::remove_dir_all(dir);
}

/// The body of a GET.
fn get_text(url: &str) -> String {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let mut sock = std::net::TcpStream::connect(host).unwrap();
    write!(
        sock,
        "GET /{path} HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    sock.read_to_string(&mut answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: text/plain; version=0.0.4"),
        "{head}"
    );
    body.to_owned()
}

/// Prometheus text format, parsed strictly enough to fail on anything else: `# HELP`/`# TYPE`
/// comments, and `name{labels} value` samples. Sample → value.
fn prometheus_samples(text: &str) -> std::collections::HashMap<String, String> {
    let mut out = std::collections::HashMap::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        if let Some(comment) = line.strip_prefix("# ") {
            assert!(
                comment.starts_with("HELP ") || comment.starts_with("TYPE "),
                "{line}"
            );
            continue;
        }
        let (name, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("not a sample: {line}"));
        let metric = name.split('{').next().unwrap();
        assert!(
            metric
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
                && metric.starts_with("paybridge_"),
            "{line}"
        );
        assert!(!name.contains('{') || name.ends_with('}'), "{line}");
        assert!(value.parse::<f64>().is_ok(), "{line}");
        out.insert(name.to_owned(), value.to_owned());
    }
    out
}

/// A merchant whose first connection is read and never answered (it hangs); every later one
/// verified with `standardwebhooks` and answered 204. Verified bodies, and every attempt's id.
fn hanging_once_merchant(secret: &str) -> (String, Shared, Shared) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    let verified = Arc::new(Mutex::new(Vec::new()));
    let attempts = Arc::new(Mutex::new(Vec::new()));
    let webhook = standardwebhooks::Webhook::new(secret).unwrap();
    let (v, a) = (verified.clone(), attempts.clone());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            let Some((headers, body)) = common::read_request(&stream) else {
                continue;
            };
            let id = headers["webhook-id"].to_str().unwrap().to_owned();
            let first_ever = a.lock().unwrap().is_empty();
            a.lock().unwrap().push(id);
            if first_ever {
                held.push(stream);
                continue;
            }
            let status = if webhook.verify(&body, &headers).is_ok() {
                common::assert_valid_event(&body);
                v.lock().unwrap().push(String::from_utf8(body).unwrap());
                "204 No Content"
            } else {
                "401 Unauthorized"
            };
            common::respond(stream, status);
        }
    });
    (url, verified, attempts)
}

/// `kill -9` of a `receive --forward` while its forwarder is in the middle of a delivery (the
/// merchant hangs): a second `receive` on the same ledger takes the delivery over once the
/// dead one's lease runs out, and every change reaches the merchant — nothing lost, nothing
/// credited twice.
#[test]
#[allow(
    clippy::too_many_lines,
    reason = "one story: three paid payments, a killed forwarder, a second one"
)]
fn a_killed_forwarder_loses_and_doubles_nothing() {
    let sb = sandbox();
    let forward = sb.endpoints["qvickly"].as_str().unwrap();
    let base = forward.split("/payment/").next().unwrap().to_owned();
    let api = format!("{base}/qvickly/api/");
    let secret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    let (merchant, verified, attempts) = hanging_once_merchant(secret);
    let dir = std::env::temp_dir().join(unique("forward-kill"));
    std::fs::create_dir_all(&dir).unwrap();
    let ledger = format!("sqlite://{}", dir.join("paybridge.db").display());
    let start = |addr: &str| {
        let mut rx = Command::new(BIN)
            .args([
                "receive",
                "--addr",
                addr,
                "--ledger",
                &ledger,
                "--no-reconcile",
            ])
            .args(["--forward", &merchant, "--lease", "2"])
            .env("PAYBRIDGE_FORWARD_SECRET", secret)
            .env("PAYBRIDGE_QVICKLY_SECRET", QVICKLY_SECRET)
            .env("PAYBRIDGE_QVICKLY_ID", "sandbox-merchant")
            .env("PAYBRIDGE_QVICKLY_ENDPOINT", &api)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let routes = first_line(&mut rx);
        (rx, routes["qvickly"].as_str().unwrap().to_owned())
    };
    let (mut first, callback) = start("127.0.0.1:0");
    let env = [
        ("PAYBRIDGE_QVICKLY_ID", "sandbox-merchant"),
        ("PAYBRIDGE_QVICKLY_SECRET", QVICKLY_SECRET),
        ("PAYBRIDGE_QVICKLY_ENDPOINT", api.as_str()),
    ];
    for i in 1..=3 {
        let v = common::add_qvickly_payment(
            &json!({
                "PaymentData": {"method": "8", "currency": "SEK", "language": "sv", "country": "SE", "orderid": format!("KILL-{i}"),
                                "autoactivate": "1", "callbackurl": callback},
                "Customer": {"Billing": {"email": "asa@example.se"}},
                "Articles": [{"artnr": "A-1", "title": "Tröja", "quantity": "1", "aprice": "10000", "taxrate": "25", "discount": "0", "withouttax": "10000"}],
                "Cart": {"Total": {"withouttax": "10000", "tax": "2500", "rounding": "0", "withtax": "12500"}}
            }),
            &ledger,
            &env,
        );
        let status = http("POST", v["url"].as_str().unwrap(), FORM, "choice=pay");
        assert!((200..300).contains(&status), "{status}");
    }
    // The first delivery is in flight (the merchant hangs): kill -9.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while attempts.lock().unwrap().is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(attempts.lock().unwrap().len(), 1);
    first.kill().unwrap();
    let _ = first.wait();
    let (mut second, _) = start("127.0.0.1:0");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while verified.lock().unwrap().len() < 3 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let bodies = verified.lock().unwrap().clone();
    let mut references: Vec<String> = bodies
        .iter()
        .map(|b| {
            let v: Value = serde_json::from_str(b).unwrap();
            v["data"]["reference"].as_str().unwrap().to_owned()
        })
        .collect();
    references.sort();
    assert_eq!(
        references,
        ["KILL-1", "KILL-2", "KILL-3"],
        "attempts: {:?}",
        attempts.lock().unwrap()
    );
    let attempts = attempts.lock().unwrap().clone();
    assert_eq!(
        attempts.len(),
        4,
        "the hung one once more, the others once: {attempts:?}"
    );
    let (out, v) = run(&["--json", "ledger", "outbox", "--ledger", &ledger], &[]);
    assert_eq!(
        (out.status.code(), &v["deliveries"]),
        (Some(0), &json!([])),
        "{v}"
    );
    let _ = second.kill();
    let _ = second.wait();
    let _ = std::fs::remove_dir_all(dir);
}
