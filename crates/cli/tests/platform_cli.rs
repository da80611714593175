//! One `paybridge receive` for a platform's merchants (SQLite, and PostgreSQL when
//! configured): two merchants, each its own card gateway partner (its own key) in the
//! sandbox and its own webhook target, charge the same order number with `--merchant`; each
//! one's callback is verified with its key and confirmed with its credentials, recorded for
//! it only; a callback signed with A's key on B's route is refused and nothing recorded; each
//! target gets only its merchant's events, verifiable only with its own secret; a merchant
//! added while `receive` runs is served within 5 s; a rotated Qvickly secret verifies beside
//! the new one during its grace period and not after; `reconcile` checks each merchant's
//! payment with its own partner.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

mod common;

use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};

const LEDGER_KEY: &str = "0909090909090909090909090909090909090909090909090909090909090909";
const SECRET_A: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SECRET_B: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
const SECRET_C: &str = "whsec_cGF5YnJpZGdlLXRlc3Qtc2VjcmV0LWMh";

/// Everything a webhook target was sent: each request's headers and body.
type Got = Arc<Mutex<Vec<(http::HeaderMap, Vec<u8>)>>>;

/// A webhook target answering 204 to everything: its URL and what it got.
fn target() -> (String, Got) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    let got: Got = Arc::default();
    let kept = got.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let Some(request) = read_request(&stream) else {
                continue;
            };
            kept.lock().unwrap().push(request);
            respond(stream, "204 No Content");
        }
    });
    (url, got)
}

fn merchants(args: &[&str], ledger: &str) -> Value {
    let mut all = vec!["--json", "merchants"];
    all.extend_from_slice(args);
    all.extend(["--ledger", ledger]);
    let (out, v) = run(&all, &[("PAYBRIDGE_LEDGER_KEY", LEDGER_KEY)]);
    assert_eq!(out.status.code(), Some(0), "{args:?}: {v}");
    v
}

/// `paybridge receive` for the platform: no default credentials, the card gateway's endpoint
/// shared by every merchant; its trace log in `log`, when given.
fn receive(ledger: &str, card_endpoint: &str, log: Option<&std::path::Path>) -> (Child, Value) {
    let stderr = log.map_or_else(Stdio::null, |log| {
        Stdio::from(std::fs::File::create(log).unwrap())
    });
    let mut child = Command::new(BIN)
        .args(["receive", "--addr", "127.0.0.1:0", "--ledger", ledger])
        .env("PAYBRIDGE_LEDGER_KEY", LEDGER_KEY)
        .env("PAYBRIDGE_CARD_ENDPOINT", card_endpoint)
        .env("PAYBRIDGE_LOG", "trace")
        .env_remove("PAYBRIDGE_CARD_PARTNER_KEY")
        .env_remove("PAYBRIDGE_CARD_PARTNER_ID")
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let line = first_line(&mut child);
    (child, line)
}

/// `paybridge --merchant M card-charging charge … --ledger L`: M's credentials from the
/// ledger — the default partner's in this process's environment are not used.
fn charge(merchant: &str, endpoint: &str, code: &str, ledger: &str) -> Value {
    let mut args = vec!["--merchant", merchant];
    args.extend(charge_args(endpoint, "charge", code, "order-1"));
    args.extend(["--ledger", ledger]);
    let (out, v) = run(
        &args,
        &[
            ("PAYBRIDGE_LEDGER_KEY", LEDGER_KEY),
            ("PAYBRIDGE_CARD_PARTNER_ID", "sandbox-partner"),
            ("PAYBRIDGE_CARD_PARTNER_KEY", KEY),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{merchant}: {v}");
    v
}

fn ledger_payments(merchant: Option<&str>, ledger: &str) -> Vec<Value> {
    let mut args = vec!["--json", "ledger", "payments", "--ledger", ledger];
    if let Some(m) = merchant {
        args.extend(["--merchant", m]);
    }
    let (out, v) = run(&args, &[("PAYBRIDGE_LEDGER_KEY", LEDGER_KEY)]);
    assert_eq!(out.status.code(), Some(0), "{v}");
    v["payments"].as_array().unwrap().clone()
}

/// Wait until `done` holds, at most `within`.
fn eventually(within: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    done()
}

/// Each event a target got, verified with `secret` (and refused with `other`).
fn events(got: &Got, secret: &str, other: &str) -> Vec<Value> {
    let (mine, theirs) = (
        standardwebhooks::Webhook::new(secret).unwrap(),
        standardwebhooks::Webhook::new(other).unwrap(),
    );
    got.lock()
        .unwrap()
        .iter()
        .map(|(headers, body)| {
            mine.verify(body, headers).unwrap();
            assert!(
                theirs.verify(body, headers).is_err(),
                "verifiable with another merchant's secret"
            );
            assert_valid_event(body);
            serde_json::from_slice(body).unwrap()
        })
        .collect()
}

fn card_callback(request_id: &str, key: &str) -> String {
    let (code, serial) = ("312821445892989", "10004783347874");
    let sign = paybridge_card_charging::callback_sign(key, code, serial);
    format!(
        r#"{{"status":1,"message":"ok","request_id":"{request_id}","declared_value":50000,"value":50000,"amount":35000,"code":"{code}","serial":"{serial}","telco":"VIETTEL","trans_id":7,"callback_sign":"{sign}"}}"#
    )
}

#[test]
#[allow(
    clippy::too_many_lines,
    reason = "one story: two merchants on one receive, from registration to their webhooks"
)]
fn two_merchants_on_one_receive_each_paid_verified_and_told_as_its_own() {
    for (backend, ledger) in common::ledger_urls("platform") {
        let sb = sandbox();
        let card_ep = sb.endpoints["card-charging"].as_str().unwrap().to_owned();
        for (partner, key) in [("partner-a", "key-a"), ("partner-b", "key-b")] {
            let url = format!("{card_ep}/_sandbox/partners/{partner}");
            assert_eq!(http("PUT", &url, "text/plain", key), 204);
        }
        let ((url_a, got_a), (url_b, got_b)) = (target(), target());
        for (id, partner, key, url, secret) in [
            ("shop-a", "partner-a", "key-a", &url_a, SECRET_A),
            ("shop-b", "partner-b", "key-b", &url_b, SECRET_B),
        ] {
            merchants(
                &[
                    "add",
                    "--id",
                    id,
                    "--set",
                    &format!("PAYBRIDGE_CARD_PARTNER_ID={partner}"),
                    "--set",
                    &format!("PAYBRIDGE_CARD_PARTNER_KEY={key}"),
                    "--set",
                    &format!("PAYBRIDGE_QVICKLY_SECRET=qvickly-{key}"),
                    "--forward",
                    url,
                    "--forward-secret",
                    secret,
                ],
                &ledger,
            );
        }
        let log = std::env::temp_dir().join(unique("platform-receive.log"));
        let (mut rx, line) = receive(&ledger, &card_ep, Some(&log));
        let route = |m: &str| {
            line["merchants"][m]["card-charging"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        let (route_a, route_b) = (route("shop-a"), route("shop-b"));
        assert!(
            route_a.ends_with("/m/shop-a/card-charging/callback"),
            "{line}"
        );
        assert!(
            line.get("card-charging").is_none(),
            "no default card route: {line}"
        );
        for (partner, url) in [("partner-a", &route_a), ("partner-b", &route_b)] {
            let set = format!("{card_ep}/_sandbox/callback-url?partner_id={partner}");
            assert_eq!(http("PUT", &set, "text/plain", url), 204);
        }

        // The same order number, charged for each merchant with its own partner.
        for m in ["shop-a", "shop-b"] {
            let v = charge(m, &card_ep, "312821445892989", &ledger);
            assert_eq!(v["status"], "pending", "{backend} {m}: {v}");
        }
        let paid = |m: &str| {
            let p = ledger_payments(Some(m), &ledger);
            p.len() == 1 && p[0]["status"] == "succeeded"
        };
        assert!(
            eventually(Duration::from_secs(10), || paid("shop-a") && paid("shop-b")),
            "{backend}: {:?} {:?}",
            ledger_payments(Some("shop-a"), &ledger),
            ledger_payments(Some("shop-b"), &ledger)
        );
        assert_eq!(
            ledger_payments(None, &ledger),
            Vec::<Value>::new(),
            "{backend}: the default merchant has none"
        );

        // A's key on B's route: refused, nothing recorded for B.
        let events_of = |m: &str| {
            let args = [
                "--json",
                "--merchant",
                m,
                "ledger",
                "events",
                "--ledger",
                &ledger,
            ];
            let (out, v) = run(&args, &[("PAYBRIDGE_LEDGER_KEY", LEDGER_KEY)]);
            assert_eq!(out.status.code(), Some(0), "{v}");
            v["events"].as_array().unwrap().clone()
        };
        let before = events_of("shop-b");
        let (status, _) = post(
            &route_b,
            "application/json",
            &card_callback("order-1", "key-a"),
        );
        assert_eq!(status, 401, "{backend}");
        // The same with Qvickly: each merchant's genuine callback recorded for it, A's
        // secret on B's route refused.
        let qvickly = |m: &str| line["merchants"][m]["qvickly"].as_str().unwrap().to_owned();
        let signed_by_a = qvickly_callback("qvickly-key-a", "Q-A");
        assert_eq!(
            post(&qvickly("shop-b"), "application/json", &signed_by_a).0,
            401,
            "{backend}"
        );
        assert_eq!(
            events_of("shop-b"),
            before,
            "{backend}: nothing of A's recorded under B"
        );
        assert_eq!(
            post(&qvickly("shop-a"), "application/json", &signed_by_a).0,
            200,
            "{backend}"
        );
        let signed_by_b = qvickly_callback("qvickly-key-b", "Q-B");
        assert_eq!(
            post(&qvickly("shop-b"), "application/json", &signed_by_b).0,
            200,
            "{backend}"
        );
        for (m, order) in [("shop-a", "Q-A"), ("shop-b", "Q-B")] {
            let events = events_of(m);
            assert!(
                events.iter().any(|e| e["reference"] == order),
                "{backend} {m}: {events:?}"
            );
            let other = if order == "Q-A" { "Q-B" } else { "Q-A" };
            assert!(
                !events.iter().any(|e| e["reference"] == other),
                "{backend} {m}: {events:?}"
            );
        }

        // Each target: its merchant's event only, signed with its secret only.
        assert!(
            eventually(Duration::from_secs(10), || {
                got_a.lock().unwrap().len() == 1 && got_b.lock().unwrap().len() == 1
            }),
            "{backend}"
        );
        let (a, b) = (
            events(&got_a, SECRET_A, SECRET_B),
            events(&got_b, SECRET_B, SECRET_A),
        );
        for (event, m) in [(&a[0], "shop-a"), (&b[0], "shop-b")] {
            assert_eq!(event["type"], "payment.succeeded", "{backend} {event}");
            assert_eq!(
                (&event["data"]["merchant"], &event["data"]["reference"]),
                (&json!(m), &json!("order-1")),
                "{backend}"
            );
        }

        // A merchant registered while receive runs: served within 5 s.
        merchants(
            &[
                "add",
                "--id",
                "shop-c",
                "--set",
                "PAYBRIDGE_CARD_PARTNER_KEY=key-c",
                "--set",
                "PAYBRIDGE_CARD_PARTNER_ID=partner-c",
            ],
            &ledger,
        );
        let added = Instant::now();
        let route_c = route_a.replace("/m/shop-a/", "/m/shop-c/");
        assert!(
            eventually(Duration::from_secs(5), || {
                post(&route_c, "application/json", &card_callback("c-1", "not-c")).0 == 401
            }),
            "{backend}: /m/shop-c/ not served 5 s after it was added"
        );
        eprintln!(
            "{backend}: shop-c served {:?} after it was added",
            added.elapsed()
        );
        moved_webhooks_follow(backend, &ledger, &card_ep, &got_a);
        let _ = rx.kill();
        let _ = rx.wait();
        // No merchant's secret in receive's trace log.
        let logged = std::fs::read_to_string(&log).unwrap();
        assert!(
            logged.contains("TRACE") || logged.contains("DEBUG"),
            "{backend}: no trace log?"
        );
        for secret in [
            "key-a",
            "key-b",
            "key-c",
            "qvickly-key-a",
            SECRET_A,
            SECRET_B,
            SECRET_C,
            LEDGER_KEY,
        ] {
            assert!(!logged.contains(secret), "{backend}: {secret} in the log");
        }
        let _ = std::fs::remove_file(&log);
        reconcile_each_with_its_partner(backend, &ledger, &card_ep);
    }
}

/// shop-a's webhooks move to another target with another secret while `receive` runs: its
/// next event goes there, signed with the new secret only; the old target hears nothing more.
fn moved_webhooks_follow(backend: &str, ledger: &str, card_ep: &str, old: &Got) {
    let (url, got) = target();
    merchants(
        &[
            "add",
            "--id",
            "shop-a",
            "--forward",
            &url,
            "--forward-secret",
            SECRET_C,
        ],
        ledger,
    );
    let mut args = vec!["--merchant", "shop-a"];
    args.extend(charge_args(card_ep, "charge", "312821445892989", "order-3"));
    args.extend(["--ledger", ledger]);
    let (out, v) = run(&args, &[("PAYBRIDGE_LEDGER_KEY", LEDGER_KEY)]);
    assert_eq!(out.status.code(), Some(0), "{v}");
    assert!(
        eventually(Duration::from_secs(10), || got.lock().unwrap().len() == 1),
        "{backend}: nothing at the new target"
    );
    let moved = events(&got, SECRET_C, SECRET_A);
    assert_eq!(moved[0]["data"]["reference"], "order-3", "{backend}");
    assert_eq!(moved[0]["data"]["merchant"], "shop-a", "{backend}");
    assert_eq!(
        old.lock().unwrap().len(),
        1,
        "{backend}: the old target got more"
    );
}

/// With `receive` gone and the partners' callbacks going nowhere, `order-2` of each merchant
/// stays pending until `reconcile` asks the gateway — as each merchant's partner: asked as
/// another, the gateway knows no such request.
fn reconcile_each_with_its_partner(backend: &str, ledger: &str, card_ep: &str) {
    for partner in ["partner-a", "partner-b"] {
        let set = format!("{card_ep}/_sandbox/callback-url?partner_id={partner}");
        assert_eq!(http("PUT", &set, "text/plain", ""), 204);
    }
    for m in ["shop-a", "shop-b"] {
        let mut args = vec!["--merchant", m];
        args.extend(charge_args(card_ep, "charge", "312821445892989", "order-2"));
        args.extend(["--ledger", ledger]);
        let (out, v) = run(&args, &[("PAYBRIDGE_LEDGER_KEY", LEDGER_KEY)]);
        assert_eq!(
            (out.status.code(), &v["status"]),
            (Some(0), &json!("pending")),
            "{v}"
        );
    }
    std::thread::sleep(Duration::from_millis(300));
    let (out, v) = run(
        &["--json", "reconcile", "--once", "--all", "--ledger", ledger],
        &[
            ("PAYBRIDGE_LEDGER_KEY", LEDGER_KEY),
            ("PAYBRIDGE_CARD_ENDPOINT", card_ep),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{backend}: {v}");
    assert_eq!(
        (&v["checked"], &v["changed"]),
        (&json!(2), &json!(2)),
        "{backend}: {v}"
    );
    for m in ["shop-a", "shop-b"] {
        let payments = ledger_payments(Some(m), ledger);
        let order_2 = payments
            .iter()
            .find(|p| p["reference"] == "order-2")
            .unwrap();
        assert_eq!(order_2["status"], "succeeded", "{backend} {m}: {order_2}");
    }
}

/// A Qvickly callback for order `orderid` signed with `secret`.
fn qvickly_callback(secret: &str, orderid: &str) -> String {
    let key = paybridge_core::signature::HmacSha512Key::new(secret.as_bytes()).unwrap();
    let data = paybridge_qvickly::signature::data_json(
        Some("9001"),
        Some("Paid"),
        Some(orderid),
        Some("https://qvickly.invalid/9001"),
    );
    let hash = paybridge_qvickly::signature::sign(&key, &data);
    format!(
        r#"{{"credentials":{{"hash":"{hash}","id":"9","version":"2.2.2","client":"Qvickly:Test:1.0","serverdata":[],"time":"2026-12-05 12:00:00","test":"0"}},"data":{data}}}"#
    )
}

#[test]
fn a_rotated_qvickly_secret_verifies_beside_the_new_one_for_its_grace_and_not_after() {
    for (backend, ledger) in &common::ledger_urls("rotation") {
        eprintln!("{backend}");
        merchants(
            &[
                "add",
                "--id",
                "shop-a",
                "--set",
                "PAYBRIDGE_QVICKLY_SECRET=old-secret",
            ],
            ledger,
        );
        // A merchant whose settings make no route (an endpoint without the id it needs):
        // it has none, and nobody else is affected.
        merchants(
            &[
                "add",
                "--id",
                "shop-bad",
                "--set",
                "PAYBRIDGE_QVICKLY_SECRET=bad-secret",
                "--set",
                "PAYBRIDGE_QVICKLY_ENDPOINT=http://127.0.0.1:9/",
            ],
            ledger,
        );
        let (mut rx, line) = receive(ledger, "http://127.0.0.1:9/unused", None);
        assert_eq!(
            line["merchants"]["shop-bad"],
            json!({}),
            "{backend}: {line}"
        );
        let route = line["merchants"]["shop-a"]["qvickly"]
            .as_str()
            .unwrap()
            .to_owned();
        let answer = |secret: &str, order: &str| {
            post(&route, "application/json", &qvickly_callback(secret, order)).0
        };
        assert_eq!(answer("old-secret", "q-1"), 200);
        assert_eq!(answer("new-secret", "q-2"), 401);
        merchants(
            &[
                "rotate",
                "--id",
                "shop-a",
                "--set",
                "PAYBRIDGE_QVICKLY_SECRET=new-secret",
                "--grace",
                "4",
            ],
            ledger,
        );
        let rotated = Instant::now();
        assert!(
            eventually(Duration::from_secs(3), || answer("new-secret", "q-3")
                == 200),
            "the new secret"
        );
        assert_eq!(
            answer("old-secret", "q-4"),
            200,
            "the old one, in its grace period"
        );
        // After the grace (4 s) and a refresh (2 s): the old one is refused.
        std::thread::sleep(Duration::from_secs(6).saturating_sub(rotated.elapsed()));
        assert!(
            eventually(Duration::from_secs(3), || answer("old-secret", "q-5")
                == 401),
            "the old one after its grace"
        );
        assert_eq!(answer("new-secret", "q-6"), 200);
        let _ = rx.kill();
        let _ = rx.wait();
    }
}

/// `paybridge --merchant M qvickly forward`: M's `CompanyId` from the ledger goes to the
/// booking API, without `--company-id` on the command line; a merchant not registered is
/// exit 2 and nothing is sent.
#[test]
fn a_merchants_company_id_goes_with_its_forwarded_callbacks() {
    const GUID: &str = "3f2504e0-4f89-11d3-9a0c-0305e82c3301";
    let dir = std::env::temp_dir().join(unique("company"));
    std::fs::create_dir_all(&dir).unwrap();
    let ledger = format!("sqlite://{}", dir.join("paybridge.db").display());
    merchants(
        &[
            "add",
            "--id",
            "shop-a",
            "--set",
            "PAYBRIDGE_QVICKLY_SECRET=a-secret",
            "--company-id",
            GUID,
        ],
        &ledger,
    );
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!(
        "http://{}/payment/billmate/v1/ipncallback",
        listener.local_addr().unwrap()
    );
    let sent = Arc::new(Mutex::new(Vec::new()));
    let kept = sent.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            if let Some((_, body)) = read_request(&stream) {
                kept.lock().unwrap().push(String::from_utf8(body).unwrap());
            }
            respond(stream, "200 OK");
        }
    });
    let body = dir.join("callback.json");
    std::fs::write(&body, qvickly_callback("a-secret", "B-1")).unwrap();
    let body = body.display().to_string();
    let forward = |merchant: &str| {
        run(
            &[
                "--json",
                "--merchant",
                merchant,
                "qvickly",
                "forward",
                "--endpoint",
                &endpoint,
                "--body",
                &body,
            ],
            // (`forward` records nothing: the ledger its settings are in, from the environment.)
            &[
                ("PAYBRIDGE_LEDGER_KEY", LEDGER_KEY),
                ("PAYBRIDGE_LEDGER", &ledger),
            ],
        )
    };
    let (out, v) = forward("shop-z");
    assert_eq!(out.status.code(), Some(2), "{v}");
    assert!(sent.lock().unwrap().is_empty());
    let _ = forward("shop-a");
    let sent = sent.lock().unwrap().clone();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].contains(GUID), "{}", sent[0]);
    let _ = std::fs::remove_dir_all(dir);
}

/// A merchant's Qvickly payment created, reconciled and refunded with `--merchant`: every
/// call made with the merchant's credentials from the ledger (this process's environment holds
/// none), the payment and its refund recorded for it, the default merchant's ledger empty.
#[test]
fn a_merchants_payment_is_refunded_with_its_own_credentials() {
    let sb = sandbox();
    let endpoint = sb.qvickly_api();
    // Only what the platform shares: the endpoint.
    let env = [
        ("PAYBRIDGE_LEDGER_KEY", LEDGER_KEY),
        ("PAYBRIDGE_QVICKLY_ENDPOINT", endpoint.as_str()),
    ];
    for (backend, ledger) in common::ledger_urls("merchant-refund") {
        merchants(
            &[
                "add",
                "--id",
                "shop-q",
                "--set",
                "PAYBRIDGE_QVICKLY_ID=sandbox-merchant",
                "--set",
                &format!("PAYBRIDGE_QVICKLY_SECRET={QVICKLY_SECRET}"),
            ],
            &ledger,
        );
        let orderid = unique("R");
        let dir = std::env::temp_dir().join(unique("merchant-refund"));
        std::fs::create_dir_all(&dir).unwrap();
        let body = dir.join("add.json");
        let data = json!({
            "PaymentData": {"method": "8", "currency": "SEK", "language": "sv", "country": "SE",
                            "orderid": orderid, "autoactivate": "1",
                            "accepturl": "https://shop.example/accept", "cancelurl": "https://shop.example/cancel"},
            "Customer": {"Billing": {"email": "asa@example.se"}},
            "Articles": [{"artnr": "A-1", "title": "Tröja", "quantity": "1", "aprice": "25000", "taxrate": "25", "discount": "0", "withouttax": "25000"}],
            "Cart": {"Total": {"withouttax": "25000", "tax": "6250", "rounding": "0", "withtax": "31250"}}
        });
        std::fs::write(&body, data.to_string()).unwrap();
        let as_shop = |args: &[&str]| {
            let mut all = vec!["--json", "--merchant", "shop-q"];
            all.extend_from_slice(args);
            let (out, v) = run(&all, &env);
            assert_eq!(out.status.code(), Some(0), "{backend} {args:?}: {v}");
            v
        };
        let body = body.display().to_string();
        let v = as_shop(&[
            "qvickly",
            "add-payment",
            "--body",
            &body,
            "--ledger",
            &ledger,
        ]);
        let number = v["number"].as_str().unwrap().to_owned();
        let page = v["url"].as_str().unwrap().to_owned();
        assert!((200..300).contains(&http(
            "POST",
            &page,
            "application/x-www-form-urlencoded",
            "choice=pay"
        )));
        let (out, v) = run(
            &[
                "--json",
                "reconcile",
                "--once",
                "--all",
                "--ledger",
                &ledger,
            ],
            &env,
        );
        assert_eq!(
            (out.status.code(), &v["changed"]),
            (Some(0), &json!(1)),
            "{backend}: {v}"
        );
        let v = as_shop(&[
            "qvickly", "credit", "--number", &number, "--ledger", &ledger, "--amount", "62.50",
        ]);
        assert_eq!(
            (&v["refunded"], &v["payment_status"]),
            (&json!("62.50"), &json!("partially_refunded")),
            "{backend}: {v}"
        );
        let v = as_shop(&[
            "ledger",
            "show",
            "--ledger",
            &ledger,
            "--provider",
            "qvickly",
            "--reference",
            &orderid,
        ]);
        assert_eq!(v["payment"]["refunded_amount"], "62.50", "{backend}: {v}");
        assert_eq!(
            ledger_payments(None, &ledger),
            Vec::<Value>::new(),
            "{backend}"
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}
