//! Qvickly Checkout end to end through the CLI and `receive`: against an independent Checkout
//! server written from Qvickly's public facts (`support/qvickly_checkout_server.py`, not our
//! simulator), then against the sandbox (its hosted checkout page completes the payment).
//! init → update (final orderid, bigger cart) → get (no payment yet) → completed into a
//! payment whose number is not the checkout's → the callback through `receive`, confirmed
//! with `getPaymentinfo`, recorded once against the orderid; replays inert; a confirmed total
//! that differs → `needs_review`; a wrong answer hash refused; test callbacks not credited.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use common::{BIN, first_line, ledger_urls, post_form, run, sandbox, unique};
use serde_json::{Value, json};

const EID: &str = "checkout-eid-77";
const SECRET: &str = "independent-secret-9f1c";

/// The independent server, and its base URL.
struct Independent {
    child: Child,
    base: String,
}

impl Drop for Independent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn independent() -> Option<Independent> {
    let script = format!(
        "{}/tests/support/qvickly_checkout_server.py",
        env!("CARGO_MANIFEST_DIR")
    );
    let Ok(mut child) = Command::new("python3")
        .args([script.as_str(), EID, SECRET])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
    else {
        eprintln!("skipped: no python3 on PATH");
        return None;
    };
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_owned();
    Some(Independent {
        child,
        base: format!("http://127.0.0.1:{port}"),
    })
}

/// POST JSON to the server's `url`: its answer's body, as sent.
fn post_json(url: &str, body: &Value) -> String {
    let (status, answer) = common::post(url, "application/json", &body.to_string());
    assert!((200..300).contains(&status), "{status}: {answer}");
    answer
}

/// POST a callback body to `receive`'s Qvickly route; the HTTP status.
fn post_callback(url: &str, body: &str) -> u16 {
    common::post(url, "application/json", body).0
}

/// `paybridge receive` over `ledger`, Qvickly callbacks confirmed at `api`.
fn receive(ledger: &str, api: &str, id: &str, secret: &str) -> (Child, String) {
    let mut child = Command::new(BIN)
        .args([
            "receive",
            "--addr",
            "127.0.0.1:0",
            "--ledger",
            ledger,
            "--no-reconcile",
        ])
        .args(["--qvickly-endpoint", api])
        .env("PAYBRIDGE_QVICKLY_ID", id)
        .env("PAYBRIDGE_QVICKLY_SECRET", secret)
        .env_remove("PAYBRIDGE_QVICKLY_ACCEPT_TEST")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let line = first_line(&mut child);
    (child, line["qvickly"].as_str().unwrap().to_owned())
}

/// `ledger show` of a Qvickly payment.
fn show(ledger: &str, reference: &str) -> Value {
    run(
        &[
            "--json",
            "ledger",
            "show",
            "--ledger",
            ledger,
            "--provider",
            "qvickly",
            "--reference",
            reference,
        ],
        &[],
    )
    .1
}

fn file(dir: &std::path::Path, name: &str, v: &Value) -> String {
    let path = dir.join(name);
    std::fs::write(&path, v.to_string()).unwrap();
    path.display().to_string()
}

fn init_body(orderid: &str, callback: &str) -> Value {
    json!({
        "CheckoutData": {"terms": "https://shop.example/terms"},
        "PaymentData": {"currency": "SEK", "language": "sv", "country": "SE", "orderid": orderid,
                        "autoactivate": "0", "callbackurl": callback,
                        "accepturl": "https://shop.example/accept", "cancelurl": "https://shop.example/cancel"},
        "Customer": {"Billing": {"firstname": "Åsa", "lastname": "Öberg", "email": "asa@example.se"}},
        "Articles": [{"artnr": "M-60", "title": "Massage 60 min", "quantity": "1", "aprice": "60000",
                      "taxrate": "25", "discount": "0", "withouttax": "60000"}],
        "Cart": {"Total": {"withouttax": "60000", "tax": "15000", "rounding": "0", "withtax": "75000"}}
    })
}

fn update_body(orderid: &str) -> Value {
    json!({
        "PaymentData": {"orderid": orderid},
        "Articles": [
            {"artnr": "M-60", "title": "Massage 60 min", "quantity": "1", "aprice": "60000", "taxrate": "25", "discount": "0", "withouttax": "60000"},
            {"artnr": "OIL", "title": "Aromatic oil", "quantity": "1", "aprice": "8000", "taxrate": "25", "discount": "0", "withouttax": "8000"}
        ],
        "Cart": {"Total": {"withouttax": "68000", "tax": "17000", "rounding": "0", "withtax": "85000"}}
    })
}

/// init-checkout and update-checkout with `--ledger`, then get-checkout before completion:
/// the checkout's number and hash, and the final orderid.
fn start_checkout(
    dir: &std::path::Path,
    ledger: &str,
    env: &[(&str, &str)],
    callback: &str,
) -> (String, String, String) {
    let tmp = unique("tmp-BOOKING");
    let orderid = unique("BOOKING");
    let init = file(dir, &format!("{tmp}.json"), &init_body(&tmp, callback));
    let (out, v) = run(
        &[
            "--json",
            "qvickly",
            "init-checkout",
            "--body",
            &init,
            "--ledger",
            ledger,
        ],
        env,
    );
    assert_eq!(out.status.code(), Some(0), "{v}");
    let (number, hash) = (
        v["number"].as_str().unwrap().to_owned(),
        v["hash"].as_str().unwrap().to_owned(),
    );
    assert_eq!(hash.len(), 40, "YYYYMMDD + 32 hex: {v}");
    assert_eq!(
        (&v["order_id"], &v["status"]),
        (&json!(tmp), &json!("pending"))
    );
    let recorded = |reference: &str| show(ledger, reference);
    assert_eq!(recorded(&tmp)["payment"]["amount"], "750.00");
    // The shop's final orderid and a bigger cart: the recorded payment follows.
    let update = file(dir, &format!("{orderid}.json"), &update_body(&orderid));
    let (out, v) = run(
        &[
            "--json",
            "qvickly",
            "update-checkout",
            "--number",
            &number,
            "--body",
            &update,
            "--ledger",
            ledger,
        ],
        env,
    );
    assert_eq!(out.status.code(), Some(0), "{v}");
    assert_eq!(v["order_id"], orderid.as_str(), "{v}");
    let p = recorded(&orderid);
    assert_eq!(
        (&p["payment"]["amount"], &p["payment"]["status"]),
        (&json!("850.00"), &json!("pending")),
        "{p}"
    );
    let gone = show(ledger, &tmp);
    assert!(
        gone.get("error").is_some(),
        "the temporary orderid is no payment any more: {gone}"
    );
    // Not completed yet: no payment number.
    let (out, v) = run(&["--json", "qvickly", "get-checkout", "--hash", &hash], env);
    assert_eq!(out.status.code(), Some(0), "{v}");
    assert_eq!(
        (&v["checkout_number"], &v["number"]),
        (&json!(number), &Value::Null),
        "{v}"
    );
    (number, hash, orderid)
}

/// After completion: get-checkout names the payment (not the checkout's number), the ledger
/// has it recorded once, paid, its number the provider reference.
fn check_completed(
    ledger: &str,
    env: &[(&str, &str)],
    hash: &str,
    orderid: &str,
    checkout: &str,
) -> String {
    let (out, v) = run(&["--json", "qvickly", "get-checkout", "--hash", hash], env);
    assert_eq!(out.status.code(), Some(0), "{v}");
    let payment = v["number"].as_str().unwrap().to_owned();
    assert_ne!(
        payment, checkout,
        "the payment number is not the checkout's"
    );
    let p = show(ledger, orderid);
    assert_eq!(
        (
            &p["payment"]["status"],
            &p["payment"]["paid_amount"],
            &p["payment"]["provider_reference"]
        ),
        (&json!("succeeded"), &json!("850.00"), &json!(payment)),
        "{p}"
    );
    payment
}

#[test]
#[allow(
    clippy::too_many_lines,
    reason = "one story per backend against the independent server, in order"
)]
fn a_checkout_against_an_independent_server_is_recorded_once_and_checked() {
    let Some(server) = independent() else {
        assert!(std::env::var_os("CI").is_none(), "python3 is needed");
        return;
    };
    let api = format!("{}/", server.base);
    let env = [
        ("PAYBRIDGE_QVICKLY_ID", EID),
        ("PAYBRIDGE_QVICKLY_SECRET", SECRET),
        ("PAYBRIDGE_QVICKLY_ENDPOINT", api.as_str()),
    ];
    let dir = std::env::temp_dir().join(unique("qvickly-checkout"));
    std::fs::create_dir_all(&dir).unwrap();
    for (backend, ledger) in ledger_urls("qvickly-checkout") {
        let (mut receiver, callback_url) = receive(&ledger, &api, EID, SECRET);
        let (number, hash, orderid) = start_checkout(&dir, &ledger, &env, &callback_url);
        let callback = post_json(
            &format!("{}/_control/complete", server.base),
            &json!({"hash": hash, "status": "Paid"}),
        );
        // Posted byte for byte as the server wrote it.
        let body = callback;
        assert_eq!(post_callback(&callback_url, &body), 200, "{backend}");
        let payment = check_completed(&ledger, &env, &hash, &orderid, &number);
        assert!(body.contains(&format!(r#""number":"{payment}""#)), "{body}");
        // Qvickly retries: the same callback again changes nothing.
        assert_eq!(post_callback(&callback_url, &body), 200, "{backend}");
        let p = show(&ledger, &orderid);
        let timeline = p["timeline"].as_array().unwrap();
        let of = |kind: &str| {
            timeline
                .iter()
                .filter(|e| e["kind"] == kind)
                .collect::<Vec<_>>()
        };
        assert_eq!(of("change").len(), 1, "{backend}: changed once: {p}");
        let reports = of("report");
        assert_eq!(reports.len(), 1, "{backend}: one report: {p}");
        assert_eq!(
            reports[0]["deliveries"], 2,
            "{backend}: delivered twice: {p}"
        );

        // A checkout whose confirmed total is not what the cart said: needs review.
        let (_, hash2, orderid2) = start_checkout(&dir, &ledger, &env, &callback_url);
        let short = post_json(
            &format!("{}/_control/complete", server.base),
            &json!({"hash": hash2, "status": "Paid", "total": 80000}),
        );
        assert_eq!(post_callback(&callback_url, &short), 200, "{backend}");
        let p = show(&ledger, &orderid2);
        assert_eq!(
            (&p["payment"]["status"], &p["payment"]["anomaly"]),
            (&json!("needs_review"), &json!("underpaid")),
            "{backend}: {p}"
        );

        // A test-mode callback is acknowledged and not credited.
        let (_, hash3, orderid3) = start_checkout(&dir, &ledger, &env, &callback_url);
        let test = post_json(
            &format!("{}/_control/complete", server.base),
            &json!({"hash": hash3, "status": "Paid", "test": true}),
        );
        assert_eq!(post_callback(&callback_url, &test), 200, "{backend}");
        let p = show(&ledger, &orderid3);
        assert_eq!(p["payment"]["status"], "pending", "{backend}: {p}");
        // A completed checkout whose callback never came: the reconciler finds its payment
        // through getCheckout(hash) (the recorded checkout), then asks getPaymentinfo.
        let (number4, hash4, orderid4) = start_checkout(&dir, &ledger, &env, &callback_url);
        post_json(
            &format!("{}/_control/complete", server.base),
            &json!({"hash": hash4, "status": "Paid"}),
        );
        let (out, v) = run(
            &[
                "--json",
                "reconcile",
                "--ledger",
                &ledger,
                "--once",
                "--all",
            ],
            &env,
        );
        assert_eq!(out.status.code(), Some(0), "{backend}: {v}");
        check_completed(&ledger, &env, &hash4, &orderid4, &number4);
        let _ = receiver.kill();
        let _ = receiver.wait();
    }
    // Where getCheckout is not offered (9001), the documented getOrderByHash answers.
    let dir2 = std::env::temp_dir().join(unique("qvickly-checkout-fallback"));
    std::fs::create_dir_all(&dir2).unwrap();
    let init = file(
        &dir2,
        "init.json",
        &init_body(&unique("FALLBACK"), "https://shop.example/cb"),
    );
    let (_, v) = run(
        &["--json", "qvickly", "init-checkout", "--body", &init],
        &env,
    );
    let hash = v["hash"].as_str().unwrap().to_owned();
    post_json(
        &format!("{}/_control/getcheckout", server.base),
        &json!({"on": false}),
    );
    let (out, v) = run(
        &["--json", "qvickly", "get-checkout", "--hash", &hash],
        &env,
    );
    assert_eq!(
        (out.status.code(), &v["provider_status"]),
        (Some(0), &json!("Created")),
        "{v}"
    );
    let _ = std::fs::remove_dir_all(dir2);
    // An answer whose hash does not match its data is refused (kind signature, exit 1).
    post_json(
        &format!("{}/_control/tamper", server.base),
        &json!({"on": true}),
    );
    let (out, v) = run(
        &[
            "--json",
            "qvickly",
            "get-checkout",
            "--hash",
            "20261204aaaa",
        ],
        &env,
    );
    assert_eq!(
        (out.status.code(), &v["error"]["kind"]),
        (Some(1), &json!("signature")),
        "{v}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_checkout_in_the_sandbox_completes_on_its_page() {
    let sb = sandbox();
    let (base, api) = (sb.base(), sb.qvickly_api());
    let id = paybridge_qvickly::sandbox::SANDBOX_MERCHANT_ID;
    let env = [
        ("PAYBRIDGE_QVICKLY_ID", id),
        ("PAYBRIDGE_QVICKLY_SECRET", common::QVICKLY_SECRET),
        ("PAYBRIDGE_QVICKLY_ENDPOINT", api.as_str()),
    ];
    let dir = std::env::temp_dir().join(unique("qvickly-checkout-sandbox"));
    std::fs::create_dir_all(&dir).unwrap();
    let (_, ledger) = ledger_urls("qvickly-checkout-sandbox").remove(0);
    let (mut receiver, callback_url) = receive(&ledger, &api, id, common::QVICKLY_SECRET);
    let (number, hash, orderid) = start_checkout(&dir, &ledger, &env, &callback_url);
    // The payer presses Pay on the checkout page (the browser test clicks it for real).
    let page = format!(
        "{base}{}/{id}/{hash}",
        paybridge_qvickly::sandbox::checkout::PAGE_PREFIX
    );
    assert!(
        matches!(post_form(&page, "choice=pay"), 200 | 303),
        "{page}"
    );
    // autoactivate 0: the payment is Created (authorised) — pending in the ledger — until it
    // is activated; then a partial credit through the ledger.
    let (out, v) = run(
        &["--json", "qvickly", "get-checkout", "--hash", &hash],
        &env,
    );
    assert_eq!(out.status.code(), Some(0), "{v}");
    let payment = v["number"].as_str().unwrap().to_owned();
    assert_ne!(payment, number);
    let p = show(&ledger, &orderid);
    assert_eq!(
        (&p["payment"]["status"], &p["payment"]["provider_reference"]),
        (&json!("pending"), &json!(payment)),
        "{p}"
    );
    let (out, v) = run(
        &["--json", "qvickly", "activate", "--number", &payment],
        &env,
    );
    assert_eq!(out.status.code(), Some(0), "{v}");
    let (out, v) = run(
        &[
            "--json",
            "reconcile",
            "--ledger",
            &ledger,
            "--once",
            "--all",
        ],
        &env,
    );
    assert_eq!(out.status.code(), Some(0), "{v}");
    check_completed(&ledger, &env, &hash, &orderid, &number);
    let (out, v) = run(
        &[
            "--json", "qvickly", "credit", "--number", &payment, "--ledger", &ledger, "--amount",
            "100.00",
        ],
        &env,
    );
    assert_eq!(out.status.code(), Some(0), "{v}");
    let p = show(&ledger, &orderid);
    assert_eq!(p["payment"]["refunded_amount"], "100.00", "{p}");
    let _ = receiver.kill();
    let _ = receiver.wait();
    let _ = std::fs::remove_dir_all(dir);
}
