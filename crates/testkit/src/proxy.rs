//! A gateway that takes a request and never answers.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

/// A server that passes each request on to `upstream` (`http://host:port`) — so what it asks
/// really happens there — and never answers its sender: the connection is held open without a
/// byte back, so the sender's outcome is unknown. Returns its base URL (`http://host:port`);
/// each request's path is kept. Runs on threads of its own until the process ends.
///
/// # Panics
///
/// When it cannot bind a port (a test harness: failing loudly is the point).
#[allow(
    clippy::expect_used,
    reason = "a test harness: failing loudly is the point"
)]
#[must_use]
pub fn swallowing_proxy(upstream: &str) -> String {
    swallowing_proxy_when(upstream, |_| true)
}

/// [`swallowing_proxy`] for the requests `swallow` picks (by their bytes, head and body); the
/// others are passed on and answered as the upstream answered (a login before the request
/// that hangs).
///
/// # Panics
///
/// When it cannot bind a port.
#[allow(
    clippy::expect_used,
    reason = "a test harness: failing loudly is the point"
)]
#[must_use]
pub fn swallowing_proxy_when(upstream: &str, swallow: fn(&[u8]) -> bool) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a port");
    let addr = listener.local_addr().expect("its address");
    let upstream = upstream.trim_start_matches("http://").to_owned();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for socket in listener.incoming().flatten() {
            let upstream = upstream.clone();
            held.push(std::thread::spawn(move || {
                let mut socket = socket;
                let Some(request) = read_request(&socket) else {
                    return;
                };
                let answer = pass_on(&upstream, &request);
                if swallow(&request) {
                    // Never answered, never closed.
                    std::thread::park();
                } else {
                    let _ = socket.write_all(&answer);
                }
                drop(socket);
            }));
        }
    });
    format!("http://{addr}")
}

/// One HTTP/1.1 request read whole (headers, then `Content-Length` bytes of body).
fn read_request(mut socket: &TcpStream) -> Option<Vec<u8>> {
    let mut request = Vec::new();
    let mut buf = [0_u8; 4096];
    loop {
        let n = socket.read(&mut buf).ok().filter(|n| *n > 0)?;
        request.extend_from_slice(buf.get(..n)?);
        let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(request.get(..end)?).to_ascii_lowercase();
        let body: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        while request.len() < end + 4 + body {
            let n = socket.read(&mut buf).ok().filter(|n| *n > 0)?;
            request.extend_from_slice(buf.get(..n)?);
        }
        return Some(request);
    }
}

/// Send `request` to `upstream` as it came (with its `Host`, and closing after the answer)
/// and read the answer to its end.
fn pass_on(upstream: &str, request: &[u8]) -> Vec<u8> {
    let mut answer = Vec::new();
    let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") else {
        return answer;
    };
    let (Some(head), Some(body)) = (request.get(..end), request.get(end + 4..)) else {
        return answer;
    };
    let head = String::from_utf8_lossy(head);
    let mut lines = head.split("\r\n");
    let mut out_head = lines.next().unwrap_or_default().to_owned();
    for line in lines {
        let lower = line.to_ascii_lowercase();
        if !lower.starts_with("host:") && !lower.starts_with("connection:") {
            out_head.push_str("\r\n");
            out_head.push_str(line);
        }
    }
    out_head.push_str("\r\nhost: ");
    out_head.push_str(upstream);
    out_head.push_str("\r\nconnection: close\r\n\r\n");
    let Ok(mut out) = TcpStream::connect(upstream) else {
        return answer;
    };
    let _ = out.write_all(out_head.as_bytes());
    let _ = out.write_all(body);
    let _ = out.read_to_end(&mut answer);
    answer
}
