//! The [`Queue`] trait that both backends implement.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use messages_types::{BatchResult, BatchResultLine};

use crate::error::Result;
use crate::job::{CallbackState, DeadLetter, Delivery, Job, JobInfo, JobState, Status};
use crate::stats::Stats;

/// A boxed future, so that [`Queue`] can be used as `dyn Queue`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'a>>;

/// Delivery settings shared by both backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueConfig {
    /// How long a taken job may go without its worker's heartbeat before
    /// another worker may take it. Workers extend their jobs' leases every
    /// third of this. Default is 30 s.
    pub visibility_timeout: Duration,
    /// A job taken more than this many times without a result goes to the
    /// dead letters with its last error. Default is 5.
    pub max_deliveries: u64,
    /// Jobs whose deadline is at least this far away when enqueued are
    /// routed to the Message Batches API (half price) by a
    /// [`Coordinator`](crate::Coordinator) instead of going to a lane.
    /// `None` routes nothing. Default is 24 hours.
    pub batch_after: Option<Duration>,
}

impl QueueConfig {
    /// Whether `job` goes to the Batches API (see
    /// [`batch_after`](QueueConfig::batch_after)), judged at `now_ms`.
    pub fn routes_to_batch(&self, job: &Job, now_ms: u64) -> bool {
        match (self.batch_after, job.deadline) {
            (Some(after), Some(deadline)) => {
                deadline.saturating_mul(1000) >= now_ms.saturating_add(after.as_millis() as u64)
            }
            _ => false,
        }
    }
}

/// Jobs sent together as Message Batches by a
/// [`Coordinator`](crate::Coordinator), and the batch ids they went into
/// (empty until created). Persisted in the queue, so a replacement
/// coordinator finishes what a dead one started.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchGroup {
    /// The group's id in the queue.
    pub id: String,
    /// Its jobs.
    pub jobs: Vec<Job>,
    /// The Message Batch ids, once created.
    pub batch_ids: Vec<String>,
}

impl Default for QueueConfig {
    fn default() -> QueueConfig {
        QueueConfig {
            visibility_timeout: Duration::from_secs(30),
            max_deliveries: 5,
            batch_after: Some(Duration::from_secs(24 * 3600)),
        }
    }
}

/// A fleet-wide rate limit: requests and tokens per minute. Zero means no
/// limit of that kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RateLimit {
    /// Requests per minute.
    pub requests_per_minute: u64,
    /// Tokens per minute (input estimate + `max_tokens`, charged before
    /// sending).
    pub tokens_per_minute: u64,
}

impl RateLimit {
    /// Whether neither limit is set.
    pub fn is_unlimited(&self) -> bool {
        self.requests_per_minute == 0 && self.tokens_per_minute == 0
    }
}

/// What `anthropic-ratelimit-*` response headers said.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Headroom {
    /// `anthropic-ratelimit-requests-remaining`.
    pub requests_remaining: Option<u64>,
    /// `anthropic-ratelimit-tokens-remaining`.
    pub tokens_remaining: Option<u64>,
}

/// A work queue: where jobs wait, are taken by workers, and leave their
/// results. [`RedisQueue`](crate::RedisQueue) shares it between machines;
/// [`LocalQueue`](crate::LocalQueue) keeps it in a directory on one machine.
///
/// Delivery is at-least-once: a job is handed out again when its worker
/// stops renewing its lease ([`QueueConfig::visibility_timeout`]). Results
/// are stored once per job id: the first [`store_result`](Queue::store_result)
/// wins, atomically, and later ones return `false`. The worker loop
/// ([`Worker`](crate::Worker)) is the one user of the take/ack half; the
/// rest is for producers and dashboards.
///
/// The methods return boxed futures so that `Arc<dyn Queue>` works.
/// Dropping one of these futures abandons the operation: it either happened
/// or did not, never half (every write is one atomic step of the backend).
pub trait Queue: Send + Sync + std::fmt::Debug {
    /// Adds a job. Returns `false` (and changes nothing) when the queue
    /// already has a job with this id, in any state.
    fn enqueue<'a>(&'a self, job: &'a Job) -> BoxFuture<'a, bool>;

    /// Takes up to `max` jobs for `consumer`, interactive lane first: jobs
    /// whose lease expired, then new ones. ([`RedisQueue`](crate::RedisQueue)
    /// looks for expired leases at most once a second per process, and at
    /// once after this process [`fail`](Queue::fail)ed or
    /// [`release`](Queue::release)d a job.) Each counts as a delivery; a job
    /// over [`QueueConfig::max_deliveries`] goes to the dead letters
    /// instead. Returns at once (possibly with nothing).
    fn take<'a>(&'a self, consumer: &'a str, max: usize) -> BoxFuture<'a, Vec<Delivery>>;

    /// Renews the leases of `deliveries` (held by `consumer`) for another
    /// visibility timeout.
    fn touch<'a>(&'a self, consumer: &'a str, deliveries: &'a [Delivery]) -> BoxFuture<'a, ()>;

    /// Records a retryable failure: `error` becomes the job's last error,
    /// and the job may be taken again after `backoff`.
    fn fail<'a>(
        &'a self,
        consumer: &'a str,
        delivery: &'a Delivery,
        error: &'a str,
        backoff: Duration,
    ) -> BoxFuture<'a, ()>;

    /// Gives a job back untouched (a stopping worker): it may be taken
    /// again at once, and this delivery does not count.
    fn release<'a>(&'a self, consumer: &'a str, delivery: &'a Delivery) -> BoxFuture<'a, ()>;

    /// Stores a job's result. First write wins: returns `true` if this call
    /// stored it, `false` if the job already had one (which is kept).
    fn store_result<'a>(&'a self, id: &'a str, result: &'a BatchResult) -> BoxFuture<'a, bool>;

    /// [`store_result`](Queue::store_result) then [`ack`](Queue::ack), for
    /// a job with no callback: returns whether this call stored the result,
    /// and acknowledges the delivery either way. Redis does both in one
    /// script (one round trip); the default runs the two in order.
    fn store_and_ack<'a>(
        &'a self,
        delivery: &'a Delivery,
        result: &'a BatchResult,
    ) -> BoxFuture<'a, bool> {
        Box::pin(async move {
            let won = self.store_result(&delivery.job.id, result).await?;
            self.ack(delivery).await?;
            Ok(won)
        })
    }

    /// Records the delivery state of a job's callback.
    fn set_callback<'a>(&'a self, id: &'a str, state: &'a CallbackState) -> BoxFuture<'a, ()>;

    /// Acknowledges a delivery: the job leaves the worker's hands for good.
    /// Called only after its result (and callback) are recorded.
    fn ack<'a>(&'a self, delivery: &'a Delivery) -> BoxFuture<'a, ()>;

    /// What the queue knows about a job, or `None` for an unknown id.
    fn job<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Option<JobInfo>>;

    /// A job's result, or `None` if it has none (yet).
    fn result<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Option<BatchResult>>;

    /// Up to `max` results in the order they were stored, after `cursor`
    /// (`None` for the first page). Returns them and the cursor of the next
    /// page.
    fn results_page<'a>(
        &'a self,
        cursor: Option<&'a str>,
        max: usize,
    ) -> BoxFuture<'a, (Vec<BatchResultLine>, Option<String>)>;

    /// Counts per lane and state, workers alive, throughput.
    fn status(&self) -> BoxFuture<'_, Status>;

    /// Running totals of results by type, errors by type, retryable
    /// failures by kind and token usage per model, and the fleet's
    /// rate-limit pause: what a dashboard shows besides
    /// [`status`](Queue::status). One round trip on Redis.
    fn stats(&self) -> BoxFuture<'_, Stats>;

    /// The dead letters, oldest first.
    fn dead_letters(&self) -> BoxFuture<'_, Vec<DeadLetter>>;

    /// Moves a dead job back to its lane with its delivery count reset.
    /// Returns `false` if the id is not in the dead letters.
    fn redrive<'a>(&'a self, id: &'a str) -> BoxFuture<'a, bool>;

    /// Records that `worker` is alive (it counts as alive for `ttl`).
    fn heartbeat<'a>(&'a self, worker: &'a str, ttl: Duration) -> BoxFuture<'a, ()>;

    /// Asks the fleet's rate limiter for one request of `tokens` tokens.
    /// Returns zero when granted (and charged), else how long to wait
    /// before asking again. A pause set by [`pause`](Queue::pause) is
    /// waited out first.
    fn acquire<'a>(&'a self, limit: &'a RateLimit, tokens: u64) -> BoxFuture<'a, Duration>;

    /// Pauses every worker sharing this queue's rate limiter for `for_`
    /// (a 429, or `anthropic-ratelimit-*-remaining: 0` until its reset).
    fn pause(&self, for_: Duration) -> BoxFuture<'_, ()>;

    /// Records the last rate-limit headroom seen in a response.
    fn set_headroom<'a>(&'a self, headroom: &'a Headroom) -> BoxFuture<'a, ()>;

    /// Takes or renews the coordinator's lease for `name`: returns whether
    /// `name` leads (only one coordinator per queue works at a time).
    fn lead<'a>(&'a self, name: &'a str, ttl: Duration) -> BoxFuture<'a, bool>;

    /// Moves up to `max` jobs routed to batches (and not yet in a group)
    /// into a new [`BatchGroup`], or returns `None` if there are none.
    fn form_batch(&self, max: usize) -> BoxFuture<'_, Option<BatchGroup>>;

    /// The groups not yet finished, oldest first.
    fn open_batches(&self) -> BoxFuture<'_, Vec<BatchGroup>>;

    /// Records the Message Batch ids a group went into.
    fn set_batch_ids<'a>(&'a self, group: &'a str, batch_ids: &'a [String]) -> BoxFuture<'a, ()>;

    /// Marks a group finished (every job has its result).
    fn finish_batch<'a>(&'a self, group: &'a str) -> BoxFuture<'a, ()>;
}

/// Waits until job `id` has a result (polling every `poll`), or `timeout`
/// passes (`Ok(None)`).
///
/// # Errors
///
/// The backend's errors.
///
/// # Cancellation
///
/// Dropping the future stops waiting; nothing changes in the queue.
pub async fn wait_result(
    queue: &dyn Queue,
    id: &str,
    poll: Duration,
    timeout: Duration,
) -> Result<Option<BatchResult>> {
    let end = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(r) = queue.result(id).await? {
            return Ok(Some(r));
        }
        if let Some(info) = queue.job(id).await?
            && info.state == JobState::Dead
        {
            return Ok(None);
        }
        if tokio::time::Instant::now() + poll > end {
            return Ok(None);
        }
        tokio::time::sleep(poll).await;
    }
}
