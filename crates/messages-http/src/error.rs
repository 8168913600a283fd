//! The transport's one opaque error type.
//!
//! Follows reqwest's shape: an [`Error`] is a `Box` around a private `Inner`
//! so that it is one pointer wide, and callers ask questions with predicates
//! ([`Error::is_timeout`], [`Error::is_connect`], [`Error::is_api`], ...)
//! instead of matching on variants that would break every time a case is
//! added.

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use http::StatusCode;
use messages_types::error::{ApiError, ErrorResponse};

use crate::BoxError;

/// A `Result` alias where the error is this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The error type of the transport.
///
/// It is opaque: use the predicates and accessors to learn what happened.
/// `Display` prints one line that says what happened and, when known, the
/// request id and the number of attempts; the causes below it (an I/O or TLS
/// error, a JSON error) are in [`source`](StdError::source), so they are
/// printed once by a chain printer such as anyhow's `{:#}`. The exact wording is unspecified;
/// do not parse it.
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: Kind,
    source: Option<BoxError>,
    status: Option<StatusCode>,
    request_id: Option<String>,
    api: Option<ErrorResponse>,
    attempts: u32,
    detail: Option<String>,
    /// The response headers of an API error (for `retry-after` and the
    /// `anthropic-ratelimit-*` headers).
    headers: Option<http::HeaderMap>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Invalid configuration or request, found before anything was sent.
    Builder,
    /// Refused client-side: a non-streaming request that may exceed 10 minutes.
    StreamingRequired,
    /// The connection (TCP or TLS) could not be established.
    Connect,
    /// A timeout of some kind.
    Timeout(TimeoutKind),
    /// Any other failure while sending the request or receiving the head.
    Request,
    /// The API answered with a non-success status.
    Api,
    /// Reading the response body failed.
    Body,
    /// The body could not be decoded as the expected JSON.
    Decode,
    /// A body read whole was larger than its limit (bytes).
    TooLarge(usize),
    /// The server's replies break the API's rules (a list cursor that does
    /// not advance, say).
    Protocol,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimeoutKind {
    Connect(Duration),
    Headers(Duration),
    Deadline(Duration),
    Idle(Duration),
}

impl From<messages_types::VersionError> for Error {
    /// A request field the API version does not accept: a
    /// [builder](Error::is_builder) error, found before anything was sent.
    fn from(e: messages_types::VersionError) -> Error {
        Error::builder_msg(e.to_string())
    }
}

impl Error {
    /// A request refused before it was sent, for a reason found by a layer
    /// above the transport (a retired model, say): a
    /// [builder](Error::is_builder) error whose message is `detail`.
    pub fn client_side(detail: impl Into<String>) -> Error {
        Error::builder_msg(detail)
    }

    pub(crate) fn new(kind: Kind, source: Option<BoxError>) -> Error {
        Error {
            inner: Box::new(Inner {
                kind,
                source,
                status: None,
                request_id: None,
                api: None,
                attempts: 0,
                detail: None,
                headers: None,
            }),
        }
    }

    pub(crate) fn builder<E: Into<BoxError>>(e: E) -> Error {
        Error::new(Kind::Builder, Some(e.into()))
    }

    pub(crate) fn builder_msg(msg: impl Into<String>) -> Error {
        Error::new(Kind::Builder, None).with_detail(msg.into())
    }

    pub(crate) fn streaming_required(max_tokens: u64) -> Error {
        Error::new(Kind::StreamingRequired, None).with_detail(format!(
            "streaming is required for operations that may take longer than 10 minutes \
             (max_tokens = {max_tokens}); use a streaming request or set a timeout explicitly"
        ))
    }

    pub(crate) fn timeout(kind: TimeoutKind) -> Error {
        Error::new(Kind::Timeout(kind), None)
    }

    pub(crate) fn body<E: Into<BoxError>>(e: E) -> Error {
        Error::new(Kind::Body, Some(e.into()))
    }

    pub(crate) fn decode(e: serde_json::Error) -> Error {
        let detail = e.to_string();
        Error::new(Kind::Decode, Some(Box::new(e))).with_detail(detail)
    }

    pub(crate) fn too_large(limit: usize) -> Error {
        Error::new(Kind::TooLarge(limit), None)
    }

    pub(crate) fn protocol(detail: impl Into<String>) -> Error {
        Error::new(Kind::Protocol, None).with_detail(detail.into())
    }

    pub(crate) fn api(status: StatusCode, body: ErrorResponse) -> Error {
        let mut e = Error::new(Kind::Api, None);
        e.inner.status = Some(status);
        e.inner.api = Some(body);
        e
    }

    pub(crate) fn with_detail(mut self, detail: String) -> Error {
        self.inner.detail = Some(detail);
        self
    }

    pub(crate) fn with_request_id(mut self, id: Option<String>) -> Error {
        if id.is_some() {
            self.inner.request_id = id;
        }
        self
    }

    pub(crate) fn with_headers(mut self, headers: http::HeaderMap) -> Error {
        self.inner.headers = Some(headers);
        self
    }

    pub(crate) fn with_attempts(mut self, attempts: u32) -> Error {
        self.inner.attempts = attempts;
        self
    }

    /// Sorts an error that came out of the tower stack into a [`Kind`].
    ///
    /// This is where middleware errors (`BoxError`) become typed, like
    /// reqwest's `cast_to_internal_error`.
    pub(crate) fn from_stack(err: BoxError) -> Error {
        let (attempts, err) = match err.downcast::<crate::retry::error::Attempted>() {
            Ok(a) => {
                let a = *a;
                (a.attempts(), a.into_source())
            }
            Err(err) => (1, err),
        };
        let err = match err.downcast::<Error>() {
            Ok(e) => return (*e).with_attempts(attempts),
            Err(err) => err,
        };
        let kind = if let Some(t) = err.downcast_ref::<crate::timeout::error::Elapsed>() {
            Kind::Timeout(TimeoutKind::Headers(t.duration()))
        } else if let Some(t) = find::<crate::connect::ConnectTimeout>(&*err) {
            Kind::Timeout(TimeoutKind::Connect(t.0))
        } else if find::<crate::connect::InsecureCredentials>(&*err).is_some() {
            Kind::Builder
        } else if is_connect_error(&*err) {
            Kind::Connect
        } else {
            Kind::Request
        };
        let detail = root_cause(&*err);
        // A refusal by this crate's own check is this layer's line, not a
        // cause below it.
        let source = (kind != Kind::Builder).then_some(err);
        Error::new(kind, source)
            .with_detail(detail)
            .with_attempts(attempts)
    }

    // ===== public predicates =====

    /// True if the configuration or the request was invalid, so nothing was sent
    /// (bad base URL, bad header value, credentials over plain HTTP, ...).
    pub fn is_builder(&self) -> bool {
        self.inner.kind == Kind::Builder
    }

    /// True if the request was refused client-side because a non-streaming
    /// request with this `max_tokens` may take longer than 10 minutes.
    pub fn is_streaming_required(&self) -> bool {
        self.inner.kind == Kind::StreamingRequired
    }

    /// True if a connection (TCP or TLS) could not be established, including a
    /// connect timeout.
    pub fn is_connect(&self) -> bool {
        matches!(
            self.inner.kind,
            Kind::Connect | Kind::Timeout(TimeoutKind::Connect(_))
        )
    }

    /// True for every timeout: connect, per-attempt time to headers, the
    /// overall deadline and the idle timeout between body chunks.
    pub fn is_timeout(&self) -> bool {
        matches!(self.inner.kind, Kind::Timeout(_))
    }

    /// True if this is the idle timeout: no body bytes arrived for too long.
    pub fn is_idle_timeout(&self) -> bool {
        matches!(self.inner.kind, Kind::Timeout(TimeoutKind::Idle(_)))
    }

    /// True if the API answered with a non-success status; see
    /// [`Error::status`] and [`Error::api_error`].
    pub fn is_api(&self) -> bool {
        self.inner.kind == Kind::Api
    }

    /// True if reading the response body failed (connection lost mid-body).
    pub fn is_body(&self) -> bool {
        self.inner.kind == Kind::Body
    }

    /// True if the body could not be decoded as the expected JSON.
    pub fn is_decode(&self) -> bool {
        self.inner.kind == Kind::Decode
    }

    /// True if a response body read whole ([`Body::bytes`](crate::Body::bytes),
    /// [`Body::json`](crate::Body::json)) was larger than its limit
    /// ([`TransportBuilder::max_body_size`](crate::TransportBuilder::max_body_size));
    /// the read stopped there and the connection was closed.
    pub fn is_too_large(&self) -> bool {
        matches!(self.inner.kind, Kind::TooLarge(_))
    }

    /// True if the server's replies broke the API's rules in a way that
    /// retrying cannot fix, such as a list whose cursor does not advance.
    pub fn is_protocol(&self) -> bool {
        self.inner.kind == Kind::Protocol
    }

    /// True for other failures while sending the request or reading the
    /// response head (for example the connection closed before a response).
    pub fn is_request(&self) -> bool {
        self.inner.kind == Kind::Request
    }

    // ===== public accessors =====

    /// The HTTP status, for API errors.
    pub fn status(&self) -> Option<StatusCode> {
        self.inner.status
    }

    /// The request id: the `request-id` response header, else the id in the
    /// error body.
    pub fn request_id(&self) -> Option<&str> {
        self.inner.request_id.as_deref().or_else(|| {
            self.inner
                .api
                .as_ref()
                .and_then(|a| a.request_id.as_deref())
        })
    }

    /// The typed error the API returned, for API errors.
    ///
    /// When the body was not the API's JSON envelope (a proxy's HTML page),
    /// the kind comes from the status (`ErrorType::from_status`) and the
    /// message is a short excerpt of the body.
    pub fn api_error(&self) -> Option<&ApiError> {
        self.inner.api.as_ref().map(|a| &a.error)
    }

    /// The whole error body, for API errors.
    pub fn error_response(&self) -> Option<&ErrorResponse> {
        self.inner.api.as_ref()
    }

    /// The response headers, for API errors: `retry-after`, the
    /// `anthropic-ratelimit-*` headers, `x-should-retry`.
    pub fn headers(&self) -> Option<&http::HeaderMap> {
        self.inner.headers.as_ref()
    }

    /// How many attempts were made or started (1 + retries). 0 if nothing
    /// was sent.
    pub fn attempts(&self) -> u32 {
        self.inner.attempts
    }
}

/// Finds a `T` in an error chain, looking inside `io::Error`s too (their
/// `source()` skips the wrapped error itself, which is where tokio-rustls puts
/// the TLS error).
fn find<'a, T: StdError + 'static>(mut e: &'a (dyn StdError + 'static)) -> Option<&'a T> {
    loop {
        if let Some(t) = e.downcast_ref::<T>() {
            return Some(t);
        }
        if let Some(inner) = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            && let Some(t) = find::<T>(inner)
        {
            return Some(t);
        }
        e = e.source()?;
    }
}

fn is_connect_error(e: &(dyn StdError + 'static)) -> bool {
    if let Some(h) = find::<hyper_util::client::legacy::Error>(e) {
        return h.is_connect();
    }
    false
}

/// True if the error chain holds a TLS certificate problem: retrying cannot help.
pub(crate) fn is_certificate_error(e: &(dyn StdError + 'static)) -> bool {
    matches!(
        find::<rustls::Error>(e),
        Some(
            rustls::Error::InvalidCertificate(_)
                | rustls::Error::NoCertificatesPresented
                | rustls::Error::UnsupportedNameType
        )
    ) || find::<crate::connect::InsecureCredentials>(e).is_some()
        || find::<Error>(e).is_some_and(|e| e.is_builder())
}

/// The innermost message of an error chain, on one line; io errors that wrap
/// a TLS error are looked through.
fn root_cause(e: &(dyn StdError + 'static)) -> String {
    let mut last: &(dyn StdError + 'static) = e;
    while let Some(s) = last.source() {
        last = s;
    }
    let msg = if let Some(tls) = find::<rustls::Error>(e) {
        format!("TLS error: {tls}")
    } else {
        last.to_string()
    };
    one_line(&msg, 300)
}

/// Collapses whitespace runs (newlines included) to one space and truncates
/// to `max` chars, marking the cut with `...`.
pub(crate) fn one_line(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max + 3));
    let mut count = 0;
    let mut pending_space = false;
    for c in s.chars() {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            if count >= max {
                out.push_str("...");
                return out;
            }
            out.push(' ');
            count += 1;
            pending_space = false;
        }
        if count >= max {
            out.push_str("...");
            return out;
        }
        out.push(c);
        count += 1;
    }
    out
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("messages_http::Error");
        d.field("kind", &self.inner.kind);
        if let Some(s) = &self.inner.status {
            d.field("status", s);
        }
        if let Some(id) = self.request_id() {
            d.field("request_id", &id);
        }
        if let Some(a) = &self.inner.api {
            d.field("api_error", &a.error);
        }
        if let Some(detail) = &self.inner.detail {
            d.field("detail", detail);
        }
        d.field("attempts", &self.inner.attempts);
        if let Some(s) = &self.inner.source {
            d.field("source", s);
        }
        d.finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // This layer's line only: a detail taken from the source is left to
        // `source()`, so `{:#}` prints each cause once.
        let detail = match self.inner.source {
            Some(_) => None,
            None => self.inner.detail.as_deref(),
        };
        match self.inner.kind {
            Kind::Builder => {
                f.write_str("invalid configuration or request")?;
                if let Some(d) = detail {
                    write!(f, ": {d}")?;
                } else if let Some(reason) = self.builder_reason() {
                    write!(f, ": {}", one_line(&reason.to_string(), 300))?;
                }
            }
            Kind::StreamingRequired => {
                f.write_str(detail.unwrap_or("streaming is required"))?;
            }
            Kind::Connect => {
                let tls = self
                    .inner
                    .source
                    .as_deref()
                    .is_some_and(|s| find::<rustls::Error>(s).is_some());
                f.write_str(match tls {
                    true => "TLS error connecting to the API",
                    false => "error connecting to the API",
                })?;
                if let Some(d) = detail {
                    write!(f, ": {d}")?;
                }
            }
            Kind::Timeout(t) => match t {
                TimeoutKind::Connect(d) => write!(f, "connect timed out after {d:?}")?,
                TimeoutKind::Headers(d) => {
                    write!(f, "timed out after {d:?} waiting for the response headers")?
                }
                TimeoutKind::Deadline(d) => {
                    write!(f, "request timed out: overall deadline of {d:?} exceeded")?
                }
                TimeoutKind::Idle(d) => write!(f, "idle timeout: no response body data for {d:?}")?,
            },
            Kind::Request => {
                f.write_str("error sending request")?;
                if let Some(d) = detail {
                    write!(f, ": {d}")?;
                }
            }
            Kind::Api => {
                f.write_str("API error")?;
                if let Some(s) = self.inner.status {
                    write!(f, " {}", s.as_u16())?;
                }
                if let Some(a) = &self.inner.api {
                    write!(
                        f,
                        ": {}: {}",
                        a.error.kind.as_str(),
                        one_line(&a.error.message, 500)
                    )?;
                }
            }
            Kind::Body => f.write_str("error reading response body")?,
            Kind::Decode => {
                f.write_str("error decoding response body")?;
                if let Some(d) = detail {
                    write!(f, ": {d}")?;
                }
            }
            Kind::TooLarge(limit) => write!(
                f,
                "response body larger than the limit of {limit} bytes; stopped reading"
            )?,
            Kind::Protocol => {
                f.write_str("protocol error")?;
                if let Some(d) = detail {
                    write!(f, ": {d}")?;
                }
            }
        }
        match (self.request_id(), self.inner.attempts) {
            (Some(id), n) if n > 1 => write!(f, " (request id {id}, {n} attempts)"),
            (Some(id), _) => write!(f, " (request id {id})"),
            (None, n) if n > 1 => write!(f, " ({n} attempts)"),
            _ => Ok(()),
        }
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        if let Some(reason) = self.builder_reason() {
            return reason.source();
        }
        self.inner
            .source
            .as_ref()
            .map(|e| &**e as &(dyn StdError + 'static))
    }
}

impl Error {
    /// A configuration error's reason (a bad URL, credentials over plain
    /// HTTP), which `Display` prints as this error's own line.
    fn builder_reason(&self) -> Option<&(dyn StdError + 'static)> {
        match (self.inner.kind, &self.inner.detail, &self.inner.source) {
            (Kind::Builder, None, Some(s)) => Some(&**s),
            _ => None,
        }
    }
}
