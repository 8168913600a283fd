//! Arbitrary bytes as a Messages stream: SSE parser, typed decoder (fast
//! and generic paths, which must agree) and accumulator. Nothing may panic,
//! whatever the events, their order or their JSON.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use messages_stream::Accumulator;
use messages_types::{decode_event, decode_event_generic};
use sse_core::ParserConfig;

fuzz_target!(|data: &[u8]| {
    let mut parser = ParserConfig::default().max_event_size(1 << 16).build();
    parser.push(Bytes::copy_from_slice(data));
    let mut acc = Accumulator::new();
    let mut lean = Accumulator::discarding_text();
    while let Ok(Some(event)) = parser.next_event() {
        let name = event.event().to_owned();
        let bytes = event.data_str().into_bytes();
        let fast = decode_event(&name, &bytes);
        let generic = decode_event_generic(&bytes);
        assert_eq!(fast.is_ok(), generic.is_ok(), "{name}: {fast:?} / {generic:?}");
        if let (Ok(f), Ok(g)) = (&fast, &generic) {
            assert_eq!(f, g);
            // Every typed event serializes; errors of the accumulator are
            // values, never panics.
            let _ = serde_json::to_vec(f).expect("a decoded event serializes");
            let _ = acc.apply(f);
            let _ = lean.apply(f);
        }
    }
    let _ = parser.finish();
    let _ = acc.unknown_deltas().len();
    let _ = acc.finish();
    let _ = lean.finish();
});
