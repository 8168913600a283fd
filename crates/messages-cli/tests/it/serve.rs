//! `msgs serve`: the relay and its demo page, with the embedded emulator.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};

use crate::msgs;

/// Kills the server when the test ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One HTTP/1.1 exchange with `Connection: close`: the whole raw response.
fn exchange(addr: &str, head: &str, body: &str) -> String {
    let mut tcp = TcpStream::connect(addr).expect("connects");
    let req = format!(
        "{head}\r\nHost: test\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    tcp.write_all(req.as_bytes()).expect("writes");
    let mut out = String::new();
    tcp.read_to_string(&mut out).expect("reads");
    out
}

#[test]
fn serves_the_demo_page_and_streams_chats() {
    let mut cmd = msgs(None);
    cmd.args([
        "serve",
        "--addr",
        "127.0.0.1:0",
        "--token-delay-ms",
        "0",
        "--max-tokens",
        "20",
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut server = Server(cmd.spawn().expect("msgs serve starts"));
    let stdout = server.0.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("a first line");
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();

    let page = exchange(&addr, "GET / HTTP/1.1", "");
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    let lower = page.to_ascii_lowercase();
    assert!(lower.contains("content-type: text/html"));
    assert!(lower.contains("content-security-policy: default-src 'none'"));
    assert!(page.contains("<!doctype html>"));
    // Nothing loads from elsewhere: no absolute URLs in the page.
    assert!(!page.contains("http://") && !page.contains("https://"));

    let chat = r#"{"messages":[{"role":"user","content":"Hello"}]}"#;
    let reply = exchange(&addr, "POST /chat?format=simple HTTP/1.1", chat);
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(reply.contains("data: {\"text\":"), "{reply}");
    assert!(reply.contains("\"done\":true"), "{reply}");

    let stats = exchange(&addr, "GET /_emulator HTTP/1.1", "");
    assert!(stats.contains("\"messages_requests\":1"), "{stats}");
    let bad = exchange(&addr, "POST /chat HTTP/1.1", "{}");
    assert!(bad.starts_with("HTTP/1.1 400"), "{bad}");
}
