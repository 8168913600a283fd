//! The `Stream` adapter.

use bytes::Bytes;
use futures_util::{StreamExt, stream};
use proptest::prelude::*;
use sse_core::{Finish, ParserConfig, SseStream, StreamError};

use crate::props::{long_line_input, sse_input};
use crate::support::{Out, chunks_of, run_chunks, split_at_points};

type Chunk = Result<Bytes, &'static str>;

fn collect(chunks: Vec<Chunk>, config: &ParserConfig) -> Vec<Result<String, String>> {
    let events = SseStream::with_parser(stream::iter(chunks), config.build());
    futures_executor::block_on(
        events
            .map(|r| r.map(|e| e.data().to_owned()).map_err(|e| e.to_string()))
            .collect(),
    )
}

fn ok(s: &'static [u8]) -> Chunk {
    Ok(Bytes::from_static(s))
}

#[test]
fn events_across_chunks() {
    let out = collect(
        vec![ok(b"data: a\r"), ok(b"\n\r"), ok(b"\ndata: b\n\n")],
        &ParserConfig::default(),
    );
    assert_eq!(out, vec![Ok("a".to_owned()), Ok("b".to_owned())]);
}

#[test]
fn truncation_is_reported_last() {
    let out = collect(vec![ok(b"data: a\n\ndata: b\n")], &ParserConfig::default());
    assert_eq!(out.len(), 2);
    assert_eq!(out[0], Ok("a".to_owned()));
    assert!(
        out[1].as_ref().unwrap_err().contains("truncated"),
        "{:?}",
        out[1]
    );
}

#[test]
fn transport_errors_pass_through() {
    let out = collect(
        vec![ok(b"data: a\n\n"), Err("reset"), ok(b"data: b\n\n")],
        &ParserConfig::default(),
    );
    assert_eq!(
        out,
        vec![
            Ok("a".to_owned()),
            Err("reading the event stream failed: reset".to_owned()),
            Ok("b".to_owned())
        ]
    );
}

#[test]
fn size_errors_then_resume() {
    let mut config = ParserConfig::default();
    config.max_event_size(8);
    let out = collect(vec![ok(b"data: far too long\n\ndata: b\n\n")], &config);
    assert!(matches!(&out[0], Err(e) if e.contains("maximum size of 8")));
    assert_eq!(out[1], Ok("b".to_owned()));
}

#[test]
fn pulls_input_lazily() {
    // Only as many chunks are pulled as the consumer needs.
    let pulled = std::cell::Cell::new(0);
    let chunks = stream::iter((0..100).map(|_| ok(b"data: x\n\n")))
        .inspect(|_| pulled.set(pulled.get() + 1));
    let mut events = SseStream::new(chunks);
    futures_executor::block_on(async {
        for _ in 0..3 {
            events.next().await.unwrap().unwrap();
        }
    });
    assert_eq!(pulled.get(), 3);
    let err: StreamError<std::io::Error> = StreamError::Unterminated;
    assert!(std::error::Error::source(&err).is_none());
}

/// Events, size errors and the end of input, as the parser reports them
/// through `next_event` over the same chunks.
fn through_stream(config: &ParserConfig, chunks: &[&[u8]]) -> (Vec<Out>, Finish) {
    let chunks: Vec<Chunk> = chunks
        .iter()
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let items: Vec<_> = futures_executor::block_on(
        SseStream::with_parser(stream::iter(chunks), config.build()).collect::<Vec<_>>(),
    );
    let mut out = Vec::new();
    let mut finish = Finish::Clean;
    for item in items {
        match item {
            Ok(e) => out.push(Out::Event((
                e.event().to_owned(),
                e.data().to_owned(),
                e.id().to_owned(),
                e.retry(),
            ))),
            Err(StreamError::Parse(_)) => out.push(Out::TooLarge),
            Err(StreamError::Unterminated) => finish = Finish::Unterminated,
            Err(StreamError::Transport(e)) => panic!("no transport error was sent: {e}"),
        }
    }
    (out, finish)
}

proptest! {
    /// `SseStream` (which parses with its own inlined copy of
    /// `next_event_owned`) hands out the events `next_event` does, at any
    /// chunking and size limit.
    #[test]
    fn stream_events_are_the_borrowed_ones(
        input in prop_oneof![sse_input(), long_line_input()],
        points in prop::collection::vec(any::<prop::sample::Index>(), 0..6),
        limit in prop_oneof![Just(usize::MAX), 0usize..400],
    ) {
        let mut points: Vec<usize> = points.iter().map(|p| p.index(input.len() + 1)).collect();
        points.sort_unstable();
        let chunks = split_at_points(&input, &points);
        let mut config = ParserConfig::default();
        config.max_event_size(limit);
        prop_assert_eq!(through_stream(&config, &chunks), run_chunks(&config, &chunks));
        let bytewise = chunks_of(&input, 1);
        prop_assert_eq!(through_stream(&config, &bytewise), run_chunks(&config, &bytewise));
    }
}
