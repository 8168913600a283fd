//! Parses arbitrary input split into chunks at fuzzer-chosen points, and
//! checks that the events equal those of the unsplit input, through each
//! way in and out of the parser: `push` or `push_slice`, `next_event` or
//! `next_event_owned`.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use sse_core::{Event, Finish, ParserConfig};

fn parse(
    chunks: &[&[u8]],
    limit: usize,
    slices: bool,
    owned: bool,
) -> (Vec<Result<Event, u64>>, Finish) {
    let mut parser = ParserConfig::default().max_event_size(limit).build();
    let mut out = Vec::new();
    for chunk in chunks {
        if slices {
            parser.push_slice(chunk);
        } else {
            parser.push(Bytes::copy_from_slice(chunk));
        }
        loop {
            let next = if owned {
                parser.next_event_owned()
            } else {
                parser.next_event().map(|e| e.map(|e| e.to_event()))
            };
            match next {
                Ok(Some(e)) => out.push(Ok(e)),
                Ok(None) => break,
                Err(e) => out.push(Err(e.limit() as u64)),
            }
        }
    }
    (out, parser.finish())
}

fuzz_target!(|data: &[u8]| {
    // The first two bytes choose the size limit and the split points.
    let [limit, seed, input @ ..] = data else {
        return;
    };
    let limit = if *limit == 0 { usize::MAX } else { usize::from(*limit) * 4 };
    let mut chunks = Vec::new();
    let mut rest = input;
    let mut step = usize::from(*seed).max(1);
    while !rest.is_empty() {
        let n = step.min(rest.len());
        chunks.push(&rest[..n]);
        rest = &rest[n..];
        step = (step * 7 + 3) % 61 + 1;
    }
    let whole = parse(&[input], limit, false, false);
    assert_eq!(parse(&chunks, limit, false, false), whole);
    // The seed's low bits choose the other ways in and out.
    let (slices, owned) = (seed & 1 == 1, seed & 2 == 2);
    assert_eq!(parse(&chunks, limit, slices, owned), whole);
});
