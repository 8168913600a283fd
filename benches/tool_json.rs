//! Tool input JSON arriving in `input_json_delta` fragments: the cost of a
//! preview after every fragment, three ways over the same fragments:
//!
//! - `partial_json`: `messages_stream::PartialJson` (push, look at the
//!   preview, then `finish`);
//! - `reparse_each`: append and re-parse the whole buffer with serde_json
//!   after every fragment, as the official SDKs do (they use a lenient
//!   parser on the buffer; serde_json stops at the end of the incomplete
//!   text, having read all of it, so this is a lower bound of their cost);
//! - `concat_once`: append only, one serde_json parse at the end (no preview;
//!   the floor).
//!
//! At 2 KiB, 20 KiB and 200 KiB of input, in 10-40 byte fragments.
//!
//! ```text
//! cargo bench -p benches --bench tool_json
//! ```

use std::fmt::Write as _;
use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use messages_stream::PartialJson;
use serde_json::Value;

/// A tool input of about `target` bytes, shaped like a coding tool's: a path,
/// flags, a list of edits with multi-line code (quotes, backslashes, `\n`,
/// some non-ASCII), numbers and a nested options object.
fn tool_input(target: usize) -> String {
    let mut edits = String::new();
    let mut i = 0;
    while edits.len() + 200 < target {
        if i > 0 {
            edits.push(',');
        }
        let _ = write!(
            edits,
            r#"{{"line":{},"old_text":"    let value = map.get(\"key_{i}\").unwrap_or(&0);\n    println!(\"{{}}\", value);\n","new_text":"    // Caf\u00e9 r\u00e9sum\u00e9: step {i}\n    let value = *map.get(\"key_{i}\").unwrap_or(&0) as f64 * 1.5e-3;\n","confidence":0.{:03},"applied":{}}}"#,
            100 + i * 7,
            (i * 37) % 1000,
            if i % 3 == 0 { "true" } else { "false" },
        );
        i += 1;
    }
    format!(
        r#"{{"path":"src/services/billing/invoice_generator.rs","dry_run":false,"options":{{"create_backup":true,"encoding":"utf-8","max_line_length":100,"tags":["refactor","billing",null]}},"edits":[{edits}]}}"#
    )
}

/// `text` in fragments of 10 to 40 bytes (a fixed pseudo-random sequence),
/// cut at char boundaries, like the API's `partial_json` strings.
fn fragments(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut seed: u32 = 0x2545_f491;
    let mut start = 0;
    // The API's first fragment is empty.
    out.push("");
    while start < text.len() {
        seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        let mut end = (start + 10 + (seed >> 16) as usize % 31).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        out.push(&text[start..end]);
        start = end;
    }
    out
}

fn tool_json(c: &mut Criterion) {
    let mut group = c.benchmark_group("tool_json");
    for (label, target) in [("2KB", 2_000), ("20KB", 20_000), ("200KB", 200_000)] {
        let text = tool_input(target);
        let frags = fragments(&text);
        let expected: Value = serde_json::from_str(&text).expect("valid tool input");
        eprintln!("{label}: {} bytes, {} fragments", text.len(), frags.len());
        // The three ways agree on the result.
        let mut check = PartialJson::new();
        for f in &frags {
            check.push(f);
        }
        assert_eq!(check.preview(), Some(&expected));
        assert_eq!(check.finish().ok(), Some(expected));

        group.throughput(Throughput::Bytes(text.len() as u64));
        if target >= 200_000 {
            group.sample_size(10);
        }
        group.bench_with_input(
            BenchmarkId::new("partial_json", label),
            &frags,
            |b, frags| {
                b.iter(|| {
                    let mut input = PartialJson::new();
                    for fragment in frags {
                        input.push(fragment);
                        black_box(input.preview());
                    }
                    input.finish()
                })
            },
        );
        group.bench_with_input(
            BenchmarkId::new("reparse_each", label),
            &frags,
            |b, frags| {
                b.iter(|| {
                    let mut buffer = String::new();
                    for fragment in frags {
                        buffer.push_str(fragment);
                        let _ = black_box(serde_json::from_str::<Value>(&buffer));
                    }
                    serde_json::from_str::<Value>(&buffer)
                })
            },
        );
        group.bench_with_input(
            BenchmarkId::new("concat_once", label),
            &frags,
            |b, frags| {
                b.iter(|| {
                    let mut buffer = String::new();
                    for fragment in frags {
                        buffer.push_str(fragment);
                    }
                    serde_json::from_str::<Value>(&buffer)
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, tool_json);
criterion_main!(benches);
