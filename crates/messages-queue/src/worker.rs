//! [`Worker`]: takes jobs, calls the API under the fleet's rate limit,
//! stores results, delivers callbacks, acknowledges.

use std::collections::HashMap;
use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::{FuturesUnordered, StreamExt};
use http::HeaderMap;
use messages_http::{Request, RequestOptions, Transport};
use messages_types::{ApiError, BatchResult, ErrorResponse, ErrorType, Message};

use crate::callback::Callbacks;
use crate::error::{Error, Kind, Result};
use crate::job::{CallbackState, CallbackStatus, Delivery, now_ms, parse_rfc3339};
use crate::queue::{Headroom, Queue, RateLimit};

/// What one [`Worker::run_until`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WorkerReport {
    /// Results this worker stored (first write).
    pub stored: u64,
    /// Results this worker computed that another worker had already stored
    /// (a job delivered twice); the stored one was kept.
    pub duplicates: u64,
    /// Deliveries that ended in a retryable error, left for a later try.
    pub retried: u64,
    /// Callbacks this worker delivered.
    pub callbacks_delivered: u64,
    /// Callbacks this worker gave up on.
    pub callbacks_failed: u64,
    /// Whether the run ended because `stop` completed.
    pub stopped: bool,
    /// The time from the first job taken to the last job finished (zero if
    /// none): divide the results by it for this worker's throughput.
    pub active: Duration,
}

/// Takes jobs from a [`Queue`] and runs them through `POST /v1/messages`.
///
/// - **Concurrency**: up to [`concurrency`](Worker::concurrency) jobs in
///   flight in this process; run more processes, on more machines, for more.
/// - **Errors**: a job whose request the API rejects (400 and other
///   non-retryable answers) gets its final `errored` result, like a batch.
///   A retryable failure (429, 5xx, 529 after the transport's retries, a
///   connection error or timeout) is recorded as the job's last error and
///   the job is taken again after a backoff (1 s doubling per delivery, up
///   to 60 s), until the queue's `max_deliveries` sends it to the dead
///   letters. A 401 (the key is bad) stops the worker with
///   [`Error::is_fatal`] and gives its jobs back untouched: every job would
///   fail the same way, so it does not burn the queue.
/// - **Rate limit**: every request first asks the queue's limiter
///   ([`Queue::acquire`]) for the configured [`RateLimit`], shared by every
///   worker of the queue. A 429 pauses the whole fleet
///   ([`pause_on_429`](Worker::pause_on_429)), and so does an
///   `anthropic-ratelimit-requests-remaining: 0` (until its
///   `anthropic-ratelimit-requests-reset` time); the `*-remaining` headers
///   are recorded for `msgs queue status`.
/// - **Order of a job's steps**: send, store the result (first write wins),
///   deliver the callback and record its state, acknowledge. A worker killed
///   between any two steps leaves the job to be taken again; a job whose
///   result is stored is not sent again, only its callback and
///   acknowledgement are redone.
/// - **Deadline**: a job taken after its deadline gets an `expired` result
///   without being sent.
#[derive(Clone)]
pub struct Worker {
    queue: Arc<dyn Queue>,
    transport: Transport,
    name: String,
    concurrency: usize,
    limit: RateLimit,
    callbacks: Option<Callbacks>,
    stop_grace: Duration,
    poll: Duration,
    touch_every: Duration,
    pause_on_429: Duration,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("queue", &self.queue)
            .field("name", &self.name)
            .field("concurrency", &self.concurrency)
            .field("limit", &self.limit)
            .field("callbacks", &self.callbacks)
            .finish_non_exhaustive()
    }
}

enum Step {
    Stored {
        won: bool,
        callback: CallbackStatus,
    },
    Retried,
    /// Lost the result race while the winner's callback is pending: left
    /// unacknowledged for whoever holds the job next.
    Left,
    Fatal(Error),
}

// One per request, moved once: boxing would add an allocation per result.
#[allow(clippy::large_enum_variant)]
enum Sent {
    Final(BatchResult),
    Retry { error: String, pause: bool },
    Fatal(Error),
}

type Task = Pin<Box<dyn Future<Output = (Delivery, Step)> + Send>>;

impl Worker {
    /// A worker on `queue` sending through `transport`, with concurrency 8,
    /// no rate limit of its own and no callback secret.
    pub fn new(queue: Arc<dyn Queue>, transport: Transport) -> Worker {
        let host = std::fs::read_to_string("/etc/hostname")
            .ok()
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "worker".to_owned());
        Worker {
            queue,
            transport,
            name: format!("{host}-{}-{}", std::process::id(), now_ms() % 100_000),
            concurrency: 8,
            limit: RateLimit::default(),
            callbacks: None,
            stop_grace: Duration::ZERO,
            poll: Duration::from_millis(50),
            touch_every: Duration::from_secs(10),
            pause_on_429: Duration::from_secs(2),
        }
    }

    /// The consumer name (unique per worker). Default is
    /// `HOSTNAME-PID-N`.
    pub fn name(mut self, name: impl Into<String>) -> Worker {
        self.name = name.into();
        self
    }

    /// Jobs in flight in this worker (at least 1). Default is 8.
    pub fn concurrency(mut self, n: usize) -> Worker {
        self.concurrency = n.max(1);
        self
    }

    /// The fleet's rate limit. Every worker of a queue should be given the
    /// same. Default is none (the API's headers and 429s still pause the
    /// fleet).
    pub fn rate_limit(mut self, limit: RateLimit) -> Worker {
        self.limit = limit;
        self
    }

    /// Sends callbacks with these settings and secret. Without it, a job
    /// with a callback URL has its callback recorded as failed ("no callback
    /// secret configured"); its result is stored as usual.
    pub fn callbacks(mut self, callbacks: Callbacks) -> Worker {
        self.callbacks = Some(callbacks);
        self
    }

    /// How long jobs in flight may finish once the worker is told to stop;
    /// those still running after it are given back to the queue. Default is
    /// zero.
    pub fn stop_grace(mut self, grace: Duration) -> Worker {
        self.stop_grace = grace;
        self
    }

    /// How often an idle worker asks for jobs. Default is 50 ms.
    pub fn poll(mut self, every: Duration) -> Worker {
        self.poll = every;
        self
    }

    /// How often the worker renews its jobs' leases and its heartbeat:
    /// keep it well under the queue's visibility timeout (a third).
    /// Default is 10 s.
    pub fn touch_every(mut self, every: Duration) -> Worker {
        self.touch_every = every.max(Duration::from_millis(10));
        self
    }

    /// How long a 429 pauses the fleet. Default is 2 s.
    pub fn pause_on_429(mut self, pause: Duration) -> Worker {
        self.pause_on_429 = pause;
        self
    }

    /// Runs until `stop` completes (or a fatal error).
    ///
    /// When `stop` completes, no job is taken any more; the jobs in flight
    /// get the [`stop_grace`](Worker::stop_grace) to finish, and the rest
    /// are given back to the queue ([`Queue::release`]) for another worker.
    /// Queue errors (Redis restarting) are retried with a backoff, not
    /// returned.
    ///
    /// # Errors
    ///
    /// [`Error::is_fatal`] when the API refuses the credentials (401): the
    /// worker's jobs are given back first.
    ///
    /// # Cancellation
    ///
    /// Dropping the future abandons the jobs in flight without giving them
    /// back: they are taken again after the visibility timeout.
    pub async fn run_until(&self, stop: impl Future<Output = ()>) -> Result<WorkerReport> {
        let mut report = WorkerReport::default();
        let mut tasks: FuturesUnordered<Task> = FuturesUnordered::new();
        let mut held: HashMap<String, Delivery> = HashMap::new();
        let mut stop = pin!(stop);
        let grace = tokio::time::sleep(Duration::ZERO);
        let mut grace = pin!(grace);
        let mut tick = tokio::time::interval(self.touch_every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let ttl = self.touch_every * 3;
        let mut queue_backoff = Duration::from_millis(100);
        let mut first_taken: Option<tokio::time::Instant> = None;
        loop {
            let mut idle = false;
            if !report.stopped && tasks.len() < self.concurrency {
                let want = self.concurrency - tasks.len();
                match self.queue.take(&self.name, want).await {
                    Ok(ds) => {
                        queue_backoff = Duration::from_millis(100);
                        idle = ds.len() < want;
                        if !ds.is_empty() && first_taken.is_none() {
                            first_taken = Some(tokio::time::Instant::now());
                        }
                        for d in ds {
                            held.insert(d.job.id.clone(), d.clone());
                            tasks.push(Box::pin(self.clone().process(d)));
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "taking jobs failed; retrying");
                        idle = true;
                        tokio::time::sleep(queue_backoff).await;
                        queue_backoff = (queue_backoff * 2).min(Duration::from_secs(2));
                    }
                }
            }
            if report.stopped && tasks.is_empty() {
                break;
            }
            tokio::select! {
                biased;
                () = &mut stop, if !report.stopped => {
                    report.stopped = true;
                    grace.as_mut().reset(tokio::time::Instant::now() + self.stop_grace);
                }
                () = &mut grace, if report.stopped => break,
                Some((d, step)) = tasks.next() => {
                    held.remove(&d.job.id);
                    if let Some(t) = first_taken {
                        report.active = t.elapsed();
                    }
                    match step {
                        Step::Stored { won, callback } => {
                            if won { report.stored += 1 } else { report.duplicates += 1 }
                            match callback {
                                CallbackStatus::Delivered => report.callbacks_delivered += 1,
                                CallbackStatus::Failed => report.callbacks_failed += 1,
                                _ => {}
                            }
                        }
                        Step::Retried => report.retried += 1,
                        Step::Left => report.duplicates += 1,
                        Step::Fatal(e) => {
                            drop(tasks);
                            held.insert(d.job.id.clone(), d);
                            self.give_back(&held).await;
                            let _ = self.queue.heartbeat(&self.name, Duration::ZERO).await;
                            return Err(e);
                        }
                    }
                }
                _ = tick.tick() => {
                    let _ = self.queue.heartbeat(&self.name, ttl).await;
                    let ds: Vec<Delivery> = held.values().cloned().collect();
                    if let Err(e) = self.queue.touch(&self.name, &ds).await {
                        tracing::warn!(error = %e, "renewing leases failed");
                    }
                }
                () = tokio::time::sleep(self.poll), if idle && !report.stopped => {}
            }
        }
        drop(tasks);
        self.give_back(&held).await;
        // No longer alive for `msgs queue status`.
        let _ = self.queue.heartbeat(&self.name, Duration::ZERO).await;
        Ok(report)
    }

    async fn give_back(&self, held: &HashMap<String, Delivery>) {
        for d in held.values() {
            if let Err(e) = self.queue.release(&self.name, d).await {
                tracing::warn!(job = %d.job.id, error = %e, "giving a job back failed; it returns after the visibility timeout");
            }
        }
    }

    /// Retries a queue operation until it succeeds (Redis restarting).
    async fn retry<T, F, Fut>(&self, what: &str, mut f: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let mut delay = Duration::from_millis(50);
        loop {
            match f().await {
                Ok(v) => return v,
                Err(e) => {
                    tracing::warn!(error = %e, "{what} failed; retrying");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(2));
                }
            }
        }
    }

    async fn process(self, d: Delivery) -> (Delivery, Step) {
        let q = self.queue.clone();
        let id = d.job.id.clone();
        let mut result = None;
        if !d.done {
            let expired = d.job.deadline.is_some_and(|dl| now_ms() / 1000 > dl);
            let r = if expired {
                BatchResult::Expired
            } else {
                match self.send(&d).await {
                    Sent::Final(r) => r,
                    Sent::Retry { error, pause } => {
                        if pause {
                            let _ = q.pause(self.pause_on_429).await;
                        }
                        let backoff =
                            Duration::from_secs(1 << d.deliveries.clamp(1, 7).saturating_sub(1))
                                .min(Duration::from_secs(60));
                        self.retry("recording a failure", || {
                            q.fail(&self.name, &d, &error, backoff)
                        })
                        .await;
                        return (d, Step::Retried);
                    }
                    Sent::Fatal(e) => return (d, Step::Fatal(e)),
                }
            };
            result = Some(r);
        }
        if d.job.callback.is_none() {
            // Nothing to deliver between the two: store and acknowledge in
            // one step (one round trip on Redis).
            let won = match &result {
                Some(r) => {
                    self.retry("storing a result", || q.store_and_ack(&d, r))
                        .await
                }
                None => {
                    self.retry("acknowledging", || q.ack(&d)).await;
                    false
                }
            };
            let callback = CallbackStatus::None;
            return (d, Step::Stored { won, callback });
        }
        let won = match &result {
            Some(r) => {
                self.retry("storing a result", || q.store_result(&id, r))
                    .await
            }
            None => false,
        };
        let mut callback = CallbackStatus::None;
        {
            // The result this worker just stored set the callback pending
            // with no attempts: no need to read it back.
            let info = if won {
                None
            } else {
                self.retry("reading a job", || q.job(&id)).await
            };
            let status = if won {
                CallbackStatus::Pending
            } else {
                info.as_ref()
                    .map_or(CallbackStatus::None, |i| i.callback.status)
            };
            if status == CallbackStatus::Pending && (won || d.done) {
                let stored = match (won, result) {
                    (true, Some(r)) => Some(r),
                    _ => self.retry("reading a result", || q.result(&id)).await,
                };
                if let Some(stored) = stored {
                    let prior = info.map_or(0, |i| i.callback.attempts);
                    let state =
                        deliver_callback(self.callbacks.as_ref(), &d.job, &stored, prior).await;
                    self.retry("recording a callback", || q.set_callback(&id, &state))
                        .await;
                    callback = state.status;
                }
            } else if status == CallbackStatus::Pending {
                // Another worker stored the result and owns the callback.
                return (d, Step::Left);
            }
        }
        self.retry("acknowledging", || q.ack(&d)).await;
        (d, Step::Stored { won, callback })
    }

    async fn send(&self, d: &Delivery) -> Sent {
        let params = &d.job.request;
        let body = match serde_json::to_vec(params) {
            Ok(b) => b,
            Err(e) => {
                let error = ApiError::new(ErrorType::InvalidRequest, e.to_string());
                let error = ErrorResponse::new(error);
                return Sent::Final(BatchResult::Errored { error });
            }
        };
        let tokens = body.len() as u64 / 4 + u64::from(params.max_tokens);
        loop {
            let wait = self
                .retry("rate limiting", || self.queue.acquire(&self.limit, tokens))
                .await;
            if wait.is_zero() {
                break;
            }
            tokio::time::sleep(wait).await;
        }
        let req = Request::post("/v1/messages")
            .with_body(body)
            .with_options(RequestOptions::new().max_tokens(u64::from(params.max_tokens)));
        let outcome = async {
            let resp = self.transport.send(req).await?;
            self.feed_headers(resp.headers()).await;
            resp.json::<Message>().await
        };
        match outcome.await {
            Ok(message) => Sent::Final(BatchResult::Succeeded { message }),
            Err(e) => classify(e),
        }
    }

    /// Feeds `anthropic-ratelimit-*` headers to the fleet's shared state.
    async fn feed_headers(&self, headers: &HeaderMap) {
        let num = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        let headroom = Headroom {
            requests_remaining: num("anthropic-ratelimit-requests-remaining"),
            tokens_remaining: num("anthropic-ratelimit-tokens-remaining"),
        };
        if headroom == Headroom::default() {
            return;
        }
        let _ = self.queue.set_headroom(&headroom).await;
        for (remaining, reset) in [
            (
                headroom.requests_remaining,
                "anthropic-ratelimit-requests-reset",
            ),
            (
                headroom.tokens_remaining,
                "anthropic-ratelimit-tokens-reset",
            ),
        ] {
            if remaining != Some(0) {
                continue;
            }
            let until = headers
                .get(reset)
                .and_then(|v| v.to_str().ok())
                .and_then(parse_rfc3339);
            let now = now_ms() / 1000;
            let pause = match until {
                Some(t) if t > now => Duration::from_secs((t - now).min(60)),
                _ => Duration::from_secs(1),
            };
            let _ = self.queue.pause(pause).await;
        }
    }
}

/// POSTs a job's callback (or records why it cannot be).
pub(crate) async fn deliver_callback(
    callbacks: Option<&Callbacks>,
    job: &crate::job::Job,
    result: &BatchResult,
    prior: u32,
) -> CallbackState {
    match callbacks {
        Some(cb) => cb.deliver(job, result, prior).await,
        None => CallbackState {
            status: CallbackStatus::Failed,
            attempts: prior,
            last_error: Some("no callback secret configured on the worker".to_owned()),
        },
    }
}

fn classify(e: messages_http::Error) -> Sent {
    let status = e.status().map(|s| s.as_u16());
    if status == Some(401) {
        return Sent::Fatal(
            Error::new(
                Kind::Fatal,
                format!("the API refused the credentials (401): stopping the worker; jobs are left in the queue: {e}"),
            )
            .with_source(e),
        );
    }
    let pause = status == Some(429);
    if let Some(result) = messages_batch::errored_result(&e) {
        if let BatchResult::Errored { error } = &result
            && error.error.kind.is_retryable()
        {
            return Sent::Retry {
                error: format!("{}: {}", error.error.kind.as_str(), error.error.message),
                pause,
            };
        }
        return Sent::Final(result);
    }
    // Recorded as `KIND: MESSAGE`, like the API's errors, so that the
    // queue's totals count retries by kind (`Stats::retries`).
    let kind = if e.is_timeout() {
        "timeout_error"
    } else if e.is_connect() {
        "connection_error"
    } else {
        "transport_error"
    };
    Sent::Retry {
        error: format!("{kind}: {e}"),
        pause: false,
    }
}
