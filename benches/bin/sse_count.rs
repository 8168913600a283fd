//! Runs one SSE parser over the benchmark corpus, for instruction counting
//! under `valgrind --tool=callgrind`, which is repeatable on a busy machine
//! where wall-clock timings are not.
//!
//! ```text
//! cargo build --release -p benches --bin sse_count
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     target/release/sse_count sse_core 16384
//! ```
//! Parsers: none (corpus setup only, to subtract), memchr_scan, sse_core, sse_core_stream, eventsource_stream, sse_stream.

use std::convert::Infallible;
use std::hint::black_box;

use bytes::Bytes;
use futures_util::{StreamExt, stream};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(parser), Some(size)) = (
        args.get(1),
        args.get(2).and_then(|s| s.parse::<usize>().ok()),
    ) else {
        eprintln!("usage: sse_count PARSER CHUNK_SIZE");
        std::process::exit(2);
    };
    let (input, events) = benches::claude_stream(2 * 1024 * 1024);
    let all = Bytes::from(input);
    let chunks: Vec<Bytes> = (0..all.len())
        .step_by(size)
        .map(|s| all.slice(s..(s + size).min(all.len())))
        .collect();
    let body = || stream::iter(chunks.iter().cloned().map(Ok::<_, Infallible>));
    let n = match parser.as_str() {
        "none" => 0,
        "memchr_scan" => {
            let lines: usize = chunks
                .iter()
                .map(|c| memchr::memchr2_iter(b'\n', b'\r', black_box(c)).count())
                .sum();
            lines / 3
        }
        "sse_core" => {
            let mut p = sse_core::Parser::new();
            let mut n = 0;
            for c in &chunks {
                p.push(c.clone());
                while let Some(e) = p.next_event().unwrap() {
                    black_box(e.data());
                    n += 1;
                }
            }
            n
        }
        "sse_core_stream" => futures_executor::block_on(
            sse_core::SseStream::new(body())
                .map(|e| black_box(e.unwrap()))
                .count(),
        ),
        "eventsource_stream" => {
            use eventsource_stream::Eventsource;
            futures_executor::block_on(body().eventsource().map(|e| black_box(e.unwrap())).count())
        }
        "sse_stream" => futures_executor::block_on(
            sse_stream::SseStream::from_bytes_stream(body())
                .map(|e| black_box(e.unwrap()))
                .count(),
        ),
        other => {
            eprintln!("unknown parser {other}");
            std::process::exit(2);
        }
    };
    println!(
        "{parser} chunk {size}: {n} events (corpus {events} events, {} bytes)",
        all.len()
    );
}
