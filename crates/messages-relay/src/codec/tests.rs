use bytes::Bytes;
use messages_types::{StopReason, Text, Usage};
use proptest::prelude::*;
use serde_json::json;
use sse_core::Str;

use super::{DecodeError, ENTRY_VERSION};
use crate::format::{BlockKind, ErrorInfo, Item};
use crate::store::Entry;

/// A delta whose text is a slice of its raw data, as `map_event` makes them.
fn sliced(text: &str) -> (Bytes, Text) {
    let raw = Bytes::from(format!(
        r#"{{"type":"content_block_delta","index":0,"delta":{{"type":"text_delta","text":"{text}"}}}}"#
    ));
    let at = raw.len() - 3 - text.len();
    let t = Text::from_utf8(raw.slice(at..at + text.len())).unwrap();
    (raw, t)
}

fn kind() -> impl Strategy<Value = BlockKind> {
    prop_oneof![
        Just(BlockKind::Text),
        Just(BlockKind::Thinking),
        Just(BlockKind::Other),
        (".{0,12}", ".{0,12}").prop_map(|(id, name)| BlockKind::Tool { id, name }),
    ]
}

fn raw() -> impl Strategy<Value = Bytes> {
    proptest::collection::vec(any::<u8>(), 0..64).prop_map(Bytes::from)
}

fn item() -> impl Strategy<Value = Item> {
    prop_oneof![
        (".{0,20}", raw()).prop_map(|(message_id, raw)| Item::Start { message_id, raw }),
        (any::<u32>(), kind(), raw()).prop_map(|(index, kind, raw)| Item::BlockStart {
            index,
            kind,
            raw
        }),
        (any::<u32>(), "[a-z é]{0,30}").prop_map(|(index, s)| {
            let (raw, text) = sliced(&s);
            Item::Text {
                index,
                text,
                raw: Some(raw),
            }
        }),
        (any::<u32>(), ".{0,30}", proptest::option::of(raw())).prop_map(|(index, s, raw)| {
            // A text of its own (escaped, or merged), with or without raw data.
            Item::Text {
                index,
                text: Text::from(s),
                raw,
            }
        }),
        (any::<u32>(), "[a-z]{0,30}").prop_map(|(index, s)| {
            let (raw, text) = sliced(&s);
            Item::Thinking { index, text, raw }
        }),
        (any::<u32>(), ".{0,10}", "[a-z{}:]{0,30}").prop_map(|(index, id, s)| {
            let (raw, json) = sliced(&s);
            Item::ToolInput {
                index,
                id,
                json,
                raw,
            }
        }),
        (any::<u32>(), kind(), any::<Option<i64>>(), raw()).prop_map(|(index, kind, n, raw)| {
            Item::BlockStop {
                index,
                kind,
                input: n.map(|n| json!({"n": n, "s": "x"})),
                raw,
            }
        }),
        (proptest::option::of("[a-z_]{1,20}"), any::<u32>(), raw()).prop_map(
            |(reason, out, raw)| {
                let usage: Usage =
                    serde_json::from_value(json!({"input_tokens": 7, "output_tokens": out}))
                        .unwrap();
                Item::Stop {
                    stop_reason: reason.map(|r| StopReason::from_wire(&r)),
                    usage: Box::new(usage),
                    raw,
                }
            }
        ),
        ("[a-z_]{0,20}", raw()).prop_map(|(k, raw)| Item::Other {
            kind: Str::from(k),
            raw
        }),
        (".{0,20}", ".{0,40}", proptest::option::of(".{0,20}")).prop_map(
            |(kind, message, request_id)| Item::Error(ErrorInfo {
                kind,
                message,
                request_id,
            })
        ),
        Just(Item::Stopped),
    ]
}

proptest! {
    #[test]
    fn every_entry_round_trips(id in any::<u64>(), item in item()) {
        let entry = Entry::new(id, item);
        let bytes = entry.encode();
        let back = Entry::decode(bytes.clone()).unwrap();
        prop_assert_eq!(&back, &entry);
        // Encoding the decoded entry gives the same bytes (slices stay slices).
        prop_assert_eq!(back.encode(), bytes);
    }

    #[test]
    fn every_truncation_is_an_error(id in any::<u64>(), item in item()) {
        let bytes = Entry::new(id, item).encode();
        for n in 0..bytes.len() {
            let e = Entry::decode(bytes.slice(..n)).unwrap_err();
            prop_assert!(e.offset() <= n, "{e} for {n} bytes");
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..80)) {
        let _ = Entry::decode(Bytes::from(data));
    }
}

#[test]
fn a_sliced_text_costs_its_raw_data_and_a_few_bytes() {
    let (raw, text) = sliced("Hello, world");
    let n = raw.len();
    let entry = Entry::new(
        300,
        Item::Text {
            index: 0,
            text,
            raw: Some(raw),
        },
    );
    let bytes = entry.encode();
    // version, id (2), tag, index, flag, len (1), raw, form, offset, len.
    assert_eq!(bytes.len(), n + 10, "{bytes:?}");
}

fn err(bytes: &[u8]) -> DecodeError {
    Entry::decode(Bytes::copy_from_slice(bytes)).unwrap_err()
}

#[test]
fn corrupt_entries_say_what_and_where() {
    assert_eq!(
        err(&[]).to_string(),
        "malformed stored entry at byte 0: ends before the version"
    );
    assert_eq!(
        err(&[2, 1, 10]).to_string(),
        "malformed stored entry at byte 0: unknown version 2 (this relay reads version 1)"
    );
    assert_eq!(
        err(&[ENTRY_VERSION, 1, 99]).to_string(),
        "malformed stored entry at byte 2: unknown tag 99"
    );
    assert_eq!(
        err(&[ENTRY_VERSION, 1, 10, 0]).to_string(),
        "malformed stored entry at byte 3: 1 trailing bytes"
    );
    // An `other` event whose raw data claims 200 bytes.
    assert_eq!(
        err(&[ENTRY_VERSION, 1, 8, 1, b'x', 0xc8, 0x01, b'{']).to_string(),
        "malformed stored entry at byte 5: the raw data is 200 bytes long, but only 1 bytes follow"
    );
    // A text delta whose text slice runs past its raw data.
    assert_eq!(
        err(&[ENTRY_VERSION, 1, 3, 0, 1, 2, b'h', b'i', 1, 1, 5]).to_string(),
        "malformed stored entry at byte 9: the text slice 1+5 is outside the 2 bytes of raw data"
    );
    // Invalid UTF-8 in a text.
    assert_eq!(
        err(&[ENTRY_VERSION, 1, 3, 0, 0, 0, 1, 0xff]).to_string(),
        "malformed stored entry at byte 5: the text is not UTF-8"
    );
    // A varint that never ends.
    assert_eq!(
        err(&[
            ENTRY_VERSION,
            0xff,
            0xff,
            0xff,
            0xff,
            0xff,
            0xff,
            0xff,
            0xff,
            0xff,
            0x7f
        ])
        .to_string(),
        "malformed stored entry at byte 1: the id overflows 64 bits"
    );
    // Usage that is not JSON.
    assert!(
        err(&[ENTRY_VERSION, 1, 7, 0, 1, b'{', 0])
            .to_string()
            .contains("at byte 4: the usage is not valid JSON")
    );
}
