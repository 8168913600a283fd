//! Zero heap allocations per single-line event in steady state, counted by
//! the global allocator of `main.rs` (`test_support::alloc::Tracking`),
//! which counts per thread.

use bytes::Bytes;
use sse_core::Parser;
use test_support::alloc::{allocations, is_installed};

const EVENT: &[u8] = b"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello, world\"}}\n\n: keep-alive\nevent: ping\ndata: {\"type\": \"ping\"}\n\n";

#[test]
fn single_line_events_do_not_allocate() {
    assert!(is_installed(), "the counting allocator of main.rs");
    let chunks: Vec<Bytes> = (0..64).map(|_| Bytes::from(EVENT.repeat(100))).collect();
    // Make the chunks shared up front (the first clone of a `Vec`-backed
    // `Bytes` allocates its shared header once per chunk, not per event).
    let keep: Vec<Bytes> = chunks.to_vec();
    let mut parser = Parser::new();
    // Warm up: grow the chunk queue once.
    for c in &chunks[..2] {
        parser.push(c.clone());
    }
    while parser.next_event().unwrap().is_some() {}

    let before = allocations();
    let mut events = 0;
    let mut bytes = 0;
    for c in &chunks[2..] {
        parser.push(c.clone());
        while let Some(e) = parser.next_event().unwrap() {
            bytes += e.data().len();
            events += 1;
        }
    }
    let after = allocations();
    assert_eq!(events, 62 * 200);
    assert!(bytes > 0);
    assert_eq!(
        after - before,
        0,
        "allocations while parsing {events} events"
    );
    drop(keep);
}

#[test]
fn split_and_multi_line_events_reuse_their_buffer() {
    assert!(is_installed(), "the counting allocator of main.rs");
    // Copying is allowed here, but the buffer's capacity is reused, so the
    // allocation count stays far below the event count.
    let input = b"data: first line\ndata: second line\n\n".repeat(2000);
    let chunks: Vec<Bytes> = input.chunks(7).map(Bytes::copy_from_slice).collect();
    let mut parser = Parser::new();
    let before = allocations();
    let mut events = 0;
    for c in chunks {
        parser.push(c);
        while parser.next_event().unwrap().is_some() {
            events += 1;
        }
    }
    let after = allocations();
    assert_eq!(events, 2000);
    // The events are dropped as they go, so the buffer is reclaimed.
    assert!(
        after - before < events / 4,
        "{} allocations for {events} events",
        after - before
    );
}

#[test]
fn owned_events_do_not_allocate_once_warm() {
    // `next_event_owned`, as `SseStream` uses it, in 64-byte chunks: nearly
    // every event's data is split across chunks and handed out split off
    // the parser's buffer, whose allocation comes back once the event is
    // dropped.
    let input = Bytes::from(EVENT.repeat(400));
    let chunks: Vec<Bytes> = (0..input.len())
        .step_by(64)
        .map(|i| input.slice(i..(i + 64).min(input.len())))
        .collect();
    let mut parser = Parser::new();
    let mut events = 0;
    let mut bytes = 0;
    let mut count = |parser: &mut Parser, chunks: &[Bytes]| {
        for c in chunks {
            parser.push(c.clone());
            while let Some(e) = parser.next_event_owned().unwrap() {
                bytes += e.data().len();
                events += 1;
            }
        }
    };
    // Warm up: the buffer's first growth and its shared header.
    count(&mut parser, &chunks[..100]);
    let before = allocations();
    count(&mut parser, &chunks[100..]);
    let after = allocations();
    assert!(events > 700, "{events} events");
    assert!(bytes > 0);
    assert_eq!(
        after - before,
        0,
        "allocations while parsing {events} events"
    );
    drop(input);
}

#[test]
fn push_slice_continuing_a_value_does_not_allocate() {
    // One 200 KiB data value in 64-byte borrowed chunks: every chunk but the
    // first and the last continues the value, and goes straight into the
    // data buffer.
    let mut input = b"data: ".to_vec();
    input.extend(std::iter::repeat_n(b'x', 200 * 1024));
    input.extend_from_slice(b"\n\n");
    let mut parser = Parser::new();
    let chunks: Vec<&[u8]> = input.chunks(64).collect();
    // Warm up: the data buffer grows to the value's size once.
    for c in &chunks {
        parser.push_slice(c);
        while parser.next_event().unwrap().is_some() {}
    }
    let before = allocations();
    let mut events = 0;
    for c in &chunks {
        parser.push_slice(c);
        while let Some(e) = parser.next_event().unwrap() {
            assert_eq!(e.data().len(), 200 * 1024);
            events += 1;
        }
    }
    let after = allocations();
    assert_eq!(events, 1);
    // The first chunk (it starts the line) and the last (the rest after the
    // line end) are copied into a `Bytes` each.
    assert!(after - before <= 2, "{} allocations", after - before);
}
