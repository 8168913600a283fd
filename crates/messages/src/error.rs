//! The one error type of the umbrella crate.

use std::error::Error as StdError;
use std::fmt;

use messages_types::Message;
use messages_types::error::{ApiError, ErrorResponse, ErrorType};

/// A `Result` alias where the error is [`messages::Error`](Error).
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a call of [`Client`](crate::Client) failed: every method (`create`,
/// `stream`, `count_tokens`, `models`, `batches`, the runner) returns it.
///
/// It is opaque and one pointer wide. Ask with the kind predicates
/// ([`is_api`](Error::is_api), [`is_timeout`](Error::is_timeout),
/// [`is_incomplete`](Error::is_incomplete), ...) and the accessors
/// ([`status`](Error::status), [`request_id`](Error::request_id),
/// [`error_type`](Error::error_type), [`partial`](Error::partial), ...);
/// they answer the same whichever layer failed.
///
/// `Display` prints one line for the layer that failed and
/// [`source`](StdError::source) carries the causes below it, so the
/// alternate form of `anyhow` (`{:#}`) prints each cause once. The layer's
/// own error is reachable with [`http`](Error::http),
/// [`stream`](Error::stream) and [`batch`](Error::batch) for details only
/// that layer has.
///
/// ```no_run
/// # async fn run(client: messages::Client, request: messages::MessageRequest) {
/// match client.create(&request).await {
///     Ok(message) => println!("{}", message.text()),
///     Err(e) if e.is_rate_limited() => eprintln!("slow down: {e}"),
///     Err(e) => eprintln!("failed (status {:?}, request {:?}): {e}", e.status(), e.request_id()),
/// }
/// # }
/// ```
pub struct Error {
    inner: Box<Layer>,
}

enum Layer {
    /// Refused by this crate before anything was sent.
    Invalid(String),
    Http(messages_http::Error),
    Stream(messages_stream::Error),
    #[cfg(feature = "batch")]
    Batch(messages_batch::Error),
}

impl Error {
    pub(crate) fn invalid(reason: impl Into<String>) -> Error {
        Error {
            inner: Box::new(Layer::Invalid(reason.into())),
        }
    }

    /// The transport's error, whichever layer wrapped it.
    pub fn http(&self) -> Option<&messages_http::Error> {
        match &*self.inner {
            Layer::Invalid(_) => None,
            Layer::Http(e) => Some(e),
            Layer::Stream(e) => e.http(),
            #[cfg(feature = "batch")]
            Layer::Batch(e) => e.http(),
        }
    }

    /// The streaming facade's error, when a stream failed.
    pub fn stream(&self) -> Option<&messages_stream::Error> {
        match &*self.inner {
            Layer::Stream(e) => Some(e),
            _ => None,
        }
    }

    /// The batch facade's error, when a batch operation or the runner failed.
    #[cfg(feature = "batch")]
    pub fn batch(&self) -> Option<&messages_batch::Error> {
        match &*self.inner {
            Layer::Batch(e) => Some(e),
            _ => None,
        }
    }

    // ===== kinds =====

    /// The API answered with an error: an error status, or an `error` event
    /// in the middle of a stream. [`api_error`](Error::api_error) has it.
    pub fn is_api(&self) -> bool {
        self.api_error().is_some()
    }

    /// The API answered 429 or a `rate_limit_error`, or the runner stopped
    /// because the API asked it to wait longer than its maximum wait.
    pub fn is_rate_limited(&self) -> bool {
        #[cfg(feature = "batch")]
        if self
            .batch()
            .is_some_and(messages_batch::Error::is_rate_limited)
        {
            return true;
        }
        self.error_type() == Some(&ErrorType::RateLimit)
    }

    /// A 200 reply that is not an event stream (a proxy's page, a
    /// compressed body); the message names its content type and quotes it.
    pub fn is_not_event_stream(&self) -> bool {
        self.stream()
            .is_some_and(messages_stream::Error::is_not_event_stream)
    }

    /// A stream broke where resumption cannot continue it (see
    /// [`ResumePolicy`](crate::ResumePolicy)); [`partial`](Error::partial) has
    /// what arrived.
    pub fn is_resume(&self) -> bool {
        self.stream().is_some_and(messages_stream::Error::is_resume)
    }

    /// The error is worth retrying later: rate limits, overload, the API's
    /// internal errors and timeouts, connection failures and timeouts.
    /// Authentication, permission, billing, not-found and invalid requests
    /// are not.
    pub fn is_retryable(&self) -> bool {
        match self.error_type() {
            Some(t) => t.is_retryable(),
            None => self.is_connect() || self.is_timeout(),
        }
    }

    /// The connection to the API could not be established.
    pub fn is_connect(&self) -> bool {
        self.http().is_some_and(messages_http::Error::is_connect)
    }

    /// A timeout: connect, response headers, the overall deadline, the idle
    /// timeout of a body, or a batch wait that reached its deadline.
    pub fn is_timeout(&self) -> bool {
        #[cfg(feature = "batch")]
        if self.batch().is_some_and(messages_batch::Error::is_timeout) {
            return true;
        }
        self.http().is_some_and(messages_http::Error::is_timeout)
    }

    /// A stream stalled longer than the idle timeout.
    pub fn is_idle_timeout(&self) -> bool {
        self.http()
            .is_some_and(messages_http::Error::is_idle_timeout)
    }

    /// A stream ended or broke before `message_stop`;
    /// [`partial`](Error::partial) has what arrived.
    ///
    /// This includes a broken stream that resumption could not continue
    /// ([`is_resume`](Error::is_resume) is then true as well): the reply is
    /// incomplete either way, and its partial message is kept.
    pub fn is_incomplete(&self) -> bool {
        self.stream()
            .is_some_and(|e| e.is_incomplete() || e.is_resume())
    }

    /// Nothing was sent: the configuration or the request is invalid (bad
    /// base URL or header, credentials over plain HTTP, a bad `custom_id`,
    /// an invalid job file, a non-streaming request that needs streaming).
    pub fn is_invalid_request(&self) -> bool {
        #[cfg(feature = "batch")]
        if self
            .batch()
            .is_some_and(messages_batch::Error::is_invalid_input)
        {
            return true;
        }
        matches!(*self.inner, Layer::Invalid(_))
            || self
                .http()
                .is_some_and(|h| h.is_builder() || h.is_streaming_required())
    }

    /// A response did not decode: a JSON body, an event or a results line
    /// that is not what the API sends.
    pub fn is_decode(&self) -> bool {
        match &*self.inner {
            Layer::Invalid(_) => false,
            Layer::Http(e) => e.is_decode(),
            Layer::Stream(e) => e.is_decode() || e.is_protocol() || e.is_tool_input(),
            #[cfg(feature = "batch")]
            Layer::Batch(e) => e.is_decode() || e.is_line_too_long() || e.is_truncated(),
        }
    }

    /// A [`LocalRunner`](messages_batch::LocalRunner) checkpoint holds
    /// results of requests whose params changed since; nothing was sent
    /// (see [`messages_batch::Error::is_changed`]).
    /// [`custom_id`](Error::custom_id) is the first such request.
    #[cfg(feature = "batch")]
    pub fn is_changed(&self) -> bool {
        self.batch().is_some_and(messages_batch::Error::is_changed)
    }

    /// A [`LocalRunner`](messages_batch::LocalRunner) run stopped because
    /// an API answer said every request would fail (authentication,
    /// permission, billing, an unknown model); see
    /// [`messages_batch::Error::is_run_wide`]. The message names the
    /// API's error type.
    #[cfg(feature = "batch")]
    pub fn is_run_wide(&self) -> bool {
        self.batch().is_some_and(messages_batch::Error::is_run_wide)
    }

    /// A [`LocalRunner`](messages_batch::LocalRunner) checkpoint file has a
    /// complete line that is not a result of this job; the file is left as
    /// it is (see [`messages_batch::Error::is_checkpoint`]).
    #[cfg(feature = "batch")]
    pub fn is_checkpoint(&self) -> bool {
        self.batch()
            .is_some_and(messages_batch::Error::is_checkpoint)
    }

    /// Reading or writing a local file failed (a job file, a checkpoint, an
    /// output).
    pub fn is_io(&self) -> bool {
        #[cfg(feature = "batch")]
        return self.batch().is_some_and(messages_batch::Error::is_io);
        #[cfg(not(feature = "batch"))]
        false
    }

    // ===== accessors =====

    /// The HTTP status of an API error.
    pub fn status(&self) -> Option<http::StatusCode> {
        self.http().and_then(messages_http::Error::status)
    }

    /// The request id, from the `request-id` header or the error body.
    pub fn request_id(&self) -> Option<&str> {
        match &*self.inner {
            Layer::Stream(e) => e.request_id(),
            _ => self.http().and_then(messages_http::Error::request_id),
        }
    }

    /// The API's error (type and message), from an error status or a
    /// mid-stream `error` event.
    pub fn api_error(&self) -> Option<&ApiError> {
        self.error_response().map(|r| &r.error)
    }

    /// The API's whole error body.
    pub fn error_response(&self) -> Option<&ErrorResponse> {
        match &*self.inner {
            Layer::Stream(e) => e.error_response(),
            _ => self.http().and_then(messages_http::Error::error_response),
        }
    }

    /// The API's error type, such as `overloaded_error`.
    pub fn error_type(&self) -> Option<&ErrorType> {
        self.api_error().map(|a| &a.kind)
    }

    /// The API's error message.
    pub fn message(&self) -> Option<&str> {
        self.api_error().map(|a| a.message.as_str())
    }

    /// The message accumulated before a stream failed, so no received data
    /// is lost (`None` before `message_start` and for other calls).
    pub fn partial(&self) -> Option<&Message> {
        self.stream().and_then(messages_stream::Error::partial)
    }

    /// Takes the partial message out of the error.
    pub fn into_partial(self) -> Option<Message> {
        match *self.inner {
            Layer::Stream(e) => e.into_partial(),
            _ => None,
        }
    }

    /// The batches a partly failed job submit created before it failed,
    /// with the requests each holds: they exist and are billed, so do not
    /// submit those requests again (see
    /// [`BatchJob::without`](messages_batch::BatchJob::without)).
    #[cfg(feature = "batch")]
    pub fn created_batches(&self) -> &[messages_batch::CreatedBatch] {
        self.batch()
            .map_or(&[], messages_batch::Error::created_batches)
    }

    /// The batch a batch operation was about.
    #[cfg(feature = "batch")]
    pub fn batch_id(&self) -> Option<&str> {
        self.batch().and_then(messages_batch::Error::batch_id)
    }

    /// The `custom_id` a batch or runner error was about.
    #[cfg(feature = "batch")]
    pub fn custom_id(&self) -> Option<&str> {
        self.batch().and_then(messages_batch::Error::custom_id)
    }

    fn layer(&self) -> Option<&(dyn StdError + 'static)> {
        match &*self.inner {
            Layer::Invalid(_) => None,
            Layer::Http(e) => Some(e),
            Layer::Stream(e) => Some(e),
            #[cfg(feature = "batch")]
            Layer::Batch(e) => Some(e),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &*self.inner {
            Layer::Invalid(reason) => f.debug_tuple("Invalid").field(reason).finish(),
            Layer::Http(e) => fmt::Debug::fmt(e, f),
            Layer::Stream(e) => fmt::Debug::fmt(e, f),
            #[cfg(feature = "batch")]
            Layer::Batch(e) => fmt::Debug::fmt(e, f),
        }
    }
}

/// Transparent: the failing layer's own line.
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&*self.inner, self.layer()) {
            (Layer::Invalid(reason), _) => write!(f, "invalid request: {reason}"),
            (_, Some(layer)) => fmt::Display::fmt(layer, f),
            (_, None) => Ok(()),
        }
    }
}

/// Transparent: the failing layer's causes.
impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.layer().and_then(StdError::source)
    }
}

impl From<messages_http::Error> for Error {
    fn from(e: messages_http::Error) -> Error {
        Error {
            inner: Box::new(Layer::Http(e)),
        }
    }
}

impl From<messages_stream::Error> for Error {
    fn from(e: messages_stream::Error) -> Error {
        Error {
            inner: Box::new(Layer::Stream(e)),
        }
    }
}

#[cfg(feature = "batch")]
impl From<messages_batch::Error> for Error {
    fn from(e: messages_batch::Error) -> Error {
        Error {
            inner: Box::new(Layer::Batch(e)),
        }
    }
}
