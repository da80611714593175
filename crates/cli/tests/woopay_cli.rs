//! `paybridge woopay …` against the contract in docs/cli.md, over the Wooppay simulator:
//! every command, `confirm` as a `requestUrl` handler, invoices recorded before they are sent,
//! refunds through the ledger.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

use std::process::{Command, Stdio};

use serde_json::{Value, json};

mod common;
use common::*;

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
