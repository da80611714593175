//! What the CLI's test files share: the binary, the sandbox it starts, a run that checks no
//! secret leaks, the card flags, unique names.

#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test; each test file uses a part of it"
)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

pub mod browser;

pub const BIN: &str = env!("CARGO_BIN_EXE_paybridge");
pub const KEY: &str = "sandbox-key";
pub const QVICKLY_SECRET: &str = paybridge_qvickly::sandbox::SANDBOX_SECRET;
pub const WOOPAY_PASSWORD: &str = "A12345678a";
pub const LINKIFIER_KEY: &str = paybridge_linkifier_ipn::sandbox::SANDBOX_KEY;

pub struct Sandbox {
    pub child: Child,
    pub endpoints: Value,
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Killed, it could not remove its ledger's directory itself.
        if let Some(db) = self.endpoints["ledger"]
            .as_str()
            .and_then(|url| url.strip_prefix("sqlite://"))
            && let Some(dir) = std::path::Path::new(db).parent()
            && dir.starts_with(std::env::temp_dir())
        {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// A sandbox's own address, read off its endpoints line: its `qvickly` value is the hosted
/// payment page under it.
pub fn sandbox_base(endpoints: &Value) -> String {
    let page = endpoints["qvickly"].as_str().unwrap();
    page.split("/payment/").next().unwrap().to_owned()
}

/// The Qvickly Payment API a sandbox serves.
pub fn qvickly_api(endpoints: &Value) -> String {
    format!("{}/qvickly/api/", sandbox_base(endpoints))
}

impl Sandbox {
    /// Its own address ([`sandbox_base`]).
    pub fn base(&self) -> String {
        sandbox_base(&self.endpoints)
    }

    /// The Qvickly Payment API it serves ([`qvickly_api`]).
    pub fn qvickly_api(&self) -> String {
        qvickly_api(&self.endpoints)
    }
}

pub fn sandbox() -> Sandbox {
    sandbox_at("127.0.0.1:0")
}

pub fn sandbox_at(addr: &str) -> Sandbox {
    let mut child = Command::new(BIN)
        .args(["sandbox", "--addr", addr])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let endpoints = first_line(&mut child);
    Sandbox { child, endpoints }
}

pub fn run(args: &[&str], env: &[(&str, &str)]) -> (Output, Value) {
    let out = Command::new(BIN)
        .args(args)
        .env_remove("PAYBRIDGE_CARD_PARTNER_KEY")
        .env_remove("PAYBRIDGE_CARD_PARTNER_ID")
        .envs(env.iter().copied())
        .env("PAYBRIDGE_LOG", "trace")
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout.clone()).unwrap();
    let json = serde_json::from_str(stdout.trim()).unwrap_or(Value::Null);
    // No secret anywhere, even with trace logging.
    let all = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(!all.contains(KEY), "partner key leaked: {all}");
    assert!(
        !all.contains(QVICKLY_SECRET),
        "qvickly secret leaked: {all}"
    );
    (out, json)
}

pub fn charge_args<'a>(
    endpoint: &'a str,
    command: &'a str,
    code: &'a str,
    request_id: &'a str,
) -> Vec<&'a str> {
    vec![
        "--json",
        "card-charging",
        command,
        "--endpoint",
        endpoint,
        "--telco",
        "VIETTEL",
        "--code",
        code,
        "--serial",
        "10004783347874",
        "--amount",
        "50000",
        "--request-id",
        request_id,
    ]
}

pub const CREDS: [(&str, &str); 2] = [
    ("PAYBRIDGE_CARD_PARTNER_ID", "sandbox-partner"),
    ("PAYBRIDGE_CARD_PARTNER_KEY", KEY),
];

pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

/// The ledgers a CLI test runs on: a fresh SQLite file always, and a fresh PostgreSQL schema
/// when `PAYBRIDGE_TEST_POSTGRES` is set (with `PAYBRIDGE_REQUIRE_POSTGRES=1`, required).
pub fn ledger_urls(name: &str) -> Vec<(&'static str, String)> {
    let dir = std::env::temp_dir().join(unique(name));
    std::fs::create_dir_all(&dir).unwrap();
    let mut out = vec![(
        "sqlite",
        format!("sqlite://{}", dir.join("paybridge.db").display()),
    )];
    let Ok(base) = std::env::var("PAYBRIDGE_TEST_POSTGRES") else {
        assert!(
            std::env::var("PAYBRIDGE_REQUIRE_POSTGRES").as_deref() != Ok("1"),
            "PAYBRIDGE_REQUIRE_POSTGRES=1 but PAYBRIDGE_TEST_POSTGRES is not set"
        );
        eprintln!("skipped PostgreSQL: {name} (set PAYBRIDGE_TEST_POSTGRES to run it)");
        return out;
    };
    let schema = unique(name).to_lowercase().replace('-', "_");
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let admin = sqlx::PgPool::connect(&base).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA \"{schema}\"")))
                .execute(&admin)
                .await
                .unwrap();
        });
    let sep = if base.contains('?') { '&' } else { '?' };
    out.push((
        "postgres",
        format!("{base}{sep}options=-c%20search_path%3D{schema}"),
    ));
    out
}

/// One HTTP/1.1 request read off `stream` (a merchant endpoint in a test): its headers and
/// body; `None` when the peer went away before it was whole.
pub fn read_request(stream: &std::net::TcpStream) -> Option<(http::HeaderMap, Vec<u8>)> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut headers = http::HeaderMap::new();
    let mut length = 0;
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    loop {
        line.clear();
        reader.read_line(&mut line).ok()?;
        let Some((k, v)) = line.trim_end().split_once(": ") else {
            break;
        };
        if k.eq_ignore_ascii_case("content-length") {
            length = v.parse().unwrap();
        }
        headers.insert(
            http::HeaderName::from_bytes(k.to_ascii_lowercase().as_bytes()).unwrap(),
            http::HeaderValue::from_str(v).unwrap(),
        );
    }
    let mut body = vec![0; length];
    std::io::Read::read_exact(&mut reader, &mut body).ok()?;
    Some((headers, body))
}

/// Answer a request read by [`read_request`] with `status` (`"204 No Content"`), no body.
pub fn respond(mut stream: std::net::TcpStream, status: &str) {
    let _ = std::io::Write::write_all(
        &mut stream,
        format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").as_bytes(),
    );
}

/// The one JSON line a server command (`sandbox`, `receive`) prints first.
pub fn first_line(child: &mut Child) -> Value {
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    serde_json::from_str(&line).unwrap()
}

/// `body` (a delivered event) validates against the repository's schema of its own `type`
/// (`docs/schemas/<type>.json`).
pub fn assert_valid_event(body: &[u8]) {
    let event: Value = serde_json::from_slice(body).unwrap();
    let kind = event["type"].as_str().unwrap();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../docs/schemas")
        .join(format!("{kind}.json"));
    let schema: Value = serde_json::from_slice(
        &std::fs::read(&path).unwrap_or_else(|e| panic!("no schema for {kind}: {e}")),
    )
    .unwrap();
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&event)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{kind}: {errors:?}\n{event:#}");
}

/// `qvickly add-payment --body <data> --ledger <ledger>` (the data written to a file first):
/// the command's JSON answer, after checking it exited 0.
pub fn add_qvickly_payment(data: &Value, ledger: &str, env: &[(&str, &str)]) -> Value {
    let dir = std::env::temp_dir().join(unique("qvickly-body"));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("add.json");
    std::fs::write(&path, data.to_string()).unwrap();
    let body = path.display().to_string();
    let (out, v) = run(
        &[
            "--json",
            "qvickly",
            "add-payment",
            "--body",
            &body,
            "--ledger",
            ledger,
        ],
        env,
    );
    assert_eq!(out.status.code(), Some(0), "{v}");
    v
}

/// POST `body` to `url` (plain HTTP, one connection) with `content_type`: the answer's status
/// and body.
pub fn post(url: &str, content_type: &str, body: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    write!(
        stream,
        "POST /{path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, body.to_owned())
}

/// POST `body` as a form to `url`, as a payer's browser posts a page's button
/// (`choice=pay`); the answer's status code.
pub fn post_form(url: &str, body: &str) -> u16 {
    post(url, "application/x-www-form-urlencoded", body).0
}

/// A form body's type (what a payer's browser posts: `choice=pay` is the page's Pay button).
pub const FORM: &str = "application/x-www-form-urlencoded";

/// A minimal HTTP/1.1 request with std only; returns the status code.
pub fn http(method: &str, url: &str, content_type: &str, body: &str) -> u16 {
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

/// A server that accepts connections, reads what comes and never answers; counts connections.
pub fn hung_server() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
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
