//! Submitting never pays twice: a partial submit names the batches it
//! created, the background queue does not submit them again, a job is
//! rebuilt from batch ids, and expired requests are resubmitted.

use std::collections::HashMap;

use futures_util::{StreamExt, TryStreamExt};
use messages_batch::{BackgroundQueue, ListParams, SubmittedJob};
use messages_types::BatchResult;

use crate::support::*;

/// Fails the second batch creation, and only it (no retry either).
const SECOND_CREATE_FAILS: &str =
    "status=500,should-retry=false,skip=1,times=1,scope=all,method=POST,path=/v1/messages/batches";

#[tokio::test]
async fn a_partial_submit_is_not_submitted_again_by_the_next_flush() {
    let emu = emulator().fault(SECOND_CREATE_FAILS).start().await.unwrap();
    let batches = batches(&emu);
    let mut queue = BackgroundQueue::new(batches.clone())
        .flush_at(1_000)
        .max_requests_per_batch(10);
    for i in 0..25 {
        let id = format!("req-{i}");
        assert!(
            queue
                .push(id.clone(), request(&id))
                .await
                .unwrap()
                .is_none()
        );
    }
    let err = queue.flush().await.unwrap_err();
    assert!(err.is_http(), "{err}");
    let created = err.created_batches().to_vec();
    assert_eq!(created.len(), 1, "{err}");
    assert_eq!(created[0].requests, 0..10);
    assert!(err.to_string().contains(&created[0].batch_id), "{err}");
    // The created batch's requests left the queue.
    assert_eq!(queue.len(), 15);

    let rest = queue.flush().await.unwrap().expect("submitted");
    assert_eq!(rest.batch_ids().len(), 2);
    assert!(queue.is_empty());

    // The emulator's own list: three batches, 25 requests, none twice.
    let listed: Vec<_> = batches.list(ListParams::new()).try_collect().await.unwrap();
    assert_eq!(listed.len(), 3);
    let first = SubmittedJob::from_batch_ids(batches.clone(), [created[0].batch_id.clone()]);
    first.wait(fast_wait()).await.unwrap();
    rest.wait(fast_wait()).await.unwrap();
    let mut counts: HashMap<String, usize> = HashMap::new();
    for job in [&first, &rest] {
        let mut results = job.results();
        while let Some(line) = results.next().await {
            *counts.entry(line.unwrap().custom_id).or_default() += 1;
        }
    }
    assert_eq!(counts.len(), 25);
    assert!(counts.values().all(|&n| n == 1), "{counts:?}");
    emu.shutdown().await;
}

#[tokio::test]
async fn a_job_rebuilt_from_batch_ids_reads_its_results_and_refuses_duplicates() {
    let emu = emulator().start().await.unwrap();
    let batches = batches(&emu);
    let job = job(7).max_requests_per_batch(3);
    let submitted = job.submit(&batches).await.unwrap();
    let ids = submitted.batch_ids().to_vec();
    drop(submitted); // A crash.
    let rebuilt = SubmittedJob::from_batch_ids(batches.clone(), ids.clone());
    assert_eq!(rebuilt.len(), 0);
    rebuilt.wait(fast_wait()).await.unwrap();
    assert_eq!(rebuilt.progress().await.unwrap().total, 7);
    let lines: Vec<_> = rebuilt.results().try_collect().await.unwrap();
    assert_eq!(lines.len(), 7);
    // The same batch twice: its results repeat, and that is an error.
    let twice = SubmittedJob::from_batch_ids(batches, [ids[0].clone(), ids[0].clone()]);
    let (read, err) = items_until_error(&mut twice.results()).await;
    assert_eq!(read, 3);
    assert!(err.is_incomplete(), "{err}");
    emu.shutdown().await;
}

#[tokio::test]
async fn expired_requests_are_resubmitted_until_every_request_has_a_final_result() {
    let emu = emulator()
        .batch_pace(std::time::Duration::from_millis(4))
        .batch_expiry(std::time::Duration::from_millis(200))
        .start()
        .await
        .unwrap();
    let batches = batches(&emu);
    let job = job(80);
    let mut attempt_job = job.clone();
    let mut attempts = 0;
    let mut finals: HashMap<String, usize> = HashMap::new();
    while !attempt_job.is_empty() {
        attempts += 1;
        assert!(attempts <= 5, "still {} to do", attempt_job.len());
        let submitted = attempt_job.submit(&batches).await.unwrap();
        submitted.wait(fast_wait()).await.unwrap();
        let mut results = submitted.results();
        while let Some(line) = results.try_next().await.unwrap() {
            if !messages_batch::is_resubmittable(&line.result) {
                assert!(matches!(line.result, BatchResult::Succeeded { .. }));
                *finals.entry(line.custom_id).or_default() += 1;
            }
        }
        if attempts == 1 {
            assert!(results.summary().expired > 0, "{}", results.summary());
        }
        attempt_job = results.retry_job(&job);
        assert_eq!(attempt_job.len(), results.resubmittable().len());
    }
    assert!(attempts >= 2);
    assert_eq!(finals.len(), 80);
    assert!(finals.values().all(|&n| n == 1));
    emu.shutdown().await;
}

#[tokio::test]
async fn batch_ids_are_one_path_segment() {
    let emu = emulator().start().await.unwrap();
    let batches = batches(&emu);
    for (id, path) in [
        ("a/b?c", "/v1/messages/batches/a%2Fb%3Fc"),
        ("../models", "/v1/messages/batches/..%2Fmodels"),
    ] {
        let err = batches.retrieve(id).await.unwrap_err();
        assert_eq!(err.status().map(|s| s.as_u16()), Some(404), "{err}");
        let last = emu.request_log().entries().last().unwrap().clone();
        assert_eq!(last.path, path);
        assert!(batches.cancel(id).await.is_err());
        let last = emu.request_log().entries().last().unwrap().clone();
        assert_eq!(last.path, format!("{path}/cancel"));
    }
    emu.shutdown().await;
}
