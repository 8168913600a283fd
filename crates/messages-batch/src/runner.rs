//! [`LocalRunner`]: a job through `POST /v1/messages`, with a checkpoint.

use std::fs::{File, OpenOptions, TryLockError};
use std::future::Future;
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::pin::pin;
use std::time::Duration;

use futures_util::stream::{FuturesUnordered, StreamExt};
use messages_http::{Request, RequestOptions, Transport};
use messages_types::{
    ApiError, BatchResult, BatchResultLine, ErrorResponse, ErrorType, Message, MessageRequest,
};
use tokio::sync::watch;

use crate::atomic::TempFile;
use crate::decoder::{DEFAULT_MAX_LINE_LEN, ResultsDecoder, ResultsReader};
use crate::error::{Error, Kind, Result};
use crate::job::BatchJob;
use crate::summary::Summary;
use crate::wait::{Progress, Reporter};

/// The default number of requests in flight.
pub const DEFAULT_CONCURRENCY: usize = 5;

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
/// **Retryable errors are retried by the next run.** A result that is an
/// error which sending the same request again may avoid
/// ([`ErrorType::is_retryable`]: rate limit, overloaded, API error,
/// timeout) stays in the checkpoint, but the next run sends that request
/// again and appends its new result; the request's result is then the new
/// one (see [`write_output`]). Turn this off with
/// [`retry_errored`](LocalRunner::retry_errored).
///
/// **Rate limits** are honoured by the transport's retries (`retry-after`);
/// raise [`TransportBuilder::max_retries`](messages_http::TransportBuilder::max_retries)
/// for long runs near the limit.
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
    stop_grace: Duration,
    reporter: Reporter,
    max_line_len: usize,
}

/// What a [`LocalRunner`] run did.
#[derive(Debug, Clone, PartialEq)]
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
    Fatal(messages_http::Error),
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
    ///   finished before are in the checkpoint; run again to resume.
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
        let mut report = RunReport {
            total: job.len() as u64,
            summary: loaded.summary,
            resumed: loaded.done_count,
            retried: loaded.retrying,
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

        let mut todo = (0..job.len()).filter(|&i| !loaded.done[i]);
        let mut in_flight = FuturesUnordered::new();
        let mut stop = pin!(stop);
        // The end of the grace period, once stopping.
        let grace = tokio::time::sleep(Duration::ZERO);
        let mut grace = pin!(grace);
        let mut line_buf = Vec::new();
        loop {
            while !report.stopped && in_flight.len() < self.concurrency {
                let Some(i) = todo.next() else { break };
                let params = &job.requests()[i].params;
                in_flight.push(self.send(i, params));
            }
            if in_flight.is_empty() {
                break;
            }
            let (i, outcome) = tokio::select! {
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
                Some(done) = in_flight.next() => done,
            };
            let result = match outcome {
                Outcome::Result(r) => r,
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
            let mut line = BatchResultLine {
                custom_id: job.requests()[i].custom_id.clone(),
                result,
            };
            encode_line(&mut line_buf, &line)?;
            if line_buf.len() > self.max_line_len {
                // Kept, the line would make the checkpoint unreadable.
                line.result = too_large(format!(
                    "the result was {} bytes, over the checkpoint line limit of {} bytes, and was not kept",
                    line_buf.len(),
                    self.max_line_len
                ));
                encode_line(&mut line_buf, &line)?;
            }
            line_buf.push(b'\n');
            file.write_all(&line_buf)
                .map_err(|e| Error::io(path, "appending to checkpoint", e))?;
            if self.fsync {
                file.sync_data()
                    .map_err(|e| Error::io(path, "syncing checkpoint", e))?;
            }
            // Acknowledged from here on.
            report.sent += 1;
            report.summary.add(&line);
            progress.processing -= 1;
            progress.succeeded = report.summary.succeeded;
            progress.errored = report.summary.errored_total();
            progress.ended = progress.processing == 0;
            self.reporter.report(&progress);
        }
        Ok(report)
    }

    fn send(
        &self,
        index: usize,
        params: &MessageRequest,
    ) -> impl Future<Output = (usize, Outcome)> + Send + 'static {
        let transport = self.transport.clone();
        let body = serde_json::to_vec(params);
        let max_tokens = u64::from(params.max_tokens);
        let max_line_len = self.max_line_len;
        async move {
            let body = match body {
                Ok(b) => b,
                Err(e) => {
                    return (
                        index,
                        Outcome::Result(errored(ErrorType::InvalidRequest, e.to_string(), None)),
                    );
                }
            };
            let req = Request::post("/v1/messages").with_body(body).with_options(
                RequestOptions::new()
                    .max_tokens(max_tokens)
                    .max_body_size(max_line_len),
            );
            let sent = async {
                let resp = transport.send(req).await?;
                resp.json::<Message>().await
            };
            let outcome = match sent.await {
                Ok(message) => Outcome::Result(BatchResult::Succeeded { message }),
                Err(e) => match e.error_response() {
                    Some(body) => Outcome::Result(BatchResult::Errored {
                        error: body.clone(),
                    }),
                    None if e.is_api() => Outcome::Result(errored(
                        ErrorType::from_status(e.status().map_or(500, |s| s.as_u16())),
                        e.to_string(),
                        e.request_id().map(str::to_owned),
                    )),
                    None if e.is_streaming_required() => {
                        Outcome::Result(errored(ErrorType::InvalidRequest, e.to_string(), None))
                    }
                    None if e.is_too_large() => Outcome::Result(too_large(format!(
                        "the reply was larger than the checkpoint line limit of {max_line_len} bytes and was not kept: {e}"
                    ))),
                    None => Outcome::Fatal(e),
                },
            };
            (index, outcome)
        }
    }
}

/// Serializes `line` into `buf` (cleared first), without the terminator.
fn encode_line(buf: &mut Vec<u8>, line: &BatchResultLine) -> Result<()> {
    buf.clear();
    serde_json::to_writer(&mut *buf, line).map_err(|e| {
        Error::new(
            Kind::Io,
            format!("encoding the result of {}: {e}", line.custom_id),
        )
    })
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

fn errored(kind: ErrorType, message: String, request_id: Option<String>) -> BatchResult {
    BatchResult::Errored {
        error: ErrorResponse {
            error: ApiError { kind, message },
            request_id,
        },
    }
}

/// Whether `result` is an error that sending the same request again may
/// avoid.
fn is_retryable(result: &BatchResult) -> bool {
    matches!(result, BatchResult::Errored { error } if error.error.kind.is_retryable())
}

struct Loaded {
    done: Vec<bool>,
    done_count: u64,
    /// Requests with only retryable errors, to be sent again.
    retrying: u64,
    summary: Summary,
}

/// Reads a checkpoint: which requests are done, and their summary. Cuts off
/// a torn last line. With `retry_errored`, a retryable error does not make
/// its request done.
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
        summary: Summary::local(),
    };
    let mut retrying = vec![false; job.len()];
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(loaded),
        Err(e) => return Err(Error::io(path, "opening checkpoint", e)),
    };
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
/// latest retry.
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
    // Per request: the chosen line's offset and length, and whether it is
    // a retryable error (which a later line replaces).
    let mut chosen: Vec<Option<(u64, usize, bool)>> = vec![None; job.len()];
    {
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
            let len = raw.bytes().len();
            let end = reader.decoder().consumed();
            // Checkpoint lines end in a single LF.
            let start = end - len as u64 - 1;
            if let Some(i) = job.index_of(&line.custom_id)
                && chosen[i].is_none_or(|(_, _, retryable)| retryable)
            {
                chosen[i] = Some((start, len, is_retryable(&line.result)));
            }
        }
    }
    let mut src = File::open(checkpoint).map_err(|e| Error::io(checkpoint, "opening", e))?;
    // Removed on every error path below (dropped without a commit).
    let mut tmp = TempFile::create(output)
        .map_err(|e| Error::io(output, "creating a temporary file for", e))?;
    let tmp_path = tmp.path().to_owned();
    let mut out = std::io::BufWriter::new(tmp.file());
    let mut buf = Vec::new();
    let mut written = 0;
    for (start, len, _) in chosen.into_iter().flatten() {
        buf.resize(len, 0);
        src.seek(SeekFrom::Start(start))
            .and_then(|_| src.read_exact(&mut buf))
            .map_err(|e| Error::io(checkpoint, "reading", e))?;
        buf.push(b'\n');
        out.write_all(&buf)
            .map_err(|e| Error::io(&tmp_path, "writing", e))?;
        written += 1;
    }
    out.flush()
        .map_err(|e| Error::io(&tmp_path, "writing", e))?;
    drop(out);
    tmp.commit().map_err(|e| Error::io(output, "writing", e))?;
    Ok(written)
}
