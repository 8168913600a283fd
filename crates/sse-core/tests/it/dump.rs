//! The dump example, run as a process over the spec cases at several chunk
//! sizes and over the recorded streams. `cargo test` builds examples, so the
//! binary sits next to this test's executable.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::cases::DUMP_CASES;

fn dump_exe() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    dir.join("examples")
        .join(format!("dump{}", std::env::consts::EXE_SUFFIX))
}

fn run_dump(input: &[u8], args: &[&str]) -> (Vec<serde_json::Value>, i32) {
    let mut child = Command::new(dump_exe())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("running {}: {e}", dump_exe().display()));
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    let lines = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (lines, out.status.code().unwrap())
}

#[test]
fn dump_prints_every_case_at_every_chunk_size() {
    for (input, expected) in DUMP_CASES {
        let expected: Vec<serde_json::Value> = expected
            .iter()
            .map(|(t, d, i, r)| serde_json::json!({"event": t, "data": d, "id": i, "retry": r}))
            .collect();
        let unterminated = input.ends_with(b"tail");
        for size in ["1", "2", "3", "5", "1000"] {
            let (got, code) = run_dump(input, &["--chunk", size]);
            assert_eq!(got, expected, "chunk {size}");
            assert_eq!(code, if unterminated { 3 } else { 0 });
        }
    }
}

#[test]
fn dump_reports_truncated_recording() {
    let path = format!(
        "{}/../../testdata/recorded/tool_use_no_trailing_newline.sse",
        env!("CARGO_MANIFEST_DIR")
    );
    let input = std::fs::read(path).unwrap();
    let (events, code) = run_dump(&input, &[]);
    assert_eq!(events.len(), 14);
    assert_eq!(events[0]["event"], "message_start");
    assert_eq!(code, 3);
}

#[test]
fn dump_rejects_bad_arguments() {
    let (_, code) = run_dump(b"", &["--chunk", "0"]);
    assert_eq!(code, 2);
}
