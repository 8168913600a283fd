//! Properties: chunking never changes the result, the parser agrees with the
//! reference parser, and encode/parse round-trips.

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use sse_core::{Encoder, Event, Finish, Parser, ParserConfig};

use crate::{
    reference,
    support::{
        Out, ev, run_chunks, run_chunks_owned, run_chunks_slices, run_chunks_to_event,
        split_at_points,
    },
};

/// Inputs built from the tokens that matter to the grammar, plus raw bytes.
pub(crate) fn sse_input() -> impl Strategy<Value = Vec<u8>> {
    let token = prop_oneof![
        Just(b"data".to_vec()),
        Just(b"data:".to_vec()),
        Just(b"data: ".to_vec()),
        Just(b"event:".to_vec()),
        // A type the owned path hands out as a static string.
        Just(b"event: content_block_delta".to_vec()),
        Just(b"id:".to_vec()),
        Just(b"retry:".to_vec()),
        Just(b":".to_vec()),
        Just(b" ".to_vec()),
        Just(b"\r".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\n\n".to_vec()),
        Just(b"\0".to_vec()),
        Just(b"\xEF\xBB\xBF".to_vec()),
        Just(b"\xEF\xBB".to_vec()),
        Just(b"\xFF".to_vec()),
        Just("\u{20AC}".as_bytes().to_vec()),
        Just(b"12".to_vec()),
        Just(b"x".to_vec()),
        any::<u8>().prop_map(|b| vec![b]),
    ];
    prop::collection::vec(token, 0..60).prop_map(|t| t.concat())
}

/// Inputs with long lines (past the scanner's 64-byte short path, through
/// its wide scan), ASCII and not, and invalid UTF-8, for the paths that
/// scan, copy and validate long values.
pub(crate) fn long_line_input() -> impl Strategy<Value = Vec<u8>> {
    let token = prop_oneof![
        3 => Just(b"data: ".to_vec()),
        1 => Just(b"data:".to_vec()),
        2 => Just(b"event: ".to_vec()),
        1 => Just(b"id: ".to_vec()),
        3 => (1usize..300).prop_map(|n| b"abcdefghij".iter().copied().cycle().take(n).collect()),
        2 => (1usize..120).prop_map(|n| "\u{4e2d}\u{1F600}".repeat(n).into_bytes()),
        1 => Just(b"\xE4\xB8".to_vec()),
        1 => Just(b"\xFF".to_vec()),
        2 => Just(b"\n".to_vec()),
        1 => Just(b"\r".to_vec()),
        1 => Just(b"\r\n".to_vec()),
        2 => Just(b"\n\n".to_vec()),
    ];
    prop::collection::vec(token, 0..30).prop_map(|t| t.concat())
}

/// Inputs with `data` values of hundreds to thousands of bytes: past the
/// parser's `LONG_DATA` (512), where a value is copied while scanned when
/// it starts a chunk's long tail.
fn very_long_line_input() -> impl Strategy<Value = Vec<u8>> {
    let token = prop_oneof![
        4 => Just(b"data: ".to_vec()),
        1 => Just(b"event: x".to_vec()),
        4 => (400usize..1500).prop_map(|n| b"0123456789abcdef".iter().copied().cycle().take(n).collect()),
        1 => (100usize..400).prop_map(|n| "\u{4e2d}\u{e9}".repeat(n).into_bytes()),
        1 => Just(b"\xFF".to_vec()),
        3 => Just(b"\n".to_vec()),
        1 => Just(b"\r".to_vec()),
        1 => Just(b"\r\n".to_vec()),
        3 => Just(b"\n\n".to_vec()),
    ];
    prop::collection::vec(token, 0..16).prop_map(|t| t.concat())
}

/// Sorted split points within `0..=len`.
fn with_splits(
    input: impl Strategy<Value = Vec<u8>>,
) -> impl Strategy<Value = (Vec<u8>, Vec<usize>)> {
    input.prop_flat_map(|bytes| {
        let len = bytes.len();
        let points = prop::collection::vec(0..=len, 0..12).prop_map(|mut p| {
            p.sort_unstable();
            p
        });
        (Just(bytes), points)
    })
}

fn event_strategy() -> impl Strategy<Value = Event> {
    let text = "[a-z:\n \u{20AC}\u{0}]{0,12}";
    let name = "[a-z_:\u{20AC}\u{0}]{0,8}";
    let id = "[a-z0-9 :\u{20AC}]{0,6}";
    (text, name, id, prop::option::of(any::<u64>())).prop_map(|(data, name, id, retry)| {
        Event::new(data)
            .with_event(name)
            .with_id(id)
            .with_retry(retry)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn any_chunking_gives_the_same_events((input, points) in with_splits(sse_input())) {
        let whole = run_chunks(&ParserConfig::default(), &[&input]);
        let split = run_chunks(&ParserConfig::default(), &split_at_points(&input, &points));
        prop_assert_eq!(&split, &whole);
        let bytewise: Vec<&[u8]> = input.chunks(1).collect();
        prop_assert_eq!(&run_chunks(&ParserConfig::default(), &bytewise), &whole);
    }

    #[test]
    fn owned_events_are_the_borrowed_ones((input, points) in with_splits(sse_input()), limit in prop_oneof![Just(usize::MAX), 0usize..60]) {
        let mut config = ParserConfig::default();
        config.max_event_size(limit);
        let chunks = split_at_points(&input, &points);
        let borrowed = run_chunks(&config, &chunks);
        prop_assert_eq!(&run_chunks_owned(&config, &chunks), &borrowed);
        prop_assert_eq!(&run_chunks_to_event(&config, &chunks), &borrowed);
        prop_assert_eq!(&run_chunks_slices(&config, &chunks), &borrowed);
        let bytewise: Vec<&[u8]> = input.chunks(1).collect();
        prop_assert_eq!(&run_chunks_owned(&config, &bytewise), &borrowed);
    }

    #[test]
    fn agrees_with_reference((input, points) in with_splits(sse_input())) {
        let (out, finish) = run_chunks(&ParserConfig::default(), &split_at_points(&input, &points));
        let expected = reference::parse(&input);
        let expected_out: Vec<Out> = expected.events.into_iter().map(Out::Event).collect();
        prop_assert_eq!(out, expected_out);
        prop_assert_eq!(finish == Finish::Unterminated, expected.unterminated);
    }

    #[test]
    fn long_lines_agree_with_reference((input, points) in with_splits(long_line_input())) {
        let (out, finish) = run_chunks(&ParserConfig::default(), &split_at_points(&input, &points));
        let expected = reference::parse(&input);
        let expected_out: Vec<Out> = expected.events.into_iter().map(Out::Event).collect();
        prop_assert_eq!(&out, &expected_out);
        prop_assert_eq!(finish == Finish::Unterminated, expected.unterminated);
        let small: Vec<&[u8]> = input.chunks(13).collect();
        prop_assert_eq!(&run_chunks(&ParserConfig::default(), &small).0, &expected_out);
        let chunks = split_at_points(&input, &points);
        prop_assert_eq!(&run_chunks_owned(&ParserConfig::default(), &chunks).0, &expected_out);
        prop_assert_eq!(&run_chunks_owned(&ParserConfig::default(), &small).0, &expected_out);
        prop_assert_eq!(&run_chunks_to_event(&ParserConfig::default(), &small).0, &expected_out);
        prop_assert_eq!(&run_chunks_slices(&ParserConfig::default(), &small).0, &expected_out);
        prop_assert_eq!(&run_chunks_slices(&ParserConfig::default(), &chunks).0, &expected_out);
    }

    #[test]
    fn very_long_lines_agree_with_reference((input, points) in with_splits(very_long_line_input())) {
        let expected = reference::parse(&input);
        let expected_out: Vec<Out> = expected.events.into_iter().map(Out::Event).collect();
        let chunks = split_at_points(&input, &points);
        let (out, finish) = run_chunks(&ParserConfig::default(), &chunks);
        prop_assert_eq!(&out, &expected_out);
        prop_assert_eq!(finish == Finish::Unterminated, expected.unterminated);
        prop_assert_eq!(&run_chunks(&ParserConfig::default(), &[&input]).0, &expected_out);
        prop_assert_eq!(&run_chunks_owned(&ParserConfig::default(), &chunks).0, &expected_out);
        prop_assert_eq!(&run_chunks_slices(&ParserConfig::default(), &chunks).0, &expected_out);
        prop_assert_eq!(&run_chunks_to_event(&ParserConfig::default(), &chunks).0, &expected_out);
        let small: Vec<&[u8]> = input.chunks(700).collect();
        prop_assert_eq!(&run_chunks(&ParserConfig::default(), &small).0, &expected_out);
    }

    #[test]
    fn very_long_line_size_limit_does_not_depend_on_chunking((input, points) in with_splits(very_long_line_input()), limit in 0usize..4000) {
        let mut config = ParserConfig::default();
        config.max_event_size(limit);
        let whole = run_chunks(&config, &[&input]);
        let chunks = split_at_points(&input, &points);
        prop_assert_eq!(&run_chunks(&config, &chunks), &whole);
        prop_assert_eq!(&run_chunks_owned(&config, &chunks), &whole);
        prop_assert_eq!(&run_chunks_slices(&config, &chunks), &whole);
    }

    #[test]
    fn long_line_size_limit_does_not_depend_on_chunking((input, points) in with_splits(long_line_input()), limit in 0usize..600) {
        let mut config = ParserConfig::default();
        config.max_event_size(limit);
        let whole = run_chunks(&config, &[&input]);
        let split = run_chunks(&config, &split_at_points(&input, &points));
        prop_assert_eq!(split, whole);
    }

    #[test]
    fn arbitrary_bytes_agree_with_reference(input in prop::collection::vec(any::<u8>(), 0..300), split in any::<prop::sample::Index>()) {
        let p = split.index(input.len() + 1);
        let (out, _) = run_chunks(&ParserConfig::default(), &split_at_points(&input, &[p]));
        let expected: Vec<Out> = reference::parse(&input).events.into_iter().map(Out::Event).collect();
        prop_assert_eq!(out, expected);
    }

    #[test]
    fn size_limit_does_not_depend_on_chunking((input, points) in with_splits(sse_input()), limit in 0usize..40) {
        let mut config = ParserConfig::default();
        config.max_event_size(limit);
        let whole = run_chunks(&config, &[&input]);
        let split = run_chunks(&config, &split_at_points(&input, &points));
        prop_assert_eq!(split, whole);
    }

    #[test]
    fn encode_parse_round_trip(events in prop::collection::vec(event_strategy(), 0..8), size in 1usize..50) {
        let mut encoder = Encoder::new();
        let mut out = BytesMut::new();
        for e in &events {
            encoder.encode(e, &mut out).unwrap();
            encoder.comment("between\nevents", &mut out);
        }
        let bytes = out.freeze();
        let mut parser = Parser::new();
        let mut parsed = Vec::new();
        for chunk in bytes.chunks(size) {
            parser.push(Bytes::copy_from_slice(chunk));
            while let Some(e) = parser.next_event().unwrap() {
                parsed.push(e.to_event());
            }
        }
        prop_assert_eq!(parser.finish(), Finish::Clean);
        prop_assert_eq!(&parsed, &events);
    }

    #[test]
    fn encoded_cr_reads_back_as_lf(data in "[a\r\n]{0,10}") {
        let mut out = BytesMut::new();
        Encoder::new().encode(&Event::new(data.clone()), &mut out).unwrap();
        let mut parser = Parser::new();
        parser.push(out.freeze());
        let parsed = parser.next_event().unwrap().unwrap();
        let expected = data.replace("\r\n", "\n").replace('\r', "\n");
        prop_assert_eq!(ev(&parsed).1, expected);
    }
}
