//! Batch results decoding: MB/s of JSONL through `messages_batch::ResultsDecoder`
//! over realistic result lines of 2 to 4 KB (a `succeeded` message with a
//! text block with escapes and non-ASCII, a `tool_use` block on some lines,
//! full usage), fed as 16 KiB chunks of one shared buffer, as an HTTP body
//! hands them out.
//!
//! Same run, same bytes: the decoder's raw line splitting (no JSON: the
//! ceiling), and a plain loop of `memchr` + `serde_json::from_slice` per
//! line (what a straightforward implementation does).
//!
//! ```text
//! cargo bench -p benches --bench batch -- --warm-up-time 1 --measurement-time 5
//! ```

use std::hint::black_box;

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use messages_batch::ResultsDecoder;
use messages_types::BatchResultLine;

/// About `target` bytes of results JSONL; returns the bytes and the line count.
fn corpus(target: usize) -> (Bytes, usize) {
    let mut out = Vec::with_capacity(target + 8192);
    let mut lines = benches::ResultLines::new();
    while out.len() < target {
        lines.push_next(&mut out);
    }
    (Bytes::from(out), lines.count())
}

fn chunks(data: &Bytes, size: usize) -> Vec<Bytes> {
    (0..data.len())
        .step_by(size)
        .map(|i| data.slice(i..(i + size).min(data.len())))
        .collect()
}

fn decode_typed(chunks: &[Bytes]) -> usize {
    let mut dec = ResultsDecoder::new();
    let mut n = 0;
    for c in chunks {
        dec.push(c.clone());
        while let Some(line) = dec.next_line().expect("valid corpus") {
            black_box(&line);
            n += 1;
        }
    }
    dec.finish();
    while dec.next_line().expect("valid corpus").is_some() {
        n += 1;
    }
    n
}

fn split_raw(chunks: &[Bytes]) -> usize {
    let mut dec = ResultsDecoder::new();
    let mut n = 0;
    for c in chunks {
        dec.push(c.clone());
        while let Some(line) = dec.next_raw().expect("valid corpus") {
            black_box(&line);
            n += 1;
        }
    }
    n
}

fn serde_json_lines(data: &[u8]) -> usize {
    let mut n = 0;
    let mut rest = data;
    while let Some(i) = memchr::memchr(b'\n', rest) {
        let line: BatchResultLine = serde_json::from_slice(&rest[..i]).expect("valid corpus");
        black_box(&line);
        n += 1;
        rest = &rest[i + 1..];
    }
    n
}

fn bench(c: &mut Criterion) {
    let (data, lines) = corpus(8 << 20);
    let chunked = chunks(&data, 16 * 1024);
    assert_eq!(decode_typed(&chunked), lines);
    assert_eq!(split_raw(&chunked), lines);
    assert_eq!(serde_json_lines(&data), lines);
    eprintln!(
        "corpus: {} bytes, {lines} lines, {} bytes per line on average",
        data.len(),
        data.len() / lines
    );

    let mut g = c.benchmark_group("batch_results");
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.bench_function("ResultsDecoder typed (16 KiB chunks)", |b| {
        b.iter(|| decode_typed(black_box(&chunked)))
    });
    g.bench_function("ResultsDecoder raw lines (ceiling)", |b| {
        b.iter(|| split_raw(black_box(&chunked)))
    });
    g.bench_function("memchr + serde_json per line (baseline)", |b| {
        b.iter(|| serde_json_lines(black_box(&data)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
