//! Every sample body in `docs/samples/` is accepted by the command its README names, run the
//! way the README says (sandbox credentials) — and no sample is left untested.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

mod common;

use common::{run, sandbox};
use serde_json::json;

fn sample(name: &str) -> String {
    format!("{}/../../docs/samples/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn every_sample_body_is_accepted_by_its_command() {
    let sb = sandbox();
    let api = sb.qvickly_api();
    let qvickly = [
        ("PAYBRIDGE_QVICKLY_ID", "sandbox-merchant"),
        ("PAYBRIDGE_QVICKLY_SECRET", common::QVICKLY_SECRET),
        ("PAYBRIDGE_QVICKLY_ENDPOINT", api.as_str()),
    ];
    let mut runs = Runs::default();
    let mut ok = |args: &[&str], env: &[(&str, &str)], file: &str| runs.ok(args, env, file);
    // A fresh sandbox numbers its first payment 1001, as the update and credit samples say.
    let add = sample("qvickly-add-payment.json");
    let v = ok(
        &["--json", "qvickly", "add-payment", "--body", &add],
        &qvickly,
        "qvickly-add-payment.json",
    );
    assert_eq!(
        (&v["number"], &v["order_id"]),
        (&json!("1001"), &json!("ORDER-77")),
        "{v}"
    );
    let update = sample("qvickly-update-payment.json");
    ok(
        &["--json", "qvickly", "update-payment", "--body", &update],
        &qvickly,
        "qvickly-update-payment.json",
    );
    // Paid on its page (the payer's Pay button), then credited in part.
    let page = v["url"].as_str().unwrap();
    assert_eq!(common::post_form(page, "choice=pay"), 200);
    let credit = sample("qvickly-credit-partial.json");
    let v = ok(
        &[
            "--json", "qvickly", "credit", "--number", "1001", "--body", &credit,
        ],
        &qvickly,
        "qvickly-credit-partial.json",
    );
    assert_eq!(v["status"], "succeeded", "{v}");
    checkout_samples(&mut ok, &qvickly);
    let callback = sample("qvickly-callback.json");
    let v = ok(
        &["--json", "qvickly", "verify-callback", "--body", &callback],
        &qvickly,
        "qvickly-callback.json",
    );
    assert_eq!(
        (&v["order_id"], &v["status"]),
        (&json!("ORDER-77"), &json!("succeeded"))
    );
    let card = sample("card-charging-callback.json");
    let v = ok(
        &[
            "--json",
            "card-charging",
            "verify-callback",
            "--body",
            &card,
        ],
        &[(
            "PAYBRIDGE_CARD_PARTNER_KEY",
            paybridge_card_charging::sandbox::SANDBOX_PARTNER_KEY,
        )],
        "card-charging-callback.json",
    );
    assert_eq!(v["request_id"], "ORDER-42", "{v}");
    let payoo = sample("payoo-notify.txt");
    let v = ok(
        &["--json", "payoo", "verify-notify", "--body", &payoo],
        &[("PAYBRIDGE_PAYOO_CHECKSUM_KEY", "sandbox-checksum-key")],
        "payoo-notify.txt",
    );
    assert_eq!(v["order_no"], "ORDER-88", "{v}");
    let event = sample("linkifier-ipn-event.xml");
    ok(
        &["--json", "linkifier-ipn", "verify", "--body", &event],
        &[("PAYBRIDGE_LINKIFIER_KEY", common::LINKIFIER_KEY)],
        "linkifier-ipn-event.xml",
    );
    let ipn = sample("linkifier-ipn.json");
    let linkifier = sb.endpoints["linkifier-ipn"].as_str().unwrap();
    ok(
        &[
            "--json",
            "linkifier-ipn",
            "send",
            "--ipn",
            &ipn,
            "--endpoint",
            linkifier,
        ],
        &[("PAYBRIDGE_LINKIFIER_KEY", common::LINKIFIER_KEY)],
        "linkifier-ipn.json",
    );
    every_sample_was_run(runs.used);
}

/// The samples run so far.
#[derive(Default)]
struct Runs {
    used: Vec<String>,
}

impl Runs {
    /// Run a command on sample `file`: exit 0, its JSON answer.
    fn ok(&mut self, args: &[&str], env: &[(&str, &str)], file: &str) -> serde_json::Value {
        let (out, v) = run(args, env);
        assert_eq!(out.status.code(), Some(0), "{file}: {v}");
        self.used.push(file.to_owned());
        v
    }
}

/// The Checkout and paylink samples.
fn checkout_samples(
    ok: &mut impl FnMut(&[&str], &[(&str, &str)], &str) -> serde_json::Value,
    qvickly: &[(&str, &str)],
) {
    // A checkout (the sample's temporary orderid), its final orderid and cart, and a paylink.
    let init = sample("qvickly-init-checkout.json");
    let v = ok(
        &["--json", "qvickly", "init-checkout", "--body", &init],
        qvickly,
        "qvickly-init-checkout.json",
    );
    assert_eq!(v["order_id"], "tmp-BOOKING-9", "{v}");
    let number = v["number"].as_str().unwrap().to_owned();
    let update = sample("qvickly-update-checkout.json");
    let v = ok(
        &[
            "--json",
            "qvickly",
            "update-checkout",
            "--number",
            &number,
            "--body",
            &update,
        ],
        qvickly,
        "qvickly-update-checkout.json",
    );
    assert_eq!(v["order_id"], "BOOKING-9", "{v}");
    let paylink = sample("qvickly-create-paylink.json");
    let v = ok(
        &["--json", "qvickly", "create-paylink", "--body", &paylink],
        qvickly,
        "qvickly-create-paylink.json",
    );
    assert!(v["pay_url"].as_str().unwrap().ends_with("/pay"), "{v}");
}

/// Every sample in the directory was run, and the README's table names each.
fn every_sample_was_run(mut used: Vec<String>) {
    let mut files: Vec<String> = std::fs::read_dir(sample(""))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|f| f != "README.md")
        .collect();
    files.sort();
    used.sort();
    assert_eq!(files, used);
    let readme = std::fs::read_to_string(sample("README.md")).unwrap();
    for file in &files {
        assert!(
            readme.contains(&format!("`{file}`")),
            "{file} is not in the README"
        );
    }
}
