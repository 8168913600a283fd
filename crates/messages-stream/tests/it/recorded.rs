//! Every recorded stream, replayed verbatim by a local server, gives the
//! expected final message or the expected error.

use futures_util::StreamExt;
use messages_stream::{MessageStream, StreamOptions};
use messages_types::{ContentBlock, Message, StopReason, StreamEvent};

use crate::support::*;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../../testdata/recorded/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Replays `name` and returns the typed events and the final result.
async fn replay(name: &str) -> (Vec<StreamEvent>, Result<Message, messages_stream::Error>) {
    let emu = builder()
        .replay(fixture(name))
        .start()
        .await
        .expect("emulator");
    let t = transport(&emu);
    let mut stream = MessageStream::open(&t, &request("replay", 1024), StreamOptions::new())
        .await
        .expect("opens");
    let mut events = Vec::new();
    while let Some(event) = stream.next().await {
        match event {
            Ok(e) => events.push(e),
            Err(e) => return (events, Err(e)),
        }
    }
    (events, stream.final_message().await)
}

#[tokio::test]
async fn text_sonnet45() {
    let (events, message) = replay("text_sonnet45.sse").await;
    let message = message.expect("complete");
    assert_eq!(message.stop_reason, Some(StopReason::EndTurn));
    let deltas: String = events
        .iter()
        .filter_map(|e| match e {
            StreamEvent::ContentBlockDelta(d) => match &d.delta {
                messages_types::stream::ContentBlockDelta::Text(t) => Some(t.text.as_str()),
                _ => None,
            },
            _ => None,
        })
        .collect();
    assert_eq!(message.text(), deltas);
    assert!(!deltas.is_empty());
    assert!(message.usage.output_tokens > 0);
}

#[tokio::test]
async fn text_and_tool_use_with_pings() {
    let (events, message) = replay("text_and_tool_use_with_pings.sse").await;
    let message = message.expect("complete");
    assert!(events.iter().any(|e| matches!(e, StreamEvent::Ping(_))));
    assert_eq!(message.stop_reason, Some(StopReason::ToolUse));
    let tool = message
        .content
        .iter()
        .find_map(|b| match b {
            ContentBlock::ToolUse(t) => Some(t),
            _ => None,
        })
        .expect("tool_use block");
    assert!(
        tool.input.is_object() && !tool.input.as_object().is_some_and(|o| o.is_empty()),
        "{:?}",
        tool.input
    );
    assert!(!message.text().is_empty());
}

#[tokio::test]
async fn tool_use_no_trailing_newline_reports_truncation() {
    let (_, message) = replay("tool_use_no_trailing_newline.sse").await;
    let err = message.expect_err("message_stop was never dispatched");
    assert!(err.is_incomplete(), "{err:?}");
    assert!(err.to_string().contains("inside an event"), "{err}");
    let partial = err.partial().expect("partial");
    // Everything before the undispatched `message_stop` is kept, tool input parsed.
    assert_eq!(partial.stop_reason, Some(StopReason::ToolUse));
    assert!(
        partial
            .content
            .iter()
            .any(|b| matches!(b, ContentBlock::ToolUse(t) if t.input.is_object()))
    );
}

#[tokio::test]
async fn max_tokens_truncated_tool_json_keeps_the_best_prefix() {
    // The recording also lacks the final blank line, so its `message_stop`
    // is never dispatched: the stream is incomplete, and the partial message
    // carries the cut tool input as the official SDKs give it.
    let (_, message) = replay("max_tokens_truncated_tool_json.sse").await;
    let err = message.expect_err("the body ended inside an event");
    assert!(err.is_incomplete(), "{err:?}");
    let partial = err.partial().expect("partial");
    assert_eq!(partial.stop_reason, Some(StopReason::MaxTokens));
    assert_eq!(partial.usage.output_tokens, 124);
    assert!(partial.text().ends_with("Let me do that for you now."));
    let ContentBlock::ToolUse(tool) = &partial.content[1] else {
        panic!("{:?}", partial.content[1]);
    };
    assert!(!tool.is_input_complete());
    let raw = tool.incomplete_input.as_deref().expect("raw text kept");
    assert!(raw.starts_with("{\"filename\": \"taxes.txt\""), "{raw}");
    assert!(raw.ends_with("\n\"Filing taxes"), "{raw}");
    assert_eq!(tool.input["filename"], "taxes.txt");
    let lines = tool.input["lines_of_text"]
        .as_array()
        .expect("array prefix");
    assert_eq!(
        lines[0],
        "# COMPREHENSIVE TAX GUIDE FOR INDIVIDUALS WITH MULTIPLE W-2s"
    );
    assert_eq!(
        lines.last().unwrap(),
        "Filing taxes",
        "the open string's prefix"
    );
}

#[tokio::test]
async fn server_tool_web_search() {
    let (_, message) = replay("server_tool_web_search.sse").await;
    let message = message.expect("complete");
    let kinds: Vec<&str> = message.content.iter().map(ContentBlock::kind).collect();
    assert!(kinds.contains(&"server_tool_use"), "{kinds:?}");
    assert!(kinds.contains(&"web_search_tool_result"), "{kinds:?}");
    let server = message.content.iter().find_map(|b| match b {
        ContentBlock::ServerToolUse(s) => Some(s),
        _ => None,
    });
    assert!(
        server.is_some_and(|s| s.input.get("query").is_some()),
        "{server:?}"
    );
    assert!(!message.text().is_empty());
    // The final `message_delta` overwrote the counts, unknown usage fields kept.
    assert_eq!(message.usage.output_tokens, 106);
    assert_eq!(message.usage.input_tokens, Some(28));
    assert!(message.usage.iterations.is_some());
}

#[tokio::test]
async fn thinking_then_refusal() {
    let (_, message) = replay("thinking_then_refusal.sse").await;
    let message = message.expect("complete");
    assert_eq!(message.stop_reason, Some(StopReason::Refusal));
    match &message.content[0] {
        ContentBlock::Thinking(t) => {
            assert!(!t.thinking.is_empty());
            assert!(!t.signature.is_empty());
        }
        other => panic!("{other:?}"),
    }
}
