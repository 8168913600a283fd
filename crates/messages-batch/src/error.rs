//! The crate's one opaque error type.

use std::error::Error as StdError;
use std::fmt;
use std::path::PathBuf;

use messages_types::DecodeError;

/// A `Result` alias where the error is this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a batch operation failed.
///
/// It is opaque: ask with the predicates ([`Error::is_http`],
/// [`Error::is_decode`], [`Error::is_truncated`], ...) and accessors
/// ([`Error::line`], [`Error::custom_id`], [`Error::http`]). `Display` prints
/// one line saying what happened and where; its wording is unspecified.
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: Kind,
    message: String,
    line: Option<u64>,
    custom_id: Option<String>,
    batch_id: Option<String>,
    path: Option<PathBuf>,
    created: Vec<CreatedBatch>,
    source: Option<Box<dyn StdError + Send + Sync>>,
}

/// A batch that a failed [`BatchJob::submit`](crate::BatchJob::submit)
/// created before the failure: it runs (and is billed) like any other.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CreatedBatch {
    /// The batch id.
    pub batch_id: String,
    /// The positions in the job ([`BatchJob::requests`](crate::BatchJob::requests))
    /// of the requests it holds.
    pub requests: std::ops::Range<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// The HTTP transport failed (the source is a `messages_http::Error`).
    Http,
    /// A results line is not a valid result.
    Decode,
    /// A results line is longer than the configured limit.
    LineTooLong,
    /// The results ended in the middle of a line.
    Truncated,
    /// The caller's input is invalid (custom_id, limits, input file).
    InvalidInput,
    /// `wait` reached its deadline.
    Timeout,
    /// Reading or writing a file failed.
    Io,
    /// A checkpoint file holds something that is not this job's results.
    Checkpoint,
    /// Results are missing, duplicated or unknown to the job.
    Incomplete,
    /// A checkpoint holds results of requests that have changed since.
    Changed,
    /// An API answer said that every request of the run would fail.
    RunWide,
    /// A 429/529 asked to wait longer than the run's maximum wait.
    RateLimited,
}

impl Error {
    pub(crate) fn new(kind: Kind, message: impl Into<String>) -> Error {
        Error {
            inner: Box::new(Inner {
                kind,
                message: message.into(),
                line: None,
                custom_id: None,
                batch_id: None,
                path: None,
                created: Vec::new(),
                source: None,
            }),
        }
    }

    pub(crate) fn from_http(e: messages_http::Error) -> Error {
        Error::new(Kind::Http, String::new()).with_source(e)
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Error {
        Error::new(Kind::InvalidInput, message)
    }

    pub(crate) fn io(path: impl Into<PathBuf>, what: &str, e: std::io::Error) -> Error {
        let path = path.into();
        Error::new(Kind::Io, format!("{what} {}", path.display()))
            .with_path(path)
            .with_source(e)
    }

    pub(crate) fn decode(line: u64, custom_id: Option<String>, e: DecodeError) -> Error {
        let message = match &custom_id {
            Some(id) => format!("results line {line} (custom_id {id}) is not a valid result"),
            None => format!("results line {line} is not a valid result"),
        };
        let mut err = Error::new(Kind::Decode, message).with_source(e);
        err.inner.line = Some(line);
        err.inner.custom_id = custom_id;
        err
    }

    pub(crate) fn with_source(mut self, e: impl StdError + Send + Sync + 'static) -> Error {
        self.inner.source = Some(Box::new(e));
        self
    }

    pub(crate) fn with_line(mut self, line: u64) -> Error {
        self.inner.line = Some(line);
        self
    }

    pub(crate) fn with_custom_id(mut self, id: impl Into<String>) -> Error {
        self.inner.custom_id = Some(id.into());
        self
    }

    pub(crate) fn with_batch_id(mut self, id: impl Into<String>) -> Error {
        self.inner.batch_id = Some(id.into());
        self
    }

    /// Appends `; note` to the message.
    pub(crate) fn with_note(mut self, note: &str) -> Error {
        self.inner.message.push_str("; ");
        self.inner.message.push_str(note);
        self
    }

    pub(crate) fn with_created(mut self, created: Vec<CreatedBatch>) -> Error {
        self.inner.created = created;
        self
    }

    pub(crate) fn with_path(mut self, path: impl Into<PathBuf>) -> Error {
        self.inner.path = Some(path.into());
        self
    }

    /// Turns a results error into a checkpoint error about `path`.
    pub(crate) fn in_checkpoint(mut self, path: &std::path::Path) -> Error {
        if matches!(self.inner.kind, Kind::Decode | Kind::LineTooLong) {
            self.inner.kind = Kind::Checkpoint;
        }
        self.inner.message = format!("checkpoint {}: {}", path.display(), self.inner.message);
        self.inner.path = Some(path.to_path_buf());
        self
    }

    /// The HTTP transport failed; [`Error::http`] has the details (status,
    /// API error body, request id).
    pub fn is_http(&self) -> bool {
        self.inner.kind == Kind::Http
    }

    /// The transport error, when the transport failed.
    pub fn http(&self) -> Option<&messages_http::Error> {
        self.inner
            .source
            .as_deref()
            .and_then(|s| s.downcast_ref::<messages_http::Error>())
    }

    /// The transport error this error only wraps (adding no line of its own).
    fn transparent(&self) -> Option<&messages_http::Error> {
        match self.inner.message.is_empty() {
            true => self.http(),
            false => None,
        }
    }

    /// The HTTP status of an API error, such as 404.
    pub fn status(&self) -> Option<http::StatusCode> {
        self.http().and_then(messages_http::Error::status)
    }

    /// A results line is not a valid result line (bad JSON or a wrong
    /// shape). [`Error::line`] and, when it could be read, [`Error::custom_id`]
    /// say which.
    pub fn is_decode(&self) -> bool {
        self.inner.kind == Kind::Decode
    }

    /// A results line is longer than the configured maximum.
    pub fn is_line_too_long(&self) -> bool {
        self.inner.kind == Kind::LineTooLong
    }

    /// The results ended in the middle of a line: the body or file was cut
    /// short. Nothing after the last complete line was returned.
    pub fn is_truncated(&self) -> bool {
        self.inner.kind == Kind::Truncated
    }

    /// The caller's input is invalid: a bad or repeated `custom_id`, a
    /// request over the size limit, a malformed input line. Found before
    /// anything was sent.
    pub fn is_invalid_input(&self) -> bool {
        self.inner.kind == Kind::InvalidInput
    }

    /// [`wait`](crate::Batches::wait) reached its deadline before the batch
    /// ended.
    pub fn is_timeout(&self) -> bool {
        self.inner.kind == Kind::Timeout
    }

    /// Reading or writing a file failed; [`Error::path`] names it.
    pub fn is_io(&self) -> bool {
        self.inner.kind == Kind::Io
    }

    /// A checkpoint file has a complete line that is not a result of this
    /// job (not a result, or a `custom_id` the job does not have). The file
    /// is left as it is.
    pub fn is_checkpoint(&self) -> bool {
        self.inner.kind == Kind::Checkpoint
    }

    /// A job's results are incomplete or inconsistent: a request without a
    /// result, a result for an unknown `custom_id`, or two results for one.
    pub fn is_incomplete(&self) -> bool {
        self.inner.kind == Kind::Incomplete
    }

    /// A [`LocalRunner`](crate::LocalRunner) checkpoint holds results of
    /// requests whose params changed since (or that an older version saved
    /// without a fingerprint); nothing was sent. The message names how many
    /// and the first `custom_id`s; [`Error::custom_id`] is the first.
    pub fn is_changed(&self) -> bool {
        self.inner.kind == Kind::Changed
    }

    /// A [`LocalRunner`](crate::LocalRunner) run stopped because an API
    /// answer said that every request would fail: an authentication,
    /// permission or billing error, an unknown model, or a 413 for a
    /// request under the API's limit. The requests that got it have no
    /// result in the checkpoint; the next run sends them.
    pub fn is_run_wide(&self) -> bool {
        self.inner.kind == Kind::RunWide
    }

    /// A [`LocalRunner`](crate::LocalRunner) run stopped because a 429 or
    /// 529 asked to wait longer than its
    /// [`max_wait`](crate::LocalRunner::max_wait) (a usage cap, say). The
    /// message says when the limit resets; nothing was recorded for the
    /// refused request.
    pub fn is_rate_limited(&self) -> bool {
        self.inner.kind == Kind::RateLimited
    }

    /// The 1-based line number (of the results body, file or checkpoint)
    /// the error is about.
    pub fn line(&self) -> Option<u64> {
        self.inner.line
    }

    /// The `custom_id` the error is about, when known.
    pub fn custom_id(&self) -> Option<&str> {
        self.inner.custom_id.as_deref()
    }

    /// The batches a failed [`BatchJob::submit`](crate::BatchJob::submit)
    /// created before it failed, with the requests each holds (empty when
    /// none was). They run and are billed: watch them with
    /// [`SubmittedJob::from_batch_ids`](crate::SubmittedJob::from_batch_ids)
    /// or cancel them, and submit only the other requests again
    /// ([`BatchJob::without`](crate::BatchJob::without)).
    pub fn created_batches(&self) -> &[CreatedBatch] {
        &self.inner.created
    }

    /// The batch the error is about, when known.
    pub fn batch_id(&self) -> Option<&str> {
        self.inner.batch_id.as_deref()
    }

    /// The file the error is about, when known.
    pub fn path(&self) -> Option<&std::path::Path> {
        self.inner.path.as_deref()
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.inner.kind)
            .field("message", &self.inner.message)
            .field("line", &self.inner.line)
            .field("custom_id", &self.inner.custom_id)
            .field("batch_id", &self.inner.batch_id)
            .field("path", &self.inner.path)
            .field("created", &self.inner.created)
            .field("source", &self.inner.source)
            .finish()
    }
}

/// This layer's line only (transparent for a transport error, whose line it
/// is); the causes are in [`source`](StdError::source).
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(http) = self.transparent() {
            fmt::Display::fmt(http, f)?;
        } else {
            f.write_str(&self.inner.message)?;
        }
        if let Some(id) = &self.inner.batch_id {
            write!(f, " (batch {id})")?;
        }
        Ok(())
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self.transparent() {
            Some(http) => http.source(),
            None => self
                .inner
                .source
                .as_deref()
                .map(|e| e as &(dyn StdError + 'static)),
        }
    }
}

impl From<messages_http::Error> for Error {
    fn from(e: messages_http::Error) -> Error {
        Error::from_http(e)
    }
}
