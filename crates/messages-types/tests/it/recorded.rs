//! Every recorded stream decodes completely, every event.

use bytes::Bytes;
use messages_types::{
    ContentBlock, ContentBlockDelta, Message, StopReason, StreamEvent, decode_event,
    decode_event_generic,
};

use crate::support::{recorded_dir, split_sse};

/// A message accumulated from events, the way a streaming client does it.
#[derive(Debug, Default)]
struct Accumulated {
    message: Option<Message>,
    /// Per block: its start, the text appended (text, JSON or thinking), and
    /// the last signature.
    blocks: Vec<(ContentBlock, String, String)>,
    stopped: bool,
    events: usize,
}

impl Accumulated {
    fn apply(&mut self, event: StreamEvent) {
        self.events += 1;
        match event {
            StreamEvent::MessageStart(e) => self.message = Some(e.message),
            StreamEvent::ContentBlockStart(e) => {
                assert_eq!(e.index as usize, self.blocks.len(), "blocks start in order");
                self.blocks
                    .push((e.content_block, String::new(), String::new()));
            }
            StreamEvent::ContentBlockDelta(e) => {
                let block = &mut self.blocks[e.index as usize];
                match e.delta {
                    ContentBlockDelta::Text(d) => block.1.push_str(&d.text),
                    ContentBlockDelta::InputJson(d) => block.1.push_str(&d.partial_json),
                    ContentBlockDelta::Thinking(d) => block.1.push_str(&d.thinking),
                    ContentBlockDelta::Signature(d) => block.2 = d.signature.to_string(),
                    other => panic!("unexpected delta {other:?}"),
                }
            }
            StreamEvent::ContentBlockStop(_) | StreamEvent::Ping(_) => {}
            StreamEvent::MessageDelta(e) => {
                let m = self.message.as_mut().expect("message_start first");
                m.stop_reason = e.delta.stop_reason;
                m.stop_sequence = e.delta.stop_sequence;
                m.usage.update(&e.usage);
            }
            StreamEvent::MessageStop(_) => self.stopped = true,
            other => panic!("unexpected event {other:?}"),
        }
    }
}

fn decode_file(file: &str) -> Accumulated {
    let body = std::fs::read_to_string(recorded_dir().join(file)).expect("fixture");
    let mut acc = Accumulated::default();
    for ev in split_sse(&body) {
        let data = Bytes::from(ev.data.clone());
        let fast = decode_event(&ev.name, &data)
            .unwrap_or_else(|e| panic!("{file}: event {} failed: {e}", ev.name));
        let generic = decode_event_generic(ev.data.as_bytes()).expect("generic path");
        assert_eq!(fast, generic, "{file}: fast and generic paths differ");
        assert_eq!(
            fast.kind(),
            ev.name,
            "{file}: the event name equals the JSON type"
        );
        assert!(
            !matches!(fast, StreamEvent::Unknown(_)),
            "{file}: {} is known",
            ev.name
        );
        acc.apply(fast);
    }
    acc
}

#[test]
fn every_recorded_stream_decodes_completely() {
    let mut files = 0;
    for entry in std::fs::read_dir(recorded_dir()).expect("fixtures dir") {
        let path = entry.expect("dir entry").path();
        if path.extension().is_some_and(|e| e == "sse") {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .expect("utf-8 name");
            let acc = decode_file(name);
            assert!(acc.events >= 5, "{name}: only {} events", acc.events);
            files += 1;
        }
    }
    assert_eq!(files, 6, "all six recorded streams were read");
}

#[test]
fn text_sonnet45_final_content() {
    let acc = decode_file("text_sonnet45.sse");
    let m = acc.message.as_ref().expect("message");
    assert_eq!(m.id, "msg_013nnniYDrJDocdy5nrMU7cH");
    assert_eq!(m.model, "claude-sonnet-4-5-20250929");
    assert_eq!(acc.blocks.len(), 1);
    assert_eq!(acc.blocks[0].1, "[12345,67890]");
    assert_eq!(m.stop_reason, Some(StopReason::EndTurn));
    assert_eq!(m.usage.output_tokens, 10);
    assert_eq!(m.usage.input_tokens, Some(135));
    // A field the API added in 2026 is typed now.
    assert_eq!(m.usage.inference_geo.as_deref(), Some("not_available"));
    assert!(acc.stopped);
}

#[test]
fn text_and_tool_use_with_pings_final_content() {
    let acc = decode_file("text_and_tool_use_with_pings.sse");
    assert_eq!(
        acc.blocks[0].1,
        "I'll get the current weather in San Francisco for you in Fahrenheit."
    );
    let ContentBlock::ToolUse(tool) = &acc.blocks[1].0 else {
        panic!("block 1 is tool_use: {:?}", acc.blocks[1].0)
    };
    assert_eq!(tool.name, "get_weather");
    let input: serde_json::Value = serde_json::from_str(&acc.blocks[1].1).expect("complete JSON");
    assert_eq!(
        input,
        serde_json::json!({"city": "San Francisco", "units": "fahrenheit"})
    );
    let m = acc.message.as_ref().expect("message");
    assert_eq!(m.stop_reason, Some(StopReason::ToolUse));
    assert_eq!(m.usage.output_tokens, 89);
    assert!(acc.stopped);
}

#[test]
fn tool_use_no_trailing_newline_loses_only_the_unterminated_event() {
    let acc = decode_file("tool_use_no_trailing_newline.sse");
    // The final `message_stop` is not closed by a blank line: not dispatched.
    assert!(!acc.stopped);
    let ContentBlock::ToolUse(tool) = &acc.blocks[1].0 else {
        panic!("tool_use expected")
    };
    assert_eq!(tool.extra["caller"], serde_json::json!({"type": "direct"}));
    let input: serde_json::Value = serde_json::from_str(&acc.blocks[1].1).expect("complete JSON");
    assert_eq!(input, serde_json::json!({"location": "Paris"}));
    assert_eq!(
        acc.message.expect("message").stop_reason,
        Some(StopReason::ToolUse)
    );
}

#[test]
fn max_tokens_truncated_tool_json_is_reported_invalid() {
    let acc = decode_file("max_tokens_truncated_tool_json.sse");
    assert_eq!(
        acc.message.as_ref().expect("message").stop_reason,
        Some(StopReason::MaxTokens)
    );
    assert_eq!(acc.blocks.len(), 2);
    assert!(
        acc.blocks[1]
            .1
            .starts_with("{\"filename\": \"taxes.txt\", \"lines_of_text\": [\n")
    );
    assert!(serde_json::from_str::<serde_json::Value>(&acc.blocks[1].1).is_err());
}

#[test]
fn thinking_then_refusal_final_content() {
    let acc = decode_file("thinking_then_refusal.sse");
    assert!(matches!(acc.blocks[0].0, ContentBlock::Thinking(_)));
    assert_eq!(acc.blocks[0].1, "Simple educational question. Benign.");
    assert_eq!(acc.blocks[0].2, "sig-thinking-a");
    assert_eq!(acc.blocks[1].1, "Hi");
    let m = acc.message.expect("message");
    assert_eq!(m.stop_reason, Some(StopReason::Refusal));
    assert_eq!(m.usage.output_tokens, 106);
    let details = m.usage.output_tokens_details.as_ref().expect("details");
    assert_eq!(details.thinking_tokens, Some(67));
}

#[test]
fn server_tool_web_search_blocks_arrive_whole() {
    let body = std::fs::read_to_string(recorded_dir().join("server_tool_web_search.sse"))
        .expect("fixture");
    let events = split_sse(&body);
    let start = events
        .iter()
        .find(|e| e.data.contains("web_search_tool_result"))
        .expect("result block");
    let ev = decode_event(&start.name, &Bytes::from(start.data.clone())).expect("decodes");
    let StreamEvent::ContentBlockStart(s) = ev else {
        panic!("content_block_start")
    };
    let ContentBlock::WebSearchToolResult(r) = s.content_block else {
        panic!("web search result")
    };
    let messages_types::WebSearchToolResultContent::Results(results) = &r.content else {
        panic!("results")
    };
    assert_eq!(results.len(), 2);
    assert_eq!(results[1].page_age.as_deref(), Some("1 week ago"));
    assert_eq!(r.extra["caller"], serde_json::json!({"type": "direct"}));

    let acc = decode_file("server_tool_web_search.sse");
    assert!(matches!(acc.blocks[0].0, ContentBlock::ServerToolUse(_)));
    let query: serde_json::Value = serde_json::from_str(&acc.blocks[0].1).expect("query JSON");
    assert_eq!(query["query"], "solar eclipse viewing safety news 2026");
    assert_eq!(
        acc.blocks[2].1,
        "Here's a summary of this year's solar eclipses and how"
    );
}

#[test]
fn retry_trace_requests_and_error_bodies_decode() {
    let trace = std::fs::read_to_string(recorded_dir().join("retry_trace_429x2_then_stream.json"))
        .expect("fixture");
    let trace: Vec<serde_json::Value> = serde_json::from_str(&trace).expect("trace JSON");
    let mut errors = 0;
    for exchange in &trace {
        // The real request body round-trips exactly, with `output_config`
        // typed.
        let body = &exchange["request"]["body"];
        let req: messages_types::MessageRequest =
            serde_json::from_value(body.clone()).expect("request");
        assert!(req.output_config.is_some(), "{body}");
        assert_eq!(&serde_json::to_value(&req).expect("serialize"), body);
        if exchange["response"]["status_code"] == 429 {
            let e: messages_types::ErrorResponse =
                serde_json::from_value(exchange["response"]["body"].clone()).expect("error body");
            assert_eq!(e.error.kind, messages_types::ErrorType::RateLimit);
            assert!(
                e.request_id
                    .as_deref()
                    .is_some_and(|id| id.starts_with("req_"))
            );
            errors += 1;
        }
    }
    assert_eq!(errors, 2);
}
