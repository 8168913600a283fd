//! simd-json gives the same results as serde_json.

use messages_types::_benchable::{serde_json_from_slice, simd_json_from_slice};
use messages_types::{
    BatchResultLine, Message, SIMD_JSON_MIN_LEN, StreamEvent, decode_batch_result_line,
};
use proptest::prelude::*;

use crate::support::{json_string_with_escapes, recorded_dir, split_sse};

/// A batch result line with a text block of `text`.
fn line(text_json: &str, id: &str) -> String {
    format!(
        r#"{{"custom_id":"{id}","result":{{"type":"succeeded","message":{{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{{"type":"text","text":{text_json}}},{{"type":"future_block","x":[1,2.5,null]}}],"stop_reason":"end_turn","stop_sequence":null,"usage":{{"input_tokens":12,"output_tokens":900,"cache_read_input_tokens":0,"service_tier":"batch"}}}}}}}}"#
    )
}

#[test]
fn recorded_messages_decode_identically() {
    for entry in std::fs::read_dir(recorded_dir()).expect("dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "sse") {
            for ev in split_sse(&std::fs::read_to_string(&path).expect("read")) {
                let a: StreamEvent = serde_json_from_slice(ev.data.as_bytes()).expect("serde_json");
                let b: StreamEvent = simd_json_from_slice(ev.data.as_bytes()).expect("simd-json");
                assert_eq!(a, b, "{}", ev.data);
            }
        }
    }
}

#[test]
fn large_lines_take_the_simd_path_with_the_same_result() {
    let text = "The quick brown fox. ".repeat(SIMD_JSON_MIN_LEN / 20);
    let l = line(&serde_json::to_string(&text).expect("json"), "big");
    assert!(l.len() >= SIMD_JSON_MIN_LEN);
    let via_default = decode_batch_result_line(l.as_bytes()).expect("decodes");
    let via_serde: BatchResultLine = serde_json_from_slice(l.as_bytes()).expect("serde_json");
    assert_eq!(via_default, via_serde);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn batch_lines_decode_identically(text in any::<String>(), mask in any::<u64>(), id in "[A-Za-z0-9_-]{1,64}") {
        let l = line(&json_string_with_escapes(&text, mask), &id);
        let a: BatchResultLine = serde_json_from_slice(l.as_bytes()).expect("serde_json");
        let b: BatchResultLine = simd_json_from_slice(l.as_bytes()).expect("simd-json");
        prop_assert_eq!(a, b);
    }

    #[test]
    fn damaged_lines_fail_in_both_or_agree(text in "[a-z ]{0,40}", at in any::<usize>(), byte in any::<u8>()) {
        let mut l = line(&serde_json::to_string(&text).expect("json"), "x").into_bytes();
        let at = at % l.len();
        l[at] = byte;
        let a: Result<Message, _> = serde_json_from_slice(&l);
        let b: Result<Message, _> = simd_json_from_slice(&l);
        match (a, b) {
            (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
            (Err(_), Err(_)) => {}
            (a, b) => prop_assert!(false, "serde_json {:?} vs simd-json {:?}", a.is_ok(), b.is_ok()),
        }
    }
}
