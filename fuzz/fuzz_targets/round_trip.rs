//! Encodes fuzzer-built events and checks the parser reads them back.
#![no_main]

use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;
use sse_core::{Encoder, Event, Parser};

fuzz_target!(|data: &[u8]| {
    // Input: records separated by 0xFF, each "type\x01id\x01data"; the first
    // byte picks the chunk size used to read the output back.
    let Some((&chunk, records)) = data.split_first() else {
        return;
    };
    let mut events = Vec::new();
    for record in records.split(|&b| b == 0xFF) {
        let text = String::from_utf8_lossy(record);
        let mut parts = text.splitn(3, '\u{1}');
        let kind: String = parts.next().unwrap_or("").replace(['\r', '\n'], "");
        let id: String = parts.next().unwrap_or("").replace(['\r', '\n', '\0'], "");
        // CR cannot be carried by SSE; the encoder turns it into a line break.
        let data: String = parts.next().unwrap_or("").replace('\r', "");
        let retry = (record.len() % 3 == 0).then_some(record.len() as u64);
        events.push(Event::new(data).with_event(kind).with_id(id).with_retry(retry));
    }
    let mut encoder = Encoder::new();
    let mut out = BytesMut::new();
    for e in &events {
        encoder.encode(e, &mut out).expect("sanitized events encode");
    }
    let out = out.freeze();
    let mut parser = Parser::new();
    let mut parsed = Vec::new();
    for c in out.chunks(usize::from(chunk).max(1)) {
        parser.push(Bytes::copy_from_slice(c));
        while let Some(e) = parser.next_event().expect("no size limit is reached") {
            parsed.push(e.to_event());
        }
    }
    assert!(parser.finish().is_clean());
    assert_eq!(parsed, events);
});
