//! Table-driven cases, one per rule of the event-stream interpretation. Each
//! case runs at every chunk size and every single split point.

use sse_core::{Finish, ParserConfig};

use crate::support::{Out, all_chunkings, run_chunks};

/// Checks that `input`, chunked every way, yields `events` and ends with `finish`.
pub(crate) fn check(input: &[u8], events: &[(&str, &str, &str, Option<u64>)], finish: Finish) {
    let expected: Vec<Out> = events
        .iter()
        .map(|(t, d, i, r)| Out::Event(((*t).into(), (*d).into(), (*i).into(), *r)))
        .collect();
    for chunks in all_chunkings(input) {
        let (out, fin) = run_chunks(&ParserConfig::default(), &chunks);
        assert_eq!(
            out,
            expected,
            "input {:?} chunked as {chunks:?}",
            String::from_utf8_lossy(input)
        );
        assert_eq!(
            fin,
            finish,
            "finish for {:?} chunked as {chunks:?}",
            String::from_utf8_lossy(input)
        );
    }
}

macro_rules! cases {
    ($($name:ident: $input:expr => [$($ev:expr),* $(,)?] $(, $fin:ident)?;)*) => {$(
        #[test]
        fn $name() {
            #[allow(unused_mut, unused_assignments)]
            let mut finish = Finish::Clean;
            $(finish = Finish::$fin;)?
            check($input, &[$($ev),*], finish);
        }
    )*};
}

const M: &str = "message";

cases! {
    lf_line_ends: b"data: a\n\ndata: b\n\n" => [(M, "a", "", None), (M, "b", "", None)];
    crlf_line_ends: b"data: a\r\n\r\ndata: b\r\n\r\n" => [(M, "a", "", None), (M, "b", "", None)];
    cr_line_ends: b"data: a\r\rdata: b\r\r" => [(M, "a", "", None), (M, "b", "", None)];
    mixed_line_ends: b"data: a\r\ndata: b\rdata: c\n\r\n" => [(M, "a\nb\nc", "", None)];
    cr_only_stream_keeps_last_event: b"event: x\rdata: last\r\r" => [("x", "last", "", None)];
    lf_cr_is_two_line_ends: b"data: a\n\r" => [(M, "a", "", None)];
    cr_cr_lf: b"data: a\r\r\n" => [(M, "a", "", None)];
    bom_dropped: b"\xEF\xBB\xBFdata: a\n\n" => [(M, "a", "", None)];
    bom_only_once: b"\xEF\xBB\xBF\xEF\xBB\xBFdata: a\n\ndata: b\n\n" => [(M, "b", "", None)];
    partial_bom_is_data: b"\xEF\xBBdata: a\n\ndata: b\n\n" => [(M, "b", "", None)];
    bom_then_comment: b"\xEF\xBB\xBF: hi\ndata: a\n\n" => [(M, "a", "", None)];
    bom_alone: b"\xEF\xBB\xBF" => [];
    bom_not_at_start_is_content: b"data: \xEF\xBB\xBFa\n\n" => [(M, "\u{FEFF}a", "", None)];
    comments_ignored: b": comment\ndata: a\n: another\n\n" => [(M, "a", "", None)];
    comment_only_block_not_dispatched: b": ping\n\n" => [];
    one_space_stripped: b"data:  two\n\n" => [(M, " two", "", None)];
    no_space_after_colon: b"data:x\n\n" => [(M, "x", "", None)];
    trailing_space_kept: b"data: x \n\n" => [(M, "x ", "", None)];
    tab_not_stripped: b"data:\tx\n\n" => [(M, "\tx", "", None)];
    colon_in_value: b"data: a: b\n\n" => [(M, "a: b", "", None)];
    line_without_colon_is_empty_value: b"data\n\n" => [(M, "", "", None)];
    empty_data_dispatched: b"data:\n\n" => [(M, "", "", None)];
    data_lines_joined: b"data: a\ndata: b\ndata\ndata: c\n\n" => [(M, "a\nb\n\nc", "", None)];
    two_empty_data_lines: b"data\ndata\n\n" => [(M, "\n", "", None)];
    event_type_set: b"event: ping\ndata: {}\n\n" => [("ping", "{}", "", None)];
    event_type_resets_after_dispatch: b"event: a\ndata: 1\n\ndata: 2\n\n" => [("a", "1", "", None), (M, "2", "", None)];
    empty_event_type_is_message: b"event:\ndata: 1\n\n" => [(M, "1", "", None)];
    last_event_type_wins: b"event: a\nevent: b\ndata: 1\n\n" => [("b", "1", "", None)];
    event_without_data_not_dispatched: b"event: a\n\ndata: 2\n\n" => [(M, "2", "", None)];
    event_type_of_undispatched_event_forgotten: b"event: a\nid: 1\n\ndata: 2\n\n" => [(M, "2", "1", None)];
    id_set: b"id: 7\ndata: a\n\n" => [(M, "a", "7", None)];
    id_persists: b"id: 7\ndata: a\n\ndata: b\n\n" => [(M, "a", "7", None), (M, "b", "7", None)];
    id_with_nul_ignored: b"id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n" => [(M, "a", "1", None), (M, "b", "1", None)];
    empty_id_resets: b"id: 1\ndata: a\n\nid\ndata: b\n\n" => [(M, "a", "1", None), (M, "b", "", None)];
    id_of_undispatched_event_persists: b"id: 9\n\ndata: a\n\n" => [(M, "a", "9", None)];
    retry_digits: b"retry: 1500\ndata: a\n\ndata: b\n\n" => [(M, "a", "", Some(1500)), (M, "b", "", None)];
    retry_not_digits_ignored: b"retry: 15a\ndata: a\n\nretry: -1\ndata: b\n\nretry:\ndata: c\n\nretry:  1\ndata: d\n\n" => [(M, "a", "", None), (M, "b", "", None), (M, "c", "", None), (M, "d", "", None)];
    retry_huge_saturates: b"retry: 123456789012345678901234567890\ndata: a\n\n" => [(M, "a", "", Some(u64::MAX))];
    unknown_fields_ignored: b"foo: bar\ndata: a\nDATA: b\n\n" => [(M, "a", "", None)];
    field_names_case_sensitive: b"Data: a\nEvent: x\n\n" => [];
    extra_blank_lines: b"\n\n\ndata: a\n\n\n\n" => [(M, "a", "", None)];
    unterminated_discarded: b"data: a\n\ndata: b\n" => [(M, "a", "", None)], Unterminated;
    unterminated_partial_line: b"data: a\n\ndata: b" => [(M, "a", "", None)], Unterminated;
    unterminated_event_field: b"data: a\n\nevent: x\n" => [(M, "a", "", None)], Unterminated;
    trailing_comment_is_clean: b"data: a\n\n: bye\n" => [(M, "a", "", None)];
    empty_input: b"" => [];
    invalid_utf8_replaced: b"data: a\xFFb\n\n" => [(M, "a\u{FFFD}b", "", None)];
    truncated_utf8_replaced: b"data: \xE2\x82\n\n" => [(M, "\u{FFFD}", "", None)];
    utf8_split_across_lines: b"data: \xE2\ndata: \x82\xAC\n\n" => [(M, "\u{FFFD}\n\u{FFFD}\u{FFFD}", "", None)];
    invalid_utf8_in_event_and_id: b"event: \xFFx\nid: \xC3\ndata: a\n\n" => [("\u{FFFD}x", "a", "\u{FFFD}", None)];
    multibyte_text: b"data: \xE2\x82\xAC \xF0\x9F\xA6\x80\n\n" => [(M, "\u{20AC} \u{1F980}", "", None)];
    nul_in_data_kept: b"data: a\x00b\n\n" => [(M, "a\0b", "", None)];
    claude_stream: b"event: message_start\ndata: {\"type\":\"message_start\"}\n\nevent: ping\ndata: {\"type\": \"ping\"}\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\n" => [
        ("message_start", "{\"type\":\"message_start\"}", "", None),
        ("ping", "{\"type\": \"ping\"}", "", None),
        ("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}", "", None),
    ];
}

/// The table above, exported for the dump example's test.
/// (type, data, id, retry) of an expected event.
pub(crate) type Expected = (&'static str, &'static str, &'static str, Option<u64>);

pub(crate) const DUMP_CASES: &[(&[u8], &[Expected])] = &[
    (
        b"data: a\r\n\r\ndata: b\rdata: c\r\r",
        &[(M, "a", "", None), (M, "b\nc", "", None)],
    ),
    (
        b"\xEF\xBB\xBF: c\nevent: e\nid: 4\nretry: 10\ndata:  x\n\n",
        &[("e", " x", "4", Some(10))],
    ),
    (
        b"id: 1\x00\ndata\n\nevent: z\n\ndata: \xFF\n\ndata: tail",
        &[(M, "", "", None), (M, "\u{FFFD}", "", None)],
    ),
];
