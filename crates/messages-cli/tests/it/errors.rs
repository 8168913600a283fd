use std::time::{Duration, Instant};

use crate::{emulator, msgs, output, stderr, temp_dir, write_job};

#[tokio::test(flavor = "multi_thread")]
async fn invalid_jsonl_line_names_the_line_and_submits_nothing() {
    let emu = emulator().await;
    let dir = temp_dir("invalid");
    let job = dir.join("job.jsonl");
    write_job(&job, 2);
    let mut text = std::fs::read_to_string(&job).unwrap();
    text.push_str("{\"custom_id\":\"q-9\",\"params\":{\"model\":\"m\"\n");
    std::fs::write(&job, text).unwrap();

    let submit = {
        let mut cmd = msgs(Some(&emu.base_url()));
        cmd.args(["batch", "submit"]).arg(&job);
        cmd
    };
    let run = {
        let mut cmd = msgs(Some(&emu.base_url()));
        cmd.arg("run").arg(&job).arg("-o").arg(dir.join("o.jsonl"));
        cmd
    };
    for cmd in [submit, run] {
        let out = output(cmd).await;
        assert_eq!(out.status.code(), Some(2), "stderr: {}", stderr(&out));
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert!(err.contains("line 3"), "names the line: {err}");
    }
    assert!(emu.request_log().is_empty(), "nothing was sent");
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_file_is_an_input_error() {
    let emu = emulator().await;
    let missing = temp_dir("missing").join("nope.jsonl");
    let mut cmd = msgs(Some(&emu.base_url()));
    cmd.args(["batch", "submit"]).arg(&missing);
    let out = output(cmd).await;
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("nope.jsonl"), "names the file: {err}");
    assert!(emu.request_log().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn unreachable_base_url_fails_fast_with_one_line() {
    let mut cmd = msgs(Some("http://127.0.0.1:1"));
    cmd.args(["stream", "hello"]);
    let start = Instant::now();
    let out = output(cmd).await;
    // Well within the 5 s connect timeout: a refused connection fails at once
    // (retries included).
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("connect"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn api_errors_name_the_request_id() {
    let emu = emulator().await;
    let mut cmd = msgs(Some(&emu.base_url()));
    cmd.args(["stream", "--model", "no-such-model", "hi"]);
    let out = output(cmd).await;
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("req_"), "request id: {err}");
}

#[test]
fn bad_flags_exit_2_and_help_documents_exit_codes() {
    let out = msgs(None)
        .args(["stream", "--max-tokens", "lots"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = msgs(None).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.contains("Exit codes:") && help.contains("130"),
        "{help}"
    );
}
