//! Decodes one delta event many times, for instruction counting (`perf stat
//! -e instructions:u` or `valgrind --tool=callgrind`), which is repeatable on
//! a busy machine where wall-clock timings are not.
//!
//! ```text
//! cargo build --release -p messages-types --example decode_count
//! perf stat -e instructions:u target/release/examples/decode_count text_delta 1000000
//! ```
//! Kinds: `none` (setup only, to subtract), `text_delta`, `input_json_delta`.

use std::hint::black_box;

use bytes::Bytes;
use messages_types::decode_event;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(kind), Some(n)) = (args.get(1), args.get(2).and_then(|s| s.parse::<u64>().ok()))
    else {
        eprintln!("usage: decode_count none|text_delta|input_json_delta N");
        std::process::exit(2);
    };
    // The same events as benches/decode.rs.
    let json = match kind.as_str() {
        "none" => return,
        "text_delta" => {
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" the current weather in"}        }"#
        }
        "input_json_delta" => {
            r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"city\": \"San Fr"}        }"#
        }
        other => {
            eprintln!("unknown kind {other}");
            std::process::exit(2);
        }
    };
    let data = Bytes::copy_from_slice(json.as_bytes());
    let mut ok = 0u64;
    for _ in 0..n {
        ok += u64::from(decode_event(black_box("content_block_delta"), black_box(&data)).is_ok());
    }
    assert_eq!(ok, n);
}
