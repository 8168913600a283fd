//! Bad input gives a clear error: event type, JSON path, excerpt. Never a panic.

use bytes::Bytes;
use messages_types::{decode_batch_result_line, decode_event, decode_json, decode_message};

fn event_err(name: &str, data: &str) -> messages_types::DecodeError {
    decode_event(name, &Bytes::from(data.to_owned())).expect_err("must fail")
}

#[test]
fn wrong_type_names_path_and_excerpt() {
    let e = event_err(
        "content_block_delta",
        r#"{"type":"content_block_delta","index":"zero","delta":{"type":"text_delta","text":"a"}}"#,
    );
    assert_eq!(e.event_type(), "content_block_delta");
    assert_eq!(e.path(), "index");
    assert!(e.is_data());
    assert!(e.message().contains("invalid type"), "{}", e.message());
    assert!(
        e.excerpt().contains("\"index\":\"zero\""),
        "{}",
        e.excerpt()
    );
    let text = e.to_string();
    assert!(
        text.contains("content_block_delta") && text.contains("index"),
        "{text}"
    );
}

#[test]
fn missing_field_inside_a_delta() {
    let e = event_err(
        "content_block_delta",
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta"}}"#,
    );
    assert_eq!(e.path(), "delta");
    assert!(
        e.message().contains("missing field `text`"),
        "{}",
        e.message()
    );
    assert!(e.message().contains("text_delta"), "{}", e.message());
}

#[test]
fn nested_path_in_message_start() {
    let e = event_err(
        "message_start",
        r#"{"type":"message_start","message":{"id":"m","type":"message","role":"assistant","model":"x","content":[],"stop_reason":null,"usage":{"input_tokens":1,"output_tokens":-1}}}"#,
    );
    assert_eq!(e.event_type(), "message_start");
    assert_eq!(e.path(), "message.usage.output_tokens");
}

#[test]
fn syntax_error_excerpt_points_at_the_error() {
    let e = event_err(
        "message_delta",
        r#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":5]}"#,
    );
    assert_eq!(e.event_type(), "message_delta");
    assert!(e.is_syntax());
    assert_eq!(e.path(), "usage");
    assert!(e.excerpt().contains("5]"), "{}", e.excerpt());
}

#[test]
fn truncated_event_uses_the_sse_name() {
    let e = event_err(
        "content_block_delta",
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_de"#,
    );
    assert!(e.is_eof());
    assert_eq!(e.event_type(), "content_block_delta");
    assert!(e.excerpt().ends_with("text_de"), "{}", e.excerpt());
}

#[test]
fn missing_or_bad_type() {
    let e = event_err("ping", r#"{"x":1}"#);
    assert_eq!(e.event_type(), "ping");
    assert!(
        e.message().contains("missing field `type`"),
        "{}",
        e.message()
    );
    let e = event_err("ping", r#"{"type":5}"#);
    assert!(e.message().contains("must be a string"), "{}", e.message());
    let e = event_err("ping", "[]");
    assert!(e.message().contains("JSON object"), "{}", e.message());
}

#[test]
fn invalid_utf8_and_empty_input_do_not_panic() {
    for data in [&b""[..], b"\xff\xfe", b"{\"type\":\"ping\xff\"}", b"{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"\xc3\"}}"] {
        let e = decode_event("content_block_delta", &Bytes::copy_from_slice(data)).expect_err("invalid");
        assert!(!e.to_string().is_empty());
    }
}

#[test]
fn long_input_excerpt_is_short() {
    let long = format!(
        r#"{{"type":"content_block_delta","index":0,"delta":{{"type":"text_delta","text":"{}"}},"index":}}"#,
        "a".repeat(10_000)
    );
    let e = event_err("content_block_delta", &long);
    assert!(e.excerpt().chars().count() < 80, "{}", e.excerpt());
}

#[test]
fn document_errors_name_the_document() {
    let e = decode_message(br#"{"id":"m","type":"message","role":"assistant","model":"x","content":[{"type":"text"}],"stop_reason":null,"usage":{"output_tokens":1}}"#)
        .expect_err("text block without text");
    assert_eq!(e.event_type(), "message");
    assert_eq!(e.path(), "content[0]");
    assert!(
        e.message().contains("missing field `text`"),
        "{}",
        e.message()
    );

    let e = decode_batch_result_line(br#"{"custom_id":"a","result":{"type":"succeeded"}}"#)
        .expect_err("no message");
    assert_eq!(e.event_type(), "batch result line");
    assert_eq!(e.path(), "result");
    assert!(
        e.message().contains("missing field `message`"),
        "{}",
        e.message()
    );

    let e = decode_json::<messages_types::MessageBatch>("message batch", b"{\"id\":1}")
        .expect_err("bad id");
    assert_eq!(e.event_type(), "message batch");
    assert_eq!(e.path(), "id");
}
