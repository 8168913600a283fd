//! The mapping layer, as a table: upstream events in, frames out, per format.

use bytes::{Bytes, BytesMut};
use messages_stream::Accumulator;
use messages_types::decode_event;

use super::*;

/// A whole stream as (event name, data) pairs: a text block, a tool block.
const STREAM: &[(&str, &str)] = &[
    (
        "message_start",
        r#"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":5,"output_tokens":1}}}"#,
    ),
    (
        "content_block_start",
        r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
    ),
    ("ping", r#"{"type": "ping"}"#),
    (
        "content_block_delta",
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hel"}}   "#,
    ),
    (
        "content_block_delta",
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"lo \"x\""}}"#,
    ),
    (
        "content_block_stop",
        r#"{"type":"content_block_stop","index":0}"#,
    ),
    (
        "content_block_start",
        r#"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{}}}"#,
    ),
    (
        "content_block_delta",
        r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"city\":"}}"#,
    ),
    (
        "content_block_delta",
        r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"\"Paris\"}"}}"#,
    ),
    (
        "content_block_stop",
        r#"{"type":"content_block_stop","index":1}"#,
    ),
    (
        "message_delta",
        r#"{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":9}}"#,
    ),
    ("message_stop", r#"{"type":"message_stop"}"#),
];

/// Maps the stream as the relay does, through an accumulator.
fn items() -> Vec<Item> {
    let mut acc = Accumulator::new();
    STREAM
        .iter()
        .map(|(name, data)| {
            let raw = Bytes::from_static(data.as_bytes());
            let event = decode_event(name, &raw).unwrap();
            acc.apply(&event).unwrap();
            map_event(&event, Some(&raw), acc.message(), &mut Arena::default())
        })
        .collect()
}

fn render(format: Format, items: &[Item]) -> String {
    let mut w = Writer::new(format);
    let mut out = BytesMut::new();
    for (i, item) in items.iter().enumerate() {
        w.write(i as u64 + 1, item, &mut out);
    }
    String::from_utf8(out.to_vec()).unwrap()
}

/// The `data` lines of a rendered stream.
fn data_lines(s: &str) -> Vec<&str> {
    s.lines().filter_map(|l| l.strip_prefix("data: ")).collect()
}

#[test]
fn anthropic_relays_every_event_byte_for_byte_with_ids() {
    let out = render(Format::Anthropic, &items());
    let mut expect = String::new();
    for (i, (name, data)) in STREAM.iter().enumerate() {
        expect.push_str(&format!("id: {}\nevent: {name}\ndata: {data}\n\n", i + 1));
    }
    assert_eq!(out, expect);
}

#[test]
fn ui_message_stream_has_the_protocol_parts() {
    let out = render(Format::UiMessageStream, &items());
    assert_eq!(
        data_lines(&out),
        [
            r#"{"type":"start","messageId":"msg_1"}"#,
            r#"{"type":"start-step"}"#,
            r#"{"type":"text-start","id":"0"}"#,
            r#"{"type":"text-delta","id":"0","delta":"Hel"}"#,
            r#"{"type":"text-delta","id":"0","delta":"lo \"x\""}"#,
            r#"{"type":"text-end","id":"0"}"#,
            r#"{"type":"tool-input-start","toolCallId":"toolu_1","toolName":"get_weather"}"#,
            r#"{"type":"tool-input-delta","toolCallId":"toolu_1","inputTextDelta":"{\"city\":"}"#,
            r#"{"type":"tool-input-delta","toolCallId":"toolu_1","inputTextDelta":"\"Paris\"}"}"#,
            r#"{"type":"tool-input-available","toolCallId":"toolu_1","toolName":"get_weather","input":{"city":"Paris"}}"#,
            r#"{"type":"finish-step"}"#,
            r#"{"type":"finish","finishReason":"tool-calls"}"#,
            "[DONE]",
        ]
    );
    // Every event carries an id: the `id` line precedes each item's first
    // event (an SSE id persists for the events that follow it).
    assert!(out.starts_with("id: 1\ndata: "));
    assert!(out.contains("id: 12\ndata: {\"type\":\"finish-step\"}"));
}

#[test]
fn simple_has_text_then_done_with_usage() {
    let out = render(Format::Simple, &items());
    assert_eq!(
        data_lines(&out),
        [
            r#"{"text":"Hel"}"#,
            r#"{"text":"lo \"x\""}"#,
            r#"{"done":true,"stop_reason":"tool_use","usage":{"input_tokens":5,"output_tokens":9}}"#,
        ]
    );
    assert!(out.starts_with("id: 4\ndata: "));
}

#[test]
fn errors_and_stops_in_each_format() {
    let error = Item::Error(ErrorInfo {
        kind: "overloaded_error".into(),
        message: "Overloaded".into(),
        request_id: Some("req_1".into()),
    });
    let cases: &[(Format, &Item, &str)] = &[
        (
            Format::Anthropic,
            &error,
            "id: 1\nevent: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"},\"request_id\":\"req_1\"}\n\n",
        ),
        (
            Format::UiMessageStream,
            &error,
            "id: 1\ndata: {\"type\":\"error\",\"errorText\":\"overloaded_error: Overloaded (request id req_1)\"}\n\ndata: [DONE]\n\n",
        ),
        (
            Format::Simple,
            &error,
            "id: 1\ndata: {\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\",\"request_id\":\"req_1\"}}\n\n",
        ),
        (
            Format::Anthropic,
            &Item::Stopped,
            "id: 1\nevent: relay_stopped\ndata: {\"type\":\"relay_stopped\"}\n\n",
        ),
        (
            Format::UiMessageStream,
            &Item::Stopped,
            "id: 1\ndata: {\"type\":\"abort\"}\n\ndata: [DONE]\n\n",
        ),
        (
            Format::Simple,
            &Item::Stopped,
            "id: 1\ndata: {\"done\":true,\"stopped\":true}\n\n",
        ),
    ];
    for (format, item, expect) in cases {
        assert_eq!(render(*format, &[(*item).clone()]), *expect, "{format}");
    }
}

#[test]
fn merged_text_deltas_keep_all_text() {
    let all = items();
    let mut merged = all[3].clone();
    assert!(merged.merge(all[4].clone()).is_none());
    // A delta of another kind is not merged.
    assert!(merged.merge(all[5].clone()).is_some());
    assert_eq!(
        render(Format::Anthropic, &[merged.clone()]),
        "id: 1\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello \\\"x\\\"\"}}\n\n"
    );
    assert_eq!(
        data_lines(&render(Format::Simple, &[merged])),
        [r#"{"text":"Hello \"x\""}"#]
    );
}

#[test]
fn heartbeats_per_format() {
    let mut out = BytesMut::new();
    Writer::new(Format::Anthropic).heartbeat(&mut out);
    assert_eq!(&out[..], b"event: ping\ndata: {\"type\":\"ping\"}\n\n");
    let mut out = BytesMut::new();
    Writer::new(Format::Simple).heartbeat(&mut out);
    assert_eq!(&out[..], b": heartbeat\n");
}

#[test]
fn format_names_round_trip() {
    for f in [Format::Anthropic, Format::UiMessageStream, Format::Simple] {
        assert_eq!(f.as_str().parse::<Format>(), Ok(f));
    }
    assert!(
        "xml"
            .parse::<Format>()
            .unwrap_err()
            .to_string()
            .contains("xml")
    );
}

#[test]
fn buffered_items_do_not_pin_the_network_buffer() {
    // A big network buffer with one delta event in it.
    let data =
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}"#;
    let mut chunk = vec![b' '; 8192];
    chunk[100..100 + data.len()].copy_from_slice(data.as_bytes());
    let chunk = Bytes::from(chunk);
    let raw = chunk.slice(100..100 + data.len());
    let event = decode_event("content_block_delta", &raw).unwrap();
    let item = map_event(&event, Some(&raw), None, &mut Arena::default());
    let Item::Text {
        text,
        raw: Some(kept),
        ..
    } = &item
    else {
        panic!("{item:?}")
    };
    assert_eq!(text.as_str(), "Hi");
    assert_eq!(&kept[..], data.as_bytes());
    let inside = |p: *const u8| {
        let p = p as usize;
        let start = chunk.as_ptr() as usize;
        p >= start && p < start + chunk.len()
    };
    assert!(!inside(kept.as_ptr()), "the raw data was copied out");
    assert!(!inside(text.as_bytes().as_ptr()), "the text was copied out");
    // The text points into the copied raw data: one copy, not two.
    let k = kept.as_ptr() as usize;
    let t = text.as_bytes().as_ptr() as usize;
    assert!(t >= k && t < k + kept.len());
}

#[test]
fn arena_hands_out_slices_of_shared_blocks() {
    let mut arena = Arena::default();
    let a = arena.copy(b"first event");
    let b = arena.copy(b"second");
    assert_eq!((&a[..], &b[..]), (&b"first event"[..], &b"second"[..]));
    // Both in one block, one after the other: no allocation of their own.
    assert_eq!(b.as_ptr() as usize, a.as_ptr() as usize + a.len());
    // What does not fit goes to a new block; a value larger than a block
    // gets a block of its size.
    let filler = vec![b'x'; ARENA_BLOCK];
    let big = arena.copy(&filler);
    assert_eq!(&big[..], &filler[..]);
    let after = arena.copy(b"after");
    assert_eq!(&after[..], b"after");
    // Earlier slices are untouched by later copies.
    assert_eq!((&a[..], &b[..]), (&b"first event"[..], &b"second"[..]));
}

#[tokio::test]
async fn the_memory_store_keeps_canonical_text_deltas_as_text_and_writes_them_the_same() {
    use crate::store::{BufferStore, Entry, MemoryStore};
    let store = MemoryStore::new();
    store.create("s").await.unwrap();
    let deltas = [
        // The API's encoding, with escapes and non-ASCII text: kept as text.
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi \"you\"\n ünï 😀"}}"#,
        // Padded (the API sometimes pads): the raw data must be kept.
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}  }"#,
        // Another key order: kept too.
        r#"{"index":1,"type":"content_block_delta","delta":{"type":"text_delta","text":"x"}}"#,
        // Canonical again, after two kept whole: its text follows the
        // first one's in the stream's text log.
        r#"{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":" tail"}}"#,
    ];
    let mut appended = Vec::new();
    for (i, data) in deltas.iter().enumerate() {
        let raw = Bytes::copy_from_slice(data.as_bytes());
        let event = decode_event("content_block_delta", &raw).unwrap();
        let item = map_event(&event, Some(&raw), None, &mut Arena::default());
        let entry = Entry::new(i as u64 + 1, item);
        store.append("s", entry.clone()).await.unwrap();
        appended.push(entry);
    }
    let read = store.read("s", 0, 10).await.unwrap().entries;
    assert_eq!(read.len(), 4);
    let raw_kept: Vec<bool> = read
        .iter()
        .map(|e| matches!(&e.item, Item::Text { raw: Some(_), .. }))
        .collect();
    assert_eq!(raw_kept, [false, true, true, false]);
    let text = |e: &Entry| match &e.item {
        Item::Text { index, text, .. } => (e.id(), *index, text.to_string()),
        other => panic!("{other:?}"),
    };
    let want: Vec<_> = appended.iter().map(text).collect();
    assert_eq!(read.iter().map(text).collect::<Vec<_>>(), want);
    // Read from the middle: the same entries.
    let rest = store.read("s", 2, 10).await.unwrap().entries;
    assert_eq!(rest.iter().map(text).collect::<Vec<_>>(), want[2..]);
    // Every format writes the same bytes for what was read as for what was
    // appended: in `anthropic`, byte for byte the upstream data.
    for format in [Format::Anthropic, Format::UiMessageStream, Format::Simple] {
        for (a, r) in appended.iter().zip(&read) {
            let (mut wa, mut wr) = (Writer::new(format), Writer::new(format));
            let (mut oa, mut or) = (BytesMut::new(), BytesMut::new());
            wa.write(a.id(), &a.item, &mut oa);
            wr.write(r.id(), &r.item, &mut or);
            assert_eq!(oa, or, "{format:?}");
        }
    }
    let mut w = Writer::new(Format::Anthropic);
    let mut out = BytesMut::new();
    w.write(read[0].id(), &read[0].item, &mut out);
    let frame = std::str::from_utf8(&out).unwrap();
    assert!(frame.contains(deltas[0]), "{frame}");
}

#[tokio::test]
async fn events_kept_whole_do_not_pin_the_blocks_of_dropped_text_deltas() {
    use crate::store::{BufferStore, Entry, MemoryStore};
    let store = MemoryStore::new();
    store.create("s").await.unwrap();
    let mut arena = Arena::default();
    let mut map = |name: &str, data: &str| {
        let raw = Bytes::copy_from_slice(data.as_bytes());
        let event = decode_event(name, &raw).unwrap();
        map_event(&event, Some(&raw), None, &mut arena)
    };
    let text = map(
        "content_block_delta",
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}"#,
    );
    let Item::Text { raw: Some(raw), .. } = &text else {
        panic!("{text:?}")
    };
    let probe = raw.clone();
    let ping = map("ping", r#"{"type": "ping"}"#);
    store.append("s", Entry::new(1, text)).await.unwrap();
    // The ping is kept whole, raw data and all.
    store.append("s", Entry::new(2, ping)).await.unwrap();
    // Once the text block is full, nothing holds it but the probe: the
    // store kept "Hi" alone, and the ping lives in another block.
    drop(arena.copy_text(&[b' '; ARENA_BLOCK]));
    assert!(probe.is_unique());
}
