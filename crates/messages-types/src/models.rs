//! Models, list pages and token counting.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::content::MessageContent;
use crate::request::{InputMessage, MessageRequest, System};
use crate::tools::{ThinkingConfig, Tool, ToolChoice};

/// A model, from `GET /v1/models`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "model")]
#[non_exhaustive]
pub struct ModelInfo {
    /// The model id, such as `claude-sonnet-4-5-20250929`.
    pub id: String,
    /// A human-readable name.
    #[serde(default)]
    pub display_name: String,
    /// When the model was released (RFC 3339).
    #[serde(default)]
    pub created_at: String,
    /// Fields this version does not know, kept verbatim.
    #[serde(flatten, deserialize_with = "crate::macros::extra_without_type")]
    pub extra: Map<String, Value>,
}

impl ModelInfo {
    /// A model entry whose display name is its id, with no creation date.
    pub fn new(id: impl Into<String>) -> ModelInfo {
        let id = id.into();
        ModelInfo {
            display_name: id.clone(),
            id,
            created_at: String::new(),
            extra: Map::new(),
        }
    }
}

/// A page of a list endpoint: `{data, has_more, first_id, last_id}`.
///
/// Pass `last_id` as `after_id` (or `first_id` as `before_id`) to get the
/// next page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Page<T> {
    /// The items, newest first.
    pub data: Vec<T>,
    /// Whether there are more items past this page.
    pub has_more: bool,
    /// The id of the first item.
    #[serde(default)]
    pub first_id: Option<String>,
    /// The id of the last item.
    #[serde(default)]
    pub last_id: Option<String>,
}

impl<T> Page<T> {
    /// The last page: these items, no more after them, no cursors.
    pub fn new(data: Vec<T>) -> Page<T> {
        Page {
            data,
            has_more: false,
            first_id: None,
            last_id: None,
        }
    }
}

/// The body of `POST /v1/messages/count_tokens`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CountTokensRequest {
    /// The model.
    pub model: String,
    /// The conversation.
    pub messages: Vec<InputMessage>,
    /// The system prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<System>,
    /// Tools.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<Tool>>,
    /// Tool choice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoice>,
    /// Extended thinking.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking: Option<ThinkingConfig>,
    /// Any other field, serialized as it is.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl CountTokensRequest {
    /// A request with no messages yet.
    pub fn new(model: impl Into<String>) -> CountTokensRequest {
        CountTokensRequest {
            model: model.into(),
            messages: Vec::new(),
            system: None,
            tools: None,
            tool_choice: None,
            thinking: None,
            extra: Map::new(),
        }
    }

    /// Appends a user turn.
    #[must_use]
    pub fn user(mut self, content: impl Into<MessageContent>) -> CountTokensRequest {
        self.messages.push(InputMessage::user(content));
        self
    }

    /// Sets the system prompt.
    #[must_use]
    pub fn system(mut self, system: impl Into<System>) -> CountTokensRequest {
        self.system = Some(system.into());
        self
    }

    /// Checks that every field is accepted by the API `version` (the
    /// rules of [`MessageRequest::check_version`] apply to token counting
    /// too).
    ///
    /// # Errors
    ///
    /// The first field the version rejects, named with its path.
    pub fn check_version(&self, version: crate::ApiVersion) -> Result<(), crate::VersionError> {
        crate::version::check_count_tokens(self, version)
    }
}

impl From<&MessageRequest> for CountTokensRequest {
    /// The fields of `request` that count tokens accepts (no `max_tokens`,
    /// sampling or `stream`; `extra` is not carried over).
    fn from(request: &MessageRequest) -> CountTokensRequest {
        CountTokensRequest {
            model: request.model.clone(),
            messages: request.messages.clone(),
            system: request.system.clone(),
            tools: request.tools.clone(),
            tool_choice: request.tool_choice.clone(),
            thinking: request.thinking.clone(),
            extra: Map::new(),
        }
    }
}

/// The answer of `POST /v1/messages/count_tokens`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CountTokensResponse {
    /// Input tokens the request would use.
    pub input_tokens: u64,
}

impl CountTokensResponse {
    /// The answer: this many input tokens.
    pub fn new(input_tokens: u64) -> CountTokensResponse {
        CountTokensResponse { input_tokens }
    }
}
