//! A canned Wooppay server in its own process, for instruction counts of the client alone:
//! answers `core_login` and `cash_createInvoice` with the samples of Wooppay's invoice API
//! guide, HTTP/1.1 keep-alive, one thread per connection. Prints its URL, then serves until
//! killed.
//!
//! `cargo run --release -p paybridge-woopay --example canned_server`
#![allow(missing_docs, clippy::unwrap_used, reason = "benchmark harness")]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;

fn sample(name: &str) -> String {
    let path = format!(
        "{}/../../schemas/woopay/samples/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("<!--"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn answer(body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\ncontent-type: text/xml; charset=utf-8\r\ncontent-length: {}\r\nset-cookie: PHPSESSID=canned; path=/\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn main() {
    let login = answer(&sample("core_login.response.xml"));
    let invoice = answer(&sample("cash_createInvoice.response.xml"));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    println!("http://{}/api/wsd/", listener.local_addr().unwrap());
    std::io::stdout().flush().unwrap();
    for stream in listener.incoming().flatten() {
        let (login, invoice) = (login.clone(), invoice.clone());
        std::thread::spawn(move || {
            let mut writer = stream.try_clone().unwrap();
            let mut reader = BufReader::new(stream);
            loop {
                let mut length = 0_usize;
                let mut line = String::new();
                loop {
                    line.clear();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    if line == "\r\n" {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0_u8; length];
                if reader.read_exact(&mut body).is_err() {
                    return;
                }
                let is_login = body.windows(10).any(|w| w == b"core_login");
                if writer
                    .write_all(if is_login { &login } else { &invoice })
                    .is_err()
                {
                    return;
                }
            }
        });
    }
}
