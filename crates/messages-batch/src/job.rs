//! Jobs: many requests, validated, split into batches, presented as one.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::io::{BufRead, Write};
use std::ops::Range;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_core::Stream;
use messages_types::{BatchRequest, BatchResult, BatchResultLine, MessageBatch, MessageRequest};

use crate::api::{Batches, ResultsStream};
use crate::decoder::ResultsReader;
use crate::error::{CreatedBatch, Error, Kind, Result};
use crate::summary::Summary;
use crate::wait::{Progress, WaitOptions};

/// The API's limit on requests per batch.
pub const MAX_REQUESTS_PER_BATCH: usize = 100_000;
/// The API's limit on the size of a batch creation body, in bytes (256 MB).
pub const MAX_BYTES_PER_BATCH: usize = 256_000_000;

// `{"requests":[` and `]}`.
const BODY_OVERHEAD: usize = 14;

/// A set of requests to run as one job, through the Batches API
/// ([`BatchJob::submit`]) or locally ([`LocalRunner`](crate::LocalRunner)).
///
/// Adding a request checks its `custom_id` (1 to 64 characters of
/// `[A-Za-z0-9_-]`, unique in the job), that it is not a streaming request,
/// and that it fits in one batch. Submitting splits the job into as many
/// batches as the limits require (100,000 requests and 256 MB each, or
/// lower limits set here) and presents them as one [`SubmittedJob`]: one
/// progress view, one merged results stream.
///
/// # Examples
///
/// ```
/// use messages_batch::BatchJob;
/// use messages_types::MessageRequest;
///
/// let mut job = BatchJob::new().max_requests_per_batch(2);
/// for i in 0..5 {
///     job.add(format!("q-{i}"), MessageRequest::new("claude-haiku-4-5", 64).user("Hi"))?;
/// }
/// assert_eq!(job.plan()?.len(), 3); // 2 + 2 + 1 requests
///
/// let err = job.add("q-1", MessageRequest::new("claude-haiku-4-5", 64).user("Hi")).unwrap_err();
/// assert!(err.is_invalid_input()); // custom_id used twice
/// let err = job.add("no spaces", MessageRequest::new("claude-haiku-4-5", 64).user("Hi")).unwrap_err();
/// assert!(err.is_invalid_input());
/// # Ok::<(), messages_batch::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct BatchJob {
    requests: Vec<BatchRequest>,
    sizes: Vec<usize>,
    index: HashMap<String, usize>,
    max_requests: usize,
    max_bytes: usize,
    split: bool,
}

impl Default for BatchJob {
    fn default() -> BatchJob {
        BatchJob::new()
    }
}

/// Counts serialized bytes without storing them.
struct Counter(usize);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl BatchJob {
    /// An empty job with the API's limits, splitting when they are exceeded.
    pub fn new() -> BatchJob {
        BatchJob {
            requests: Vec::new(),
            sizes: Vec::new(),
            index: HashMap::new(),
            max_requests: MAX_REQUESTS_PER_BATCH,
            max_bytes: MAX_BYTES_PER_BATCH,
            split: true,
        }
    }

    /// At most this many requests per batch (1 to 100,000). Default is
    /// [`MAX_REQUESTS_PER_BATCH`].
    pub fn max_requests_per_batch(mut self, n: usize) -> BatchJob {
        self.max_requests = n.clamp(1, MAX_REQUESTS_PER_BATCH);
        self
    }

    /// At most this many bytes per batch creation body (up to 256 MB).
    /// Default is [`MAX_BYTES_PER_BATCH`]. Requests already added are
    /// checked again by [`plan`](BatchJob::plan).
    pub fn max_bytes_per_batch(mut self, n: usize) -> BatchJob {
        self.max_bytes = n.clamp(BODY_OVERHEAD + 1, MAX_BYTES_PER_BATCH);
        self
    }

    /// Whether a job over the limits is split into several batches
    /// (default) or refused with [`Error::is_invalid_input`].
    pub fn split(mut self, split: bool) -> BatchJob {
        self.split = split;
        self
    }

    /// Adds a request.
    ///
    /// # Errors
    ///
    /// [`Error::is_invalid_input`]: an invalid or repeated `custom_id`, a
    /// streaming request (`stream: true`), or a request too large for one
    /// batch. The job is unchanged.
    pub fn add(
        &mut self,
        custom_id: impl Into<String>,
        params: MessageRequest,
    ) -> Result<&mut BatchJob> {
        self.push(BatchRequest::new(custom_id, params))?;
        Ok(self)
    }

    /// Adds a [`BatchRequest`].
    ///
    /// # Errors
    ///
    /// As [`BatchJob::add`].
    pub fn push(&mut self, request: BatchRequest) -> Result<()> {
        let id = &request.custom_id;
        if !BatchRequest::custom_id_is_valid(id) {
            return Err(Error::invalid(format!(
                "custom_id {id:?} is invalid: it must be 1 to 64 characters of A-Z, a-z, 0-9, _ and -"
            ))
            .with_custom_id(id.clone()));
        }
        if let Some(&first) = self.index.get(id) {
            return Err(Error::invalid(format!(
                "custom_id {id} is used twice (requests {} and {}); custom_ids must be unique",
                first + 1,
                self.requests.len() + 1
            ))
            .with_custom_id(id.clone()));
        }
        if request.params.stream == Some(true) {
            return Err(Error::invalid(format!(
                "request {id}: batch requests cannot be streamed (params.stream is true)"
            ))
            .with_custom_id(id.clone()));
        }
        let mut counter = Counter(0);
        serde_json::to_writer(&mut counter, &request).map_err(|e| {
            Error::invalid(format!("request {id} cannot be serialized: {e}"))
                .with_custom_id(id.clone())
        })?;
        let size = counter.0;
        if size + BODY_OVERHEAD > self.max_bytes {
            return Err(Error::invalid(format!(
                "request {id} is {size} bytes: too large for one batch (at most {} bytes)",
                self.max_bytes
            ))
            .with_custom_id(id.clone()));
        }
        self.index.insert(id.clone(), self.requests.len());
        self.requests.push(request);
        self.sizes.push(size);
        Ok(())
    }

    /// Reads requests from JSONL: one `{"custom_id": ..., "params": {...}}`
    /// per line (blank lines are skipped). Returns how many were added.
    ///
    /// # Errors
    ///
    /// [`Error::is_invalid_input`] naming the 1-based line (and the
    /// `custom_id` when it could be read) for a line that is not a request
    /// or is refused by [`BatchJob::push`]; [`Error::is_io`] when reading
    /// fails. Requests before the bad line stay added.
    pub fn read_jsonl(&mut self, reader: impl BufRead) -> Result<usize> {
        let mut added = 0;
        // The one JSONL splitter (LF, CRLF or a lone CR; blank lines and a
        // BOM skipped), as for results and checkpoints.
        let mut lines = ResultsReader::new(reader);
        while let Some(line) = lines
            .next_raw()
            .map_err(|e| input_line_error(e, lines.decoder().line_number() + 1))?
        {
            let n = line.number();
            let trimmed = line.bytes().trim_ascii();
            let req: BatchRequest =
                messages_types::decode_json("batch request", trimmed).map_err(|e| {
                    let mut err = Error::invalid(format!("input line {n} is not a batch request"))
                        .with_line(n);
                    if let Some(id) = crate::decoder::recover_custom_id(trimmed) {
                        err = err.with_custom_id(id);
                    }
                    err.with_source(e)
                })?;
            self.push(req).map_err(|e| {
                let mut err = Error::invalid(format!("input line {n}: {e}")).with_line(n);
                if let Some(id) = e.custom_id() {
                    err = err.with_custom_id(id);
                }
                err
            })?;
            added += 1;
        }
        Ok(added)
    }

    /// A job read from JSONL (see [`BatchJob::read_jsonl`]).
    ///
    /// ```
    /// let file = b"{\"custom_id\":\"a\",\"params\":{\"model\":\"m\",\"max_tokens\":8,\"messages\":[]}}\r\n\r\n";
    /// let job = messages_batch::BatchJob::from_jsonl(&file[..]).unwrap();
    /// assert_eq!(job.len(), 1);
    /// ```
    ///
    /// # Errors
    ///
    /// As [`BatchJob::read_jsonl`].
    pub fn from_jsonl(reader: impl BufRead) -> Result<BatchJob> {
        let mut job = BatchJob::new();
        job.read_jsonl(reader)?;
        Ok(job)
    }

    /// The number of requests.
    pub fn len(&self) -> usize {
        self.requests.len()
    }

    /// Whether the job has no request.
    pub fn is_empty(&self) -> bool {
        self.requests.is_empty()
    }

    /// The requests, in the order they were added.
    pub fn requests(&self) -> &[BatchRequest] {
        &self.requests
    }

    /// The position of a request by `custom_id`. `O(1)`.
    pub fn index_of(&self, custom_id: &str) -> Option<usize> {
        self.index.get(custom_id).copied()
    }

    /// A request by `custom_id`. `O(1)`.
    pub fn get(&self, custom_id: &str) -> Option<&BatchRequest> {
        self.index_of(custom_id).map(|i| &self.requests[i])
    }

    /// Joins a result to its input by `custom_id`.
    ///
    /// # Errors
    ///
    /// [`Error::is_incomplete`] when the job has no such `custom_id`.
    pub fn join(&self, line: BatchResultLine) -> Result<Joined<'_>> {
        match self.index_of(&line.custom_id) {
            Some(index) => Ok(Joined {
                index,
                request: &self.requests[index],
                line,
            }),
            None => Err(Error::new(
                Kind::Incomplete,
                format!(
                    "result for custom_id {} which is not in the job",
                    line.custom_id
                ),
            )
            .with_custom_id(line.custom_id)),
        }
    }

    /// The request ranges of the batches [`submit`](BatchJob::submit) would
    /// create, in order.
    ///
    /// # Errors
    ///
    /// [`Error::is_invalid_input`]: the job is empty, or needs more than one
    /// batch while splitting is off, or a request no longer fits the
    /// per-batch byte limit.
    pub fn plan(&self) -> Result<Vec<Range<usize>>> {
        if self.requests.is_empty() {
            return Err(Error::invalid("the job has no requests"));
        }
        let mut ranges = Vec::new();
        let mut start = 0;
        let mut bytes = BODY_OVERHEAD;
        for (i, &size) in self.sizes.iter().enumerate() {
            if size + BODY_OVERHEAD > self.max_bytes {
                let id = &self.requests[i].custom_id;
                return Err(Error::invalid(format!(
                    "request {id} is {size} bytes: too large for one batch (at most {} bytes)",
                    self.max_bytes
                ))
                .with_custom_id(id.clone()));
            }
            let comma = usize::from(i > start);
            if i - start == self.max_requests || bytes + comma + size > self.max_bytes {
                ranges.push(start..i);
                start = i;
                bytes = BODY_OVERHEAD + size;
            } else {
                bytes += comma + size;
            }
        }
        ranges.push(start..self.requests.len());
        if ranges.len() > 1 && !self.split {
            return Err(Error::invalid(format!(
                "the job has {} requests ({} bytes): over the limit of {} requests and {} bytes per batch, and splitting is off",
                self.requests.len(),
                self.sizes.iter().sum::<usize>() + self.requests.len() + BODY_OVERHEAD,
                self.max_requests,
                self.max_bytes
            )));
        }
        Ok(ranges)
    }

    fn body(&self, range: Range<usize>) -> Result<bytes::Bytes> {
        let size: usize =
            self.sizes[range.clone()].iter().sum::<usize>() + range.len() + BODY_OVERHEAD;
        let mut buf = Vec::with_capacity(size);
        buf.extend_from_slice(b"{\"requests\":[");
        for (k, r) in self.requests[range].iter().enumerate() {
            if k > 0 {
                buf.push(b',');
            }
            serde_json::to_writer(&mut buf, r)
                .map_err(|e| Error::invalid(format!("request {}: {e}", r.custom_id)))?;
        }
        buf.extend_from_slice(b"]}");
        Ok(buf.into())
    }

    #[cfg(test)]
    pub(crate) fn body_for_tests(&self, range: Range<usize>) -> bytes::Bytes {
        self.body(range).expect("serializable")
    }

    /// Submits the job as one or more batches (see [`plan`](BatchJob::plan))
    /// and returns the [`SubmittedJob`].
    ///
    /// Batches are created one after another; memory peaks at one batch
    /// body.
    ///
    /// # Errors
    ///
    /// [`Error::is_invalid_input`] before anything is sent (see
    /// [`plan`](BatchJob::plan)), also for a request with a field the
    /// transport's API version rejects or a retired model (the message names
    /// its `custom_id`); [`Error::is_http`] when a create fails.
    /// If some batches were created before the failure,
    /// [`Error::created_batches`] has their ids and the requests each holds
    /// (the message names them too): watch them with
    /// [`SubmittedJob::from_batch_ids`] and submit
    /// [`without`](BatchJob::without) them, so that nothing is paid twice.
    ///
    /// # Cancellation
    ///
    /// Dropping the future stops creating batches; those already created
    /// keep running.
    pub async fn submit(&self, batches: &Batches) -> Result<SubmittedJob> {
        let plan = self.plan()?;
        // The API version's rules and retired models, before any batch is
        // created (the API would only report them per request, at the end).
        let version = batches.transport().anthropic_version();
        let today = crate::preflight::today();
        for r in self.requests() {
            if let Some(why) = crate::preflight::refusal(&r.params, version, &today) {
                return Err(Error::invalid(format!("request {}: {why}", r.custom_id))
                    .with_custom_id(r.custom_id.clone()));
            }
        }
        let mut created: Vec<CreatedBatch> = Vec::with_capacity(plan.len());
        for range in plan {
            let body = self.body(range.clone())?;
            match batches.create_raw(body).await {
                Ok(b) => created.push(CreatedBatch {
                    batch_id: b.id,
                    requests: range,
                }),
                Err(e) if created.is_empty() => return Err(e),
                Err(e) => {
                    let ids: Vec<&str> = created.iter().map(|c| c.batch_id.as_str()).collect();
                    let held: usize = created.iter().map(|c| c.requests.len()).sum();
                    return Err(Error::new(
                        Kind::Http,
                        format!(
                            "creating batch {} of the job failed after batches {} were created (holding {held} of its {} requests)",
                            created.len() + 1,
                            ids.join(", "),
                            self.len()
                        ),
                    )
                    .with_created(created)
                    .with_source(e));
                }
            }
        }
        let ids = created.into_iter().map(|c| c.batch_id).collect();
        Ok(SubmittedJob::attach(batches.clone(), ids, self))
    }

    /// A job of the requests of this one that are not in `created` (the
    /// batches a failed [`submit`](BatchJob::submit) did create), with the
    /// same limits: what is left to submit.
    pub fn without(&self, created: &[CreatedBatch]) -> BatchJob {
        let mut taken = vec![false; self.len()];
        for c in created {
            for i in c.requests.clone() {
                if let Some(t) = taken.get_mut(i) {
                    *t = true;
                }
            }
        }
        self.subset_where(|i| !taken[i])
    }

    /// A job of the requests of this one whose `custom_id` is in `ids`, in
    /// this job's order, with the same limits. Unknown ids are ignored.
    pub fn subset<'a>(&self, ids: impl IntoIterator<Item = &'a str>) -> BatchJob {
        let mut keep = vec![false; self.len()];
        for id in ids {
            if let Some(i) = self.index_of(id) {
                keep[i] = true;
            }
        }
        self.subset_where(|i| keep[i])
    }

    fn subset_where(&self, keep: impl Fn(usize) -> bool) -> BatchJob {
        let mut out = BatchJob {
            requests: Vec::new(),
            sizes: Vec::new(),
            index: HashMap::new(),
            max_requests: self.max_requests,
            max_bytes: self.max_bytes,
            split: self.split,
        };
        for (i, r) in self.requests.iter().enumerate() {
            if keep(i) {
                out.index.insert(r.custom_id.clone(), out.requests.len());
                out.requests.push(r.clone());
                out.sizes.push(self.sizes[i]);
            }
        }
        out
    }
}

/// Whether a result calls for another attempt: the request `expired`, was
/// `canceled`, or `errored` with an error that sending it again may avoid
/// ([`ErrorType::is_retryable`](messages_types::ErrorType::is_retryable)).
pub fn is_resubmittable(result: &BatchResult) -> bool {
    match result {
        BatchResult::Expired | BatchResult::Canceled => true,
        BatchResult::Errored { error } => error.error.kind.is_retryable(),
        _ => false,
    }
}

/// A result joined to its input ([`BatchJob::join`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Joined<'a> {
    /// The request's position in the job.
    pub index: usize,
    /// The request.
    pub request: &'a BatchRequest,
    /// Its result.
    pub line: BatchResultLine,
}

// ===== SubmittedJob =====

/// A job submitted as one or more batches, presented as one: progress,
/// wait, cancel and a merged results stream.
///
/// Cloning is cheap (the `custom_id` index is shared).
#[derive(Clone)]
pub struct SubmittedJob {
    batches: Batches,
    ids: Vec<String>,
    /// The job's `custom_id`s, when known (not for
    /// [`SubmittedJob::from_batch_ids`]).
    custom_ids: Option<Arc<HashMap<String, usize>>>,
}

impl fmt::Debug for SubmittedJob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubmittedJob")
            .field("batch_ids", &self.ids)
            .field("requests", &self.len())
            .finish()
    }
}

impl SubmittedJob {
    /// Attaches to batches already created for `job` (after a restart, for
    /// example): the results are checked against the job's `custom_id`s.
    pub fn attach(batches: Batches, batch_ids: Vec<String>, job: &BatchJob) -> SubmittedJob {
        SubmittedJob {
            batches,
            ids: batch_ids,
            custom_ids: Some(Arc::new(job.index.clone())),
        }
    }

    /// Rebuilds a job from its batch ids alone (after a crash, or from
    /// [`Error::created_batches`]), to watch, cancel or read it. Without
    /// the job, the results are checked for repeated `custom_id`s only, not
    /// for missing ones, and [`len`](SubmittedJob::len) is 0: the batches'
    /// [`progress`](SubmittedJob::progress) has the count.
    pub fn from_batch_ids(
        batches: Batches,
        batch_ids: impl IntoIterator<Item = impl Into<String>>,
    ) -> SubmittedJob {
        SubmittedJob {
            batches,
            ids: batch_ids.into_iter().map(Into::into).collect(),
            custom_ids: None,
        }
    }

    /// The batch ids, in submission order.
    pub fn batch_ids(&self) -> &[String] {
        &self.ids
    }

    /// The number of requests in the job (0 when it was rebuilt
    /// [`from_batch_ids`](SubmittedJob::from_batch_ids)).
    pub fn len(&self) -> usize {
        self.custom_ids.as_ref().map_or(0, |c| c.len())
    }

    /// Whether the job has no requests (as [`len`](SubmittedJob::len)).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The current progress, summed over the job's batches (one retrieve
    /// per batch).
    ///
    /// # Errors
    ///
    /// [`Error::is_http`] when a retrieve fails.
    pub async fn progress(&self) -> Result<Progress> {
        let mut batches = Vec::with_capacity(self.ids.len());
        for id in &self.ids {
            batches.push(self.batches.retrieve(id).await?);
        }
        Ok(Progress::combined(&batches))
    }

    /// Waits until every batch of the job has ended, reporting the summed
    /// [`Progress`] as [`Batches::wait`] does, and returns the ended batches.
    ///
    /// # Errors
    ///
    /// As [`Batches::wait`].
    ///
    /// # Cancellation
    ///
    /// Cancelled on drop; the batches keep running.
    pub async fn wait(&self, opts: WaitOptions) -> Result<Vec<MessageBatch>> {
        self.batches.wait_all(&self.ids, &opts).await
    }

    /// Cancels every batch of the job.
    ///
    /// # Errors
    ///
    /// The first [`Error::is_http`]; the other batches are still asked to
    /// cancel.
    pub async fn cancel(&self) -> Result<Vec<MessageBatch>> {
        let mut out = Vec::with_capacity(self.ids.len());
        let mut first_err = None;
        for id in &self.ids {
            match self.batches.cancel(id).await {
                Ok(b) => out.push(b),
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
        }
        match first_err {
            Some(e) => Err(e),
            None => Ok(out),
        }
    }

    /// The results of all the job's batches as one [`JobResults`] stream
    /// (call after [`wait`](SubmittedJob::wait)). Each result is checked
    /// against the job: every `custom_id` exactly once.
    pub fn results(&self) -> JobResults {
        JobResults {
            batches: self.batches.clone(),
            ids: self.ids.clone(),
            next_batch: 0,
            opening: None,
            current: None,
            custom_ids: self.custom_ids.clone(),
            seen: vec![false; self.len()],
            seen_ids: std::collections::HashSet::new(),
            seen_count: 0,
            summary: Summary::batch(),
            resubmit: Vec::new(),
            done: false,
        }
    }
}

type OpenFuture = Pin<Box<dyn Future<Output = Result<ResultsStream>> + Send>>;

/// The merged results of a [`SubmittedJob`]: a [`Stream`] of
/// [`BatchResultLine`], batch after batch, each decoded incrementally.
///
/// The stream checks the results against the job: a `custom_id` that is not
/// in the job or comes twice, and, at the end, requests without a result,
/// are [`Error::is_incomplete`] errors. [`JobResults::summary`] counts what
/// was read so far. After an error the stream ends.
///
/// # Drop behaviour
///
/// Dropping it closes the connection of the batch being read.
pub struct JobResults {
    batches: Batches,
    ids: Vec<String>,
    next_batch: usize,
    opening: Option<OpenFuture>,
    current: Option<ResultsStream>,
    custom_ids: Option<Arc<HashMap<String, usize>>>,
    seen: Vec<bool>,
    /// Without the job: the `custom_id`s seen.
    seen_ids: std::collections::HashSet<String>,
    seen_count: usize,
    summary: Summary,
    /// The `custom_id`s whose result calls for another attempt.
    resubmit: Vec<String>,
    done: bool,
}

impl fmt::Debug for JobResults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JobResults")
            .field("batch_ids", &self.ids)
            .field("next_batch", &self.next_batch)
            .field("seen", &self.seen_count)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl JobResults {
    /// The summary of the results read so far (complete once the stream
    /// has ended without error).
    pub fn summary(&self) -> &Summary {
        &self.summary
    }

    /// The `custom_id`s read so far whose result calls for another attempt
    /// ([`is_resubmittable`]: expired, canceled, or a retryable error), in
    /// the order they came.
    pub fn resubmittable(&self) -> &[String] {
        &self.resubmit
    }

    /// A job of the requests of `job` whose result calls for another
    /// attempt (see [`resubmittable`](JobResults::resubmittable)), to
    /// submit again once the stream has ended. Empty when every result is
    /// final.
    pub fn retry_job(&self, job: &BatchJob) -> BatchJob {
        job.subset(self.resubmit.iter().map(String::as_str))
    }

    fn fail(&mut self, e: Error) -> Poll<Option<Result<BatchResultLine>>> {
        self.done = true;
        self.current = None;
        self.opening = None;
        Poll::Ready(Some(Err(e)))
    }
}

impl Stream for JobResults {
    type Item = Result<BatchResultLine>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if this.done {
                return Poll::Ready(None);
            }
            if let Some(stream) = this.current.as_mut() {
                match std::task::ready!(Pin::new(stream).poll_next(cx)) {
                    Some(Ok(line)) => {
                        let batch_id = this.ids[this.next_batch - 1].clone();
                        let repeated = match &this.custom_ids {
                            Some(custom_ids) => {
                                let Some(&i) = custom_ids.get(&line.custom_id) else {
                                    let e = Error::new(
                                        Kind::Incomplete,
                                        format!(
                                            "a result for custom_id {}, which is not in the job",
                                            line.custom_id
                                        ),
                                    )
                                    .with_custom_id(line.custom_id)
                                    .with_batch_id(batch_id);
                                    return this.fail(e);
                                };
                                std::mem::replace(&mut this.seen[i], true)
                            }
                            None => !this.seen_ids.insert(line.custom_id.clone()),
                        };
                        if repeated {
                            let e = Error::new(
                                Kind::Incomplete,
                                format!("a second result for custom_id {}", line.custom_id),
                            )
                            .with_custom_id(line.custom_id)
                            .with_batch_id(batch_id);
                            return this.fail(e);
                        }
                        this.seen_count += 1;
                        this.summary.add(&line);
                        if is_resubmittable(&line.result) {
                            this.resubmit.push(line.custom_id.clone());
                        }
                        return Poll::Ready(Some(Ok(line)));
                    }
                    Some(Err(e)) => return this.fail(e),
                    None => this.current = None,
                }
                continue;
            }
            if let Some(fut) = this.opening.as_mut() {
                match std::task::ready!(fut.as_mut().poll(cx)) {
                    Ok(stream) => {
                        this.opening = None;
                        this.current = Some(stream);
                    }
                    Err(e) => return this.fail(e),
                }
                continue;
            }
            if this.next_batch < this.ids.len() {
                let batches = this.batches.clone();
                let id = this.ids[this.next_batch].clone();
                this.next_batch += 1;
                this.opening = Some(Box::pin(async move { batches.results(&id).await }));
                continue;
            }
            this.done = true;
            if let Some(custom_ids) = &this.custom_ids
                && this.seen_count < this.seen.len()
            {
                let mut missing: Vec<&str> = custom_ids
                    .iter()
                    .filter(|(_, i)| !this.seen[**i])
                    .map(|(id, _)| id.as_str())
                    .collect();
                missing.sort_unstable();
                let n = missing.len();
                missing.truncate(5);
                let e = Error::new(
                    Kind::Incomplete,
                    format!(
                        "the results ended with {n} of {} requests without a result (such as {})",
                        this.seen.len(),
                        missing.join(", ")
                    ),
                );
                return Poll::Ready(Some(Err(e)));
            }
            return Poll::Ready(None);
        }
    }
}

/// A failure of the job file's line splitter, as an input error naming line
/// `n` (an over-long line) or an I/O error.
fn input_line_error(e: Error, n: u64) -> Error {
    if e.is_io() {
        return Error::new(Kind::Io, format!("reading input line {n} failed")).with_source(e);
    }
    Error::invalid(format!("input line {n} cannot be read as a request"))
        .with_line(n)
        .with_source(e)
}
