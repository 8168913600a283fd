//! Tools, tool choice and thinking configuration of a request.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::content::CacheControl;

/// A tool the model may call.
///
/// Custom tools have no `type` (or `"type":"custom"`). Server tools carry a
/// versioned `type` such as `web_search_20250305`; the common ones are typed
/// variants, any other is passed through raw in [`Tool::Unknown`].
///
/// # Examples
///
/// ```
/// use messages_types::Tool;
/// use serde_json::json;
///
/// let t = Tool::custom("get_weather", json!({"type": "object", "properties": {}}))
///     .with_description("Current weather");
/// assert_eq!(serde_json::to_value(&t).unwrap()["name"], "get_weather");
///
/// let memory: Tool = serde_json::from_value(json!({"type": "memory_20250818", "name": "memory"})).unwrap();
/// assert!(matches!(memory, Tool::Memory(_)));
///
/// let raw: Tool = serde_json::from_value(json!({"type": "hologram_20990101", "name": "h"})).unwrap();
/// assert!(matches!(raw, Tool::Unknown(_)));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum Tool {
    /// A tool defined by the caller, with a JSON schema for its input.
    Custom(CustomTool),
    /// The web search server tool (`web_search_*`).
    WebSearch(WebSearchTool),
    /// The web fetch server tool (`web_fetch_*`).
    WebFetch(WebFetchTool),
    /// The bash tool (`bash_*`), run by the caller.
    Bash(BuiltinTool),
    /// The text editor tool (`text_editor_*`), run by the caller.
    TextEditor(BuiltinTool),
    /// The code execution server tool (`code_execution_*`).
    CodeExecution(BuiltinTool),
    /// The memory tool (`memory_*`), run by the caller.
    Memory(BuiltinTool),
    /// The tool search server tool (`tool_search_tool_regex_*`,
    /// `tool_search_tool_bm25_*`).
    ToolSearch(BuiltinTool),
    /// Any other tool, passed through as raw JSON.
    Unknown(Value),
}

impl Tool {
    /// A custom tool.
    pub fn custom(name: impl Into<String>, input_schema: Value) -> Tool {
        Tool::Custom(CustomTool::new(name, input_schema))
    }

    /// A built-in or server tool by its versioned type and name, such as
    /// `Tool::builtin("memory_20250818", "memory")`. Known families get their
    /// typed variant; any other type is kept as [`Tool::Unknown`].
    pub fn builtin(kind: impl Into<String>, name: impl Into<String>) -> Tool {
        let value = serde_json::json!({"type": kind.into(), "name": name.into()});
        // A `{type, name}` object always deserializes: every variant accepts it.
        serde_json::from_value(value.clone()).unwrap_or(Tool::Unknown(value))
    }

    /// The web search tool, version `web_search_20250305`.
    pub fn web_search() -> Tool {
        Tool::WebSearch(WebSearchTool::default())
    }

    /// Sets the description of a custom tool; other tools are returned
    /// unchanged.
    #[must_use]
    pub fn with_description(mut self, description: impl Into<String>) -> Tool {
        if let Tool::Custom(t) = &mut self {
            t.description = Some(description.into());
        }
        self
    }

    /// The tool's name.
    pub fn name(&self) -> &str {
        match self {
            Tool::Custom(t) => &t.name,
            Tool::WebSearch(t) => &t.name,
            Tool::WebFetch(t) => &t.name,
            Tool::Bash(t)
            | Tool::TextEditor(t)
            | Tool::CodeExecution(t)
            | Tool::Memory(t)
            | Tool::ToolSearch(t) => &t.name,
            Tool::Unknown(v) => v.get("name").and_then(Value::as_str).unwrap_or(""),
        }
    }
}

impl<'de> Deserialize<'de> for Tool {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        let kind = match &value {
            Value::Object(map) => match map.get("type") {
                None | Some(Value::Null) => "custom",
                Some(Value::String(s)) => s.as_str(),
                Some(_) => {
                    return Err(serde::de::Error::custom(
                        "the `type` of a tool must be a string",
                    ));
                }
            },
            _ => return Err(serde::de::Error::custom("a tool must be a JSON object")),
        };
        let err = |e| crate::macros::in_variant::<D::Error>(e, "tool", kind);
        let family = kind.rsplit_once('_').map_or(kind, |(family, version)| {
            if version.bytes().all(|b| b.is_ascii_digit()) {
                family
            } else {
                kind
            }
        });
        match family {
            "custom" => CustomTool::deserialize(&value)
                .map(Tool::Custom)
                .map_err(err),
            "web_search" => WebSearchTool::deserialize(&value)
                .map(Tool::WebSearch)
                .map_err(err),
            "web_fetch" => WebFetchTool::deserialize(&value)
                .map(Tool::WebFetch)
                .map_err(err),
            "bash" => BuiltinTool::deserialize(&value)
                .map(Tool::Bash)
                .map_err(err),
            "text_editor" => BuiltinTool::deserialize(&value)
                .map(Tool::TextEditor)
                .map_err(err),
            "code_execution" => BuiltinTool::deserialize(&value)
                .map(Tool::CodeExecution)
                .map_err(err),
            "memory" => BuiltinTool::deserialize(&value)
                .map(Tool::Memory)
                .map_err(err),
            "tool_search_tool_regex" | "tool_search_tool_bm25" => BuiltinTool::deserialize(&value)
                .map(Tool::ToolSearch)
                .map_err(err),
            _ => Ok(Tool::Unknown(value)),
        }
    }
}

/// A tool defined by the caller.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CustomTool {
    /// The name the model calls it by.
    pub name: String,
    /// What it does and when to use it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// JSON schema of the input object.
    pub input_schema: Value,
    /// Prompt-caching breakpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<CacheControl>,
    /// Strict tool use: the input always validates against `input_schema`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
    /// Fine-grained tool streaming: input JSON is streamed without being
    /// buffered for validation first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eager_input_streaming: Option<bool>,
    /// Fields this version does not know, kept verbatim (the optional
    /// `"type":"custom"` lands here).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl CustomTool {
    /// A custom tool with this name and JSON Schema for its input.
    pub fn new(name: impl Into<String>, input_schema: Value) -> CustomTool {
        CustomTool {
            name: name.into(),
            description: None,
            input_schema,
            cache_control: None,
            strict: None,
            eager_input_streaming: None,
            extra: Map::new(),
        }
    }
}

/// The web search server tool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WebSearchTool {
    /// The versioned type, such as `web_search_20250305`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `web_search`.
    pub name: String,
    /// The most searches per request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_uses: Option<u32>,
    /// Only search these domains.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_domains: Option<Vec<String>>,
    /// Never search these domains.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked_domains: Option<Vec<String>>,
    /// Approximate user location, to localize results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_location: Option<UserLocation>,
    /// Prompt-caching breakpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<CacheControl>,
}

impl Default for WebSearchTool {
    fn default() -> WebSearchTool {
        WebSearchTool {
            kind: "web_search_20250305".to_owned(),
            name: "web_search".to_owned(),
            max_uses: None,
            allowed_domains: None,
            blocked_domains: None,
            user_location: None,
            cache_control: None,
        }
    }
}

/// Approximate user location for web search.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "type", rename = "approximate")]
#[non_exhaustive]
pub struct UserLocation {
    /// City.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// Region or state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// ISO 3166-1 alpha-2 country code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// IANA time zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
}

/// The web fetch server tool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WebFetchTool {
    /// The versioned type, such as `web_fetch_20250910`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `web_fetch`.
    pub name: String,
    /// The most fetches per request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_uses: Option<u32>,
    /// Only fetch from these domains.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_domains: Option<Vec<String>>,
    /// Never fetch from these domains.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked_domains: Option<Vec<String>>,
    /// Citations for fetched documents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub citations: Option<crate::content::CitationsConfig>,
    /// The most tokens of fetched content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_content_tokens: Option<u32>,
    /// Prompt-caching breakpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<CacheControl>,
}

impl Default for WebFetchTool {
    /// Version `web_fetch_20250910`, no limits.
    fn default() -> WebFetchTool {
        WebFetchTool {
            kind: "web_fetch_20250910".to_owned(),
            name: "web_fetch".to_owned(),
            max_uses: None,
            allowed_domains: None,
            blocked_domains: None,
            citations: None,
            max_content_tokens: None,
            cache_control: None,
        }
    }
}

/// A built-in tool identified by its versioned type and name
/// (bash, text editor, code execution).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BuiltinTool {
    /// The versioned type, such as `bash_20250124`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The name, such as `bash` or `str_replace_based_edit_tool`.
    pub name: String,
    /// Prompt-caching breakpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<CacheControl>,
    /// Other parameters (such as `max_characters`), kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl BuiltinTool {
    /// A built-in tool by its versioned type and name.
    pub fn new(kind: impl Into<String>, name: impl Into<String>) -> BuiltinTool {
        BuiltinTool {
            kind: kind.into(),
            name: name.into(),
            cache_control: None,
            extra: Map::new(),
        }
    }
}

/// How the model may use the tools.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type")]
#[non_exhaustive]
pub enum ToolChoice {
    /// `auto`: the model decides.
    #[serde(rename = "auto")]
    Auto {
        /// At most one tool call per turn.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        disable_parallel_tool_use: Option<bool>,
    },
    /// `any`: the model must call some tool.
    #[serde(rename = "any")]
    Any {
        /// Exactly one tool call.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        disable_parallel_tool_use: Option<bool>,
    },
    /// `tool`: the model must call the named tool.
    #[serde(rename = "tool")]
    Tool {
        /// The tool to call.
        name: String,
        /// Exactly one tool call.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        disable_parallel_tool_use: Option<bool>,
    },
    /// `none`: the model must not call tools.
    #[serde(rename = "none")]
    None,
    /// A choice this version does not know, kept as raw JSON.
    #[serde(untagged)]
    Unknown(Value),
}

impl ToolChoice {
    /// `{"type":"auto"}`.
    pub fn auto() -> ToolChoice {
        ToolChoice::Auto {
            disable_parallel_tool_use: None,
        }
    }

    /// `{"type":"any"}`.
    pub fn any() -> ToolChoice {
        ToolChoice::Any {
            disable_parallel_tool_use: None,
        }
    }

    /// `{"type":"tool","name":name}`.
    pub fn tool(name: impl Into<String>) -> ToolChoice {
        ToolChoice::Tool {
            name: name.into(),
            disable_parallel_tool_use: None,
        }
    }
}

#[derive(Deserialize)]
struct ParallelFlag {
    #[serde(default)]
    disable_parallel_tool_use: Option<bool>,
}

#[derive(Deserialize)]
struct NamedChoice {
    name: String,
    #[serde(default)]
    disable_parallel_tool_use: Option<bool>,
}

impl<'de> Deserialize<'de> for ToolChoice {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        let tag = crate::macros::tag_of::<D::Error>(&value, "tool choice")?;
        let err = |e| crate::macros::in_variant::<D::Error>(e, "tool choice", tag);
        match tag {
            "auto" => ParallelFlag::deserialize(&value)
                .map(|f| ToolChoice::Auto {
                    disable_parallel_tool_use: f.disable_parallel_tool_use,
                })
                .map_err(err),
            "any" => ParallelFlag::deserialize(&value)
                .map(|f| ToolChoice::Any {
                    disable_parallel_tool_use: f.disable_parallel_tool_use,
                })
                .map_err(err),
            "tool" => NamedChoice::deserialize(&value)
                .map(|f| ToolChoice::Tool {
                    name: f.name,
                    disable_parallel_tool_use: f.disable_parallel_tool_use,
                })
                .map_err(err),
            "none" => Ok(ToolChoice::None),
            _ => Ok(ToolChoice::Unknown(value)),
        }
    }
}

/// Extended thinking configuration.
///
/// ```
/// use messages_types::ThinkingConfig;
///
/// let t = ThinkingConfig::adaptive();
/// assert_eq!(serde_json::to_string(&t).unwrap(), r#"{"type":"adaptive"}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type")]
#[non_exhaustive]
pub enum ThinkingConfig {
    /// `enabled`, with a budget of thinking tokens (at least 1024, less than
    /// `max_tokens`).
    #[serde(rename = "enabled")]
    Enabled {
        /// Thinking tokens the model may use.
        budget_tokens: u32,
    },
    /// `disabled`.
    #[serde(rename = "disabled")]
    Disabled,
    /// `adaptive`: the model decides whether and how much to think (the
    /// mode of Opus 4.6, Sonnet 4.6 and later models; effort is set with
    /// [`OutputConfig::effort`](crate::OutputConfig::effort)).
    #[serde(rename = "adaptive")]
    Adaptive {
        /// `summarized` (the default) or `omitted` (thinking is redacted
        /// but a signature is returned).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        display: Option<String>,
    },
    /// A kind this version does not know, kept as raw JSON.
    #[serde(untagged)]
    Unknown(Value),
}

impl ThinkingConfig {
    /// `{"type":"adaptive"}`.
    pub fn adaptive() -> ThinkingConfig {
        ThinkingConfig::Adaptive { display: None }
    }
}

#[derive(Deserialize)]
struct Budget {
    budget_tokens: u32,
}

#[derive(Deserialize)]
struct Display {
    #[serde(default)]
    display: Option<String>,
}

impl<'de> Deserialize<'de> for ThinkingConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        let tag = crate::macros::tag_of::<D::Error>(&value, "thinking config")?;
        match tag {
            "enabled" => Budget::deserialize(&value)
                .map(|b| ThinkingConfig::Enabled {
                    budget_tokens: b.budget_tokens,
                })
                .map_err(|e| crate::macros::in_variant::<D::Error>(e, "thinking config", tag)),
            "disabled" => Ok(ThinkingConfig::Disabled),
            "adaptive" => Display::deserialize(&value)
                .map(|d| ThinkingConfig::Adaptive { display: d.display })
                .map_err(|e| crate::macros::in_variant::<D::Error>(e, "thinking config", tag)),
            _ => Ok(ThinkingConfig::Unknown(value)),
        }
    }
}
