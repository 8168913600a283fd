//! The [`Transport`] and its [`TransportBuilder`], split by concern:
//!
//! - `send`: the send path ([`Transport::send`]): the streaming-required
//!   guard, the request's extensions for the middleware, the deadline, the
//!   tracing span and the response;
//! - `headers`: merging the configured and per-call headers (auth, version,
//!   the comma-joined `anthropic-beta`);
//! - `base`: parsing the base URL and resolving request paths against it;
//! - `error_body`: reading a non-2xx body into an API error;
//! - `builder`: [`TransportBuilder`], its settings and the stack it builds;
//! - `tls`: the root certificates and the crypto provider.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::header::{HeaderMap, HeaderValue};

use crate::BoxService;
#[cfg(doc)]
use crate::Request;
use crate::error::Result;

mod base;
mod builder;
mod error_body;
mod headers;
mod send;
mod tls;

use self::base::Base;
pub use self::builder::TransportBuilder;

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

/// The least [`TransportBuilder::http1_read_buf_size`] allowed (1 KiB): an
/// HTTP/1.1 response head must fit in the read buffer.
pub const MIN_HTTP1_READ_BUF_SIZE: usize = 1024;

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
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}
