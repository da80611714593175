//! The `paybridge` binary against the contract in docs/cli.md: fields, exit codes, error
//! JSON, secrets kept out of every output.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

use std::process::{Command, Stdio};

use serde_json::Value;

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
