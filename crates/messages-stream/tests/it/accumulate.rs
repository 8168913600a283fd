//! The accumulator on hand-written event sequences: the rules and every
//! kind of inconsistent input.

use bytes::Bytes;
use messages_stream::{Accumulator, Change, Error};
use messages_types::{ContentBlock, StreamEvent, decode_event};

fn ev(json: &str) -> StreamEvent {
    let v: serde_json::Value = serde_json::from_str(json).expect("test JSON");
    let name = v["type"].as_str().expect("type").to_owned();
    decode_event(&name, &Bytes::from(json.to_owned())).expect("decodes")
}

const START: &str = r#"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[],"stop_reason":null,"usage":{"input_tokens":10,"output_tokens":1,"cache_read_input_tokens":4}}}"#;

fn run(events: &[&str]) -> (Accumulator, Result<(), Error>) {
    let mut acc = Accumulator::new();
    for e in events {
        if let Err(err) = acc.apply(&ev(e)) {
            return (acc, Err(err));
        }
    }
    (acc, Ok(()))
}

fn protocol_error(events: &[&str], needle: &str, at: u64) {
    let (_, r) = run(events);
    let err = r.expect_err("inconsistent");
    assert!(err.is_protocol(), "{err:?}");
    assert!(err.to_string().contains(needle), "{err}");
    assert_eq!(err.event_number(), Some(at), "{err}");
}

#[test]
fn usage_is_overwritten_and_signature_set() {
    let (acc, r) = run(&[
        START,
        r#"{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}"#,
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"a"}}"#,
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"b"}}"#,
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"s1"}}"#,
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"s2"}}"#,
        r#"{"type":"content_block_stop","index":0}"#,
        r#"{"type":"content_block_start","index":1,"content_block":{"type":"redacted_thinking","data":"xyz"}}"#,
        r#"{"type":"content_block_stop","index":1}"#,
        r#"{"type":"content_block_start","index":2,"content_block":{"type":"hologram","beams":3}}"#,
        r#"{"type":"content_block_delta","index":2,"delta":{"type":"beam_delta","beam":1}}"#,
        r#"{"type":"content_block_stop","index":2}"#,
        r#"{"type":"content_block_start","index":3,"content_block":{"type":"text","text":""}}"#,
        r#"{"type":"content_block_delta","index":3,"delta":{"type":"citations_delta","citation":{"type":"web_search_result_location","url":"https://a.example","title":"A","encrypted_index":"e1","cited_text":"x"}}}"#,
        r#"{"type":"content_block_delta","index":3,"delta":{"type":"text_delta","text":"cited"}}"#,
        r#"{"type":"content_block_delta","index":3,"delta":{"type":"citations_delta","citation":{"type":"web_search_result_location","url":"https://b.example","title":"B","encrypted_index":"e2","cited_text":"y"}}}"#,
        r#"{"type":"content_block_stop","index":3}"#,
        r#"{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null,"stop_details":{"x":1}},"usage":{"output_tokens":7}}"#,
        r#"{"type":"message_delta","delta":{},"usage":{"output_tokens":9}}"#,
        r#"{"type":"future_event","x":1}"#,
        r#"{"type":"ping"}"#,
        r#"{"type":"message_stop"}"#,
        r#"{"type":"ping"}"#,
    ]);
    r.expect("consistent");
    let m = acc.finish().expect("complete");
    assert_eq!(m.usage.output_tokens, 9, "overwritten, not added");
    assert_eq!(m.usage.input_tokens, Some(10), "kept from message_start");
    assert_eq!(m.usage.cache_read_input_tokens, Some(4));
    assert_eq!(
        m.stop_details.as_ref().unwrap()["x"],
        1,
        "kept whatever its shape"
    );
    match &m.content[0] {
        ContentBlock::Thinking(t) => {
            assert_eq!(t.thinking, "ab");
            assert_eq!(t.signature, "s2", "set, not appended");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(&m.content[1], ContentBlock::RedactedThinking(r) if r.data == "xyz"));
    assert!(
        matches!(&m.content[2], ContentBlock::Unknown(v) if v["beams"] == 3),
        "unknown block kept"
    );
    match &m.content[3] {
        ContentBlock::Text(t) => {
            assert_eq!(t.text, "cited");
            assert_eq!(
                t.citations.as_ref().map(Vec::len),
                Some(2),
                "citations added in order"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn changes_name_the_block() {
    let mut acc = Accumulator::new();
    assert_eq!(acc.apply(&ev(START)).expect("ok"), Change::MessageStart);
    let start = r#"{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"t1","name":"f","input":{}}}"#;
    assert_eq!(acc.apply(&ev(start)).expect("ok"), Change::BlockStart(0));
    let d = r#"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"a\": [1, 2"}}"#;
    assert_eq!(acc.apply(&ev(d)).expect("ok"), Change::BlockDelta(0));
    assert_eq!(acc.partial_input(0).map(|p| p.raw()), Some("{\"a\": [1, 2"));
    let d = r#"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"]}"}}"#;
    acc.apply(&ev(d)).expect("ok");
    assert_eq!(
        acc.apply(&ev(r#"{"type":"content_block_stop","index":0}"#))
            .expect("ok"),
        Change::BlockStop(0)
    );
    match &acc.message().expect("message").content[0] {
        ContentBlock::ToolUse(t) => assert_eq!(t.input, serde_json::json!({"a": [1, 2]})),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_tool_use_without_deltas_keeps_its_start_input() {
    let (acc, r) = run(&[
        START,
        r#"{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"t1","name":"f","input":{"x":1}}}"#,
        r#"{"type":"content_block_stop","index":0}"#,
    ]);
    r.expect("ok");
    match &acc.message().expect("message").content[0] {
        ContentBlock::ToolUse(t) => assert_eq!(t.input, serde_json::json!({"x": 1})),
        other => panic!("{other:?}"),
    }
}

#[test]
fn invalid_tool_json_names_the_tool_and_keeps_the_raw_text() {
    let (_, r) = run(&[
        START,
        r#"{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_9","name":"lookup","input":{}}}"#,
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"q\": tru"}}"#,
        r#"{"type":"content_block_stop","index":0}"#,
    ]);
    let err = r.expect_err("invalid JSON");
    assert!(err.is_tool_input());
    let msg = err.to_string();
    assert!(
        msg.contains("lookup") && msg.contains("toolu_9") && msg.contains("block 0"),
        "{msg}"
    );
    assert_eq!(err.raw_tool_input(), Some("{\"q\": tru"));
}

#[test]
fn out_of_order_events_are_errors_naming_the_event() {
    let block =
        r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#;
    let text =
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"}}"#;
    let stop = r#"{"type":"content_block_stop","index":0}"#;
    protocol_error(&[block], "before `message_start`", 1);
    protocol_error(&[START, START], "second `message_start`", 2);
    protocol_error(&[START, text], "before its `content_block_start`", 2);
    protocol_error(
        &[
            START,
            r#"{"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}"#,
        ],
        "index 1, expected index 0",
        2,
    );
    protocol_error(&[START, block, block], "index 0, expected index 1", 3);
    protocol_error(&[START, block, stop, text], "stopped block 0", 4);
    protocol_error(&[START, block, stop, stop], "stopped block 0", 4);
    protocol_error(&[START, stop], "before its `content_block_start`", 2);
    protocol_error(
        &[
            START,
            block,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{"}}"#,
        ],
        "`input_json_delta` for block 0, which is a `text` block",
        3,
    );
    protocol_error(
        &[START, r#"{"type":"message_stop"}"#, block],
        "after `message_stop`",
        3,
    );
}

#[test]
fn an_error_event_is_an_api_error() {
    let (acc, r) = run(&[
        START,
        r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
    ]);
    let err = r.expect_err("error event");
    assert!(err.is_api());
    assert_eq!(
        err.api_error().map(|e| e.message.as_str()),
        Some("Overloaded")
    );
    assert!(acc.message().is_some());
}

#[test]
fn finish_without_message_stop_is_incomplete() {
    let (acc, r) = run(&[
        START,
        r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":"Hi"}}"#,
    ]);
    r.expect("ok");
    let err = acc.finish().expect_err("incomplete");
    assert!(err.is_incomplete());
    assert_eq!(err.partial().map(|m| m.text()), Some("Hi".to_owned()));
    let err = Accumulator::new().finish().expect_err("nothing at all");
    assert!(err.is_incomplete() && err.partial().is_none());
}
