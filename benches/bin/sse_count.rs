//! Runs one SSE parser over one benchmark corpus, for instruction counting
//! under `valgrind --tool=callgrind`, which is repeatable on a busy machine
//! where wall-clock timings are not.
//!
//! ```text
//! cargo build --profile bench -p benches --bin sse_count
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     --toggle-collect='benches::sse_peers::run*' \
//!     target/release/sse_count sse_core 16384 claude
//! ```
//!
//! `--toggle-collect` counts only the parsing (`sse_peers::run` and
//! `sse_peers::memchr_scan`), not the corpus generation; divide by the
//! events printed.
//!
//! Parsers: `none` (corpus setup only, to subtract), `memchr_scan`, and
//! those of `benches::sse_peers::PARSERS` and `VARIANTS`. Corpora: claude (default), tiny,
//! long, cjk, crlf, all 2 MiB as in the criterion bench.

use std::hint::black_box;

use benches::sse_peers;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(parser), Some(size)) = (
        args.get(1),
        args.get(2).and_then(|s| s.parse::<usize>().ok()),
    ) else {
        eprintln!("usage: sse_count PARSER CHUNK_SIZE [CORPUS]");
        std::process::exit(2);
    };
    let name = args.get(3).map_or("claude", String::as_str);
    let Some(corpus) = sse_peers::corpus(name, 2 * 1024 * 1024) else {
        eprintln!("unknown corpus {name}");
        std::process::exit(2);
    };
    let chunks = sse_peers::chunked(&corpus.bytes, size);
    let n = match parser.as_str() {
        "none" => 0,
        "memchr_scan" => sse_peers::memchr_scan(&chunks),
        p if sse_peers::PARSERS.contains(&p) || sse_peers::VARIANTS.contains(&p) => {
            sse_peers::run(p, &chunks, |event, data| {
                black_box((event, data));
            })
        }
        other => {
            eprintln!("unknown parser {other}");
            std::process::exit(2);
        }
    };
    println!(
        "{parser} {name} chunk {size}: {n} (corpus {} events, {} bytes)",
        corpus.events,
        corpus.bytes.len()
    );
}
