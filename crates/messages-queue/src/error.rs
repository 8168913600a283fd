//! The crate's [`Error`].

use std::fmt;

/// A `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// An error of the queue, a worker or a callback.
///
/// Opaque: ask it what it is with the `is_*` predicates. Its `Display`
/// names what failed and where (the line of an input file, the job id).
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: Kind,
    message: String,
    line: Option<u64>,
    source: Option<BoxError>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Redis answered with an error or could not be reached.
    Redis,
    /// A file of the local store could not be read or written.
    Io,
    /// A job, a job file line or an argument is invalid.
    Input,
    /// The store holds data this version cannot read.
    Corrupt,
    /// A request failed in a way that stops the worker (a bad key).
    Fatal,
    /// A callback signature did not verify.
    Signature,
    /// The Message Batches API failed (coordinator).
    Batch,
}

impl Error {
    pub(crate) fn new(kind: Kind, message: impl Into<String>) -> Error {
        Error {
            inner: Box::new(Inner {
                kind,
                message: message.into(),
                line: None,
                source: None,
            }),
        }
    }

    pub(crate) fn input(message: impl Into<String>) -> Error {
        Error::new(Kind::Input, message)
    }

    pub(crate) fn redis(what: &str, e: redis::RedisError) -> Error {
        Error::new(Kind::Redis, format!("redis: {what}: {e}")).with_source(e)
    }

    pub(crate) fn io(what: String, e: std::io::Error) -> Error {
        Error::new(Kind::Io, format!("{what}: {e}")).with_source(e)
    }

    pub(crate) fn with_source(mut self, e: impl Into<BoxError>) -> Error {
        self.inner.source = Some(e.into());
        self
    }

    pub(crate) fn with_line(mut self, line: u64) -> Error {
        self.inner.line = Some(line);
        self
    }

    /// Redis answered with an error or could not be reached. Workers retry
    /// these by themselves; a caller may too.
    pub fn is_redis(&self) -> bool {
        self.inner.kind == Kind::Redis
    }

    /// A file of the local store could not be read or written.
    pub fn is_io(&self) -> bool {
        self.inner.kind == Kind::Io
    }

    /// A job, a line of a job file, or an argument is invalid.
    pub fn is_input(&self) -> bool {
        self.inner.kind == Kind::Input
    }

    /// The store holds data this version cannot read.
    pub fn is_corrupt(&self) -> bool {
        self.inner.kind == Kind::Corrupt
    }

    /// A worker stopped because the API refused its credentials (401, 403):
    /// every job would fail the same way, so it stops instead of burning
    /// the queue.
    pub fn is_fatal(&self) -> bool {
        self.inner.kind == Kind::Fatal
    }

    /// A callback signature is missing, malformed, too old, or wrong.
    pub fn is_signature(&self) -> bool {
        self.inner.kind == Kind::Signature
    }

    /// The Message Batches API failed or refused a batch (the coordinator
    /// retries on its next pass).
    pub fn is_batch(&self) -> bool {
        self.inner.kind == Kind::Batch
    }

    /// The 1-based line of the job file this error is about, if any.
    pub fn line(&self) -> Option<u64> {
        self.inner.line
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("messages_queue::Error");
        d.field("kind", &self.inner.kind)
            .field("message", &self.inner.message);
        if let Some(line) = self.inner.line {
            d.field("line", &line);
        }
        if let Some(s) = &self.inner.source {
            d.field("source", s);
        }
        d.finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.inner.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner.source.as_ref().map(|e| &**e as _)
    }
}
