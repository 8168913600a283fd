//! Workers against the emulator, with callbacks.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use messages_queue::{
    CallbackStatus, Callbacks, Job, JobState, LocalQueue, Queue, QueueConfig, RedisQueue, Worker,
};
use messages_types::{BatchResult, ErrorType, MessageRequest};

use crate::support::{
    Receiver, Redis, SECRET, TempDir, emulator, emulator_with_fault, request, transport,
};

/// Runs the worker until every id in `ids` has a result (or 30 s).
async fn run_until_done(worker: &Worker, q: &Arc<dyn Queue>, ids: &[String]) {
    let q2 = q.clone();
    let ids2 = ids.to_vec();
    let done = async move {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let mut all = true;
            for id in &ids2 {
                let info = q2.job(id).await.unwrap().unwrap();
                if !matches!(info.state, JobState::Done | JobState::Dead)
                    || info.callback.status == CallbackStatus::Pending
                {
                    all = false;
                    break;
                }
            }
            if all || tokio::time::Instant::now() > deadline {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    worker.run_until(done).await.expect("worker runs");
}

async fn jobs_with_callbacks(q: &Arc<dyn Queue>, rx: &Receiver, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        let id = format!("j-{i}");
        let mut job = Job::new(&id, request(&id))
            .unwrap()
            .callback(rx.url())
            .unwrap()
            .metadata(serde_json::json!({"n": i}));
        if i == 0 {
            // The API rejects a request without messages: a final error.
            job.request = MessageRequest::new("claude-sonnet-4-6", 16);
        }
        q.enqueue(&job).await.unwrap();
        ids.push(id);
    }
    ids
}

async fn check_worker(q: Arc<dyn Queue>) {
    let emu = emulator(Duration::from_millis(5)).await;
    let rx = Receiver::start().await;
    let ids = jobs_with_callbacks(&q, &rx, 60).await;
    let worker = Worker::new(q.clone(), transport(&emu, 2))
        .concurrency(8)
        .poll(Duration::from_millis(10))
        .callbacks(Callbacks::new(SECRET));
    run_until_done(&worker, &q, &ids).await;
    let counts = rx.counts();
    assert!(
        rx.bad().is_empty(),
        "every callback verifies: {:?}",
        rx.bad()
    );
    for id in &ids {
        assert_eq!(counts.get(id), Some(&1), "one callback for {id}");
        let info = q.job(id).await.unwrap().unwrap();
        assert_eq!(info.state, JobState::Done);
        assert_eq!(info.callback.status, CallbackStatus::Delivered);
        assert_eq!(info.deliveries, 1, "{id}: a 400 is final, not retried");
    }
    match q.result("j-0").await.unwrap().unwrap() {
        BatchResult::Errored { error } => assert_eq!(error.error.kind, ErrorType::InvalidRequest),
        other => panic!("j-0: {other:?}"),
    }
    assert!(matches!(
        q.result("j-1").await.unwrap().unwrap(),
        BatchResult::Succeeded { .. }
    ));
    // Results page through in storage order, one per job.
    let mut seen = HashSet::new();
    let mut cursor = None;
    loop {
        let (page, next) = q.results_page(cursor.as_deref(), 7).await.unwrap();
        if page.is_empty() {
            break;
        }
        for line in page {
            assert!(seen.insert(line.custom_id));
        }
        cursor = next;
    }
    assert_eq!(seen.len(), ids.len());
    // The running totals: each stored result counted once, by type, with
    // the tokens of the succeeded ones under their model.
    let stats = q.stats().await.unwrap();
    assert_eq!(stats.outcomes.get("succeeded"), Some(&59), "{stats:?}");
    assert_eq!(stats.outcomes.get("errored"), Some(&1), "{stats:?}");
    assert_eq!(stats.errors.get("invalid_request_error"), Some(&1));
    assert!(stats.retries.is_empty(), "{stats:?}");
    assert_eq!(stats.usage.len(), 1, "{stats:?}");
    let u = &stats.usage[0];
    assert!(
        u.model.starts_with("claude-sonnet-4-6") && !u.batch,
        "{u:?}"
    );
    assert_eq!(u.results, 59);
    let (mut input, mut output) = (0, 0);
    for id in &ids[1..] {
        if let Some(BatchResult::Succeeded { message }) = q.result(id).await.unwrap() {
            input += message.usage.input_tokens.unwrap_or(0);
            output += message.usage.output_tokens;
        }
    }
    assert_eq!((u.input_tokens, u.output_tokens), (input, output));
    let cost = stats.cost(&messages_batch::PriceTable::builtin());
    assert!(cost.total_usd().is_some_and(|c| c > 0.0), "{cost:?}");
}

#[tokio::test]
async fn a_redis_worker_stores_every_result_once_with_one_callback() {
    let redis = Redis::start();
    let q = RedisQueue::connect(&redis.url(), QueueConfig::default())
        .await
        .unwrap();
    check_worker(Arc::new(q)).await;
}

#[tokio::test]
async fn a_local_worker_stores_every_result_once_with_one_callback() {
    let dir = TempDir::new("worker");
    let q = LocalQueue::open(&dir.0, QueueConfig::default()).unwrap();
    check_worker(Arc::new(q)).await;
}

#[tokio::test]
async fn a_refused_callback_is_retried_then_failed_and_the_result_stays() {
    let dir = TempDir::new("refused");
    let q: Arc<dyn Queue> = Arc::new(LocalQueue::open(&dir.0, QueueConfig::default()).unwrap());
    let emu = emulator(Duration::ZERO).await;
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let job = Job::new("cb", request("cb"))
        .unwrap()
        .callback(format!("http://127.0.0.1:{port}/hook"))
        .unwrap();
    q.enqueue(&job).await.unwrap();
    let worker = Worker::new(q.clone(), transport(&emu, 0))
        .poll(Duration::from_millis(10))
        .callbacks(
            Callbacks::new(SECRET)
                .attempts(3)
                .backoff(Duration::from_millis(10)),
        );
    run_until_done(&worker, &q, &["cb".to_owned()]).await;
    let info = q.job("cb").await.unwrap().unwrap();
    assert_eq!(info.callback.status, CallbackStatus::Failed);
    assert_eq!(info.callback.attempts, 3);
    assert!(
        info.callback
            .last_error
            .as_deref()
            .unwrap()
            .contains("POST http://127.0.0.1"),
        "{:?}",
        info.callback.last_error
    );
    assert!(matches!(
        q.result("cb").await.unwrap(),
        Some(BatchResult::Succeeded { .. })
    ));
}

#[tokio::test]
async fn a_poison_job_goes_to_the_dead_letters_after_n_deliveries() {
    let redis = Redis::start();
    let cfg = QueueConfig {
        visibility_timeout: Duration::from_secs(30),
        max_deliveries: 2,
        ..QueueConfig::default()
    };
    let q: Arc<dyn Queue> = Arc::new(RedisQueue::connect(&redis.url(), cfg).await.unwrap());
    // Every request fails with a retryable 529.
    let emu = emulator_with_fault("status=529").await;
    q.enqueue(&Job::new("poison", request("poison")).unwrap())
        .await
        .unwrap();
    let worker = Worker::new(q.clone(), transport(&emu, 0)).poll(Duration::from_millis(10));
    run_until_done(&worker, &q, &["poison".to_owned()]).await;
    let dead = q.dead_letters().await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].id, "poison");
    assert_eq!(dead[0].deliveries, 3);
    assert!(
        dead[0].error.contains("overloaded_error"),
        "{}",
        dead[0].error
    );
    assert!(q.result("poison").await.unwrap().is_none());
    let stats = q.stats().await.unwrap();
    assert_eq!(stats.retries.get("overloaded_error"), Some(&2), "{stats:?}");
    assert_eq!(stats.results(), 0);
}

#[tokio::test]
async fn a_bad_key_stops_the_worker_without_burning_the_queue() {
    let dir = TempDir::new("badkey");
    let q: Arc<dyn Queue> = Arc::new(LocalQueue::open(&dir.0, QueueConfig::default()).unwrap());
    let emu = messages_emulator::Emulator::builder()
        .api_key("the-right-key")
        .token_delay(Duration::ZERO)
        .start()
        .await
        .unwrap();
    for i in 0..5 {
        let id = format!("k-{i}");
        q.enqueue(&Job::new(&id, request(&id)).unwrap())
            .await
            .unwrap();
    }
    let worker = Worker::new(q.clone(), transport(&emu, 0)).concurrency(2);
    let e = worker.run_until(std::future::pending()).await.unwrap_err();
    assert!(e.is_fatal() && e.to_string().contains("401"), "{e}");
    for i in 0..5 {
        let info = q.job(&format!("k-{i}")).await.unwrap().unwrap();
        assert_eq!(info.deliveries, 0, "given back uncounted");
        assert!(info.last_error.is_none());
    }
    assert_eq!(
        q.take("next", 10).await.unwrap().len(),
        5,
        "all takeable at once"
    );
}

#[tokio::test]
async fn workers_ride_out_a_redis_restart_with_aof() {
    let mut redis = Redis::start_aof();
    let q: Arc<dyn Queue> = Arc::new(
        RedisQueue::connect(&redis.url(), QueueConfig::default())
            .await
            .unwrap(),
    );
    let emu = emulator(Duration::from_millis(20)).await;
    let rx = Receiver::start().await;
    let mut ids = Vec::new();
    for i in 0..1000 {
        let id = format!("r-{i}");
        q.enqueue(
            &Job::new(&id, request(&id))
                .unwrap()
                .callback(rx.url())
                .unwrap(),
        )
        .await
        .unwrap();
        ids.push(id);
    }
    // At most 8 / 20 ms = 400 jobs/s: the crash comes well before the end.
    let worker = Worker::new(q.clone(), transport(&emu, 2))
        .concurrency(8)
        .poll(Duration::from_millis(10))
        .callbacks(Callbacks::new(SECRET));
    let (tx, stop) = tokio::sync::oneshot::channel::<()>();
    let run = tokio::spawn(async move {
        worker
            .run_until(async {
                let _ = stop.await;
            })
            .await
    });
    // Crash Redis once about a third of the jobs are done.
    loop {
        let st = q.status().await.unwrap();
        if st.lanes[1].done >= 100 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let done_before = q.status().await.unwrap().lanes[1].done;
    assert!(done_before < 1000, "the crash comes mid-run");
    redis.crash_and_restart();
    // Everything acknowledged before the crash is still there, and the
    // worker finishes the rest on its own.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(st) = q.status().await {
            assert!(st.lanes[1].done >= done_before, "no stored result lost");
            if st.lanes[1].done == 1000 {
                break;
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the worker did not finish after the restart"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Wait for every callback. Most are in already; but a result stored
    // just before the crash, whose reply the crash lost, reads on the retry
    // as another worker's, and its callback waits until that delivery is
    // reclaimed after the visibility timeout (30 s) and taken again.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while rx.counts().len() < ids.len() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = tx.send(());
    run.await.unwrap().unwrap();
    let counts = rx.counts();
    for id in &ids {
        assert!(q.result(id).await.unwrap().is_some(), "{id} has a result");
        assert!(
            counts.get(id).copied().unwrap_or(0) >= 1,
            "{id} got its callback"
        );
    }
    let dupes: u32 = counts.values().map(|c| c - 1).sum();
    // A POST whose delivery record was lost in the crash may be repeated
    // (at-least-once, same idempotency key): at most the jobs in flight.
    assert!(dupes <= 8, "{dupes} repeated callbacks");
}

/// Three workers (each with its own Redis connection, as on three
/// machines), concurrency 32 each, share a limit of 600 requests per
/// minute: the API sees 80-100% of it (after the one-second burst), and no
/// request fails.
#[tokio::test]
async fn three_workers_share_one_rate_limit() {
    let redis = Redis::start();
    let emu = messages_emulator::Emulator::builder()
        .token_delay(Duration::ZERO)
        .request_log(true)
        .start()
        .await
        .unwrap();
    let q: Arc<dyn Queue> = Arc::new(
        RedisQueue::connect(&redis.url(), QueueConfig::default())
            .await
            .unwrap(),
    );
    const N: usize = 50;
    let ids: Vec<String> = (0..N).map(|i| format!("rl-{i}")).collect();
    for id in &ids {
        q.enqueue(&Job::new(id, request(id)).unwrap())
            .await
            .unwrap();
    }
    let limit = messages_queue::RateLimit {
        requests_per_minute: 600,
        tokens_per_minute: 0,
    };
    let start = tokio::time::Instant::now();
    let mut runs = Vec::new();
    for w in 0..3 {
        let own: Arc<dyn Queue> = Arc::new(
            RedisQueue::connect(&redis.url(), QueueConfig::default())
                .await
                .unwrap(),
        );
        let worker = Worker::new(own, transport(&emu, 0))
            .name(format!("w{w}"))
            .concurrency(32)
            .rate_limit(limit)
            .poll(Duration::from_millis(10));
        let q = q.clone();
        let ids = ids.clone();
        runs.push(tokio::spawn(async move {
            run_until_done(&worker, &q, &ids).await;
        }));
    }
    for r in runs {
        r.await.unwrap();
    }
    let elapsed = start.elapsed().as_secs_f64();
    for id in &ids {
        assert!(
            matches!(
                q.result(id).await.unwrap(),
                Some(BatchResult::Succeeded { .. })
            ),
            "{id}"
        );
    }
    assert_eq!(
        emu.request_log().len(),
        N,
        "no request was sent twice or failed"
    );
    // The bucket holds one second (10 requests); the other 40 come at 10/s.
    let rate = (N as f64 - 10.0) / elapsed;
    assert!(
        (8.0..=10.5).contains(&rate),
        "{rate:.2} requests/s after the burst over {elapsed:.2} s (limit 10/s)"
    );
}

/// Jobs with a 2-day deadline go through one Message Batch, not to the
/// workers. The first coordinator dies between creating the batch and
/// collecting its results; the replacement finds the batch in the queue
/// and finishes it, without creating another.
async fn check_deadline_routing(q: Arc<dyn Queue>) {
    use futures_util::TryStreamExt;
    use messages_batch::{Batches, ListParams};
    use messages_queue::{Coordinator, CoordinatorReport};

    let emu = messages_emulator::Emulator::builder()
        .token_delay(Duration::ZERO)
        .batch_pace(Duration::from_millis(20))
        .start()
        .await
        .unwrap();
    let rx = Receiver::start().await;
    let two_days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 2 * 86_400;
    let ids: Vec<String> = (0..5).map(|i| format!("later-{i}")).collect();
    for id in &ids {
        let job = Job::new(id, request(id))
            .unwrap()
            .deadline(two_days)
            .callback(rx.url())
            .unwrap();
        q.enqueue(&job).await.unwrap();
    }
    // A job due soon still goes to the workers.
    q.enqueue(&Job::new("soon", request("soon")).unwrap())
        .await
        .unwrap();
    let taken = q.take("w", 10).await.unwrap();
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].job.id, "soon");

    let batches = Batches::new(transport(&emu, 2));
    let first = Coordinator::new(q.clone(), batches.clone())
        .name("first")
        .lease(Duration::from_millis(1500));
    let mut report = CoordinatorReport::default();
    assert!(first.pass(&mut report).await.unwrap());
    assert_eq!(report.submitted, 1);
    let open = q.open_batches().await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].batch_ids.len(), 1, "the batch id is persisted");
    assert_eq!(open[0].jobs.len(), 5);
    drop(first); // Dies before collecting.
    for id in &ids {
        assert!(q.result(id).await.unwrap().is_none());
    }

    let second = Coordinator::new(q.clone(), batches.clone())
        .name("second")
        .lease(Duration::from_millis(1500))
        .interval(Duration::from_millis(50))
        .callbacks(Callbacks::new(SECRET));
    assert!(
        !second
            .pass(&mut CoordinatorReport::default())
            .await
            .unwrap(),
        "the first one's lease still holds"
    );
    let q2 = q.clone();
    let done = async move {
        while !q2.open_batches().await.unwrap().is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let report = tokio::time::timeout(Duration::from_secs(30), second.run_until(done))
        .await
        .expect("the replacement finishes the batch")
        .unwrap();
    assert_eq!(
        (report.submitted, report.finished, report.stored),
        (0, 1, 5)
    );
    // Their tokens count at the batch price.
    let stats = q.stats().await.unwrap();
    assert_eq!(stats.outcomes.get("succeeded"), Some(&5), "{stats:?}");
    assert!(
        !stats.usage.is_empty() && stats.usage.iter().all(|u| u.batch),
        "{stats:?}"
    );
    let counts = rx.counts();
    for id in &ids {
        assert!(matches!(
            q.result(id).await.unwrap(),
            Some(BatchResult::Succeeded { .. })
        ));
        assert_eq!(counts.get(id), Some(&1), "{id}: one callback");
        assert_eq!(
            q.job(id).await.unwrap().unwrap().callback.status,
            CallbackStatus::Delivered
        );
    }
    let listed: Vec<_> = batches
        .list(ListParams::default())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(listed.len(), 1, "one batch, not two");
}

#[tokio::test]
async fn deadline_routing_through_batches_on_redis() {
    let redis = Redis::start();
    let q = RedisQueue::connect(&redis.url(), QueueConfig::default())
        .await
        .unwrap();
    check_deadline_routing(Arc::new(q)).await;
}

#[tokio::test]
async fn deadline_routing_through_batches_on_the_local_store() {
    let dir = TempDir::new("routing");
    let q = LocalQueue::open(&dir.0, QueueConfig::default()).unwrap();
    check_deadline_routing(Arc::new(q)).await;
}

/// A stand-in for the API on loopback: the first request succeeds with
/// `anthropic-ratelimit-*` headers, every later one is a 429.
async fn rate_limited_api() -> String {
    use http_body_util::Full;
    use hyper::service::service_fn;
    use hyper_util::rt::TokioIo;
    use std::sync::atomic::{AtomicU32, Ordering};

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(AtomicU32::new(0));
    tokio::spawn(async move {
        loop {
            let Ok((sock, _)) = listener.accept().await else {
                return;
            };
            let seen = seen.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |_req: hyper::Request<hyper::body::Incoming>| {
                    let n = seen.fetch_add(1, Ordering::SeqCst);
                    async move {
                        let resp = if n == 0 {
                            hyper::Response::builder()
                                .header("content-type", "application/json")
                                .header("anthropic-ratelimit-requests-remaining", "5")
                                .header("anthropic-ratelimit-tokens-remaining", "1000")
                                .body(Full::new(bytes::Bytes::from_static(
                                    br#"{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-6","content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":3,"output_tokens":1}}"#,
                                )))
                        } else {
                            hyper::Response::builder()
                                .status(429)
                                .header("content-type", "application/json")
                                .body(Full::new(bytes::Bytes::from_static(
                                    br#"{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}"#,
                                )))
                        };
                        Ok::<_, std::convert::Infallible>(resp.unwrap())
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(sock), svc)
                    .await;
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn rate_limit_headers_and_a_429_reach_the_whole_fleet() {
    let redis = Redis::start();
    let q: Arc<dyn Queue> = Arc::new(
        RedisQueue::connect(&redis.url(), QueueConfig::default())
            .await
            .unwrap(),
    );
    let api = rate_limited_api().await;
    let transport = messages_http::Transport::builder()
        .api_key("test")
        .base_url(api)
        .max_retries(0)
        .allow_insecure_credentials(true)
        .build()
        .unwrap();
    for id in ["first", "second"] {
        q.enqueue(&Job::new(id, request(id)).unwrap())
            .await
            .unwrap();
    }
    let worker = Worker::new(q.clone(), transport)
        .concurrency(1)
        .poll(Duration::from_millis(10))
        .pause_on_429(Duration::from_secs(5));
    let q2 = q.clone();
    let stop = async move {
        loop {
            let info = q2.job("second").await.unwrap().unwrap();
            if info.last_error.is_some() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    let report = worker.run_until(stop).await.unwrap();
    assert_eq!((report.stored, report.retried), (1, 1));
    let st = q.status().await.unwrap();
    assert_eq!(st.headroom, Some((Some(5), Some(1000))), "headers recorded");
    let info = q.job("second").await.unwrap().unwrap();
    assert!(info.last_error.unwrap().contains("rate_limit_error"));
    assert_ne!(info.state, JobState::Done, "a 429 is retried, not a result");
    // Another worker, with its own connection, is paused too.
    let other = RedisQueue::connect(&redis.url(), QueueConfig::default())
        .await
        .unwrap();
    let wait = other
        .acquire(&messages_queue::RateLimit::default(), 1)
        .await
        .unwrap();
    assert!(wait > Duration::from_secs(3), "paused fleet-wide: {wait:?}");
}
