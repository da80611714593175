//! `paybridge merchants add | list | remove | rotate` against the contract in docs/cli.md: a
//! merchant's settings sealed in the ledger (refused without a key, exit 2), listed by name
//! only, never printed; a rotation keeps the old value; an unknown setting or id refused.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

mod common;
use common::*;

const LEDGER_KEY: &str = "0707070707070707070707070707070707070707070707070707070707070707";

/// A fresh ledger with shop-a (a Qvickly secret given, a card key from the environment, a
/// forward target, a `CompanyId`) and shop-b (a Payoo key): its folder and URL.
fn registered(name: &str) -> (std::path::PathBuf, String) {
    let dir = std::env::temp_dir().join(unique(name));
    std::fs::create_dir_all(&dir).unwrap();
    let ledger = format!("sqlite://{}", dir.join("paybridge.db").display());
    let key = [("PAYBRIDGE_LEDGER_KEY", LEDGER_KEY)];
    let add = |extra: &[&str], env: &[(&str, &str)]| {
        let mut args = vec!["--json", "merchants", "add", "--ledger", &ledger];
        args.extend_from_slice(extra);
        run(&args, env)
    };
    // With it: the value given on the command line, and one taken from the environment.
    let (out, v) = add(
        &[
            "--id",
            "shop-a",
            "--set",
            &format!("PAYBRIDGE_QVICKLY_SECRET={QVICKLY_SECRET}"),
            "--set",
            "PAYBRIDGE_CARD_PARTNER_KEY",
            "--forward",
            "https://shop-a.example/hooks",
            "--forward-secret",
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "--company-id",
            "3f2504e0-4f89-11d3-9a0c-0305e82c3301",
        ],
        &[key[0], ("PAYBRIDGE_CARD_PARTNER_KEY", KEY)],
    );
    assert_eq!(out.status.code(), Some(0), "{v}");
    assert_eq!(v["merchant"]["id"], "shop-a");
    assert_eq!(
        v["merchant"]["settings"],
        serde_json::json!(["PAYBRIDGE_CARD_PARTNER_KEY", "PAYBRIDGE_QVICKLY_SECRET"])
    );
    assert_eq!(
        v["merchant"]["providers"],
        serde_json::json!(["card-charging", "qvickly"])
    );
    // (`run` itself asserts that neither secret appears in any output.)
    let (out, v) = add(
        &[
            "--id",
            "shop-b",
            "--set",
            "PAYBRIDGE_PAYOO_CHECKSUM_KEY=payoo-b",
        ],
        &key,
    );
    assert_eq!(out.status.code(), Some(0), "{v}");

    (dir, ledger)
}

#[test]
fn without_the_ledgers_key_nothing_is_stored() {
    let dir = std::env::temp_dir().join(unique("merchants_no_key"));
    std::fs::create_dir_all(&dir).unwrap();
    let ledger = format!("sqlite://{}", dir.join("paybridge.db").display());
    let (out, v) = run(
        &[
            "--json",
            "merchants",
            "add",
            "--ledger",
            &ledger,
            "--id",
            "shop-a",
            "--set",
            &format!("PAYBRIDGE_QVICKLY_SECRET={QVICKLY_SECRET}"),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("PAYBRIDGE_LEDGER_KEY"),
        "{v}"
    );
}

#[test]
fn merchants_are_listed_by_name_and_stored_sealed() {
    let (dir, ledger) = registered("merchants_listed");
    let (out, v) = run(&["--json", "merchants", "list", "--ledger", &ledger], &[]);
    assert_eq!(out.status.code(), Some(0), "{v}");
    let merchants = v["merchants"].as_array().unwrap();
    assert_eq!(merchants.len(), 2, "{v}");
    assert_eq!(merchants[0]["forward"], "https://shop-a.example/hooks");
    assert_eq!(
        merchants[0]["company_id"],
        "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
    );
    assert_eq!(merchants[1]["providers"], serde_json::json!(["payoo"]));
    assert!(!v.to_string().contains("payoo-b"), "{v}");
    assert!(!v.to_string().contains("whsec_"), "{v}");
    // Nothing of the values in the ledger's file either.
    let file = std::fs::read(dir.join("paybridge.db")).unwrap();
    for plain in [
        QVICKLY_SECRET,
        KEY,
        "payoo-b",
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    ] {
        assert!(
            !file.windows(plain.len()).any(|w| w == plain.as_bytes()),
            "{plain} in the ledger's file"
        );
    }
}

#[test]
fn a_rotation_answers_without_the_value_bad_settings_and_ids_are_refused_removal_forgets() {
    let (_, ledger) = registered("merchants_rotated");
    let key = [("PAYBRIDGE_LEDGER_KEY", LEDGER_KEY)];
    let add = |extra: &[&str]| {
        let mut args = vec!["--json", "merchants", "add", "--ledger", &ledger];
        args.extend_from_slice(extra);
        run(&args, &key)
    };
    // A rotation keeps the old value valid for the grace period (the library's test checks
    // both values open; here: the command's answer).
    let (out, v) = run(
        &[
            "--json",
            "merchants",
            "rotate",
            "--ledger",
            &ledger,
            "--id",
            "shop-a",
            "--set",
            "PAYBRIDGE_QVICKLY_SECRET=rotated-secret",
            "--grace",
            "60",
        ],
        &key,
    );
    assert_eq!(out.status.code(), Some(0), "{v}");
    assert_eq!(v["grace_seconds"], 60, "{v}");
    assert!(!v.to_string().contains("rotated-secret"), "{v}");

    // Refused: a setting no provider has, an id that cannot name a route, an unknown merchant.
    for (args, why) in [
        (
            vec!["--id", "shop-c", "--set", "PAYBRIDGE_LEDGER_KEY=x"],
            "no provider's setting",
        ),
        (
            vec!["--id", "Shop C", "--set", "PAYBRIDGE_QVICKLY_SECRET=x"],
            "merchant id",
        ),
    ] {
        let (out, v) = add(&args);
        assert_eq!(out.status.code(), Some(2), "{v}");
        let text = format!("{v}{}", String::from_utf8_lossy(&out.stderr));
        assert!(text.contains(why), "{why}: {text}");
    }
    let (out, v) = run(
        &[
            "--json",
            "merchants",
            "remove",
            "--ledger",
            &ledger,
            "--id",
            "shop-x",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{v}");

    let (out, v) = run(
        &[
            "--json",
            "merchants",
            "remove",
            "--ledger",
            &ledger,
            "--id",
            "shop-a",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{v}");
    let (_, v) = run(&["--json", "merchants", "list", "--ledger", &ledger], &[]);
    assert_eq!(v["merchants"].as_array().unwrap().len(), 1, "{v}");
}
