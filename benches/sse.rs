//! SSE parsing throughput on a realistic Claude stream, at network-sized
//! (1460 B) and large (16 KiB) chunks: sse-core (sans-IO and through its
//! `Stream` adapter), eventsource-stream, sse-stream, and a bare memchr
//! line-end scan over the same bytes as the practical ceiling.
//!
//! ```text
//! cargo bench -p benches --bench sse
//! ```

use std::convert::Infallible;
use std::hint::black_box;

use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use futures_util::{StreamExt, stream};

fn chunked(input: &[u8], size: usize) -> Vec<Bytes> {
    // One shared allocation, sliced: what an HTTP body hands out.
    let all = Bytes::copy_from_slice(input);
    (0..input.len())
        .step_by(size)
        .map(|start| all.slice(start..(start + size).min(input.len())))
        .collect()
}

fn parsers(c: &mut Criterion) {
    let (input, events) = benches::claude_stream(2 * 1024 * 1024);
    let mut group = c.benchmark_group("sse");
    group.throughput(Throughput::Bytes(input.len() as u64));
    eprintln!("corpus: {} bytes, {events} events", input.len());

    for size in [1460usize, 16 * 1024] {
        let chunks = chunked(&input, size);

        group.bench_with_input(
            BenchmarkId::new("memchr_scan", size),
            &chunks,
            |b, chunks| {
                b.iter(|| {
                    let mut lines = 0usize;
                    for chunk in chunks {
                        lines += memchr::memchr2_iter(b'\n', b'\r', black_box(chunk)).count();
                    }
                    lines
                })
            },
        );

        group.bench_with_input(BenchmarkId::new("sse_core", size), &chunks, |b, chunks| {
            b.iter(|| {
                let mut parser = sse_core::Parser::new();
                let mut n = 0usize;
                for chunk in chunks {
                    parser.push(black_box(chunk.clone()));
                    while let Some(event) = parser.next_event().unwrap() {
                        black_box(event.data());
                        n += 1;
                    }
                }
                assert_eq!(n, events);
                n
            })
        });

        group.bench_with_input(
            BenchmarkId::new("sse_core_stream", size),
            &chunks,
            |b, chunks| {
                b.iter(|| {
                    let body = stream::iter(chunks.iter().cloned().map(Ok::<_, Infallible>));
                    let n = futures_executor::block_on(
                        sse_core::SseStream::new(body)
                            .map(|e| black_box(e.unwrap()))
                            .count(),
                    );
                    assert_eq!(n, events);
                    n
                })
            },
        );

        group.bench_with_input(
            BenchmarkId::new("eventsource_stream", size),
            &chunks,
            |b, chunks| {
                use eventsource_stream::Eventsource;
                b.iter(|| {
                    let body = stream::iter(chunks.iter().cloned().map(Ok::<_, Infallible>));
                    let n = futures_executor::block_on(
                        body.eventsource().map(|e| black_box(e.unwrap())).count(),
                    );
                    assert_eq!(n, events);
                    n
                })
            },
        );

        group.bench_with_input(
            BenchmarkId::new("sse_stream", size),
            &chunks,
            |b, chunks| {
                b.iter(|| {
                    let body = stream::iter(chunks.iter().cloned().map(Ok::<_, Infallible>));
                    let n = futures_executor::block_on(
                        sse_stream::SseStream::from_bytes_stream(body)
                            .map(|e| black_box(e.unwrap()))
                            .count(),
                    );
                    assert_eq!(n, events);
                    n
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, parsers);
criterion_main!(benches);
