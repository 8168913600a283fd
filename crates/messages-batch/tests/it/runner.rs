//! The local runner: results, checkpoint, resume, stop, and a run killed
//! with SIGKILL in a child process.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use messages_batch::{LocalRunner, Progress, read_results, write_output};
use messages_types::{BatchResult, MessageRequest};

use crate::support::*;

fn runner(emu: &messages_emulator::EmulatorHandle) -> LocalRunner {
    LocalRunner::new(transport_builder(emu).build().unwrap())
}

/// The custom_ids of the complete lines of a checkpoint, with repeats.
fn checkpoint_ids(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.split_inclusive('\n')
        .filter(|l| l.ends_with('\n'))
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("complete checkpoint line");
            v["custom_id"].as_str().unwrap().to_owned()
        })
        .collect()
}

fn sent_ids(log: &[messages_emulator::LoggedRequest]) -> Vec<String> {
    log.iter()
        .filter(|r| r.method == "POST" && r.path == "/v1/messages")
        .map(|r| custom_id_of(&r.json().expect("JSON body")))
        .collect()
}

#[tokio::test]
async fn runs_a_job_with_the_batch_result_type_and_resumes_without_resending() {
    let emu = emulator().start().await.unwrap();
    let dir = TempDir::new("run");
    let checkpoint = dir.path("checkpoint.jsonl");
    let mut job = job(40);
    job.add(
        "nf",
        MessageRequest::new("claude-nonexistent", 16).user("prompt for nf"),
    )
    .unwrap();
    let progress = std::sync::Arc::new(std::sync::Mutex::new(Vec::<Progress>::new()));
    let sink = progress.clone();
    let report = runner(&emu)
        .concurrency(3)
        .on_progress(move |p| sink.lock().unwrap().push(*p))
        .run(&job, &checkpoint)
        .await
        .unwrap();
    assert!(report.is_complete() && !report.stopped);
    assert_eq!((report.total, report.sent, report.resumed), (41, 41, 0));
    assert_eq!(report.summary.succeeded, 40);
    assert_eq!(report.summary.errored.get("not_found_error"), Some(&1));
    // Standard prices for the local runner: no batch discount.
    assert!(report.summary.estimated_cost_usd().unwrap() > 0.0);
    let progress = progress.lock().unwrap().clone();
    assert_eq!(progress.len(), 42); // once loaded, then once per result
    assert!(progress.last().unwrap().ended);

    let mut ids = checkpoint_ids(&checkpoint);
    ids.sort();
    let mut expect: Vec<String> = job.requests().iter().map(|r| r.custom_id.clone()).collect();
    expect.sort();
    assert_eq!(ids, expect);
    // The checkpoint reads back as batch results.
    for line in read_results(&checkpoint).unwrap() {
        let line = line.unwrap();
        match line.custom_id.as_str() {
            "nf" => assert!(matches!(line.result, BatchResult::Errored { .. })),
            _ => assert!(matches!(line.result, BatchResult::Succeeded { .. })),
        }
    }

    // Run again: nothing is sent.
    let before = emu.request_log().count("POST", "/v1/messages");
    let again = runner(&emu).run(&job, &checkpoint).await.unwrap();
    assert_eq!((again.sent, again.resumed), (0, 41));
    assert_eq!(again.summary, report.summary);
    assert_eq!(emu.request_log().count("POST", "/v1/messages"), before);

    // The output is in input order, one line per request.
    let output = dir.path("out.jsonl");
    assert_eq!(write_output(&job, &checkpoint, &output).unwrap(), 41);
    let order: Vec<String> = read_results(&output)
        .unwrap()
        .map(|l| l.unwrap().custom_id)
        .collect();
    let input: Vec<String> = job.requests().iter().map(|r| r.custom_id.clone()).collect();
    assert_eq!(order, input);
    emu.shutdown().await;
}

#[tokio::test]
async fn stop_abandons_requests_in_flight_and_a_rerun_finishes_the_job() {
    let emu = emulator()
        .latency(Duration::from_millis(20))
        .start()
        .await
        .unwrap();
    let dir = TempDir::new("stop");
    let checkpoint = dir.path("checkpoint.jsonl");
    let job = job(60);
    let mut r = runner(&emu).concurrency(4);
    let mut watch = r.watch();
    let stop = async move {
        let _ = watch.wait_for(|p| p.finished() >= 10).await;
    };
    let report = r.run_until(&job, &checkpoint, stop).await.unwrap();
    assert!(report.stopped && !report.is_complete());
    let first: HashSet<String> = checkpoint_ids(&checkpoint).into_iter().collect();
    assert_eq!(first.len() as u64, report.sent);
    assert!(report.sent >= 10 && report.sent < 60, "{}", report.sent);

    let logged = emu.request_log().len();
    let report = runner(&emu)
        .concurrency(4)
        .run(&job, &checkpoint)
        .await
        .unwrap();
    assert!(report.is_complete());
    assert_eq!(report.resumed as usize, first.len());
    let entries = emu.request_log().entries();
    for id in sent_ids(&entries[logged..]) {
        assert!(!first.contains(&id), "{id} was finished, then sent again");
    }
    let ids = checkpoint_ids(&checkpoint);
    assert_eq!(ids.len(), 60);
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 60);
    emu.shutdown().await;
}

#[tokio::test]
async fn with_a_stop_grace_the_requests_in_flight_finish_and_are_saved() {
    let emu = emulator()
        .latency(Duration::from_millis(100))
        .start()
        .await
        .unwrap();
    let dir = TempDir::new("grace");
    let job = job(40);
    // Stops once 6 or more results are saved, noting how many: the runner
    // then has exactly 4 requests in flight (concurrency 4, work left).
    let run = |grace: Duration, name: &str| {
        let mut r = runner(&emu).concurrency(4).stop_grace(grace);
        let mut watch = r.watch();
        let (job, checkpoint) = (job.clone(), dir.path(name));
        async move {
            let at_stop = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
            let seen = at_stop.clone();
            let stop = async move {
                if let Ok(p) = watch.wait_for(|p| p.finished() >= 6).await {
                    seen.store(p.finished(), std::sync::atomic::Ordering::SeqCst);
                }
            };
            let report = r.run_until(&job, &checkpoint, stop).await.unwrap();
            assert!(report.stopped && !report.is_complete());
            assert_eq!(checkpoint_ids(&checkpoint).len() as u64, report.sent);
            (
                at_stop.load(std::sync::atomic::Ordering::SeqCst),
                report.sent,
            )
        }
    };

    let (at_stop, sent) = run(Duration::from_secs(10), "grace.jsonl").await;
    assert!(at_stop >= 6);
    assert_eq!(sent, at_stop + 4, "the 4 in flight finished and were saved");

    let (at_stop, sent) = run(Duration::ZERO, "no-grace.jsonl").await;
    assert!(at_stop >= 6);
    assert_eq!(sent, at_stop, "without a grace period they are abandoned");
    emu.shutdown().await;
}

#[tokio::test]
async fn a_checkpoint_of_another_job_is_refused_and_left_alone() {
    let emu = emulator().start().await.unwrap();
    let dir = TempDir::new("foreign");
    let checkpoint = dir.path("checkpoint.jsonl");
    runner(&emu).run(&job(3), &checkpoint).await.unwrap();
    let before = std::fs::read(&checkpoint).unwrap();
    let mut other = messages_batch::BatchJob::new();
    other.add("other-1", request("other-1")).unwrap();
    let err = runner(&emu).run(&other, &checkpoint).await.unwrap_err();
    assert!(err.is_checkpoint(), "{err}");
    assert_eq!(err.line(), Some(1));
    assert!(err.custom_id().is_some_and(|c| c.starts_with("req-")));
    assert_eq!(std::fs::read(&checkpoint).unwrap(), before);

    // A broken line in the middle is an error too, naming the line.
    std::fs::write(
        &checkpoint,
        [&before[..], b"not json\n", &before[..]].concat(),
    )
    .unwrap();
    let err = runner(&emu).run(&job(3), &checkpoint).await.unwrap_err();
    assert!(err.is_checkpoint(), "{err}");
    assert_eq!(err.line(), Some(4));
    emu.shutdown().await;
}

#[tokio::test]
async fn a_failure_without_an_api_answer_stops_the_run_and_keeps_results() {
    // Nothing listens on this port once the emulator is gone. The address is
    // 127.0.0.2, not the emulator's 127.0.0.1: another test's server may be
    // handed the freed port on 127.0.0.1 meanwhile (it then reset this
    // test's connection instead of refusing it).
    let emu = emulator().start().await.unwrap();
    let port = emu.local_addr().port();
    emu.shutdown().await;
    let transport = messages_http::Transport::builder()
        .api_key("test-key")
        .base_url(format!("http://127.0.0.2:{port}"))
        .max_retries(0)
        .build()
        .unwrap();
    let dir = TempDir::new("refused");
    let checkpoint = dir.path("checkpoint.jsonl");
    let err = LocalRunner::new(transport)
        .retries(0)
        .run(&job(3), &checkpoint)
        .await
        .unwrap_err();
    assert!(err.is_http(), "{err}");
    assert!(
        err.http().is_some_and(messages_http::Error::is_connect),
        "{err:?}"
    );
    assert!(checkpoint_ids(&checkpoint).is_empty());
}

#[tokio::test]
async fn retryable_errors_are_sent_again_by_the_next_run() {
    // Every distinct request is answered 500 once, then succeeds; the
    // runner does not retry, so the first run saves API errors. (A 529 or
    // 429 would be retried by the run itself, after a run-wide pause.)
    let emu = emulator()
        .fault("status=500,times=1")
        .start()
        .await
        .unwrap();
    let transport = || transport_builder(&emu).max_retries(0).build().unwrap();
    let dir = TempDir::new("retry-errored");
    let checkpoint = dir.path("checkpoint.jsonl");
    let mut job = job(6);
    // The fault answers it 500 too; its retry gets a final not_found_error.
    job.add(
        "nf",
        MessageRequest::new("claude-nonexistent", 16).user("prompt for nf"),
    )
    .unwrap();

    let first = LocalRunner::new(transport())
        .retries(0)
        .run(&job, &checkpoint)
        .await
        .unwrap();
    assert!(first.is_complete());
    assert_eq!(first.summary.errored.get("api_error"), Some(&7));

    // With retries off, every result is final: nothing is sent.
    let logged = emu.request_log().len();
    let off = LocalRunner::new(transport())
        .retries(0)
        .retry_errored(false)
        .run(&job, &checkpoint)
        .await
        .unwrap();
    assert_eq!((off.resumed, off.retried, off.sent), (7, 0, 0));
    assert_eq!(emu.request_log().len(), logged);

    let second = LocalRunner::new(transport())
        .retries(0)
        .run(&job, &checkpoint)
        .await
        .unwrap();
    assert_eq!((second.resumed, second.retried, second.sent), (0, 7, 7));
    assert!(second.is_complete());
    assert_eq!(second.summary.succeeded, 6);
    assert_eq!(second.summary.errored.get("api_error"), None);
    assert_eq!(second.summary.errored.get("not_found_error"), Some(&1));
    let mut resent = sent_ids(&emu.request_log().entries()[logged..]);
    resent.sort();
    let mut all: Vec<String> = job.requests().iter().map(|r| r.custom_id.clone()).collect();
    all.sort();
    assert_eq!(resent, all);
    // Both results stay in the checkpoint; the output has the new one.
    assert_eq!(checkpoint_ids(&checkpoint).len(), 14);
    let output = dir.path("out.jsonl");
    assert_eq!(write_output(&job, &checkpoint, &output).unwrap(), 7);
    for line in read_results(&output).unwrap() {
        let line = line.unwrap();
        let succeeded = matches!(line.result, BatchResult::Succeeded { .. });
        assert_eq!(succeeded, line.custom_id != "nf", "{}", line.custom_id);
    }

    // A third run has nothing left to do: not_found_error is final.
    let third = LocalRunner::new(transport())
        .retries(0)
        .run(&job, &checkpoint)
        .await
        .unwrap();
    assert_eq!((third.resumed, third.retried, third.sent), (7, 0, 0));
    assert_eq!(third.summary, second.summary);
    emu.shutdown().await;
}

#[tokio::test]
async fn a_second_runner_on_the_same_checkpoint_is_refused() {
    let emu = emulator()
        .latency(Duration::from_millis(50))
        .start()
        .await
        .unwrap();
    let dir = TempDir::new("locked");
    let checkpoint = dir.path("checkpoint.jsonl");
    let job = job(20);
    let mut first = runner(&emu).concurrency(1);
    let mut watch = first.watch();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let running = {
        let (job, checkpoint) = (job.clone(), checkpoint.clone());
        tokio::spawn(async move {
            first
                .run_until(&job, &checkpoint, async {
                    let _ = stop_rx.await;
                })
                .await
        })
    };
    // The first runner has loaded the checkpoint (and so holds the lock).
    watch.changed().await.unwrap();
    let err = runner(&emu).run(&job, &checkpoint).await.unwrap_err();
    assert!(err.is_checkpoint(), "{err}");
    assert!(
        err.to_string().contains("in use by another runner"),
        "{err}"
    );

    stop_tx.send(()).unwrap();
    let stopped = running.await.unwrap().unwrap();
    assert!(stopped.stopped);
    // Released: a new runner finishes the job, each id once.
    let report = runner(&emu).run(&job, &checkpoint).await.unwrap();
    assert!(report.is_complete());
    let ids = checkpoint_ids(&checkpoint);
    assert_eq!(ids.len(), 20);
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 20);
    emu.shutdown().await;
}

// ===== kill -9 =====

const CHILD_ENV: &str = "MESSAGES_BATCH_RUNNER_CHILD";
const KILL_JOB_SIZE: usize = 300;

/// Not a test of its own: the entry point of the child process that
/// `a_runner_killed_with_sigkill_resumes_exactly_once` starts (it re-runs
/// this test binary with `--exact`). Without the environment variable it
/// does nothing.
#[tokio::test]
async fn kill_child_entry() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let (base_url, checkpoint) = spec.split_once('|').expect("BASE_URL|CHECKPOINT");
    let transport = messages_http::Transport::builder()
        .api_key("test-key")
        .base_url(base_url)
        .build()
        .unwrap();
    let report = LocalRunner::new(transport)
        .concurrency(4)
        .run(&job(KILL_JOB_SIZE), checkpoint)
        .await
        .unwrap();
    assert!(report.is_complete());
}

fn spawn_child(base_url: &str, checkpoint: &Path) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "runner::kill_child_entry",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, format!("{base_url}|{}", checkpoint.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

async fn wait_for_lines(path: &Path, n: usize, child: &mut std::process::Child) {
    let started = Instant::now();
    while checkpoint_ids(path).len() < n {
        assert!(child.try_wait().unwrap().is_none(), "the child ended early");
        assert!(started.elapsed() < Duration::from_secs(30), "no progress");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

// The emulator runs in this process: the child waits happen off the
// runtime's worker threads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runner_killed_with_sigkill_resumes_exactly_once() {
    let emu = emulator()
        .latency(Duration::from_millis(10))
        .start()
        .await
        .unwrap();
    let base_url = emu.base_url();
    let dir = TempDir::new("kill");
    let checkpoint = dir.path("checkpoint.jsonl");
    let log = emu.request_log();

    // Two runs killed at different points, then one to the end.
    let mut segments: Vec<(usize, HashSet<String>)> = Vec::new();
    for kill_at in [60, 170] {
        let mut child = spawn_child(&base_url, &checkpoint);
        wait_for_lines(&checkpoint, kill_at, &mut child).await;
        child.kill().unwrap(); // SIGKILL
        let _ = tokio::task::spawn_blocking(move || child.wait())
            .await
            .unwrap();
        let done: HashSet<String> = checkpoint_ids(&checkpoint).into_iter().collect();
        segments.push((log.len(), done));
    }
    // A kill in the middle of a write leaves a torn line: simulate one for
    // a request that has no result yet.
    let (_, done) = segments.last().unwrap();
    let pending = (0..KILL_JOB_SIZE)
        .map(|i| format!("req-{i}"))
        .find(|id| !done.contains(id))
        .unwrap();
    let mut torn = std::fs::OpenOptions::new()
        .append(true)
        .open(&checkpoint)
        .unwrap();
    std::io::Write::write_all(
        &mut torn,
        format!("{{\"custom_id\":\"{pending}\",\"result\":{{\"type\":\"succ").as_bytes(),
    )
    .unwrap();
    drop(torn);

    let mut child = spawn_child(&base_url, &checkpoint);
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "the last run failed: {status}");

    // Every custom_id exactly once.
    let ids = checkpoint_ids(&checkpoint);
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for id in &ids {
        *counts.entry(id).or_default() += 1;
    }
    assert_eq!(ids.len(), KILL_JOB_SIZE, "lines in the checkpoint");
    assert_eq!(counts.len(), KILL_JOB_SIZE);
    assert!(counts.values().all(|&n| n == 1));
    assert!(counts.contains_key(pending.as_str()));

    // No request that was finished before a kill was sent after it,
    // by the emulator's own log.
    let entries = log.entries();
    for (at, done) in &segments {
        assert!(done.len() >= 60);
        for id in sent_ids(&entries[*at..]) {
            assert!(
                !done.contains(&id),
                "{id} was finished before a kill and sent again"
            );
        }
    }
    // And every request was sent at least once.
    let sent: HashSet<String> = sent_ids(&entries).into_iter().collect();
    assert_eq!(sent.len(), KILL_JOB_SIZE);
    emu.shutdown().await;
}
