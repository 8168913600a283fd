//! The fast decoder agrees with the plain serde path on every input.

use bytes::Bytes;
use messages_types::{
    ApiError, ContentBlock, ContentBlockDelta, ContentBlockDeltaEvent, ContentBlockStartEvent,
    ContentBlockStopEvent, ErrorResponse, ErrorType, InputJsonDelta, Message, MessageDelta,
    MessageDeltaEvent, MessageStartEvent, MessageStopEvent, PingEvent, SignatureDelta, StopReason,
    StreamEvent, Text, TextDelta, ThinkingDelta, ToolUseBlock, Usage, decode_event,
};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

use crate::support::{json_string_with_escapes, json_value, unknown_object, ws};

/// Both paths give the same event, or both fail.
fn assert_agree(name: &str, data: &[u8]) -> Option<StreamEvent> {
    let fast = decode_event(name, &Bytes::copy_from_slice(data));
    let generic: Result<StreamEvent, _> = serde_json::from_slice(data);
    match (fast, generic) {
        (Ok(a), Ok(b)) => {
            assert_eq!(
                a,
                b,
                "name {name:?}, data {:?}",
                String::from_utf8_lossy(data)
            );
            Some(a)
        }
        (Err(_), Err(_)) => None,
        (a, b) => panic!(
            "paths disagree for {name:?} / {:?}: fast {a:?}, generic {b:?}",
            String::from_utf8_lossy(data)
        ),
    }
}

const DELTAS: [(&str, &str); 4] = [
    ("text_delta", "text"),
    ("input_json_delta", "partial_json"),
    ("thinking_delta", "thinking"),
    ("signature_delta", "signature"),
];

fn expected_delta(kind: usize, s: &str) -> ContentBlockDelta {
    let t = Text::from(s);
    match kind {
        0 => ContentBlockDelta::Text(TextDelta::new(t)),
        1 => ContentBlockDelta::InputJson(InputJsonDelta::new(t)),
        2 => ContentBlockDelta::Thinking(ThinkingDelta::new(t)),
        _ => ContentBlockDelta::Signature(SignatureDelta::new(t)),
    }
}

prop_compose! {
    /// A delta event written by hand: escapes, padding, key order and an
    /// optional unknown field all vary.
    fn delta_json()(
        kind in 0..4usize,
        text in any::<String>(),
        mask in any::<u64>(),
        index in any::<u32>(),
        pad in prop::collection::vec(ws(), 8),
        swap_outer in any::<bool>(),
        swap_inner in any::<bool>(),
        extra in prop::option::of(("[a-z]{1,6}", json_value())
            .prop_filter("not a delta field", |(k, _)| !matches!(k.as_str(), "type" | "text" | "thinking" | "signature"))),
    ) -> (usize, String, u32, String, Option<(String, Value)>) {
        let (ty, field) = DELTAS[kind];
        let value = json_string_with_escapes(&text, mask);
        let mut inner = vec![
            format!("\"type\"{}:{}\"{ty}\"", pad[0], pad[1]),
            format!("\"{field}\":{}{value}", pad[2]),
        ];
        if swap_inner { inner.reverse(); }
        if let Some((k, v)) = &extra {
            inner.push(format!("\"{k}\":{v}"));
        }
        let delta = format!("{{{}{}}}", pad[3], inner.join(","));
        let mut outer = [
            "\"type\":\"content_block_delta\"".to_owned(),
            format!("\"index\":{}{index}", pad[4]),
            format!("\"delta\":{delta}"),
        ];
        if swap_outer {
            outer.rotate_left(1);
        }
        let json = format!("{}{{{}{}}}{}", pad[5], outer.join(","), pad[6], pad[7]);
        (kind, text, index, json, extra)
    }
}

fn usage() -> impl Strategy<Value = Usage> {
    (
        prop::option::of(any::<u32>()),
        any::<u32>(),
        prop::option::of(any::<u32>()),
    )
        .prop_map(|(input, output, cache)| {
            let mut usage = Usage::default();
            usage.input_tokens = input.map(u64::from);
            usage.output_tokens = u64::from(output);
            usage.cache_read_input_tokens = cache.map(u64::from);
            usage
        })
}

fn stop_reason() -> impl Strategy<Value = Option<StopReason>> {
    prop::option::of(prop_oneof![
        Just(StopReason::EndTurn),
        Just(StopReason::MaxTokens),
        Just(StopReason::ToolUse),
        Just(StopReason::Refusal),
        Just(StopReason::ModelContextWindowExceeded),
        "x_[a-z]{1,8}".prop_map(StopReason::Unknown),
    ])
}

/// Arbitrary typed events.
fn stream_event() -> impl Strategy<Value = StreamEvent> {
    prop_oneof![
        (0..4usize, any::<String>(), any::<u32>()).prop_map(|(k, s, index)| {
            StreamEvent::ContentBlockDelta(ContentBlockDeltaEvent::new(
                index,
                expected_delta(k, &s),
            ))
        }),
        (unknown_object(), any::<u32>()).prop_map(|(delta, index)| {
            StreamEvent::ContentBlockDelta(ContentBlockDeltaEvent::new(
                index,
                ContentBlockDelta::Unknown(delta),
            ))
        }),
        any::<u32>()
            .prop_map(|index| StreamEvent::ContentBlockStop(ContentBlockStopEvent::new(index))),
        Just(StreamEvent::Ping(PingEvent::default())),
        Just(StreamEvent::MessageStop(MessageStopEvent::default())),
        (
            stop_reason(),
            prop::option::of(any::<String>()),
            usage(),
            prop::option::of(json_value()),
            prop::option::of(json_value()),
            prop::option::of("[a-z]{1,8}"),
        )
            .prop_map(
                |(stop_reason, stop_sequence, usage, details, top, category)| {
                    let mut extra = Map::new();
                    if let Some(d) = details {
                        extra.insert("x_details".to_owned(), d);
                    }
                    let mut top_extra = Map::new();
                    if let Some(t) = top.clone() {
                        top_extra.insert("x_top".to_owned(), t);
                    }
                    let mut delta = MessageDelta::default();
                    delta.stop_reason = stop_reason;
                    delta.stop_sequence = stop_sequence;
                    delta.stop_details = category
                        .map(|c| json!({"type": "refusal", "category": c, "explanation": null}));
                    delta.extra = extra;
                    let mut event = MessageDeltaEvent::new(delta, usage);
                    event.context_management = top.filter(|v| !v.is_null());
                    event.extra = top_extra;
                    StreamEvent::MessageDelta(Box::new(event))
                }
            ),
        (
            "[a-z_]{1,20}",
            any::<String>(),
            prop::option::of("req_[a-z0-9]{4}")
        )
            .prop_map(|(kind, message, request_id)| StreamEvent::Error(
                ErrorResponse::new(ApiError::new(ErrorType::from_wire(&kind), message))
                    .with_request_id(request_id)
            )),
        (any::<String>(), any::<String>(), usage()).prop_map(|(id, model, usage)| {
            let mut m = Message::new(id, model);
            m.usage = usage;
            StreamEvent::MessageStart(Box::new(MessageStartEvent::new(m)))
        }),
        (any::<u32>(), any::<String>(), json_value()).prop_map(|(index, name, input)| {
            StreamEvent::ContentBlockStart(Box::new(ContentBlockStartEvent::new(
                index,
                ContentBlock::ToolUse(ToolUseBlock::new("toolu_1", name, input)),
            )))
        }),
        (any::<u32>(), any::<String>()).prop_map(|(index, text)| {
            StreamEvent::ContentBlockStart(Box::new(ContentBlockStartEvent::new(
                index,
                ContentBlock::text(text),
            )))
        }),
        unknown_object().prop_map(StreamEvent::Unknown),
    ]
}

/// Damages a JSON text: truncation, a replaced byte, a repeated field.
fn mutate(json: &str, how: u8, at: usize, byte: u8) -> Vec<u8> {
    let mut b = json.as_bytes().to_vec();
    let at = at % (b.len() + 1);
    match how % 4 {
        0 => b.truncate(at),
        1 if !b.is_empty() => {
            let i = at.min(b.len() - 1);
            b[i] = byte;
        }
        2 => {
            // Repeat the first field at the end: `{"a":1,...}` -> `{"a":1,...,"a":1}`.
            if let (Some(comma), Some(close)) = (json.find(','), json.rfind('}')) {
                let first = &json[1..comma];
                let mut s = json[..close].to_owned();
                s.push(',');
                s.push_str(first);
                s.push('}');
                b = s.into_bytes();
            }
        }
        _ => b.insert(at, byte),
    }
    b
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn hand_written_deltas_decode_and_agree((kind, text, index, json, extra) in delta_json()) {
        let event = assert_agree("content_block_delta", json.as_bytes()).expect("valid delta");
        if let StreamEvent::ContentBlockDelta(e) = &event {
            prop_assert_eq!(e.index, index);
            if let ContentBlockDelta::Unknown(_) = e.delta {
                prop_assert!(false, "known delta decoded as unknown");
            }
            let mut expected = expected_delta(kind, &text);
            // An unknown field of the delta is kept.
            if let Some((k, v)) = extra {
                let map = match &mut expected {
                    ContentBlockDelta::Text(d) => &mut d.extra,
                    ContentBlockDelta::InputJson(d) => &mut d.extra,
                    ContentBlockDelta::Thinking(d) => &mut d.extra,
                    ContentBlockDelta::Signature(d) => &mut d.extra,
                    _ => unreachable!("expected_delta gives the four text deltas"),
                };
                map.insert(k, v);
            }
            prop_assert_eq!(&e.delta, &expected);
        } else {
            prop_assert!(false, "not a delta: {:?}", event);
        }
    }

    #[test]
    fn typed_events_round_trip_through_both_paths(event in stream_event()) {
        let json = serde_json::to_string(&event).expect("serialize");
        let decoded = assert_agree(event.kind(), json.as_bytes()).expect("decodes");
        prop_assert_eq!(&decoded, &event);
        // Under any other (or no) name the result is the same.
        prop_assert_eq!(assert_agree("message", json.as_bytes()), Some(event.clone()));
        prop_assert_eq!(assert_agree("content_block_delta", json.as_bytes()), Some(event));
    }

    #[test]
    fn damaged_events_agree(event in stream_event(), how in any::<u8>(), at in any::<usize>(), byte in any::<u8>()) {
        let json = serde_json::to_string(&event).expect("serialize");
        let damaged = mutate(&json, how, at, byte);
        assert_agree(event.kind(), &damaged);
        assert_agree("content_block_delta", &damaged);
    }

    #[test]
    fn damaged_hand_written_deltas_agree((_k, _t, _i, json, _e) in delta_json(), how in any::<u8>(), at in any::<usize>(), byte in any::<u8>()) {
        let damaged = mutate(&json, how, at, byte);
        assert_agree("content_block_delta", &damaged);
    }

    #[test]
    fn arbitrary_bytes_agree(name in prop_oneof![
        Just("content_block_delta".to_owned()), Just("message_delta".to_owned()),
        Just("ping".to_owned()), Just("error".to_owned()), "[a-z_]{0,20}"
    ], data in prop::collection::vec(any::<u8>(), 0..200)) {
        assert_agree(&name, &data);
    }

    #[test]
    fn arbitrary_json_under_every_name_agrees(value in json_value(), ty in prop_oneof![
        Just("content_block_delta"), Just("content_block_stop"), Just("message_delta"),
        Just("message_start"), Just("content_block_start"), Just("ping"), Just("message_stop"), Just("error")
    ]) {
        let mut v = value;
        if let Value::Object(m) = &mut v {
            m.insert("type".to_owned(), json!(ty));
        }
        let json = serde_json::to_vec(&v).expect("serialize");
        assert_agree(ty, &json);
    }
}

#[test]
fn delta_text_shares_the_input_buffer() {
    let data = Bytes::from_static(
        br#"{"type":"content_block_delta","index":3,"delta":{"type":"input_json_delta","partial_json":"{\"a\""}}"#,
    );
    let plain = Bytes::from_static(
        br#"{"type":"content_block_delta","index":3,"delta":{"type":"text_delta","text":"no escapes here"}}"#,
    );
    let StreamEvent::ContentBlockDelta(e) =
        decode_event("content_block_delta", &plain).expect("ok")
    else {
        panic!("delta")
    };
    let ContentBlockDelta::Text(t) = e.delta else {
        panic!("text")
    };
    assert_eq!(t.text, "no escapes here");
    let start = t.text.as_bytes().as_ptr() as usize - plain.as_ptr() as usize;
    assert!(start < plain.len(), "the text points into the input");

    // With escapes the text is unescaped (and therefore copied).
    let StreamEvent::ContentBlockDelta(e) = decode_event("content_block_delta", &data).expect("ok")
    else {
        panic!("delta")
    };
    let ContentBlockDelta::InputJson(j) = e.delta else {
        panic!("json")
    };
    assert_eq!(j.partial_json, "{\"a\"");
}

#[test]
fn name_and_type_mismatch_follows_the_json_type() {
    let data = Bytes::from_static(br#"{"type":"ping"}"#);
    assert_eq!(
        decode_event("content_block_delta", &data).expect("ok"),
        StreamEvent::Ping(PingEvent::default())
    );
    let data = Bytes::from_static(br#"{"type":"brand_new_event","x":[1,2]}"#);
    let e = decode_event("brand_new_event", &data).expect("unknown events are kept");
    assert_eq!(
        serde_json::to_value(&e).expect("ser"),
        json!({"type":"brand_new_event","x":[1,2]})
    );
}
