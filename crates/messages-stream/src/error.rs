//! The streaming facade's one opaque error type.

use std::error::Error as StdError;
use std::fmt;

use messages_types::error::{ApiError, ErrorResponse};
use messages_types::{DecodeError, Message};

/// A `Result` alias where the error is this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong with a stream.
///
/// It is opaque, like [`messages_http::Error`]: ask with the predicates.
/// `Display` prints one line naming what happened, the event number where it
/// applies, and the request id when known; the cause (a transport or JSON
/// error) is in [`source`](StdError::source), so a chain printer such as
/// anyhow's `{:#}` prints each once. A transport failure before the stream
/// began is transparent: its line is the transport error's. The wording is
/// unspecified.
///
/// Whenever a stream fails after `message_start`, [`Error::partial`] holds the
/// message accumulated up to the failure, so no received data is lost.
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: Kind,
    request_id: Option<String>,
    /// 1-based number of the event that caused the error (within its attempt).
    event: Option<u64>,
    detail: String,
    partial: Option<Message>,
    source: Option<Box<dyn StdError + Send + Sync>>,
    raw: Option<String>,
    api: Option<ErrorResponse>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// The transport failed: connect, status, timeout, or body error before
    /// any event arrived (see the source).
    Http,
    /// A mid-stream `error` event.
    Api,
    /// The stream ended, or broke, before `message_stop`.
    Incomplete,
    /// Events out of order or inconsistent with each other.
    Protocol,
    /// An event's JSON did not decode.
    Decode,
    /// An SSE event exceeded the parser's size limit.
    EventTooLarge,
    /// A tool_use block's input was not valid JSON at `content_block_stop`.
    ToolInput,
    /// Resumption was requested but is impossible at this point.
    Resume,
    /// A 2xx reply that is not an event stream (HTML, JSON that is not an
    /// error, a compressed body).
    NotEventStream,
}

impl Error {
    pub(crate) fn new(kind: Kind, detail: impl Into<String>) -> Error {
        Error {
            inner: Box::new(Inner {
                kind,
                request_id: None,
                event: None,
                detail: detail.into(),
                partial: None,
                source: None,
                raw: None,
                api: None,
            }),
        }
    }

    pub(crate) fn transport(err: messages_http::Error) -> Error {
        let mut e = Error::new(Kind::Http, String::new());
        e.inner.request_id = err.request_id().map(str::to_owned);
        e.inner.source = Some(Box::new(err));
        e
    }

    pub(crate) fn api(response: ErrorResponse) -> Error {
        let mut e = Error::new(Kind::Api, String::new());
        e.inner.request_id.clone_from(&response.request_id);
        e.inner.api = Some(response);
        e
    }

    /// An API error body sent as a 2xx reply instead of an event stream.
    pub(crate) fn api_in_reply(response: ErrorResponse) -> Error {
        let mut e = Error::api(response);
        e.inner.detail =
            "a JSON error body sent with a success status instead of an event stream".to_owned();
        e
    }

    pub(crate) fn decode(err: DecodeError) -> Error {
        let mut e = Error::new(Kind::Decode, String::new());
        e.inner.source = Some(Box::new(err));
        e
    }

    pub(crate) fn with_source(
        mut self,
        source: impl Into<Box<dyn StdError + Send + Sync>>,
    ) -> Error {
        self.inner.source = Some(source.into());
        self
    }

    pub(crate) fn with_raw(mut self, raw: String) -> Error {
        self.inner.raw = Some(raw);
        self
    }

    pub(crate) fn at_event(mut self, n: u64) -> Error {
        self.inner.event.get_or_insert(n);
        self
    }

    pub(crate) fn with_request_id(mut self, id: Option<&str>) -> Error {
        if self.inner.request_id.is_none() {
            self.inner.request_id = id.map(str::to_owned);
        }
        self
    }

    pub(crate) fn with_partial(mut self, partial: Option<Message>) -> Error {
        if self.inner.partial.is_none() {
            self.inner.partial = partial;
        }
        self
    }

    /// The transport failed (connect, HTTP status, timeout) before the
    /// stream began. [`Error::http`] has the details.
    pub fn is_http(&self) -> bool {
        self.inner.kind == Kind::Http
    }

    /// The API sent an `error` event mid-stream (such as `overloaded_error`).
    /// [`Error::api_error`] has the error.
    pub fn is_api(&self) -> bool {
        self.inner.kind == Kind::Api || self.http().is_some_and(messages_http::Error::is_api)
    }

    /// The stream ended or broke before `message_stop`: the connection
    /// closed early, the body stalled past the idle timeout, or the bytes
    /// stopped inside an event. [`Error::partial`] holds what arrived.
    pub fn is_incomplete(&self) -> bool {
        self.inner.kind == Kind::Incomplete
    }

    /// The stream stalled longer than the idle timeout (an incomplete stream).
    pub fn is_idle_timeout(&self) -> bool {
        self.http()
            .is_some_and(messages_http::Error::is_idle_timeout)
    }

    /// Events arrived out of order or inconsistent with each other (a delta
    /// before its block's start, an index jump, an event after
    /// `message_stop`...).
    pub fn is_protocol(&self) -> bool {
        self.inner.kind == Kind::Protocol
    }

    /// An event was not valid JSON for its type, or exceeded the SSE event
    /// size limit.
    pub fn is_decode(&self) -> bool {
        matches!(self.inner.kind, Kind::Decode | Kind::EventTooLarge)
    }

    /// The reply was not an event stream: its `content-type` is not
    /// `text/event-stream` (a captive portal's HTML page, say) or its
    /// `content-encoding` is not identity. The message names both and quotes
    /// the start of the body. A JSON error body is an [API
    /// error](Error::is_api) instead.
    pub fn is_not_event_stream(&self) -> bool {
        self.inner.kind == Kind::NotEventStream
    }

    /// A `tool_use` block's input was not valid JSON when the block stopped.
    /// [`Error::raw_tool_input`] has the text received.
    pub fn is_tool_input(&self) -> bool {
        self.inner.kind == Kind::ToolInput
    }

    /// Resumption was enabled, but the stream broke where it cannot resume
    /// (inside a `tool_use` or `thinking` block, with the attempts used up,
    /// ...). The source is the failure that triggered the attempt.
    pub fn is_resume(&self) -> bool {
        self.inner.kind == Kind::Resume
    }

    /// The request id, from the response's `request-id` header or the error
    /// body.
    pub fn request_id(&self) -> Option<&str> {
        self.inner.request_id.as_deref()
    }

    /// The 1-based number of the event that caused the error, counted from
    /// the start of its response.
    pub fn event_number(&self) -> Option<u64> {
        self.inner.event
    }

    /// The API's error: from a mid-stream `error` event or an error status.
    pub fn api_error(&self) -> Option<&ApiError> {
        self.error_response().map(|r| &r.error)
    }

    /// The API's whole error body.
    pub fn error_response(&self) -> Option<&ErrorResponse> {
        match &self.inner.api {
            Some(r) => Some(r),
            None => self.http().and_then(messages_http::Error::error_response),
        }
    }

    /// The transport error, when the transport failed.
    pub fn http(&self) -> Option<&messages_http::Error> {
        let mut source: Option<&(dyn StdError + 'static)> =
            self.inner.source.as_deref().map(|s| s as _);
        while let Some(s) = source {
            if let Some(e) = s.downcast_ref::<messages_http::Error>() {
                return Some(e);
            }
            source = s.source();
        }
        None
    }

    /// The message accumulated before the failure (`None` when the stream
    /// failed before `message_start`). Tool inputs of blocks that had not
    /// stopped are left as their `content_block_start` value.
    pub fn partial(&self) -> Option<&Message> {
        self.inner.partial.as_ref()
    }

    /// Takes the partial message out of the error.
    pub fn into_partial(self) -> Option<Message> {
        self.inner.partial
    }

    /// For [`is_tool_input`](Error::is_tool_input) errors: the raw text of the
    /// tool input as received.
    pub fn raw_tool_input(&self) -> Option<&str> {
        self.inner.raw.as_deref()
    }
}

impl From<messages_http::Error> for Error {
    fn from(err: messages_http::Error) -> Error {
        Error::transport(err)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &*self.inner;
        match inner.kind {
            Kind::Http => match &inner.source {
                Some(s) => write!(f, "{s}")?,
                None => f.write_str("transport error")?,
            },
            Kind::Api => {
                let what = if inner.detail.is_empty() {
                    "API error event".to_owned()
                } else {
                    format!("API error ({})", inner.detail)
                };
                match &inner.api {
                    Some(r) => write!(f, "{what}: {}", r.error)?,
                    None => f.write_str(&what)?,
                }
            }
            Kind::Incomplete => write!(f, "incomplete stream: {}", inner.detail)?,
            Kind::Protocol => write!(f, "inconsistent stream: {}", inner.detail)?,
            Kind::Decode if inner.detail.is_empty() => f.write_str("undecodable event")?,
            Kind::Decode => write!(f, "undecodable event: {}", inner.detail)?,
            Kind::EventTooLarge => write!(f, "{}", inner.detail)?,
            Kind::ToolInput => write!(f, "invalid tool input: {}", inner.detail)?,
            Kind::Resume => write!(f, "cannot resume the stream: {}", inner.detail)?,
            Kind::NotEventStream => {
                write!(f, "the reply is not an event stream: {}", inner.detail)?
            }
        }
        if let Some(n) = inner.event {
            write!(f, " (event {n})")?;
        }
        // Named once in a chain: a transport cause prints its own.
        if let Some(id) = &inner.request_id
            && inner.kind != Kind::Http
            && self.http().and_then(messages_http::Error::request_id) != Some(id.as_str())
        {
            write!(f, " [request-id {id}]")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &*self.inner;
        let mut d = f.debug_struct("Error");
        d.field("kind", &inner.kind);
        if !inner.detail.is_empty() {
            d.field("detail", &inner.detail);
        }
        if let Some(n) = inner.event {
            d.field("event", &n);
        }
        if let Some(id) = &inner.request_id {
            d.field("request_id", id);
        }
        if let Some(api) = &inner.api {
            d.field("api", &api.error);
        }
        if let Some(s) = &inner.source {
            d.field("source", s);
        }
        d.field("partial", &inner.partial.is_some());
        d.finish()
    }
}

/// The causes below this layer: for a transport failure, whose line
/// `Display` already printed, the transport error's own causes.
impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        let source = self.inner.source.as_deref()?;
        match self.inner.kind {
            Kind::Http => source.source(),
            _ => Some(source),
        }
    }
}
