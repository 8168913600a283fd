//! A local server that speaks Claude's Messages API wire format.
//!
//! The emulator is a real HTTP/1.1 and HTTP/2 (prior knowledge) server on
//! hyper. It answers the Messages, token counting, Models and Message Batches
//! endpoints the way the API does, faithfully enough that the official Python
//! and TypeScript SDKs work against it unchanged, pointed at it by base URL.
//! It is the ground truth for this workspace's integration tests, the CLI's
//! embedded default and the server of every end-to-end benchmark.
//!
//! # Example
//!
//! Start an emulator on an ephemeral loopback port inside a test, use it, and
//! shut it down:
//!
//! ```
//! use std::time::Duration;
//! use messages_emulator::Emulator;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), messages_emulator::Error> {
//! let emulator = Emulator::builder()
//!     .token_delay(Duration::ZERO) // no pacing in tests
//!     .start()
//!     .await?;
//! let base_url = emulator.base_url(); // "http://127.0.0.1:PORT"
//! assert!(base_url.starts_with("http://127.0.0.1:"));
//! // ... point a client at `base_url` ...
//! assert_eq!(emulator.request_log().count("POST", "/v1/messages"), 0);
//! emulator.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! # Endpoints
//!
//! | method and path | answer |
//! |---|---|
//! | `POST /v1/messages` | a message, or an SSE stream when `"stream": true` |
//! | `POST /v1/messages/count_tokens` | `{"input_tokens": N}` |
//! | `GET /v1/models`, `GET /v1/models/{id}` | the model table (ids and aliases below) |
//! | `POST /v1/messages/batches` | create a batch |
//! | `GET /v1/messages/batches` | list batches, newest first (`before_id`, `after_id`, `limit` 1..=1000) |
//! | `GET /v1/messages/batches/{id}` | retrieve a batch |
//! | `POST /v1/messages/batches/{id}/cancel` | cancel: `canceling`, then `ended` |
//! | `DELETE /v1/messages/batches/{id}` | delete an ended batch |
//! | `GET /v1/messages/batches/{id}/results` | results as JSONL (`application/x-jsonl`), in no particular order |
//!
//! Every response carries a `request-id` header (`req_...`) and the
//! `anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-{limit,remaining,reset}`
//! headers (fixed, generous figures, unless rate limits are configured:
//! [`EmulatorBuilder::requests_per_minute`], [`EmulatorBuilder::tokens_per_minute`];
//! then `requests` and `tokens` report the limits' token buckets and a
//! `POST /v1/messages` over them gets 429 `rate_limit_error` with
//! `retry-after`). Errors have the API's body,
//! `{"type":"error","error":{"type":T,"message":M},"request_id":"req_..."}`:
//!
//! - no `x-api-key` and no `Authorization: Bearer` token, or a key other than
//!   the configured one: 401 `authentication_error` (without a configured key,
//!   any non-empty key is accepted);
//! - a missing or invalid field: 400 `invalid_request_error` with a message
//!   naming it, such as `messages.0.role: Input should be 'user' or 'assistant'`;
//! - an unknown model: 404 `not_found_error` (`model: NAME`);
//! - a body that is not JSON, or a content type other than
//!   `application/json`: 400 `invalid_request_error`;
//! - a body over the limit (32 MiB, 256 MB for batch creation): 413
//!   `request_too_large`;
//! - an unknown path or method: 404 `not_found_error`.
//!
//! - a request field the request's `anthropic-version` rejects: 400
//!   `invalid_request_error`. Under `2026-10-21`: `temperature`, `top_p`
//!   and `top_k` (`temperature: Extra inputs are not permitted`, the text
//!   measured against the API), a `document` block in an assistant turn and
//!   non-empty `citations` on a user text block (these two texts are the
//!   emulator's own; the real ones were not available). No header means
//!   `2023-06-01`; an unknown version is a 400 naming the header. Batch
//!   requests get the rules of the batch create request's version, each
//!   refused request as an `errored` result with the same error (see
//!   Batches);
//! - with both `x-api-key` and `Authorization: Bearer`, only `x-api-key`
//!   is checked, as the API does.
//!
//! # Models
//!
//! The model table is data: `messages-types`' `data/models.json` (ids,
//! aliases, context windows, the largest `max_tokens` of each model,
//! adaptive thinking support, deprecation and retirement dates), the same
//! table the client uses. `GET /v1/models` lists it newest first with
//! `max_input_tokens` and `max_tokens`. A model retired on the emulator's
//! date ([`EmulatorBuilder::today`], default the system clock) is a 404
//! `not_found_error` whose message gives the retirement date. Add models
//! with [`EmulatorBuilder::model`] (`--model ID`, repeatable; current limits
//! and adaptive thinking) or a models file ([`EmulatorBuilder::models_json`],
//! `--models FILE`) in the same format; a new model never needs a release.
//!
//! # Generation
//!
//! Replies are deterministic: everything is seeded by a hash of the request
//! body (except `stream`), so the same request gets the same message, ids
//! included, and a streamed reply accumulates to exactly the message the
//! non-streaming request returns.
//!
//! - Text is prose made of a fixed vocabulary plus the words of the system
//!   prompt and the last user turn. It is cut at `max_tokens` (one word is one
//!   token; `stop_reason: "max_tokens"`) and before the first `stop_sequences`
//!   entry it contains (`stop_reason: "stop_sequence"`, `stop_sequence` set).
//! - With client tools and `tool_choice` `auto` (the default), the reply is a
//!   short text and a `tool_use` block, unless the last user turn carries a
//!   `tool_result` (then a text answer: agent loops end). `any` and `tool`
//!   force a `tool_use` block without text; `none` never calls a tool. The
//!   input is valid for the tool's `input_schema` (types, `properties`,
//!   `required`, `enum`, `const`, `anyOf`/`oneOf`/`allOf`, numeric bounds,
//!   lengths; `pattern` is not honoured). `stop_reason` is `tool_use`.
//! - With `thinking` enabled, a `thinking` block (thinking and signature
//!   deltas) comes first. `{"type": "adaptive"}` (models that support it)
//!   thinks too, within half of `max_tokens`; with `display: "omitted"` the
//!   block has an empty `thinking` and only a signature delta, its tokens
//!   still counted. `usage.output_tokens_details.thinking_tokens` counts them.
//! - `output_config`: `effort` is validated; a `json_schema` `format` makes
//!   the text JSON valid for the schema (the same schema subset as tool
//!   inputs), cut by `max_tokens` like any text.
//! - `usage.input_tokens` estimates the request (about 4 bytes per token, as
//!   `count_tokens` reports); `usage.output_tokens` counts what was generated.
//! - Streams are paced: by default 3 ms per token ([`EmulatorBuilder::token_delay`],
//!   `--token-delay-ms`; zero in tests).
//!
//! Streams follow the real event order: `message_start`, then per block
//! `content_block_start`, deltas and `content_block_stop`, then
//! `message_delta` and `message_stop`, with a `ping` after the first
//! `content_block_start` and after every 25 deltas. The content type is
//! `text/event-stream; charset=utf-8`. [`EmulatorBuilder::pad_json`] pads the
//! JSON with spaces before its closing brace, as the real API does.
//!
//! # Fault injection
//!
//! The request header `x-emulator-fault` injects faults into one request:
//!
//! ```text
//! x-emulator-fault: FAULT [; FAULT ...]      or  none
//! FAULT := NAME=VALUE [, PARAM=VALUE ...]
//! ```
//!
//! | fault | effect |
//! |---|---|
//! | `status=CODE` | answer with this HTTP status and the API error body for it (`429` `rate_limit_error`, `529` `overloaded_error`, `500` `api_error`...). Parameters: `type=T` (error type), `retry-after=S` (the `retry-after` header, verbatim), `retry-after-ms=MS`, `should-retry=true\|false` (`x-should-retry`) |
//! | `disconnect-after=N` | send N stream events, then drop the connection (no terminating chunk) |
//! | `error-after=N` | send N events, then an `error` event and end the stream. Parameter: `type=T`, default `overloaded_error` |
//! | `stall-after=N` | send N events, then nothing, keeping the connection open until the client leaves |
//! | `malformed-after=N` | after N events, send one `content_block_delta` event whose JSON is cut short, then continue |
//! | `truncate-results=N` | the batch results body stops after N lines, in the middle of line N+1 (the body itself ends cleanly) |
//! | `batch-expiry-ms=N` | on batch creation: the batch expires N ms after it is created (instead of [`EmulatorBuilder::batch_expiry`]); the requests not processed by then end `expired` |
//! | `refusal=CATEGORY` | the reply is a refusal: tool calls dropped, `stop_reason: "refusal"`, `stop_details` `{"type":"refusal","category":CATEGORY,"explanation":...}` (on the message and the `message_delta`) |
//! | `fallback=MODEL` | a `fallback` block (`from` the requested model, `to` MODEL) comes first, whole in `content_block_start`; `message_start` names the requested model, the final message MODEL |
//! | `compaction=N` | a `compaction` block of N words comes first, filled by `compaction_delta` events (the last one carries `encrypted_content`) |
//! | `text=N` | the first text block is N words long (one token each), cut by `max_tokens` as any text is (then `stop_reason: "max_tokens"` and no tool call after it); for long paced replies in benchmarks |
//! | `hang=MS` | answer nothing (not even the status line) for MS milliseconds, on any route, then answer as usual; a client that leaves first just closes the connection. With `skip=N,scope=all`, the first N requests are answered at once and every later one hangs: requests that cannot finish until the client cancels them |
//! | `malformed-results=N` | line N+1 of the batch results body is not JSON (its `custom_id` is still readable); the body is sent a line at a time and pauses 250 ms after that line, so a client that stops there and closes the connection is counted by [`EmulatorHandle::cancelled_streams`]; the rest follows the pause |
//!
//! Every fault takes `times=N`: only the first N identical requests (same
//! method, path, body and fault header) see it; later ones succeed, so client
//! retries can be tested. More parameters every fault takes:
//!
//! - `scope=all` counts `times` (and `skip`) over all the requests the
//!   fault applies to, not per identical request: `disconnect-after=5,times=1,scope=all`
//!   drops the first stream only, even when a retry differs from it (a
//!   resumed stream's continuation request does);
//! - `skip=N`: the first N requests that would see the fault do not
//!   (`status=500,skip=1,times=1,scope=all,method=POST,path=/v1/messages/batches`
//!   fails the second batch creation, and only it);
//! - `method=M` and `path=P` (exact) limit the fault to matching requests.
//!
//! Example:
//! `x-emulator-fault: status=429,retry-after=1,times=2; disconnect-after=5`.
//! A status fault answers by itself: when it fires, the other faults of the
//! header neither apply nor count. Stream faults count every event, pings
//! included, and only apply to streaming responses. Of `disconnect-after`,
//! `error-after` and `stall-after`, the one with the smallest N applies; an N
//! at or past the end of the stream applies after the last event. A header
//! that does not parse gets a 400 naming the problem.
//!
//! The same faults can be set server-wide ([`EmulatorBuilder::fault`],
//! `--fault SPEC`); a request with its own `x-emulator-fault` header (`none`
//! for no fault) replaces them.
//!
//! **Firehose.** The header `x-emulator-firehose: N` on a streaming request
//! streams N text deltas (`" token"` each) as fast as the socket takes them:
//! the frames are rendered once and handed to hyper as shared buffers.
//!
//! # Batches
//!
//! Batch creation is validated as the API does: 1 to 100,000 requests, a body
//! up to 256 MB, `custom_id` 1 to 64 characters of `[A-Za-z0-9_-]` and unique
//! in the batch, `params` an object with `model`, `max_tokens` and
//! `messages`. The rest of each request's validation happens while processing
//! and yields an `errored` result, like the API's, which validates each
//! request's params when it processes it: the rules are those of a direct
//! request with the create request's `anthropic-version` (kept with the
//! batch, across restarts), so a request the version refuses (`temperature`
//! under `2026-10-21`) is `errored` with the error a direct request gets.
//! Requests are processed in
//! the background, one per [`EmulatorBuilder::batch_pace`], in a shuffled
//! order, with `request_counts` moving as they finish. Cancel moves a batch to
//! `canceling`, then `ended` with the unprocessed requests `canceled`; a batch
//! still in progress at `expires_at` ([`EmulatorBuilder::batch_expiry`],
//! 24 hours by default) ends with them `expired`. Only ended batches can be
//! deleted and only ended batches have results.
//!
//! With [`EmulatorBuilder::data_dir`], batches are persisted under
//! `DIR/batches/ID/`, and a restarted emulator resumes batches in progress and
//! keeps finished results. Without it, they live in memory.
//!
//! # The binary
//!
//! ```text
//! messages-emulator [--addr 127.0.0.1:0] [--data-dir DIR] [--api-key KEY]
//!                   [--replay FILE.sse] [--token-delay-ms N] [--fault SPEC]...
//!                   [--pad-json] [--ping-every N] [--batch-pace-ms N]
//!                   [--batch-expiry-secs N] [--max-body-bytes N] [--latency-ms N]
//!                   [--requests-per-minute N] [--tokens-per-minute N]
//!                   [--rate-limit-window-ms N]
//! ```
//!
//! It prints exactly `listening on http://HOST:PORT` as its first line on
//! stdout once it accepts connections, then serves until SIGINT or SIGTERM.
//! `--replay FILE.sse` answers every streaming `POST /v1/messages` with the
//! file's bytes, verbatim.
#![deny(missing_docs)]
#![deny(missing_debug_implementations)]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod batch;
mod body;
mod fault;
mod generate;
mod log;
mod models;
mod ratelimit;
mod server;
mod sse;
mod stream;
mod util;
mod validate;
mod wire;

#[cfg(test)]
mod tests;

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use bytes::Bytes;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

pub use crate::fault::FaultSpec;
pub use crate::log::{LoggedRequest, RequestLog};

/// The header that injects faults into one request (see [Fault injection](crate#fault-injection)).
pub const FAULT_HEADER: &str = server::FAULT_HEADER;
/// The header that turns a streaming request into a firehose of N text deltas.
pub const FIREHOSE_HEADER: &str = server::FIREHOSE_HEADER;

/// A `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

// ===== Error =====

/// Why the emulator could not start, or why a fault specification did not parse.
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: Kind,
    message: String,
    source: Option<io::Error>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Fault,
    Io,
    Models,
}

impl Error {
    pub(crate) fn fault(message: String) -> Error {
        Error {
            inner: Box::new(Inner {
                kind: Kind::Fault,
                message,
                source: None,
            }),
        }
    }

    pub(crate) fn models(message: String) -> Error {
        Error {
            inner: Box::new(Inner {
                kind: Kind::Models,
                message,
                source: None,
            }),
        }
    }

    /// Whether a models file did not parse.
    pub fn is_models_file(&self) -> bool {
        self.inner.kind == Kind::Models
    }

    pub(crate) fn io(message: String, source: io::Error) -> Error {
        Error {
            inner: Box::new(Inner {
                kind: Kind::Io,
                message,
                source: Some(source),
            }),
        }
    }

    /// Whether a fault specification did not parse.
    pub fn is_fault_spec(&self) -> bool {
        self.inner.kind == Kind::Fault
    }

    /// Whether an I/O operation failed (binding the address, the data directory, the replay file).
    pub fn is_io(&self) -> bool {
        self.inner.kind == Kind::Io
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.inner.kind)
            .field("message", &self.inner.message)
            .field("source", &self.inner.source)
            .finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.inner.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner
            .source
            .as_ref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// Default time a request body may take to arrive (60 s); see
/// [`EmulatorBuilder::request_body_timeout`].
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(60);

// ===== Config =====

/// The server's configuration (built by [`EmulatorBuilder`]).
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) addr: SocketAddr,
    pub(crate) api_key: Option<String>,
    pub(crate) data_dir: Option<PathBuf>,
    pub(crate) replay: Option<Bytes>,
    pub(crate) token_delay: Duration,
    pub(crate) latency: Duration,
    pub(crate) faults: FaultSpec,
    pub(crate) pad_json: bool,
    pub(crate) stamp_text: bool,
    pub(crate) ping_every: usize,
    pub(crate) batch_pace: Duration,
    pub(crate) batch_expiry: Duration,
    pub(crate) max_body_bytes: usize,
    pub(crate) max_batch_bytes: usize,
    pub(crate) request_log: bool,
    pub(crate) extra_models: Vec<String>,
    pub(crate) model_specs: Vec<messages_types::ModelSpec>,
    pub(crate) today: Option<String>,
    pub(crate) shutdown_grace: Duration,
    pub(crate) body_timeout: Duration,
    pub(crate) rate_limits: ratelimit::Limits,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            api_key: None,
            data_dir: None,
            replay: None,
            token_delay: Duration::from_millis(3),
            latency: Duration::ZERO,
            faults: FaultSpec::default(),
            pad_json: false,
            stamp_text: false,
            ping_every: 25,
            batch_pace: Duration::from_millis(5),
            batch_expiry: Duration::from_secs(24 * 60 * 60),
            max_body_bytes: 32 * 1024 * 1024,
            max_batch_bytes: 256 * 1000 * 1000,
            request_log: true,
            extra_models: Vec::new(),
            model_specs: Vec::new(),
            today: None,
            shutdown_grace: Duration::from_secs(5),
            body_timeout: DEFAULT_BODY_TIMEOUT,
            rate_limits: ratelimit::Limits::default(),
        }
    }
}

// ===== Emulator =====

/// Entry point: [`Emulator::builder`] configures and starts a server.
#[derive(Debug)]
pub struct Emulator {
    _private: (),
}

impl Emulator {
    /// A builder with the defaults: `127.0.0.1:0`, any non-empty key, 3 ms per
    /// token, batches in memory at 5 ms per request, 24 h expiry.
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder {
            config: Config::default(),
            error: None,
        }
    }
}

/// Configures an emulator; [`EmulatorBuilder::start`] starts it.
///
/// Fallible setters (like [`fault`](EmulatorBuilder::fault)) keep the first
/// error and `start` returns it.
#[derive(Debug)]
#[must_use]
pub struct EmulatorBuilder {
    config: Config,
    error: Option<Error>,
}

impl EmulatorBuilder {
    /// The address to listen on. Default is `127.0.0.1:0` (an ephemeral port).
    pub fn addr(mut self, addr: SocketAddr) -> EmulatorBuilder {
        self.config.addr = addr;
        self
    }

    /// The only API key accepted (as `x-api-key` or a Bearer token). Default
    /// is none: any non-empty key is accepted.
    pub fn api_key(mut self, key: impl Into<String>) -> EmulatorBuilder {
        self.config.api_key = Some(key.into());
        self
    }

    /// Persist batches under this directory. Default is in memory only.
    pub fn data_dir(mut self, dir: impl Into<PathBuf>) -> EmulatorBuilder {
        self.config.data_dir = Some(dir.into());
        self
    }

    /// Answer every streaming `POST /v1/messages` with these bytes, verbatim.
    /// Default is none (generated streams).
    pub fn replay(mut self, sse_body: impl Into<Bytes>) -> EmulatorBuilder {
        self.config.replay = Some(sse_body.into());
        self
    }

    /// Time per generated token when streaming. Default is 3 ms; use
    /// `Duration::ZERO` in tests.
    pub fn token_delay(mut self, delay: Duration) -> EmulatorBuilder {
        self.config.token_delay = delay;
        self
    }

    /// A fixed delay added to every request before its response head is
    /// sent (after the body was read), like a network round trip plus the
    /// API's time to first byte. Default is zero.
    pub fn latency(mut self, latency: Duration) -> EmulatorBuilder {
        self.config.latency = latency;
        self
    }

    /// Server-wide faults, in the `x-emulator-fault` grammar. Default is none.
    /// Calling it again replaces the previous specification.
    pub fn fault(mut self, spec: &str) -> EmulatorBuilder {
        match FaultSpec::parse(spec) {
            Ok(s) => self.config.faults = s,
            Err(e) => {
                self.error.get_or_insert(e);
            }
        }
        self
    }

    /// Pad stream JSON with spaces before the closing brace, as the real API
    /// sometimes does. Default is off.
    pub fn pad_json(mut self, pad: bool) -> EmulatorBuilder {
        self.config.pad_json = pad;
        self
    }

    /// Replace the text of every paced `text_delta` with ` t` and the
    /// wall-clock time it was written, in microseconds since the Unix epoch
    /// (` t1764499200123456`), one token each. For latency benchmarks: a
    /// reader on the same machine subtracts the stamp from its arrival time
    /// to get the delay behind the emulator's own write, event by event,
    /// whatever relay sits between. Default is off.
    pub fn stamp_text(mut self, stamp: bool) -> EmulatorBuilder {
        self.config.stamp_text = stamp;
        self
    }

    /// Send a `ping` after every `n` deltas (0: only the first ping).
    /// Default is 25.
    pub fn ping_every(mut self, n: usize) -> EmulatorBuilder {
        self.config.ping_every = n;
        self
    }

    /// Time to process one batch request. Default is 5 ms.
    pub fn batch_pace(mut self, pace: Duration) -> EmulatorBuilder {
        self.config.batch_pace = pace;
        self
    }

    /// How long after creation a batch expires. Default is 24 hours.
    pub fn batch_expiry(mut self, expiry: Duration) -> EmulatorBuilder {
        self.config.batch_expiry = expiry;
        self
    }

    /// How long a request body may take to arrive, from the end of the
    /// headers. Past it the request gets a 408 `timeout_error` and its
    /// connection is closed, so bodies that trickle in cannot hold
    /// connections (hyper already bounds the header phase). Default is
    /// [`DEFAULT_BODY_TIMEOUT`] (60 s): a 32 MiB body at 1 MB/s fits.
    pub fn request_body_timeout(mut self, timeout: Duration) -> EmulatorBuilder {
        self.config.body_timeout = timeout;
        self
    }

    /// The largest request body, except batch creation. Default is 32 MiB.
    pub fn max_body_bytes(mut self, n: usize) -> EmulatorBuilder {
        self.config.max_body_bytes = n;
        self
    }

    /// The largest batch creation body. Default is 256 MB.
    pub fn max_batch_bytes(mut self, n: usize) -> EmulatorBuilder {
        self.config.max_batch_bytes = n;
        self
    }

    /// Keep a [`RequestLog`] of every request (bodies included). Default is
    /// on; turn it off for long-running servers.
    pub fn request_log(mut self, on: bool) -> EmulatorBuilder {
        self.config.request_log = on;
        self
    }

    /// Accept one more model id (listed after the built-in ones), with
    /// current limits (128k output, 1M context) and adaptive thinking.
    pub fn model(mut self, id: impl Into<String>) -> EmulatorBuilder {
        self.config.extra_models.push(id.into());
        self
    }

    /// A limit on `POST /v1/messages` requests per
    /// [`rate_limit_window`](EmulatorBuilder::rate_limit_window) (a minute by
    /// default), as the API's requests-per-minute limit: a token bucket
    /// that refills continuously. Over it, a 429 `rate_limit_error` with
    /// `retry-after` (whole seconds, rounded up). The
    /// `anthropic-ratelimit-requests-{limit,remaining,reset}` headers of
    /// every response then report it (`reset`: when the bucket is full
    /// again, RFC 3339 with milliseconds). Default is none.
    pub fn requests_per_minute(mut self, n: u64) -> EmulatorBuilder {
        self.config.rate_limits.requests = Some(n.max(1));
        self
    }

    /// A limit on the tokens of `POST /v1/messages` requests per window,
    /// as the API's tokens-per-minute limit: each request is charged its
    /// estimated input tokens plus its `max_tokens` when it is admitted.
    /// Reported in `anthropic-ratelimit-tokens-*`. Default is none.
    pub fn tokens_per_minute(mut self, n: u64) -> EmulatorBuilder {
        self.config.rate_limits.tokens = Some(n.max(1));
        self
    }

    /// The window of [`requests_per_minute`](EmulatorBuilder::requests_per_minute)
    /// and [`tokens_per_minute`](EmulatorBuilder::tokens_per_minute): a
    /// shorter one runs the same limits on a faster clock (60 requests per
    /// 2 s behaves like 60 per minute, 30 times faster), for tests. Default
    /// is 60 s.
    pub fn rate_limit_window(mut self, window: Duration) -> EmulatorBuilder {
        if !window.is_zero() {
            self.config.rate_limits.window = window;
        }
        self
    }

    /// Adds the models of a models file, in the format of `messages-types`'
    /// `data/models.json` (`{"models": [...]}`) or a bare array of models.
    /// A model whose id is already known replaces it. An invalid file is
    /// an error of [`start`](EmulatorBuilder::start).
    pub fn models_json(mut self, json: &str) -> EmulatorBuilder {
        match messages_types::ModelCatalog::from_json(json) {
            Ok(c) => self.config.model_specs.extend(c.models),
            Err(e) => {
                if self.error.is_none() {
                    self.error = Some(Error::models(format!("models file: {e}")));
                }
            }
        }
        self
    }

    /// The date (`YYYY-MM-DD`, UTC) against which model retirement dates
    /// are checked. Default is today's date from the system clock.
    pub fn today(mut self, date: impl Into<String>) -> EmulatorBuilder {
        self.config.today = Some(date.into());
        self
    }

    /// How long [`EmulatorHandle::shutdown`] waits for open connections
    /// (stalled streams, for example) before closing them. Default is 5 s.
    pub fn shutdown_grace(mut self, grace: Duration) -> EmulatorBuilder {
        self.config.shutdown_grace = grace;
        self
    }

    /// Binds the address, loads persisted batches, resumes the ones in
    /// progress and starts serving on the current tokio runtime.
    ///
    /// # Errors
    ///
    /// An invalid fault specification, an address that cannot be bound, or a
    /// data directory that cannot be read.
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime (with the `net` and `time` drivers enabled).
    ///
    /// # Cancellation
    ///
    /// Dropping the future before it completes releases the listener; no task
    /// has been spawned yet.
    pub async fn start(self) -> Result<EmulatorHandle> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let mut config = self.config;
        let listener = TcpListener::bind(config.addr)
            .await
            .map_err(|e| Error::io(format!("could not bind {}: {e}", config.addr), e))?;
        let local_addr = listener
            .local_addr()
            .map_err(|e| Error::io(format!("could not read the bound address: {e}"), e))?;
        config.addr = local_addr;

        let mut table = models::builtin();
        models::extend(
            &mut table,
            config.model_specs.iter().cloned().map(models::Model::from),
        );
        models::extend(
            &mut table,
            config
                .extra_models
                .iter()
                .map(|id| models::Model::named(id)),
        );
        if config.today.is_none() {
            config.today = Some(messages_types::catalog::today_utc());
        }
        let models = Arc::new(table);
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let store = batch::BatchStore::open(
            batch::BatchConfig {
                data_dir: config.data_dir.clone(),
                pace: config.batch_pace,
                expiry: config.batch_expiry,
                today: config.today.clone().unwrap_or_default(),
            },
            Arc::clone(&models),
            shutdown_rx.clone(),
        )
        .map_err(|e| Error::io(format!("batch store: {e}"), e))?;
        let batches = Arc::new(store);
        batches.resume();

        let log = config.request_log.then(RequestLog::default);
        let state = Arc::new(server::State {
            limiter: ratelimit::Limiter::new(config.rate_limits),
            config,
            models,
            faults: fault::FaultCounter::default(),
            log: log.clone(),
            batches,
            requests_served: AtomicU64::new(0),
            cancelled_streams: Arc::default(),
        });
        let task = tokio::spawn(accept_loop(listener, Arc::clone(&state), shutdown_rx));
        Ok(EmulatorHandle {
            addr: local_addr,
            log: log.unwrap_or_default(),
            shutdown: Some(shutdown_tx),
            task: Some(task),
            state,
        })
    }
}

/// Accepts connections until the shutdown signal, then shuts down gracefully.
async fn accept_loop(
    listener: TcpListener,
    state: Arc<server::State>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new());
    builder.http2().timer(TokioTimer::new());
    let graceful = GracefulShutdown::new();
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(_) => {
                        // Out of file descriptors or a connection reset before
                        // accept: wait a moment and keep serving.
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let st = Arc::clone(&state);
                let svc = service_fn(move |req| server::handle(Arc::clone(&st), req));
                let conn = builder.serve_connection(TokioIo::new(stream), svc).into_owned();
                let conn = graceful.watch(conn);
                conns.spawn(async move {
                    let _ = conn.await;
                });
            }
            _ = shutdown.changed() => break,
        }
    }
    drop(listener);
    let grace = state.config.shutdown_grace;
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(grace) => {}
    }
    // Whatever is still open (a stalled stream, say) is closed now.
    conns.abort_all();
    while conns.join_next().await.is_some() {}
    state.batches.join_workers().await;
}

/// A running emulator.
///
/// Dropping the handle signals the server to stop without waiting; call
/// [`shutdown`](EmulatorHandle::shutdown) to wait until it has.
#[derive(Debug)]
pub struct EmulatorHandle {
    addr: SocketAddr,
    log: RequestLog,
    shutdown: Option<watch::Sender<bool>>,
    task: Option<JoinHandle<()>>,
    state: Arc<server::State>,
}

impl EmulatorHandle {
    /// The base URL to give clients, such as `http://127.0.0.1:40123`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many streams the client abandoned: the connection closed (or the
    /// response body was dropped) before the emulator sent the last event.
    /// Streams without pacing or faults are written in one piece and are
    /// never counted. Batch results bodies count too, under the
    /// `malformed-results` fault only.
    pub fn cancelled_streams(&self) -> u64 {
        self.state
            .cancelled_streams
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The log of answered requests (empty, and never filled, when the log
    /// was turned off). Cloning it is cheap.
    pub fn request_log(&self) -> &RequestLog {
        &self.log
    }

    /// Whether the request log is on.
    pub fn logs_requests(&self) -> bool {
        self.state.log.is_some()
    }

    /// Stops accepting, lets open requests finish (up to the shutdown grace
    /// period, then closes them), stops batch workers (their progress is
    /// already persisted) and returns when everything has stopped.
    ///
    /// # Cancellation
    ///
    /// Dropping the future does not cancel the shutdown: the server keeps
    /// shutting down in the background.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(true);
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// Serves until the process gets Ctrl-C (SIGINT) or, on Unix, SIGTERM,
    /// then [`shutdown`](EmulatorHandle::shutdown)s. What the
    /// `messages-emulator` binary and `msgs emulator` do.
    pub async fn serve_until_signal(self) {
        #[cfg(unix)]
        let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate());
        #[cfg(unix)]
        if let Ok(mut term) = term {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return self.shutdown().await;
        }
        let _ = tokio::signal::ctrl_c().await;
        self.shutdown().await;
    }
}

impl Drop for EmulatorHandle {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(true);
        }
    }
}
