use proptest::prelude::*;
use serde_json::{Value, json};

use super::lexer::{MAX_DEPTH, is_ws};
use super::*;

/// Feeds `fragments` one by one; returns the previews after each push.
fn feed<'a>(fragments: impl IntoIterator<Item = &'a str>) -> (PartialJson, Vec<Option<Value>>) {
    let mut pj = PartialJson::new();
    let mut previews = Vec::new();
    for fragment in fragments {
        pj.push(fragment);
        previews.push(pj.preview().cloned());
    }
    (pj, previews)
}

/// The preview after pushing `text` at once.
fn preview_of(text: &str) -> Option<Value> {
    feed([text]).0.preview().cloned()
}

/// Char-boundary byte offsets of `text`, from 0 to `text.len()`.
fn cuts(text: &str) -> Vec<usize> {
    (0..=text.len())
        .filter(|&i| text.is_char_boundary(i))
        .collect()
}

/// `text` in one-char fragments.
fn chars(text: &str) -> Vec<&str> {
    let cuts = cuts(text);
    cuts.windows(2).map(|w| &text[w[0]..w[1]]).collect()
}

/// `text` cut into fragments of the given sizes (cycled, rounded up to a char
/// boundary).
fn fragments<'a>(text: &'a str, sizes: &[usize]) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut i = 0;
    let mut k = 0;
    while i < text.len() {
        let mut end = (i + sizes[k % sizes.len()].max(1)).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        out.push(&text[i..end]);
        i = end;
        k += 1;
    }
    out
}

/// Whether `partial` (a preview) can still become `full`: strings are
/// prefixes; arrays hold the final elements, the last possibly partial;
/// objects hold a subset of the final members, at most one of them partial;
/// numbers may change; `true`, `false`, `null` are final.
fn consistent(partial: &Value, full: &Value) -> bool {
    match (partial, full) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(a), Value::Bool(b)) => a == b,
        (Value::Number(_), Value::Number(_)) => true,
        (Value::String(a), Value::String(b)) => b.starts_with(a.as_str()),
        (Value::Array(a), Value::Array(b)) => match a.split_last() {
            None => true,
            Some((last, init)) => {
                a.len() <= b.len() && init == &b[..init.len()] && consistent(last, &b[init.len()])
            }
        },
        (Value::Object(a), Value::Object(b)) => {
            let mut partial_members = 0;
            for (key, value) in a {
                match b.get(key) {
                    Some(final_value) if final_value == value => {}
                    Some(final_value) if consistent(value, final_value) => partial_members += 1,
                    _ => return false,
                }
            }
            partial_members <= 1
        }
        _ => false,
    }
}

/// Checks `text` (valid JSON) fed in `frags`: every preview equals the
/// preview of the same prefix pushed at once, is consistent with the final
/// value and with the next preview, and the end is the strict parse.
fn check_valid(text: &str, frags: &[&str]) {
    let expected: Value = serde_json::from_str(text).expect("test input is valid JSON");
    let (pj, previews) = feed(frags.iter().copied());
    let mut prefix_len = 0;
    let mut last: Option<&Value> = None;
    for (fragment, preview) in frags.iter().zip(&previews) {
        prefix_len += fragment.len();
        assert_eq!(
            preview,
            &preview_of(&text[..prefix_len]),
            "split-dependent preview at {prefix_len} of {text:?}"
        );
        if let Some(p) = preview {
            assert!(
                consistent(p, &expected),
                "preview {p} at {prefix_len} inconsistent with {expected} ({text:?})"
            );
            if let Some(l) = last {
                assert!(consistent(l, p), "preview went from {l} to {p} ({text:?})");
            }
        }
        assert_eq!(
            pj_error_at(text, prefix_len),
            None,
            "false error on a prefix of {text:?}"
        );
        last = preview.as_ref();
    }
    assert_eq!(pj.preview(), Some(&expected), "{text:?}");
    assert!(pj.is_complete(), "{text:?}");
    assert_eq!(pj.error(), None);
    assert_eq!(pj.raw(), text);
    assert_eq!(pj.finish().expect("valid"), expected, "{text:?}");
}

fn pj_error_at(text: &str, len: usize) -> Option<JsonSyntaxError> {
    feed([&text[..len]]).0.error()
}

/// Feeds `text` in `frags` and checks the outcome against serde_json.
fn check_any(text: &str, frags: &[&str]) {
    let (pj, previews) = feed(frags.iter().copied());
    let strict = serde_json::from_str::<Value>(text);
    let whitespace_only = text.bytes().all(is_ws);
    if let Some(error) = pj.error() {
        assert!(strict.is_err(), "{error} but serde_json accepts {text:?}");
        assert!(error.offset() < text.len());
        // The preview froze at the error. (A number that went out of range
        // keeps the last value shown, which depends on the fragments.)
        if error.reason() != "number out of range" {
            let frozen = preview_of(&text[..error.offset()]);
            assert_eq!(previews.last().cloned().flatten(), frozen, "{text:?}");
        }
    }
    if pj.is_complete() {
        assert!(strict.is_ok(), "complete but serde_json rejects {text:?}");
    }
    match (pj.finish(), strict) {
        (Ok(value), Ok(expected)) => assert_eq!(value, expected, "{text:?}"),
        (Ok(value), Err(_)) => {
            assert!(whitespace_only, "{text:?} gave {value}");
            assert_eq!(value, json!({}));
        }
        (Err(e), Err(expected)) => {
            assert_eq!(e.raw(), text);
            assert_eq!(e.error().to_string(), expected.to_string());
        }
        (Err(e), Ok(v)) => panic!("finish failed ({e}) but serde_json gives {v} for {text:?}"),
    }
}

// ===== table tests =====

/// Prefixes and their previews.
const PREVIEWS: &[(&str, &str)] = &[
    ("", "none"),
    (" \n\t\r", "none"),
    ("{", "{}"),
    ("{ \"ci", "{}"),
    ("{\"city\"", "{}"),
    ("{\"city\" :", "{}"),
    ("{\"city\": \"", r#"{"city": ""}"#),
    ("{\"city\": \"San Fr", r#"{"city": "San Fr"}"#),
    ("{\"city\": \"San\\", r#"{"city": "San"}"#),
    ("{\"city\": \"San\\n", r#"{"city": "San\n"}"#),
    ("{\"city\": \"x\\u00", r#"{"city": "x"}"#),
    ("{\"city\": \"x\\u00e9", r#"{"city": "xé"}"#),
    ("{\"city\": \"x\\u00E9\"}", r#"{"city": "xé"}"#),
    ("\"\\ud83d", r#""""#),
    ("\"\\ud83d\\", r#""""#),
    ("\"\\ud83d\\u", r#""""#),
    ("\"\\ud83d\\ude0", r#""""#),
    ("\"\\ud83d\\ude00", r#""😀""#),
    (
        "\"a\\\"b\\\\c\\/d\\b\\f\\r\\t",
        r#""a\"b\\c/d\u0008\u000c\r\t""#,
    ),
    ("\"é😀", r#""é😀""#),
    ("[", "[]"),
    ("[1", "[1]"),
    ("[12", "[12]"),
    ("[123 ", "[123]"),
    ("[-", "[]"),
    ("[-1", "[-1]"),
    ("[1.", "[1]"),
    ("[1.5", "[1.5]"),
    ("[1.5e", "[1.5]"),
    ("[1.5e+", "[1.5]"),
    ("[1.5e+2", "[150.0]"),
    ("[0", "[0]"),
    ("[-0", "[-0.0]"),
    ("[18446744073709551615", "[18446744073709551615]"),
    ("[18446744073709551616", "[18446744073709551616.0]"),
    ("[-9223372036854775808", "[-9223372036854775808]"),
    ("[t", "[]"),
    ("[tru", "[]"),
    ("[true", "[true]"),
    ("[true,", "[true]"),
    ("[true, f", "[true]"),
    ("[true, false, nul", "[true, false]"),
    ("[true, false, null", "[true, false, null]"),
    ("[[], {}, [[", "[[], {}, [[]]]"),
    ("{\"a\":{\"b\":[", r#"{"a": {"b": []}}"#),
    ("{\"a\":{\"b\":[{\"c\":\"d", r#"{"a": {"b": [{"c": "d"}]}}"#),
    (
        "{\"a\":{\"b\":[{\"c\":\"d\"}]},\"e\":",
        r#"{"a": {"b": [{"c": "d"}]}}"#,
    ),
    ("{\"a\":1,\"a\":\"x", r#"{"a": "x"}"#),
    ("{\"a\":[1,2],\"a\":[3", r#"{"a": [3]}"#),
    ("12", "12"),
    ("-", "none"),
    ("-1", "-1"),
    ("1.", "1"),
    ("null", "null"),
    ("nul", "none"),
    ("\"abc", r#""abc""#),
    ("  {\"k\": [1, {\"x\": tr", r#"{"k": [1, {}]}"#),
];

#[test]
fn previews_of_prefixes_at_every_split() {
    for &(text, expected) in PREVIEWS {
        let expected: Option<Value> = match expected {
            "none" => None,
            _ => Some(serde_json::from_str(expected).expect("table value")),
        };
        assert_eq!(preview_of(text), expected, "{text:?} in one push");
        for cut in cuts(text) {
            let (pj, _) = feed(["", &text[..cut], "", &text[cut..]]);
            assert_eq!(pj.preview(), expected.as_ref(), "{text:?} cut at {cut}");
            assert_eq!(pj.error(), None, "{text:?}");
        }
        let (pj, previews) = feed(chars(text));
        assert_eq!(pj.preview(), expected.as_ref(), "{text:?} char by char");
        // Intermediate previews agree with the prefix pushed at once.
        let mut len = 0;
        for (c, preview) in chars(text).iter().zip(previews) {
            len += c.len();
            assert_eq!(preview, preview_of(&text[..len]), "{text:?} at {len}");
        }
    }
}

/// Complete documents: every split gives the strict parse.
const VALID: &[&str] = &[
    r#"{}"#,
    r#"[]"#,
    r#" { "a" : [ 1 , -2.5e-3 , true , false , null , "x" , { } , [ ] ] } "#,
    r#"{"city": "San Francisco", "unit": "celsius", "days": 10}"#,
    r#"{"s": "\u00e9\ud83d\ude00\n\"\\\/\b\f\r\t", "k\u0041": 0}"#,
    r#"[0, -0, 0.0, 1E5, 1e-5, 1.5E+3, 18446744073709551615, -9223372036854775808, 1e-400]"#,
    r#"[18446744073709551616, -9223372036854775809, 123456789012345678901234567890]"#,
    r#"{"a":1,"b":{"b":2},"c":[{"a":[1,{"z":"y"}]}]}"#,
    r#""just a string""#,
    r#"42"#,
    r#"-0.5e10"#,
    r#"true"#,
    r#"null"#,
    "\"é😀 \u{7f}\"",
    "[\"\\uDBFF\\uDFFF\", \"\\uFFFF\", \"\\u0000\"]",
];

#[test]
fn valid_documents_at_every_split() {
    for text in VALID {
        check_valid(text, &[text]);
        check_valid(text, &chars(text));
        for cut in cuts(text) {
            check_valid(text, &[&text[..cut], &text[cut..]]);
        }
    }
}

/// Invalid documents: (text, offset of the error, reason).
const INVALID: &[(&str, usize, &str)] = &[
    (r#"{"a" 1}"#, 5, "expected ':'"),
    (r#"[1,]"#, 3, "expected a value"),
    (r#"{"a":1,}"#, 7, "expected a string key"),
    (r#"{1:2}"#, 1, "expected a string key"),
    (r#"[1 2]"#, 3, "expected ',' or ']'"),
    (r#"{"a":1]"#, 6, "expected ',' or '}'"),
    (r#"[01]"#, 2, "invalid number"),
    (r#"[-]"#, 2, "invalid number"),
    (r#"[1.]"#, 3, "invalid number"),
    (r#"[1.e5]"#, 3, "invalid number"),
    (r#"[1e]"#, 3, "invalid number"),
    ("6.n", 2, "invalid number"),
    ("[-12.x", 5, "invalid number"),
    (r#"[+1]"#, 1, "expected a value"),
    (r#"[.5]"#, 1, "expected a value"),
    (r#"[1e400]"#, 1, "number out of range"),
    (r#"[-1e400]"#, 1, "number out of range"),
    (r#""\x""#, 2, "invalid escape"),
    (r#""\u12G4""#, 5, "invalid \\u escape"),
    (r#""\ud83d""#, 7, "unpaired surrogate"),
    (r#""\ud83dx""#, 7, "unpaired surrogate"),
    (r#""\ud83d\n""#, 8, "unpaired surrogate"),
    (r#""\ud83d\ud83d""#, 12, "unpaired surrogate"),
    (r#""\ude00""#, 6, "unpaired surrogate"),
    ("\"a\nb\"", 2, "control character"),
    ("\"a\u{0}b\"", 2, "control character"),
    ("1 2", 2, "trailing characters"),
    ("{} {}", 3, "trailing characters"),
    ("[] x", 3, "trailing characters"),
    ("tru e", 3, "invalid literal"),
    ("[nulL]", 4, "invalid literal"),
    ("\u{a0}{}", 0, "expected a value"),
    ("{\"a\":\u{feff}1}", 5, "expected a value"),
    ("]", 0, "expected a value"),
    ("\"unterminated", usize::MAX, ""),
    ("{\"a\":", usize::MAX, ""),
    ("[1e", usize::MAX, ""),
    ("-", usize::MAX, ""),
];

#[test]
fn invalid_documents_at_every_split() {
    for &(text, offset, reason) in INVALID {
        let expected = (offset != usize::MAX).then_some(offset);
        for cut in cuts(text) {
            let (pj, _) = feed([&text[..cut], &text[cut..]]);
            assert_eq!(
                pj.error().map(|e| e.offset()),
                expected,
                "{text:?} cut at {cut}"
            );
            if let Some(e) = pj.error() {
                assert!(e.reason().contains(reason), "{text:?}: {e}");
            }
            assert!(!pj.is_complete());
            check_any(text, &[&text[..cut], &text[cut..]]);
        }
        check_any(text, &chars(text));
        let error = feed([text]).0.finish().expect_err(text);
        assert_eq!(error.raw(), text);
    }
}

#[test]
fn preview_freezes_after_an_error() {
    let mut pj = PartialJson::new();
    pj.push(r#"{"a": [1, 2"#);
    pj.push(r#"x, 3], "b": "c"}"#);
    assert_eq!(pj.preview(), Some(&json!({"a": [1, 2]})));
    let error = pj.error().expect("invalid");
    assert_eq!(error.offset(), 11);
    assert_eq!(error.to_string(), "expected ',' or ']' at byte 11");
    pj.push(r#"{"more": 1}"#);
    assert_eq!(pj.preview(), Some(&json!({"a": [1, 2]})));
    assert_eq!(pj.raw(), r#"{"a": [1, 2x, 3], "b": "c"}{"more": 1}"#);
    let invalid = pj.finish().expect_err("invalid");
    assert_eq!(invalid.error().column(), 12);
    assert_eq!(
        invalid.to_string(),
        "invalid JSON (38 bytes), error at line 1 column 12"
    );
    let source = std::error::Error::source(&invalid).expect("source");
    assert_eq!(source.to_string(), invalid.error().to_string());
    assert_eq!(
        invalid.into_raw(),
        r#"{"a": [1, 2x, 3], "b": "c"}{"more": 1}"#
    );
}

#[test]
fn empty_and_whitespace_finish_as_empty_object() {
    for text in ["", " ", "\n\t\r "] {
        let (pj, _) = feed(chars(text));
        assert_eq!(pj.preview(), None);
        assert!(!pj.is_complete());
        assert_eq!(pj.finish().expect("empty is {}"), json!({}));
    }
    // Only JSON whitespace counts.
    let invalid = feed(["\u{a0}"])
        .0
        .finish()
        .expect_err("not JSON whitespace");
    assert_eq!(invalid.raw(), "\u{a0}");
}

#[test]
fn nesting_limit_matches_serde_json() {
    for depth in [126, 127, 128, 200] {
        for (open, close, inner) in [("[", "]", ""), ("{\"k\":", "}", "1")] {
            let text = format!("{}{inner}{}", open.repeat(depth), close.repeat(depth));
            let strict = serde_json::from_str::<Value>(&text);
            assert_eq!(strict.is_ok(), depth <= MAX_DEPTH, "{depth}");
            let (pj, _) = feed(fragments(&text, &[3, 7]));
            assert_eq!(pj.error().is_none(), depth <= MAX_DEPTH, "{depth}");
            check_any(&text, &fragments(&text, &[5]));
        }
    }
}

#[test]
fn repeated_keys_replace_like_serde_json() {
    // The one exception to consistency: the earlier member is replaced.
    let text = r#"{"a":1,"a":{"b":2},"c":[{"a":[1,{"z":"y"}]}],"c":"d"}"#;
    for cut in cuts(text) {
        check_any(text, &[&text[..cut], &text[cut..]]);
    }
    check_any(text, &chars(text));
    assert_eq!(
        feed([text]).0.finish().expect("valid"),
        json!({"a": {"b": 2}, "c": "d"})
    );
}

#[test]
fn top_level_numbers() {
    for text in ["0", "-0", "7", "123", "1.25", "-1e-7", "1e400", "1e", "01"] {
        check_any(text, &chars(text));
    }
    let (pj, _) = feed(["1e4", "00"]);
    assert_eq!(pj.preview(), Some(&json!(1e4)), "out of range is not shown");
    assert!(!pj.is_complete());
    assert_eq!(pj.error(), None, "the next byte could still make it valid");
    assert!(pj.finish().is_err());
}

#[test]
fn strings_with_split_escapes() {
    let text = r#"{"emoji":"\ud83d\ude00!","tab":"a\tb","quote":"\"q\""}"#;
    let expected = json!({"emoji": "😀!", "tab": "a\tb", "quote": "\"q\""});
    for sizes in [[1, 1], [2, 3], [5, 1], [6, 7]] {
        let (pj, _) = feed(fragments(text, &sizes));
        assert_eq!(pj.finish().expect("valid"), expected);
    }
}

#[test]
fn error_types_are_reportable() {
    fn assert_send_sync_error<E: std::error::Error + Send + Sync + 'static>() {}
    assert_send_sync_error::<InvalidJson>();
    assert_send_sync_error::<JsonSyntaxError>();
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<PartialJson>();
}

// ===== linear work =====

#[test]
fn a_long_string_in_one_byte_fragments_is_scanned_once() {
    const LEN: usize = 1 << 20;
    let body = "a".repeat(LEN);
    let mut pj = PartialJson::new();
    pj.push(r#"{"outer": {"inner": ["#);
    pj.push("\"");
    for c in chars(&body) {
        pj.push(c);
    }
    pj.push("\"]}}");
    assert_eq!(pj.raw().len(), LEN + 26);
    // Every byte examined exactly once: no re-parse of the buffer.
    assert_eq!(pj.stats.scanned, pj.raw().len());
    // Detaching and attaching walks the two inner levels below the root
    // (object, array, string) on each of the LEN pushes that find them open.
    assert!(pj.stats.walked <= 2 * 3 * (LEN + 3), "{}", pj.stats.walked);
    assert_eq!(pj.stats.number_bytes, 0);
    let value = pj.finish().expect("valid");
    assert_eq!(value["outer"]["inner"][0].as_str().map(str::len), Some(LEN));
}

#[test]
fn escapes_and_small_values_scan_once() {
    let item = r#"{"k":"\u00e9\n\ud83d\ude00","n":[1,2.5,true,null]},"#;
    let text = format!("[{}{{}}]", item.repeat(2000));
    let mut pj = PartialJson::new();
    for c in chars(&text) {
        pj.push(c);
    }
    // Number tokens end with the byte after them, which is read again.
    let numbers = 2 * 2000;
    assert_eq!(pj.stats.scanned, text.len() + numbers);
    assert!(pj.finish().is_ok());
}

#[test]
fn a_long_number_is_read_a_linear_number_of_times() {
    const LEN: usize = 100_000;
    let text = format!("[0.{}]", "1".repeat(LEN));
    let mut pj = PartialJson::new();
    for c in chars(&text) {
        pj.push(c);
    }
    assert_eq!(pj.preview(), serde_json::from_str(&text).ok().as_ref());
    // Up to 32 bytes re-read on each push while short, then at doublings,
    // then once at the end.
    let bound = 32 * 32 + 4 * (LEN + 2) + (LEN + 2);
    assert!(pj.stats.number_bytes <= bound, "{}", pj.stats.number_bytes);
    assert!(pj.finish().is_ok());
}

#[test]
fn deep_nesting_walks_once_per_push() {
    let depth = 100;
    let text = format!(
        "{}\"{}\"{}",
        "[".repeat(depth),
        "x".repeat(1000),
        "]".repeat(depth)
    );
    let mut pj = PartialJson::new();
    for c in chars(&text) {
        pj.push(c);
    }
    let pushes = text.len();
    assert_eq!(pj.stats.scanned, text.len());
    assert!(pj.stats.walked <= 2 * depth * pushes);
    // Pushing the whole text at once walks nothing: no values were open before
    // or after.
    let (pj, _) = feed([text.as_str()]);
    assert_eq!(pj.stats.walked, 0);
}

// ===== property tests =====

fn arb_string() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[\"\\\\/\\x00-\\x1f a-cé😀\u{7f}\u{2028}]{0,12}",
    ]
}

fn arb_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        (-1000i64..1000).prop_map(Value::from),
        arb_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((arb_string(), inner), 0..6)
                .prop_map(|members| Value::Object(members.into_iter().collect())),
        ]
    })
}

/// serde_json's output with every non-ASCII char written as `\u` escapes
/// (surrogate pairs above the BMP). Non-ASCII only occurs inside strings.
fn ascii_escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            for unit in c.encode_utf16(&mut [0; 2]) {
                out.push_str(&format!("\\u{unit:04X}"));
            }
        }
    }
    out
}

/// Applies a one-byte-ish edit to valid JSON to make likely-invalid JSON.
fn mutate(text: &str, at: usize, edit: u8, byte: char) -> String {
    let mut at = at % (text.len() + 1);
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let mut out = text.to_owned();
    match edit % 3 {
        0 => out.insert(at, byte),
        1 if at < text.len() => {
            out.remove(at);
        }
        _ => {
            if at < text.len() {
                out.remove(at);
            }
            out.insert(at, byte);
        }
    }
    out
}

// 256 cases each by default; more with PROPTEST_CASES=N.
proptest! {
    #[test]
    fn serialized_values_in_fragments(
        value in arb_value(),
        sizes in prop::collection::vec(1usize..40, 1..20),
    ) {
        let compact = serde_json::to_string(&value).expect("serializable");
        let pretty = serde_json::to_string_pretty(&value).expect("serializable");
        let escaped = ascii_escaped(&pretty);
        for text in [&compact, &pretty, &escaped] {
            check_valid(text, &fragments(text, &sizes));
        }
        check_valid(&compact, &chars(&compact));
    }

    #[test]
    fn garbage_never_panics_and_errors_like_serde_json(
        text in "[\\[\\]{}\",:0-9.eE+\\-truefalsn \\\\u\\x00-\\x1f\u{a0}é]{0,40}",
        sizes in prop::collection::vec(1usize..8, 1..8),
    ) {
        check_any(&text, &fragments(&text, &sizes));
    }

    #[test]
    fn mutated_values_error_like_serde_json(
        value in arb_value(),
        at in any::<usize>(),
        edit in any::<u8>(),
        byte in prop::sample::select(vec!['[', ']', '{', '}', '"', ',', ':', '\\', '0', '-', '.', 'e', 't', 'u', ' ', '\n', 'x']),
        sizes in prop::collection::vec(1usize..12, 1..8),
    ) {
        let text = mutate(&serde_json::to_string(&value).expect("serializable"), at, edit, byte);
        check_any(&text, &fragments(&text, &sizes));
    }

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>(), sizes in prop::collection::vec(1usize..8, 1..8)) {
        check_any(&text, &fragments(&text, &sizes));
    }
}
