//! The body of `POST /v1/messages` and `POST /v1/messages/count_tokens`.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::content::{BlocksOrText, CacheControl, ContentBlock, MessageContent, TextBlock};
use crate::message::Role;
use crate::tools::{ThinkingConfig, Tool, ToolChoice};
use crate::version::{ApiVersion, VersionError};

/// The body of `POST /v1/messages`.
///
/// Build it builder-lite style; every field is public too. Fields this
/// version does not model go into [`MessageRequest::extra`] and are
/// serialized as they are.
///
/// # Examples
///
/// ```
/// use messages_types::{MessageRequest, Tool};
/// use serde_json::json;
///
/// let req = MessageRequest::new("claude-sonnet-4-5", 1024)
///     .system("Be brief.")
///     .user("What's the weather in Paris?")
///     .tool(Tool::custom("get_weather", json!({"type": "object"})))
///     .temperature(0.2);
/// let body = serde_json::to_value(&req).unwrap();
/// assert_eq!(body["messages"][0], json!({"role": "user", "content": "What's the weather in Paris?"}));
/// assert_eq!(body["system"], "Be brief.");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MessageRequest {
    /// The model, such as `claude-sonnet-4-5`.
    pub model: String,
    /// The maximum number of tokens to generate.
    pub max_tokens: u32,
    /// The conversation so far, alternating user and assistant turns.
    pub messages: Vec<InputMessage>,
    /// The system prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<System>,
    /// Request metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    /// Custom stop sequences.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_sequences: Option<Vec<String>>,
    /// Whether to stream the response as server-sent events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    /// Randomness, 0.0 to 1.0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Nucleus sampling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    /// Top-k sampling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_k: Option<u32>,
    /// Tools the model may call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<Tool>>,
    /// How the model may use the tools.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoice>,
    /// Extended thinking.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking: Option<ThinkingConfig>,
    /// `auto` or `standard_only`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_tier: Option<String>,
    /// A container to reuse (code execution): an id string, or an object
    /// with `id` and `skills`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<Value>,
    /// Output options: effort and a structured output format.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_config: Option<OutputConfig>,
    /// Context management (beta): edits such as clearing old tool results or
    /// compaction, as the API documents them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_management: Option<Value>,
    /// Remote MCP servers whose tools the model may call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp_servers: Option<Vec<McpServer>>,
    /// The geographic region for inference (the workspace default when
    /// unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inference_geo: Option<String>,
    /// Top-level cache control: a breakpoint on the last cacheable block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<CacheControl>,
    /// Any other field, serialized as it is (new API parameters, betas).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl MessageRequest {
    /// A request with no messages yet.
    pub fn new(model: impl Into<String>, max_tokens: u32) -> MessageRequest {
        MessageRequest {
            model: model.into(),
            max_tokens,
            messages: Vec::new(),
            system: None,
            metadata: None,
            stop_sequences: None,
            stream: None,
            temperature: None,
            top_p: None,
            top_k: None,
            tools: None,
            tool_choice: None,
            thinking: None,
            service_tier: None,
            container: None,
            output_config: None,
            context_management: None,
            mcp_servers: None,
            inference_geo: None,
            cache_control: None,
            extra: Map::new(),
        }
    }

    /// Sets the system prompt (a string, or text blocks via [`System::Blocks`]).
    #[must_use]
    pub fn system(mut self, system: impl Into<System>) -> MessageRequest {
        self.system = Some(system.into());
        self
    }

    /// Appends a user turn (a string or blocks).
    #[must_use]
    pub fn user(mut self, content: impl Into<MessageContent>) -> MessageRequest {
        self.messages.push(InputMessage::user(content));
        self
    }

    /// Appends an assistant turn (a string or blocks), for multi-turn
    /// conversations or to prefill the answer.
    #[must_use]
    pub fn assistant(mut self, content: impl Into<MessageContent>) -> MessageRequest {
        self.messages.push(InputMessage::assistant(content));
        self
    }

    /// Appends a turn.
    #[must_use]
    pub fn message(mut self, message: InputMessage) -> MessageRequest {
        self.messages.push(message);
        self
    }

    /// Adds a tool.
    #[must_use]
    pub fn tool(mut self, tool: Tool) -> MessageRequest {
        self.tools.get_or_insert_with(Vec::new).push(tool);
        self
    }

    /// Sets how the model may use the tools.
    #[must_use]
    pub fn tool_choice(mut self, choice: ToolChoice) -> MessageRequest {
        self.tool_choice = Some(choice);
        self
    }

    /// Enables extended thinking with a token budget.
    #[must_use]
    pub fn thinking(mut self, budget_tokens: u32) -> MessageRequest {
        self.thinking = Some(ThinkingConfig::Enabled { budget_tokens });
        self
    }

    /// Enables adaptive thinking: the model decides how much to think.
    #[must_use]
    pub fn adaptive_thinking(mut self) -> MessageRequest {
        self.thinking = Some(ThinkingConfig::adaptive());
        self
    }

    /// Sets `output_config.effort` (`low`, `medium`, `high`, `xhigh`, `max`).
    #[must_use]
    pub fn effort(mut self, effort: impl Into<String>) -> MessageRequest {
        self.output_config
            .get_or_insert_with(OutputConfig::default)
            .effort = Some(effort.into());
        self
    }

    /// Asks for JSON output valid for `schema` (`output_config.format`).
    #[must_use]
    pub fn json_schema(mut self, schema: Value) -> MessageRequest {
        self.output_config
            .get_or_insert_with(OutputConfig::default)
            .format = Some(OutputFormat::json_schema(schema));
        self
    }

    /// Adds a remote MCP server.
    #[must_use]
    pub fn mcp_server(mut self, server: McpServer) -> MessageRequest {
        self.mcp_servers.get_or_insert_with(Vec::new).push(server);
        self
    }

    /// Sets `inference_geo`.
    #[must_use]
    pub fn inference_geo(mut self, geo: impl Into<String>) -> MessageRequest {
        self.inference_geo = Some(geo.into());
        self
    }

    /// Checks that every field is accepted by the API `version`, before
    /// anything is sent: see [`ApiVersion`] for the rules.
    ///
    /// # Errors
    ///
    /// The first field the version rejects, named with its path.
    ///
    /// ```
    /// use messages_types::{ApiVersion, MessageRequest};
    ///
    /// let req = MessageRequest::new("claude-opus-4-6", 64).user("Hi").temperature(0.5);
    /// assert!(req.check_version(ApiVersion::V2023_06_01).is_ok());
    /// let err = req.check_version(ApiVersion::V2026_10_21).unwrap_err();
    /// assert_eq!(err.field(), "temperature");
    /// assert_eq!(err.to_string(), "`temperature` is not accepted by API version 2026-10-21 (sampling parameters were removed)");
    /// ```
    pub fn check_version(&self, version: ApiVersion) -> Result<(), VersionError> {
        crate::version::check_request(self, version)
    }

    /// Sets the temperature.
    #[must_use]
    pub fn temperature(mut self, temperature: f64) -> MessageRequest {
        self.temperature = Some(temperature);
        self
    }

    /// Sets `top_p`.
    #[must_use]
    pub fn top_p(mut self, top_p: f64) -> MessageRequest {
        self.top_p = Some(top_p);
        self
    }

    /// Sets `top_k`.
    #[must_use]
    pub fn top_k(mut self, top_k: u32) -> MessageRequest {
        self.top_k = Some(top_k);
        self
    }

    /// Adds a stop sequence.
    #[must_use]
    pub fn stop_sequence(mut self, stop: impl Into<String>) -> MessageRequest {
        self.stop_sequences
            .get_or_insert_with(Vec::new)
            .push(stop.into());
        self
    }

    /// Sets `stream`.
    #[must_use]
    pub fn stream(mut self, stream: bool) -> MessageRequest {
        self.stream = Some(stream);
        self
    }

    /// Sets `metadata.user_id`.
    #[must_use]
    pub fn user_id(mut self, user_id: impl Into<String>) -> MessageRequest {
        self.metadata = Some(Metadata {
            user_id: Some(user_id.into()),
            extra: Map::new(),
        });
        self
    }

    /// Sets `service_tier`.
    #[must_use]
    pub fn service_tier(mut self, tier: impl Into<String>) -> MessageRequest {
        self.service_tier = Some(tier.into());
        self
    }

    /// Sets `container` to a container id.
    #[must_use]
    pub fn container(mut self, container: impl Into<String>) -> MessageRequest {
        self.container = Some(Value::String(container.into()));
        self
    }

    /// Sets any other top-level field, serialized as it is. A field this type
    /// models is better set through its own method: both would be sent.
    #[must_use]
    pub fn extra(mut self, key: impl Into<String>, value: Value) -> MessageRequest {
        self.extra.insert(key.into(), value);
        self
    }
}

/// One turn of the conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InputMessage {
    /// `user` or `assistant`.
    pub role: Role,
    /// A string or blocks.
    pub content: MessageContent,
}

impl InputMessage {
    /// A turn by `role` with this content.
    pub fn new(role: Role, content: impl Into<MessageContent>) -> InputMessage {
        InputMessage {
            role,
            content: content.into(),
        }
    }
}

impl InputMessage {
    /// A user turn.
    pub fn user(content: impl Into<MessageContent>) -> InputMessage {
        InputMessage {
            role: Role::User,
            content: content.into(),
        }
    }

    /// An assistant turn.
    pub fn assistant(content: impl Into<MessageContent>) -> InputMessage {
        InputMessage {
            role: Role::Assistant,
            content: content.into(),
        }
    }
}

impl From<crate::Message> for InputMessage {
    /// The assistant turn to send back after receiving `message`.
    fn from(message: crate::Message) -> InputMessage {
        InputMessage {
            role: message.role,
            content: BlocksOrText::Blocks(message.content),
        }
    }
}

/// The system prompt: a string, or text blocks (for cache control).
#[derive(Debug, Clone, PartialEq)]
pub enum System {
    /// A plain string.
    Text(String),
    /// Text blocks, each with optional `cache_control`.
    Blocks(Vec<TextBlock>),
}

impl From<String> for System {
    fn from(s: String) -> System {
        System::Text(s)
    }
}

impl From<&str> for System {
    fn from(s: &str) -> System {
        System::Text(s.to_owned())
    }
}

impl From<Vec<TextBlock>> for System {
    fn from(b: Vec<TextBlock>) -> System {
        System::Blocks(b)
    }
}

impl<'de> Deserialize<'de> for System {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match BlocksOrText::deserialize(d)? {
            BlocksOrText::Text(s) => Ok(System::Text(s)),
            BlocksOrText::Blocks(blocks) => blocks
                .into_iter()
                .map(|b| match b {
                    ContentBlock::Text(t) => Ok(t),
                    other => Err(serde::de::Error::custom(format_args!(
                        "system blocks must be `text` blocks, found `{}`",
                        other.kind()
                    ))),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(System::Blocks),
        }
    }
}

impl Serialize for System {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        /// A text block with its `"type":"text"` tag.
        #[derive(Serialize)]
        #[serde(tag = "type")]
        enum Tagged<'a> {
            #[serde(rename = "text")]
            Text(&'a TextBlock),
        }
        match self {
            System::Text(t) => s.serialize_str(t),
            System::Blocks(blocks) => s.collect_seq(blocks.iter().map(Tagged::Text)),
        }
    }
}

/// Request metadata.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Metadata {
    /// An opaque id of the end user (no personal data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Fields this version does not know, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `output_config`: effort and structured output.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OutputConfig {
    /// How much effort the model spends: `low`, `medium`, `high`, `xhigh`
    /// or `max`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effort: Option<String>,
    /// The format of the reply's text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<OutputFormat>,
    /// Fields this version does not know, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A structured output format: `{"type":"json_schema","schema":{...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OutputFormat {
    /// `json_schema` today.
    #[serde(rename = "type")]
    pub kind: String,
    /// The JSON schema the reply's text must be valid for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<Value>,
    /// Fields this version does not know, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl OutputFormat {
    /// `{"type":"json_schema","schema":schema}`.
    pub fn json_schema(schema: Value) -> OutputFormat {
        OutputFormat {
            kind: "json_schema".to_owned(),
            schema: Some(schema),
            extra: Map::new(),
        }
    }
}

/// A remote MCP server (`mcp_servers` entry).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct McpServer {
    /// `url` today.
    #[serde(rename = "type")]
    pub kind: String,
    /// The server's URL.
    pub url: String,
    /// The name tools are addressed by (`mcp_tool_use.server_name`).
    pub name: String,
    /// An OAuth bearer token for the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_token: Option<String>,
    /// Other settings (such as `tool_configuration`), kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl McpServer {
    /// A `url` server.
    pub fn url(name: impl Into<String>, url: impl Into<String>) -> McpServer {
        McpServer {
            kind: "url".to_owned(),
            url: url.into(),
            name: name.into(),
            authorization_token: None,
            extra: Map::new(),
        }
    }
}
