//! Mistakes that must not cost money or results: exit codes, the `-o`
//! checks, a wrong key, an edited job.

use std::path::Path;

use messages_emulator::Emulator;

use crate::{custom_ids, emulator, msgs, output, stderr, stdout, temp_dir, write_job};

/// A job of 5 requests where `q-3` names a model that does not exist.
fn write_job_with_a_bad_model(path: &Path) {
    write_job(path, 5);
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    lines[3] = lines[3].replace("claude-haiku-4-5", "claude-typo-9");
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

fn posts(emu: &messages_emulator::EmulatorHandle, path: &str) -> usize {
    emu.request_log().count("POST", path)
}

#[tokio::test(flavor = "multi_thread")]
async fn run_exits_4_when_a_request_errored_and_writes_every_result() {
    let emu = emulator().await;
    let dir = temp_dir("exit-4");
    let job = dir.join("job.jsonl");
    write_job_with_a_bad_model(&job);
    let out_path = dir.join("out.jsonl");
    let mut cmd = msgs(Some(&emu.base_url()));
    cmd.arg("run").arg(&job).arg("-o").arg(&out_path);
    let out = output(cmd).await;
    assert_eq!(out.status.code(), Some(4), "stderr: {}", stderr(&out));
    assert!(
        stderr(&out).contains("1 of 5 requests did not succeed"),
        "{}",
        stderr(&out)
    );
    assert_eq!(custom_ids(&out_path).len(), 5);

    // All good: 0.
    write_job(&job, 5);
    let mut cmd = msgs(Some(&emu.base_url()));
    cmd.arg("run")
        .arg(&job)
        .arg("-o")
        .arg(dir.join("good.jsonl"));
    let out = output(cmd).await;
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_output_path_is_refused_before_the_first_request() {
    let emu = emulator().await;
    let dir = temp_dir("bad-o");
    let job = dir.join("job.jsonl");
    write_job(&job, 3);
    for (bad, says) in [
        (dir.clone(), "is a directory"),
        (
            dir.join("no-such-dir").join("out.jsonl"),
            "cannot write there",
        ),
    ] {
        let mut cmd = msgs(Some(&emu.base_url()));
        cmd.arg("run").arg(&job).arg("-o").arg(&bad);
        let out = output(cmd).await;
        assert_eq!(out.status.code(), Some(2), "stderr: {}", stderr(&out));
        assert!(stderr(&out).contains(says), "{}", stderr(&out));
        assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));

        let mut cmd = msgs(Some(&emu.base_url()));
        cmd.args(["batch", "submit", "--wait"])
            .arg(&job)
            .arg("-o")
            .arg(&bad);
        let out = output(cmd).await;
        assert_eq!(out.status.code(), Some(2), "stderr: {}", stderr(&out));
        assert!(stderr(&out).contains(says), "{}", stderr(&out));
    }
    assert_eq!(posts(&emu, "/v1/messages"), 0);
    assert_eq!(posts(&emu, "/v1/messages/batches"), 0);
    // Nothing was left behind either.
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(left.len(), 1, "{left:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn dash_o_dash_writes_the_results_to_stdout() {
    let emu = emulator().await;
    let dir = temp_dir("o-dash");
    let job = dir.join("job.jsonl");
    write_job(&job, 4);
    let mut cmd = msgs(Some(&emu.base_url()));
    cmd.arg("run").arg(&job).args(["-o", "-"]);
    let out = output(cmd).await;
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let ids: Vec<String> = stdout(&out)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            assert!(v.get("request_fingerprint").is_none(), "{l}");
            v["custom_id"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(ids, ["q-0", "q-1", "q-2", "q-3"]);
    assert!(dir.join("job.jsonl.checkpoint").exists());
    assert!(!Path::new("-").exists());

    // And for a batch.
    let mut cmd = msgs(Some(&emu.base_url()));
    cmd.args(["batch", "submit", "--wait"])
        .arg(&job)
        .args(["-o", "-"]);
    let out = output(cmd).await;
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    // The batch id, then the 4 result lines.
    assert_eq!(stdout(&out).lines().count(), 5, "{}", stdout(&out));
}

#[tokio::test(flavor = "multi_thread")]
async fn batch_submit_wait_exits_4_when_a_request_errored() {
    let emu = Emulator::builder()
        .token_delay(std::time::Duration::ZERO)
        .batch_pace(std::time::Duration::ZERO)
        .start()
        .await
        .unwrap();
    let dir = temp_dir("batch-exit-4");
    let job = dir.join("job.jsonl");
    write_job_with_a_bad_model(&job);
    let out_path = dir.join("out.jsonl");
    let mut cmd = msgs(Some(&emu.base_url()));
    cmd.args(["batch", "submit", "--wait"])
        .arg(&job)
        .arg("-o")
        .arg(&out_path);
    let out = output(cmd).await;
    assert_eq!(out.status.code(), Some(4), "stderr: {}", stderr(&out));
    assert_eq!(custom_ids(&out_path).len(), 5);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_key_stops_the_run_and_the_fixed_rerun_sends_everything() {
    let emu = Emulator::builder()
        .token_delay(std::time::Duration::ZERO)
        .api_key("right")
        .start()
        .await
        .unwrap();
    let dir = temp_dir("wrong-key");
    let job = dir.join("job.jsonl");
    write_job(&job, 20);
    let out_path = dir.join("out.jsonl");
    let run = |key: &str| {
        let mut cmd = msgs(Some(&emu.base_url()));
        cmd.env("ANTHROPIC_API_KEY", key)
            .arg("run")
            .arg(&job)
            .args(["--concurrency", "8", "-o"])
            .arg(&out_path);
        cmd
    };
    let out = output(run("wrong")).await;
    assert_eq!(out.status.code(), Some(1), "stderr: {}", stderr(&out));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("authentication_error"), "{err}");
    assert!(posts(&emu, "/v1/messages") <= 3);
    assert!(!out_path.exists());

    let out = output(run("right")).await;
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert_eq!(custom_ids(&out_path).len(), 20);
    assert!(posts(&emu, "/v1/messages") <= 23);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_edited_job_is_refused_or_rerun_with_rerun_changed() {
    let emu = emulator().await;
    let dir = temp_dir("edited");
    let job = dir.join("job.jsonl");
    write_job(&job, 4);
    let out_path = dir.join("out.jsonl");
    let run = |extra: &[&str]| {
        let mut cmd = msgs(Some(&emu.base_url()));
        cmd.arg("run")
            .arg(&job)
            .args(extra)
            .arg("-o")
            .arg(&out_path);
        cmd
    };
    assert_eq!(output(run(&[])).await.status.code(), Some(0));
    let text = std::fs::read_to_string(&job).unwrap();
    std::fs::write(&job, text.replacen("question 2", "question two", 1)).unwrap();
    let before = posts(&emu, "/v1/messages");

    let out = output(run(&[])).await;
    assert_eq!(out.status.code(), Some(2), "stderr: {}", stderr(&out));
    assert!(stderr(&out).contains("q-2"), "{}", stderr(&out));
    assert!(stderr(&out).contains("--rerun-changed"), "{}", stderr(&out));
    assert_eq!(posts(&emu, "/v1/messages"), before);

    let out = output(run(&["--rerun-changed"])).await;
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert_eq!(posts(&emu, "/v1/messages"), before + 1);
    let last = emu.request_log().entries().last().unwrap().json().unwrap();
    assert_eq!(last["messages"][0]["content"], "question two");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_usage_cap_stops_the_run_at_once_saying_when_it_resets() {
    let emu = Emulator::builder()
        .token_delay(std::time::Duration::ZERO)
        .fault("status=429,retry-after=7200")
        .start()
        .await
        .unwrap();
    let dir = temp_dir("usage-cap");
    let job = dir.join("job.jsonl");
    write_job(&job, 5);
    let started = std::time::Instant::now();
    let mut cmd = msgs(Some(&emu.base_url()));
    cmd.arg("run")
        .arg(&job)
        .arg("-o")
        .arg(dir.join("out.jsonl"));
    let out = output(cmd).await;
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!(out.status.code(), Some(1), "stderr: {}", stderr(&out));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("2h00m00s") && err.contains("resets at"),
        "{err}"
    );
    assert_eq!(posts(&emu, "/v1/messages"), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_emulator_hint_names_the_key_it_accepts() {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_msgs"));
    cmd.args(["emulator", "--api-key", "sk-test 1"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut stderr, &mut line).unwrap();
    child.kill().unwrap();
    let _ = child.wait();
    assert!(line.contains("ANTHROPIC_API_KEY='sk-test 1'"), "{line}");
    assert!(!line.contains("=any"), "{line}");
}

#[tokio::test(flavor = "multi_thread")]
async fn batch_resubmit_completes_a_job_with_expired_requests() {
    let emu = Emulator::builder()
        .token_delay(std::time::Duration::ZERO)
        .batch_pace(std::time::Duration::from_millis(4))
        .start()
        .await
        .unwrap();
    let dir = temp_dir("resubmit");
    let job = dir.join("job.jsonl");
    write_job(&job, 80);
    // The emulator's expiry fault: this batch expires 150 ms after it is
    // created, with about 40 of its 80 requests processed.
    let mut cmd = msgs(Some(&emu.base_url()));
    cmd.args([
        "batch",
        "submit",
        "-H",
        "x-emulator-fault: batch-expiry-ms=150",
    ])
    .arg(&job);
    let out = output(cmd).await;
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let id = stdout(&out).trim().to_owned();

    // The batch ends with requests expired: its results exit 4.
    let mut cmd = msgs(Some(&emu.base_url()));
    cmd.args(["batch", "wait", &id]);
    assert_eq!(output(cmd).await.status.code(), Some(0));
    let mut cmd = msgs(Some(&emu.base_url()));
    cmd.args(["batch", "results", &id, "-o"])
        .arg(dir.join("first.jsonl"));
    let out = output(cmd).await;
    assert_eq!(out.status.code(), Some(4), "stderr: {}", stderr(&out));
    assert!(stderr(&out).contains("expired"), "{}", stderr(&out));

    let merged = dir.join("merged.jsonl");
    let mut cmd = msgs(Some(&emu.base_url()));
    cmd.args(["batch", "resubmit"])
        .arg(&job)
        .arg(&id)
        .arg("-o")
        .arg(&merged);
    let out = output(cmd).await;
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let text = std::fs::read_to_string(&merged).unwrap();
    let mut ids = Vec::new();
    let mut later = 0;
    for l in text.lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        assert_eq!(v["result"]["type"], "succeeded", "{l}");
        let attempt = v["attempt"].as_u64().unwrap();
        later += usize::from(attempt > 1);
        ids.push(v["custom_id"].as_str().unwrap().to_owned());
    }
    ids.sort();
    let mut expected: Vec<String> = (0..80).map(|i| format!("q-{i}")).collect();
    expected.sort();
    assert_eq!(ids, expected, "every custom_id once");
    assert!(later > 0, "some results come from a later attempt");
    // One more batch, of the expired requests only.
    assert_eq!(emu.request_log().count("POST", "/v1/messages/batches"), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_checkpoint_that_cannot_be_created_is_not_offered_for_resuming() {
    let emu = emulator().await;
    let dir = temp_dir("bad-checkpoint");
    let job = dir.join("job.jsonl");
    write_job(&job, 2);
    let mut cmd = msgs(Some(&emu.base_url()));
    cmd.arg("run")
        .arg(&job)
        .arg("--checkpoint")
        .arg(dir.join("missing").join("ckpt"))
        .arg("-o")
        .arg(dir.join("out.jsonl"));
    let out = output(cmd).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("opening checkpoint"), "{err}");
    assert!(!err.contains("resume"), "{err}");
    assert_eq!(posts(&emu, "/v1/messages"), 0);
}

/// A submit that fails after creating some batches prints their ids on
/// stdout (they run and are billed) and says which requests they hold; the
/// emulator's list shows no batch twice.
#[tokio::test]
async fn a_partial_submit_prints_the_created_batches_and_fails() {
    let emu = emulator().await;
    let dir = temp_dir("partial-submit");
    let job = dir.join("job.jsonl");
    write_job(&job, 25);
    let mut cmd = msgs(Some(&emu.base_url()));
    cmd.args([
        "-H",
        "x-emulator-fault: status=500,should-retry=false,skip=1,times=1,scope=all,method=POST,path=/v1/messages/batches",
        "batch",
        "submit",
        "--max-requests-per-batch",
        "10",
    ])
    .arg(&job);
    let o = output(cmd).await;
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let printed: Vec<String> = stdout(&o).lines().map(str::to_owned).collect();
    assert_eq!(printed.len(), 1, "the one created batch: {printed:?}");
    assert!(printed[0].starts_with("msgbatch_"), "{printed:?}");
    let err = stderr(&o);
    assert!(err.contains(&printed[0]), "the error names it: {err}");
    assert!(err.contains("holding 10 of its 25 requests"), "{err}");
    // Two creates were attempted, one batch exists.
    assert_eq!(posts(&emu, "/v1/messages/batches"), 2);
    let mut list = msgs(Some(&emu.base_url()));
    list.args(["batch", "list", "--json"]);
    let listed = output(list).await;
    assert_eq!(
        stdout(&listed).matches("msgbatch_").count(),
        1,
        "{}",
        stdout(&listed)
    );
}
