//! [`TransportBuilder`]: the settings, and the middleware stack it builds.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::Uri;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use tower::util::BoxCloneSyncService;
use tower::{Layer, Service};

use super::base::Base;
use super::headers::sensitive;
use super::tls::tls_config;
use super::{
    Config, DEFAULT_BASE_URL, DEFAULT_CONNECT_TIMEOUT, DEFAULT_HEADER_TIMEOUT,
    DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_BODY_SIZE, DEFAULT_TIMEOUT, DEFAULT_VERSION, Inner, LayerFn,
    Secret, Transport,
};
#[cfg(doc)]
use crate::Body;
use crate::connect::{Connector, DEFAULT_HTTP2_MAX_STREAMS, HyperService, Lanes, check_secure};
use crate::error::{Error, Result};
use crate::limit::{ConcurrencyLimit, RateLimit};
use crate::retry::Retry;
use crate::timeout::Timeout;
use crate::{BoxError, BoxService, HttpBody};

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
    http2_prior_knowledge: bool,
    http2_max_streams: usize,
    http1_read_buf_size: Option<usize>,
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
            http2_prior_knowledge: false,
            http2_max_streams: DEFAULT_HTTP2_MAX_STREAMS,
            http1_read_buf_size: None,
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

    /// Speaks HTTP/2 from the first byte, with no ALPN choice or upgrade:
    /// cleartext HTTP/2 ("h2c") to an `http://` base URL, such as a proxy or
    /// the emulator on loopback, and ALPN offering only `h2` over TLS.
    /// Default is off: over TLS the server picks HTTP/2 or HTTP/1.1 by ALPN,
    /// and `http://` is HTTP/1.1.
    ///
    /// A server that does not speak HTTP/2 fails every request with a
    /// connection error. Over HTTP/2 many requests share a connection, each
    /// as a stream: see [`http2_max_streams`](Self::http2_max_streams).
    pub fn http2_prior_knowledge(mut self, enabled: bool) -> TransportBuilder {
        self.http2_prior_knowledge = enabled;
        self
    }

    /// The most requests one HTTP/2 connection carries at once; the next
    /// request opens another connection instead of waiting. Default is 100,
    /// the least RFC 9113 asks a server to allow (section 6.5.2); raise it
    /// for a server known to allow more. Values below 1 count as 1.
    ///
    /// hyper's pool keeps one HTTP/2 connection per host and queues requests
    /// past the server's `SETTINGS_MAX_CONCURRENT_STREAMS` until an earlier
    /// one ends, and a streamed reply holds its stream for as long as Claude
    /// writes. This cap keeps such queueing from happening: above it the
    /// transport spreads requests over more connections. It applies once a
    /// connection is known to speak HTTP/2 (prior knowledge, or a response
    /// that came back as HTTP/2); HTTP/1.1 opens a connection per concurrent
    /// request anyway.
    ///
    /// Cost: each extra connection is one more hyper client with its own
    /// pool; they are kept for the transport's life, and their idle
    /// connections close after [`pool_idle_timeout`](Self::pool_idle_timeout).
    pub fn http2_max_streams(mut self, max: usize) -> TransportBuilder {
        self.http2_max_streams = max;
        self
    }

    /// Reads each HTTP/1.1 response through a buffer of exactly `bytes`,
    /// instead of hyper's adaptive buffer (8 KiB, doubling while reads fill
    /// it). `None`, the default, keeps the adaptive buffer. Values below
    /// [`MIN_HTTP1_READ_BUF_SIZE`](crate::MIN_HTTP1_READ_BUF_SIZE) fail
    /// [`build`](Self::build).
    ///
    /// For a process holding many slow streams at once, such as a relay: an
    /// HTTP/1.1 connection keeps its read buffer for its whole life, and a
    /// stream's events are a few hundred bytes each, so a 4 KiB buffer
    /// holds each connection to about 8 KiB instead of 16 KiB. The costs:
    /// a response head larger than `bytes` fails the request with a
    /// protocol error (the API's heads are about 1 KiB), and a large body
    /// takes more reads. HTTP/2 connections are not affected.
    pub fn http1_read_buf_size(mut self, bytes: Option<usize>) -> TransportBuilder {
        if let Some(n) = bytes
            && n < crate::MIN_HTTP1_READ_BUF_SIZE
        {
            self.error.get_or_insert_with(|| {
                Error::builder_msg(format!(
                    "http1_read_buf_size: {n} bytes is below the least allowed, {}",
                    crate::MIN_HTTP1_READ_BUF_SIZE
                ))
            });
        }
        self.http1_read_buf_size = bytes;
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
            .https_or_http();
        let https = if self.http2_prior_knowledge {
            https.enable_http2().wrap_connector(http)
        } else {
            https.enable_http1().enable_http2().wrap_connector(http)
        };
        let connector = Connector::new(https, self.connect_timeout);
        let mut client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new());
        client
            .timer(hyper_util::rt::TokioTimer::new())
            .pool_timer(hyper_util::rt::TokioTimer::new())
            .pool_idle_timeout(self.pool_idle_timeout)
            .pool_max_idle_per_host(self.pool_max_idle_per_host)
            .http2_only(self.http2_prior_knowledge);
        if let Some(n) = self.http1_read_buf_size {
            client.http1_read_buf_exact_size(n);
        }
        let lanes = Lanes::new(
            client,
            connector,
            self.http2_max_streams,
            self.http2_prior_knowledge,
        );
        let hyper = HyperService::new(lanes, self.allow_insecure_credentials);
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
