//! The maximum event size: a clear error, bounded memory, resynchronisation.

use bytes::Bytes;
use sse_core::{Finish, ParserConfig};

use crate::support::{Out, all_chunkings, run_chunks};

fn config(limit: usize) -> ParserConfig {
    let mut c = ParserConfig::default();
    c.max_event_size(limit);
    c
}

fn event(data: &str) -> Out {
    Out::Event(("message".into(), data.into(), String::new(), None))
}

#[test]
fn oversized_event_is_an_error_then_resyncs() {
    let input = b"data: ok\n\ndata: 0123456789\ndata: 0123456789\nid: 5\n\ndata: after\n\n";
    for chunks in all_chunkings(input) {
        let (out, finish) = run_chunks(&config(20), &chunks);
        assert_eq!(
            out,
            vec![event("ok"), Out::TooLarge, event("after")],
            "{chunks:?}"
        );
        assert_eq!(finish, Finish::Clean);
    }
}

#[test]
fn event_at_the_limit_is_accepted() {
    // "data: 0123456789" is 16 bytes.
    let (out, _) = run_chunks(&config(16), &[b"data: 0123456789\n\n"]);
    assert_eq!(out, vec![event("0123456789")]);
    let (out, _) = run_chunks(&config(15), &[b"data: 0123456789\n\n"]);
    assert_eq!(out, vec![Out::TooLarge]);
}

#[test]
fn endless_line_does_not_grow_memory() {
    let mut parser = config(1024).build();
    let chunk = Bytes::from(vec![b'a'; 4096]);
    parser.push(Bytes::from_static(b"data: "));
    parser.push(chunk.clone());
    let err = parser.next_event().unwrap_err();
    assert_eq!(err.limit(), 1024);
    assert_eq!(err.offset(), 0);
    assert!(err.to_string().contains("1024"), "{err}");
    // The rest of the line is skipped without buffering or further errors.
    for _ in 0..1000 {
        parser.push(chunk.clone());
        assert!(parser.next_event().unwrap().is_none());
    }
    parser.push(Bytes::from_static(b"\n\ndata: next\n\n"));
    assert_eq!(parser.next_event().unwrap().unwrap().data(), "next");
    assert_eq!(parser.finish(), Finish::Clean);
}

#[test]
fn error_offset_points_at_the_line() {
    let mut parser = config(10).build();
    parser.push(Bytes::from_static(b"data: a\n\ndata: 0123456789\n\n"));
    assert_eq!(parser.next_event().unwrap().unwrap().data(), "a");
    assert_eq!(parser.next_event().unwrap_err().offset(), 9);
    assert!(parser.next_event().unwrap().is_none());
}

#[test]
fn truncated_while_discarding_is_unterminated() {
    let (out, finish) = run_chunks(&config(4), &[b"data: long line"]);
    assert_eq!(out, vec![Out::TooLarge]);
    assert_eq!(finish, Finish::Unterminated);
}
