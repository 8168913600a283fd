//! [`LocalRunner`]: a job through `POST /v1/messages`, with a checkpoint.

use std::collections::{HashMap, VecDeque};
use std::fs::{File, OpenOptions, TryLockError};
use std::future::Future;
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::pin::pin;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use futures_util::stream::{FuturesUnordered, StreamExt};
use messages_http::{Request, RequestOptions, Transport};
use messages_types::{
    ApiError, BatchResult, BatchResultLine, ErrorResponse, ErrorType, Message, MessageRequest,
};
use tokio::sync::watch;

use crate::atomic::TempFile;
use crate::decoder::{DEFAULT_MAX_LINE_LEN, ResultsDecoder, ResultsReader};
use crate::error::{Error, Kind, Result};
use crate::fingerprint::{Fingerprint, Stamp, read_stamp};
use crate::job::BatchJob;
use crate::pace::{Pacer, format_rfc3339};
use crate::summary::Summary;
use crate::wait::{Progress, Reporter};

/// The default number of requests in flight.
pub const DEFAULT_CONCURRENCY: usize = 5;

/// The default number of run-wide errors that stop a run (see
/// [`LocalRunner::run_wide_errors`]).
pub const DEFAULT_RUN_WIDE_ERRORS: usize = 3;

/// The default longest `retry-after` a run waits for (see
/// [`LocalRunner::max_wait`]): 60 s.
pub const DEFAULT_MAX_WAIT: Duration = Duration::from_secs(60);

/// How often one request may be refused for rate (429) or overload (529)
/// in a run before that answer becomes its result (a retryable error, sent
/// again by the next run).
const MAX_THROTTLES: u32 = 10;

/// The checkpoint format this version writes: 2.
///
/// A checkpoint is JSONL, one result per line, in the order results
/// arrived. Each line is a batch results line (`{"custom_id", "result"}`,
/// as `GET /v1/messages/batches/{id}/results` returns them) with one more
/// field, last: `"request_fingerprint": "fnv1a64:<16 hex digits>"`, a hash
/// of the canonical JSON of the request params that produced the result
/// (keys sorted, no whitespace). A result counts for a request only when its
/// fingerprint matches the request as it is now.
///
/// Format 1 (before fingerprints) had no `request_fingerprint`. Its lines
/// are read, but they cannot be checked against the job, so they are
/// treated like the results of changed requests: a run refuses them (with
/// [`Error::is_changed`]) unless [`LocalRunner::rerun_changed`] is on, and
/// then sends those requests again. A fingerprint of an unknown algorithm
/// (a newer format) is refused with [`Error::is_checkpoint`].
pub const CHECKPOINT_FORMAT: u32 = 2;

/// The largest request body the Messages endpoint accepts (32 MB): a 413
/// for a smaller request is not about the request.
const MAX_MESSAGES_BODY: usize = 32 * 1000 * 1000;

/// Runs a [`BatchJob`] through the Messages endpoint (`POST /v1/messages`,
/// non-streaming), a few requests at a time, at full price but with results
/// in minutes; the results have the same type as the batch path
/// ([`BatchResultLine`]).
///
/// **Checkpoint.** Every result is appended to a JSONL checkpoint file (the
/// batch results format, one line per `custom_id`) and written to the file
/// before it is acknowledged: counted, reported, or considered done. A run
/// that is killed at any moment (even `kill -9`) and started again with the
/// same job and checkpoint sends only the requests without a line, so every
/// `custom_id` ends up with exactly one result and no completed request is
/// sent twice. A torn last line (a kill in the middle of a write) is cut off
/// and its request sent again. By default lines are handed to the operating
/// system with one `write` each, which survives a killed process; set
/// [`fsync`](LocalRunner::fsync) to also survive a power loss.
///
/// One runner at a time: the checkpoint is locked (an advisory lock, as
/// `flock`) for the whole run, and a second runner on the same file gets
/// [`Error::is_checkpoint`] at once instead of writing beside the first.
///
/// **Errors as results.** An API error answer (after the transport's
/// retries: 4xx, and 429/5xx/529 once retries are exhausted) is the
/// request's result, `errored` with the API's error body, as in a batch.
/// A failure with no API answer (connection refused, timeouts) stops the run
/// with an error; everything finished before it is in the checkpoint.
///
/// **Run-wide errors stop the run.** Some answers say that every request
/// will fail: `authentication_error`, `permission_error`, `billing_error`, a
/// `not_found_error` (an unknown model) and a `request_too_large` for a
/// request under the API's 32 MB limit (a proxy's limit). They are never
/// recorded as results while they may be run-wide: the run stops starting
/// requests at the [`run_wide_errors`](LocalRunner::run_wide_errors)th one
/// (3 by default) and returns [`Error::is_run_wide`]; the next run sends
/// those requests again. To keep a wrong key from costing more than that,
/// the first request is sent alone and the others start once one request
/// got another answer. When the run finishes with fewer of them, and other
/// requests were answered, a `not_found_error` or `request_too_large` is one
/// bad request and is recorded as its result; an authentication, permission
/// or billing error never is.
///
/// **Requests the API would refuse are not sent.** A request with a field
/// the transport's `anthropic-version` rejects (sampling parameters under
/// `2026-10-21`, ...) or a model retired today gets an errored
/// `invalid_request_error` result naming the field or the retirement date,
/// without a request: the checks of the umbrella client's `create`.
///
/// **Changed requests are not served from the checkpoint.** Each checkpoint
/// line carries a fingerprint of the request that produced it (see
/// [`CHECKPOINT_FORMAT`]). When the job's request for a `custom_id` has
/// changed since (an edited prompt or `max_tokens`), the run refuses with
/// [`Error::is_changed`], naming how many and the first ids, unless
/// [`rerun_changed`](LocalRunner::rerun_changed) is on: then it sends them
/// again, and only the new results count.
///
/// **Retryable errors are retried by the next run.** A result that is an
/// error which sending the same request again may avoid
/// ([`ErrorType::is_retryable`]: rate limit, overloaded, API error,
/// timeout) stays in the checkpoint, but the next run sends that request
/// again and appends its new result; the request's result is then the new
/// one (see [`write_output`]). Turn this off with
/// [`retry_errored`](LocalRunner::retry_errored).
///
/// **Rate limits and overload are handled for the whole run.** The runner
/// sends each request with the transport's retries off and retries itself:
///
/// - a 429 (rate limit) or 529 (overloaded) pauses every start for the
///   `retry-after` the API asked for (else a backoff of 0.5 s doubling to
///   8 s), halves the number of requests in flight, and puts the request
///   back in the queue; each success then grows the window by about one
///   request per round trip, up to [`concurrency`](LocalRunner::concurrency)
///   (AIMD);
/// - the `anthropic-ratelimit-{requests,tokens}-{limit,remaining,reset}`
///   headers of every answer are read: once the requests or tokens left
///   (less what was started since) run out, requests start at 95% of the
///   rate at which the limit refills, so the API rarely has to refuse one;
/// - a `retry-after` longer than [`max_wait`](LocalRunner::max_wait) (a
///   usage cap that resets in hours) stops the run with
///   [`Error::is_rate_limited`], whose message says when the limit resets:
///   no request starts after it, those in flight finish and are saved, and
///   nothing is recorded for the refused requests;
/// - other retryable failures (408, 409, 5xx, connection errors, timeouts;
///   `x-should-retry` is obeyed) are retried per request,
///   [`retries`](LocalRunner::retries) times, with the SDKs' backoff.
///
/// # Examples
///
/// ```no_run
/// # async fn run(job: messages_batch::BatchJob) -> Result<(), messages_batch::Error> {
/// use messages_batch::LocalRunner;
///
/// let runner = LocalRunner::new(messages_http::Transport::from_env()?)
///     .concurrency(8)
///     .on_progress(|p| eprintln!("{p}"));
/// let stop = async { let _ = tokio::signal::ctrl_c().await; };
/// let report = runner.run_until(&job, "job.checkpoint.jsonl", stop).await?;
/// if report.is_complete() {
///     messages_batch::write_output(&job, "job.checkpoint.jsonl", "results.jsonl")?;
/// }
/// # Ok(())
/// # }
/// # let _ = run;
/// ```
#[derive(Debug, Clone)]
pub struct LocalRunner {
    transport: Transport,
    concurrency: usize,
    fsync: bool,
    retry_errored: bool,
    rerun_changed: bool,
    run_wide_errors: usize,
    retries: u32,
    max_wait: Duration,
    stop_grace: Duration,
    reporter: Reporter,
    max_line_len: usize,
}

/// What a [`LocalRunner`] run did.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RunReport {
    /// Requests in the job.
    pub total: u64,
    /// All results in the checkpoint, from this run and earlier ones.
    pub summary: Summary,
    /// Results found in the checkpoint when the run started, not counting
    /// the retryable errors sent again (`retried`).
    pub resumed: u64,
    /// Requests whose result in the checkpoint was a retryable error, sent
    /// again by this run.
    pub retried: u64,
    /// Requests whose result in the checkpoint was for other params (the
    /// request changed since, or format 1 had no fingerprint), sent again by
    /// this run ([`LocalRunner::rerun_changed`]).
    pub changed: u64,
    /// Requests this run sent and finished (acknowledged).
    pub sent: u64,
    /// Whether the run was stopped before every request had a result.
    pub stopped: bool,
}

impl RunReport {
    /// Whether every request of the job has a result in the checkpoint.
    pub fn is_complete(&self) -> bool {
        self.summary.total() == self.total
    }
}

// One outcome per finished request, moved once: boxing would add an
// allocation per result.
#[allow(clippy::large_enum_variant)]
enum Outcome {
    Result(BatchResult),
    /// An error that may fail every request (see "Run-wide errors").
    RunWide(BatchResult),
    /// A 429 or 529: the wait it asked for, and the error as a result.
    Throttled {
        wait: Option<Duration>,
        result: BatchResult,
    },
    Fatal(messages_http::Error),
}

/// A finished request: its index in the job, its start number, what
/// happened, and the answer's headers.
struct Sent {
    index: usize,
    seq: u64,
    outcome: Outcome,
    headers: Option<http::HeaderMap>,
}

impl LocalRunner {
    /// A runner over `transport` with [`DEFAULT_CONCURRENCY`] requests in
    /// flight.
    pub fn new(transport: Transport) -> LocalRunner {
        LocalRunner {
            transport,
            concurrency: DEFAULT_CONCURRENCY,
            fsync: false,
            retry_errored: true,
            rerun_changed: false,
            run_wide_errors: DEFAULT_RUN_WIDE_ERRORS,
            retries: messages_http::DEFAULT_MAX_RETRIES,
            max_wait: DEFAULT_MAX_WAIT,
            stop_grace: Duration::ZERO,
            reporter: Reporter::default(),
            max_line_len: DEFAULT_MAX_LINE_LEN,
        }
    }

    /// The longest checkpoint line, in bytes: one limit for what a run
    /// writes and what it reads back, so a checkpoint this runner wrote is
    /// always readable by it. A reply larger than this is not read past the
    /// limit (memory stays bounded) and a result whose line would be longer
    /// is recorded as an `errored` result of type `result_too_large` that
    /// says so; the request is not sent again. Default is
    /// [`DEFAULT_MAX_LINE_LEN`] (64 MiB).
    ///
    /// Raise it to read a checkpoint with longer lines (the error reading
    /// one says so), and use the same value for
    /// [`write_output`](LocalRunner::write_output).
    pub fn max_line_len(mut self, bytes: usize) -> LocalRunner {
        self.max_line_len = bytes;
        self
    }

    /// The number of requests in flight (at least 1). Default is
    /// [`DEFAULT_CONCURRENCY`] (5). The transport's own concurrency limit,
    /// if lower, applies too.
    pub fn concurrency(mut self, n: usize) -> LocalRunner {
        self.concurrency = n.max(1);
        self
    }

    /// Whether each checkpoint line is also flushed to the disk
    /// (`fdatasync`) before it is acknowledged: slower, survives a power
    /// loss. Default is off (a killed process loses nothing either way).
    pub fn fsync(mut self, on: bool) -> LocalRunner {
        self.fsync = on;
        self
    }

    /// Whether a run sends again the requests whose result in the
    /// checkpoint is a retryable error ([`ErrorType::is_retryable`]).
    /// Default is on. Off, every result is final, as in a batch.
    pub fn retry_errored(mut self, on: bool) -> LocalRunner {
        self.retry_errored = on;
        self
    }

    /// Whether a run sends again the requests whose result in the checkpoint
    /// was produced by other params (the request was edited since, or the
    /// line has no fingerprint: format 1). Default is off: such a run fails
    /// with [`Error::is_changed`] before sending anything, so a stale result
    /// is never served silently.
    pub fn rerun_changed(mut self, on: bool) -> LocalRunner {
        self.rerun_changed = on;
        self
    }

    /// How many run-wide errors (authentication, permission, billing, an
    /// unknown model, a 413 under the API's limit) stop a run (at least 1).
    /// Default is [`DEFAULT_RUN_WIDE_ERRORS`] (3): a single bad request does
    /// not stop a job, a wrong key costs at most that many requests.
    pub fn run_wide_errors(mut self, n: usize) -> LocalRunner {
        self.run_wide_errors = n.max(1);
        self
    }

    /// How often a request is retried after a retryable failure other than
    /// 429/529 (408, 409, 5xx, connection errors, timeouts), with the
    /// official SDKs' backoff. Default is 2, as the transport's. The
    /// transport's own retries are off for the runner's requests.
    pub fn retries(mut self, n: u32) -> LocalRunner {
        self.retries = n;
        self
    }

    /// The longest `retry-after` the run waits for. A 429 or 529 that asks
    /// for more stops the run with [`Error::is_rate_limited`] (its message
    /// says when the limit resets). Default is [`DEFAULT_MAX_WAIT`] (60 s).
    pub fn max_wait(mut self, wait: Duration) -> LocalRunner {
        self.max_wait = wait;
        self
    }

    /// How long the requests in flight may still finish once a run is told
    /// to stop (see [`run_until`](LocalRunner::run_until)). Their results
    /// are saved like any other, so requests already paid for are not lost
    /// to a Ctrl-C. Default is zero: they are abandoned at once.
    pub fn stop_grace(mut self, grace: Duration) -> LocalRunner {
        self.stop_grace = grace;
        self
    }

    /// Calls `f` with the [`Progress`] once the checkpoint is loaded and
    /// after every acknowledged result. It runs on the running task: keep it
    /// short.
    pub fn on_progress(mut self, f: impl Fn(&Progress) + Send + Sync + 'static) -> LocalRunner {
        self.reporter.set_callback(f);
        self
    }

    /// A watch channel of the same progress as
    /// [`on_progress`](LocalRunner::on_progress).
    pub fn watch(&mut self) -> watch::Receiver<Progress> {
        self.reporter.subscribe()
    }

    /// Runs the job to completion (see [`run_until`](LocalRunner::run_until)).
    ///
    /// # Errors
    ///
    /// As [`run_until`](LocalRunner::run_until).
    pub async fn run(&self, job: &BatchJob, checkpoint: impl AsRef<Path>) -> Result<RunReport> {
        self.run_until(job, checkpoint, std::future::pending())
            .await
    }

    /// Runs the job, resuming from `checkpoint` (created if missing), until
    /// every request has a result or `stop` completes.
    ///
    /// When `stop` completes, no new request is started. The requests in
    /// flight get the [`stop_grace`](LocalRunner::stop_grace) period to
    /// finish (their results are saved); those still running after it are
    /// abandoned (their connections closed): they have no line in the
    /// checkpoint, so the next run sends them again. The report then has
    /// `stopped: true`.
    ///
    /// The checkpoint is written with small synchronous appends on the
    /// running task (one `write` per result).
    ///
    /// # Errors
    ///
    /// - [`Error::is_checkpoint`]: another runner holds the checkpoint, a
    ///   complete checkpoint line is not a result, or names a `custom_id`
    ///   the job does not have (the file is left untouched);
    /// - [`Error::is_io`]: the checkpoint cannot be read or written;
    /// - [`Error::is_http`]: a request failed without an API answer
    ///   (connection, timeout) after the transport's retries. Results
    ///   finished before are in the checkpoint; run again to resume;
    /// - [`Error::is_changed`]: the checkpoint holds results of requests
    ///   that have changed since (see
    ///   [`rerun_changed`](LocalRunner::rerun_changed)); nothing was sent;
    /// - [`Error::is_run_wide`]: an answer said that every request would
    ///   fail (a wrong key, no credit, an unknown model...). The requests
    ///   that got it have no result; fix the cause and run again;
    /// - [`Error::is_rate_limited`]: a 429 or 529 asked to wait longer than
    ///   [`max_wait`](LocalRunner::max_wait); no request starts after it,
    ///   those in flight finish and are saved, then the run returns.
    ///
    /// # Cancellation
    ///
    /// Dropping the future abandons the requests in flight at once (no
    /// grace period); every acknowledged result is already in the
    /// checkpoint.
    pub async fn run_until(
        &self,
        job: &BatchJob,
        checkpoint: impl AsRef<Path>,
        stop: impl Future<Output = ()>,
    ) -> Result<RunReport> {
        let path = checkpoint.as_ref();
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| Error::io(path, "opening checkpoint", e))?;
        // Held until `file` is dropped, at the end of the run.
        file.try_lock().map_err(|e| match e {
            TryLockError::WouldBlock => Error::new(
                Kind::Checkpoint,
                format!("checkpoint {} is in use by another runner", path.display()),
            )
            .with_path(path),
            TryLockError::Error(e) => Error::io(path, "locking checkpoint", e),
        })?;
        let loaded = load_checkpoint(job, path, self.retry_errored, self.max_line_len)?;
        if !loaded.changed.is_empty() && !self.rerun_changed {
            return Err(changed_error(job, path, &loaded.changed));
        }
        let mut report = RunReport {
            total: job.len() as u64,
            summary: loaded.summary,
            resumed: loaded.done_count,
            retried: loaded.retrying,
            changed: loaded.changed.len() as u64,
            sent: 0,
            stopped: false,
        };
        let mut progress = Progress {
            total: report.total,
            processing: report.total - loaded.done_count,
            succeeded: report.summary.succeeded,
            errored: report.summary.errored_total(),
            canceled: report.summary.canceled,
            expired: report.summary.expired,
            ended: loaded.done_count == report.total,
        };
        self.reporter.report(&progress);

        let mut queue: VecDeque<usize> = (0..job.len()).filter(|&i| !loaded.done[i]).collect();
        let mut in_flight = FuturesUnordered::new();
        let mut stop = pin!(stop);
        // The end of the grace period, once stopping.
        let grace = tokio::time::sleep(Duration::ZERO);
        let mut grace = pin!(grace);
        // When the pacer lets the next request start.
        let pace_timer = tokio::time::sleep(Duration::ZERO);
        let mut pace_timer = pin!(pace_timer);
        let mut writer = CheckpointWriter {
            file: &mut file,
            path,
            fsync: self.fsync,
            max_line_len: self.max_line_len,
            buf: Vec::new(),
        };
        let mut pacer = Pacer::new(self.concurrency);
        // A request the API version or the model table refuses is not
        // sent: it gets an errored result at once (see `preflight`).
        let version = self.transport.anthropic_version().to_owned();
        let today = crate::preflight::today();
        // The next request, serialized (its size is its token cost).
        let mut next: Option<(usize, Body)> = None;
        // 429/529 answers per request, and in a row for the run.
        let mut throttles: HashMap<usize, u32> = HashMap::new();
        let mut in_a_row = 0u32;
        // Run-wide errors seen (not recorded), whether any request got
        // another answer in this run, and whether the run-wide errors
        // reached the limit (no more requests start).
        let mut held: Vec<(usize, BatchResult)> = Vec::new();
        let mut proven = false;
        let mut halted = false;
        // A retry-after too long to wait for: no more requests start, those
        // in flight finish (their results are paid for), then this error.
        let mut too_long: Option<(BatchResult, Duration)> = None;
        loop {
            // Until one answer proves that requests can succeed, one at a
            // time: a wrong key costs `run_wide_errors` requests, not a
            // whole wave.
            let limit = if proven { pacer.limit() } else { 1 };
            let mut paced = false;
            while !report.stopped && !halted && too_long.is_none() && in_flight.len() < limit {
                if next.is_none() {
                    let Some(i) = queue.pop_front() else { break };
                    let params = &job.requests()[i].params;
                    let mut body = Body::of(params);
                    if let Some(why) = crate::preflight::refusal(params, &version, &today) {
                        body.bytes = Err(why);
                    }
                    next = Some((i, body));
                }
                let Some((_, body)) = &next else { break };
                let now = Instant::now();
                if let Some(at) = pacer.ready_at(body.tokens, now) {
                    pace_timer.as_mut().reset(at.into());
                    paced = true;
                    break;
                }
                let Some((i, body)) = next.take() else { break };
                let seq = pacer.start(body.tokens);
                in_flight.push(self.send(i, seq, body));
            }
            if in_flight.is_empty() && !paced {
                break;
            }
            let sent = tokio::select! {
                biased;
                () = &mut stop, if !report.stopped => {
                    report.stopped = true;
                    if self.stop_grace.is_zero() {
                        break;
                    }
                    grace
                        .as_mut()
                        .reset(tokio::time::Instant::now() + self.stop_grace);
                    continue;
                }
                () = &mut grace, if report.stopped => break,
                () = &mut pace_timer, if paced => continue,
                Some(sent) = in_flight.next() => sent,
            };
            let Sent {
                index: i,
                seq,
                outcome,
                headers,
            } = sent;
            let result = match outcome {
                Outcome::Result(r) => {
                    let success = matches!(r, BatchResult::Succeeded { .. });
                    pacer.answered(seq, headers.as_ref(), success);
                    in_a_row = 0;
                    proven = true;
                    r
                }
                Outcome::RunWide(r) => {
                    pacer.answered(seq, headers.as_ref(), false);
                    held.push((i, r));
                    halted |= held.len() >= self.run_wide_errors;
                    continue;
                }
                Outcome::Throttled { wait, result } => {
                    in_a_row += 1;
                    let wait = wait.unwrap_or_else(|| messages_http::retry_delay(in_a_row - 1));
                    if wait > self.max_wait || too_long.is_some() {
                        // Not recorded: the next run sends it again.
                        too_long.get_or_insert((result, wait));
                        continue;
                    }
                    let n = throttles.entry(i).or_insert(0);
                    *n += 1;
                    if *n <= MAX_THROTTLES {
                        pacer.throttled(seq, wait, Instant::now());
                        queue.push_front(i);
                        continue;
                    }
                    pacer.answered(seq, headers.as_ref(), false);
                    result
                }
                Outcome::Fatal(e) => {
                    let id = &job.requests()[i].custom_id;
                    return Err(Error::new(
                        Kind::Http,
                        format!("request {id} failed without an API answer (results so far are in the checkpoint)"),
                    )
                    .with_custom_id(id.clone())
                    .with_source(e));
                }
            };
            let line = writer.append(job, i, result)?;
            // Acknowledged from here on.
            report.sent += 1;
            report.summary.add(&line);
            progress.processing -= 1;
            progress.succeeded = report.summary.succeeded;
            progress.errored = report.summary.errored_total();
            progress.ended = progress.processing == 0;
            self.reporter.report(&progress);
        }
        if let Some((result, wait)) = too_long {
            return Err(rate_limited_error(
                path,
                &result,
                wait,
                self.max_wait,
                report.summary.total(),
            ));
        }
        if held.is_empty() || report.stopped {
            // Held errors of a stopped run are sent again by the next run.
            return Ok(report);
        }
        let one_bad_request = !halted && proven && held.iter().all(|(_, r)| may_be_one_request(r));
        if !one_bad_request {
            return Err(run_wide_error(job, path, &held, report.summary.total()));
        }
        for (i, result) in held {
            let line = writer.append(job, i, result)?;
            report.sent += 1;
            report.summary.add(&line);
            progress.processing -= 1;
            progress.errored = report.summary.errored_total();
            progress.ended = progress.processing == 0;
            self.reporter.report(&progress);
        }
        Ok(report)
    }

    fn send(
        &self,
        index: usize,
        seq: u64,
        body: Body,
    ) -> impl Future<Output = Sent> + Send + 'static {
        let transport = self.transport.clone();
        let retries = self.retries;
        let max_line_len = self.max_line_len;
        async move {
            let done = |outcome, headers| Sent {
                index,
                seq,
                outcome,
                headers,
            };
            let bytes = match body.bytes {
                Ok(b) => b,
                Err(message) => {
                    let result = errored(ErrorType::InvalidRequest, message, None);
                    return done(Outcome::Result(result), None);
                }
            };
            let body_len = bytes.len();
            let mut attempt = 0;
            loop {
                let req = Request::post("/v1/messages")
                    .with_body(bytes.clone())
                    .with_options(
                        RequestOptions::new()
                            .max_tokens(body.max_tokens)
                            .max_retries(0)
                            .max_body_size(max_line_len),
                    );
                let (sent, headers) = match transport.send(req).await {
                    Ok(resp) => {
                        let headers = resp.headers().clone();
                        (resp.json::<Message>().await, Some(headers))
                    }
                    Err(e) => {
                        let headers = e.headers().cloned();
                        (Err(e), headers)
                    }
                };
                let e = match sent {
                    Ok(message) => {
                        return done(Outcome::Result(BatchResult::Succeeded { message }), headers);
                    }
                    Err(e) => e,
                };
                let status = e.status();
                let should_retry = headers
                    .as_ref()
                    .and_then(|h| h.get("x-should-retry"))
                    .map(|v| v.as_bytes() == b"true");
                if matches!(status.map(|s| s.as_u16()), Some(429 | 529))
                    && should_retry != Some(false)
                {
                    let wait = headers
                        .as_ref()
                        .and_then(|h| messages_http::requested_wait(h, SystemTime::now()));
                    let result = match classify(e, body_len, max_line_len) {
                        Outcome::Result(r) | Outcome::RunWide(r) => r,
                        other => return done(other, headers),
                    };
                    return done(Outcome::Throttled { wait, result }, headers);
                }
                let retryable = match (status, &headers) {
                    (Some(s), Some(h)) => messages_http::should_retry_status(s, h),
                    (Some(s), None) => matches!(s.as_u16(), 408 | 409) || s.as_u16() >= 500,
                    (None, _) => e.is_connect() || e.is_timeout() || e.is_request(),
                };
                if retryable && attempt < retries {
                    let wait = messages_http::retry_delay(attempt);
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                    continue;
                }
                return done(classify(e, body_len, max_line_len), headers);
            }
        }
    }
}

/// The errored result recorded for a result too large to keep.
fn too_large(message: String) -> BatchResult {
    errored(
        ErrorType::Unknown("result_too_large".to_owned()),
        message,
        None,
    )
}

/// A checkpoint reading error, with the way out of a line that is too long.
fn in_checkpoint(e: Error, path: &Path) -> Error {
    let long = e.is_line_too_long();
    let e = e.in_checkpoint(path);
    if long {
        e.with_note(
            "to read it, raise the line limit (LocalRunner::max_line_len; msgs run --max-line-bytes)",
        )
    } else {
        e
    }
}

/// A request, serialized once: its body (or why it does not serialize),
/// `max_tokens`, and the tokens it may use (input estimated at 4 bytes a
/// token, plus `max_tokens`), for pacing by the tokens limit.
struct Body {
    bytes: std::result::Result<Bytes, String>,
    max_tokens: u64,
    tokens: f64,
}

impl Body {
    fn of(params: &MessageRequest) -> Body {
        let bytes = serde_json::to_vec(params)
            .map(Bytes::from)
            .map_err(|e| e.to_string());
        let max_tokens = u64::from(params.max_tokens);
        let len = bytes.as_ref().map_or(0, Bytes::len);
        Body {
            bytes,
            max_tokens,
            tokens: (len / 4) as f64 + max_tokens as f64,
        }
    }
}

/// What a failed request's error means for the run.
fn classify(e: messages_http::Error, body_len: usize, max_line_len: usize) -> Outcome {
    if let Some(a) = e.api_error()
        && is_run_wide(&a.kind, body_len)
    {
        let error = match e.error_response() {
            Some(body) => body.clone(),
            None => ErrorResponse::new(ApiError::new(a.kind.clone(), e.to_string()))
                .with_request_id(e.request_id().map(str::to_owned)),
        };
        return Outcome::RunWide(BatchResult::Errored { error });
    }
    if let Some(result) = errored_result(&e) {
        return Outcome::Result(result);
    }
    if e.is_too_large() {
        return Outcome::Result(too_large(format!(
            "the reply was larger than the checkpoint line limit of {max_line_len} bytes and was not kept"
        )));
    }
    Outcome::Fatal(e)
}

/// The errored result a failed request records when the failure is an
/// answer: the API's error body as it came, or one built from the status
/// when the body was not the API's. A request the transport refused to send
/// (a non-streaming request too long to wait for) is an
/// `invalid_request_error`. `None` when nothing answered (connect, timeout,
/// I/O, a reply over a limit): the caller retries or stops.
///
/// The one mapping of a transport error to a result, for the local runner
/// and the queue's workers.
pub fn errored_result(e: &messages_http::Error) -> Option<BatchResult> {
    if let Some(body) = e.error_response() {
        return Some(BatchResult::Errored {
            error: body.clone(),
        });
    }
    let (kind, request_id) = if e.is_api() {
        let status = e.status().map_or(500, |s| s.as_u16());
        (
            ErrorType::from_status(status),
            e.request_id().map(str::to_owned),
        )
    } else if e.is_streaming_required() {
        (ErrorType::InvalidRequest, None)
    } else {
        return None;
    };
    Some(errored(kind, e.to_string(), request_id))
}

fn rate_limited_error(
    path: &Path,
    result: &BatchResult,
    wait: Duration,
    max_wait: Duration,
    saved: u64,
) -> Error {
    let what = match result {
        BatchResult::Errored { error } => {
            format!("{}: {}", error.error.kind.as_str(), error.error.message)
        }
        _ => String::from("rate limited"),
    };
    let reset = format_rfc3339(SystemTime::now() + wait);
    let secs = wait.as_secs();
    Error::new(
        Kind::RateLimited,
        format!(
            "stopped: the API asked to wait {}h{:02}m{:02}s ({what}), longer than the maximum wait of {} s; the limit resets at {reset}; {saved} result(s) are in checkpoint {}; run again after that",
            secs / 3600,
            (secs % 3600) / 60,
            secs % 60,
            max_wait.as_secs(),
            path.display()
        ),
    )
    .with_path(path)
}

fn errored(kind: ErrorType, message: String, request_id: Option<String>) -> BatchResult {
    BatchResult::Errored {
        error: ErrorResponse::new(ApiError::new(kind, message)).with_request_id(request_id),
    }
}

/// Whether an error answer may mean that every request of the run fails.
fn is_run_wide(kind: &ErrorType, body_len: usize) -> bool {
    match kind {
        ErrorType::Authentication
        | ErrorType::Permission
        | ErrorType::Billing
        | ErrorType::NotFound => true,
        ErrorType::RequestTooLarge => body_len < MAX_MESSAGES_BODY,
        _ => false,
    }
}

/// Whether a run-wide error may be the fault of one request alone (an
/// unknown model, a request too large): recorded as its result when other
/// requests of the run were answered.
fn may_be_one_request(result: &BatchResult) -> bool {
    matches!(result, BatchResult::Errored { error }
        if matches!(error.error.kind, ErrorType::NotFound | ErrorType::RequestTooLarge))
}

/// Up to this many custom_ids are named in a message.
const NAMED_IDS: usize = 5;

fn some_ids<'a>(ids: impl Iterator<Item = &'a str>, total: usize) -> String {
    let mut out = ids.take(NAMED_IDS).collect::<Vec<_>>().join(", ");
    if total > NAMED_IDS {
        out.push_str(&format!(" and {} more", total - NAMED_IDS));
    }
    out
}

fn changed_error(job: &BatchJob, path: &Path, changed: &[usize]) -> Error {
    let ids = some_ids(
        changed
            .iter()
            .map(|&i| job.requests()[i].custom_id.as_str()),
        changed.len(),
    );
    let first = &job.requests()[changed[0]].custom_id;
    Error::new(
        Kind::Changed,
        format!(
            "checkpoint {}: {} request(s) of the job changed since their result was saved (or were saved without a fingerprint by an older version): {ids}; nothing was sent. To send them again and keep the other results, rerun with --rerun-changed (library: LocalRunner::rerun_changed); to start over, delete the checkpoint",
            path.display(),
            changed.len(),
        ),
    )
    .with_custom_id(first.clone())
    .with_path(path)
}

fn run_wide_error(job: &BatchJob, path: &Path, held: &[(usize, BatchResult)], saved: u64) -> Error {
    let (i, first) = &held[0];
    let (kind, message, request_id) = match first {
        BatchResult::Errored { error } => (
            error.error.kind.as_str().to_owned(),
            error.error.message.clone(),
            error.request_id.clone(),
        ),
        _ => (String::from("error"), String::new(), None),
    };
    let ids = some_ids(
        held.iter()
            .map(|(i, _)| job.requests()[*i].custom_id.as_str()),
        held.len(),
    );
    let mut text = format!(
        "stopped: {} request(s) failed with {kind}: {message}",
        held.len()
    );
    if let Some(id) = request_id {
        text.push_str(&format!(" (request id {id})"));
    }
    text.push_str(&format!(
        "; this error fails every request, so the run stopped and did not record it ({ids}); {saved} result(s) are in checkpoint {}; fix the cause and run again to send the rest",
        path.display()
    ));
    Error::new(Kind::RunWide, text)
        .with_custom_id(job.requests()[*i].custom_id.clone())
        .with_path(path)
}

/// Appends result lines with their fingerprint to the checkpoint.
struct CheckpointWriter<'a> {
    file: &'a mut File,
    path: &'a Path,
    fsync: bool,
    max_line_len: usize,
    buf: Vec<u8>,
}

impl CheckpointWriter<'_> {
    /// `line` and its fingerprint into `buf` (cleared first), without the
    /// terminator.
    fn encode(&mut self, line: &BatchResultLine, fingerprint: Fingerprint) -> Result<()> {
        self.buf.clear();
        serde_json::to_writer(&mut self.buf, line).map_err(|e| {
            Error::new(
                Kind::Io,
                format!("encoding the result of {}: {e}", line.custom_id),
            )
        })?;
        fingerprint.append_to(&mut self.buf);
        Ok(())
    }

    /// Writes the result of request `i` (one `write`), and syncs it when
    /// asked: from its return, the result is acknowledged.
    fn append(&mut self, job: &BatchJob, i: usize, result: BatchResult) -> Result<BatchResultLine> {
        let request = &job.requests()[i];
        let mut line = BatchResultLine::new(request.custom_id.clone(), result);
        let fingerprint = Fingerprint::of(&request.params);
        self.encode(&line, fingerprint)?;
        if self.buf.len() > self.max_line_len {
            // Kept, the line would make the checkpoint unreadable.
            line.result = too_large(format!(
                "the result was {} bytes, over the checkpoint line limit of {} bytes, and was not kept",
                self.buf.len(),
                self.max_line_len
            ));
            self.encode(&line, fingerprint)?;
        }
        self.buf.push(b'\n');
        self.file
            .write_all(&self.buf)
            .map_err(|e| Error::io(self.path, "appending to checkpoint", e))?;
        if self.fsync {
            self.file
                .sync_data()
                .map_err(|e| Error::io(self.path, "syncing checkpoint", e))?;
        }
        Ok(line)
    }
}

/// Whether `result` is an error that sending the same request again may
/// avoid.
fn is_retryable(result: &BatchResult) -> bool {
    matches!(result, BatchResult::Errored { error } if error.error.kind.is_retryable())
}

/// The job's fingerprints, computed on first use.
struct Fingerprints<'a> {
    job: &'a BatchJob,
    cache: Vec<Option<Fingerprint>>,
}

impl<'a> Fingerprints<'a> {
    fn new(job: &'a BatchJob) -> Self {
        Fingerprints {
            job,
            cache: vec![None; job.len()],
        }
    }

    /// Whether a line stamped `stamp` was produced by request `i` as it is
    /// now; an error for a stamp of an unknown format.
    fn matches(&mut self, i: usize, stamp: Stamp, path: &Path, line: u64) -> Result<bool> {
        match stamp {
            Stamp::Missing => Ok(false),
            Stamp::Fnv(fp) => {
                let job = self.job;
                let mine = *self.cache[i]
                    .get_or_insert_with(|| Fingerprint::of(&job.requests()[i].params));
                Ok(mine == fp)
            }
            Stamp::Unknown => Err(Error::new(
                Kind::Checkpoint,
                format!(
                    "checkpoint {} line {line}: the request_fingerprint is of a format this version does not know (this version writes format {CHECKPOINT_FORMAT}); was it written by a newer version?",
                    path.display()
                ),
            )
            .with_line(line)
            .with_path(path)),
        }
    }
}

struct Loaded {
    done: Vec<bool>,
    done_count: u64,
    /// Requests with only retryable errors, to be sent again.
    retrying: u64,
    /// Requests whose only lines were produced by other params.
    changed: Vec<usize>,
    summary: Summary,
}

/// Reads a checkpoint: which requests are done, and their summary. Cuts off
/// a torn last line. With `retry_errored`, a retryable error does not make
/// its request done. A line whose fingerprint does not match its request
/// does not count.
fn load_checkpoint(
    job: &BatchJob,
    path: &Path,
    retry_errored: bool,
    max_line_len: usize,
) -> Result<Loaded> {
    let mut loaded = Loaded {
        done: vec![false; job.len()],
        done_count: 0,
        retrying: 0,
        changed: Vec::new(),
        summary: Summary::local(),
    };
    let mut retrying = vec![false; job.len()];
    let mut stale = vec![false; job.len()];
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(loaded),
        Err(e) => return Err(Error::io(path, "opening checkpoint", e)),
    };
    let mut fingerprints = Fingerprints::new(job);
    let decoder = ResultsDecoder::new().max_line_len(max_line_len);
    let mut reader = ResultsReader::with_decoder(BufReader::new(file), decoder);
    let mut torn_at = None;
    loop {
        let raw = match reader.next_raw() {
            Ok(Some(raw)) => raw,
            Ok(None) => break,
            Err(e) => return Err(in_checkpoint(e, path)),
        };
        if !raw.is_terminated() {
            // Killed in the middle of a write: this result was never
            // acknowledged.
            torn_at = Some(reader.decoder().consumed());
            break;
        }
        let line = raw.decode().map_err(|e| e.in_checkpoint(path))?;
        let Some(i) = job.index_of(&line.custom_id) else {
            return Err(Error::new(
                Kind::Checkpoint,
                format!(
                    "checkpoint {} line {}: custom_id {} is not in this job (is it the checkpoint of another job?)",
                    path.display(),
                    raw.number(),
                    line.custom_id
                ),
            )
            .with_line(raw.number())
            .with_custom_id(line.custom_id)
            .with_path(path));
        };
        let (stamp, _) = read_stamp(raw.bytes());
        if !fingerprints.matches(i, stamp, path, raw.number())? {
            stale[i] = true;
            continue;
        }
        if loaded.done[i] {
            // The first final result counts (see `write_output`).
            continue;
        }
        if retry_errored && is_retryable(&line.result) {
            retrying[i] = true;
            continue;
        }
        loaded.done[i] = true;
        loaded.done_count += 1;
        loaded.summary.add(&line);
    }
    loaded.retrying = retrying
        .iter()
        .zip(&loaded.done)
        .filter(|&(&r, &d)| r && !d)
        .count() as u64;
    loaded.changed = (0..job.len())
        .filter(|&i| stale[i] && !loaded.done[i] && !retrying[i])
        .collect();
    if let Some(len) = torn_at {
        let f = OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(|e| Error::io(path, "opening checkpoint", e))?;
        f.set_len(len)
            .map_err(|e| Error::io(path, "cutting the torn last line of checkpoint", e))?;
    }
    Ok(loaded)
}

/// Reads the results in a checkpoint (or any results JSONL file) as an
/// iterator of [`BatchResultLine`], in constant memory.
///
/// # Errors
///
/// [`Error::is_io`] when the file cannot be opened. Errors while reading
/// come from the iterator.
pub fn read_results(path: impl AsRef<Path>) -> Result<ResultsReader<BufReader<File>>> {
    let path = path.as_ref();
    let f = File::open(path).map_err(|e| Error::io(path, "opening", e))?;
    Ok(ResultsReader::new(BufReader::new(f)))
}

/// Writes the results in `checkpoint` to `output` as JSONL, one line per
/// request of `job` that has a result, in the job's order, lines copied
/// verbatim. Returns how many lines were written (the job's length when the
/// run is complete). Reads lines up to [`DEFAULT_MAX_LINE_LEN`]; see
/// [`LocalRunner::write_output`] for the runner's own limit.
///
/// A request's result is its first line that is not a retryable error
/// ([`ErrorType::is_retryable`]), or else its last line: the result of the
/// latest retry. Only lines whose fingerprint matches the request as it is
/// in `job` count (see [`CHECKPOINT_FORMAT`]), and the fingerprint field is
/// left out: the output lines are batch results lines.
///
/// The output is written to a temporary file next to it, with a name of
/// its own (two writers of one output never share it), and renamed into
/// place once complete and synced; on any failure the temporary file is
/// removed and `output` is untouched. Memory holds one offset per result,
/// not the results.
///
/// # Errors
///
/// [`Error::is_io`] for file errors; the checkpoint errors of
/// [`LocalRunner::run_until`].
pub fn write_output(
    job: &BatchJob,
    checkpoint: impl AsRef<Path>,
    output: impl AsRef<Path>,
) -> Result<u64> {
    write_output_limited(
        job,
        checkpoint.as_ref(),
        output.as_ref(),
        DEFAULT_MAX_LINE_LEN,
    )
}

impl LocalRunner {
    /// [`write_output`] reading the checkpoint with this runner's
    /// [`max_line_len`](LocalRunner::max_line_len).
    ///
    /// # Errors
    ///
    /// As [`write_output`].
    pub fn write_output(
        &self,
        job: &BatchJob,
        checkpoint: impl AsRef<Path>,
        output: impl AsRef<Path>,
    ) -> Result<u64> {
        write_output_limited(job, checkpoint.as_ref(), output.as_ref(), self.max_line_len)
    }
}

fn write_output_limited(
    job: &BatchJob,
    checkpoint: &Path,
    output: &Path,
    max_line_len: usize,
) -> Result<u64> {
    let chosen = choose_lines(job, checkpoint, max_line_len)?;
    // Removed on every error path below (dropped without a commit).
    let mut tmp = TempFile::create(output)
        .map_err(|e| Error::io(output, "creating a temporary file for", e))?;
    let tmp_path = tmp.path().to_owned();
    let mut out = std::io::BufWriter::new(tmp.file());
    let written = copy_lines(checkpoint, &chosen, &mut out, &tmp_path)?;
    out.flush()
        .map_err(|e| Error::io(&tmp_path, "writing", e))?;
    drop(out);
    tmp.commit().map_err(|e| Error::io(output, "writing", e))?;
    Ok(written)
}

/// Like [`write_output`], to any writer (such as stdout), flushed at the
/// end. The writer is given one `write_all` per line: wrap it in a
/// `BufWriter` when writes are costly.
///
/// # Errors
///
/// As [`write_output`]; a failed write is [`Error::is_io`] with the path
/// `-`.
pub fn write_output_to(
    job: &BatchJob,
    checkpoint: impl AsRef<Path>,
    mut out: impl Write,
) -> Result<u64> {
    let checkpoint = checkpoint.as_ref();
    let chosen = choose_lines(job, checkpoint, DEFAULT_MAX_LINE_LEN)?;
    let name = Path::new("-");
    let written = copy_lines(checkpoint, &chosen, &mut out, name)?;
    out.flush().map_err(|e| Error::io(name, "writing", e))?;
    Ok(written)
}

/// Where a chosen checkpoint line is: its offset, its length without the
/// fingerprint field, whether that field was cut, and whether it is a
/// retryable error (which a later line replaces).
#[derive(Clone, Copy)]
struct Chosen {
    start: u64,
    len: usize,
    stamped: bool,
    retryable: bool,
}

/// Per request, its result line in the checkpoint: the first final one
/// whose fingerprint matches the request, else the last retryable one.
fn choose_lines(
    job: &BatchJob,
    checkpoint: &Path,
    max_line_len: usize,
) -> Result<Vec<Option<Chosen>>> {
    let mut chosen: Vec<Option<Chosen>> = vec![None; job.len()];
    let mut fingerprints = Fingerprints::new(job);
    let f = File::open(checkpoint).map_err(|e| Error::io(checkpoint, "opening", e))?;
    let decoder = ResultsDecoder::new().max_line_len(max_line_len);
    let mut reader = ResultsReader::with_decoder(BufReader::new(f), decoder);
    while let Some(raw) = reader
        .next_raw()
        .map_err(|e| in_checkpoint(e, checkpoint))?
    {
        if !raw.is_terminated() {
            break;
        }
        let line = raw.decode().map_err(|e| e.in_checkpoint(checkpoint))?;
        let end = reader.decoder().consumed();
        // Checkpoint lines end in a single LF.
        let start = end - raw.bytes().len() as u64 - 1;
        let Some(i) = job.index_of(&line.custom_id) else {
            continue;
        };
        let (stamp, len) = read_stamp(raw.bytes());
        if !fingerprints.matches(i, stamp, checkpoint, raw.number())? {
            continue;
        }
        if chosen[i].is_none_or(|c| c.retryable) {
            chosen[i] = Some(Chosen {
                start,
                len,
                stamped: len < raw.bytes().len(),
                retryable: is_retryable(&line.result),
            });
        }
    }
    Ok(chosen)
}

/// Copies the chosen lines, without their fingerprint, to `out`.
fn copy_lines(
    checkpoint: &Path,
    chosen: &[Option<Chosen>],
    out: &mut impl Write,
    out_name: &Path,
) -> Result<u64> {
    let mut src = File::open(checkpoint).map_err(|e| Error::io(checkpoint, "opening", e))?;
    let mut buf = Vec::new();
    let mut written = 0;
    for c in chosen.iter().flatten() {
        buf.resize(c.len, 0);
        src.seek(SeekFrom::Start(c.start))
            .and_then(|_| src.read_exact(&mut buf))
            .map_err(|e| Error::io(checkpoint, "reading", e))?;
        if c.stamped {
            buf.push(b'}');
        }
        buf.push(b'\n');
        out.write_all(&buf)
            .map_err(|e| Error::io(out_name, "writing", e))?;
        written += 1;
    }
    Ok(written)
}
