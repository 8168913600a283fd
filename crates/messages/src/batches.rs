//! Thin facades over the batch crate whose calls return [`messages::Error`].
//!
//! Each type here wraps its `messages_batch` namesake and only maps the
//! error (of each call, and of each item of a stream) into
//! [`messages::Error`]: no logic lives here. The wrapped value is reachable
//! with `inner()` / `into_inner()`, and `From` builds a facade from it, for
//! anything only the batch crate's API has.
//!
//! [`messages::Error`]: crate::Error

use std::fmt;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_core::Stream;
use messages_batch::{BatchJob, Progress, RawLine, RunReport, Summary, WaitOptions};
use messages_http::{ListParams, Transport};
use messages_types::{BatchCreateParams, BatchResultLine, DeletedMessageBatch, MessageBatch, Page};

use crate::error::Result;

/// Implements the facade's plumbing: `inner`, `into_inner`, `From`.
macro_rules! wrapper {
    ($facade:ident, $inner:ty) => {
        impl $facade {
            #[doc = concat!("The wrapped [`", stringify!($inner), "`], for what only the batch crate's API has.")]
            pub fn inner(&self) -> &$inner {
                &self.inner
            }

            #[doc = concat!("The wrapped [`", stringify!($inner), "`].")]
            pub fn into_inner(self) -> $inner {
                self.inner
            }
        }

        impl From<$inner> for $facade {
            fn from(inner: $inner) -> $facade {
                $facade { inner }
            }
        }
    };
}

/// Implements `Stream` with the item error mapped into `messages::Error`.
macro_rules! mapped_stream {
    ($facade:ident, $item:ty) => {
        impl Stream for $facade {
            type Item = Result<$item>;

            fn poll_next(
                mut self: Pin<&mut Self>,
                cx: &mut Context<'_>,
            ) -> Poll<Option<Self::Item>> {
                Pin::new(&mut self.inner)
                    .poll_next(cx)
                    .map(|item| item.map(|r| r.map_err(Into::into)))
            }

            fn size_hint(&self) -> (usize, Option<usize>) {
                self.inner.size_hint()
            }
        }
    };
}

// ===== impl Batches =====

/// The Message Batches API, from [`Client::batches`](crate::Client::batches).
///
/// Every call is [`messages_batch::Batches`]'s, with its error as a
/// [`messages::Error`](crate::Error): see that type for the retry rules of
/// `create`, the cancellation of each call and the costs.
#[derive(Debug, Clone)]
pub struct Batches {
    inner: messages_batch::Batches,
}

wrapper!(Batches, messages_batch::Batches);

impl Batches {
    /// The Batches API over `transport`.
    pub fn new(transport: Transport) -> Batches {
        Batches::from(messages_batch::Batches::new(transport))
    }

    /// Sets the longest results line accepted by [`results`](Batches::results).
    /// Default is [`messages_batch::DEFAULT_MAX_LINE_LEN`] (64 MiB).
    pub fn with_max_line_len(self, max: usize) -> Batches {
        Batches::from(self.inner.with_max_line_len(max))
    }

    /// The transport.
    pub fn transport(&self) -> &Transport {
        self.inner.transport()
    }

    /// Creates a batch: `POST /v1/messages/batches` (see
    /// [`messages_batch::Batches::create`]; [`submit`](Batches::submit) a
    /// [`BatchJob`] to have it checked and split first).
    ///
    /// # Errors
    ///
    /// The transport failed or the API refused the batch.
    pub async fn create(&self, params: &BatchCreateParams) -> Result<MessageBatch> {
        Ok(self.inner.create(params).await?)
    }

    /// Creates a batch from an already serialized body (see
    /// [`messages_batch::Batches::create_raw`]).
    ///
    /// # Errors
    ///
    /// As [`create`](Batches::create).
    pub async fn create_raw(&self, body: bytes::Bytes) -> Result<MessageBatch> {
        Ok(self.inner.create_raw(body).await?)
    }

    /// One batch: `GET /v1/messages/batches/{id}`.
    ///
    /// # Errors
    ///
    /// [`Error::is_api`](crate::Error::is_api) with status 404 for an
    /// unknown id; transport failures.
    pub async fn retrieve(&self, id: &str) -> Result<MessageBatch> {
        Ok(self.inner.retrieve(id).await?)
    }

    /// Cancels a batch: `POST /v1/messages/batches/{id}/cancel`.
    ///
    /// # Errors
    ///
    /// As [`retrieve`](Batches::retrieve).
    pub async fn cancel(&self, id: &str) -> Result<MessageBatch> {
        Ok(self.inner.cancel(id).await?)
    }

    /// Deletes an ended batch: `DELETE /v1/messages/batches/{id}`.
    ///
    /// # Errors
    ///
    /// As [`retrieve`](Batches::retrieve); the API refuses a batch still in
    /// progress.
    pub async fn delete(&self, id: &str) -> Result<DeletedMessageBatch> {
        Ok(self.inner.delete(id).await?)
    }

    /// One page of batches, newest first.
    ///
    /// # Errors
    ///
    /// Transport failures and API errors.
    pub async fn list_page(&self, params: &ListParams) -> Result<Page<MessageBatch>> {
        Ok(self.inner.list_page(params).await?)
    }

    /// Every batch, newest first, one page at a time as the stream is
    /// pulled (see [`messages_batch::Batches::list`]).
    pub fn list(&self, params: ListParams) -> BatchList {
        BatchList::from(self.inner.list(params))
    }

    /// The results of an ended batch, one line at a time (see
    /// [`messages_batch::Batches::results`]).
    ///
    /// # Errors
    ///
    /// The batch is unknown or not ended, or the transport failed; each
    /// line of the stream can fail too (a truncated body, a bad line).
    pub async fn results(&self, id: &str) -> Result<ResultsStream> {
        Ok(ResultsStream::from(self.inner.results(id).await?))
    }

    /// Polls a batch until it ends (see [`messages_batch::Batches::wait`]).
    ///
    /// # Errors
    ///
    /// [`Error::is_timeout`](crate::Error::is_timeout) at the deadline of
    /// `opts`; transport failures and API errors.
    pub async fn wait(&self, id: &str, opts: WaitOptions) -> Result<MessageBatch> {
        Ok(self.inner.wait(id, opts).await?)
    }

    /// Submits a job: checks it, splits it into batches and creates them
    /// (see [`BatchJob::submit`]).
    ///
    /// # Errors
    ///
    /// As [`BatchJob::submit`]; after a partial submission,
    /// [`Error::created_batches`](crate::Error::created_batches) lists the
    /// batches already created.
    pub async fn submit(&self, job: &BatchJob) -> Result<SubmittedJob> {
        Ok(SubmittedJob::from(job.submit(&self.inner).await?))
    }
}

// ===== impl BatchList =====

/// Every batch, from [`Batches::list`]: [`messages_batch::BatchList`] with
/// its errors as [`messages::Error`](crate::Error). After an error the
/// stream ends.
pub struct BatchList {
    inner: messages_batch::BatchList,
}

wrapper!(BatchList, messages_batch::BatchList);
mapped_stream!(BatchList, MessageBatch);

impl fmt::Debug for BatchList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BatchList").finish_non_exhaustive()
    }
}

// ===== impl ResultsStream =====

/// The results of one batch, from [`Batches::results`]:
/// [`messages_batch::ResultsStream`] with its errors as
/// [`messages::Error`](crate::Error).
///
/// Dropping it closes the connection.
#[derive(Debug)]
pub struct ResultsStream {
    inner: messages_batch::ResultsStream,
}

wrapper!(ResultsStream, messages_batch::ResultsStream);
mapped_stream!(ResultsStream, BatchResultLine);

impl ResultsStream {
    /// The id of the batch being read.
    pub fn batch_id(&self) -> &str {
        self.inner.batch_id()
    }

    /// The next line, undecoded (see
    /// [`messages_batch::ResultsStream::next_raw`]).
    pub async fn next_raw(&mut self) -> Option<Result<RawLine>> {
        self.inner.next_raw().await.map(|r| r.map_err(Into::into))
    }
}

// ===== impl SubmittedJob =====

/// A submitted job, from [`Batches::submit`]:
/// [`messages_batch::SubmittedJob`] with its errors as
/// [`messages::Error`](crate::Error).
#[derive(Debug)]
pub struct SubmittedJob {
    inner: messages_batch::SubmittedJob,
}

wrapper!(SubmittedJob, messages_batch::SubmittedJob);

impl SubmittedJob {
    /// Attaches to batches already created for `job`, after a restart for
    /// example ([`messages_batch::SubmittedJob::attach`]).
    pub fn attach(batches: Batches, batch_ids: Vec<String>, job: &BatchJob) -> SubmittedJob {
        SubmittedJob::from(messages_batch::SubmittedJob::attach(
            batches.inner,
            batch_ids,
            job,
        ))
    }

    /// Rebuilds a job from its batch ids alone
    /// ([`messages_batch::SubmittedJob::from_batch_ids`]).
    pub fn from_batch_ids(
        batches: Batches,
        batch_ids: impl IntoIterator<Item = impl Into<String>>,
    ) -> SubmittedJob {
        SubmittedJob::from(messages_batch::SubmittedJob::from_batch_ids(
            batches.inner,
            batch_ids,
        ))
    }

    /// The ids of the job's batches, in submission order.
    pub fn batch_ids(&self) -> &[String] {
        self.inner.batch_ids()
    }

    /// The number of requests in the job (0 when it was rebuilt
    /// [`from_batch_ids`](SubmittedJob::from_batch_ids)).
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    /// Whether the job has no requests (as [`len`](SubmittedJob::len)).
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    /// The progress of all the job's batches together (one retrieve each).
    ///
    /// # Errors
    ///
    /// Transport failures and API errors.
    pub async fn progress(&self) -> Result<Progress> {
        Ok(self.inner.progress().await?)
    }

    /// Polls until every batch has ended (see
    /// [`messages_batch::SubmittedJob::wait`]).
    ///
    /// # Errors
    ///
    /// [`Error::is_timeout`](crate::Error::is_timeout) at the deadline;
    /// transport failures and API errors.
    pub async fn wait(&self, opts: WaitOptions) -> Result<Vec<MessageBatch>> {
        Ok(self.inner.wait(opts).await?)
    }

    /// Cancels every batch of the job.
    ///
    /// # Errors
    ///
    /// Transport failures and API errors.
    pub async fn cancel(&self) -> Result<Vec<MessageBatch>> {
        Ok(self.inner.cancel().await?)
    }

    /// The results of every batch, in batch order, each `custom_id` checked
    /// against the job (see [`messages_batch::SubmittedJob::results`]).
    pub fn results(&self) -> JobResults {
        JobResults::from(self.inner.results())
    }
}

// ===== impl JobResults =====

/// The results of a job, from [`SubmittedJob::results`]:
/// [`messages_batch::JobResults`] with its errors as
/// [`messages::Error`](crate::Error). After an error the stream ends.
///
/// Dropping it closes the connection of the batch being read.
#[derive(Debug)]
pub struct JobResults {
    inner: messages_batch::JobResults,
}

wrapper!(JobResults, messages_batch::JobResults);
mapped_stream!(JobResults, BatchResultLine);

impl JobResults {
    /// The summary of the results read so far.
    pub fn summary(&self) -> &Summary {
        self.inner.summary()
    }

    /// The `custom_id`s read so far whose result calls for another attempt.
    pub fn resubmittable(&self) -> &[String] {
        self.inner.resubmittable()
    }

    /// A job of the requests of `job` to submit again once the stream has
    /// ended (see [`messages_batch::JobResults::retry_job`]).
    pub fn retry_job(&self, job: &BatchJob) -> BatchJob {
        self.inner.retry_job(job)
    }
}

// ===== impl Runner =====

/// The crash-safe local runner, from [`Client::runner`](crate::Client::runner):
/// [`messages_batch::LocalRunner`] with its errors as
/// [`messages::Error`](crate::Error).
///
/// Each setter is the batch runner's (see it for the defaults, the
/// checkpoint format, the run-wide errors and the cancellation rules).
#[derive(Debug, Clone)]
pub struct Runner {
    inner: messages_batch::LocalRunner,
}

wrapper!(Runner, messages_batch::LocalRunner);

/// Forwards a consuming setter of `LocalRunner`.
macro_rules! setter {
    ($(#[$doc:meta])* $name:ident($ty:ty)) => {
        $(#[$doc])*
        pub fn $name(self, value: $ty) -> Runner {
            Runner::from(self.inner.$name(value))
        }
    };
}

impl Runner {
    /// A runner over `transport`.
    pub fn new(transport: Transport) -> Runner {
        Runner::from(messages_batch::LocalRunner::new(transport))
    }

    setter!(
        /// The longest checkpoint line accepted ([`messages_batch::LocalRunner::max_line_len`]).
        max_line_len(usize)
    );
    setter!(
        /// Requests in flight at once ([`messages_batch::LocalRunner::concurrency`]).
        concurrency(usize)
    );
    setter!(
        /// Sync the checkpoint after each result ([`messages_batch::LocalRunner::fsync`]).
        fsync(bool)
    );
    setter!(
        /// Send retryable errors of an earlier run again ([`messages_batch::LocalRunner::retry_errored`]).
        retry_errored(bool)
    );
    setter!(
        /// Send again requests changed since their result ([`messages_batch::LocalRunner::rerun_changed`]).
        rerun_changed(bool)
    );
    setter!(
        /// Consecutive run-wide errors that stop the run ([`messages_batch::LocalRunner::run_wide_errors`]).
        run_wide_errors(usize)
    );
    setter!(
        /// Retries of each request ([`messages_batch::LocalRunner::retries`]).
        retries(u32)
    );
    setter!(
        /// The longest wait the API may ask for ([`messages_batch::LocalRunner::max_wait`]).
        max_wait(Duration)
    );
    setter!(
        /// How long requests in flight may finish after a stop ([`messages_batch::LocalRunner::stop_grace`]).
        stop_grace(Duration)
    );

    /// Calls `f` with the [`Progress`] after every acknowledged result
    /// ([`messages_batch::LocalRunner::on_progress`]).
    pub fn on_progress(self, f: impl Fn(&Progress) + Send + Sync + 'static) -> Runner {
        Runner::from(self.inner.on_progress(f))
    }

    /// A watch channel of the progress ([`messages_batch::LocalRunner::watch`]).
    pub fn watch(&mut self) -> tokio::sync::watch::Receiver<Progress> {
        self.inner.watch()
    }

    /// Runs the job to completion ([`messages_batch::LocalRunner::run`]).
    ///
    /// # Errors
    ///
    /// As [`run_until`](Runner::run_until).
    pub async fn run(&self, job: &BatchJob, checkpoint: impl AsRef<Path>) -> Result<RunReport> {
        Ok(self.inner.run(job, checkpoint).await?)
    }

    /// Runs the job until it is done or `stop` completes
    /// ([`messages_batch::LocalRunner::run_until`]).
    ///
    /// # Errors
    ///
    /// [`Error::is_checkpoint`](crate::Error::is_checkpoint) (in use,
    /// unreadable, for another job), [`Error::is_io`](crate::Error::is_io),
    /// [`Error::is_run_wide`](crate::Error::is_run_wide) (an error that
    /// fails every request, such as a bad key) and
    /// [`Error::is_rate_limited`](crate::Error::is_rate_limited) (a wait
    /// longer than [`max_wait`](Runner::max_wait)).
    ///
    /// # Cancellation
    ///
    /// Dropping the future abandons the requests in flight at once; every
    /// acknowledged result is already in the checkpoint.
    pub async fn run_until(
        &self,
        job: &BatchJob,
        checkpoint: impl AsRef<Path>,
        stop: impl Future<Output = ()>,
    ) -> Result<RunReport> {
        Ok(self.inner.run_until(job, checkpoint, stop).await?)
    }

    /// Writes the job's results from the checkpoint to `output`, in job
    /// order ([`messages_batch::LocalRunner::write_output`]); returns the
    /// lines written.
    ///
    /// # Errors
    ///
    /// The checkpoint is unreadable or the output cannot be written.
    pub fn write_output(
        &self,
        job: &BatchJob,
        checkpoint: impl AsRef<Path>,
        output: impl AsRef<Path>,
    ) -> Result<u64> {
        Ok(self.inner.write_output(job, checkpoint, output)?)
    }
}
