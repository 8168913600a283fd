//! Models, list pages and token counting.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::content::{CacheControl, MessageContent};
use crate::request::{InputMessage, McpServer, MessageRequest, OutputConfig, System};
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
///
/// The fields are those the endpoint accepts, as the API reference and the
/// official SDKs' generated types list them
/// (<https://platform.claude.com/docs/en/api/messages/count_tokens>;
/// `MessageCountTokensParams` in anthropic-sdk-python: `messages`, `model`,
/// `cache_control`, `output_config`, `system`, `thinking`, `tool_choice`,
/// `tools`; the beta variant adds `context_management` and `mcp_servers`,
/// sent with their `anthropic-beta` header). `tools` takes server tools
/// (web search, code execution, ...) as well as custom ones, and `thinking`
/// takes adaptive thinking. A count request has no `max_tokens`, sampling
/// parameters or `stream`.
///
/// The API version rules of [`MessageRequest`] apply
/// ([`check_version`](CountTokensRequest::check_version)); the umbrella
/// client checks them before sending.
///
/// ```
/// use messages_types::{CountTokensRequest, MessageRequest, Tool};
/// use serde_json::json;
///
/// let request = MessageRequest::new("claude-opus-4-6", 1024)
///     .user("What is the weather in Paris?")
///     .tool(Tool::custom("get_weather", json!({"type": "object"})))
///     .adaptive_thinking()
///     .effort("low");
/// let count = CountTokensRequest::from(&request);
/// let body = serde_json::to_value(&count).unwrap();
/// assert_eq!(body["thinking"]["type"], "adaptive");
/// assert_eq!(body["output_config"]["effort"], "low");
/// assert!(body.get("max_tokens").is_none());
/// ```
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
    /// Tools: custom tools and server tools.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<Tool>>,
    /// Tool choice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoice>,
    /// Thinking: enabled with a budget, disabled, or adaptive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking: Option<ThinkingConfig>,
    /// Output options: effort and a structured output format.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_config: Option<OutputConfig>,
    /// Top-level cache control: a breakpoint on the last cacheable block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<CacheControl>,
    /// Context management (beta), as on [`MessageRequest::context_management`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_management: Option<Value>,
    /// Remote MCP servers (beta), whose tool definitions count as input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp_servers: Option<Vec<McpServer>>,
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
            output_config: None,
            cache_control: None,
            context_management: None,
            mcp_servers: None,
            extra: Map::new(),
        }
    }

    /// Appends a user turn.
    #[must_use]
    pub fn user(mut self, content: impl Into<MessageContent>) -> CountTokensRequest {
        self.messages.push(InputMessage::user(content));
        self
    }

    /// Appends an assistant turn.
    #[must_use]
    pub fn assistant(mut self, content: impl Into<MessageContent>) -> CountTokensRequest {
        self.messages.push(InputMessage::assistant(content));
        self
    }

    /// Sets the system prompt.
    #[must_use]
    pub fn system(mut self, system: impl Into<System>) -> CountTokensRequest {
        self.system = Some(system.into());
        self
    }

    /// Adds a tool (custom or server tool).
    #[must_use]
    pub fn tool(mut self, tool: Tool) -> CountTokensRequest {
        self.tools.get_or_insert_with(Vec::new).push(tool);
        self
    }

    /// Sets how the model may use the tools.
    #[must_use]
    pub fn tool_choice(mut self, choice: ToolChoice) -> CountTokensRequest {
        self.tool_choice = Some(choice);
        self
    }

    /// Sets the thinking configuration (enabled, disabled or adaptive).
    #[must_use]
    pub fn thinking(mut self, thinking: ThinkingConfig) -> CountTokensRequest {
        self.thinking = Some(thinking);
        self
    }

    /// Sets the output options (effort, structured output format).
    #[must_use]
    pub fn output_config(mut self, config: OutputConfig) -> CountTokensRequest {
        self.output_config = Some(config);
        self
    }

    /// Adds a remote MCP server (beta).
    #[must_use]
    pub fn mcp_server(mut self, server: McpServer) -> CountTokensRequest {
        self.mcp_servers.get_or_insert_with(Vec::new).push(server);
        self
    }

    /// Sets the context management configuration (beta).
    #[must_use]
    pub fn context_management(mut self, config: Value) -> CountTokensRequest {
        self.context_management = Some(config);
        self
    }

    /// Checks that every field is accepted by the API `version` (the
    /// rules of [`MessageRequest::check_version`] apply to token counting
    /// too: sampling parameters set through `extra`, `document` blocks in
    /// assistant messages and citations on user text under `2026-10-21`).
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
    /// sampling, `stream`, `metadata`, `stop_sequences`, `service_tier`,
    /// `container` or `inference_geo`; `extra` is not carried over).
    fn from(request: &MessageRequest) -> CountTokensRequest {
        CountTokensRequest {
            model: request.model.clone(),
            messages: request.messages.clone(),
            system: request.system.clone(),
            tools: request.tools.clone(),
            tool_choice: request.tool_choice.clone(),
            thinking: request.thinking.clone(),
            output_config: request.output_config.clone(),
            cache_control: request.cache_control.clone(),
            context_management: request.context_management.clone(),
            mcp_servers: request.mcp_servers.clone(),
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
