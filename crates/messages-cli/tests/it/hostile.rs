//! Hostile servers against the `msgs` binary (issue 18): raw HTTP/1.1 on a
//! loopback `TcpListener`. Every command must end, with the right exit code,
//! and leave no temporary file behind.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use test_support::raw::raw;
use tokio::io::AsyncWriteExt;

use crate::{msgs, output, stderr, temp_dir};

const JSONL_HEAD: &str =
    "HTTP/1.1 200 OK\r\ncontent-type: application/x-jsonl\r\nconnection: close\r\n\r\n";

fn result_line(i: usize) -> String {
    format!("{{\"custom_id\":\"r{i}\",\"result\":{{\"type\":\"expired\"}}}}\n")
}

/// Runs `cmd`, killing it after `limit`: `None` if it had to be killed.
async fn output_within(mut cmd: Command, limit: Duration) -> Option<Output> {
    tokio::task::spawn_blocking(move || {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("msgs runs");
        let start = Instant::now();
        loop {
            if child.try_wait().expect("wait").is_some() {
                return Some(child.wait_with_output().expect("output"));
            }
            if start.elapsed() > limit {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    })
    .await
    .unwrap()
}

/// The names of the files in `dir`.
fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

// Case 8: a download that fails midway leaves neither the output nor a
// temporary file.
#[tokio::test]
async fn a_failed_download_leaves_no_temporary_file() {
    let url = raw(|mut conn, _| async move {
        let _ = conn.write_all(JSONL_HEAD.as_bytes()).await;
        let body = format!(
            "{}{}{{\"custom_id\":\"r2\",\"res",
            result_line(0),
            result_line(1)
        );
        let _ = conn.write_all(body.as_bytes()).await;
        let _ = conn.shutdown().await;
    })
    .await;
    let dir = temp_dir("hostile-tmp");
    let out = dir.join("results.jsonl");
    let mut cmd = msgs(Some(&url));
    cmd.args(["batch", "results", "msgbatch_x", "-o"]).arg(&out);
    let o = output(cmd).await;
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(files(&dir).is_empty(), "left behind: {:?}", files(&dir));
}

// Case 8: two runs writing the same output do not share a temporary file;
// both finish and the output is whole.
#[tokio::test]
async fn two_downloads_to_one_output_do_not_collide() {
    let url = raw(|mut conn, _| async move {
        let _ = conn.write_all(JSONL_HEAD.as_bytes()).await;
        for i in 0..30 {
            tokio::time::sleep(Duration::from_millis(10)).await;
            if conn.write_all(result_line(i).as_bytes()).await.is_err() {
                return;
            }
        }
        let _ = conn.shutdown().await;
    })
    .await;
    let dir = temp_dir("hostile-two");
    let out = dir.join("results.jsonl");
    let run = || {
        let mut cmd = msgs(Some(&url));
        cmd.args(["batch", "results", "msgbatch_x", "-o"]).arg(&out);
        output(cmd)
    };
    let (a, b) = tokio::join!(run(), run());
    // Exit 4: the results are written, and every request expired.
    assert_eq!(a.status.code(), Some(4), "{}", stderr(&a));
    assert_eq!(b.status.code(), Some(4), "{}", stderr(&b));
    let expected: String = (0..30).map(result_line).collect();
    assert_eq!(std::fs::read_to_string(&out).unwrap(), expected);
    assert_eq!(files(&dir), ["results.jsonl"]);
}

// Case 9: a full disk and a closed pipe are write errors (exit 74), not
// usage errors (exit 2): a full disk exits 74, a closed stdout quietly.
#[tokio::test]
async fn disk_full_and_closed_pipe_are_write_errors() {
    let url = raw(|mut conn, _| async move {
        let _ = conn.write_all(JSONL_HEAD.as_bytes()).await;
        let body: String = (0..5000).map(result_line).collect();
        let _ = conn.write_all(body.as_bytes()).await;
        let _ = conn.shutdown().await;
    })
    .await;
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let mut cmd = msgs(Some(&url));
    cmd.args(["batch", "results", "msgbatch_x"]).stdout(full);
    let o = output(cmd).await;
    assert_eq!(o.status.code(), Some(74), "{}", stderr(&o));
    assert!(stderr(&o).contains("No space left"), "{}", stderr(&o));

    // A reader that went away: the pipe is closed before anything is read.
    let url2 = url.clone();
    let o = tokio::task::spawn_blocking(move || {
        let mut cmd = msgs(Some(&url2));
        cmd.args(["batch", "results", "msgbatch_x"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        drop(child.stdout.take());
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    // A closed stdout (`| head`) ends the command quietly, as issue 14
    // asks of every command: not a usage error, not an error at all.
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
}

// Case 6: `--header-timeout` bounds the wait for a stream's headers.
#[tokio::test]
async fn header_timeout_flag_bounds_a_silent_server() {
    let url = raw(|conn, _| async move {
        let _conn = conn;
        std::future::pending::<()>().await;
    })
    .await;
    let mut cmd = msgs(Some(&url));
    cmd.args(["stream", "--header-timeout", "0.2", "hi"]);
    let start = Instant::now();
    let o = output_within(cmd, Duration::from_secs(30))
        .await
        .expect("msgs gave up on its own");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("response headers"), "{}", stderr(&o));
    assert!(start.elapsed() < Duration::from_secs(15));
}

// Case 5: a 200 reply that is not an event stream is exit 1 with the real
// message, not exit 3 ("truncated", which invites a useless retry).
#[tokio::test]
async fn a_reply_that_is_not_an_event_stream_exits_1_with_its_message() {
    let url = raw(|mut conn, _| async move {
        let head = "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\nconnection: close\r\n\r\n";
        let _ = conn.write_all(head.as_bytes()).await;
        let _ = conn
            .write_all(b"<html><body>Sign in to the network</body></html>")
            .await;
        let _ = conn.shutdown().await;
    })
    .await;
    let mut cmd = msgs(Some(&url));
    cmd.args(["stream", "hi"]);
    let o = output(cmd).await;
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("not an event stream") && err.contains("Sign in to the network"),
        "{err}"
    );

    let url = raw(|mut conn, _| async move {
        let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n";
        let _ = conn.write_all(head.as_bytes()).await;
        let body = r#"{"type":"error","error":{"type":"permission_error","message":"Your key cannot use this model"}}"#;
        let _ = conn.write_all(body.as_bytes()).await;
        let _ = conn.shutdown().await;
    })
    .await;
    let mut cmd = msgs(Some(&url));
    cmd.args(["stream", "hi"]);
    let o = output(cmd).await;
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("Your key cannot use this model"),
        "{}",
        stderr(&o)
    );
}

// Case 4: `msgs models` and `msgs batch list` end when the cursor repeats.
#[tokio::test]
async fn listings_end_when_the_cursor_repeats() {
    let url = raw(|mut conn, req| async move {
        let body = if req.starts_with("GET /v1/models") {
            r#"{"data":[{"type":"model","id":"m1","display_name":"M1","created_at":"2025-01-01T00:00:00Z"}],"has_more":true,"first_id":"m1","last_id":"m1"}"#
        } else {
            r#"{"data":[{"id":"b1","type":"message_batch","processing_status":"ended","request_counts":{"processing":0,"succeeded":1,"errored":0,"canceled":0,"expired":0},"created_at":"2025-01-01T00:00:00Z","expires_at":"2025-01-02T00:00:00Z","ended_at":"2025-01-01T00:01:00Z","archived_at":null,"cancel_initiated_at":null,"results_url":null}],"has_more":true,"first_id":"b1","last_id":"b1"}"#
        };
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        );
        let _ = conn.write_all(head.as_bytes()).await;
        let _ = conn.write_all(body.as_bytes()).await;
    })
    .await;
    let mut cmd = msgs(Some(&url));
    cmd.args(["models"]);
    let o = output_within(cmd, Duration::from_secs(30))
        .await
        .expect("the listing ended");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        stdout.lines().filter(|l| l.contains("m1")).count() <= 1,
        "{stdout}"
    );
    assert!(stderr(&o).contains("did not advance"), "{}", stderr(&o));

    let mut cmd = msgs(Some(&url));
    cmd.args(["batch", "list"]);
    let o = output_within(cmd, Duration::from_secs(30))
        .await
        .expect("the listing ended");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        stdout.lines().filter(|l| l.contains("b1")).count() <= 1,
        "{stdout}"
    );
    assert!(stderr(&o).contains("did not advance"), "{}", stderr(&o));
}

// Case 2: `batch wait --timeout` is honoured while a status request hangs.
#[tokio::test]
async fn batch_wait_timeout_is_honoured_while_a_request_hangs() {
    let url = raw(|conn, _| async move {
        let _conn = conn;
        std::future::pending::<()>().await;
    })
    .await;
    let mut cmd = msgs(Some(&url));
    cmd.args(["batch", "wait", "msgbatch_x", "--timeout", "1"]);
    let start = Instant::now();
    let o = output_within(cmd, Duration::from_secs(30))
        .await
        .expect("msgs gave up on its own");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("deadline"), "{}", stderr(&o));
    assert!(start.elapsed() < Duration::from_secs(15));
}
