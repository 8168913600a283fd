//! The Batches API end to end: jobs, splitting, wait, list, cancel, expiry,
//! errored requests, delete, the transient 404.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::TryStreamExt;
use messages_batch::{BatchJob, ListParams, Progress, WaitOptions};
use messages_types::{BatchResult, ErrorType, MessageRequest, ProcessingStatus};

use crate::support::*;

#[tokio::test]
async fn a_10000_request_job_split_in_three_batches_end_to_end() {
    let emu = emulator().start().await.unwrap();
    let batches = batches(&emu);
    let mut job = BatchJob::new().max_requests_per_batch(4_000);
    for i in 0..10_000 {
        let id = format!("req-{i}");
        job.add(id.clone(), request(&id)).unwrap();
    }
    let submitted = job.submit(&batches).await.unwrap();
    assert_eq!(submitted.batch_ids().len(), 3);
    assert_eq!(emu.request_log().count("POST", "/v1/messages/batches"), 3);

    let seen: Arc<Mutex<Vec<Progress>>> = Arc::default();
    let sink = Arc::clone(&seen);
    let ended = submitted
        .wait(fast_wait().on_progress(move |p| sink.lock().unwrap().push(*p)))
        .await
        .unwrap();
    assert_eq!(ended.len(), 3);
    assert!(
        ended
            .iter()
            .all(|b| b.processing_status == ProcessingStatus::Ended)
    );
    let seen = seen.lock().unwrap().clone();
    let last = seen.last().expect("progress was reported");
    assert!(
        last.ended && last.total == 10_000 && last.succeeded == 10_000,
        "{last}"
    );
    assert!(
        seen.windows(2).all(|w| w[0].finished() <= w[1].finished()),
        "progress never goes back"
    );

    let mut results = submitted.results();
    let mut ids = HashSet::new();
    while let Some(line) = results.try_next().await.unwrap() {
        let joined = job.join(line).unwrap();
        let BatchResult::Succeeded { message } = &joined.line.result else {
            panic!("{:?}", joined.line.result)
        };
        assert_eq!(message.model, MODEL);
        // Joined to its input: the usage reflects that input's prompt.
        assert!(message.usage.input_tokens.unwrap() > 0);
        assert_eq!(joined.request.params.model, message.model);
        assert!(ids.insert(joined.index));
    }
    assert_eq!(ids.len(), 10_000);
    let summary = results.summary();
    assert_eq!(summary.succeeded, 10_000);
    assert_eq!(summary.total(), 10_000);
    assert!(summary.usage.output_tokens > 0);
    assert!(summary.estimated_cost_usd().unwrap() > 0.0);
    emu.shutdown().await;
}

#[tokio::test]
async fn a_job_over_the_limits_is_refused_before_sending_when_not_splitting() {
    let emu = emulator().start().await.unwrap();
    let mut job = BatchJob::new().max_requests_per_batch(2).split(false);
    for i in 0..3 {
        job.add(format!("r{i}"), request("x")).unwrap();
    }
    let err = job.submit(&batches(&emu)).await.unwrap_err();
    assert!(err.is_invalid_input(), "{err}");
    assert!(emu.request_log().is_empty());
    emu.shutdown().await;
}

#[tokio::test]
async fn list_pages_through_every_batch_both_ways() {
    let emu = emulator().start().await.unwrap();
    let batches = batches(&emu);
    let mut created = Vec::new();
    for i in 0..7 {
        let mut job = BatchJob::new();
        job.add(format!("only-{i}"), request("x")).unwrap();
        created.extend(job.submit(&batches).await.unwrap().batch_ids().to_vec());
    }
    let newest_first: Vec<String> = created.iter().rev().cloned().collect();
    let listed: Vec<String> = batches
        .list(ListParams::new().limit(2))
        .map_ok(|b| b.id)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(listed, newest_first);
    // Pages of 2 for 7 batches: 4 requests.
    assert_eq!(emu.request_log().count("GET", "/v1/messages/batches"), 4);

    // Older than the third newest.
    let older: Vec<String> = batches
        .list(ListParams::new().after_id(&newest_first[2]).limit(3))
        .map_ok(|b| b.id)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(older, newest_first[3..]);
    // Newer than the oldest, paging backwards: every page newest first.
    let newer: Vec<String> = batches
        .list(ListParams::new().before_id(&newest_first[6]).limit(4))
        .map_ok(|b| b.id)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(newer.len(), 6);
    assert_eq!(
        newer.iter().collect::<HashSet<_>>(),
        newest_first[..6].iter().collect()
    );
    assert_eq!(newer[..4], newest_first[2..6]);
    emu.shutdown().await;
}

#[tokio::test]
async fn cancel_midway_counts_canceled_requests() {
    let emu = emulator()
        .batch_pace(Duration::from_millis(3))
        .start()
        .await
        .unwrap();
    let batches = batches(&emu);
    let job = job(400);
    let submitted = job.submit(&batches).await.unwrap();
    let id = submitted.batch_ids()[0].clone();

    let mut opts = fast_wait();
    let mut watch = opts.watch();
    let waiter = {
        let batches = batches.clone();
        let id = id.clone();
        tokio::spawn(async move { batches.wait(&id, opts).await })
    };
    // Cancel once some requests have finished.
    watch.wait_for(|p| p.succeeded >= 20).await.unwrap();
    let canceling = batches.cancel(&id).await.unwrap();
    assert!(
        matches!(
            canceling.processing_status,
            ProcessingStatus::Canceling | ProcessingStatus::Ended
        ),
        "{:?}",
        canceling.processing_status
    );
    assert!(canceling.cancel_initiated_at.is_some());
    let ended = waiter.await.unwrap().unwrap();
    let c = &ended.request_counts;
    assert_eq!(ended.processing_status, ProcessingStatus::Ended);
    assert!(c.canceled > 0 && c.succeeded >= 20, "{c:?}");
    assert_eq!(c.succeeded + c.canceled, 400);
    assert_eq!(c.processing, 0);

    let mut results = submitted.results();
    while results.try_next().await.unwrap().is_some() {}
    assert_eq!(results.summary().canceled, c.canceled);
    assert_eq!(results.summary().succeeded, c.succeeded);
    assert!(watch.borrow().ended);
    emu.shutdown().await;
}

#[tokio::test]
async fn expired_and_errored_requests_are_results() {
    let emu = emulator()
        .batch_pace(Duration::from_millis(4))
        .batch_expiry(Duration::from_millis(250))
        .start()
        .await
        .unwrap();
    let batches = batches(&emu);
    let mut job = job(200);
    job.add(
        "unknown-model",
        MessageRequest::new("claude-nonexistent", 16).user("hi"),
    )
    .unwrap();
    job.add(
        "too-many-tokens",
        MessageRequest::new(MODEL, 500_000).user("too many tokens"),
    )
    .unwrap();
    let submitted = job.submit(&batches).await.unwrap();
    let ended = submitted.wait(fast_wait()).await.unwrap();
    let c = &ended[0].request_counts;
    assert!(c.expired > 0, "{c:?}");
    let mut results = submitted.results();
    let mut errored = Vec::new();
    while let Some(line) = results.try_next().await.unwrap() {
        if let BatchResult::Errored { error } = line.result {
            errored.push((line.custom_id, error.error.kind));
        }
    }
    let s = results.summary();
    assert_eq!(s.expired, c.expired);
    assert_eq!(s.total(), 202);
    // The errored requests ran only if they were processed before expiry.
    assert_eq!(s.errored_total(), c.errored);
    for (id, kind) in &errored {
        match id.as_str() {
            "unknown-model" => assert_eq!(*kind, ErrorType::NotFound),
            "too-many-tokens" => assert_eq!(*kind, ErrorType::InvalidRequest),
            other => panic!("unexpected errored {other}"),
        }
    }
    emu.shutdown().await;
}

#[tokio::test]
async fn errored_requests_are_summarised_by_type() {
    let emu = emulator().start().await.unwrap();
    let batches = batches(&emu);
    let mut job = job(10);
    for i in 0..3 {
        job.add(
            format!("nf-{i}"),
            MessageRequest::new("claude-nonexistent", 16).user("hi"),
        )
        .unwrap();
    }
    job.add(
        "too-many-tokens",
        MessageRequest::new(MODEL, 500_000).user("too many tokens"),
    )
    .unwrap();
    let submitted = job.submit(&batches).await.unwrap();
    submitted.wait(fast_wait()).await.unwrap();
    let mut results = submitted.results();
    while results.try_next().await.unwrap().is_some() {}
    let s = results.summary();
    assert_eq!(s.succeeded, 10);
    assert_eq!(s.errored.get("not_found_error"), Some(&3));
    assert_eq!(s.errored.get("invalid_request_error"), Some(&1));
    emu.shutdown().await;
}

#[tokio::test]
async fn delete_only_ended_batches() {
    let emu = emulator()
        .batch_pace(Duration::from_millis(50))
        .start()
        .await
        .unwrap();
    let batches = batches(&emu);
    let b = batches
        .create(&messages_types::BatchCreateParams::new(vec![
            messages_types::BatchRequest::new("a", request("a")),
            messages_types::BatchRequest::new("b", request("b")),
        ]))
        .await
        .unwrap();
    let err = batches.delete(&b.id).await.unwrap_err();
    assert!(
        err.is_http() && err.status().map(|s| s.as_u16()) == Some(400),
        "{err}"
    );
    assert_eq!(err.batch_id(), Some(b.id.as_str()));
    batches.cancel(&b.id).await.unwrap();
    batches.wait(&b.id, fast_wait()).await.unwrap();
    let deleted = batches.delete(&b.id).await.unwrap();
    assert_eq!(deleted.id, b.id);
    let err = batches.retrieve(&b.id).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404));
    let err = batches.results(&b.id).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404));
    emu.shutdown().await;
}

/// A transport whose batch retrieves see one 404 each, as right after
/// create on the real API.
fn transport_with_transient_404(
    emu: &messages_emulator::EmulatorHandle,
) -> messages_http::Transport {
    use tower::ServiceExt;
    transport_builder(emu)
        .layer(tower::layer::layer_fn(|svc: messages_http::BoxService| {
            svc.map_request(|mut req: http::Request<bytes::Bytes>| {
                let path = req.uri().path();
                if req.method() == http::Method::GET
                    && path.starts_with("/v1/messages/batches/msgbatch_")
                    && !path.ends_with("/results")
                {
                    req.headers_mut().insert(
                        "x-emulator-fault",
                        http::HeaderValue::from_static("status=404,times=1"),
                    );
                }
                req
            })
        }))
        .build()
        .unwrap()
}

#[tokio::test]
async fn wait_tolerates_the_transient_404_after_create() {
    let emu = emulator().start().await.unwrap();
    let batches = messages_batch::Batches::new(transport_with_transient_404(&emu));
    let b = batches
        .create(&messages_types::BatchCreateParams::new(vec![
            messages_types::BatchRequest::new("a", request("a")),
        ]))
        .await
        .unwrap();
    let ended = batches.wait(&b.id, fast_wait()).await.unwrap();
    assert_eq!(ended.request_counts.succeeded, 1);
    let statuses: Vec<u16> = emu
        .request_log()
        .filter(|r| r.method == "GET" && r.path.ends_with(&b.id))
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses[0], 404, "{statuses:?}");
    assert_eq!(*statuses.last().unwrap(), 200);

    // Without a grace period the 404 is an error that says so.
    let b2 = batches
        .create(&messages_types::BatchCreateParams::new(vec![
            messages_types::BatchRequest::new("b", request("b")),
        ]))
        .await
        .unwrap();
    let err = batches
        .wait(&b2.id, fast_wait().not_found_grace(Duration::ZERO))
        .await
        .unwrap_err();
    assert!(
        err.is_http() && err.status().map(|s| s.as_u16()) == Some(404),
        "{err}"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn wait_stops_at_its_deadline() {
    let emu = emulator()
        .batch_pace(Duration::from_millis(200))
        .start()
        .await
        .unwrap();
    let batches = batches(&emu);
    let submitted = job(50).submit(&batches).await.unwrap();
    let started = std::time::Instant::now();
    let err = submitted
        .wait(fast_wait().deadline(Duration::from_millis(300)))
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(err.batch_id(), Some(submitted.batch_ids()[0].as_str()));
    submitted.cancel().await.unwrap();
    emu.shutdown().await;
}

#[tokio::test]
async fn wait_backs_off_while_nothing_changes() {
    let emu = emulator()
        .batch_pace(Duration::from_secs(3600))
        .start()
        .await
        .unwrap();
    let batches = batches(&emu);
    let submitted = job(2).submit(&batches).await.unwrap();
    let opts = WaitOptions::new()
        .interval(Duration::from_millis(10), Duration::from_millis(160))
        .multiplier(2.0)
        .deadline(Duration::from_millis(700));
    assert!(submitted.wait(opts).await.unwrap_err().is_timeout());
    // Fixed 10 ms polling would poll about 70 times; backing off to 160 ms
    // polls at most 1 + 5 (10..160) + 4 more.
    let polls = emu
        .request_log()
        .filter(|r| r.method == "GET" && r.path.starts_with("/v1/messages/batches/"))
        .len();
    assert!((3..=12).contains(&polls), "{polls} polls");
    submitted.cancel().await.unwrap();
    emu.shutdown().await;
}
