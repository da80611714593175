//! The ledger commands behave like the tools people know: a reading command never creates
//! or migrates a ledger (a typo in `--ledger` is an error naming the file, not "no
//! payments"), `PAYBRIDGE_LEDGER` stands for `--ledger`, and a database that cannot be reached
//! is exit 3 within `--timeout`, naming its host — never its password.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

mod common;

use std::time::{Duration, Instant};

use common::{run, unique};

#[test]
fn a_reading_command_never_creates_a_ledger() {
    let dir = std::env::temp_dir().join(unique("habits"));
    std::fs::create_dir_all(&dir).unwrap();
    let typo = dir.join("paybrige.db");
    let url = format!("sqlite://{}", typo.display());
    for args in [
        vec!["--json", "ledger", "payments", "--ledger", &url],
        vec!["--json", "ledger", "events", "--ledger", &url],
        vec!["--json", "ledger", "outbox", "--ledger", &url],
        vec!["--json", "ledger", "refunds", "--ledger", &url],
        vec![
            "--json",
            "ledger",
            "show",
            "--ledger",
            &url,
            "--provider",
            "payoo",
            "--reference",
            "x",
        ],
    ] {
        let (out, v) = run(&args, &[]);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {v}");
        assert!(
            v["error"]["message"]
                .as_str()
                .unwrap()
                .contains("paybrige.db"),
            "{v}"
        );
        assert!(!typo.exists(), "{args:?} created {}", typo.display());
    }
    // `ledger migrate` creates it; then the reading commands read it — also through
    // PAYBRIDGE_LEDGER.
    let (out, v) = run(&["--json", "ledger", "migrate", "--ledger", &url], &[]);
    assert_eq!(out.status.code(), Some(0), "{v}");
    assert!(typo.exists());
    let (out, v) = run(
        &["--json", "ledger", "payments"],
        &[("PAYBRIDGE_LEDGER", url.as_str())],
    );
    assert_eq!(out.status.code(), Some(0), "{v}");
    assert_eq!(v["payments"], serde_json::json!([]));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn an_unreachable_database_is_exit_3_in_time_naming_the_host_never_the_password() {
    for url in [
        "postgres://app:s3cret-pw@127.0.0.1:1/ledger",
        "postgres://app:s3cret-pw@10.255.255.1:5432/ledger",
    ] {
        let started = Instant::now();
        let (out, v) = run(
            &[
                "--json",
                "ledger",
                "payments",
                "--ledger",
                url,
                "--timeout",
                "2",
            ],
            &[],
        );
        assert!(
            started.elapsed() < Duration::from_secs(6),
            "{url}: {:?}",
            started.elapsed()
        );
        assert_eq!(out.status.code(), Some(3), "{url}: {v}");
        assert_eq!(v["error"]["kind"], "transport", "{v}");
        let everything = format!("{v}{}", String::from_utf8_lossy(&out.stderr));
        assert!(!everything.contains("s3cret-pw"), "{everything}");
        let host = url.split('@').nth(1).unwrap().split('/').next().unwrap();
        assert!(everything.contains(host), "{everything}");
    }
}

/// A missing secret's error names both the flag and the environment variable that gives it.
#[test]
fn a_missing_secret_names_its_flag_and_its_variable() {
    let (out, v) = run(
        &[
            "--json",
            "card-charging",
            "charge",
            "--endpoint",
            "http://127.0.0.1:9/",
            "--telco",
            "VIETTEL",
            "--code",
            "312821445892981",
            "--serial",
            "10004783347874",
            "--amount",
            "50000",
            "--request-id",
            "r-1",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{v}");
    let message = v["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("--partner-key or PAYBRIDGE_CARD_PARTNER_KEY"),
        "{message}"
    );
}
