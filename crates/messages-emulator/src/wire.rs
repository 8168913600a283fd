//! What the emulator writes, as serde structs: messages, stream events,
//! batches, models, pages and errors.
//!
//! serde writes a struct's fields in declaration order, and an internally
//! tagged enum or struct (`#[serde(tag = "type")]`) writes its tag first.
//! So each object here comes out with its fields in the order the API
//! sends them: `"type"` first for events, content blocks and deltas
//! (`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta",...}}`),
//! `id` then `type` for a message, as recorded real traffic shows.
//! Clients that look at the first key to pick a decoder see what they see
//! from the real API.
//!
//! The structs borrow from what they describe and are built just before
//! they are written; none of them is read back.

use std::borrow::Cow;

use serde::Serialize;
use serde_json::Value;

/// Serializes `value` as compact JSON.
///
/// Serializing these types cannot fail: every map key is a string and no
/// `Serialize` impl here reports an error. Were it to, the result would be
/// an empty object rather than a panic.
pub(crate) fn to_string<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "{}".to_owned())
}

// ===== errors =====

/// An error body: `{"type":"error","error":{...},"request_id":...}`.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename = "error")]
pub(crate) struct ErrorBody<'a> {
    pub(crate) error: ErrorDetail<'a>,
    /// Present in HTTP error bodies, absent in a batch's errored result.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) request_id: Option<&'a str>,
}

/// The `error` object: its type and message.
#[derive(Debug, Serialize)]
pub(crate) struct ErrorDetail<'a> {
    #[serde(rename = "type")]
    pub(crate) kind: &'a str,
    pub(crate) message: &'a str,
}

// ===== messages =====

/// A message, whole (a non-streaming reply, a batch result) or as
/// `message_start` announces it.
#[derive(Debug, Serialize)]
pub(crate) struct Message<'a> {
    pub(crate) id: &'a str,
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) role: &'static str,
    pub(crate) model: &'a str,
    pub(crate) content: Vec<Content<'a>>,
    pub(crate) stop_reason: Option<&'a str>,
    pub(crate) stop_sequence: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) stop_details: Option<&'a StopDetails>,
    pub(crate) usage: Usage,
}

/// A content block.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum Content<'a> {
    Thinking {
        thinking: Cow<'a, str>,
        signature: &'a str,
    },
    Text {
        text: Cow<'a, str>,
    },
    ToolUse {
        id: &'a str,
        name: &'a str,
        input: Cow<'a, Value>,
    },
    Compaction {
        content: Option<String>,
        encrypted_content: Option<&'a str>,
    },
    Fallback {
        from: ModelRef<'a>,
        to: ModelRef<'a>,
    },
}

/// `{"model": ...}`, as a `fallback` block names its models.
#[derive(Debug, Serialize)]
pub(crate) struct ModelRef<'a> {
    pub(crate) model: &'a str,
}

/// A `content_block_delta`'s delta; its `type` is the variant's name and
/// `_delta`.
#[derive(Debug, Serialize)]
#[serde(tag = "type")]
pub(crate) enum Delta<'a> {
    #[serde(rename = "thinking_delta")]
    Thinking { thinking: &'a str },
    #[serde(rename = "signature_delta")]
    Signature { signature: &'a str },
    #[serde(rename = "text_delta")]
    Text { text: &'a str },
    #[serde(rename = "input_json_delta")]
    InputJson { partial_json: &'a str },
    #[serde(rename = "compaction_delta")]
    Compaction {
        content: &'a str,
        encrypted_content: Option<&'a str>,
    },
}

/// `stop_details` of a refusal (fault `refusal=CATEGORY`).
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename = "refusal")]
pub(crate) struct StopDetails {
    pub(crate) category: String,
    pub(crate) explanation: &'static str,
}

/// A message's or a `message_delta`'s usage. The message's has
/// `cache_creation` and `service_tier`; the delta's does not.
#[derive(Debug, Serialize)]
pub(crate) struct Usage {
    pub(crate) input_tokens: u64,
    pub(crate) cache_creation_input_tokens: u64,
    pub(crate) cache_read_input_tokens: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) cache_creation: Option<CacheCreation>,
    pub(crate) output_tokens: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) service_tier: Option<&'static str>,
    /// Only when the reply thought.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) output_tokens_details: Option<OutputTokensDetails>,
}

/// The cache writes by lifetime (always zero here).
#[derive(Debug, Default, Serialize)]
pub(crate) struct CacheCreation {
    pub(crate) ephemeral_5m_input_tokens: u64,
    pub(crate) ephemeral_1h_input_tokens: u64,
}

/// `usage.output_tokens_details`.
#[derive(Debug, Serialize)]
pub(crate) struct OutputTokensDetails {
    pub(crate) thinking_tokens: u64,
}

// ===== stream events =====

/// The data of one stream event; its `type` is the SSE event name.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum Event<'a> {
    MessageStart {
        message: Message<'a>,
    },
    ContentBlockStart {
        index: usize,
        content_block: Content<'a>,
    },
    Ping,
    ContentBlockDelta {
        index: usize,
        delta: Delta<'a>,
    },
    ContentBlockStop {
        index: usize,
    },
    MessageDelta {
        delta: MessageDelta<'a>,
        usage: Usage,
    },
    MessageStop,
    Error {
        error: ErrorDetail<'a>,
    },
}

impl Event<'_> {
    /// The SSE event name, which is the data's `type`.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Event::MessageStart { .. } => "message_start",
            Event::ContentBlockStart { .. } => "content_block_start",
            Event::Ping => "ping",
            Event::ContentBlockDelta { .. } => "content_block_delta",
            Event::ContentBlockStop { .. } => "content_block_stop",
            Event::MessageDelta { .. } => "message_delta",
            Event::MessageStop => "message_stop",
            Event::Error { .. } => "error",
        }
    }
}

/// A `message_delta`'s delta.
#[derive(Debug, Serialize)]
pub(crate) struct MessageDelta<'a> {
    pub(crate) stop_reason: &'a str,
    pub(crate) stop_sequence: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) stop_details: Option<&'a StopDetails>,
}

// ===== other endpoints =====

/// `POST /v1/messages/count_tokens`.
#[derive(Debug, Serialize)]
pub(crate) struct TokenCount {
    pub(crate) input_tokens: u64,
}

/// A model, as `GET /v1/models` lists it.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename = "model")]
pub(crate) struct ModelInfo<'a> {
    pub(crate) id: &'a str,
    pub(crate) display_name: &'a str,
    pub(crate) created_at: &'a str,
    pub(crate) max_input_tokens: u64,
    pub(crate) max_tokens: u64,
}

/// One page of a list endpoint.
#[derive(Debug, Serialize)]
pub(crate) struct Page<'a, T> {
    pub(crate) data: &'a [T],
    pub(crate) has_more: bool,
    pub(crate) first_id: Option<&'a str>,
    pub(crate) last_id: Option<&'a str>,
}

/// A message batch.
#[derive(Debug, Serialize)]
pub(crate) struct MessageBatch {
    pub(crate) id: String,
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) processing_status: &'static str,
    pub(crate) request_counts: RequestCounts,
    pub(crate) ended_at: Option<String>,
    pub(crate) created_at: String,
    pub(crate) expires_at: String,
    pub(crate) archived_at: Option<String>,
    pub(crate) cancel_initiated_at: Option<String>,
    pub(crate) results_url: Option<String>,
}

/// A batch's requests by state.
#[derive(Debug, Serialize)]
pub(crate) struct RequestCounts {
    pub(crate) processing: u64,
    pub(crate) succeeded: u64,
    pub(crate) errored: u64,
    pub(crate) canceled: u64,
    pub(crate) expired: u64,
}

/// `DELETE /v1/messages/batches/{id}`.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename = "message_batch_deleted")]
pub(crate) struct BatchDeleted<'a> {
    pub(crate) id: &'a str,
}

/// One line of a batch's results file.
#[derive(Debug, Serialize)]
pub(crate) struct ResultLine<'a> {
    pub(crate) custom_id: &'a str,
    pub(crate) result: &'a BatchResult<'a>,
}

/// A batch request's result.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum BatchResult<'a> {
    Succeeded { message: Message<'a> },
    Errored { error: ErrorBody<'a> },
    Canceled,
    Expired,
}

impl BatchResult<'_> {
    /// The result's `type`.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            BatchResult::Succeeded { .. } => "succeeded",
            BatchResult::Errored { .. } => "errored",
            BatchResult::Canceled => "canceled",
            BatchResult::Expired => "expired",
        }
    }
}
