//! A Rust client for Claude's Messages API.
//!
//! [`Client`] is the whole API in one cheap-to-clone handle:
//!
//! - [`create`](Client::create) a message, or [`stream`](Client::stream) it
//!   as typed events folded into a message ([`MessageStream`]): no silent
//!   truncation, an idle timeout on stalled streams, linear-time tool input
//!   with live previews, and opt-in [resumption](ResumePolicy) of dropped
//!   streams;
//! - [`count_tokens`](Client::count_tokens), [`models`](Client::models);
//! - [`batches`](Client::batches): the Message Batches API, job splitting and
//!   a crash-safe local runner (crate [`batch`]).
//!
//! The layers are separate crates, re-exported here: [`sse`] (the SSE
//! parser), [`types`] (wire types), [`http`] (the transport: auth, retries,
//! timeouts), [`stream`] and [`batch`] (the facades).
//!
//! # Examples
//!
//! ```no_run
//! use futures_util::StreamExt;
//! use messages::{Client, MessageRequest};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = Client::from_env()?; // ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL
//! let request = MessageRequest::new("claude-sonnet-4-6", 1024).user("Write a haiku about Rust");
//!
//! let mut stream = client.stream(&request).await?;
//! let mut text = stream.text_deltas();
//! while let Some(delta) = text.next().await {
//!     print!("{}", delta?.as_str());
//! }
//! let message = stream.final_message().await?;
//! println!("\n[{:?}, {} tokens out]", message.stop_reason, message.usage.output_tokens);
//! # Ok(()) }
//! ```
#![deny(missing_docs)]
#![deny(missing_debug_implementations)]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod client;

pub use crate::client::{Client, ClientBuilder, Models};

/// The batch facade and local runner (crate `messages-batch`).
pub use messages_batch as batch;
/// The HTTP transport (crate `messages-http`).
pub use messages_http as http;
/// The streaming facade (crate `messages-stream`).
pub use messages_stream as stream;
/// Wire types (crate `messages-types`).
pub use messages_types as types;
/// The SSE parser and encoder (crate `sse-core`).
pub use sse_core as sse;

pub use messages_batch::Batches;
pub use messages_http::{ListParams, Pages, RequestOptions, Transport};
pub use messages_stream::{MessageStream, ResumePolicy, StreamOptions, Update};
pub use messages_types::{
    ContentBlock, CountTokensRequest, CountTokensResponse, InputMessage, Message, MessageRequest,
    ModelInfo, StopReason, StreamEvent, Tool, ToolChoice, Usage,
};
