//! Stream events of `POST /v1/messages` with `"stream": true`.
//!
//! Each event struct carries its own `"type"` when serialized, and
//! [`StreamEvent`] serializes as the struct it holds, so an event serializes
//! to the same JSON shape as the API sends.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::content::{Citation, ContentBlock};
use crate::error::ErrorResponse;
use crate::extra::Extra;
#[cfg(doc)]
use crate::message::StopDetails;
use crate::message::{Container, Message, StopReason, Usage};
use crate::text::Text;

/// One event of a Messages stream.
///
/// Deserializing this type is the generic path: it reads the JSON `type`.
/// [`decode_event`](crate::decode_event) is the fast path, which picks the
/// struct by the SSE event name and gives the same result.
///
/// The events that come once per stream or per block and hold a whole
/// message or block (`MessageStart`, `MessageDelta`, `ContentBlockStart`)
/// are boxed, so the enum is the size of a delta event (about 100 bytes)
/// and moving the frequent deltas is cheap. Each event struct converts
/// into a `StreamEvent` with `From`:
///
/// ```
/// use messages_types::{ContentBlock, ContentBlockStartEvent, StreamEvent};
///
/// let event = StreamEvent::from(ContentBlockStartEvent::new(0, ContentBlock::text("")));
/// assert_eq!(event.kind(), "content_block_start");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum StreamEvent {
    /// `message_start`: the message with empty content and input usage.
    MessageStart(Box<MessageStartEvent>),
    /// `content_block_start`: a block begins (some arrive whole here).
    ContentBlockStart(Box<ContentBlockStartEvent>),
    /// `content_block_delta`: a piece of a block.
    ContentBlockDelta(ContentBlockDeltaEvent),
    /// `content_block_stop`: a block is complete.
    ContentBlockStop(ContentBlockStopEvent),
    /// `message_delta`: stop reason and cumulative usage.
    MessageDelta(Box<MessageDeltaEvent>),
    /// `message_stop`: the stream is complete.
    MessageStop(MessageStopEvent),
    /// `ping`: keep-alive.
    Ping(PingEvent),
    /// `error`: an error mid-stream (the HTTP status was 200).
    Error(ErrorResponse),
    /// An event type this version does not know, kept as raw JSON.
    Unknown(Value),
}

impl StreamEvent {
    /// The event's `type`, which is also its SSE event name.
    pub fn kind(&self) -> &str {
        match self {
            StreamEvent::MessageStart(_) => "message_start",
            StreamEvent::ContentBlockStart(_) => "content_block_start",
            StreamEvent::ContentBlockDelta(_) => "content_block_delta",
            StreamEvent::ContentBlockStop(_) => "content_block_stop",
            StreamEvent::MessageDelta(_) => "message_delta",
            StreamEvent::MessageStop(_) => "message_stop",
            StreamEvent::Ping(_) => "ping",
            StreamEvent::Error(_) => "error",
            StreamEvent::Unknown(v) => v.get("type").and_then(Value::as_str).unwrap_or(""),
        }
    }
}

macro_rules! from_event {
    ($($ty:ty => $variant:ident($wrap:path)),* $(,)?) => {
        $(impl From<$ty> for StreamEvent {
            fn from(event: $ty) -> StreamEvent {
                StreamEvent::$variant($wrap(event))
            }
        })*
    };
}

from_event! {
    MessageStartEvent => MessageStart(Box::new),
    ContentBlockStartEvent => ContentBlockStart(Box::new),
    ContentBlockDeltaEvent => ContentBlockDelta(core::convert::identity),
    ContentBlockStopEvent => ContentBlockStop(core::convert::identity),
    MessageDeltaEvent => MessageDelta(Box::new),
    MessageStopEvent => MessageStop(core::convert::identity),
    PingEvent => Ping(core::convert::identity),
    ErrorResponse => Error(core::convert::identity),
}

tagged_deserialize!(StreamEvent, "stream event", {
    "message_start" => MessageStart(Box<MessageStartEvent>),
    "content_block_start" => ContentBlockStart(Box<ContentBlockStartEvent>),
    "content_block_delta" => ContentBlockDelta(ContentBlockDeltaEvent),
    "content_block_stop" => ContentBlockStop(ContentBlockStopEvent),
    "message_delta" => MessageDelta(Box<MessageDeltaEvent>),
    "message_stop" => MessageStop(MessageStopEvent),
    "ping" => Ping(PingEvent),
    "error" => Error(ErrorResponse),
});

/// `message_start`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "message_start")]
#[non_exhaustive]
pub struct MessageStartEvent {
    /// The message, with empty content.
    pub message: Message,
    /// Top-level fields of the event this version does not know, kept verbatim.
    #[serde(flatten, deserialize_with = "crate::macros::extra_without_type")]
    pub extra: Map<String, Value>,
}

impl MessageStartEvent {
    /// The event that opens a stream with this (empty) message.
    pub fn new(message: Message) -> MessageStartEvent {
        MessageStartEvent {
            message,
            extra: Map::new(),
        }
    }
}

/// `content_block_start`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "content_block_start")]
#[non_exhaustive]
pub struct ContentBlockStartEvent {
    /// The block's index in the message content.
    pub index: u32,
    /// The block: empty for blocks that get deltas, whole for the others.
    pub content_block: ContentBlock,
    /// Top-level fields of the event this version does not know, kept verbatim.
    #[serde(flatten, deserialize_with = "crate::macros::extra_without_type")]
    pub extra: Map<String, Value>,
}

impl ContentBlockStartEvent {
    /// A `content_block_start` without unknown fields.
    pub fn new(index: u32, content_block: ContentBlock) -> ContentBlockStartEvent {
        ContentBlockStartEvent {
            index,
            content_block,
            extra: Map::new(),
        }
    }
}

/// `content_block_delta`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "content_block_delta")]
#[non_exhaustive]
pub struct ContentBlockDeltaEvent {
    /// The block's index in the message content.
    pub index: u32,
    /// The delta.
    pub delta: ContentBlockDelta,
    /// Top-level fields of the event this version does not know, kept verbatim.
    #[serde(flatten, deserialize_with = "crate::macros::extra_without_type_lazy")]
    pub extra: Extra,
}

impl ContentBlockDeltaEvent {
    /// A `content_block_delta` without unknown fields.
    pub fn new(index: u32, delta: ContentBlockDelta) -> ContentBlockDeltaEvent {
        ContentBlockDeltaEvent {
            index,
            delta,
            extra: Extra::new(),
        }
    }
}

/// `content_block_stop`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "content_block_stop")]
#[non_exhaustive]
pub struct ContentBlockStopEvent {
    /// The block's index in the message content.
    pub index: u32,
    /// Top-level fields of the event this version does not know, kept verbatim.
    #[serde(flatten, deserialize_with = "crate::macros::extra_without_type")]
    pub extra: Map<String, Value>,
}

impl ContentBlockStopEvent {
    /// A `content_block_stop` without unknown fields.
    pub fn new(index: u32) -> ContentBlockStopEvent {
        ContentBlockStopEvent {
            index,
            extra: Map::new(),
        }
    }
}

/// `message_delta`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "message_delta")]
#[non_exhaustive]
pub struct MessageDeltaEvent {
    /// Top-level message fields that changed.
    pub delta: MessageDelta,
    /// Cumulative usage: overwrite the counts present, never add them.
    pub usage: Usage,
    /// What context management did (beta; a top-level field of the event).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_management: Option<Value>,
    /// Top-level fields of the event this version does not know, kept verbatim.
    #[serde(flatten, deserialize_with = "crate::macros::extra_without_type")]
    pub extra: Map<String, Value>,
}

impl MessageDeltaEvent {
    /// The closing delta with its usage.
    pub fn new(delta: MessageDelta, usage: Usage) -> MessageDeltaEvent {
        MessageDeltaEvent {
            delta,
            usage,
            context_management: None,
            extra: Map::new(),
        }
    }
}

/// The `delta` of a `message_delta` event.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MessageDelta {
    /// Why the model stopped.
    #[serde(default)]
    pub stop_reason: Option<StopReason>,
    /// The stop sequence that was generated.
    #[serde(default)]
    pub stop_sequence: Option<String>,
    /// Structured details of why the model stopped (on `refusal`), as the
    /// API sent them; read them with [`StopDetails::from_value`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_details: Option<Value>,
    /// The container the code execution tool used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<Container>,
    /// Fields this version does not know, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `message_stop`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "type", rename = "message_stop")]
#[non_exhaustive]
pub struct MessageStopEvent {
    /// Top-level fields of the event this version does not know, kept verbatim.
    #[serde(flatten, deserialize_with = "crate::macros::extra_without_type")]
    pub extra: Map<String, Value>,
}

/// `ping`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "type", rename = "ping")]
#[non_exhaustive]
pub struct PingEvent {
    /// Top-level fields of the event this version does not know, kept verbatim.
    #[serde(flatten, deserialize_with = "crate::macros::extra_without_type")]
    pub extra: Map<String, Value>,
}

/// The `delta` of a `content_block_delta` event.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type")]
#[non_exhaustive]
pub enum ContentBlockDelta {
    /// `text_delta`: append to a `text` block.
    #[serde(rename = "text_delta")]
    Text(TextDelta),
    /// `input_json_delta`: append to the partial JSON input of a
    /// `tool_use` or `server_tool_use` block (the first may be empty).
    #[serde(rename = "input_json_delta")]
    InputJson(InputJsonDelta),
    /// `thinking_delta`: append to a `thinking` block.
    #[serde(rename = "thinking_delta")]
    Thinking(ThinkingDelta),
    /// `signature_delta`: set (not append) the signature of a `thinking` block.
    #[serde(rename = "signature_delta")]
    Signature(SignatureDelta),
    /// `citations_delta`: add a citation to a `text` block (boxed: it is
    /// rare and large, and keeps the frequent deltas small).
    #[serde(rename = "citations_delta")]
    Citations(Box<CitationsDelta>),
    /// `compaction_delta` (beta): fill a `compaction` block.
    #[serde(rename = "compaction_delta")]
    Compaction(CompactionDelta),
    /// A delta type this version does not know, kept as raw JSON.
    #[serde(untagged)]
    Unknown(Value),
}

tagged_deserialize!(ContentBlockDelta, "content block delta", {
    "text_delta" => Text(TextDelta),
    "input_json_delta" => InputJson(InputJsonDelta),
    "thinking_delta" => Thinking(ThinkingDelta),
    "signature_delta" => Signature(SignatureDelta),
    "citations_delta" => Citations(Box<CitationsDelta>),
    "compaction_delta" => Compaction(CompactionDelta),
});

impl ContentBlockDelta {
    /// The wire `type` of this delta, such as `"text_delta"`.
    pub fn kind(&self) -> &str {
        match self {
            ContentBlockDelta::Text(_) => "text_delta",
            ContentBlockDelta::InputJson(_) => "input_json_delta",
            ContentBlockDelta::Thinking(_) => "thinking_delta",
            ContentBlockDelta::Signature(_) => "signature_delta",
            ContentBlockDelta::Citations(_) => "citations_delta",
            ContentBlockDelta::Compaction(_) => "compaction_delta",
            ContentBlockDelta::Unknown(v) => v.get("type").and_then(Value::as_str).unwrap_or(""),
        }
    }
}

/// `text_delta`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TextDelta {
    /// Text to append.
    pub text: Text,
    /// Fields this version does not know, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl TextDelta {
    /// A delta carrying this `text`.
    pub fn new(text: impl Into<Text>) -> TextDelta {
        TextDelta {
            text: text.into(),
            ..TextDelta::default()
        }
    }
}

/// `input_json_delta`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InputJsonDelta {
    /// A piece of the tool input's JSON text, to append.
    pub partial_json: Text,
    /// Fields this version does not know, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl InputJsonDelta {
    /// A delta carrying this `partial_json`.
    pub fn new(partial_json: impl Into<Text>) -> InputJsonDelta {
        InputJsonDelta {
            partial_json: partial_json.into(),
            ..InputJsonDelta::default()
        }
    }
}

/// `thinking_delta`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ThinkingDelta {
    /// Reasoning text to append.
    pub thinking: Text,
    /// The model's estimate of the thinking tokens so far (beta).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_tokens: Option<u64>,
    /// Fields this version does not know, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl ThinkingDelta {
    /// A delta carrying this `thinking`.
    pub fn new(thinking: impl Into<Text>) -> ThinkingDelta {
        ThinkingDelta {
            thinking: thinking.into(),
            ..ThinkingDelta::default()
        }
    }
}

/// `signature_delta`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SignatureDelta {
    /// The block's signature (replaces, never appends).
    pub signature: Text,
    /// Fields this version does not know, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl SignatureDelta {
    /// A delta carrying this `signature`.
    pub fn new(signature: impl Into<Text>) -> SignatureDelta {
        SignatureDelta {
            signature: signature.into(),
            ..SignatureDelta::default()
        }
    }
}

/// `citations_delta`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CitationsDelta {
    /// The citation to add.
    pub citation: Citation,
    /// Fields this version does not know, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl CitationsDelta {
    /// A delta adding this citation.
    pub fn new(citation: Citation) -> CitationsDelta {
        CitationsDelta {
            citation,
            extra: Extra::default(),
        }
    }
}

/// `compaction_delta` (beta).
///
/// `content` is appended to the `compaction` block's summary; a non-null
/// `encrypted_content` replaces the block's opaque metadata.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CompactionDelta {
    /// Summary text to append (`null` when none).
    #[serde(default)]
    pub content: Option<String>,
    /// Opaque metadata to round-trip verbatim (`null` when none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encrypted_content: Option<String>,
    /// Fields this version does not know, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}
