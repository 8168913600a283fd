//! A Rust client for Claude's Messages API.
//!
//! [`Client`] is the whole API in one cheap-to-clone handle, and
//! [`messages::Error`](Error) is the one error every call returns:
//!
//! - [`create`](Client::create) a message, or [`stream`](Client::stream) it
//!   as typed events folded into a message ([`MessageStream`]): no silent
//!   truncation, an idle timeout on stalled streams, linear-time tool input
//!   with live previews, the raw bytes of each event for lossless relaying
//!   ([`MessageStream::raw_data`]), and opt-in [resumption](ResumePolicy) of
//!   dropped streams;
//! - [`count_tokens`](Client::count_tokens), [`models`](Client::models);
//! - [`batches`](Client::batches): the Message Batches API ([`Batches`]) and
//!   [`BatchJob`](batch::BatchJob), which splits a job into batches and
//!   merges their results; [`runner`](Client::runner): the same job through
//!   the crash-safe local runner ([`Runner`]). These facades map the batch
//!   crate's calls, streams of results included, to [`Error`]; `inner()`
//!   reaches the batch crate's own types.
//!
//! Every call has a form with options for that call: headers, betas,
//! timeout, retries. [`create_with`](Client::create_with) and
//! [`count_tokens_with`](Client::count_tokens_with) take [`RequestOptions`];
//! [`stream_with`](Client::stream_with) takes [`StreamOptions`], which hold
//! them ([`StreamOptions::request_options`]) next to the stream's own
//! (resumption, limits) and replace the client's default stream options;
//! [`Models::options`] sets them for the models calls.
//!
//! The layers are separate crates, re-exported here, for those who need only
//! one: [`sse`] (the SSE parser), [`types`] (wire types), [`http`] (the
//! transport: auth, retries, timeouts), [`stream`] and [`batch`] (the
//! facades). Guides for each job are in the repository's `docs/` folder.
//!
//! # Stream a reply
//!
//! ```no_run
//! use futures_util::StreamExt;
//! use messages::{Client, MessageRequest};
//!
//! # async fn run() -> messages::Result<()> {
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
//!
//! # Call a tool
//!
//! The model asks for a tool with a `tool_use` block; send its result back
//! with the assistant turn (the `tools` example runs the whole round trip).
//!
//! ```no_run
//! use messages::{Client, ContentBlock, MessageRequest, Tool, ToolChoice};
//! use serde_json::json;
//!
//! # async fn run(client: Client) -> messages::Result<()> {
//! let weather = Tool::custom(
//!     "get_weather",
//!     json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
//! );
//! let request = MessageRequest::new("claude-sonnet-4-6", 1024)
//!     .user("What is the weather in Paris?")
//!     .tool(weather)
//!     .tool_choice(ToolChoice::auto());
//! let reply = client.create(&request).await?;
//! for block in &reply.content {
//!     if let ContentBlock::ToolUse(call) = block {
//!         println!("{} wants {}", call.name, call.input);
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! # Batches at half price
//!
//! ```no_run
//! use futures_util::TryStreamExt;
//! use messages::batch::{BatchJob, WaitOptions};
//! use messages::{Client, MessageRequest};
//!
//! # async fn run(client: Client) -> messages::Result<()> {
//! let mut job = BatchJob::new();
//! for (i, q) in ["What is 2+2?", "Name a prime."].iter().enumerate() {
//!     job.add(format!("q-{i}"), MessageRequest::new("claude-haiku-4-5", 256).user(*q))?;
//! }
//! let submitted = client.batches().submit(&job).await?; // messages::Result
//! submitted.wait(WaitOptions::new()).await?;
//! let mut results = submitted.results(); // items are messages::Result too
//! while let Some(line) = results.try_next().await? {
//!     println!("{}: {:?}", line.custom_id, line.result);
//! }
//! # Ok(()) }
//! ```
//!
//! # The same job through the local runner
//!
//! Full price, results in minutes. The checkpoint makes a killed run
//! resumable: run it again and only the requests without a result are sent.
//!
//! ```no_run
//! use messages::batch::BatchJob;
//! use messages::Client;
//!
//! # async fn run(client: Client, file: std::fs::File) -> messages::Result<()> {
//! // let file = std::fs::File::open("job.jsonl")?;
//! let job = BatchJob::from_jsonl(std::io::BufReader::new(file))?; // every line validated first
//! let report = client.runner().concurrency(8).run(&job, "job.checkpoint").await?;
//! println!("{} of {} done: {}", report.summary.total(), report.total, report.summary);
//! match client.runner().run(&job, "job.checkpoint").await {
//!     Err(e) if e.is_run_wide() => eprintln!("every request would fail: {e}"),
//!     other => drop(other?),
//! }
//! # Ok(()) }
//! ```
//!
//! # Offline, against the emulator
//!
//! `messages-emulator` serves the API's wire format on loopback: for tests,
//! demos and benchmarks with no network and no API key.
//!
//! ```
//! use messages::{Client, MessageRequest};
//! use messages_emulator::Emulator;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let emulator = Emulator::builder().start().await?;
//! let client = Client::builder().api_key("any").base_url(emulator.base_url()).build()?;
//! let request = MessageRequest::new("claude-sonnet-4-6", 64).user("Hello");
//! let reply = client.stream(&request).await?.final_text().await?;
//! assert!(!reply.is_empty());
//! # Ok(()) }
//! ```
//!
//! # Features
//!
//! `simd-json` (default): decode large documents with simd-json. TLS roots:
//! `webpki-roots` (default) and/or `native-roots`. TLS crypto: `ring`
//! (default) or `aws-lc-rs`. `batch` (default): the batch facade and the
//! runner. Everything else is always on.
#![deny(missing_docs)]
#![deny(missing_debug_implementations)]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "batch")]
mod batches;
mod client;
mod error;

pub use crate::client::{Client, ClientBuilder, Models};
pub use crate::error::{Error, Result};

/// The batch facade and local runner (crate `messages-batch`).
#[cfg(feature = "batch")]
pub use messages_batch as batch;
/// The HTTP transport (crate `messages-http`).
pub use messages_http as http;
/// The streaming facade (crate `messages-stream`).
pub use messages_stream as stream;
/// Wire types (crate `messages-types`).
pub use messages_types as types;
/// The SSE parser and encoder (crate `sse-core`).
pub use sse_core as sse;

#[cfg(feature = "batch")]
pub use crate::batches::{BatchList, Batches, JobResults, ResultsStream, Runner, SubmittedJob};
/// Header names and values, for [`RequestOptions::header`] (from the `http`
/// crate, 1.x).
pub use ::http::{HeaderName, HeaderValue};
pub use messages_http::{ListParams, Pages, RequestOptions, Transport};
pub use messages_stream::{MessageStream, ResumePolicy, StreamOptions, Update};
pub use messages_types::{
    ContentBlock, CountTokensRequest, CountTokensResponse, InputMessage, Message, MessageRequest,
    ModelInfo, StopReason, StreamEvent, Tool, ToolChoice, Usage,
};
