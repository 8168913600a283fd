//! Every recorded stream in testdata/recorded, at several chunk sizes.

use bytes::Bytes;
use sse_core::{Event, Finish, Parser};

fn recorded(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../../testdata/recorded/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

fn parse(input: &[u8], chunk: usize) -> (Vec<Event>, Finish) {
    let mut parser = Parser::new();
    let mut events = Vec::new();
    for c in input.chunks(chunk) {
        parser.push(Bytes::copy_from_slice(c));
        while let Some(e) = parser.next_event().unwrap() {
            events.push(e.to_event());
        }
    }
    (events, parser.finish())
}

/// Parses `name` at several chunk sizes, checks they agree, that every
/// event's name equals its JSON `type`, and returns the events.
fn check(name: &str, count: usize, finish: Finish, first: &str, last: &str) -> Vec<Event> {
    let input = recorded(name);
    let (events, fin) = parse(&input, input.len());
    assert_eq!(events.len(), count, "{name}: event count");
    assert_eq!(fin, finish, "{name}: finish");
    assert_eq!(events[0].event(), first);
    assert_eq!(events[events.len() - 1].event(), last);
    for e in &events {
        let json: serde_json::Value = serde_json::from_str(e.data())
            .unwrap_or_else(|err| panic!("{name}: data of {} is not JSON: {err}", e.event()));
        assert_eq!(json["type"], e.event(), "{name}: name equals JSON type");
        assert_eq!(e.id(), "");
        assert_eq!(e.retry(), None);
    }
    for size in [1, 2, 3, 7, 64, 1460, 16 * 1024] {
        assert_eq!(
            parse(&input, size),
            (events.clone(), finish),
            "{name} at chunk size {size}"
        );
    }
    events
}

fn text_of(events: &[Event]) -> String {
    events
        .iter()
        .filter(|e| e.event() == "content_block_delta")
        .filter_map(|e| {
            let v: serde_json::Value = serde_json::from_str(e.data()).unwrap();
            v["delta"]["text"].as_str().map(str::to_owned)
        })
        .collect()
}

#[test]
fn text_sonnet45() {
    let events = check(
        "text_sonnet45.sse",
        10,
        Finish::Clean,
        "message_start",
        "message_stop",
    );
    assert_eq!(text_of(&events), "[12345,67890]");
    assert_eq!(events.iter().filter(|e| e.event() == "ping").count(), 1);
}

#[test]
fn text_and_tool_use_with_pings() {
    let events = check(
        "text_and_tool_use_with_pings.sse",
        24,
        Finish::Clean,
        "message_start",
        "message_stop",
    );
    assert!(events.iter().any(|e| e.data().contains("input_json_delta")));
    assert_eq!(events.iter().filter(|e| e.event() == "ping").count(), 1);
}

#[test]
fn server_tool_web_search() {
    check(
        "server_tool_web_search.sse",
        18,
        Finish::Clean,
        "message_start",
        "message_stop",
    );
}

#[test]
fn thinking_then_refusal() {
    let events = check(
        "thinking_then_refusal.sse",
        11,
        Finish::Clean,
        "message_start",
        "message_stop",
    );
    assert!(events.iter().any(|e| e.data().contains("signature_delta")));
    assert!(events.iter().any(|e| e.data().contains("\"refusal\"")));
}

#[test]
fn tool_use_no_trailing_newline_is_truncated() {
    // The final message_stop is not closed by a blank line: not dispatched.
    check(
        "tool_use_no_trailing_newline.sse",
        14,
        Finish::Unterminated,
        "message_start",
        "message_delta",
    );
}

#[test]
fn max_tokens_truncated_tool_json_is_truncated() {
    let events = check(
        "max_tokens_truncated_tool_json.sse",
        15,
        Finish::Unterminated,
        "message_start",
        "message_delta",
    );
    assert!(events.last().unwrap().data().contains("max_tokens"));
}
