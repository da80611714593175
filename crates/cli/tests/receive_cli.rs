//! `paybridge receive` against the contract in docs/cli.md: each callback recorded once
//! across deliveries and restarts, the card route's confirmation, the sandbox as the merchant,
//! Standard Webhooks forwarding and metrics, a killed forwarder.
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

/// Texts a test thread and the test share.
type Shared = Arc<Mutex<Vec<String>>>;

/// A merchant that verifies Standard Webhooks with the official `standardwebhooks` crate:
/// answers 500 to the first attempt of each message, 204 afterwards; keeps the verified
/// bodies and every attempt's `webhook-id`.
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
    let api = sb.qvickly_api();
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
/// dead one's lease runs out, and every change reaches the merchant — nothing lost; what comes
/// twice (answered, not yet recorded when the process died) comes under the same `webhook-id`.
#[test]
#[allow(
    clippy::too_many_lines,
    reason = "one story: three paid payments, a killed forwarder, a second one"
)]
fn a_killed_forwarder_loses_and_doubles_nothing() {
    let sb = sandbox();
    let api = sb.qvickly_api();
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
    // The first delivery is in flight (the merchant hangs; others of the same pass, attempted
    // beside it, may have been answered): kill -9.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while attempts.lock().unwrap().is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        !attempts.lock().unwrap().is_empty(),
        "nothing was attempted"
    );
    first.kill().unwrap();
    let _ = first.wait();
    let (mut second, _) = start("127.0.0.1:0");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while verified.lock().unwrap().len() < 3 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    // Every change reached the merchant, and only its own change: one answered but not yet
    // recorded when the process died comes again under the same webhook-id (at least once, as
    // Standard Webhooks promises), so a merchant deduplicating on `webhook-id` credits each once.
    let bodies = verified.lock().unwrap().clone();
    let mut by_reference: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> =
        std::collections::BTreeMap::new();
    for b in &bodies {
        let v: Value = serde_json::from_str(b).unwrap();
        let reference = v["data"]["reference"].as_str().unwrap().to_owned();
        // The change's own time: the same on every delivery of one change.
        let change = v["data"]["at"].as_str().unwrap().to_owned();
        by_reference.entry(reference).or_default().insert(change);
    }
    assert_eq!(
        by_reference.keys().cloned().collect::<Vec<_>>(),
        ["KILL-1", "KILL-2", "KILL-3"],
        "attempts: {:?}",
        attempts.lock().unwrap()
    );
    assert!(
        by_reference.values().all(|changes| changes.len() == 1),
        "{by_reference:?}"
    );
    // The hung one attempted once more, by the second process; nothing more than twice.
    let attempts = attempts.lock().unwrap().clone();
    let hung = attempts[0].clone();
    assert_eq!(
        attempts.iter().filter(|a| **a == hung).count(),
        2,
        "{attempts:?}"
    );
    for id in &attempts {
        assert!(
            attempts.iter().filter(|a| *a == id).count() <= 2,
            "{id}: {attempts:?}"
        );
    }
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
