//! The HTTP transport for Claude's Messages API.
//!
//! A tower [`Service`](tower::Service) stack over hyper-util's pooled client
//! with rustls (HTTP/1.1 and HTTP/2), adding what every API call needs:
//!
//! - auth (`x-api-key` and/or `Authorization: Bearer`), `anthropic-version`,
//!   comma-joined `anthropic-beta`, a user agent and default headers;
//! - the official SDKs' retry contract ([`should_retry_status`], [`backoff_delay`]): `x-should-retry`, 408,
//!   409, 429, >= 500, connection errors and timeouts, `retry-after-ms` /
//!   `retry-after`, exponential backoff with jitter, 2 retries by default;
//! - timeouts: connect (5 s), per attempt to the headers (60 s for streaming
//!   requests, see [`DEFAULT_HEADER_TIMEOUT`]), an overall deadline (10 min),
//!   and an **idle timeout between body chunks** (60 s) so a stalled stream
//!   fails instead of hanging; plus the "streaming is required" guard;
//! - a size limit on every body read whole (64 MiB by default,
//!   [`TransportBuilder::max_body_size`]), so a hostile or broken server
//!   cannot exhaust memory;
//! - one opaque [`Error`] that sorts API errors (typed with
//!   `messages_types::error`), timeouts and connection failures;
//! - optional concurrency and rate limits ([`TransportBuilder::concurrency_limit`], [`TransportBuilder::rate_limit`]) and user tower layers.
//! - HTTP/2 by ALPN over TLS, or from the first byte with
//!   [`TransportBuilder::http2_prior_knowledge`] (h2c to a proxy or the
//!   emulator); at most [`TransportBuilder::http2_max_streams`] (100)
//!   requests share one HTTP/2 connection, the next opening another, so
//!   thousands of long streams never queue behind each other.
//!
//! It knows HTTP only: no SSE, no message content. The facades build on
//! [`Transport::send`] and read the [`Body`] as a stream of `Bytes`.
//!
//! Credentials are never sent over plain `http://` to a host that is not
//! loopback unless [`TransportBuilder::allow_insecure_credentials`] says so.
//! Secrets never appear in `Debug` output or in `tracing` events; request
//! bodies are never logged.
//!
//! # Example
//!
//! ```no_run
//! # async fn run() -> Result<(), messages_http::Error> {
//! use messages_http::{Request, RequestOptions, Transport};
//!
//! let transport = Transport::from_env()?;
//! let req = Request::post("/v1/messages")
//!     .with_body(r#"{"model":"claude-sonnet-4-6","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"Hi"}]}"#)
//!     .with_options(RequestOptions::new().streaming(true).max_tokens(64));
//! let mut resp = transport.send(req).await?;
//! println!("request id: {:?}", resp.request_id());
//! while let Some(chunk) = resp.body_mut().chunk().await? {
//!     // Feed `chunk` to an SSE parser.
//!     # let _ = chunk;
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Optional Features
//!
//! - `webpki-roots` (default): trust the Mozilla roots compiled in.
//! - `native-roots`: trust the operating system's certificate store.
//!
//! With both, both are trusted; with neither, only roots added with
//! [`TransportBuilder::add_root_certificate_der`] are.
#![deny(missing_docs)]
#![deny(missing_debug_implementations)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]

mod client;
mod connect;
pub mod error;
mod limit;
mod pages;
mod request;
mod response;
mod retry;
mod timeout;

#[cfg(test)]
mod tests;

use bytes::Bytes;

pub use crate::client::{
    DEFAULT_BASE_URL, DEFAULT_CONNECT_TIMEOUT, DEFAULT_HEADER_TIMEOUT, DEFAULT_IDLE_TIMEOUT,
    DEFAULT_MAX_BODY_SIZE, DEFAULT_TIMEOUT, DEFAULT_VERSION, MIN_HTTP1_READ_BUF_SIZE, Transport,
    TransportBuilder,
};
pub use crate::error::{Error, Result};
pub use crate::pages::{ListParams, Pages};
pub use crate::request::{Request, RequestOptions, encode_segment};
pub use crate::response::{Body, Response};
/// The retry policy the transport applies (what the official SDKs do), for
/// callers that retry on their own, such as `messages-batch`'s runner.
pub use crate::retry::{
    DEFAULT_MAX_RETRIES, backoff_delay, requested_wait, retry_after, retry_delay,
    should_retry_status,
};

/// The error type passed between middleware (tower's convention).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The body type of responses inside the stack.
pub type HttpBody = http_body_util::combinators::BoxBody<Bytes, BoxError>;

/// The type-erased per-attempt service that user layers wrap.
pub type BoxService =
    tower::util::BoxCloneSyncService<http::Request<Bytes>, http::Response<HttpBody>, BoxError>;
