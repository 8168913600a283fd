//! `msgs queue` and `msgs worker`: the fleet on Redis, the local store,
//! bad input.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use messages_queue::callback::{DEFAULT_TOLERANCE, SIGNATURE_HEADER, verify};
use messages_queue::{Queue, QueueConfig, RedisQueue};

use crate::{msgs, output, stderr, temp_dir};

const SECRET: &str = "fleet secret";

pub(crate) use test_support::redis::Redis;

/// A minimal HTTP/1.1 callback receiver (keep-alive, Content-Length
/// bodies): verifies each signature and counts POSTs per job id.
#[derive(Clone, Default)]
struct Receiver {
    counts: Arc<Mutex<HashMap<String, u32>>>,
    bad: Arc<Mutex<u32>>,
}

impl Receiver {
    fn start(&self) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let me = self.clone();
        std::thread::spawn(move || {
            for sock in listener.incoming() {
                let Ok(sock) = sock else { return };
                let me = me.clone();
                std::thread::spawn(move || me.serve(sock));
            }
        });
        url
    }

    fn serve(&self, sock: TcpStream) {
        let mut w = sock.try_clone().unwrap();
        let mut r = BufReader::new(sock);
        loop {
            let mut len = 0usize;
            let mut sig = String::new();
            let mut line = String::new();
            let mut first = true;
            loop {
                line.clear();
                if r.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                let l = line.trim_end();
                if l.is_empty() && !first {
                    break;
                }
                first = false;
                if let Some((k, v)) = l.split_once(':') {
                    let k = k.trim().to_ascii_lowercase();
                    if k == "content-length" {
                        len = v.trim().parse().unwrap_or(0);
                    } else if k == SIGNATURE_HEADER {
                        sig = v.trim().to_owned();
                    }
                }
            }
            let mut body = vec![0; len];
            if r.read_exact(&mut body).is_err() {
                return;
            }
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs();
            let status = if verify(SECRET.as_bytes(), &sig, &body, now, DEFAULT_TOLERANCE).is_ok() {
                let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
                let id = v["custom_id"].as_str().unwrap().to_owned();
                *self.counts.lock().unwrap().entry(id).or_default() += 1;
                "200 OK"
            } else {
                *self.bad.lock().unwrap() += 1;
                "401 Unauthorized"
            };
            let resp = format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\n\r\n");
            if w.write_all(resp.as_bytes()).is_err() {
                return;
            }
        }
    }
}

fn write_jobs(path: &Path, n: usize, callback: &str) {
    let mut s = String::new();
    for i in 0..n {
        s.push_str(&format!(
            r#"{{"custom_id":"f-{i}","params":{{"model":"claude-haiku-4-5","max_tokens":16,"messages":[{{"role":"user","content":"question {i}"}}]}},"callback":"{callback}","metadata":{{"i":{i}}}}}"#
        ));
        s.push('\n');
    }
    std::fs::write(path, s).unwrap();
}

fn spawn_worker(base_url: &str, redis: &str) -> Child {
    let mut cmd = msgs(Some(base_url));
    cmd.args(["worker", "--redis", redis, "--concurrency", "8"])
        .args(["--visibility-timeout", "2", "--callback-secret", SECRET])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    cmd.spawn().expect("msgs worker starts")
}

/// 3 worker processes, 2,000 jobs against the emulator with 50 ms latency;
/// one worker SIGKILLed mid-run, twice, each replaced. Every job ends with
/// exactly one result and its callback delivered (at least once: a
/// receiver that keys on the idempotency key sees each job once).
#[tokio::test]
async fn a_fleet_with_killed_workers_gives_each_job_one_result_and_its_callback() {
    let dir = temp_dir("fleet");
    let redis = Redis::start();
    let emu = messages_emulator::Emulator::builder()
        .token_delay(Duration::ZERO)
        .latency(Duration::from_millis(50))
        .request_log(false)
        .start()
        .await
        .unwrap();
    let rx = Receiver::default();
    let hook = rx.start();
    let jobs = dir.join("jobs.jsonl");
    const N: usize = 2000;
    write_jobs(&jobs, N, &hook);
    let mut cmd = msgs(None);
    cmd.args(["queue", "enqueue"])
        .arg(&jobs)
        .args(["--redis", &redis.url()]);
    let o = output(cmd).await;
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("2000 jobs enqueued"), "{}", stderr(&o));

    let q = RedisQueue::connect(&redis.url(), QueueConfig::default())
        .await
        .unwrap();
    let done = || async { q.status().await.unwrap().lanes[1].done };
    let base = emu.base_url();
    let mut workers: Vec<Child> = (0..3).map(|_| spawn_worker(&base, &redis.url())).collect();
    for (killed, at) in [400, 1000].into_iter().enumerate() {
        while done().await < at {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // SIGKILL one worker in the middle of its jobs, start a replacement.
        workers[killed].kill().unwrap();
        workers[killed].wait().unwrap();
        workers.push(spawn_worker(&base, &redis.url()));
    }
    assert!(done().await < N as u64, "the kills happened mid-run");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let delivered = rx.counts.lock().unwrap().len();
        if done().await == N as u64 && delivered == N {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not finished: {} results, {delivered} callbacks",
            done().await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for w in &mut workers {
        let _ = w.kill();
        let _ = w.wait();
    }
    // Exactly one result per job, in the results file too.
    let out = dir.join("results.jsonl");
    let mut cmd = msgs(None);
    cmd.args(["queue", "results", "-o"])
        .arg(&out)
        .args(["--redis", &redis.url()]);
    let o = output(cmd).await;
    assert!(o.status.success(), "{}", stderr(&o));
    let ids = crate::custom_ids(&out);
    assert_eq!(ids.len(), N);
    let unique: std::collections::HashSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), N, "one result line per job");
    for i in 0..N {
        let info = q.job(&format!("f-{i}")).await.unwrap().unwrap();
        assert_eq!(
            info.callback.status,
            messages_queue::CallbackStatus::Delivered,
            "f-{i}"
        );
    }
    assert_eq!(
        *rx.bad.lock().unwrap(),
        0,
        "every callback signature verifies"
    );
    let counts = rx.counts.lock().unwrap().clone();
    let repeated: u32 = counts.values().map(|c| c - 1).sum();
    eprintln!("fleet: {repeated} callbacks repeated after the kills (same idempotency key)");
    // Callbacks are at-least-once: a worker killed after the receiver got
    // its POST and before the delivery was recorded leaves the callback to
    // the next worker, which sends it again with the same idempotency key.
    // That can only happen to jobs in flight in a killed worker (2 x 8).
    assert!(repeated <= 16, "{repeated} repeated callbacks");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn enqueue_rejects_a_malformed_line_with_its_number() {
    let dir = temp_dir("queue-bad");
    let jobs = dir.join("jobs.jsonl");
    std::fs::write(
        &jobs,
        concat!(
            r#"{"custom_id":"a","params":{"model":"m","max_tokens":5,"messages":[]}}"#,
            "\n",
            r#"{"custom_id":"b","params":{"model":"m","max_tokens":5,"messages":[]},"priority":"now"}"#,
            "\n"
        ),
    )
    .unwrap();
    let mut cmd = msgs(None);
    cmd.args(["queue", "enqueue"])
        .arg(&jobs)
        .arg("--dir")
        .arg(dir.join("q"));
    let o = output(cmd).await;
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("jobs.jsonl: line 2: not a job"),
        "{}",
        stderr(&o)
    );
    // Nothing was enqueued: the whole file is checked first.
    let mut cmd = msgs(None);
    cmd.args(["queue", "status", "--dir"]).arg(dir.join("q"));
    let o = output(cmd).await;
    assert!(
        crate::stdout(&o).contains("background        0"),
        "{}",
        crate::stdout(&o)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
