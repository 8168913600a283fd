//! `msgs queue dashboard`: the snapshot, the event stream and the page, from
//! a real server on loopback over a real redis-server, while a real
//! `msgs worker` runs jobs against the emulator.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use messages::MessageRequest;
use messages_queue::{Job, Queue, QueueConfig, RedisQueue};
use serde_json::Value;

use crate::queue::Redis;
use crate::{msgs, temp_dir};

/// A child process killed and reaped on drop.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `msgs queue dashboard ARGS` on a free port; returns it and its
/// address (from the `listening on` line) and what it said on stderr.
fn dashboard(args: &[&str]) -> (Proc, SocketAddr) {
    let mut cmd = msgs(None);
    cmd.args(["queue", "dashboard", "--addr", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = Proc(cmd.spawn().expect("msgs queue dashboard starts"));
    let mut out = child.0.stdout.take().expect("stdout");
    let mut line = Vec::new();
    let mut b = [0u8; 1];
    while out.read(&mut b).unwrap_or(0) == 1 && b[0] != b'\n' {
        line.push(b[0]);
    }
    let line = String::from_utf8(line).expect("utf-8");
    let addr = line
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("not the address line: {line:?}"))
        .parse()
        .expect("an address");
    (child, addr)
}

/// An HTTP/1.0 GET (the server closes the connection after the body):
/// the status code, the head and the body.
fn get(addr: SocketAddr, path: &str) -> (u16, String, Vec<u8>) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).expect("the whole response");
    let split = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a head");
    let head = String::from_utf8_lossy(&buf[..split]).into_owned();
    let code = head[9..12].parse().expect("a status code");
    (code, head, buf[split + 4..].to_vec())
}

fn snapshot(addr: SocketAddr) -> Value {
    let (code, _, body) = get(addr, "/snapshot.json");
    assert_eq!(code, 200);
    serde_json::from_slice(&body).expect("the snapshot is JSON")
}

/// A connection to `/events`, read with sse-core's parser.
struct Events {
    sock: TcpStream,
    parser: sse_core::Parser,
    head: String,
}

impl Events {
    fn open(addr: SocketAddr, last_id: Option<u64>) -> Events {
        let mut sock = TcpStream::connect(addr).expect("connect");
        sock.set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let extra = last_id.map_or(String::new(), |id| format!("Last-Event-ID: {id}\r\n"));
        write!(sock, "GET /events HTTP/1.0\r\nHost: x\r\n{extra}\r\n").unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        let split = loop {
            let n = sock.read(&mut chunk).expect("the head");
            assert!(n > 0, "closed before the head");
            buf.extend_from_slice(&chunk[..n]);
            if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break p;
            }
        };
        let head = String::from_utf8_lossy(&buf[..split]).into_owned();
        let mut parser = sse_core::Parser::new();
        parser.push(Bytes::copy_from_slice(&buf[split + 4..]));
        Events { sock, parser, head }
    }

    /// The next event: (type, id, data as JSON).
    fn next(&mut self) -> (String, u64, Value) {
        loop {
            if let Some(e) = self.parser.next_event().expect("a valid event stream") {
                let data = serde_json::from_str(e.data()).expect("JSON data");
                return (
                    e.event().to_owned(),
                    e.id().parse().expect("numeric ids"),
                    data,
                );
            }
            let mut chunk = [0u8; 16384];
            let n = self.sock.read(&mut chunk).expect("more events");
            assert!(n > 0, "the stream ended");
            self.parser.push(Bytes::copy_from_slice(&chunk[..n]));
        }
    }
}

// The reads of the event stream block; the in-process emulator runs on the
// other worker thread.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_streams_numbers_that_move_while_a_worker_runs() {
    let dir = temp_dir("dashboard");
    let redis = Redis::start();
    let emu = messages_emulator::Emulator::builder()
        .token_delay(Duration::ZERO)
        .latency(Duration::from_millis(20))
        .model("claude-house-1")
        .requests_per_minute(1_000_000)
        .request_log(false)
        .start()
        .await
        .unwrap();
    let q = RedisQueue::connect(&redis.url(), QueueConfig::default())
        .await
        .unwrap();
    const N: usize = 400;
    for i in 0..N {
        let req = MessageRequest::new("claude-haiku-4-5", 16).user(format!("question {i}"));
        assert!(
            q.enqueue(&Job::new(format!("d-{i}"), req).unwrap())
                .await
                .unwrap()
        );
    }
    // A model the price table does not know, and a request the API rejects.
    let house = MessageRequest::new("claude-house-1", 16).user("hello");
    q.enqueue(&Job::new("house", house).unwrap()).await.unwrap();
    let bad = MessageRequest::new("claude-haiku-4-5", 16);
    q.enqueue(&Job::new("bad", bad).unwrap()).await.unwrap();
    let total = N as u64 + 2;

    // A fake uPlot package: the server serves the file it is given.
    let lib = dir.join("uplot");
    std::fs::create_dir_all(lib.join("dist")).unwrap();
    std::fs::write(
        lib.join("dist/uPlot.iife.min.js"),
        "var uPlot=function(){};",
    )
    .unwrap();
    std::fs::write(lib.join("dist/uPlot.min.css"), ".uplot{}").unwrap();
    let chart_lib = lib.to_str().unwrap().to_owned();
    let (_dash, addr) = dashboard(&[
        "--redis",
        &redis.url(),
        "--interval-ms",
        "100",
        "--chart-lib",
        &chart_lib,
    ]);

    // The page and the library come from this origin.
    let (code, head, page) = get(addr, "/");
    assert_eq!(code, 200);
    let head = head.to_ascii_lowercase();
    assert!(head.contains("content-type: text/html"), "{head}");
    assert!(
        head.contains("content-security-policy: default-src 'none'; script-src 'self'"),
        "{head}"
    );
    let page = String::from_utf8(page).unwrap();
    assert!(page.contains(r#"<script src="/lib/uplot.js">"#));
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "nothing from elsewhere"
    );
    let (code, _, js) = get(addr, "/lib/uplot.js");
    assert_eq!(
        (code, js.as_slice()),
        (200, &b"var uPlot=function(){};"[..])
    );
    assert_eq!(get(addr, "/lib/uplot.css").0, 200);
    assert_eq!(get(addr, "/nope").0, 404);

    // Before any worker: everything queued.
    let s = snapshot(addr);
    assert_eq!(s["totals"]["queued"], total, "{s}");
    assert_eq!(s["totals"]["done"], 0);
    assert_eq!(s["workers_alive"], 0);
    assert!(s["backend"].as_str().unwrap().contains("redis"), "{s}");
    assert!(s["error"].is_null());

    let mut events = Events::open(addr, None);
    assert!(events.head.contains("text/event-stream"), "{}", events.head);
    let (kind, first_id, history) = events.next();
    assert_eq!(kind, "history");
    let history = history.as_array().expect("an array of samples");
    assert!(!history.is_empty());
    assert_eq!(history.last().unwrap()["seq"], first_id);

    let mut cmd = msgs(Some(&emu.base_url()));
    cmd.args(["worker", "--redis", &redis.url(), "--concurrency", "8"])
        .args(["--no-coordinator", "--exit-when-idle", "3"])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let _worker = Proc(cmd.spawn().expect("msgs worker starts"));

    // Samples arrive in order while the jobs run; the done count moves.
    let start = Instant::now();
    let mut last_id = first_id;
    let mut dones = Vec::new();
    let mut saw_worker = false;
    let mut saw_rate = false;
    let last = loop {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "not done: {dones:?}"
        );
        let (kind, id, s) = events.next();
        assert_eq!(kind, "sample");
        assert!(id > last_id, "ids grow: {id} after {last_id}");
        assert_eq!(s["seq"], id);
        last_id = id;
        assert!(s["error"].is_null(), "{s}");
        let done = s["totals"]["done"].as_u64().unwrap();
        dones.push(done);
        saw_worker |= s["workers_alive"].as_u64().unwrap() >= 1;
        saw_rate |= s["throughput"]["per_sec"].as_f64().unwrap() > 0.0;
        if done == total {
            break s;
        }
    };
    assert!(dones.windows(2).all(|w| w[0] <= w[1]), "{dones:?}");
    let mid = dones.iter().filter(|d| **d > 0 && **d < total).count();
    assert!(mid >= 2, "several samples while the jobs ran: {dones:?}");
    assert!(saw_worker, "the worker was seen alive");
    assert!(saw_rate, "a throughput above zero");

    // What the last sample says about the results.
    assert_eq!(last["outcomes"]["succeeded"], total - 1, "{last}");
    assert_eq!(last["outcomes"]["errored"], 1, "{last}");
    assert_eq!(last["errors"]["invalid_request_error"], 1, "{last}");
    assert!(last["tokens"]["input"].as_u64().unwrap() > 0);
    assert!(last["tokens"]["output"].as_u64().unwrap() > 0);
    assert!(
        last["cost"]["usd"].is_null(),
        "an unpriced model: cost unknown: {last}"
    );
    assert_eq!(
        last["cost"]["unpriced"],
        serde_json::json!(["claude-house-1"])
    );
    assert!(last["cost"]["priced_usd"].as_f64().unwrap() > 0.0);
    let models = last["models"].as_array().unwrap();
    let haiku = models
        .iter()
        .find(|m| m["model"].as_str().unwrap().starts_with("claude-haiku-4-5"))
        .expect("haiku's usage");
    assert_eq!(haiku["results"], total - 2);
    assert_eq!(haiku["batch"], false);
    assert!(haiku["usd"].as_f64().unwrap() > 0.0);
    let house = models
        .iter()
        .find(|m| m["model"] == "claude-house-1")
        .expect("the house model");
    assert!(house["usd"].is_null());
    assert!(
        last["headroom"]["requests"].as_u64().is_some(),
        "the emulator's rate-limit headers were recorded: {last}"
    );

    // A reconnect with Last-Event-ID gets only what came after it.
    let mut again = Events::open(addr, Some(last_id - 2));
    let (kind, _, missed) = again.next();
    assert_eq!(kind, "history");
    let seqs: Vec<u64> = missed
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["seq"].as_u64().unwrap())
        .collect();
    assert!(seqs.len() >= 2 && seqs[0] == last_id - 1, "{seqs:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn without_the_chart_library_the_page_still_serves_the_numbers() {
    let dir = temp_dir("dashboard-local");
    let qdir = dir.join("q");
    let (_dash, addr) = dashboard(&["--dir", qdir.to_str().unwrap(), "--no-charts"]);
    assert_eq!(get(addr, "/lib/uplot.js").0, 404);
    let (code, _, page) = get(addr, "/");
    assert_eq!(code, 200);
    assert!(
        String::from_utf8(page)
            .unwrap()
            .contains("cargo xtask browser")
    );
    let s = snapshot(addr);
    assert!(
        s["backend"].as_str().unwrap().contains("local queue"),
        "{s}"
    );
    assert_eq!(s["totals"]["queued"], 0);

    // A chart library path that does not exist is refused, naming it.
    let mut cmd = msgs(None);
    cmd.args(["queue", "dashboard", "--addr", "127.0.0.1:0", "--dir"])
        .arg(&qdir)
        .args(["--chart-lib", "/nonexistent/uplot"]);
    let o = crate::output(cmd).await;
    assert_eq!(o.status.code(), Some(2));
    assert!(
        crate::stderr(&o).contains("--chart-lib: cannot read /nonexistent/uplot"),
        "{}",
        crate::stderr(&o)
    );

    // An unreachable Redis fails at start, not behind a page.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cmd = msgs(None);
    cmd.args([
        "queue",
        "dashboard",
        "--addr",
        "127.0.0.1:0",
        "--no-charts",
        "--redis",
    ])
    .arg(format!("redis://127.0.0.1:{port}/"));
    let o = crate::output(cmd).await;
    assert_eq!(o.status.code(), Some(1), "{}", crate::stderr(&o));
    let _ = std::fs::remove_dir_all(&dir);
}
