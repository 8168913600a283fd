//! The `Queue` contract, checked on both backends.

use std::sync::Arc;
use std::time::Duration;

use messages_queue::{
    CallbackState, CallbackStatus, Job, JobState, Lane, LocalQueue, Queue, QueueConfig, RateLimit,
    RedisQueue,
};
use messages_types::BatchResult;

use crate::support::{Redis, TempDir, request};

fn config(visibility_ms: u64, max_deliveries: u64) -> QueueConfig {
    QueueConfig {
        visibility_timeout: Duration::from_millis(visibility_ms),
        max_deliveries,
        ..QueueConfig::default()
    }
}

/// Runs `check` on a Redis queue and on a local queue.
async fn both<F, Fut>(cfg: QueueConfig, check: F)
where
    F: Fn(Arc<dyn Queue>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let redis = Redis::start();
    let q = RedisQueue::connect(&redis.url(), cfg)
        .await
        .expect("connect");
    check(Arc::new(q)).await;
    let dir = TempDir::new("local");
    let q = LocalQueue::open(&dir.0, cfg).expect("open");
    check(Arc::new(q)).await;
}

fn job(id: &str) -> Job {
    Job::new(id, request(id)).expect("job")
}

#[tokio::test]
async fn enqueue_is_idempotent_and_interactive_goes_first() {
    both(config(60_000, 5), |q| async move {
        assert!(q.enqueue(&job("b1")).await.unwrap());
        assert!(
            !q.enqueue(&job("b1")).await.unwrap(),
            "same id twice is one job"
        );
        assert!(q.enqueue(&job("i1").lane(Lane::Interactive)).await.unwrap());
        let got = q.take("w", 10).await.unwrap();
        let ids: Vec<&str> = got.iter().map(|d| d.job.id.as_str()).collect();
        assert_eq!(ids, ["i1", "b1"]);
        assert!(got.iter().all(|d| d.deliveries == 1 && !d.done));
        let st = q.status().await.unwrap();
        assert_eq!(st.lanes[0].running + st.lanes[1].running, 2);
        assert!(
            q.take("w", 10).await.unwrap().is_empty(),
            "leased jobs are not handed out twice"
        );
        // Once acknowledged, an id is still known: enqueue stays a no-op.
        for d in &got {
            assert!(
                q.store_result(&d.job.id, &BatchResult::Expired)
                    .await
                    .unwrap()
            );
            q.ack(d).await.unwrap();
        }
        assert!(!q.enqueue(&job("b1")).await.unwrap());
        let st = q.status().await.unwrap();
        assert_eq!((st.lanes[0].done, st.lanes[1].done), (1, 1));
        assert_eq!(st.completed_this_minute + st.completed_last_minute, 2);
    })
    .await;
}

#[tokio::test]
async fn first_result_wins() {
    both(config(60_000, 5), |q| async move {
        q.enqueue(&job("a")).await.unwrap();
        let d = q.take("w", 1).await.unwrap().remove(0);
        assert!(q.store_result("a", &BatchResult::Expired).await.unwrap());
        assert!(!q.store_result("a", &BatchResult::Canceled).await.unwrap());
        assert_eq!(q.result("a").await.unwrap(), Some(BatchResult::Expired));
        q.ack(&d).await.unwrap();
        let (page, _) = q.results_page(None, 10).await.unwrap();
        assert_eq!(page.len(), 1, "one result line per job");
        assert_eq!(q.job("a").await.unwrap().unwrap().state, JobState::Done);
        assert!(q.job("nope").await.unwrap().is_none());
    })
    .await;
}

#[tokio::test]
async fn an_expired_lease_is_taken_by_another_worker() {
    // Margins of 400 ms or more around every lease end, for loaded machines.
    both(config(1000, 5), |q| async move {
        let ms = |n| tokio::time::sleep(Duration::from_millis(n));
        q.enqueue(&job("a")).await.unwrap();
        let first = q.take("dead-worker", 1).await.unwrap();
        assert_eq!(first.len(), 1);
        assert!(q.take("live", 1).await.unwrap().is_empty());
        // Renewing the lease keeps it.
        ms(600).await;
        q.touch("dead-worker", &first).await.unwrap();
        ms(600).await;
        assert!(
            q.take("live", 1).await.unwrap().is_empty(),
            "a renewed lease holds"
        );
        ms(800).await;
        let again = q.take("live", 1).await.unwrap();
        assert_eq!(again.len(), 1, "reclaimed after the visibility timeout");
        assert_eq!(again[0].deliveries, 2);
        // The dead worker stored its result before dying: the next taker
        // sees `done` and only finishes the job.
        assert!(q.store_result("a", &BatchResult::Expired).await.unwrap());
        ms(1400).await;
        let third = q.take("third", 1).await.unwrap();
        assert!(third[0].done);
        q.ack(&third[0]).await.unwrap();
        ms(1400).await;
        assert!(
            q.take("fourth", 1).await.unwrap().is_empty(),
            "acknowledged for good"
        );
    })
    .await;
}

#[tokio::test]
async fn poison_jobs_go_to_the_dead_letters_and_can_be_redriven() {
    both(config(60_000, 2), |q| async move {
        q.enqueue(&job("p")).await.unwrap();
        for n in 1..=2 {
            let d = q.take("w", 1).await.unwrap().remove(0);
            assert_eq!(d.deliveries, n);
            q.fail(
                "w",
                &d,
                &format!("overloaded_error: try {n}"),
                Duration::ZERO,
            )
            .await
            .unwrap();
        }
        assert!(
            q.take("w", 1).await.unwrap().is_empty(),
            "over max_deliveries"
        );
        let dead = q.dead_letters().await.unwrap();
        assert_eq!(dead.len(), 1);
        assert_eq!(dead[0].id, "p");
        assert_eq!(dead[0].deliveries, 3);
        assert_eq!(dead[0].error, "overloaded_error: try 2");
        let info = q.job("p").await.unwrap().unwrap();
        assert_eq!(info.state, JobState::Dead);
        assert_eq!(q.status().await.unwrap().lanes[1].dead, 1);
        assert!(q.redrive("p").await.unwrap());
        assert!(
            !q.redrive("p").await.unwrap(),
            "only dead jobs are re-driven"
        );
        assert!(q.dead_letters().await.unwrap().is_empty());
        let d = q.take("w", 1).await.unwrap().remove(0);
        assert_eq!(d.deliveries, 1, "a re-driven job starts over");
        let st = q.status().await.unwrap();
        assert_eq!((st.lanes[1].dead, st.lanes[1].running), (0, 1));
    })
    .await;
}

#[tokio::test]
async fn release_gives_a_job_back_without_counting() {
    both(config(60_000, 5), |q| async move {
        q.enqueue(&job("r")).await.unwrap();
        let d = q.take("w", 1).await.unwrap().remove(0);
        q.release("w", &d).await.unwrap();
        let d = q.take("other", 1).await.unwrap().remove(0);
        assert_eq!(d.deliveries, 1);
        let cb = CallbackState {
            status: CallbackStatus::Failed,
            attempts: 3,
            last_error: Some("refused".into()),
        };
        q.set_callback("r", &cb).await.unwrap();
        assert_eq!(q.job("r").await.unwrap().unwrap().callback, cb);
    })
    .await;
}

#[tokio::test]
async fn the_rate_limiter_spaces_requests_and_pauses() {
    both(config(60_000, 5), |q| async move {
        let limit = RateLimit {
            requests_per_minute: 600,
            tokens_per_minute: 0,
        };
        // A bucket of one second: 10 requests at once, then one per 100 ms.
        let mut granted = 0;
        for _ in 0..12 {
            if q.acquire(&limit, 1).await.unwrap().is_zero() {
                granted += 1;
            }
        }
        assert_eq!(granted, 10);
        let wait = q.acquire(&limit, 1).await.unwrap();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_millis(100),
            "{wait:?}"
        );
        q.pause(Duration::from_millis(500)).await.unwrap();
        let wait = q.acquire(&RateLimit::default(), 1).await.unwrap();
        assert!(wait > Duration::from_millis(300), "paused: {wait:?}");
    })
    .await;
}

#[tokio::test]
async fn a_second_local_queue_sees_the_first_ones_writes() {
    let dir = TempDir::new("two");
    let a = LocalQueue::open(&dir.0, QueueConfig::default()).unwrap();
    let b = LocalQueue::open(&dir.0, QueueConfig::default()).unwrap();
    a.enqueue(&job("x")).await.unwrap();
    assert!(!b.enqueue(&job("x")).await.unwrap());
    let d = b.take("w", 5).await.unwrap();
    assert_eq!(d.len(), 1);
    assert!(a.take("w", 5).await.unwrap().is_empty());
    // A torn last line (a writer killed mid-write) is cut off, not an error.
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(dir.0.join(messages_queue::LOG_FILE))
        .unwrap();
    f.write_all(br#"{"op":"ack","id":"#).unwrap();
    assert!(a.store_result("x", &BatchResult::Expired).await.unwrap());
    let c = LocalQueue::open(&dir.0, QueueConfig::default()).unwrap();
    assert_eq!(c.result("x").await.unwrap(), Some(BatchResult::Expired));
    // A corrupt complete line is reported with its line number.
    f.write_all(b"not json\n").unwrap();
    let e = LocalQueue::open(&dir.0, QueueConfig::default()).unwrap_err();
    assert!(e.is_corrupt() && e.to_string().contains("line 4"), "{e}");
}
