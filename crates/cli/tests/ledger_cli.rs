//! `paybridge ledger …` and `reconcile` against the contract in docs/cli.md: pages with a
//! cursor, the review list, a charge whose outcome is unknown reconciled.
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
