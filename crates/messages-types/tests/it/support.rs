//! Test helpers: a tiny SSE splitter, proptest strategies.

use std::path::PathBuf;

use proptest::prelude::*;
use serde_json::{Map, Value};

/// The recorded fixtures folder.
pub(crate) fn recorded_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/recorded")
}

/// One dispatched SSE event: its name and data.
#[derive(Debug, Clone)]
pub(crate) struct SseEvent {
    pub(crate) name: String,
    pub(crate) data: String,
}

/// Splits an SSE body (LF line ends, as the fixtures use) into events.
/// Only `event:` and `data:` fields; an event not closed by a blank line at
/// the end of the body is discarded, as the SSE spec says.
pub(crate) fn split_sse(body: &str) -> Vec<SseEvent> {
    let mut out = Vec::new();
    let mut name = String::new();
    let mut data: Option<String> = None;
    let mut rest = body;
    while let Some(nl) = rest.find('\n') {
        let line = &rest[..nl];
        rest = &rest[nl + 1..];
        if line.is_empty() {
            if let Some(d) = data.take() {
                let n = if name.is_empty() {
                    "message".to_owned()
                } else {
                    std::mem::take(&mut name)
                };
                out.push(SseEvent { name: n, data: d });
            }
            name.clear();
        } else if let Some(v) = line.strip_prefix("event:") {
            name = v.strip_prefix(' ').unwrap_or(v).to_owned();
        } else if let Some(v) = line.strip_prefix("data:") {
            let v = v.strip_prefix(' ').unwrap_or(v);
            match &mut data {
                Some(d) => {
                    d.push('\n');
                    d.push_str(v);
                }
                None => data = Some(v.to_owned()),
            }
        }
    }
    out
}

/// Arbitrary JSON values without floats (serde_json's default float parsing
/// is not guaranteed to round-trip every last bit).
pub(crate) fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        Just(Value::from(0.5)),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A JSON object with a `type` no version of the API uses.
pub(crate) fn unknown_object() -> impl Strategy<Value = Value> {
    (
        "x_[a-z_]{1,12}",
        prop::collection::btree_map("[a-z_]{1,8}", json_value(), 0..4),
    )
        .prop_map(|(ty, fields)| {
            let mut m: Map<String, Value> =
                fields.into_iter().filter(|(k, _)| k != "type").collect();
            m.insert("type".to_owned(), Value::String(ty));
            Value::Object(m)
        })
}

/// Encodes `s` as a JSON string literal, escaping each character or not
/// according to `escape_mask` (bit i for char i, cycling), so the same text
/// appears with and without optional `\uXXXX` escapes.
pub(crate) fn json_string_with_escapes(s: &str, escape_mask: u64) -> String {
    let mut out = String::from("\"");
    for (i, c) in s.chars().enumerate() {
        let optional = escape_mask >> (i % 64) & 1 == 1;
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' if !optional => out.push_str("\\n"),
            c if (c as u32) < 0x20 || optional => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Whitespace the API might pad JSON with.
pub(crate) fn ws() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just(" ".to_owned()),
        " {0,12}",
        "[ \t\r\n]{0,3}"
    ]
}
