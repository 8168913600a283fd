use serde_json::json;

use crate::fault::{FaultCounter, FaultKind, FaultSpec};
use crate::util::{hash_json, rfc3339, rfc3339_secs};

#[test]
fn fault_grammar_parses_the_issue_example() {
    let spec = FaultSpec::parse("status=429,retry-after=1,times=2; disconnect-after=5").unwrap();
    assert_eq!(spec.faults.len(), 2);
    assert_eq!(spec.faults[0].times, Some(2));
    assert!(matches!(
        &spec.faults[0].kind,
        FaultKind::Status { code: 429, retry_after: Some(r), .. } if r == "1"
    ));
    assert_eq!(spec.faults[1].kind, FaultKind::DisconnectAfter(5));
}

#[test]
fn fault_grammar_error_after_defaults_to_overloaded() {
    let spec = FaultSpec::parse("error-after=3").unwrap();
    assert_eq!(
        spec.faults[0].kind,
        FaultKind::ErrorAfter {
            after: 3,
            error_type: "overloaded_error".into()
        }
    );
    let spec = FaultSpec::parse("error-after=3,type=api_error").unwrap();
    assert_eq!(
        spec.faults[0].kind,
        FaultKind::ErrorAfter {
            after: 3,
            error_type: "api_error".into()
        }
    );
}

#[test]
fn fault_grammar_rejects_bad_input_with_a_message() {
    for (spec, needle) in [
        ("explode=1", "unknown fault `explode`"),
        ("status=abc", "status=abc"),
        ("status=429,retry=1", "unknown parameter `retry`"),
        ("stall-after", "not `key=value`"),
        ("status=429,should-retry=maybe", "expected true or false"),
        ("stall-after=2,type=api_error", "unknown parameter `type`"),
    ] {
        let err = FaultSpec::parse(spec).unwrap_err();
        assert!(err.is_fault_spec());
        assert!(err.to_string().contains(needle), "{spec}: {err}");
    }
    assert!(FaultSpec::parse("none").unwrap().is_empty());
    assert!(FaultSpec::parse("").unwrap().is_empty());
}

#[test]
fn times_limits_firing_per_request() {
    let spec = FaultSpec::parse("status=429,times=2").unwrap();
    let counter = FaultCounter::default();
    assert!(
        counter
            .activate(&spec, 1, "POST", "/v1/messages")
            .status
            .is_some()
    );
    assert!(
        counter
            .activate(&spec, 1, "POST", "/v1/messages")
            .status
            .is_some()
    );
    assert!(
        counter
            .activate(&spec, 1, "POST", "/v1/messages")
            .status
            .is_none()
    );
    // Another request has its own count.
    assert!(
        counter
            .activate(&spec, 2, "POST", "/v1/messages")
            .status
            .is_some()
    );
}

#[test]
fn scope_all_skip_and_filters_count_matching_requests_overall() {
    let spec = FaultSpec::parse(
        "status=500,skip=1,times=1,scope=all,method=post,path=/v1/messages/batches",
    )
    .unwrap();
    let counter = FaultCounter::default();
    let fire = |key, method, path| counter.activate(&spec, key, method, path).status.is_some();
    // Other methods and paths neither fire nor count.
    assert!(!fire(1, "GET", "/v1/messages/batches"));
    assert!(!fire(1, "POST", "/v1/messages"));
    // The first matching request is skipped, the second fires, whatever
    // its body; then no more.
    assert!(!fire(1, "POST", "/v1/messages/batches"));
    assert!(fire(2, "POST", "/v1/messages/batches"));
    assert!(!fire(3, "POST", "/v1/messages/batches"));
    assert!(!fire(2, "POST", "/v1/messages/batches"));
    for (bad, needle) in [
        ("status=500,scope=some", "scope"),
        ("status=500,skip=x", "skip"),
    ] {
        let err = FaultSpec::parse(bad).unwrap_err();
        assert!(err.to_string().contains(needle), "{bad}: {err}");
    }
}

#[test]
fn status_fault_does_not_consume_stream_faults() {
    let spec = FaultSpec::parse("status=500,times=1; disconnect-after=2,times=1").unwrap();
    let counter = FaultCounter::default();
    let first = counter.activate(&spec, 7, "POST", "/v1/messages");
    assert!(first.status.is_some() && first.disconnect_after.is_none());
    let second = counter.activate(&spec, 7, "POST", "/v1/messages");
    assert!(second.status.is_none());
    assert_eq!(second.disconnect_after, Some(2));
    let third = counter.activate(&spec, 7, "POST", "/v1/messages");
    assert!(third.status.is_none() && third.disconnect_after.is_none());
}

#[test]
fn canonical_hash_ignores_key_order_and_skipped_keys() {
    let a = json!({"model": "m", "max_tokens": 5, "stream": true});
    let b = json!({"max_tokens": 5, "model": "m"});
    let (a, b) = (a.as_object().unwrap(), b.as_object().unwrap());
    assert_eq!(hash_json(a, &["stream"]), hash_json(b, &["stream"]));
    assert_ne!(hash_json(a, &[]), hash_json(b, &[]));
}

#[test]
fn json_len_counts_compact_serialization() {
    let v = json!({"type": "image", "text": "a\"b\nc é 😀", "n": [1, 2.5, null, true], "o": {}});
    assert_eq!(
        crate::util::json_len(v.as_object().unwrap()),
        v.to_string().len()
    );
}

#[test]
fn rfc3339_formats_known_instants() {
    assert_eq!(rfc3339(0.0), "1970-01-01T00:00:00.000000Z");
    assert_eq!(
        rfc3339(1_724_179_044.100_435),
        "2024-08-20T18:37:24.100435Z"
    );
    assert_eq!(rfc3339(951_782_400.0), "2000-02-29T00:00:00.000000Z");
    assert_eq!(rfc3339_secs(1_724_179_044.9), "2024-08-20T18:37:24Z");
}

#[test]
fn wire_types_write_fields_in_the_apis_order() {
    use crate::wire::{Delta, ErrorBody, ErrorDetail, Event, to_string};
    let delta = Event::ContentBlockDelta {
        index: 0,
        delta: Delta::Text { text: "a\"b\n" },
    };
    assert_eq!(delta.name(), "content_block_delta");
    assert_eq!(
        to_string(&delta),
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a\"b\n"}}"#
    );
    assert_eq!(to_string(&Event::Ping), r#"{"type":"ping"}"#);
    let error = ErrorBody {
        error: ErrorDetail {
            kind: "not_found_error",
            message: "Not found",
        },
        request_id: Some("req_1"),
    };
    assert_eq!(
        to_string(&error),
        r#"{"type":"error","error":{"type":"not_found_error","message":"Not found"},"request_id":"req_1"}"#
    );
}
