//! The local runner under rate limits: it paces itself from the
//! `anthropic-ratelimit-*` headers, retries 429/529 for the whole run, and
//! stops on a `retry-after` longer than it may wait.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use messages_batch::LocalRunner;

use crate::support::*;

/// 60 requests per minute, on a clock 30 times faster: a 2 s window, so
/// 60 requests per 2 s (30 per second). The limit is a token bucket, as
/// the API's: full at the start, refilled continuously.
const LIMIT: u64 = 60;
const WINDOW: Duration = Duration::from_secs(2);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_at_concurrency_32_paces_itself_to_the_rate_limit() {
    let emu = emulator()
        .requests_per_minute(LIMIT)
        .rate_limit_window(WINDOW)
        .start()
        .await
        .unwrap();
    let dir = TempDir::new("rate-limit");
    let checkpoint = dir.path("checkpoint.jsonl");
    let total = 150;
    let job = job(total);
    let finished: Arc<Mutex<Vec<(u64, Instant)>>> = Arc::default();
    let sink = finished.clone();
    let started = Instant::now();
    let report = LocalRunner::new(transport_builder(&emu).build().unwrap())
        .concurrency(32)
        .on_progress(move |p| sink.lock().unwrap().push((p.finished(), Instant::now())))
        .run(&job, &checkpoint)
        .await
        .unwrap();
    assert!(report.is_complete());
    // No request failed for rate limiting: every one succeeded.
    assert_eq!(report.summary.succeeded, total as u64, "{}", report.summary);
    let refused = emu
        .request_log()
        .entries()
        .iter()
        .filter(|r| r.status == 429)
        .count();

    // The measured rate: what the run got beyond the full bucket of the
    // start, per second of the run. A token bucket admits at most
    // `LIMIT + rate * t` requests in `t` seconds, so this cannot pass the
    // limit's rate; 80% of it means little time was lost to pauses.
    let finished = finished.lock().unwrap().clone();
    let secs = (finished.last().unwrap().1 - started).as_secs_f64();
    let rate = (total as u64 - LIMIT) as f64 / secs;
    let limit = LIMIT as f64 / WINDOW.as_secs_f64();
    eprintln!(
        "{total} requests in {secs:.2} s: {rate:.1} requests/s beyond the first {LIMIT}, against a limit of {limit:.1}/s ({:.0}%); {refused} answers 429",
        100.0 * rate / limit
    );
    assert!(
        (0.8 * limit..=limit).contains(&rate),
        "{rate:.1} requests/s for a limit of {limit}/s"
    );
    // Paced from the headers, the API rarely had to refuse one.
    assert!(refused <= 10, "{refused} answers 429");
    emu.shutdown().await;
}

#[tokio::test]
async fn a_huge_retry_after_stops_the_run_with_the_reset_time() {
    let emu = emulator()
        .fault("status=429,retry-after=3600")
        .start()
        .await
        .unwrap();
    let dir = TempDir::new("usage-cap");
    let checkpoint = dir.path("checkpoint.jsonl");
    let started = Instant::now();
    let err = LocalRunner::new(transport_builder(&emu).build().unwrap())
        .concurrency(8)
        .run(&job(20), &checkpoint)
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert!(err.is_rate_limited(), "{err}");
    assert!(took < Duration::from_secs(1), "took {took:?}");
    let text = err.to_string();
    assert!(
        text.contains("1h00m00s") && text.contains("resets at 20"),
        "{text}"
    );
    assert_eq!(std::fs::read_to_string(&checkpoint).unwrap(), "");
    assert_eq!(emu.request_log().count("POST", "/v1/messages"), 1);
    emu.shutdown().await;
}

#[tokio::test]
async fn overloaded_answers_are_retried_by_the_run_not_recorded() {
    // Every distinct request is answered 529 once, with a short
    // retry-after, then succeeds.
    let emu = emulator()
        .fault("status=529,retry-after=0.05,times=1")
        .start()
        .await
        .unwrap();
    let dir = TempDir::new("overloaded");
    let checkpoint = dir.path("checkpoint.jsonl");
    let report = LocalRunner::new(transport_builder(&emu).build().unwrap())
        .concurrency(8)
        .run(&job(20), &checkpoint)
        .await
        .unwrap();
    assert!(report.is_complete());
    assert_eq!(report.summary.succeeded, 20, "{}", report.summary);
    assert_eq!(emu.request_log().count("POST", "/v1/messages"), 40);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tokens_per_minute_limit_paces_the_run_too() {
    // About 40 tokens a request (its input plus max_tokens 24): the bucket
    // holds some 50 requests and refills as many per 2 s window.
    let emu = emulator()
        .tokens_per_minute(2_000)
        .rate_limit_window(WINDOW)
        .start()
        .await
        .unwrap();
    let dir = TempDir::new("tokens-limit");
    let report = LocalRunner::new(transport_builder(&emu).build().unwrap())
        .concurrency(16)
        .run(&job(100), dir.path("checkpoint.jsonl"))
        .await
        .unwrap();
    assert_eq!(report.summary.succeeded, 100, "{}", report.summary);
    let refused = emu
        .request_log()
        .entries()
        .iter()
        .filter(|r| r.status == 429)
        .count();
    eprintln!("{refused} answers 429");
    assert!(refused <= 10, "{refused} answers 429");
    emu.shutdown().await;
}
