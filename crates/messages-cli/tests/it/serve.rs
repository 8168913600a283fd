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

/// Starts `msgs serve` with its embedded emulator and `extra` arguments;
/// returns it and its address.
fn serve(extra: &[&str]) -> (Server, String) {
    let mut cmd = msgs(None);
    cmd.args(["serve", "--addr", "127.0.0.1:0", "--max-tokens", "20"])
        .args(extra)
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
    (server, addr)
}

#[test]
fn serves_the_demo_page_and_streams_chats() {
    let (_server, addr) = serve(&["--token-delay-ms", "0"]);

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

#[test]
fn two_servers_sharing_redis_resume_each_others_streams() {
    let redis = crate::queue::Redis::start();
    let url = redis.url();
    let (_one, one) = serve(&["--token-delay-ms", "0", "--redis", &url]);
    let (_two, two) = serve(&["--token-delay-ms", "0", "--redis", &url]);
    let chat = r#"{"messages":[{"role":"user","content":"Hello"}]}"#;
    let reply = exchange(&one, "POST /chat?format=simple HTTP/1.1", chat);
    assert!(reply.contains("\"done\":true"), "{reply}");
    let id = reply
        .lines()
        .find_map(|l| l.strip_prefix("x-relay-stream-id: "))
        .unwrap_or_else(|| panic!("no stream id in {reply}"))
        .trim()
        .to_owned();
    // The whole stream, read again through the other server: the same events.
    let again = exchange(&two, &format!("GET /chat/{id}?format=simple HTTP/1.1"), "");
    // The joined text and the final event (a replay of an ended stream
    // merges adjacent text deltas into one event).
    let events = |r: &str| {
        let mut text = String::new();
        let mut last = String::new();
        for data in r.lines().filter_map(|l| l.strip_prefix("data: ")) {
            let v: serde_json::Value = serde_json::from_str(data).unwrap();
            match v["text"].as_str() {
                Some(t) => text.push_str(t),
                None => last = data.to_owned(),
            }
        }
        (text, last)
    };
    assert!(again.starts_with("HTTP/1.1 200"), "{again}");
    assert!(events(&reply).0.len() > 10, "{reply}");
    assert_eq!(events(&again), events(&reply));
    // Resumed after its first event: the rest, and no upstream request on
    // the second server's emulator.
    let resumed = exchange(
        &two,
        &format!("GET /chat/{id}?format=simple HTTP/1.1\r\nLast-Event-ID: 1"),
        "",
    );
    assert!(resumed.starts_with("HTTP/1.1 200"), "{resumed}");
    assert!(resumed.contains("\"done\":true"), "{resumed}");
    let stats = exchange(&two, "GET /_emulator HTTP/1.1", "");
    assert!(stats.contains("\"messages_requests\":0"), "{stats}");
    let stats = exchange(&one, "GET /_emulator HTTP/1.1", "");
    assert!(stats.contains("\"messages_requests\":1"), "{stats}");
    // A bad URL is a clear error.
    let out = msgs(None)
        .args(["serve", "--addr", "127.0.0.1:0", "--redis", "nope://x"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--redis nope://x"), "{err}");
}
