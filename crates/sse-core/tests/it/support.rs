//! Helpers: run the parser over input split in various ways.

use bytes::Bytes;
use sse_core::{Finish, Parser, ParserConfig};

/// An event as a plain tuple: (type, data, last event id, retry).
pub(crate) type Ev = (String, String, String, Option<u64>);

pub(crate) fn ev(event: &sse_core::EventRef<'_>) -> Ev {
    (
        event.event().to_owned(),
        event.data().to_owned(),
        event.id().to_owned(),
        event.retry(),
    )
}

/// One item of parser output: an event or a size error.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Out {
    Event(Ev),
    TooLarge,
}

/// Parses `chunks` in order, draining after each push.
pub(crate) fn run_chunks(config: &ParserConfig, chunks: &[&[u8]]) -> (Vec<Out>, Finish) {
    let mut parser = config.build();
    let mut out = Vec::new();
    for chunk in chunks {
        parser.push(Bytes::copy_from_slice(chunk));
        drain(&mut parser, &mut out);
    }
    (out, parser.finish())
}

pub(crate) fn drain(parser: &mut Parser, out: &mut Vec<Out>) {
    loop {
        match parser.next_event() {
            Ok(Some(e)) => out.push(Out::Event(ev(&e))),
            Ok(None) => break,
            Err(_) => out.push(Out::TooLarge),
        }
    }
}

/// Splits `input` into chunks of `size` bytes.
pub(crate) fn chunks_of(input: &[u8], size: usize) -> Vec<&[u8]> {
    if input.is_empty() {
        return vec![];
    }
    input.chunks(size).collect()
}

/// Splits `input` at the given sorted, in-range offsets.
pub(crate) fn split_at_points<'a>(input: &'a [u8], points: &[usize]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut last = 0;
    for &p in points {
        out.push(&input[last..p]);
        last = p;
    }
    out.push(&input[last..]);
    out
}

/// Every chunking worth checking for a short input: every chunk size, and
/// every single split point (which covers a split between CR and LF).
pub(crate) fn all_chunkings(input: &[u8]) -> Vec<Vec<&[u8]>> {
    let mut all = vec![vec![input]];
    for size in 1..=input.len().max(1) {
        all.push(chunks_of(input, size));
    }
    for p in 0..=input.len() {
        all.push(split_at_points(input, &[p]));
    }
    all
}

/// [`run_chunks`] through [`Parser::next_event_owned`], holding on to every
/// event until the end (so that the parser cannot take its buffer back
/// while an event still shares it).
pub(crate) fn run_chunks_owned(config: &ParserConfig, chunks: &[&[u8]]) -> (Vec<Out>, Finish) {
    let mut parser = config.build();
    let mut kept = Vec::new();
    let mut out = Vec::new();
    for chunk in chunks {
        parser.push(Bytes::copy_from_slice(chunk));
        loop {
            match parser.next_event_owned() {
                Ok(Some(e)) => {
                    out.push(Out::Event((
                        e.event().to_owned(),
                        e.data().to_owned(),
                        e.id().to_owned(),
                        e.retry(),
                    )));
                    kept.push(e);
                }
                Ok(None) => break,
                Err(_) => out.push(Out::TooLarge),
            }
        }
    }
    // The kept events still read as they did when handed out.
    let events: Vec<&Out> = out.iter().filter(|o| matches!(o, Out::Event(_))).collect();
    assert_eq!(events.len(), kept.len());
    for (e, o) in kept.iter().zip(events) {
        let Out::Event((event, data, id, retry)) = o else {
            unreachable!()
        };
        assert_eq!(
            (e.event(), e.data(), e.id(), e.retry()),
            (event.as_str(), data.as_str(), id.as_str(), *retry)
        );
    }
    (out, parser.finish())
}

/// [`run_chunks`], checking that `EventRef::to_event` and
/// `EventRef::data_str` agree with the borrowed event.
pub(crate) fn run_chunks_to_event(config: &ParserConfig, chunks: &[&[u8]]) -> (Vec<Out>, Finish) {
    let mut parser = config.build();
    let mut out = Vec::new();
    for chunk in chunks {
        parser.push(Bytes::copy_from_slice(chunk));
        loop {
            match parser.next_event() {
                Ok(Some(e)) => {
                    let owned = e.to_event();
                    assert!(e == owned, "{e:?} != {owned:?}");
                    assert_eq!(e.data_str().as_str(), e.data());
                    out.push(Out::Event(ev(&e)));
                }
                Ok(None) => break,
                Err(_) => out.push(Out::TooLarge),
            }
        }
    }
    (out, parser.finish())
}

/// [`run_chunks`] through [`Parser::push_slice`], also checking the
/// parser's offset after each chunk.
pub(crate) fn run_chunks_slices(config: &ParserConfig, chunks: &[&[u8]]) -> (Vec<Out>, Finish) {
    let mut parser = config.build();
    let mut out = Vec::new();
    let mut pushed = 0u64;
    for chunk in chunks {
        parser.push_slice(chunk);
        pushed += chunk.len() as u64;
        drain(&mut parser, &mut out);
        assert_eq!(parser.offset(), pushed, "offset after a drained chunk");
    }
    (out, parser.finish())
}
