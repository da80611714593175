//! `reencode` against PHP itself: thousands of documents — numbers in every form PHP writes
//! and others (trailing zeros, exponents, big integers), strings with slashes, controls and
//! non-ASCII — through `php -r 'json_encode(json_decode(...))'`, byte for byte.
//!
//! Needs `php` (Debian's `php-cli`): skipped with a message when it is missing, unless
//! `PAYBRIDGE_REQUIRE_PHP=1` (CI sets it and installs PHP), which makes a missing PHP a failure.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

use std::io::Write as _;
use std::process::{Command, Stdio};

use paybridge_qvickly::php_json::reencode;

fn number(rng: &mut fastrand::Rng) -> String {
    match rng.u8(0..6) {
        0 => {
            let f = f64::from_bits(rng.u64(..));
            if f.is_finite() {
                format!("{f:e}")
            } else {
                "0.5".into()
            }
        }
        1 => rng.i64(..).to_string(),
        2 => format!("{}{}", rng.u64(..), rng.u8(0..10)),
        3 => format!(
            "{}.{}{}",
            rng.i32(-100_000..100_000),
            rng.u32(0..1000),
            "0".repeat(rng.usize(0..3))
        ),
        4 => format!("{}e{}", rng.i32(-999..999), rng.i32(-30..30)),
        _ => format!("{}", f64::from(rng.i32(..)) / 100.0),
    }
}

fn string(rng: &mut fastrand::Rng) -> String {
    const PIECES: [&str; 12] = [
        "a", "/", "\\\\", "\\\"", "å", "Ö", "😀", "\\n", "\\u0001", "\\u00e9", "<&>", " ",
    ];
    (0..rng.usize(0..8))
        .map(|_| PIECES[rng.usize(..PIECES.len())])
        .collect()
}

#[test]
fn reencode_writes_what_php_writes() {
    let php_present = Command::new("php").arg("-v").output().is_ok();
    if !php_present {
        assert!(
            std::env::var("PAYBRIDGE_REQUIRE_PHP").as_deref() != Ok("1"),
            "PAYBRIDGE_REQUIRE_PHP=1 but no php on PATH"
        );
        eprintln!("skipped: no php on PATH (apt-get install php-cli to run it)");
        return;
    }
    let mut rng = fastrand::Rng::with_seed(20_261_201);
    let docs: Vec<String> = (0..3000)
        .map(|_| {
            // Half spaced as Python's json.dumps writes by default (Qvickly's Python sample
            // sends that and hashes the compact form): PHP re-encodes both alike.
            let (c, k) = if rng.bool() { (", ", ": ") } else { (",", ":") };
            format!(
                r#"{{"number"{k}"{}"{c}"amount"{k}{}{c}"list"{k}[{}{c}{{"k"{k}"{}"}}]{c}"url"{k}"{}"}}"#,
                rng.u32(..),
                number(&mut rng),
                number(&mut rng),
                string(&mut rng),
                string(&mut rng)
            )
        })
        .collect();
    let mut child = Command::new("php")
        .args([
            "-r",
            r#"while (($l = fgets(STDIN)) !== false) { $v = json_encode(json_decode(rtrim($l, "\n"))); echo $v === false ? "FAILED" : $v, "\n"; }"#,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = docs.join("\n") + "\n";
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()).unwrap());
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    let php = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = php.lines().collect();
    assert_eq!(lines.len(), docs.len());
    let mut compared = 0;
    for (doc, php) in docs.iter().zip(lines) {
        match reencode(doc) {
            Ok(ours) => {
                assert_eq!(ours, php, "input {doc}");
                compared += 1;
            }
            // Ours refuses only what PHP cannot encode either (a number beyond a double).
            Err(e) => assert_eq!(php, "FAILED", "we refused {doc} ({e}), PHP wrote {php}"),
        }
    }
    assert!(compared > 2900, "only {compared} compared");
}
