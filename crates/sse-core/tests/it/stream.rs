//! The `Stream` adapter.

use bytes::Bytes;
use futures_util::{StreamExt, stream};
use sse_core::{ParserConfig, SseStream, StreamError};

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
