//! The same flags and the same output rules across commands: `--timeout` on
//! stream, run and worker; `queue results -o` like every other output.

use std::path::Path;
use std::process::Stdio;

use crate::{emulator, msgs, output, stderr, stdout, temp_dir};

/// One job line asking for `max_tokens`.
fn big_job(path: &Path, max_tokens: u32) {
    let line = format!(
        r#"{{"custom_id":"big","params":{{"model":"claude-sonnet-4-6","max_tokens":{max_tokens},"messages":[{{"role":"user","content":"a long answer"}}]}}}}"#
    );
    std::fs::write(path, format!("{line}\n")).expect("write job");
}

fn result_types(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .expect("results")
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("json line");
            v["result"]["type"].as_str().unwrap_or_default().to_owned()
        })
        .collect()
}

#[tokio::test]
async fn run_with_timeout_sends_a_request_with_a_large_max_tokens() {
    let emu = emulator().await;
    let url = emu.base_url();
    let dir = temp_dir("run-timeout");
    let job = dir.join("job.jsonl");
    big_job(&job, 32_000);

    // Without --timeout, a non-streaming request expected to take over 10
    // minutes is refused before it is sent.
    let refused = dir.join("refused.jsonl");
    let mut cmd = msgs(Some(&url));
    cmd.arg("run").arg(&job).arg("-o").arg(&refused);
    let o = output(cmd).await;
    assert_ne!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(result_types(&refused), ["errored"], "{}", stderr(&o));

    let out = dir.join("out.jsonl");
    let mut cmd = msgs(Some(&url));
    cmd.args(["run", "--timeout", "3600"])
        .arg(&job)
        .arg("-o")
        .arg(&out);
    cmd.arg("--checkpoint").arg(dir.join("ok.checkpoint"));
    let o = output(cmd).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(result_types(&out), ["succeeded"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn worker_with_timeout_runs_a_large_max_tokens_job_and_results_go_through_a_temp_file() {
    let emu = emulator().await;
    let url = emu.base_url();
    let dir = temp_dir("worker-timeout");
    let job = dir.join("job.jsonl");
    big_job(&job, 32_000);
    let q = dir.join("q");
    let mut cmd = msgs(None);
    cmd.args(["queue", "enqueue"])
        .arg(&job)
        .arg("--dir")
        .arg(&q);
    let o = output(cmd).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    let mut cmd = msgs(Some(&url));
    cmd.args(["worker", "--timeout", "3600", "--no-coordinator"])
        .args(["--exit-when-idle", "1", "--dir"])
        .arg(&q);
    let o = output(cmd).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    // `-o FILE`: written whole, through a temporary file that is gone.
    let out = dir.join("results.jsonl");
    let mut cmd = msgs(None);
    cmd.args(["queue", "results", "--dir"])
        .arg(&q)
        .arg("-o")
        .arg(&out);
    let o = output(cmd).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(result_types(&out), ["succeeded"], "the job was not refused");
    let names: Vec<String> = std::fs::read_dir(&dir)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !names.iter().any(|n| n.contains(".tmp")),
        "no temporary file is left: {names:?}"
    );

    // A full disk exits 74, like every other output.
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let mut cmd = msgs(None);
    cmd.args(["queue", "results", "--dir"])
        .arg(&q)
        .args(["-o", "-"])
        .stdout(full);
    let o = output(cmd).await;
    assert_eq!(o.status.code(), Some(74), "{}", stderr(&o));

    // A directory that cannot be written: refused like `batch results -o`,
    // with no file created.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let ro = dir.join("ro");
        std::fs::create_dir_all(&ro).expect("ro dir");
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).expect("chmod");
        // Root ignores the permission bits; the check needs a real refusal.
        if std::fs::write(ro.join("probe"), b"").is_err() {
            let mut cmd = msgs(None);
            cmd.args(["queue", "results", "--dir"])
                .arg(&q)
                .arg("-o")
                .arg(ro.join("r.jsonl"));
            let o = output(cmd).await;
            assert_ne!(o.status.code(), Some(0), "{}", stderr(&o));
            assert!(stderr(&o).contains("ro"), "{}", stderr(&o));
            assert_eq!(std::fs::read_dir(&ro).expect("ro").count(), 0);
        }
        let _ = std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o755));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn stream_timeout_bounds_the_whole_stream() {
    let emu = messages_emulator::Emulator::builder()
        .token_delay(std::time::Duration::ZERO)
        .fault("stall-after=4")
        .start()
        .await
        .expect("emulator");
    let url = emu.base_url();
    let mut cmd = msgs(Some(&url));
    cmd.args(["stream", "--timeout", "0.5", "hello"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let start = std::time::Instant::now();
    let o = output(cmd).await;
    // The stream stalls after a few events; without a deadline on the whole
    // stream it would wait for the 60 s idle timeout.
    assert!(start.elapsed() < std::time::Duration::from_secs(30));
    assert_eq!(o.status.code(), Some(3), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stderr(&o).contains("timed out")
            || stderr(&o).contains("deadline")
            || stderr(&o).contains("timeout"),
        "{}",
        stderr(&o)
    );
}
