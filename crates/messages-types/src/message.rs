//! The response of `POST /v1/messages`: [`Message`], [`Usage`], [`StopReason`].

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::content::ContentBlock;

string_enum! {
    /// Who wrote a turn.
    pub enum Role {
        /// `user`.
        User => "user",
        /// `assistant`.
        Assistant => "assistant",
    }
}

string_enum! {
    /// Why the model stopped.
    pub enum StopReason {
        /// `end_turn`: a natural stopping point.
        EndTurn => "end_turn",
        /// `max_tokens`: the request's `max_tokens` was reached.
        MaxTokens => "max_tokens",
        /// `stop_sequence`: one of the request's stop sequences was generated.
        StopSequence => "stop_sequence",
        /// `tool_use`: the model called tools and waits for their results.
        ToolUse => "tool_use",
        /// `pause_turn`: a long server-tool turn was paused; send it back to continue.
        PauseTurn => "pause_turn",
        /// `refusal`: the model declined.
        Refusal => "refusal",
        /// `model_context_window_exceeded`: the model reached its context
        /// window; the reply is complete up to that point.
        ModelContextWindowExceeded => "model_context_window_exceeded",
        /// `compaction` (beta): the turn paused after a compaction block
        /// (`pause_after_compaction`); send it back to continue.
        Compaction => "compaction",
    }
}

/// A message from the model.
///
/// Fields this version does not know are kept in [`Message::extra`] and
/// serialized back; `null` and absent optional fields are not serialized.
///
/// # Examples
///
/// ```
/// use messages_types::{Message, StopReason};
///
/// let json = r#"{"id":"msg_1","type":"message","role":"assistant","model":"claude",
///     "content":[{"type":"text","text":"Hi"}],"stop_reason":"end_turn",
///     "stop_sequence":null,"usage":{"input_tokens":3,"output_tokens":1}}"#;
/// let m: Message = serde_json::from_str(json).unwrap();
/// assert_eq!(m.stop_reason, Some(StopReason::EndTurn));
/// assert_eq!(m.text(), "Hi");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "message")]
#[non_exhaustive]
pub struct Message {
    /// The message id, `msg_...`.
    pub id: String,
    /// Always [`Role::Assistant`] today.
    pub role: Role,
    /// The model that answered.
    pub model: String,
    /// The content blocks.
    pub content: Vec<ContentBlock>,
    /// Why the model stopped; `null` in a stream's `message_start`.
    pub stop_reason: Option<StopReason>,
    /// The stop sequence that was generated, if that is why it stopped.
    #[serde(default)]
    pub stop_sequence: Option<String>,
    /// Token usage.
    pub usage: Usage,
    /// Structured details of why the model stopped (on `refusal`), as the
    /// API sent them (any shape is kept); [`Message::stop_details`] reads
    /// them as [`StopDetails`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_details: Option<Value>,
    /// The container the code execution tool used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<Container>,
    /// What context management did to the request (beta), as the API sent it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_management: Option<Value>,
    /// Fields this version does not know, kept verbatim.
    #[serde(flatten, deserialize_with = "crate::macros::extra_without_type")]
    pub extra: Map<String, Value>,
}

impl Message {
    /// An empty assistant message, as a stream's `message_start` carries it.
    pub fn new(id: impl Into<String>, model: impl Into<String>) -> Message {
        Message {
            id: id.into(),
            role: Role::Assistant,
            model: model.into(),
            content: Vec::new(),
            stop_reason: None,
            stop_sequence: None,
            usage: Usage::default(),
            stop_details: None,
            container: None,
            context_management: None,
            extra: Map::new(),
        }
    }

    /// The `stop_details` as [`StopDetails`]; `None` when absent, `null` or
    /// of a shape this version does not know.
    pub fn stop_details(&self) -> Option<StopDetails> {
        StopDetails::from_value(self.stop_details.as_ref()?)
    }

    /// All `text` blocks joined. This operation allocates.
    pub fn text(&self) -> String {
        self.content
            .iter()
            .filter_map(ContentBlock::as_text)
            .collect()
    }
}

/// Token usage.
///
/// In a stream's `message_delta` the counts are cumulative: a client
/// overwrites the fields that are present, it never adds them up.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Usage {
    /// Input tokens (after the last cache breakpoint). Absent from some
    /// `message_delta` events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_tokens: Option<u64>,
    /// Output tokens.
    pub output_tokens: u64,
    /// Input tokens written to the cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_creation_input_tokens: Option<u64>,
    /// Input tokens read from the cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_read_input_tokens: Option<u64>,
    /// Cache writes by time to live.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_creation: Option<CacheCreation>,
    /// Server tool calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_tool_use: Option<ServerToolUsage>,
    /// The tier that served the request: `standard`, `priority` or `batch`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_tier: Option<String>,
    /// Output tokens by kind (`thinking_tokens`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_tokens_details: Option<OutputTokensDetails>,
    /// Where inference ran (`inference_geo`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inference_geo: Option<String>,
    /// Usage per sampling iteration (compaction, advisor and fallback
    /// iterations; beta), as the API sent it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iterations: Option<Vec<Value>>,
    /// Credit for work a declining model did before a fallback (beta), as
    /// the API sent it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback_credit: Option<Value>,
    /// Fields this version does not know, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Usage {
    /// Usage with these input and output token counts and nothing else.
    pub fn new(input_tokens: u64, output_tokens: u64) -> Usage {
        Usage {
            input_tokens: Some(input_tokens),
            output_tokens,
            ..Usage::default()
        }
    }

    /// Adds the counts of `other` to these, as for two requests whose usage
    /// is summed (a resumed stream's attempts, the results of a job):
    /// input, output, cache write and read tokens, cache writes by TTL,
    /// server tool requests and thinking tokens. A count absent on both
    /// sides stays absent; other fields keep this usage's values (or take
    /// `other`'s where this one has none).
    ///
    /// This is the one place usage is summed; [`update`](Usage::update)
    /// is the other operation a stream needs (cumulative counts overwrite).
    ///
    /// ```
    /// use messages_types::Usage;
    ///
    /// let mut total = Usage::new(10, 5);
    /// total.add_counts(&Usage::new(3, 2));
    /// assert_eq!((total.input_tokens, total.output_tokens), (Some(13), 7));
    /// ```
    pub fn add_counts(&mut self, other: &Usage) {
        fn add(x: &mut Option<u64>, y: Option<u64>) {
            if let Some(y) = y {
                *x = Some(x.unwrap_or(0) + y);
            }
        }
        add(&mut self.input_tokens, other.input_tokens);
        self.output_tokens += other.output_tokens;
        add(
            &mut self.cache_creation_input_tokens,
            other.cache_creation_input_tokens,
        );
        add(
            &mut self.cache_read_input_tokens,
            other.cache_read_input_tokens,
        );
        match (&mut self.cache_creation, &other.cache_creation) {
            (Some(x), Some(y)) => {
                x.ephemeral_5m_input_tokens += y.ephemeral_5m_input_tokens;
                x.ephemeral_1h_input_tokens += y.ephemeral_1h_input_tokens;
            }
            (x @ None, y) => x.clone_from(y),
            (Some(_), None) => {}
        }
        match (&mut self.server_tool_use, &other.server_tool_use) {
            (Some(x), Some(y)) => {
                add(&mut x.web_search_requests, y.web_search_requests);
                add(&mut x.web_fetch_requests, y.web_fetch_requests);
            }
            (x @ None, y) => x.clone_from(y),
            (Some(_), None) => {}
        }
        match (
            &mut self.output_tokens_details,
            &other.output_tokens_details,
        ) {
            (Some(x), Some(y)) => add(&mut x.thinking_tokens, y.thinking_tokens),
            (x @ None, y) => x.clone_from(y),
            (Some(_), None) => {}
        }
        if self.service_tier.is_none() {
            self.service_tier.clone_from(&other.service_tier);
        }
    }

    /// Overwrites the counts that `newer` carries, as a `message_delta`
    /// requires (the counts are cumulative, never added). A field that is
    /// absent or `null` in `newer` never erases a value set earlier.
    pub fn update(&mut self, newer: &Usage) {
        if newer.input_tokens.is_some() {
            self.input_tokens = newer.input_tokens;
        }
        self.output_tokens = newer.output_tokens;
        if newer.cache_creation_input_tokens.is_some() {
            self.cache_creation_input_tokens = newer.cache_creation_input_tokens;
        }
        if newer.cache_read_input_tokens.is_some() {
            self.cache_read_input_tokens = newer.cache_read_input_tokens;
        }
        if newer.cache_creation.is_some() {
            self.cache_creation.clone_from(&newer.cache_creation);
        }
        if newer.server_tool_use.is_some() {
            self.server_tool_use.clone_from(&newer.server_tool_use);
        }
        if newer.service_tier.is_some() {
            self.service_tier.clone_from(&newer.service_tier);
        }
        if newer.output_tokens_details.is_some() {
            self.output_tokens_details
                .clone_from(&newer.output_tokens_details);
        }
        if newer.inference_geo.is_some() {
            self.inference_geo.clone_from(&newer.inference_geo);
        }
        if newer.iterations.is_some() {
            self.iterations.clone_from(&newer.iterations);
        }
        if newer.fallback_credit.is_some() {
            self.fallback_credit.clone_from(&newer.fallback_credit);
        }
        for (k, v) in &newer.extra {
            if !v.is_null() {
                self.extra.insert(k.clone(), v.clone());
            }
        }
    }
}

/// Cache writes by time to live.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CacheCreation {
    /// Tokens written with a 5 minute time to live.
    #[serde(default)]
    pub ephemeral_5m_input_tokens: u64,
    /// Tokens written with a 1 hour time to live.
    #[serde(default)]
    pub ephemeral_1h_input_tokens: u64,
    /// Fields this version does not know, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Output tokens by kind.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OutputTokensDetails {
    /// Output tokens spent on thinking.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking_tokens: Option<u64>,
    /// Fields this version does not know, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Structured details of why the model stopped: on a `refusal`,
/// `{"type":"refusal","category":"cyber","explanation":"..."}`. Read from
/// the raw `stop_details` with [`Message::stop_details`].
///
/// `category` and `explanation` may be `null`; the category names are an
/// open set (`cyber`, `bio`, ... in the official SDKs today).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StopDetails {
    /// The kind of details, `refusal` today.
    #[serde(rename = "type")]
    pub kind: String,
    /// The policy category that triggered a refusal (`null` when the
    /// refusal maps to no named category).
    #[serde(default)]
    pub category: Option<String>,
    /// A human-readable explanation; not guaranteed to be stable (`null`
    /// when none is available).
    #[serde(default)]
    pub explanation: Option<String>,
    /// Fields this version does not know, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl StopDetails {
    /// Reads `value`; `None` when it is not a stop details object.
    pub fn from_value(value: &Value) -> Option<StopDetails> {
        StopDetails::deserialize(value).ok()
    }
}

/// The container the code execution tool ran in.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Container {
    /// The container id, to pass as the next request's `container`.
    pub id: String,
    /// When the container expires (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// Fields this version does not know (such as `skills`), kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Server tool call counts.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ServerToolUsage {
    /// Web searches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web_search_requests: Option<u64>,
    /// Web fetches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web_fetch_requests: Option<u64>,
    /// Counts of tools this version does not know, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
