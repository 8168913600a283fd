//! Streaming facade for Claude's Messages API: typed events, exact
//! accumulation, no silent truncation, resumable streams.
//!
//! [`MessageStream`] reads a streamed reply: a response body goes through
//! [`sse_core`]'s parser, each event is decoded by
//! [`messages_types::decode_event`] and folded into a [`Message`] by the
//! [`Accumulator`]. Most users reach it through the umbrella crate's
//! `Client::stream`.
//!
//! ```no_run
//! use futures_util::StreamExt;
//! use messages_http::Transport;
//! use messages_stream::{MessageStream, StreamOptions};
//! use messages_types::MessageRequest;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let transport = Transport::from_env()?;
//! let request = MessageRequest::new("claude-sonnet-4-6", 1024).user("Write a haiku about Rust");
//! let mut stream = MessageStream::open(&transport, &request, StreamOptions::new()).await?;
//! let mut text = stream.text_deltas();
//! while let Some(delta) = text.next().await {
//!     print!("{}", delta?.as_str());
//! }
//! let message = stream.final_message().await?;
//! eprintln!("\n{:?}, {} output tokens", message.stop_reason, message.usage.output_tokens);
//! # Ok(()) }
//! ```
//!
//! # Over any HTTP client
//!
//! The pipeline does not need this workspace's transport: a [`Source`] is
//! the body of a streaming response from any client (a byte stream or an
//! [`http_body::Body`]), and [`MessageStream::resumable`] resumes a broken
//! stream through any [`Connect`] (the `reqwest` example does both). The
//! resumption logic only decides what to send next, as plain data
//! ([`messages_http::Request`]); the stream owns the sending.
//!
//! [`Message`]: messages_types::Message
#![deny(missing_docs)]
#![deny(missing_debug_implementations)]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod accumulate;
mod error;
mod options;
mod partial_json;
mod preflight;
mod reply;
mod resume;
mod source;
mod stream;

pub use crate::accumulate::{Accumulator, Change};
pub use crate::error::{Error, Result};
pub use crate::options::{CONTENT_BYTES_PER_TOKEN, CONTENT_MARGIN, StreamOptions};
pub use crate::partial_json::{InvalidJson, JsonSyntaxError, PartialJson};
pub use crate::preflight::{preflight, preflight_count_tokens};
pub use crate::resume::ResumePolicy;
pub use crate::source::{BoxError, Connect, Source};
pub use crate::stream::{MessageStream, TextDeltas, Update};
