//! Stream Claude's replies to browsers: a tower `Service` that keeps the API
//! key on the server and relays a reply as server-sent events, resumable
//! and cancellable, in the formats chat front ends already speak.
//!
//! ```no_run
//! use messages_http::Transport;
//! use messages_relay::{ChatPolicy, Format, Relay};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let relay = Relay::builder(Transport::from_env()?)
//!     .policy(
//!         ChatPolicy::new("claude-sonnet-4-6")
//!             .max_tokens(1024)
//!             .system("You are a concise assistant."),
//!     )
//!     .format(Format::UiMessageStream)
//!     .build();
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! messages_relay::serve(listener, relay).await?;
//! # Ok(()) }
//! ```
//!
//! # What it does
//!
//! - **A policy decides.** `POST /chat` carries the page's messages; the
//!   [`Policy`] authenticates the caller (401/403/429) and builds the
//!   upstream request: the server picks the model, caps `max_tokens`, sets
//!   the system prompt and tools. [`ChatPolicy`] also caps the body size and
//!   the message count.
//! - **Three formats from one mapping layer** ([`Format`]): `anthropic`
//!   (the upstream events byte for byte), `ui-message-stream` (the Vercel AI
//!   SDK's protocol v1) and `simple` (`{"text"}` lines). Each upstream event
//!   is mapped once into a buffered item; each connection encodes items in
//!   its format. Every event carries an SSE `id`.
//! - **Resumable.** Each stream's events are kept in a [`BufferStore`]
//!   while it runs and for five minutes after (configurable). A reconnect
//!   (`GET /chat/{id}` with `Last-Event-ID`, which `EventSource` sends by
//!   itself, or the AI SDK's resume request) replays what was missed and
//!   continues live. It never makes a second upstream request. With the
//!   `redis` feature, `RedisStore` shares streams between relay instances
//!   (see [`codec`] for how entries are stored).
//! - **Cancellable.** A stream that no browser reads for the grace period
//!   (10 s) has its upstream request cancelled; `POST /chat/{id}/stop`
//!   cancels at once.
//! - **Heartbeats and backpressure.** A heartbeat after 15 s of silence (a
//!   `ping` event in `anthropic`, a comment otherwise), which also tells the
//!   server that a browser has gone. Connections pull from the buffer only as
//!   fast as the socket drains, merging adjacent text deltas when behind.
//! - **Errors reach the page** as the format's error event, with the API's
//!   error type and request id; the stream then ends cleanly.
//! - CORS ([`RelayBuilder::allow_origin`]), `Cache-Control: no-cache`,
//!   `X-Accel-Buffering: no`, `X-Content-Type-Options: nosniff`; no
//!   compression of event streams. A tracing span per stream; [`Counters`]
//!   at `GET /chat/counters`.
//!
//! # Memory
//!
//! Per stream: the buffered events (each event's data copied once out of the
//! network buffer it arrived in, so about the upstream body's size, plus
//! about 140 bytes per event; a text delta as the API sends it, 16 bytes
//! and its text),
//! bounded by [`MemoryStore::with_max_bytes`] (4 MiB by default: past it the
//! reply is cut with an error event, never silently). Per connection: one
//! batch of at most [`RelayBuilder::batch`] events while it is written.
//!
//! The [`MemoryStore`] keeps a text delta whose raw data is the canonical
//! encoding (what the API sends, unpadded) as its text alone: 16 bytes and
//! the text, the `anthropic` format writing the same bytes again. Without
//! a [`RelayBuilder::resume`] policy the upstream stream does not keep the
//! reply's text a second time.
//!
//! Measured (`benches/relay/sweep.sh`, `docs/benchmarks.md`): 26 KiB of
//! anonymous memory per active stream for short replies and 36 KiB for
//! 500-token ones, at 1,000 streams, when the upstream requests are HTTP/2
//! streams (the transport's `http2_prior_knowledge`, or HTTP/2 chosen by
//! ALPN over TLS); 48 KiB and 59-60 KiB when each is its own HTTP/1.1
//! connection (with `msgs serve`'s 4 KiB `http1_read_buf_size`). The rest is
//! mostly hyper's: for each HTTP/1.1 connection an 8 KiB read buffer, an
//! 8 KiB write buffer and, on the client side, a 9 KiB request channel.
//! A relay of your own over HTTP/1.1 upstream gets the same by building its
//! transport with `TransportBuilder::http1_read_buf_size(Some(4096))`
//! (hyper's adaptive buffer grows to 16 KiB per connection).
//!
//! # Cancellation and drop
//!
//! Dropping a response body detaches that browser; the upstream request
//! runs on its own task and outlives the connection until the grace period
//! passes with nobody attached. Dropping the [`Relay`] does not stop
//! running streams.
#![deny(missing_docs)]
#![deny(missing_debug_implementations)]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod body;
pub mod codec;
mod format;
mod policy;
#[cfg(feature = "redis")]
mod redis;
mod server;
mod service;
mod store;

pub use crate::body::RelayBody;
pub use crate::format::{Format, UnknownFormat};
pub use crate::policy::{ChatMessage, ChatOptions, ChatPolicy, ChatRequest, Policy, Rejection};
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use crate::redis::{RedisStore, RedisStoreBuilder};
pub use crate::server::{DEMO_PAGE, WithDemoPage, serve};
pub use crate::service::{Counters, Relay, RelayBuilder};
pub use crate::store::{Batch, BoxFuture, BufferStore, Entry, MemoryStore, StoreError};
