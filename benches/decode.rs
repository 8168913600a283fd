//! Typed decoding of stream events: ns/event for each event kind through
//! `messages_types::decode_event` (fast path: struct chosen by the SSE event
//! name, borrowed delta text), through the generic path
//! (`decode_event_generic`), and through a serde internally tagged enum
//! (`#[serde(tag = "type")]`, owned `String`s) as most Rust crates write it:
//! the baseline, measured in the same run on the same bytes.
//!
//! Then whole batch result lines (4 KiB and larger): serde_json against
//! simd-json, to choose the default and `SIMD_JSON_MIN_LEN`.
//!
//! ```text
//! cargo bench -p benches --bench decode -- --warm-up-time 1 --measurement-time 3
//! ```

use std::hint::black_box;

use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use messages_types::_benchable::{serde_json_from_slice, simd_json_from_slice};
use messages_types::{BatchResultLine, decode_event, decode_event_generic};
use serde::Deserialize;
use serde_json::Value;

// ===== the baseline: internally tagged enums, owned strings =====

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[allow(dead_code)]
enum TaggedEvent {
    MessageStart {
        message: TaggedMessage,
    },
    ContentBlockStart {
        index: u32,
        content_block: TaggedBlock,
    },
    ContentBlockDelta {
        index: u32,
        delta: TaggedDelta,
    },
    ContentBlockStop {
        index: u32,
    },
    MessageDelta {
        delta: TaggedMessageDelta,
        usage: TaggedUsage,
    },
    MessageStop,
    Ping,
    Error {
        error: TaggedError,
    },
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[allow(dead_code, clippy::enum_variant_names)] // The names mirror the wire names.
enum TaggedDelta {
    TextDelta { text: String },
    InputJsonDelta { partial_json: String },
    ThinkingDelta { thinking: String },
    SignatureDelta { signature: String },
    CitationsDelta { citation: Value },
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[allow(dead_code)]
enum TaggedBlock {
    Text {
        text: String,
    },
    ToolUse {
        id: String,
        name: String,
        input: Value,
    },
    Thinking {
        thinking: String,
        signature: String,
    },
    RedactedThinking {
        data: String,
    },
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct TaggedMessage {
    id: String,
    role: String,
    model: String,
    content: Vec<TaggedBlock>,
    stop_reason: Option<String>,
    stop_sequence: Option<String>,
    usage: TaggedUsage,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct TaggedMessageDelta {
    stop_reason: Option<String>,
    stop_sequence: Option<String>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct TaggedUsage {
    input_tokens: Option<u64>,
    output_tokens: u64,
    cache_creation_input_tokens: Option<u64>,
    cache_read_input_tokens: Option<u64>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct TaggedError {
    #[serde(rename = "type")]
    kind: String,
    message: String,
}

// ===== inputs: real event shapes, padded as the API pads them =====

const EVENTS: &[(&str, &str, &str)] = &[
    (
        "text_delta",
        "content_block_delta",
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" the current weather in"}        }"#,
    ),
    (
        "input_json_delta",
        "content_block_delta",
        r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"city\": \"San Fr"}        }"#,
    ),
    (
        "thinking_delta",
        "content_block_delta",
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Simple educational question. Benign."}}"#,
    ),
    (
        "signature_delta",
        "content_block_delta",
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"}}"#,
    ),
    (
        "content_block_stop",
        "content_block_stop",
        r#"{"type":"content_block_stop","index":0        }"#,
    ),
    ("ping", "ping", r#"{"type": "ping"}"#),
    (
        "message_stop",
        "message_stop",
        r#"{"type":"message_stop"              }"#,
    ),
    (
        "message_delta",
        "message_delta",
        r#"{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"input_tokens":135,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":10}             }"#,
    ),
    (
        "content_block_start_text",
        "content_block_start",
        r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}     }"#,
    ),
    (
        "content_block_start_tool_use",
        "content_block_start",
        r#"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_01RaX2WYWRWCbaeFHssmGJXG","name":"get_weather","input":{}}             }"#,
    ),
    (
        "message_start",
        "message_start",
        r#"{"type":"message_start","message":{"model":"claude-sonnet-4-6-20250929","id":"msg_013nnniYDrJDocdy5nrMU7cH","type":"message","role":"assistant","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":135,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}}   }"#,
    ),
    (
        "error",
        "error",
        r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
    ),
];

fn events(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode_event");
    for &(kind, name, json) in EVENTS {
        // One shared buffer, as an SSE parser hands out event data.
        let data = Bytes::copy_from_slice(json.as_bytes());
        assert!(decode_event(name, &data).is_ok(), "{kind}");
        assert!(
            serde_json::from_slice::<TaggedEvent>(&data).is_ok(),
            "{kind}"
        );
        group.throughput(Throughput::Bytes(data.len() as u64));
        group.bench_with_input(BenchmarkId::new("fast", kind), &data, |b, data| {
            b.iter(|| decode_event(black_box(name), black_box(data)))
        });
        group.bench_with_input(BenchmarkId::new("generic", kind), &data, |b, data| {
            b.iter(|| decode_event_generic(black_box(data)))
        });
        group.bench_with_input(BenchmarkId::new("tagged_enum", kind), &data, |b, data| {
            b.iter(|| serde_json::from_slice::<TaggedEvent>(black_box(data)))
        });
    }
    group.finish();
}

/// A `succeeded` batch result line of about `size` bytes: a message with a
/// long text answer (with escapes), a tool call and full usage.
fn batch_line(size: usize) -> Vec<u8> {
    let sentence = "The \"quick\" brown fox jumps over the lazy dog; café ☕ at 5 o'clock.\n";
    let mut text = String::new();
    let overhead = 700;
    while text.len() + sentence.len() + overhead < size {
        text.push_str(sentence);
    }
    let line = serde_json::json!({
        "custom_id": "request-000123",
        "result": {"type": "succeeded", "message": {
            "id": "msg_01UdjYBBipA9omjYhicnevgq", "type": "message", "role": "assistant",
            "model": "claude-sonnet-4-6-20250929",
            "content": [
                {"type": "text", "text": text},
                {"type": "tool_use", "id": "toolu_01EKqbqmZrGRXy18eN7m9kvY", "name": "make_file",
                 "input": {"filename": "taxes.txt", "lines_of_text": ["# GUIDE", "", "## INTRODUCTION", "Filing taxes"], "overwrite": true, "mode": 420}}
            ],
            "stop_reason": "tool_use", "stop_sequence": null,
            "usage": {"input_tokens": 450, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
                      "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
                      "output_tokens": 1024, "service_tier": "batch"}
        }}
    });
    serde_json::to_vec(&line).expect("serialize")
}

fn batch_lines(c: &mut Criterion) {
    let mut group = c.benchmark_group("batch_result_line");
    for size in [1024, 2 * 1024, 4 * 1024, 16 * 1024, 64 * 1024, 256 * 1024] {
        let line = batch_line(size);
        let a: BatchResultLine = serde_json_from_slice(&line).expect("serde_json");
        let b: BatchResultLine = simd_json_from_slice(&line).expect("simd-json");
        assert_eq!(a, b);
        group.throughput(Throughput::Bytes(line.len() as u64));
        group.bench_with_input(
            BenchmarkId::new("serde_json", line.len()),
            &line,
            |b, line| b.iter(|| serde_json_from_slice::<BatchResultLine>(black_box(line))),
        );
        group.bench_with_input(
            BenchmarkId::new("simd_json", line.len()),
            &line,
            |b, line| b.iter(|| simd_json_from_slice::<BatchResultLine>(black_box(line))),
        );
    }
    group.finish();
}

criterion_group!(benches, events, batch_lines);
criterion_main!(benches);
