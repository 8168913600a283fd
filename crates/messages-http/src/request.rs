//! Requests relative to the base URL, with per-request options.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use serde::Serialize;

use crate::error::{Error, Result};

/// One API request: method, path and query relative to the base URL, extra
/// headers, a replayable `Bytes` body and [`RequestOptions`].
///
/// Cloning is cheap: the body is a reference-counted `Bytes`.
///
/// # Examples
///
/// ```
/// use messages_http::{Request, RequestOptions};
///
/// let req = Request::post("/v1/messages")
///     .with_body(r#"{"model":"m","max_tokens":16,"messages":[]}"#)
///     .with_options(RequestOptions::new().streaming(true).max_tokens(16));
/// assert_eq!(req.path(), "/v1/messages");
///
/// let list = Request::get("/v1/messages/batches").with_query("limit", "20");
/// assert_eq!(list.path(), "/v1/messages/batches?limit=20");
/// ```
#[derive(Clone)]
pub struct Request {
    pub(crate) method: Method,
    pub(crate) target: String,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    pub(crate) options: RequestOptions,
}

impl Request {
    /// A request for `path` (which starts with `/` and may carry a query),
    /// relative to the transport's base URL. An absolute `http(s)://` URL is
    /// accepted only if it has the same origin as the base URL (credentials
    /// are never sent to another host); this is checked by `send`.
    pub fn new(method: Method, path: impl Into<String>) -> Request {
        Request {
            method,
            target: path.into(),
            headers: HeaderMap::new(),
            body: Bytes::new(),
            options: RequestOptions::default(),
        }
    }

    /// A `GET` request for `path`.
    pub fn get(path: impl Into<String>) -> Request {
        Request::new(Method::GET, path)
    }

    /// A `POST` request for `path`.
    pub fn post(path: impl Into<String>) -> Request {
        Request::new(Method::POST, path)
    }

    /// A `DELETE` request for `path`.
    pub fn delete(path: impl Into<String>) -> Request {
        Request::new(Method::DELETE, path)
    }

    /// Sets the body. `O(1)` for `Bytes`, `Vec<u8>` and `String`.
    pub fn with_body(mut self, body: impl Into<Bytes>) -> Request {
        self.body = body.into();
        self
    }

    /// Sets the body to `value` serialized as JSON.
    ///
    /// # Errors
    ///
    /// [`Error::is_builder`] if serde_json cannot serialize `value`.
    pub fn with_json<T: Serialize + ?Sized>(mut self, value: &T) -> Result<Request> {
        let v = serde_json::to_vec(value).map_err(Error::builder)?;
        self.body = Bytes::from(v);
        Ok(self)
    }

    /// Appends `name=value` to the query, percent-encoding both.
    pub fn with_query(mut self, name: &str, value: &str) -> Request {
        self.target
            .push(if self.target.contains('?') { '&' } else { '?' });
        encode_into(&mut self.target, name);
        self.target.push('=');
        encode_into(&mut self.target, value);
        self
    }

    /// Adds a header, replacing the transport's value for that name, except
    /// for `anthropic-beta`, whose values are appended to the configured list.
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Request {
        self.headers.append(name, value);
        self
    }

    /// Sets the per-request options.
    pub fn with_options(mut self, options: RequestOptions) -> Request {
        self.options = options;
        self
    }

    /// The per-request options, mutably.
    pub fn options_mut(&mut self) -> &mut RequestOptions {
        &mut self.options
    }

    /// The per-request options.
    pub fn options(&self) -> &RequestOptions {
        &self.options
    }

    /// The method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The path and query (or the absolute URL) as given.
    pub fn path(&self) -> &str {
        &self.target
    }

    /// The extra headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The body.
    pub fn body(&self) -> &Bytes {
        &self.body
    }
}

impl fmt::Debug for Request {
    // Bodies and header values may hold secrets or private data: never print
    // them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("path", &self.target.split('?').next().unwrap_or(""))
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("body_len", &self.body.len())
            .field("options", &self.options)
            .finish()
    }
}

/// Per-request options. Everything left unset uses the transport's value.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use messages_http::RequestOptions;
///
/// let opts = RequestOptions::new()
///     .streaming(true)
///     .max_tokens(64_000)
///     .max_retries(5)
///     .idle_timeout(Some(Duration::from_secs(30)));
/// assert!(opts.is_streaming());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestOptions {
    pub(crate) streaming: bool,
    pub(crate) max_tokens: Option<u64>,
    pub(crate) max_retries: Option<u32>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) attempt_timeout: Option<Duration>,
    pub(crate) idle_timeout: Option<Option<Duration>>,
    pub(crate) headers: HeaderMap,
    pub(crate) betas: Vec<String>,
    pub(crate) max_body_size: Option<usize>,
}

impl RequestOptions {
    /// Options with every value taken from the transport.
    pub fn new() -> RequestOptions {
        RequestOptions::default()
    }

    /// Marks the request as streaming: the overall deadline then bounds only
    /// the wait for the response headers and the body is guarded by the idle
    /// timeout. Default is `false`.
    pub fn streaming(mut self, streaming: bool) -> RequestOptions {
        self.streaming = streaming;
        self
    }

    /// The request's `max_tokens`, for the "streaming is required" guard: a
    /// non-streaming request with `max_tokens > 21,333` (expected to take over
    /// 10 minutes at 128,000 tokens/hour) is refused unless a timeout was set
    /// explicitly. Default is unknown (no guard).
    pub fn max_tokens(mut self, max_tokens: u64) -> RequestOptions {
        self.max_tokens = Some(max_tokens);
        self
    }

    /// Overrides the number of retries. Default is the transport's value.
    pub fn max_retries(mut self, max_retries: u32) -> RequestOptions {
        self.max_retries = Some(max_retries);
        self
    }

    /// Sets the overall deadline of this request, covering retries, the
    /// response headers and the whole body, streaming or not: the same
    /// meaning as [`TransportBuilder::timeout`](crate::TransportBuilder::timeout),
    /// which it overrides for this request. Setting it also disables the
    /// "streaming is required" guard. Default is the transport's timeout
    /// (unset: 10 minutes, and for a stream only up to its headers).
    pub fn timeout(mut self, timeout: Duration) -> RequestOptions {
        self.timeout = Some(timeout);
        self
    }

    /// Overrides the per-attempt timeout to the response headers.
    pub fn attempt_timeout(mut self, timeout: Duration) -> RequestOptions {
        self.attempt_timeout = Some(timeout);
        self
    }

    /// Overrides the idle timeout between body chunks (`None` turns it off).
    pub fn idle_timeout(mut self, timeout: Option<Duration>) -> RequestOptions {
        self.idle_timeout = Some(timeout);
        self
    }

    /// Adds a header to the request, replacing the transport's value for
    /// that name (several calls with one name send every value). An
    /// `anthropic-beta` value is appended to the configured betas instead.
    ///
    /// Per-call headers, betas and timeouts are how one request differs
    /// from the others of a transport; the umbrella crate's `create_with`,
    /// `count_tokens_with` and `StreamOptions` take them.
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> RequestOptions {
        self.headers.append(name, value);
        self
    }

    /// Turns on a beta for this request: appended to the `anthropic-beta`
    /// list of the transport. A name that is not a valid header value fails
    /// the request with a builder error before anything is sent.
    pub fn beta(mut self, name: impl Into<String>) -> RequestOptions {
        self.betas.push(name.into());
        self
    }

    /// Overrides the largest body read whole (see
    /// [`TransportBuilder::max_body_size`](crate::TransportBuilder::max_body_size)).
    pub fn max_body_size(mut self, bytes: usize) -> RequestOptions {
        self.max_body_size = Some(bytes);
        self
    }

    /// Whether the request is marked streaming.
    pub fn is_streaming(&self) -> bool {
        self.streaming
    }

    /// The per-call headers set with [`header`](RequestOptions::header)
    /// (a per-call `anthropic-version`, for example, which checks made
    /// before sending must use instead of the transport's).
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }
}

/// Percent-encodes an id (a model id, a batch id) as one URL path segment:
/// everything but RFC 3986 unreserved characters is encoded, so `/`, `?` and
/// `#` cannot change the path.
///
/// ```
/// assert_eq!(messages_http::encode_segment("a/b c"), "a%2Fb%20c");
/// assert_eq!(messages_http::encode_segment("msgbatch_01-x.y~z"), "msgbatch_01-x.y~z");
/// ```
pub fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    encode_into(&mut out, s);
    out
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn encode_into(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 15) as usize] as char);
        }
    }
}
