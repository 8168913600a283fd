//! The hand-written fixtures of `testdata/streams/`, replayed verbatim by the
//! emulator: each accumulates to its asserted message.

use futures_util::StreamExt;
use messages_stream::{MessageStream, StreamOptions};
use messages_types::{ContentBlock, Message, StopReason};
use serde_json::json;

use crate::support::*;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../../testdata/streams/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Replays `name` and returns the final message and the unknown deltas.
async fn replay(name: &str) -> (Message, Vec<(usize, serde_json::Value)>) {
    let emu = builder()
        .replay(fixture(name))
        .start()
        .await
        .expect("emulator");
    let t = transport(&emu);
    let mut stream = MessageStream::open(&t, &request("replay", 1024), StreamOptions::new())
        .await
        .expect("opens");
    while let Some(event) = stream.next().await {
        event.unwrap_or_else(|e| panic!("{name}: {e:?}"));
    }
    let unknown = stream.unknown_deltas().to_vec();
    (stream.final_message().await.expect("complete"), unknown)
}

#[tokio::test]
async fn max_tokens_inside_a_tool_input_is_a_complete_message() {
    let (m, _) = replay("max_tokens_in_tool_input.sse").await;
    assert_eq!(m.stop_reason, Some(StopReason::MaxTokens));
    assert_eq!(m.usage.output_tokens, 124);
    assert_eq!(m.usage.input_tokens, Some(450));
    let ContentBlock::ToolUse(tool) = &m.content[1] else {
        panic!("{:?}", m.content[1]);
    };
    assert_eq!(tool.name, "make_file");
    assert!(!tool.is_input_complete());
    assert_eq!(
        tool.input,
        json!({"filename": "taxes.txt", "lines_of_text": [
            "# COMPREHENSIVE TAX GUIDE FOR INDIVIDUALS WITH MULTIPLE W-2s", "", "## INTRODUCTION", "",
            "Filing taxes"
        ]})
    );
    let raw = tool.incomplete_input.as_deref().unwrap();
    assert!(serde_json::from_str::<serde_json::Value>(raw).is_err());
    // The incomplete marker is client state: never serialized.
    assert!(
        !serde_json::to_string(&m)
            .unwrap()
            .contains("incomplete_input")
    );
}

#[tokio::test]
async fn compaction_deltas_fill_the_compaction_block() {
    let (m, _) = replay("compaction.sse").await;
    assert_eq!(m.stop_reason, Some(StopReason::Compaction));
    let ContentBlock::Compaction(c) = &m.content[0] else {
        panic!("{:?}", m.content[0]);
    };
    assert_eq!(c.content.as_deref(), Some("Summary of the earlier turns."));
    assert_eq!(c.encrypted_content.as_deref(), Some("opaque-final"));
    assert_eq!(
        m.context_management,
        Some(json!({"applied_edits": [{"type": "compact_20260112"}]}))
    );
    assert_eq!(m.usage.output_tokens, 40);
    // `null` counts in the delta did not erase the start's.
    assert_eq!(m.usage.cache_read_input_tokens, Some(0));
    assert_eq!(m.usage.iterations.as_ref().map(Vec::len), Some(1));
}

#[tokio::test]
async fn a_fallback_block_switches_the_model() {
    let (m, _) = replay("fallback.sse").await;
    assert_eq!(m.model, "claude-opus-4-8");
    let ContentBlock::Fallback(f) = &m.content[0] else {
        panic!("{:?}", m.content[0]);
    };
    assert_eq!(f.from.model, "claude-opus-5");
    assert_eq!(f.extra["trigger"], json!({"type": "refusal"}));
    assert_eq!(m.text(), "Here is the answer from the fallback model.");
    assert_eq!(
        m.usage.fallback_credit,
        Some(json!({"input_tokens": 120, "output_tokens": 3}))
    );
}

#[tokio::test]
async fn a_refusal_carries_its_stop_details() {
    let (m, _) = replay("refusal_stop_details.sse").await;
    assert_eq!(m.stop_reason, Some(StopReason::Refusal));
    let d = m.stop_details().expect("stop details");
    assert_eq!(d.kind, "refusal");
    assert_eq!(d.category.as_deref(), Some("cyber"));
    assert!(d.explanation.unwrap().contains("Usage Policy"));
    assert_eq!(
        m.usage
            .output_tokens_details
            .and_then(|d| d.thinking_tokens),
        Some(0)
    );
}

#[tokio::test]
async fn unknowns_are_kept_and_nulls_never_erase() {
    let (m, unknown) = replay("unknown_fields_and_nulls.sse").await;
    // `container: null` in the delta kept the start's container.
    let c = m.container.as_ref().expect("container kept");
    assert_eq!(c.id, "container_011CUxyz");
    // `null` usage fields kept what `message_start` said.
    assert_eq!(m.usage.input_tokens, Some(50));
    assert_eq!(m.usage.cache_read_input_tokens, Some(30));
    assert_eq!(m.usage.output_tokens, 25);
    assert_eq!(m.usage.inference_geo.as_deref(), Some("global"));
    assert_eq!(m.context_management, Some(json!({"applied_edits": []})));
    assert_eq!(m.extra["x_future_message_field"], json!({"a": [1, 2]}));
    assert_eq!(m.extra["x_future_top_level"], json!({"kept": true}));
    let kinds: Vec<&str> = m.content.iter().map(ContentBlock::kind).collect();
    assert_eq!(
        kinds,
        [
            "text",
            "hologram",
            "mcp_tool_use",
            "mcp_tool_result",
            "container_upload"
        ]
    );
    let ContentBlock::Text(t) = &m.content[0] else {
        panic!()
    };
    assert_eq!(t.text, "Before the hologram.");
    assert!(matches!(&m.content[1], ContentBlock::Unknown(v) if v["beams"] == 3));
    assert_eq!(
        unknown,
        [
            (1, json!({"type": "beam_delta", "beam": {"n": 1}})),
            (1, json!({"type": "beam_delta", "beam": {"n": 2}})),
        ]
    );
}

#[tokio::test]
async fn the_emulators_content_faults_accumulate_like_the_fixtures() {
    let emu = builder().start().await.expect("emulator");
    let t = transport(&emu);
    let options = StreamOptions::new().header(
        http::HeaderName::from_static("x-emulator-fault"),
        http::HeaderValue::from_static("compaction=9; fallback=claude-opus-4-8; refusal=bio"),
    );
    let stream = MessageStream::open(&t, &request("fault me", 200), options)
        .await
        .expect("opens");
    let m = stream.final_message().await.expect("complete");
    assert_eq!(m.model, "claude-opus-4-8", "the fallback block switched it");
    let ContentBlock::Compaction(c) = &m.content[0] else {
        panic!("{:?}", m.content[0]);
    };
    assert_eq!(c.content.as_deref().unwrap().split(' ').count(), 9);
    assert!(c.encrypted_content.is_some());
    assert!(matches!(&m.content[1], ContentBlock::Fallback(_)));
    assert_eq!(m.stop_reason, Some(StopReason::Refusal));
    assert_eq!(m.stop_details().unwrap().category.as_deref(), Some("bio"));
}

/// Every event of every fixture, as (name, data).
fn fixture_events() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for name in [
        "max_tokens_in_tool_input.sse",
        "compaction.sse",
        "fallback.sse",
        "refusal_stop_details.sse",
        "unknown_fields_and_nulls.sse",
    ] {
        let text = String::from_utf8(fixture(name)).expect("UTF-8");
        for frame in text.split("\n\n") {
            let mut event = None;
            let mut data = None;
            for line in frame.lines() {
                if let Some(v) = line.strip_prefix("event: ") {
                    event = Some(v.to_owned());
                } else if let Some(v) = line.strip_prefix("data: ") {
                    data = Some(v.as_bytes().to_vec());
                }
            }
            if let (Some(e), Some(d)) = (event, data) {
                out.push((e, d));
            }
        }
    }
    out
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(500))]

    /// The fixtures' events in any order, repeated, with damaged bytes: the
    /// decoders and the accumulator return errors, never panic.
    #[test]
    fn events_in_any_order_never_panic(
        picks in proptest::collection::vec((0usize..1000, proptest::prelude::any::<Option<(usize, u8)>>()), 0..60)
    ) {
        let events = fixture_events();
        let mut acc = messages_stream::Accumulator::new();
        let mut lean = messages_stream::Accumulator::discarding_text();
        for (i, damage) in picks {
            let (name, data) = &events[i % events.len()];
            let mut data = data.clone();
            if let Some((at, byte)) = damage
                && !data.is_empty()
            {
                let at = at % data.len();
                data[at] = byte;
            }
            let bytes = bytes::Bytes::from(data);
            if let Ok(event) = messages_types::decode_event(name, &bytes) {
                let _ = acc.apply(&event);
                let _ = lean.apply(&event);
            }
        }
        let _ = acc.finish();
        let _ = lean.finish();
    }
}
