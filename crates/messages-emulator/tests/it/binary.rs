//! The binary's contract: the first stdout line, flags, replay.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};

use crate::support::*;

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn(args: &[&str]) -> (Proc, SocketAddr) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_messages-emulator"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn the emulator");
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let rest = line
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("first line: {line:?}"));
    assert!(line.ends_with('\n'));
    let addr: SocketAddr = rest.trim_end().parse().unwrap();
    (Proc(child), addr)
}

#[tokio::test]
async fn prints_the_address_and_serves() {
    let (_p, addr) = spawn(&[
        "--addr",
        "127.0.0.1:0",
        "--token-delay-ms",
        "0",
        "--api-key",
        "sk-bin",
    ]);
    assert!(addr.ip().is_loopback() && addr.port() != 0);
    let r = send_raw(
        addr,
        "POST",
        "/v1/messages",
        &[
            ("x-api-key", "sk-bin"),
            ("content-type", "application/json"),
        ],
        request("bin", 5).to_string(),
    )
    .await;
    assert_eq!(r.status(), 200);
    let wrong = post(addr, "/v1/messages", &request("bin", 5)).await;
    wrong.api_error(401, "authentication_error");
}

#[tokio::test]
async fn replay_flag_and_server_wide_fault_flag() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/recorded/text_sonnet45.sse"
    );
    let (_p, addr) = spawn(&["--replay", path, "--fault", "status=529,times=1"]);
    let body = streaming(request("r", 5)).to_string();
    let first = send(addr, "POST", "/v1/messages", &[], body.clone()).await;
    first.api_error(529, "overloaded_error");
    let r = send(addr, "POST", "/v1/messages", &[], body).await;
    assert_eq!(r.status, 200);
    assert_eq!(&r.body[..], &std::fs::read(path).unwrap()[..]);
}

#[test]
fn bad_flags_exit_with_a_message() {
    for args in [
        &["--addr", "nowhere"][..],
        &["--bogus"],
        &["--fault", "explode=1"],
        &["--replay", "/no/such/file.sse"],
        &["--token-delay-ms"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_messages-emulator"))
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("messages-emulator: "), "{err}");
    }
}
