//! The SSE comparison of `benches/sse.rs`, timed so that a busy machine
//! disturbs it less: for each corpus and chunk size, every parser runs once
//! per round, in turn, for several rounds, and the fastest pass of each is
//! kept. Parsers measured side by side in the same rounds share whatever
//! load the machine had then, and the minimum discards the passes another
//! process interrupted.
//!
//! ```text
//! cargo run --profile bench -p benches --bin sse_time -- [ROUNDS] [CORPUS...]
//! ```
//!
//! Prints one Markdown table row per cell: MiB/s of the memchr2 ceiling,
//! of sse-core (`Parser::push`, `SseStream`, `Parser::push_slice`) and of
//! each peer, the ratios to the fastest peer, and sse-core's share of the
//! ceiling.
//!
//! ```text
//! cargo run --profile bench -p benches --bin sse_time -- --only P1,P2,... [ROUNDS] [CORPUS...]
//! ```
//!
//! times only the named parsers (those of `PARSERS` and `VARIANTS`, and
//! `memchr_scan`; for example `memchr_scan,sse_core,sse_core_stream`), in the same
//! interleaved rounds, and prints their MiB/s per cell (only the chunk
//! size `SSE_TIME_CHUNK`, when that is set).

use std::hint::black_box;
use std::time::{Duration, Instant};

use benches::sse_peers::{self, CHUNK_SIZES, PARSERS, PEERS, VARIANTS};

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--only") && args.len() > 1 {
        let only: Vec<String> = args[1].split(',').map(str::to_owned).collect();
        args.drain(..2);
        only_these(&only, &args);
        return;
    }
    let rounds: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(15);
    let names: Vec<&str> = if args.len() > 1 {
        args[1..].iter().map(String::as_str).collect()
    } else {
        vec!["claude", "tiny", "long", "cjk", "crlf"]
    };
    println!(
        "| corpus | chunk | memchr2 | sse-core | SseStream | push_slice | {} | ratio | SseStream ratio | push_slice ratio | % of ceiling |",
        PEERS.join(" | ")
    );
    println!("|{}", "---|".repeat(11 + PEERS.len()));
    for name in names {
        let corpus = sse_peers::corpus(name, 2 * 1024 * 1024).expect("known corpus");
        let mib = corpus.bytes.len() as f64 / (1024.0 * 1024.0);
        for size in CHUNK_SIZES {
            let chunks = sse_peers::chunked(&corpus.bytes, size);
            let skip = |p: &str| p == "eventsource_stream" && name == "long" && size < 16 * 1024;
            let mut best = vec![Duration::MAX; PARSERS.len() + 1];
            for _ in 0..rounds {
                let t = Instant::now();
                black_box(sse_peers::memchr_scan(&chunks));
                best[0] = best[0].min(t.elapsed());
                for (i, parser) in PARSERS.iter().enumerate() {
                    if skip(parser) {
                        continue;
                    }
                    let t = Instant::now();
                    let n = sse_peers::run(parser, &chunks, |event, data| {
                        black_box((event, data));
                    });
                    best[i + 1] = best[i + 1].min(t.elapsed());
                    assert_eq!(n, corpus.events, "{parser} on {name} at {size} B");
                }
            }
            let rate = |d: Duration| mib / d.as_secs_f64();
            let ceiling = rate(best[0]);
            let ours = rate(best[1]);
            let stream = rate(best[2]);
            let slice = rate(best[3]);
            let peers: Vec<Option<f64>> = PEERS
                .iter()
                .map(|p| {
                    let i = PARSERS.iter().position(|q| q == p).unwrap() + 1;
                    (best[i] != Duration::MAX).then(|| rate(best[i]))
                })
                .collect();
            let fastest = peers.iter().flatten().copied().fold(0.0, f64::max);
            let cells: Vec<String> = peers
                .iter()
                .map(|r| r.map_or("-".into(), |r| format!("{r:.0}")))
                .collect();
            println!(
                "| {name} | {size} | {ceiling:.0} | {ours:.0} | {stream:.0} | {slice:.0} | {} | {:.2}x | {:.2}x | {:.2}x | {:.0}% |",
                cells.join(" | "),
                ours / fastest,
                stream / fastest,
                slice / fastest,
                100.0 * ours / ceiling
            );
        }
    }
}

/// `--only`: times the parsers in `only`, interleaved, on every chunking of
/// the corpora named in `args` (after the rounds).
fn only_these(only: &[String], args: &[String]) {
    for p in only {
        assert!(
            p == "memchr_scan" || PARSERS.contains(&p.as_str()) || VARIANTS.contains(&p.as_str()),
            "unknown parser {p}"
        );
    }
    let rounds: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(15);
    let names: Vec<&str> = if args.len() > 1 {
        args[1..].iter().map(String::as_str).collect()
    } else {
        vec!["claude", "tiny", "long", "cjk", "crlf"]
    };
    println!("| corpus | chunk | {} |", only.join(" | "));
    println!("|{}", "---|".repeat(2 + only.len()));
    // `SSE_TIME_CHUNK=N` times only that chunk size (for a profiler).
    let sizes: Vec<usize> = match std::env::var("SSE_TIME_CHUNK") {
        Ok(n) => vec![n.parse().expect("SSE_TIME_CHUNK is a number")],
        Err(_) => CHUNK_SIZES.to_vec(),
    };
    for name in names {
        let corpus = sse_peers::corpus(name, 2 * 1024 * 1024).expect("known corpus");
        let mib = corpus.bytes.len() as f64 / (1024.0 * 1024.0);
        for &size in &sizes {
            let chunks = sse_peers::chunked(&corpus.bytes, size);
            let mut best = vec![Duration::MAX; only.len()];
            for _ in 0..rounds {
                for (i, parser) in only.iter().enumerate() {
                    let t = Instant::now();
                    if parser == "memchr_scan" {
                        black_box(sse_peers::memchr_scan(&chunks));
                        best[i] = best[i].min(t.elapsed());
                        continue;
                    }
                    let n = sse_peers::run(parser, &chunks, |event, data| {
                        black_box((event, data));
                    });
                    best[i] = best[i].min(t.elapsed());
                    assert_eq!(n, corpus.events, "{parser} on {name} at {size} B");
                }
            }
            let cells: Vec<String> = best
                .iter()
                .map(|d| format!("{:.0}", mib / d.as_secs_f64()))
                .collect();
            println!("| {name} | {size} | {} |", cells.join(" | "));
        }
    }
}
