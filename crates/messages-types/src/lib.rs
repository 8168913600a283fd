//! Wire types for Claude's Messages API.
//!
//! This crate knows JSON shapes and nothing else: no I/O, no HTTP. It has
//! the request bodies ([`MessageRequest`], [`CountTokensRequest`],
//! [`BatchCreateParams`]), the responses ([`Message`], [`MessageBatch`],
//! [`ModelInfo`], [`Page`], [`BatchResultLine`]), the stream events
//! ([`StreamEvent`]) and the error envelope ([`ErrorResponse`]).
//!
//! # Forward compatibility
//!
//! The API adds content block, delta, event, tool and stop-reason types
//! without notice. Every enum of API kinds has an `Unknown` variant that
//! keeps the raw JSON (object-valued kinds keep a `serde_json::Value`,
//! string-valued kinds the string) and serializes back to the same JSON
//! value; the enums are `#[non_exhaustive]`. Unknown fields are tolerated
//! everywhere and kept (in an `extra` map) on the request and the larger
//! response types.
//!
//! The structs are `#[non_exhaustive]` too, so a field the API adds is not a
//! breaking change here. Outside this crate, build them with their
//! constructors and builder methods ([`MessageRequest::new`] and its
//! chain, [`TextBlock::new`], [`ToolUseBlock::new`], [`Usage::new`],
//! [`ErrorResponse::new`], ...) or `Default::default()`, then assign the
//! public fields; read and match them as usual (with `..` in patterns).
//!
//! ```
//! use messages_types::{CacheControl, TextBlock, Usage};
//!
//! let block = TextBlock::new("Be brief.").with_cache_control(CacheControl::ephemeral());
//! let mut usage = Usage::new(10, 5);
//! usage.cache_read_input_tokens = Some(100);
//! assert_eq!(block.text, "Be brief.");
//! assert_eq!(usage.input_tokens, Some(10));
//! ```
//!
//! # API versions and models
//!
//! [`ApiVersion`] models `2023-06-01` and `2026-10-21`; [`ApiVersion::LATEST`]
//! (`2026-10-21`) is the default a client sends.
//! [`MessageRequest::check_version`] finds, before anything is sent, a field
//! the chosen version rejects and names it with the version (see the
//! [`version`] module for the rules and how well each is sourced). The model
//! table is data ([`catalog`], `data/models.json`): ids, aliases, context
//! windows, output limits, deprecation and retirement dates.
//!
//! # Sources
//!
//! The shapes follow the API reference (platform.claude.com/docs/en/api)
//! and the official SDKs' generated types, which are the most complete
//! public statement of the wire format:
//!
//! - anthropic-sdk-python `src/anthropic/types/`: `message_create_params.py`
//!   (`output_config`, `container`, `inference_geo`, `cache_control`,
//!   `service_tier`), `thinking_config_adaptive_param.py` (`adaptive` with
//!   `display` `summarized`/`omitted`), `output_config_param.py` (`effort`
//!   `low`..`max`, `format` `json_schema`), `refusal_stop_details.py`
//!   (`stop_details`: `type`, `category`, `explanation`), `model_param.py`
//!   (model ids);
//! - the beta types of both SDKs for `compaction` blocks and
//!   `compaction_delta`, `fallback` blocks (`from`/`to` models; a block with
//!   no deltas), `context_management` and `container` on `message_delta`,
//!   `usage.iterations` and `usage.fallback_credit`, and the server tool
//!   result blocks (`web_fetch_tool_result`, `code_execution_tool_result`,
//!   `bash_code_execution_tool_result`, `text_editor_code_execution_tool_result`,
//!   `tool_search_tool_result`, `advisor_tool_result`, `mcp_tool_use`,
//!   `mcp_tool_result`, `container_upload`);
//! - anthropic-sdk-typescript `src/lib/BetaMessageStream.ts` and
//!   anthropic-sdk-python `lib/streaming/_messages.py` for how a stream
//!   accumulates (used by `messages-stream`).
//!
//! Where a type's field is new or beta and its shape may still move
//! (`context_management`, `iterations`, `fallback_credit`, `stop_details`,
//! a server tool result's `content`), it is kept as raw JSON with a typed
//! reader where one helps ([`Message::stop_details`]), so that no shape the
//! API sends can make decoding fail.
//!
//! # Decoding streams fast
//!
//! [`decode_event`] decodes a stream event from its SSE event name and data
//! bytes. It picks the struct by name, shares the data buffer for delta text
//! (see [`Text`]) and gives the same result as the generic path
//! ([`decode_event_generic`], plain `serde_json` into [`StreamEvent`]).
//!
//! # Example
//!
//! ```
//! use messages_types::{MessageRequest, StreamEvent, decode_event};
//!
//! let req = MessageRequest::new("claude-sonnet-4-5", 256).user("Hi").stream(true);
//! let body = serde_json::to_string(&req).unwrap();
//! assert!(body.starts_with(r#"{"model":"claude-sonnet-4-5","max_tokens":256,"messages":[{"role":"user","content":"Hi"}]"#));
//!
//! let data = bytes::Bytes::from_static(br#"{"type": "ping"}"#);
//! assert!(matches!(decode_event("ping", &data), Ok(StreamEvent::Ping(_))));
//! ```
//!
//! # Optional Features
//!
//! - `simd-json` (on by default): decode large documents
//!   ([`decode_message`], [`decode_batch_result_line`] from
//!   [`SIMD_JSON_MIN_LEN`] bytes) with simd-json, which the benchmark shows
//!   faster there (1.16x on a 4 KiB batch result line). Results are the same
//!   as with serde_json; turn it off with `default-features = false` to save
//!   build time.
#![deny(missing_docs)]
#![deny(missing_debug_implementations)]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc(test(attr(deny(warnings, rust_2018_idioms))))]

#[macro_use]
mod macros;

pub mod batch;
pub mod catalog;
pub mod content;
mod decode;
pub mod error;
mod extra;
pub mod message;
pub mod models;
pub mod request;
pub mod stream;
mod text;
pub mod tools;
pub mod version;

pub use batch::{
    BatchCreateParams, BatchRequest, BatchResult, BatchResultLine, DeletedMessageBatch,
    MessageBatch, ProcessingStatus, RequestCounts,
};
pub use catalog::{ModelCatalog, ModelSpec};
pub use content::{
    BlocksOrText, CacheControl, Citation, CitationsConfig, CompactionBlock, ContainerUploadBlock,
    ContentBlock, DocumentBlock, DocumentCitation, DocumentContent, DocumentSource, FallbackBlock,
    FallbackInfo, ImageBlock, ImageSource, McpToolUseBlock, MessageContent, RedactedThinkingBlock,
    ServerToolResultBlock, ServerToolUseBlock, TextBlock, ThinkingBlock, ToolResultBlock,
    ToolResultContent, ToolUseBlock, WebSearchCitation, WebSearchResult, WebSearchToolResultBlock,
    WebSearchToolResultContent, WebSearchToolResultError,
};
#[doc(hidden)]
#[cfg(feature = "bench-internals")]
pub use decode::_benchable;
pub use decode::{
    DecodeError, SIMD_JSON_MIN_LEN, decode_batch_result_line, decode_event, decode_event_generic,
    decode_json, decode_message,
};
pub use error::{ApiError, ErrorResponse, ErrorType};
pub use extra::Extra;
pub use message::{
    CacheCreation, Container, Message, OutputTokensDetails, Role, ServerToolUsage, StopDetails,
    StopReason, Usage,
};
pub use models::{CountTokensRequest, CountTokensResponse, ModelInfo, Page};
pub use request::{
    InputMessage, McpServer, MessageRequest, Metadata, OutputConfig, OutputFormat, System,
};
pub use stream::{
    CitationsDelta, CompactionDelta, ContentBlockDelta, ContentBlockDeltaEvent,
    ContentBlockStartEvent, ContentBlockStopEvent, InputJsonDelta, MessageDelta, MessageDeltaEvent,
    MessageStartEvent, MessageStopEvent, PingEvent, SignatureDelta, StreamEvent, TextDelta,
    ThinkingDelta,
};
pub use text::Text;
pub use tools::{
    BuiltinTool, CustomTool, ThinkingConfig, Tool, ToolChoice, UserLocation, WebFetchTool,
    WebSearchTool,
};
pub use version::{ApiVersion, VersionError};

#[cfg(test)]
mod tests;
