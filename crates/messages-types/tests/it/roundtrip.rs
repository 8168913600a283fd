//! Round trips: values through JSON, and raw JSON with unknown types.

use messages_types::{
    BatchResult, BatchResultLine, Citation, ContentBlock, ContentBlockDelta, DocumentSource,
    ErrorResponse, ErrorType, ImageSource, InputMessage, Message, MessageBatch, MessageRequest,
    ProcessingStatus, Role, StopReason, StreamEvent, System, TextBlock, ThinkingConfig, Tool,
    ToolChoice, ToolResultBlock, ToolResultContent, ToolUseBlock, Usage,
};
use proptest::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::support::{json_value, unknown_object};

fn value_round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(v: &T) {
    let json = serde_json::to_string(v).expect("serialize");
    let back: T = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"));
    assert_eq!(&back, v, "{json}");
}

fn raw_round_trip<T: Serialize + DeserializeOwned + std::fmt::Debug>(raw: &Value) -> T {
    let v: T = serde_json::from_value(raw.clone()).unwrap_or_else(|e| panic!("{e}: {raw}"));
    assert_eq!(&serde_json::to_value(&v).expect("serialize"), raw, "{v:?}");
    v
}

fn content_block() -> impl Strategy<Value = ContentBlock> {
    let leaf = prop_oneof![
        any::<String>().prop_map(ContentBlock::text),
        (any::<String>(), any::<String>(), json_value()).prop_map(|(id, name, input)| {
            ContentBlock::ToolUse(ToolUseBlock::new(id, name, input))
        }),
        (any::<String>(), any::<String>()).prop_map(|(m, d)| ContentBlock::image_base64(m, d)),
        "[a-z]{1,10}".prop_map(|url| {
            let mut image = messages_types::ImageBlock::new(ImageSource::Url { url });
            image.cache_control = Some(messages_types::CacheControl::ephemeral());
            ContentBlock::Image(image)
        }),
        (any::<String>(), any::<String>()).prop_map(|(thinking, signature)| {
            ContentBlock::Thinking(messages_types::ThinkingBlock::new(thinking, signature))
        }),
        unknown_object().prop_map(ContentBlock::Unknown),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        (
            any::<String>(),
            prop::collection::vec(inner, 0..3),
            prop::option::of(any::<bool>()),
        )
            .prop_map(|(id, blocks, is_error)| {
                let mut result = ToolResultBlock::new(id);
                result.content = Some(ToolResultContent::Blocks(blocks));
                result.is_error = is_error;
                ContentBlock::ToolResult(result)
            })
    })
}

fn message() -> impl Strategy<Value = Message> {
    (
        any::<String>(),
        prop::collection::vec(content_block(), 0..4),
        prop::option::of(prop_oneof![
            Just(StopReason::EndTurn),
            Just(StopReason::PauseTurn),
            "[a-z]{3}".prop_map(|s| StopReason::from_wire(&s))
        ]),
        any::<u32>(),
    )
        .prop_map(|(id, content, stop_reason, out)| {
            let mut m = Message::new(id, "claude-test");
            m.content = content;
            m.stop_reason = stop_reason;
            m.usage = Usage::default();
            m.usage.input_tokens = Some(3);
            m.usage.output_tokens = u64::from(out);
            m
        })
}

fn request() -> impl Strategy<Value = MessageRequest> {
    (
        "[a-z0-9-]{1,20}",
        any::<u32>(),
        prop::collection::vec(
            (
                any::<bool>(),
                any::<String>(),
                prop::collection::vec(content_block(), 0..3),
            ),
            0..4,
        ),
        prop::option::of(any::<String>()),
        prop::option::of(0u32..100),
        prop::option::of(any::<u32>()),
        prop::option::of(prop_oneof![
            Just(ToolChoice::auto()),
            Just(ToolChoice::any()),
            "[a-z]{1,8}".prop_map(ToolChoice::tool),
            Just(ToolChoice::None),
        ]),
        prop::option::of(prop_oneof![
            (1024u32..4096).prop_map(|budget_tokens| ThinkingConfig::Enabled { budget_tokens }),
            Just(ThinkingConfig::Disabled)
        ]),
        prop::option::of(json_value()),
    )
        .prop_map(
            |(model, max, turns, system, temp, top_k, choice, thinking, extra)| {
                let mut r = MessageRequest::new(model, max);
                for (user, text, blocks) in turns {
                    let content: messages_types::MessageContent = if blocks.is_empty() {
                        text.into()
                    } else {
                        blocks.into()
                    };
                    r = r.message(if user {
                        InputMessage::user(content)
                    } else {
                        InputMessage::assistant(content)
                    });
                }
                if let Some(s) = system {
                    r = r.system(s);
                }
                if let Some(t) = temp {
                    r = r.temperature(f64::from(t) / 100.0);
                }
                if let Some(k) = top_k {
                    r = r.top_k(k);
                }
                if let Some(c) = choice {
                    r = r
                        .tool_choice(c)
                        .tool(Tool::custom("t", json!({"type": "object"})));
                }
                r.thinking = thinking;
                if let Some(e) = extra {
                    r = r.extra("future_param", e);
                }
                r
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn content_blocks_round_trip(b in content_block()) {
        value_round_trip(&b);
    }

    #[test]
    fn messages_round_trip(m in message()) {
        value_round_trip(&m);
    }

    #[test]
    fn requests_round_trip(r in request()) {
        value_round_trip(&r);
    }

    #[test]
    fn batch_result_lines_round_trip(m in message(), id in "[A-Za-z0-9_-]{1,64}", which in 0..5u8, unknown in unknown_object()) {
        let result = match which {
            0 => BatchResult::Succeeded { message: m },
            1 => BatchResult::Errored {
                error: ErrorResponse::new(messages_types::ApiError::new(ErrorType::Overloaded, "Overloaded")),
            },
            2 => BatchResult::Canceled,
            3 => BatchResult::Expired,
            _ => BatchResult::Unknown(unknown),
        };
        value_round_trip(&BatchResultLine::new(id, result));
    }

    #[test]
    fn unknown_types_keep_their_json(raw in unknown_object()) {
        prop_assert!(matches!(raw_round_trip::<ContentBlock>(&raw), ContentBlock::Unknown(_)));
        prop_assert!(matches!(raw_round_trip::<ContentBlockDelta>(&raw), ContentBlockDelta::Unknown(_)));
        prop_assert!(matches!(raw_round_trip::<StreamEvent>(&raw), StreamEvent::Unknown(_)));
        prop_assert!(matches!(raw_round_trip::<Tool>(&raw), Tool::Unknown(_)));
        prop_assert!(matches!(raw_round_trip::<ToolChoice>(&raw), ToolChoice::Unknown(_)));
        prop_assert!(matches!(raw_round_trip::<ThinkingConfig>(&raw), ThinkingConfig::Unknown(_)));
        prop_assert!(matches!(raw_round_trip::<BatchResult>(&raw), BatchResult::Unknown(_)));
        prop_assert!(matches!(raw_round_trip::<Citation>(&raw), Citation::Unknown(_)));
        prop_assert!(matches!(raw_round_trip::<ImageSource>(&raw), ImageSource::Unknown(_)));
        prop_assert!(matches!(raw_round_trip::<DocumentSource>(&raw), DocumentSource::Unknown(_)));
    }

    #[test]
    fn unknown_strings_are_kept(s in "x_[a-z_]{1,12}") {
        let raw = Value::String(s.clone());
        prop_assert_eq!(raw_round_trip::<StopReason>(&raw), StopReason::Unknown(s.clone()));
        prop_assert_eq!(raw_round_trip::<ProcessingStatus>(&raw), ProcessingStatus::Unknown(s.clone()));
        prop_assert_eq!(raw_round_trip::<ErrorType>(&raw), ErrorType::Unknown(s.clone()));
        prop_assert_eq!(raw_round_trip::<Role>(&raw), Role::Unknown(s));
    }
}

#[test]
fn a_message_with_new_blocks_and_fields_keeps_them() {
    let raw = json!({
        "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-x",
        "content": [
            {"type": "text", "text": "Hi", "citations": [
                {"type": "char_location", "cited_text": "a", "document_index": 0, "document_title": "T",
                 "start_char_index": 0, "end_char_index": 1},
                {"type": "future_location", "where": [1, 2]}
            ]},
            {"type": "code_execution_tool_result", "tool_use_id": "x", "content": {"stdout": ""}},
            {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}, "caller": {"type": "direct"}},
            {"type": "web_search_tool_result", "tool_use_id": "s", "content": {"type": "web_search_tool_result_error", "error_code": "max_uses_exceeded"}},
            {"type": "future_tool_result", "tool_use_id": "f", "content": [1, {"x": null}]}
        ],
        "stop_reason": "brand_new_reason", "stop_sequence": null,
        "stop_details": {"type": "refusal", "category": null, "explanation": null},
        "container": {"id": "c", "expires_at": "2026-01-01T00:00:00Z"},
        "usage": {"input_tokens": 1, "output_tokens": 2, "cache_creation_input_tokens": 0,
                  "cache_read_input_tokens": 0, "server_tool_use": {"web_search_requests": 1, "new_tool_requests": 4},
                  "service_tier": "standard", "inference_geo": "global"}
    });
    let m: Message = raw_round_trip(&raw);
    assert_eq!(
        m.stop_reason,
        Some(StopReason::Unknown("brand_new_reason".into()))
    );
    assert!(matches!(
        m.content[1],
        ContentBlock::CodeExecutionToolResult(_)
    ));
    assert!(matches!(m.content[4], ContentBlock::Unknown(_)));
    assert_eq!(m.container.as_ref().map(|c| c.id.as_str()), Some("c"));
    assert_eq!(m.usage.inference_geo.as_deref(), Some("global"));
    let details = m.stop_details().expect("typed stop details");
    assert_eq!(details.kind, "refusal");
    assert_eq!(details.category, None);
    assert_eq!(
        m.usage
            .server_tool_use
            .as_ref()
            .and_then(|s| s.web_search_requests),
        Some(1)
    );
}

#[test]
fn batches_and_pages_keep_their_json() {
    let batch = json!({
        "id": "msgbatch_1", "type": "message_batch", "processing_status": "in_progress",
        "request_counts": {"processing": 2, "succeeded": 1, "errored": 0, "canceled": 0, "expired": 0},
        "ended_at": null, "created_at": "2025-01-01T00:00:00Z", "expires_at": "2025-01-02T00:00:00Z",
        "archived_at": null, "cancel_initiated_at": null, "results_url": null
    });
    let b: MessageBatch = raw_round_trip(&batch);
    assert_eq!(b.processing_status, ProcessingStatus::InProgress);
    let page = json!({"data": [batch], "has_more": true, "first_id": "msgbatch_1", "last_id": "msgbatch_1"});
    let p: messages_types::Page<MessageBatch> = raw_round_trip(&page);
    assert!(p.has_more);
    let deleted = json!({"id": "msgbatch_1", "type": "message_batch_deleted"});
    raw_round_trip::<messages_types::DeletedMessageBatch>(&deleted);
    let model = json!({"type": "model", "id": "claude-x", "display_name": "Claude X", "created_at": "2025-02-19T00:00:00Z"});
    raw_round_trip::<messages_types::ModelInfo>(&model);
    let errored = json!({"custom_id": "a", "result": {"type": "errored", "error": {"type": "error",
        "error": {"type": "invalid_request_error", "message": "bad"}, "request_id": "req_1"}}});
    raw_round_trip::<BatchResultLine>(&errored);
}

#[test]
fn system_blocks_keep_their_type() {
    let raw = json!([{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral", "ttl": "1h"}}]);
    let s: System = raw_round_trip(&raw);
    let System::Blocks(b) = s else {
        panic!("blocks")
    };
    assert_eq!(
        b[0],
        TextBlock::new("Be brief.")
            .with_cache_control(messages_types::CacheControl::ephemeral_ttl("1h"))
    );
    let bad = serde_json::from_value::<System>(
        json!([{"type": "image", "source": {"type": "url", "url": "u"}}]),
    );
    assert!(bad.unwrap_err().to_string().contains("`image`"));
    let _ = Role::User;
}
