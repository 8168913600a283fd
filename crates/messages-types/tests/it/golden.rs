//! Golden JSON: every request type serializes to the documented wire shape.

use messages_types::{
    BatchCreateParams, BatchRequest, CacheControl, ContentBlock, CountTokensRequest, DocumentBlock,
    DocumentSource, ImageBlock, ImageSource, MessageRequest, System, TextBlock, ThinkingConfig,
    Tool, ToolChoice, WebSearchTool,
};
use serde::Serialize;
use serde_json::{Value, json};

fn check<T: Serialize>(value: &T, expected: Value) {
    assert_eq!(serde_json::to_value(value).expect("serialize"), expected);
}

#[test]
fn minimal_request() {
    check(
        &MessageRequest::new("claude-sonnet-4-5", 1024).user("Hello, Claude"),
        json!({"model": "claude-sonnet-4-5", "max_tokens": 1024,
               "messages": [{"role": "user", "content": "Hello, Claude"}]}),
    );
}

#[test]
fn full_request() {
    let req = MessageRequest::new("claude-opus-4-1", 2048)
        .system(System::Blocks(vec![
            TextBlock::new("You are terse.").with_cache_control(CacheControl::ephemeral()),
        ]))
        .user("What's the weather?")
        .assistant(vec![ContentBlock::ToolUse(messages_types::ToolUseBlock::new(
            "toolu_1",
            "get_weather",
            json!({"city": "Paris"}),
        ))])
        .user(vec![ContentBlock::tool_result("toolu_1", "18°C")])
        .tool(
            Tool::custom("get_weather", json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}))
                .with_description("Current weather"),
        )
        .tool(Tool::WebSearch({
            let mut search = WebSearchTool::default();
            search.max_uses = Some(3);
            search
        }))
        .tool_choice(ToolChoice::Auto { disable_parallel_tool_use: Some(true) })
        .thinking(2048)
        .stop_sequence("\n\nHuman:")
        .temperature(0.5)
        .top_p(0.9)
        .top_k(40)
        .stream(true)
        .user_id("user-123")
        .service_tier("standard_only")
        .container("container_1")
        .extra("output_config", json!({"effort": "low"}));
    check(
        &req,
        json!({
            "model": "claude-opus-4-1",
            "max_tokens": 2048,
            "messages": [
                {"role": "user", "content": "What's the weather?"},
                {"role": "assistant", "content": [
                    {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}
                ]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_1", "content": "18°C"}
                ]}
            ],
            "system": [{"type": "text", "text": "You are terse.", "cache_control": {"type": "ephemeral"}}],
            "metadata": {"user_id": "user-123"},
            "stop_sequences": ["\n\nHuman:"],
            "stream": true,
            "temperature": 0.5,
            "top_p": 0.9,
            "top_k": 40,
            "tools": [
                {"name": "get_weather", "description": "Current weather",
                 "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}},
                {"type": "web_search_20250305", "name": "web_search", "max_uses": 3}
            ],
            "tool_choice": {"type": "auto", "disable_parallel_tool_use": true},
            "thinking": {"type": "enabled", "budget_tokens": 2048},
            "service_tier": "standard_only",
            "container": "container_1",
            "output_config": {"effort": "low"}
        }),
    );
}

#[test]
fn tool_choices() {
    check(&ToolChoice::auto(), json!({"type": "auto"}));
    check(&ToolChoice::any(), json!({"type": "any"}));
    check(&ToolChoice::tool("f"), json!({"type": "tool", "name": "f"}));
    check(&ToolChoice::None, json!({"type": "none"}));
}

#[test]
fn thinking_configs() {
    check(
        &ThinkingConfig::Enabled {
            budget_tokens: 1024,
        },
        json!({"type": "enabled", "budget_tokens": 1024}),
    );
    check(&ThinkingConfig::Disabled, json!({"type": "disabled"}));
    let adaptive: ThinkingConfig =
        serde_json::from_value(json!({"type": "adaptive"})).expect("kept");
    check(&adaptive, json!({"type": "adaptive"}));
}

#[test]
fn image_and_document_blocks() {
    check(
        &ContentBlock::image_base64("image/png", "iVBORw0KGgo="),
        json!({"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}}),
    );
    check(
        &ContentBlock::Image(ImageBlock::new(ImageSource::Url {
            url: "https://x/a.png".into(),
        })),
        json!({"type": "image", "source": {"type": "url", "url": "https://x/a.png"}}),
    );
    check(
        &ContentBlock::Image(ImageBlock::new(ImageSource::File {
            file_id: "file_1".into(),
        })),
        json!({"type": "image", "source": {"type": "file", "file_id": "file_1"}}),
    );
    let doc = |source| {
        let mut document = DocumentBlock::new(source);
        document.title = Some("T".into());
        document.citations = Some(messages_types::CitationsConfig::new(true));
        ContentBlock::Document(document)
    };
    check(
        &doc(DocumentSource::Base64 {
            media_type: "application/pdf".into(),
            data: "JVBERi0=".into(),
        }),
        json!({"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0="},
               "title": "T", "citations": {"enabled": true}}),
    );
    check(
        &doc(DocumentSource::Text {
            media_type: "text/plain".into(),
            data: "Grass is green.".into(),
        }),
        json!({"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "Grass is green."},
               "title": "T", "citations": {"enabled": true}}),
    );
    check(
        &doc(DocumentSource::Url {
            url: "https://x/a.pdf".into(),
        }),
        json!({"type": "document", "source": {"type": "url", "url": "https://x/a.pdf"}, "title": "T", "citations": {"enabled": true}}),
    );
    check(
        &doc(DocumentSource::Content {
            content: vec![ContentBlock::text("a")].into(),
        }),
        json!({"type": "document", "source": {"type": "content", "content": [{"type": "text", "text": "a"}]},
               "title": "T", "citations": {"enabled": true}}),
    );
}

#[test]
fn tool_result_with_blocks_and_error() {
    check(
        &ContentBlock::ToolResult({
            let mut result = messages_types::ToolResultBlock::new("toolu_1");
            result.content = Some(vec![ContentBlock::text("boom")].into());
            result.is_error = Some(true);
            result
        }),
        json!({"type": "tool_result", "tool_use_id": "toolu_1", "content": [{"type": "text", "text": "boom"}], "is_error": true}),
    );
}

#[test]
fn count_tokens_request() {
    let req = MessageRequest::new("claude-haiku-4-5", 10)
        .system("S")
        .user("Hi")
        .temperature(1.0);
    check(
        &CountTokensRequest::from(&req),
        json!({"model": "claude-haiku-4-5", "system": "S", "messages": [{"role": "user", "content": "Hi"}]}),
    );
    check(
        &CountTokensRequest::new("m").user("x"),
        json!({"model": "m", "messages": [{"role": "user", "content": "x"}]}),
    );
}

#[test]
fn batch_create_params() {
    let params = BatchCreateParams::new(vec![
        BatchRequest::new(
            "req-1",
            MessageRequest::new("claude-haiku-4-5", 100).user("a"),
        ),
        BatchRequest::new(
            "req_2",
            MessageRequest::new("claude-haiku-4-5", 100).user("b"),
        ),
    ]);
    check(
        &params,
        json!({"requests": [
            {"custom_id": "req-1", "params": {"model": "claude-haiku-4-5", "max_tokens": 100, "messages": [{"role": "user", "content": "a"}]}},
            {"custom_id": "req_2", "params": {"model": "claude-haiku-4-5", "max_tokens": 100, "messages": [{"role": "user", "content": "b"}]}}
        ]}),
    );
    assert!(BatchRequest::custom_id_is_valid("req-1_A"));
    assert!(!BatchRequest::custom_id_is_valid(""));
    assert!(!BatchRequest::custom_id_is_valid("a b"));
    assert!(!BatchRequest::custom_id_is_valid(&"a".repeat(65)));
}

/// The constructors of the `#[non_exhaustive]` structs give the minimal wire
/// shape: required fields set, every optional field absent.
#[test]
fn constructors_give_the_minimal_wire_shape() {
    use messages_types::{
        ApiError, BatchResult, BatchResultLine, BuiltinTool, CustomTool, ErrorResponse, ErrorType,
        InputMessage, Role, ThinkingBlock, ToolResultBlock, ToolUseBlock, Usage,
    };
    check(
        &ErrorResponse::new(ApiError::new(ErrorType::Overloaded, "Overloaded"))
            .with_request_id(Some("req_1".into())),
        json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}, "request_id": "req_1"}),
    );
    check(
        &BatchResultLine::new("a", BatchResult::Canceled),
        json!({"custom_id": "a", "result": {"type": "canceled"}}),
    );
    check(
        &Usage::new(3, 2),
        json!({"input_tokens": 3, "output_tokens": 2}),
    );
    check(
        &ToolUseBlock::new("toolu_1", "f", json!({"a": 1})),
        json!({"id": "toolu_1", "name": "f", "input": {"a": 1}}),
    );
    check(
        &ToolResultBlock::new("toolu_1"),
        json!({"tool_use_id": "toolu_1"}),
    );
    check(
        &ThinkingBlock::new("hm", "sig"),
        json!({"thinking": "hm", "signature": "sig"}),
    );
    check(
        &InputMessage::new(Role::Assistant, "ok"),
        json!({"role": "assistant", "content": "ok"}),
    );
    check(
        &CustomTool::new("f", json!({"type": "object"})),
        json!({"name": "f", "input_schema": {"type": "object"}}),
    );
    check(
        &BuiltinTool::new("bash_20250124", "bash"),
        json!({"type": "bash_20250124", "name": "bash"}),
    );
    check(
        &TextBlock::new("t").with_cache_control(CacheControl::ephemeral_ttl("1h")),
        json!({"text": "t", "cache_control": {"type": "ephemeral", "ttl": "1h"}}),
    );
}
