//! Content blocks, shared by requests (user and assistant turns) and
//! responses ([`Message::content`](crate::Message::content)).

use std::fmt;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One block of message content.
///
/// Blocks this version does not know are kept in [`ContentBlock::Unknown`]
/// and serialize back to the same JSON value.
///
/// # Examples
///
/// ```
/// use messages_types::ContentBlock;
///
/// let block: ContentBlock = serde_json::from_str(r#"{"type":"text","text":"Hi"}"#).unwrap();
/// assert_eq!(block.as_text(), Some("Hi"));
///
/// let new: ContentBlock = serde_json::from_str(r#"{"type":"hologram","x":1}"#).unwrap();
/// assert!(matches!(new, ContentBlock::Unknown(_)));
/// assert_eq!(serde_json::to_string(&new).unwrap(), r#"{"type":"hologram","x":1}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type")]
#[non_exhaustive]
pub enum ContentBlock {
    /// `text`.
    #[serde(rename = "text")]
    Text(TextBlock),
    /// `image`.
    #[serde(rename = "image")]
    Image(ImageBlock),
    /// `document`.
    #[serde(rename = "document")]
    Document(DocumentBlock),
    /// `tool_use`: the model calls one of the request's tools.
    #[serde(rename = "tool_use")]
    ToolUse(ToolUseBlock),
    /// `tool_result`: the caller answers a `tool_use`.
    #[serde(rename = "tool_result")]
    ToolResult(ToolResultBlock),
    /// `thinking`.
    #[serde(rename = "thinking")]
    Thinking(ThinkingBlock),
    /// `redacted_thinking`.
    #[serde(rename = "redacted_thinking")]
    RedactedThinking(RedactedThinkingBlock),
    /// `server_tool_use`: the model calls a server tool such as web search.
    #[serde(rename = "server_tool_use")]
    ServerToolUse(ServerToolUseBlock),
    /// `web_search_tool_result`.
    #[serde(rename = "web_search_tool_result")]
    WebSearchToolResult(WebSearchToolResultBlock),
    /// `web_fetch_tool_result`.
    #[serde(rename = "web_fetch_tool_result")]
    WebFetchToolResult(ServerToolResultBlock),
    /// `code_execution_tool_result`.
    #[serde(rename = "code_execution_tool_result")]
    CodeExecutionToolResult(ServerToolResultBlock),
    /// `bash_code_execution_tool_result`.
    #[serde(rename = "bash_code_execution_tool_result")]
    BashCodeExecutionToolResult(ServerToolResultBlock),
    /// `text_editor_code_execution_tool_result`.
    #[serde(rename = "text_editor_code_execution_tool_result")]
    TextEditorCodeExecutionToolResult(ServerToolResultBlock),
    /// `tool_search_tool_result`.
    #[serde(rename = "tool_search_tool_result")]
    ToolSearchToolResult(ServerToolResultBlock),
    /// `advisor_tool_result` (beta).
    #[serde(rename = "advisor_tool_result")]
    AdvisorToolResult(ServerToolResultBlock),
    /// `mcp_tool_use`: the model calls a tool of an MCP server.
    #[serde(rename = "mcp_tool_use")]
    McpToolUse(McpToolUseBlock),
    /// `mcp_tool_result`.
    #[serde(rename = "mcp_tool_result")]
    McpToolResult(ServerToolResultBlock),
    /// `container_upload`: a file uploaded to the code execution container.
    #[serde(rename = "container_upload")]
    ContainerUpload(ContainerUploadBlock),
    /// `compaction` (beta): a summary of the context compacted away.
    #[serde(rename = "compaction")]
    Compaction(CompactionBlock),
    /// `fallback` (beta): the model's output gives way to a fallback model
    /// here; the message's `model` becomes the fallback's.
    #[serde(rename = "fallback")]
    Fallback(FallbackBlock),
    /// A block type this version does not know, kept as raw JSON
    /// (including its `type`).
    #[serde(untagged)]
    Unknown(Value),
}

tagged_deserialize!(ContentBlock, "content block", {
    "text" => Text(TextBlock),
    "image" => Image(ImageBlock),
    "document" => Document(DocumentBlock),
    "tool_use" => ToolUse(ToolUseBlock),
    "tool_result" => ToolResult(ToolResultBlock),
    "thinking" => Thinking(ThinkingBlock),
    "redacted_thinking" => RedactedThinking(RedactedThinkingBlock),
    "server_tool_use" => ServerToolUse(ServerToolUseBlock),
    "web_search_tool_result" => WebSearchToolResult(WebSearchToolResultBlock),
    "web_fetch_tool_result" => WebFetchToolResult(ServerToolResultBlock),
    "code_execution_tool_result" => CodeExecutionToolResult(ServerToolResultBlock),
    "bash_code_execution_tool_result" => BashCodeExecutionToolResult(ServerToolResultBlock),
    "text_editor_code_execution_tool_result" => TextEditorCodeExecutionToolResult(ServerToolResultBlock),
    "tool_search_tool_result" => ToolSearchToolResult(ServerToolResultBlock),
    "advisor_tool_result" => AdvisorToolResult(ServerToolResultBlock),
    "mcp_tool_use" => McpToolUse(McpToolUseBlock),
    "mcp_tool_result" => McpToolResult(ServerToolResultBlock),
    "container_upload" => ContainerUpload(ContainerUploadBlock),
    "compaction" => Compaction(CompactionBlock),
    "fallback" => Fallback(FallbackBlock),
});

impl ContentBlock {
    /// A `text` block.
    pub fn text(text: impl Into<String>) -> ContentBlock {
        ContentBlock::Text(TextBlock::new(text))
    }

    /// A `tool_result` block with text content.
    pub fn tool_result(tool_use_id: impl Into<String>, content: impl Into<String>) -> ContentBlock {
        ContentBlock::ToolResult(ToolResultBlock {
            tool_use_id: tool_use_id.into(),
            content: Some(ToolResultContent::Text(content.into())),
            is_error: None,
            cache_control: None,
        })
    }

    /// An `image` block from base64 data.
    pub fn image_base64(media_type: impl Into<String>, data: impl Into<String>) -> ContentBlock {
        ContentBlock::Image(ImageBlock {
            source: ImageSource::Base64 {
                media_type: media_type.into(),
                data: data.into(),
            },
            cache_control: None,
        })
    }

    /// The wire `type` of this block, such as `"text"`.
    pub fn kind(&self) -> &str {
        match self {
            ContentBlock::Text(_) => "text",
            ContentBlock::Image(_) => "image",
            ContentBlock::Document(_) => "document",
            ContentBlock::ToolUse(_) => "tool_use",
            ContentBlock::ToolResult(_) => "tool_result",
            ContentBlock::Thinking(_) => "thinking",
            ContentBlock::RedactedThinking(_) => "redacted_thinking",
            ContentBlock::ServerToolUse(_) => "server_tool_use",
            ContentBlock::WebSearchToolResult(_) => "web_search_tool_result",
            ContentBlock::WebFetchToolResult(_) => "web_fetch_tool_result",
            ContentBlock::CodeExecutionToolResult(_) => "code_execution_tool_result",
            ContentBlock::BashCodeExecutionToolResult(_) => "bash_code_execution_tool_result",
            ContentBlock::TextEditorCodeExecutionToolResult(_) => {
                "text_editor_code_execution_tool_result"
            }
            ContentBlock::ToolSearchToolResult(_) => "tool_search_tool_result",
            ContentBlock::AdvisorToolResult(_) => "advisor_tool_result",
            ContentBlock::McpToolUse(_) => "mcp_tool_use",
            ContentBlock::McpToolResult(_) => "mcp_tool_result",
            ContentBlock::ContainerUpload(_) => "container_upload",
            ContentBlock::Compaction(_) => "compaction",
            ContentBlock::Fallback(_) => "fallback",
            ContentBlock::Unknown(v) => v.get("type").and_then(Value::as_str).unwrap_or(""),
        }
    }

    /// The text of a `text` block.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            ContentBlock::Text(t) => Some(&t.text),
            _ => None,
        }
    }
}

/// Prompt-caching breakpoint: `{"type":"ephemeral","ttl":"1h"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CacheControl {
    /// The cache kind; `"ephemeral"` today.
    #[serde(rename = "type")]
    pub kind: String,
    /// Time to live, such as `"5m"` or `"1h"`; the API's default when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<String>,
}

impl CacheControl {
    /// `{"type":"ephemeral","ttl":TTL}`, such as `"1h"`.
    pub fn ephemeral_ttl(ttl: impl Into<String>) -> CacheControl {
        CacheControl {
            ttl: Some(ttl.into()),
            ..CacheControl::ephemeral()
        }
    }

    /// `{"type":"ephemeral"}`: the API's default time to live.
    pub fn ephemeral() -> CacheControl {
        CacheControl {
            kind: "ephemeral".to_owned(),
            ttl: None,
        }
    }
}

/// A `text` block.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TextBlock {
    /// The text.
    pub text: String,
    /// Citations supporting the text (responses with citations enabled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub citations: Option<Vec<Citation>>,
    /// Prompt-caching breakpoint (requests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<CacheControl>,
}

impl TextBlock {
    /// A text block without citations or cache control.
    pub fn new(text: impl Into<String>) -> TextBlock {
        TextBlock {
            text: text.into(),
            citations: None,
            cache_control: None,
        }
    }

    /// The same block with a prompt-caching breakpoint.
    pub fn with_cache_control(mut self, cache_control: CacheControl) -> TextBlock {
        self.cache_control = Some(cache_control);
        self
    }
}

/// A citation attached to text.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type")]
#[non_exhaustive]
pub enum Citation {
    /// `char_location`: a character range of a plain-text document.
    #[serde(rename = "char_location")]
    CharLocation(DocumentCitation),
    /// `page_location`: a page range of a PDF document.
    #[serde(rename = "page_location")]
    PageLocation(DocumentCitation),
    /// `content_block_location`: a block range of a content document.
    #[serde(rename = "content_block_location")]
    ContentBlockLocation(DocumentCitation),
    /// `web_search_result_location`.
    #[serde(rename = "web_search_result_location")]
    WebSearchResultLocation(WebSearchCitation),
    /// A citation kind this version does not know, kept as raw JSON.
    #[serde(untagged)]
    Unknown(Value),
}

tagged_deserialize!(Citation, "citation", {
    "char_location" => CharLocation(DocumentCitation),
    "page_location" => PageLocation(DocumentCitation),
    "content_block_location" => ContentBlockLocation(DocumentCitation),
    "web_search_result_location" => WebSearchResultLocation(WebSearchCitation),
});

/// A citation of a document passage. The location fields depend on the
/// kind; the ones not listed here are kept in `extra`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DocumentCitation {
    /// The cited text.
    pub cited_text: String,
    /// Index of the cited document in the request.
    pub document_index: u32,
    /// Title of the cited document.
    #[serde(default)]
    pub document_title: Option<String>,
    /// Location fields (`start_char_index`, `end_page_number`, ...) and any
    /// field this version does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A citation of a web search result.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WebSearchCitation {
    /// The cited text.
    pub cited_text: String,
    /// The result's URL.
    pub url: String,
    /// The result's title.
    #[serde(default)]
    pub title: Option<String>,
    /// Opaque reference to pass back in multi-turn conversations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encrypted_index: Option<String>,
}

/// An `image` block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ImageBlock {
    /// Where the image comes from.
    pub source: ImageSource,
    /// Prompt-caching breakpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<CacheControl>,
}

impl ImageBlock {
    /// An image from this source, with no cache breakpoint.
    pub fn new(source: ImageSource) -> ImageBlock {
        ImageBlock {
            source,
            cache_control: None,
        }
    }
}

/// The source of an image.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type")]
#[non_exhaustive]
pub enum ImageSource {
    /// `base64`: inline data.
    #[serde(rename = "base64")]
    Base64 {
        /// `image/jpeg`, `image/png`, `image/gif` or `image/webp`.
        media_type: String,
        /// Base64-encoded bytes.
        data: String,
    },
    /// `url`: fetched by the API.
    #[serde(rename = "url")]
    Url {
        /// The URL.
        url: String,
    },
    /// `file`: uploaded through the Files API.
    #[serde(rename = "file")]
    File {
        /// The file id.
        file_id: String,
    },
    /// A source kind this version does not know, kept as raw JSON.
    #[serde(untagged)]
    Unknown(Value),
}

#[derive(Deserialize)]
struct Base64Source {
    media_type: String,
    data: String,
}

#[derive(Deserialize)]
struct UrlSource {
    url: String,
}

#[derive(Deserialize)]
struct FileSource {
    file_id: String,
}

#[derive(Deserialize)]
struct ContentSource {
    content: DocumentContent,
}

impl<'de> Deserialize<'de> for ImageSource {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        let tag = crate::macros::tag_of::<D::Error>(&value, "image source")?;
        let err = |e| crate::macros::in_variant::<D::Error>(e, "image source", tag);
        match tag {
            "base64" => Base64Source::deserialize(&value)
                .map(|s| ImageSource::Base64 {
                    media_type: s.media_type,
                    data: s.data,
                })
                .map_err(err),
            "url" => UrlSource::deserialize(&value)
                .map(|s| ImageSource::Url { url: s.url })
                .map_err(err),
            "file" => FileSource::deserialize(&value)
                .map(|s| ImageSource::File { file_id: s.file_id })
                .map_err(err),
            _ => Ok(ImageSource::Unknown(value)),
        }
    }
}

/// A `document` block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DocumentBlock {
    /// Where the document comes from.
    pub source: DocumentSource,
    /// A title for citations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Context about the document the model may use but not cite.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// `{"enabled": true}` to get citations into this document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub citations: Option<CitationsConfig>,
    /// Prompt-caching breakpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<CacheControl>,
}

impl DocumentBlock {
    /// A document from this source, with no title, context, citations or
    /// cache breakpoint.
    pub fn new(source: DocumentSource) -> DocumentBlock {
        DocumentBlock {
            source,
            title: None,
            context: None,
            citations: None,
            cache_control: None,
        }
    }
}

/// Whether citations are enabled for a document.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CitationsConfig {
    /// Enables citations.
    pub enabled: bool,
}

impl CitationsConfig {
    /// Citations on (`true`) or off.
    pub fn new(enabled: bool) -> CitationsConfig {
        CitationsConfig { enabled }
    }
}

/// The source of a document.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type")]
#[non_exhaustive]
pub enum DocumentSource {
    /// `base64`: an inline PDF.
    #[serde(rename = "base64")]
    Base64 {
        /// `application/pdf`.
        media_type: String,
        /// Base64-encoded bytes.
        data: String,
    },
    /// `text`: inline plain text.
    #[serde(rename = "text")]
    Text {
        /// `text/plain`.
        media_type: String,
        /// The text.
        data: String,
    },
    /// `url`: a PDF fetched by the API.
    #[serde(rename = "url")]
    Url {
        /// The URL.
        url: String,
    },
    /// `file`: uploaded through the Files API.
    #[serde(rename = "file")]
    File {
        /// The file id.
        file_id: String,
    },
    /// `content`: a custom document made of content blocks.
    #[serde(rename = "content")]
    Content {
        /// A string or text/image blocks.
        content: DocumentContent,
    },
    /// A source kind this version does not know, kept as raw JSON.
    #[serde(untagged)]
    Unknown(Value),
}

impl<'de> Deserialize<'de> for DocumentSource {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        let tag = crate::macros::tag_of::<D::Error>(&value, "document source")?;
        let err = |e| crate::macros::in_variant::<D::Error>(e, "document source", tag);
        match tag {
            "base64" => Base64Source::deserialize(&value)
                .map(|s| DocumentSource::Base64 {
                    media_type: s.media_type,
                    data: s.data,
                })
                .map_err(err),
            "text" => Base64Source::deserialize(&value)
                .map(|s| DocumentSource::Text {
                    media_type: s.media_type,
                    data: s.data,
                })
                .map_err(err),
            "url" => UrlSource::deserialize(&value)
                .map(|s| DocumentSource::Url { url: s.url })
                .map_err(err),
            "file" => FileSource::deserialize(&value)
                .map(|s| DocumentSource::File { file_id: s.file_id })
                .map_err(err),
            "content" => ContentSource::deserialize(&value)
                .map(|s| DocumentSource::Content { content: s.content })
                .map_err(err),
            _ => Ok(DocumentSource::Unknown(value)),
        }
    }
}

/// A string or a list of blocks: the content of a turn, of a tool result or
/// of a custom document.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum BlocksOrText {
    /// Plain text (one text block).
    Text(String),
    /// Content blocks.
    Blocks(Vec<ContentBlock>),
}

/// The content of a turn: a string or blocks.
pub type MessageContent = BlocksOrText;
/// The content of a `tool_result` block: a string or blocks.
pub type ToolResultContent = BlocksOrText;
/// The content of a `content` document source: a string or blocks.
pub type DocumentContent = BlocksOrText;

impl BlocksOrText {
    /// The content as blocks: a string becomes one text block.
    pub fn into_blocks(self) -> Vec<ContentBlock> {
        match self {
            BlocksOrText::Text(t) => vec![ContentBlock::text(t)],
            BlocksOrText::Blocks(b) => b,
        }
    }
}

impl From<String> for BlocksOrText {
    fn from(s: String) -> BlocksOrText {
        BlocksOrText::Text(s)
    }
}

impl From<&str> for BlocksOrText {
    fn from(s: &str) -> BlocksOrText {
        BlocksOrText::Text(s.to_owned())
    }
}

impl From<Vec<ContentBlock>> for BlocksOrText {
    fn from(b: Vec<ContentBlock>) -> BlocksOrText {
        BlocksOrText::Blocks(b)
    }
}

impl<'de> Deserialize<'de> for BlocksOrText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = BlocksOrText;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an array of content blocks")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<BlocksOrText, E> {
                Ok(BlocksOrText::Text(s.to_owned()))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<BlocksOrText, E> {
                Ok(BlocksOrText::Text(s))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<BlocksOrText, A::Error> {
                let mut blocks = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
                while let Some(b) = seq.next_element()? {
                    blocks.push(b);
                }
                Ok(BlocksOrText::Blocks(blocks))
            }
        }
        d.deserialize_any(V)
    }
}

/// A `tool_use` block.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ToolUseBlock {
    /// The call id, echoed by the matching `tool_result`.
    pub id: String,
    /// The tool's name.
    pub name: String,
    /// The input, an object matching the tool's `input_schema`.
    pub input: Value,
    /// Prompt-caching breakpoint (requests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<CacheControl>,
    /// Fields this version does not know (such as `caller`), kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
    /// The raw JSON text of an input that `max_tokens` cut off; `None` when
    /// the input is complete. Set by a stream accumulator, never sent or
    /// received: when set, [`input`](Self::input) is the best valid prefix
    /// of this text (see [`is_input_complete`](Self::is_input_complete)).
    #[serde(skip)]
    pub incomplete_input: Option<String>,
}

impl ToolUseBlock {
    /// A call of tool `name` with this input.
    pub fn new(id: impl Into<String>, name: impl Into<String>, input: Value) -> ToolUseBlock {
        ToolUseBlock {
            id: id.into(),
            name: name.into(),
            input,
            ..ToolUseBlock::default()
        }
    }
}

impl ToolUseBlock {
    /// Whether [`input`](Self::input) is the whole input the model wrote;
    /// `false` when `max_tokens` cut it and it holds only the best valid
    /// prefix of [`incomplete_input`](Self::incomplete_input).
    pub fn is_input_complete(&self) -> bool {
        self.incomplete_input.is_none()
    }
}

/// A `tool_result` block.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ToolResultBlock {
    /// The `id` of the `tool_use` this answers.
    pub tool_use_id: String,
    /// The result: a string or blocks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<ToolResultContent>,
    /// Set when the tool failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_error: Option<bool>,
    /// Prompt-caching breakpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<CacheControl>,
}

impl ToolResultBlock {
    /// The result of tool call `tool_use_id`, with no content yet.
    pub fn new(tool_use_id: impl Into<String>) -> ToolResultBlock {
        ToolResultBlock {
            tool_use_id: tool_use_id.into(),
            ..ToolResultBlock::default()
        }
    }
}

/// A `thinking` block.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ThinkingBlock {
    /// The model's reasoning.
    pub thinking: String,
    /// Signature to pass back unchanged in multi-turn conversations.
    #[serde(default)]
    pub signature: String,
}

impl ThinkingBlock {
    /// A thinking block with its signature.
    pub fn new(thinking: impl Into<String>, signature: impl Into<String>) -> ThinkingBlock {
        ThinkingBlock {
            thinking: thinking.into(),
            signature: signature.into(),
        }
    }
}

/// A `redacted_thinking` block.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RedactedThinkingBlock {
    /// Encrypted reasoning, to pass back unchanged.
    pub data: String,
}

/// A `server_tool_use` block.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ServerToolUseBlock {
    /// The call id.
    pub id: String,
    /// The server tool's name, such as `web_search`.
    pub name: String,
    /// The input, such as `{"query": ".."}`.
    pub input: Value,
    /// Prompt-caching breakpoint (requests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<CacheControl>,
    /// Fields this version does not know, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
    /// The raw JSON text of an input that `max_tokens` cut off, as on
    /// [`ToolUseBlock::incomplete_input`]. Never sent or received.
    #[serde(skip)]
    pub incomplete_input: Option<String>,
}

/// A server tool's result block whose `content` this version keeps as JSON:
/// `web_fetch_tool_result`, `code_execution_tool_result`,
/// `bash_code_execution_tool_result`, `text_editor_code_execution_tool_result`,
/// `tool_search_tool_result`, `advisor_tool_result` and `mcp_tool_result`
/// (the variant of [`ContentBlock`] names the kind).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ServerToolResultBlock {
    /// The `id` of the `server_tool_use` (or `mcp_tool_use`) this answers.
    pub tool_use_id: String,
    /// The result (or an error object), as the API sent it.
    #[serde(default)]
    pub content: Value,
    /// Set on a failed MCP tool call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_error: Option<bool>,
    /// Prompt-caching breakpoint (requests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<CacheControl>,
    /// Fields this version does not know (such as `caller`), kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An `mcp_tool_use` block.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct McpToolUseBlock {
    /// The call id.
    pub id: String,
    /// The tool's name on its server.
    pub name: String,
    /// The MCP server's name, as in the request's `mcp_servers`.
    pub server_name: String,
    /// The input.
    pub input: Value,
    /// Prompt-caching breakpoint (requests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<CacheControl>,
    /// Fields this version does not know, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A `container_upload` block.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ContainerUploadBlock {
    /// The uploaded file's id.
    pub file_id: String,
    /// Prompt-caching breakpoint (requests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<CacheControl>,
    /// Fields this version does not know, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A `compaction` block (beta): filled by `compaction_delta` events.
///
/// `content: null` means the compaction failed to produce a summary; such a
/// block may be sent back and is ignored by the API.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CompactionBlock {
    /// The summary of the compacted context.
    #[serde(default)]
    pub content: Option<String>,
    /// Opaque metadata to send back verbatim.
    #[serde(default)]
    pub encrypted_content: Option<String>,
    /// Prompt-caching breakpoint (requests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<CacheControl>,
    /// Fields this version does not know, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A `fallback` block (beta): one model declined and the next one's output
/// follows. Arrives whole in `content_block_start`, with no deltas.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FallbackBlock {
    /// The model whose output ends here.
    pub from: FallbackInfo,
    /// The fallback model whose output follows (its canonical id).
    pub to: FallbackInfo,
    /// Fields this version does not know (such as `trigger`), kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One side of a fallback hop.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FallbackInfo {
    /// The model id.
    pub model: String,
    /// Fields this version does not know, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A `web_search_tool_result` block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WebSearchToolResultBlock {
    /// The `id` of the `server_tool_use` this answers.
    pub tool_use_id: String,
    /// The results, or an error.
    pub content: WebSearchToolResultContent,
    /// Prompt-caching breakpoint (requests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<CacheControl>,
    /// Fields this version does not know (such as `caller`), kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl WebSearchToolResultBlock {
    /// The result of web search call `tool_use_id`.
    pub fn new(
        tool_use_id: impl Into<String>,
        content: WebSearchToolResultContent,
    ) -> WebSearchToolResultBlock {
        WebSearchToolResultBlock {
            tool_use_id: tool_use_id.into(),
            content,
            cache_control: None,
            extra: Map::new(),
        }
    }
}

/// The content of a `web_search_tool_result` block.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum WebSearchToolResultContent {
    /// The search results.
    Results(Vec<WebSearchResult>),
    /// `{"type":"web_search_tool_result_error","error_code":..}`.
    Error(WebSearchToolResultError),
    /// A shape this version does not know, kept as raw JSON.
    Unknown(Value),
}

impl<'de> Deserialize<'de> for WebSearchToolResultContent {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        let res = match &value {
            Value::Array(_) => {
                Vec::<WebSearchResult>::deserialize(value).map(WebSearchToolResultContent::Results)
            }
            Value::Object(m)
                if m.get("type").and_then(Value::as_str)
                    == Some("web_search_tool_result_error") =>
            {
                WebSearchToolResultError::deserialize(value).map(WebSearchToolResultContent::Error)
            }
            _ => return Ok(WebSearchToolResultContent::Unknown(value)),
        };
        res.map_err(de::Error::custom)
    }
}

/// One web search result.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(tag = "type", rename = "web_search_result")]
#[non_exhaustive]
pub struct WebSearchResult {
    /// The page title.
    pub title: String,
    /// The page URL.
    pub url: String,
    /// Opaque content to pass back in multi-turn conversations.
    pub encrypted_content: String,
    /// How old the page is, as the API words it (`"1 week ago"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_age: Option<String>,
}

/// A failed web search.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "type", rename = "web_search_tool_result_error")]
#[non_exhaustive]
pub struct WebSearchToolResultError {
    /// `too_many_requests`, `invalid_input`, `max_uses_exceeded`, ...
    pub error_code: String,
}
