//! The SSE comparison: five generated corpora, the chunkings they are read
//! in, and one runner per parser (this workspace's `sse-core`, sans-IO with
//! owned chunks (`push`) and with borrowed ones (`push_slice`) and through
//! its `Stream` adapter, and every Rust peer), shared by the
//! criterion bench (`benches/sse.rs`), the instruction-count binary
//! (`bin/sse_count.rs`) and the agreement test (`tests/sse_agree.rs`), so
//! that what is measured is what is checked.
//!
//! Each peer is driven through its fastest public interface that yields
//! whole events: the sans-IO decoders of crates.io `sse-core` 0.2.3
//! (`SseDecoder`) and `sse-parse` (`SseParser`), and the `Stream` adapters of
//! `sseer`, `sse-stream` and `eventsource-stream`, which have no sans-IO
//! event API.

use std::convert::Infallible;

use bytes::Bytes;
use futures_util::{StreamExt, stream};

/// A generated event stream.
#[derive(Debug, Clone)]
pub struct Corpus {
    /// Short name, used in benchmark ids.
    pub name: &'static str,
    /// The stream's bytes.
    pub bytes: Vec<u8>,
    /// How many events a conforming parser dispatches from it.
    pub events: usize,
}

/// The chunk sizes every corpus is read in: large reads, one TCP segment's
/// payload, and small pieces that split most lines.
pub const CHUNK_SIZES: [usize; 3] = [16 * 1024, 1460, 64];

/// The five corpora, each of about `target` bytes: `claude` (the Claude
/// stream of [`crate::claude_stream`]), `tiny` (short one-line events),
/// `long` (40 KiB ASCII payloads), `cjk` (text deltas of mostly CJK and
/// emoji text) and `crlf` (the Claude stream with CRLF line ends).
pub fn corpora(target: usize) -> Vec<Corpus> {
    vec![
        claude(target),
        tiny(target),
        long(target),
        cjk(target),
        crlf(target),
    ]
}

/// One of the [`corpora`], by name.
pub fn corpus(name: &str, target: usize) -> Option<Corpus> {
    Some(match name {
        "claude" => claude(target),
        "tiny" => tiny(target),
        "long" => long(target),
        "cjk" => cjk(target),
        "crlf" => crlf(target),
        _ => return None,
    })
}

/// The Claude stream.
pub fn claude(target: usize) -> Corpus {
    let (bytes, events) = crate::claude_stream(target);
    Corpus {
        name: "claude",
        bytes,
        events,
    }
}

/// Tiny events: `data: N` and a blank line, about 10 bytes each. At
/// `target` = 1 MiB that is about 100,000 events.
pub fn tiny(target: usize) -> Corpus {
    let mut bytes = Vec::with_capacity(target + 16);
    let mut events = 0;
    while bytes.len() < target {
        bytes.extend_from_slice(format!("data: {}\n\n", events % 1000).as_bytes());
        events += 1;
    }
    Corpus {
        name: "tiny",
        bytes,
        events,
    }
}

/// Events with one 40 KiB ASCII data line each (JSON-like text), behind an
/// `event:` line and an `id:` line.
pub fn long(target: usize) -> Corpus {
    const LEN: usize = 40 * 1024;
    const WORDS: [&str; 8] = [
        "lorem",
        "ipsum",
        "dolor",
        "sit",
        "amet",
        "consectetur",
        "\\\"quoted\\\"",
        "42",
    ];
    let mut bytes = Vec::with_capacity(target + LEN + 64);
    let mut events = 0usize;
    while bytes.len() < target {
        bytes.extend_from_slice(format!("event: payload\nid: {events}\ndata: ").as_bytes());
        let start = bytes.len();
        bytes.extend_from_slice(br#"{"type":"payload","text":""#);
        let mut i = events;
        while bytes.len() - start < LEN - 2 {
            bytes.extend_from_slice(WORDS[i % WORDS.len()].as_bytes());
            bytes.push(b' ');
            i = i.wrapping_mul(31).wrapping_add(7);
        }
        bytes.truncate(start + LEN - 2);
        bytes.extend_from_slice(b"\"}\n\n");
        events += 1;
    }
    Corpus {
        name: "long",
        bytes,
        events,
    }
}

/// A Claude-shaped stream whose text deltas are mostly CJK and emoji (three
/// and four bytes a character), between 2 and 60 characters each.
pub fn cjk(target: usize) -> Corpus {
    const TEXT: &str = "你好世界🙂今日は天気がいいですね😀。한국어 텍스트도 섞여 있습니다🚀，然后我们继续写一些中文句子🎉🌏";
    let chars: Vec<char> = TEXT.chars().collect();
    let mut bytes = Vec::with_capacity(target + 512);
    let mut events = 0usize;
    let mut i = 0usize;
    while bytes.len() < target {
        let n = 2 + (i * 37) % 59;
        let text: String = (0..n).map(|k| chars[(i + k) % chars.len()]).collect();
        bytes.extend_from_slice(b"event: content_block_delta\ndata: ");
        bytes.extend_from_slice(
            format!(
                r#"{{"type":"content_block_delta","index":0,"delta":{{"type":"text_delta","text":"{text}"}}}}"#
            )
            .as_bytes(),
        );
        bytes.extend_from_slice(b"\n\n");
        events += 1;
        i += 1;
    }
    Corpus {
        name: "cjk",
        bytes,
        events,
    }
}

/// The Claude stream with every line ended by CRLF.
pub fn crlf(target: usize) -> Corpus {
    let (lf, events) = crate::claude_stream(target);
    let mut bytes = Vec::with_capacity(lf.len() * 21 / 20);
    for &b in &lf {
        if b == b'\n' {
            bytes.push(b'\r');
        }
        bytes.push(b);
    }
    Corpus {
        name: "crlf",
        bytes,
        events,
    }
}

/// `input` cut into chunks of `size` bytes, slices of one shared buffer, as
/// an HTTP body hands them out.
pub fn chunked(input: &[u8], size: usize) -> Vec<Bytes> {
    let all = Bytes::copy_from_slice(input);
    (0..input.len())
        .step_by(size)
        .map(|start| all.slice(start..(start + size).min(input.len())))
        .collect()
}

/// The parsers compared, by the name used in benchmark ids.
pub const PARSERS: [&str; 8] = [
    "sse_core",
    "sse_core_stream",
    "sse_core_slice",
    "crates_sse_core",
    "sse_parse",
    "sseer",
    "sse_stream",
    "eventsource_stream",
];

/// Further ways of driving this workspace's parser, accepted by [`run`] and
/// `sse_count` but not timed by `sse_time`: `sse_core_owned` is `push` and
/// `Parser::next_event_owned`, the path of `SseStream` without the
/// `Stream` plumbing around it.
pub const VARIANTS: [&str; 1] = ["sse_core_owned"];

/// The peers only (not this workspace's parser).
pub const PEERS: [&str; 5] = [
    "crates_sse_core",
    "sse_parse",
    "sseer",
    "sse_stream",
    "eventsource_stream",
];

fn body(chunks: &[Bytes]) -> impl futures_util::Stream<Item = Result<Bytes, Infallible>> + '_ {
    stream::iter(chunks.iter().cloned().map(Ok::<_, Infallible>))
}

/// Parses `chunks` with `parser`, calling `sink(event type, data)` for every
/// dispatched event, and returns the number of events. Panics on an unknown
/// parser name or a parse error (the corpora hold none).
#[inline(never)]
pub fn run(parser: &str, chunks: &[Bytes], mut sink: impl FnMut(&str, &str)) -> usize {
    let mut n = 0usize;
    let mut sink = |event: &str, data: &str| {
        sink(event, data);
        n += 1;
    };
    match parser {
        "sse_core" => {
            let mut p = sse_core::Parser::new();
            for chunk in chunks {
                p.push(chunk.clone());
                while let Some(e) = p.next_event().unwrap() {
                    sink(e.event(), e.data());
                }
            }
            assert!(p.finish().is_clean());
        }
        "sse_core_slice" => {
            // Borrowed input, as sse-parse's `feed` takes it.
            let mut p = sse_core::Parser::new();
            for chunk in chunks {
                p.push_slice(chunk);
                while let Some(e) = p.next_event().unwrap() {
                    sink(e.event(), e.data());
                }
            }
            assert!(p.finish().is_clean());
        }
        "sse_core_owned" => {
            let mut p = sse_core::Parser::new();
            for chunk in chunks {
                p.push(chunk.clone());
                while let Some(e) = p.next_event_owned().unwrap() {
                    sink(e.event(), e.data());
                }
            }
            assert!(p.finish().is_clean());
        }
        "sse_core_stream" => {
            futures_executor::block_on(sse_core::SseStream::new(body(chunks)).for_each(|e| {
                let e = e.unwrap();
                sink(e.event(), e.data());
                async {}
            }))
        }
        "crates_sse_core" => {
            let mut d = sse_core_peer::SseDecoder::new();
            for chunk in chunks {
                let mut buf = chunk.clone();
                while let Some(e) = d.next(&mut buf) {
                    if let sse_core_peer::SseEvent::Message(m) = e.unwrap() {
                        sink(&m.event, &m.data);
                    }
                }
            }
        }
        "sse_parse" => {
            let mut p = sse_parse::SseParser::new();
            for chunk in chunks {
                p.feed(chunk);
                while let Some(e) = p.next_event() {
                    sink(&e.event, &e.data);
                }
            }
        }
        "sseer" => {
            futures_executor::block_on(sseer::EventStream::new(body(chunks)).for_each(|e| {
                let e = e.unwrap();
                sink(&e.event, &e.data);
                async {}
            }))
        }
        "sse_stream" => futures_executor::block_on(
            sse_stream::SseStream::from_bytes_stream(body(chunks)).for_each(|e| {
                let e = e.unwrap();
                if let Some(data) = &e.data {
                    sink(e.event.as_deref().unwrap_or("message"), data);
                }
                async {}
            }),
        ),
        "eventsource_stream" => {
            use eventsource_stream::Eventsource;
            futures_executor::block_on(body(chunks).eventsource().for_each(|e| {
                let e = e.unwrap();
                sink(&e.event, &e.data);
                async {}
            }))
        }
        other => panic!("unknown parser {other}"),
    }
    n
}

/// The ceiling: a bare `memchr2` scan for CR and LF over every chunk, which
/// any SSE parser must at least do. Returns the number of line ends.
#[inline(never)]
pub fn memchr_scan(chunks: &[Bytes]) -> usize {
    chunks
        .iter()
        .map(|c| memchr::memchr2_iter(b'\n', b'\r', std::hint::black_box(c)).count())
        .sum()
}
