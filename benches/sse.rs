//! SSE parsing throughput: this workspace's `sse-core` (sans-IO and through
//! its `Stream` adapter) against every Rust peer (crates.io `sse-core`
//! 0.2.3, sse-parse, sseer, sse-stream, eventsource-stream), on five corpora
//! (see `sse_peers.rs`) at three chunk sizes, with a bare `memchr2` line-end
//! scan over the same chunks as the ceiling.
//!
//! ```text
//! cargo bench -p benches --bench sse
//! cargo bench -p benches --bench sse -- 'sse/claude'   # one corpus
//! ```
//!
//! eventsource-stream is left out on the 40 KiB lines at 1460 and 64 B
//! chunks, where it takes seconds per iteration (5.7 s at 64 B here).
//!
//! Benchmark ids are `sse/<corpus>/<parser>/<chunk size>`. Every run
//! asserts the event count; `tests/sse_agree.rs` asserts that all parsers
//! hand out the same events.

use std::hint::black_box;
use std::time::Duration;

use benches::sse_peers::{self, CHUNK_SIZES, PARSERS};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

/// Corpus size: large enough to leave the caches, small enough that the
/// slowest peer at 64 B chunks still takes a few tens of milliseconds.
const TARGET: usize = 2 * 1024 * 1024;

fn parsers(c: &mut Criterion) {
    for corpus in sse_peers::corpora(TARGET) {
        let mut group = c.benchmark_group(format!("sse/{}", corpus.name));
        group
            .throughput(Throughput::Bytes(corpus.bytes.len() as u64))
            .sample_size(20)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(2));
        eprintln!(
            "corpus {}: {} bytes, {} events",
            corpus.name,
            corpus.bytes.len(),
            corpus.events
        );
        for size in CHUNK_SIZES {
            let chunks = sse_peers::chunked(&corpus.bytes, size);
            group.bench_with_input(
                BenchmarkId::new("memchr_scan", size),
                &chunks,
                |b, chunks| b.iter(|| sse_peers::memchr_scan(chunks)),
            );
            for parser in PARSERS {
                if parser == "eventsource_stream" && corpus.name == "long" && size < 16 * 1024 {
                    // Seconds per iteration there, and never the fastest peer.
                    continue;
                }
                group.bench_with_input(BenchmarkId::new(parser, size), &chunks, |b, chunks| {
                    b.iter(|| {
                        let n = sse_peers::run(parser, chunks, |event, data| {
                            black_box((event, data));
                        });
                        assert_eq!(n, corpus.events);
                        n
                    })
                });
            }
        }
        group.finish();
    }
}

criterion_group!(benches, parsers);
criterion_main!(benches);
