use std::path::Path;
use std::time::{Duration, Instant};

use messages_emulator::Emulator;

use crate::{custom_ids, msgs, output, stderr, temp_dir, write_job};

fn lines(path: &Path) -> usize {
    std::fs::read_to_string(path).map_or(0, |s| s.lines().count())
}

/// Waits until the checkpoint has at least `n` lines.
async fn wait_for_lines(path: &Path, n: usize) {
    let start = Instant::now();
    while lines(path) < n {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no progress in {path:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn slow_emulator() -> messages_emulator::EmulatorHandle {
    Emulator::builder()
        .latency(Duration::from_millis(150))
        .start()
        .await
        .expect("emulator starts")
}

#[tokio::test(flavor = "multi_thread")]
async fn run_killed_then_resumed_has_every_custom_id_once() {
    let emu = slow_emulator().await;
    let dir = temp_dir("run-kill");
    let job = dir.join("job.jsonl");
    write_job(&job, 12);
    let out_path = dir.join("out.jsonl");
    let checkpoint = dir.join("ckpt.jsonl");
    let args = |cmd: &mut std::process::Command| {
        cmd.arg("run")
            .arg(&job)
            .args(["--concurrency", "2", "--checkpoint"])
            .arg(&checkpoint)
            .arg("-o")
            .arg(&out_path);
    };

    let mut cmd = msgs(Some(&emu.base_url()));
    args(&mut cmd);
    let mut child = cmd.spawn().unwrap();
    wait_for_lines(&checkpoint, 3).await;
    child.kill().unwrap(); // SIGKILL
    let _ = child.wait();
    let before = lines(&checkpoint);
    assert!(before < 12, "killed before the end ({before} lines)");
    assert!(!out_path.exists(), "no output from an incomplete run");

    let mut cmd = msgs(Some(&emu.base_url()));
    args(&mut cmd);
    let out = output(cmd).await;
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    assert!(stderr(&out).contains("resumed from the checkpoint"));
    let ids = custom_ids(&out_path);
    let expected: Vec<String> = (0..12).map(|i| format!("q-{i}")).collect();
    assert_eq!(ids, expected, "every custom_id once, in the job's order");
    // Finished requests were not sent again: at most the two in flight at
    // the kill were sent twice.
    let sent = emu.request_log().count("POST", "/v1/messages");
    assert!((12..=14).contains(&sent), "{sent} requests for 12 results");
}

/// A job of `n` requests in a fresh directory, for `msgs run` with two
/// requests in flight and the default checkpoint path.
#[cfg(unix)]
struct RunJob {
    job: std::path::PathBuf,
    out: std::path::PathBuf,
    checkpoint: std::path::PathBuf,
}

#[cfg(unix)]
impl RunJob {
    fn new(name: &str, n: usize) -> RunJob {
        let dir = temp_dir(name);
        let job = dir.join("job.jsonl");
        write_job(&job, n);
        RunJob {
            job,
            out: dir.join("out.jsonl"),
            checkpoint: dir.join("out.jsonl.checkpoint"),
        }
    }

    fn command(&self, emu: &messages_emulator::EmulatorHandle) -> std::process::Command {
        let mut cmd = msgs(Some(&emu.base_url()));
        cmd.arg("run")
            .arg(&self.job)
            .args(["--concurrency", "2", "-o"])
            .arg(&self.out);
        cmd
    }

    /// Starts the run with stderr captured.
    fn spawn(&self, emu: &messages_emulator::EmulatorHandle) -> std::process::Child {
        let mut cmd = self.command(emu);
        cmd.stderr(std::process::Stdio::piped());
        cmd.spawn().unwrap()
    }
}

#[cfg(unix)]
fn sigint(child: &std::process::Child) {
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[cfg(unix)]
async fn wait_output(child: std::process::Child) -> std::process::Output {
    tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap()
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn run_interrupted_by_sigint_exits_130_and_resumes() {
    let emu = slow_emulator().await;
    let run = RunJob::new("run-int", 12);
    let child = run.spawn(&emu);
    wait_for_lines(&run.checkpoint, 2).await;
    sigint(&child);
    let out = wait_output(child).await;
    assert_eq!(out.status.code(), Some(130), "stderr: {}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("interrupted"), "{err}");
    assert!(err.contains("waiting up to 30 s"), "{err}");

    let out = output(run.command(&emu)).await;
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    assert_eq!(custom_ids(&run.out).len(), 12);
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn a_second_sigint_abandons_the_requests_in_flight() {
    // The first two Messages requests are answered; every later one hangs
    // (for 10 minutes, far past the 30 s grace), so no request can finish
    // between the two signals, however loaded the machine is.
    let emu = Emulator::builder()
        .fault("hang=600000,skip=2,scope=all,path=/v1/messages")
        .start()
        .await
        .expect("emulator starts");
    let run = RunJob::new("run-int2", 8);
    let child = run.spawn(&emu);
    // The first request runs alone (the runner's probe for run-wide
    // errors), then two at a time: once two have finished, the requests
    // started after them hang, in flight until cancelled.
    wait_for_lines(&run.checkpoint, 2).await;
    let interrupted = Instant::now();
    sigint(&child);
    tokio::time::sleep(Duration::from_millis(200)).await;
    sigint(&child);
    let out = wait_output(child).await;
    // The documented exit code of an interrupted run.
    assert_eq!(out.status.code(), Some(130), "stderr: {}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("waiting up to 30 s"), "{err}");
    assert!(err.contains("abandoned"), "{err}");
    // It did not sit out the grace period for requests that cannot finish
    // (a generous bound: the behaviour, not a timing, is under test).
    assert!(
        interrupted.elapsed() < Duration::from_secs(25),
        "waited for the requests in flight: {:?}",
        interrupted.elapsed()
    );
    // The abandoned requests are not recorded: the checkpoint holds the two
    // answered ones, each a readable result line, and no output was written.
    let saved = custom_ids(&run.checkpoint);
    assert_eq!(saved.len(), 2, "{saved:?}");
    assert!(!run.out.exists(), "no output from an interrupted run");

    // The checkpoint stays usable: a run against a healthy emulator resumes
    // it and sends only the requests without a result.
    let healthy = Emulator::builder()
        .request_log(true)
        .start()
        .await
        .expect("emulator starts");
    let rerun = output(run.command(&healthy)).await;
    assert!(rerun.status.success(), "stderr: {}", stderr(&rerun));
    assert_eq!(custom_ids(&run.out).len(), 8);
    let sent = healthy
        .request_log()
        .entries()
        .iter()
        .filter(|r| r.path == "/v1/messages")
        .count();
    assert_eq!(sent, 6, "only the requests without a result are sent again");
}

#[tokio::test(flavor = "multi_thread")]
async fn run_with_plain_prompts_and_a_template() {
    let emu = crate::emulator().await;
    let dir = temp_dir("run-prompts");
    let prompts = dir.join("prompts.txt");
    std::fs::write(&prompts, "first question\n\nsecond question\n").unwrap();
    let out_path = dir.join("out.jsonl");
    let mut cmd = msgs(Some(&emu.base_url()));
    cmd.arg("run")
        .arg(&prompts)
        .args([
            "--template",
            r#"{"model":"claude-haiku-4-5","max_tokens":20,"system":"be brief"}"#,
        ])
        .arg("-o")
        .arg(&out_path);
    let out = output(cmd).await;
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    assert_eq!(custom_ids(&out_path), ["line-1", "line-3"]);
    let bodies: Vec<serde_json::Value> = emu
        .request_log()
        .entries()
        .iter()
        .filter_map(|r| r.json())
        .collect();
    assert_eq!(bodies.len(), 2);
    for b in &bodies {
        assert_eq!(b["model"], "claude-haiku-4-5");
        assert_eq!(b["max_tokens"], 20);
        assert_eq!(b["system"], "be brief");
    }
    let mut prompts: Vec<&str> = bodies
        .iter()
        .map(|b| b["messages"][0]["content"].as_str().unwrap())
        .collect();
    prompts.sort();
    assert_eq!(prompts, ["first question", "second question"]);
}
