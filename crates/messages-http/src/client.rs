//! The [`Transport`] and its [`TransportBuilder`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{StatusCode, Uri};
use messages_types::error::{ApiError, ErrorResponse, ErrorType};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use serde::Deserialize;
use tokio::time::Instant;
use tower::util::BoxCloneSyncService;
use tower::{Layer, Service, ServiceExt};
use tracing::Instrument;

use crate::connect::{Connector, HyperService, check_secure};
use crate::error::{Error, Result, TimeoutKind, one_line};
use crate::limit::{ConcurrencyLimit, RateLimit};
use crate::response::{Body, Response};
use crate::retry::{AttemptCounter, MaxRetries, Retry};
use crate::timeout::{PerAttempt, Timeout};
use crate::{BoxError, BoxService, HttpBody, Request};

/// Default base URL.
pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";
/// Default `anthropic-version` header: the newest version the wire types
/// model ([`messages_types::ApiVersion::LATEST`], `2026-10-21`), as the
/// official SDK majors of 2026-10-21 send.
pub const DEFAULT_VERSION: &str = messages_types::ApiVersion::LATEST.as_str();
/// Default overall timeout of non-streaming requests (10 minutes).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);
/// Default connect timeout (5 s).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default idle timeout between body chunks (60 s).
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Default time one attempt of a streaming request waits for the response
/// headers (60 s).
///
/// The API sends a stream's headers before it generates anything, so they
/// come within seconds even for long prompts; once streaming, it is never
/// silent for more than the idle timeout (it sends `ping` events). A server
/// that sends no headers for as long as a stream may be silent is stalled,
/// so the two defaults are the same. Non-streaming requests are not affected:
/// their headers come with the whole reply, which may take minutes.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(60);
/// Default limit of a response body read whole (64 MiB): see
/// [`TransportBuilder::max_body_size`].
pub const DEFAULT_MAX_BODY_SIZE: usize = 64 * 1024 * 1024;

/// The largest error body read to build an API error; the rest is dropped.
const ERROR_BODY_LIMIT: usize = 64 * 1024;
/// The longest excerpt of a non-JSON error body kept in the error.
const EXCERPT_CHARS: usize = 200;

static ANTHROPIC_VERSION: HeaderName = HeaderName::from_static("anthropic-version");
static ANTHROPIC_BETA: HeaderName = HeaderName::from_static("anthropic-beta");
static X_API_KEY: HeaderName = HeaderName::from_static("x-api-key");

/// A string that never shows in `Debug` output.
#[derive(Clone)]
struct Secret(String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

type LayerFn = Arc<dyn Fn(BoxService) -> BoxService + Send + Sync>;

// ===== Transport =====

/// The HTTP transport for the Messages API.
///
/// It owns the pooled connections and the middleware stack (retries,
/// timeouts, limits, user layers) and sends [`Request`]s, adding the auth,
/// version, beta and user-agent headers.
///
/// Cloning is cheap (an `Arc`); clones share the pool and the limits. It is
/// `Send + Sync`.
///
/// # Examples
///
/// ```no_run
/// # async fn run() -> Result<(), messages_http::Error> {
/// use messages_http::{Request, Transport};
///
/// let transport = Transport::builder()
///     .api_key("sk-ant-...")
///     .max_retries(3)
///     .build()?;
/// let resp = transport.send(Request::get("/v1/models")).await?;
/// let models: serde_json::Value = resp.json().await?;
/// # let _ = models;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Transport {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    service: BoxService,
}

// Some fields are only read by `Debug`, which shows the effective settings.
#[allow(dead_code)]
#[derive(Debug)]
struct Config {
    base: Base,
    api_key: Option<Secret>,
    auth_token: Option<Secret>,
    version: HeaderValue,
    betas: Vec<String>,
    default_headers: HeaderMap,
    user_agent: HeaderValue,
    max_retries: u32,
    // `None` until set: the default applies and the "streaming is
    // required" guard stays on.
    timeout: Option<Duration>,
    attempt_timeout: Option<Duration>,
    idle_timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    header_timeout: Option<Duration>,
    max_body_size: usize,
}

#[derive(Debug, Clone)]
struct Base {
    scheme: String,
    authority: String,
    // `scheme://authority/prefix` without a trailing `/`.
    prefix: String,
}

impl Base {
    fn parse(s: &str) -> Result<Base> {
        let uri: Uri = s
            .trim()
            .parse()
            .map_err(|e| Error::builder_msg(format!("invalid base URL {s:?}: {e}")))?;
        let scheme = match uri.scheme_str() {
            Some(s @ ("http" | "https")) => s.to_owned(),
            _ => {
                return Err(Error::builder_msg(format!(
                    "invalid base URL {s:?}: the scheme must be http or https"
                )));
            }
        };
        let authority = uri
            .authority()
            .map(|a| a.as_str().to_owned())
            .filter(|a| !a.is_empty())
            .ok_or_else(|| Error::builder_msg(format!("invalid base URL {s:?}: no host")))?;
        if uri.query().is_some() {
            return Err(Error::builder_msg(format!(
                "invalid base URL {s:?}: it must not have a query"
            )));
        }
        let path = uri.path().trim_end_matches('/');
        Ok(Base {
            prefix: format!("{scheme}://{authority}{path}"),
            scheme,
            authority,
        })
    }
}

impl Transport {
    /// A builder with the defaults. See [`TransportBuilder`].
    pub fn builder() -> TransportBuilder {
        TransportBuilder::new()
    }

    /// A transport configured from the environment: `ANTHROPIC_API_KEY`,
    /// `ANTHROPIC_AUTH_TOKEN`, `ANTHROPIC_BASE_URL`.
    ///
    /// # Errors
    ///
    /// As [`TransportBuilder::build`]; notably when neither key is set.
    pub fn from_env() -> Result<Transport> {
        TransportBuilder::new().from_env().build()
    }

    /// The base URL requests are relative to.
    pub fn base_url(&self) -> &str {
        &self.inner.config.base.prefix
    }

    /// The `anthropic-version` this transport sends.
    pub fn anthropic_version(&self) -> &str {
        self.inner.config.version.to_str().unwrap_or_default()
    }

    /// The retries after a failed attempt this transport makes (see
    /// [`TransportBuilder::max_retries`]), for callers that retry a
    /// request on their own with [`RequestOptions::max_retries`](crate::RequestOptions::max_retries)`(0)`.
    pub fn max_retries(&self) -> u32 {
        self.inner.config.max_retries
    }

    /// The absolute URL for `path` (which starts with `/` and may carry a
    /// query), or `path` itself if it is an absolute URL with the same origin
    /// as the base URL.
    ///
    /// # Errors
    ///
    /// [`Error::is_builder`] if `path` is neither, or is not a valid URI.
    pub fn url(&self, path: &str) -> Result<Uri> {
        let base = &self.inner.config.base;
        let full = if path.starts_with('/') {
            format!("{}{}", base.prefix, path)
        } else if path.starts_with("http://") || path.starts_with("https://") {
            path.to_owned()
        } else {
            return Err(Error::builder_msg(format!(
                "request path {path:?} must start with '/'"
            )));
        };
        let uri: Uri = full
            .parse()
            .map_err(|e| Error::builder_msg(format!("invalid request URL {full:?}: {e}")))?;
        let same_origin = uri.scheme_str() == Some(base.scheme.as_str())
            && uri.authority().map(|a| a.as_str()) == Some(base.authority.as_str());
        if !same_origin {
            return Err(Error::builder_msg(format!(
                "refusing to send credentials to {full:?}: not the base URL's origin"
            )));
        }
        Ok(uri)
    }

    /// Sends `req` through the stack and returns the response once its
    /// headers arrived with a 2xx status.
    ///
    /// Retries (per the retry contract) happen inside this call, before the
    /// response is returned; the body is never replayed.
    ///
    /// # Errors
    ///
    /// - [`Error::is_streaming_required`]: a non-streaming request whose
    ///   `max_tokens` implies more than 10 minutes, with no explicit timeout;
    /// - [`Error::is_builder`]: bad path or header, or credentials over plain
    ///   HTTP to a non-loopback host;
    /// - [`Error::is_api`]: a non-2xx status after retries (the body is read,
    ///   up to 64 KiB, into [`Error::api_error`]);
    /// - [`Error::is_connect`], [`Error::is_timeout`], [`Error::is_request`].
    ///
    /// # Cancel safety
    ///
    /// Dropping the future cancels the attempt in flight or the wait before
    /// a retry; its connection is closed, nothing else is affected.
    pub async fn send(&self, req: Request) -> Result<Response> {
        let cfg = &self.inner.config;
        let opts = req.options.clone();
        if let Some(max_tokens) = opts.max_tokens {
            let explicit = opts.timeout.is_some() || cfg.timeout.is_some();
            // Expected duration: 3600 s * max_tokens / 128,000 > 600 s.
            if !opts.streaming && !explicit && max_tokens.saturating_mul(3600) > 600 * 128_000 {
                return Err(Error::streaming_required(max_tokens));
            }
        }
        let uri = self.url(&req.target)?;
        let path = uri.path().to_owned();
        let headers = self.headers(&req)?;

        let mut http_req = http::Request::new(req.body);
        *http_req.method_mut() = req.method.clone();
        *http_req.uri_mut() = uri;
        *http_req.headers_mut() = headers;
        if let Some(n) = opts.max_retries {
            http_req.extensions_mut().insert(MaxRetries(n));
        }
        if let Some(t) = opts.attempt_timeout {
            http_req.extensions_mut().insert(PerAttempt(Some(t)));
        } else if opts.streaming
            && let Some(h) = cfg.header_timeout
        {
            let t = cfg.attempt_timeout.map_or(h, |a| a.min(h));
            http_req.extensions_mut().insert(PerAttempt(Some(t)));
        }
        let counter = AttemptCounter::default();
        http_req.extensions_mut().insert(counter.clone());

        let span = tracing::info_span!(
            "messages_http.request",
            method = %req.method,
            path = %path,
            attempt = tracing::field::Empty,
            status = tracing::field::Empty,
            request_id = tracing::field::Empty,
            latency_ms = tracing::field::Empty,
        );
        let deadline_len = opts.timeout.or(cfg.timeout).unwrap_or(DEFAULT_TIMEOUT);
        let start = Instant::now();
        let deadline = start + deadline_len;
        let call = self.inner.service.clone().oneshot(http_req);
        let result = tokio::time::timeout_at(deadline, call)
            .instrument(span.clone())
            .await;
        let latency_ms = start.elapsed().as_millis() as u64;
        span.record("latency_ms", latency_ms);
        let resp = match result {
            Err(_elapsed) => {
                let _g = span.enter();
                tracing::info!(latency_ms, "deadline exceeded");
                return Err(Error::timeout(TimeoutKind::Deadline(deadline_len))
                    .with_attempts(counter.get()));
            }
            Ok(Err(e)) => {
                let err = Error::from_stack(e).with_attempts(counter.get());
                let _g = span.enter();
                tracing::info!(latency_ms, error = %err, "request failed");
                return Err(err);
            }
            Ok(Ok(resp)) => resp,
        };

        // The same count as the error paths above report.
        let attempts = counter.get();
        let (parts, body) = resp.into_parts();
        let request_id = parts
            .headers
            .get("request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        span.record("status", parts.status.as_u16());
        if let Some(id) = &request_id {
            span.record("request_id", id.as_str());
        }
        {
            let _g = span.enter();
            tracing::info!(
                status = parts.status.as_u16(),
                latency_ms,
                attempts,
                "response headers"
            );
        }
        // An explicit timeout (per request or the transport's) bounds the
        // whole exchange, body included, streaming or not. Streaming
        // requests without one: the default deadline covered the headers;
        // the body is guarded by the idle timeout.
        let explicit_timeout = opts.timeout.is_some() || cfg.timeout.is_some();
        let body_deadline =
            (!opts.streaming || explicit_timeout).then_some((deadline_len, deadline));
        let idle = opts.idle_timeout.unwrap_or(cfg.idle_timeout);
        let body = Body::new(body, idle, body_deadline, request_id.clone(), attempts)
            .with_max_size(opts.max_body_size.unwrap_or(cfg.max_body_size));
        if !parts.status.is_success() {
            return Err(api_error(parts.status, body, request_id, attempts)
                .await
                .with_headers(parts.headers));
        }
        Ok(Response::new(
            parts.status,
            parts.version,
            parts.headers,
            attempts,
            body,
        ))
    }

    fn headers(&self, req: &Request) -> Result<HeaderMap> {
        let cfg = &self.inner.config;
        let mut h = cfg.default_headers.clone();
        let mut betas: Vec<String> = Vec::new();
        let mut add_betas = |v: &HeaderValue| -> Result<()> {
            let s = v
                .to_str()
                .map_err(|_| Error::builder_msg("anthropic-beta header is not ASCII"))?;
            for b in s.split(',').map(str::trim).filter(|b| !b.is_empty()) {
                if !betas.iter().any(|x| x == b) {
                    betas.push(b.to_owned());
                }
            }
            Ok(())
        };
        for v in h.get_all(&ANTHROPIC_BETA) {
            add_betas(v)?;
        }
        for b in &cfg.betas {
            add_betas(&HeaderValue::from_str(b).map_err(Error::builder)?)?;
        }
        let per_call = [&req.headers, &req.options.headers];
        for v in per_call.iter().flat_map(|m| m.get_all(&ANTHROPIC_BETA)) {
            add_betas(v)?;
        }
        for b in &req.options.betas {
            add_betas(&HeaderValue::from_str(b).map_err(Error::builder)?)?;
        }
        h.remove(&ANTHROPIC_BETA);

        h.insert(header::USER_AGENT, cfg.user_agent.clone());
        h.insert(ANTHROPIC_VERSION.clone(), cfg.version.clone());
        if let Some(key) = &cfg.api_key {
            h.insert(X_API_KEY.clone(), sensitive(&key.0, "API key")?);
        }
        if let Some(token) = &cfg.auth_token {
            h.insert(
                header::AUTHORIZATION,
                sensitive(&format!("Bearer {}", token.0), "auth token")?,
            );
        }
        if !req.body.is_empty() && !h.contains_key(header::CONTENT_TYPE) {
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
        }
        if !req.options.streaming && !h.contains_key(header::ACCEPT) {
            h.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        }
        for name in per_call.iter().flat_map(|m| m.keys()) {
            h.remove(name);
        }
        for (name, value) in per_call.iter().flat_map(|m| m.iter()) {
            if name != ANTHROPIC_BETA {
                h.append(name.clone(), value.clone());
            }
        }
        if !betas.is_empty() {
            let joined = HeaderValue::from_str(&betas.join(",")).map_err(Error::builder)?;
            h.insert(ANTHROPIC_BETA.clone(), joined);
        }
        Ok(h)
    }
}

fn sensitive(s: &str, what: &str) -> Result<HeaderValue> {
    let mut v = HeaderValue::from_str(s).map_err(|_| {
        Error::builder_msg(format!(
            "the {what} contains characters not allowed in a header"
        ))
    })?;
    v.set_sensitive(true);
    Ok(v)
}

/// An error body, with or without the `"type":"error"` tag (some proxies
/// drop it): unknown fields, the tag included, are ignored.
#[derive(Deserialize)]
struct LooseErrorBody {
    error: ApiError,
    #[serde(default)]
    request_id: Option<String>,
}

async fn api_error(
    status: StatusCode,
    body: Body,
    request_id: Option<String>,
    attempts: u32,
) -> Error {
    // A failed read (timeout, reset) still yields an API error from the
    // status; the body was only an explanation.
    let bytes = body
        .bytes_limited(ERROR_BODY_LIMIT)
        .await
        .unwrap_or_default();
    // One parse covers both shapes: `LooseErrorBody` ignores the tag.
    let parsed = serde_json::from_slice::<LooseErrorBody>(&bytes)
        .ok()
        .map(|l| ErrorResponse {
            error: l.error,
            request_id: l.request_id,
        });
    let resp = parsed.unwrap_or_else(|| {
        let text = String::from_utf8_lossy(&bytes);
        let excerpt = one_line(&text, EXCERPT_CHARS);
        let mut message = format!("HTTP {}", status.as_u16());
        if let Some(reason) = status.canonical_reason() {
            message.push(' ');
            message.push_str(reason);
        }
        if !excerpt.is_empty() {
            message.push_str(": ");
            message.push_str(&excerpt);
        }
        ErrorResponse {
            error: ApiError {
                kind: ErrorType::from_status(status.as_u16()),
                message,
            },
            request_id: None,
        }
    });
    Error::api(status, resp)
        .with_request_id(request_id)
        .with_attempts(attempts)
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

// ===== TransportBuilder =====

/// Configures and builds a [`Transport`]. Setters consume and return the
/// builder; fallible setters keep the first error for [`build`](Self::build).
///
/// # Layer order
///
/// A request goes through, outermost first: retries, the user layers (the
/// first added is called first), the rate limit, the concurrency limit, the
/// per-attempt timeout, then the pooled hyper client. Everything below the
/// retry layer sees each attempt.
#[must_use]
pub struct TransportBuilder {
    base_url: String,
    api_key: Option<Secret>,
    auth_token: Option<Secret>,
    version: String,
    betas: Vec<String>,
    default_headers: HeaderMap,
    user_agent: String,
    max_retries: u32,
    // `None` until set (see `Config::timeout`).
    timeout: Option<Duration>,
    attempt_timeout: Option<Duration>,
    idle_timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    header_timeout: Option<Duration>,
    max_body_size: usize,
    allow_insecure_credentials: bool,
    root_certs: Vec<CertificateDer<'static>>,
    built_in_roots: bool,
    concurrency_limit: Option<usize>,
    rate_limit: Option<(u64, Duration)>,
    layers: Vec<LayerFn>,
    pool_idle_timeout: Option<Duration>,
    pool_max_idle_per_host: usize,
    error: Option<Error>,
}

impl Default for TransportBuilder {
    fn default() -> Self {
        TransportBuilder::new()
    }
}

impl TransportBuilder {
    /// A builder with the defaults and no credentials.
    pub fn new() -> TransportBuilder {
        TransportBuilder {
            base_url: DEFAULT_BASE_URL.to_owned(),
            api_key: None,
            auth_token: None,
            version: DEFAULT_VERSION.to_owned(),
            betas: Vec::new(),
            default_headers: HeaderMap::new(),
            user_agent: concat!("messages-http/", env!("CARGO_PKG_VERSION")).to_owned(),
            max_retries: crate::retry::DEFAULT_MAX_RETRIES,
            timeout: None,
            attempt_timeout: None,
            idle_timeout: Some(DEFAULT_IDLE_TIMEOUT),
            connect_timeout: Some(DEFAULT_CONNECT_TIMEOUT),
            header_timeout: Some(DEFAULT_HEADER_TIMEOUT),
            max_body_size: DEFAULT_MAX_BODY_SIZE,
            allow_insecure_credentials: false,
            root_certs: Vec::new(),
            built_in_roots: true,
            concurrency_limit: None,
            rate_limit: None,
            layers: Vec::new(),
            pool_idle_timeout: Some(Duration::from_secs(90)),
            pool_max_idle_per_host: usize::MAX,
            error: None,
        }
    }

    /// Reads `ANTHROPIC_API_KEY`, `ANTHROPIC_AUTH_TOKEN` and
    /// `ANTHROPIC_BASE_URL` (empty values are ignored). Setters called after
    /// this override them.
    pub fn from_env(self) -> TransportBuilder {
        self.from_env_with(|k| std::env::var(k).ok())
    }

    /// Like [`from_env`](Self::from_env), with the variables looked up by `get`.
    pub fn from_env_with(mut self, get: impl Fn(&str) -> Option<String>) -> TransportBuilder {
        let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        if let Some(k) = get("ANTHROPIC_API_KEY") {
            self.api_key = Some(Secret(k));
        }
        if let Some(t) = get("ANTHROPIC_AUTH_TOKEN") {
            self.auth_token = Some(Secret(t));
        }
        if let Some(u) = get("ANTHROPIC_BASE_URL") {
            self.base_url = u;
        }
        self
    }

    /// The API key, sent as `x-api-key`. Default is none.
    pub fn api_key(mut self, key: impl Into<String>) -> TransportBuilder {
        self.api_key = Some(Secret(key.into()));
        self
    }

    /// A token sent as `Authorization: Bearer <token>`. Default is none.
    pub fn auth_token(mut self, token: impl Into<String>) -> TransportBuilder {
        self.auth_token = Some(Secret(token.into()));
        self
    }

    /// The base URL (`http` or `https`, optionally with a path prefix).
    /// Default is `https://api.anthropic.com`.
    pub fn base_url(mut self, url: impl Into<String>) -> TransportBuilder {
        self.base_url = url.into();
        self
    }

    /// The `anthropic-version` header. Default is [`DEFAULT_VERSION`]
    /// (`2026-10-21`); set `2023-06-01` for requests that need the sampling
    /// parameters it still accepts.
    pub fn anthropic_version(mut self, version: impl Into<String>) -> TransportBuilder {
        self.version = version.into();
        self
    }

    /// Adds a beta to the comma-joined `anthropic-beta` header. Default is none.
    pub fn beta(mut self, beta: impl Into<String>) -> TransportBuilder {
        self.betas.push(beta.into());
        self
    }

    /// Adds a header sent with every request (requests may override it).
    /// Default is none.
    pub fn default_header(mut self, name: &str, value: &str) -> TransportBuilder {
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            (Ok(n), Ok(mut v)) => {
                v.set_sensitive(true);
                self.default_headers.append(n, v);
            }
            _ => {
                self.error.get_or_insert_with(|| {
                    Error::builder_msg(format!("invalid default header {name:?}"))
                });
            }
        }
        self
    }

    /// The `user-agent` header. Default is `messages-http/<version>`.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> TransportBuilder {
        self.user_agent = user_agent.into();
        self
    }

    /// Retries after the first attempt. Default is 2.
    pub fn max_retries(mut self, max_retries: u32) -> TransportBuilder {
        self.max_retries = max_retries;
        self
    }

    /// The overall deadline of every request, retries included: the
    /// response headers and the whole body, streaming or not (the same
    /// meaning as [`RequestOptions::timeout`](crate::RequestOptions::timeout), which overrides it for one
    /// request). Setting it disables the "streaming is required" guard.
    ///
    /// Default (unset): 10 minutes for a non-streaming request; for a
    /// streaming one, 10 minutes to the response headers and no bound on
    /// the body, which the [idle timeout](Self::idle_timeout) guards
    /// instead, so a long stream is never cut while it is flowing.
    pub fn timeout(mut self, timeout: Duration) -> TransportBuilder {
        self.timeout = Some(timeout);
        self
    }

    /// The time one attempt may wait for the response headers before it
    /// fails (and is retried). Default is none (only the deadline applies).
    pub fn attempt_timeout(mut self, timeout: Option<Duration>) -> TransportBuilder {
        self.attempt_timeout = timeout;
        self
    }

    /// The longest wait for the next body chunk (`None` turns it off).
    /// Default is 60 s.
    pub fn idle_timeout(mut self, timeout: Option<Duration>) -> TransportBuilder {
        self.idle_timeout = timeout;
        self
    }

    /// The time one attempt of a **streaming** request waits for the
    /// response headers before it fails with a timeout (and is retried like
    /// any timeout); `None` leaves only the overall deadline. A shorter
    /// [`attempt_timeout`](Self::attempt_timeout) wins. Default is
    /// [`DEFAULT_HEADER_TIMEOUT`] (60 s), which explains the choice.
    pub fn header_timeout(mut self, timeout: Option<Duration>) -> TransportBuilder {
        self.header_timeout = timeout;
        self
    }

    /// The largest response body read whole ([`Body::bytes`],
    /// [`Body::json`], so every non-streaming reply): past it the read fails
    /// with [`Error::is_too_large`] and memory stays bounded. Bodies read
    /// chunk by chunk (streams, batch results) are not limited.
    ///
    /// Default is [`DEFAULT_MAX_BODY_SIZE`] (64 MiB): the largest reply is
    /// one message, whose output is bounded by `max_tokens` (at most 128k
    /// tokens, a few MiB of JSON) plus server tool results; 64 MiB leaves a
    /// wide margin, and is the batch results decoder's line limit, a line
    /// being one such message.
    pub fn max_body_size(mut self, bytes: usize) -> TransportBuilder {
        self.max_body_size = bytes;
        self
    }

    /// The connect timeout, covering DNS, TCP and the TLS handshake
    /// (`None` turns it off). Default is 5 s.
    pub fn connect_timeout(mut self, timeout: Option<Duration>) -> TransportBuilder {
        self.connect_timeout = timeout;
        self
    }

    /// Allows sending credentials over plain `http://` to hosts that are not
    /// loopback. Default is `false`: such a base URL fails `build`, and such a
    /// request fails before it is sent.
    pub fn allow_insecure_credentials(mut self, allow: bool) -> TransportBuilder {
        self.allow_insecure_credentials = allow;
        self
    }

    /// Trusts a root certificate given in DER. Default is none extra.
    pub fn add_root_certificate_der(mut self, der: impl Into<Vec<u8>>) -> TransportBuilder {
        self.root_certs.push(CertificateDer::from(der.into()));
        self
    }

    /// Trusts the root certificates in a PEM document. Default is none extra.
    pub fn add_root_certificates_pem(mut self, pem: &[u8]) -> TransportBuilder {
        let mut any = false;
        for cert in CertificateDer::pem_slice_iter(pem) {
            match cert {
                Ok(c) => {
                    self.root_certs.push(c);
                    any = true;
                }
                Err(e) => {
                    self.error.get_or_insert_with(|| {
                        Error::builder_msg(format!("invalid PEM root certificate: {e}"))
                    });
                }
            }
        }
        if !any {
            self.error.get_or_insert_with(|| {
                Error::builder_msg("no certificate found in the PEM root certificates")
            });
        }
        self
    }

    /// Whether to trust the built-in roots (webpki-roots and/or the system
    /// store, per the crate features). Default is `true`.
    pub fn tls_built_in_root_certs(mut self, enabled: bool) -> TransportBuilder {
        self.built_in_roots = enabled;
        self
    }

    /// At most `max` requests in flight across all clones, a streaming
    /// response counting until its body ends or is dropped. Default is none.
    pub fn concurrency_limit(mut self, max: usize) -> TransportBuilder {
        self.concurrency_limit = Some(max);
        self
    }

    /// At most `num` request attempts started per `per` across all clones,
    /// with bursts up to `num`. Default is none.
    pub fn rate_limit(mut self, num: u64, per: Duration) -> TransportBuilder {
        self.rate_limit = Some((num, per));
        self
    }

    /// How long idle pooled connections are kept. Default is 90 s.
    pub fn pool_idle_timeout(mut self, timeout: Option<Duration>) -> TransportBuilder {
        self.pool_idle_timeout = timeout;
        self
    }

    /// The most idle connections kept per host. Default is unlimited.
    pub fn pool_max_idle_per_host(mut self, max: usize) -> TransportBuilder {
        self.pool_max_idle_per_host = max;
        self
    }

    /// Adds a user tower layer over the boxed per-attempt service (see the
    /// layer order above). The first layer added is the outermost.
    ///
    /// # Examples
    ///
    /// ```
    /// use messages_http::{BoxService, Transport};
    /// use tower::ServiceBuilder;
    ///
    /// // Any `Layer<BoxService>` whose service is `Clone + Send + Sync` works,
    /// // for example a closure mapping each request.
    /// let transport = Transport::builder()
    ///     .api_key("test")
    ///     .layer(tower::layer::layer_fn(|svc: BoxService| svc))
    ///     .build();
    /// assert!(transport.is_ok());
    /// # let _ = ServiceBuilder::new();
    /// ```
    pub fn layer<L>(mut self, layer: L) -> TransportBuilder
    where
        L: Layer<BoxService> + Send + Sync + 'static,
        L::Service: Service<http::Request<Bytes>, Response = http::Response<HttpBody>, Error = BoxError>
            + Clone
            + Send
            + Sync
            + 'static,
        <L::Service as Service<http::Request<Bytes>>>::Future: Send + 'static,
    {
        self.layers.push(Arc::new(move |svc| {
            BoxCloneSyncService::new(layer.layer(svc))
        }));
        self
    }

    /// Builds the transport.
    ///
    /// # Errors
    ///
    /// [`Error::is_builder`] when no credentials are configured, the base URL
    /// is invalid, credentials would go over plain HTTP to a non-loopback
    /// host, a header value is invalid, or no root certificate is trusted.
    pub fn build(self) -> Result<Transport> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let base = Base::parse(&self.base_url)?;
        if self.api_key.is_none() && self.auth_token.is_none() {
            return Err(Error::builder_msg(
                "no credentials: set ANTHROPIC_API_KEY or ANTHROPIC_AUTH_TOKEN, \
                 or call api_key() or auth_token() on the builder",
            ));
        }
        let base_uri: Uri = base.prefix.parse().map_err(Error::builder)?;
        if !self.allow_insecure_credentials {
            check_secure(&base_uri).map_err(Error::builder)?;
        }
        if let Some(k) = &self.api_key {
            sensitive(&k.0, "API key")?;
        }
        if let Some(t) = &self.auth_token {
            sensitive(&format!("Bearer {}", t.0), "auth token")?;
        }
        let version = HeaderValue::from_str(&self.version)
            .map_err(|_| Error::builder_msg("invalid anthropic-version value"))?;
        let user_agent = HeaderValue::from_str(&self.user_agent)
            .map_err(|_| Error::builder_msg("invalid user agent"))?;
        for b in &self.betas {
            HeaderValue::from_str(b)
                .map_err(|_| Error::builder_msg(format!("invalid beta name {b:?}")))?;
        }

        let tls = tls_config(&self.root_certs, self.built_in_roots)?;
        let mut http = hyper_util::client::legacy::connect::HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        // No connect timeout here: `Connector` times the whole connect (DNS,
        // TCP, TLS) and reports it as a connect timeout; a second, inner
        // timer could fire first with a different error.
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .wrap_connector(http);
        let connector = Connector::new(https, self.connect_timeout);
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .timer(hyper_util::rt::TokioTimer::new())
                .pool_timer(hyper_util::rt::TokioTimer::new())
                .pool_idle_timeout(self.pool_idle_timeout)
                .pool_max_idle_per_host(self.pool_max_idle_per_host)
                .build(connector);

        let hyper = HyperService::new(client, self.allow_insecure_credentials);
        let mut svc: BoxService =
            BoxCloneSyncService::new(Timeout::new(hyper, self.attempt_timeout));
        if let Some(max) = self.concurrency_limit {
            svc = BoxCloneSyncService::new(ConcurrencyLimit::new(svc, max));
        }
        if let Some((num, per)) = self.rate_limit {
            svc = BoxCloneSyncService::new(RateLimit::new(svc, num, per));
        }
        for layer in self.layers.iter().rev() {
            svc = layer(svc);
        }
        let svc: BoxService = BoxCloneSyncService::new(Retry::new(svc, self.max_retries));

        Ok(Transport {
            inner: Arc::new(Inner {
                config: Config {
                    base,
                    api_key: self.api_key,
                    auth_token: self.auth_token,
                    version,
                    betas: self.betas,
                    default_headers: self.default_headers,
                    user_agent,
                    max_retries: self.max_retries,
                    timeout: self.timeout,
                    attempt_timeout: self.attempt_timeout,
                    idle_timeout: self.idle_timeout,
                    connect_timeout: self.connect_timeout,
                    header_timeout: self.header_timeout,
                    max_body_size: self.max_body_size,
                },
                service: svc,
            }),
        })
    }
}

fn tls_config(extra: &[CertificateDer<'static>], built_in: bool) -> Result<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    if built_in {
        #[cfg(feature = "webpki-roots")]
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        #[cfg(feature = "native-roots")]
        {
            let found = rustls_native_certs::load_native_certs();
            for cert in found.certs {
                // A system certificate rustls cannot parse is skipped, as
                // the other roots still work.
                let _ = roots.add(cert);
            }
        }
    }
    for cert in extra {
        roots
            .add(cert.clone())
            .map_err(|e| Error::builder_msg(format!("invalid root certificate: {e}")))?;
    }
    if roots.is_empty() {
        return Err(Error::builder_msg(
            "no trusted root certificates: enable the webpki-roots or native-roots \
             feature, or add a root certificate",
        ));
    }
    let provider = crypto_provider()?;
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(Error::builder)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(cfg)
}

/// The crypto provider: aws-lc-rs when its feature is on, else ring, else
/// the process default a program installed
/// (`rustls::crypto::CryptoProvider::install_default`).
fn crypto_provider() -> Result<Arc<rustls::crypto::CryptoProvider>> {
    #[cfg(feature = "aws-lc-rs")]
    return Ok(Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
    #[cfg(all(feature = "ring", not(feature = "aws-lc-rs")))]
    return Ok(Arc::new(rustls::crypto::ring::default_provider()));
    #[cfg(not(any(feature = "ring", feature = "aws-lc-rs")))]
    rustls::crypto::CryptoProvider::get_default()
        .cloned()
        .ok_or_else(|| {
            Error::builder_msg(
                "no TLS crypto provider: enable the ring or aws-lc-rs feature, or install a \
                 process default with rustls::crypto::CryptoProvider::install_default",
            )
        })
}

impl fmt::Debug for TransportBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportBuilder")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key)
            .field("auth_token", &self.auth_token)
            .field("version", &self.version)
            .field("betas", &self.betas)
            .field(
                "default_headers",
                &self.default_headers.keys().collect::<Vec<_>>(),
            )
            .field("max_retries", &self.max_retries)
            .field("timeout", &self.timeout.unwrap_or(DEFAULT_TIMEOUT))
            .field("idle_timeout", &self.idle_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("header_timeout", &self.header_timeout)
            .field("max_body_size", &self.max_body_size)
            .finish_non_exhaustive()
    }
}
