use crate::connect::parse_header;
use crate::error::{one_line, with_request_id};
use crate::sse::json_string;

#[test]
fn headers_parse_name_and_value() {
    let (n, v) = parse_header("anthropic-beta: a, b").unwrap();
    assert_eq!((n, v), ("anthropic-beta", "a, b"));
    assert!(parse_header("no colon").is_err());
    assert!(parse_header(": value").is_err());
}

#[test]
fn errors_are_one_line_with_the_request_id() {
    assert_eq!(one_line("a\n  b\n\nc"), "a; b; c");
    assert_eq!(
        with_request_id("boom", Some("req_1")),
        "boom (request id req_1)"
    );
    assert_eq!(with_request_id("boom req_1", Some("req_1")), "boom req_1");
    assert_eq!(with_request_id("boom", None), "boom");
}

#[test]
fn json_strings_escape() {
    assert_eq!(json_string("a\"b\n"), r#""a\"b\n""#);
}
