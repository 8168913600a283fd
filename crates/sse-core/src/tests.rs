use super::parser::tests_support::{known_field_name, parse_retry, split_field_name};

#[test]
fn retry_values() {
    assert_eq!(parse_retry(b"0"), Some(0));
    assert_eq!(parse_retry(b"1500"), Some(1500));
    assert_eq!(parse_retry(b""), None);
    assert_eq!(parse_retry(b" 1"), None);
    assert_eq!(parse_retry(b"1.5"), None);
    assert_eq!(parse_retry(b"-1"), None);
    assert_eq!(parse_retry(b"99999999999999999999999"), Some(u64::MAX));
}

#[test]
fn field_names() {
    assert_eq!(split_field_name(b"data: x"), ("data", 6));
    assert_eq!(split_field_name(b"data:x"), ("data", 5));
    assert_eq!(split_field_name(b"data:  x"), ("data", 6));
    assert_eq!(split_field_name(b"data"), ("data", 4));
    assert_eq!(split_field_name(b"event:"), ("event", 6));
    assert_eq!(split_field_name(b": comment"), ("ignored", 9));
    assert_eq!(split_field_name(b"Data: x"), ("ignored", 6));
    assert_eq!(split_field_name(b"retry: 1"), ("retry", 7));
    assert_eq!(split_field_name(b"id:1"), ("id", 3));
}

#[test]
fn known_fields_agree_with_split_field() {
    let lines: [&[u8]; 10] = [
        b"data: {}\n",
        b"data:  x\r\n",
        b"data: \nevent",
        b"event: ping\n",
        b"event: \r\n\r\n",
        b"data:{\"a\"}\n",
        b"event:ping\n\n",
        b"datum: xx\n",
        b"data: x",
        b"Event: ping\n",
    ];
    let mut recognized = 0;
    for rest in lines {
        let Some(known) = known_field_name(rest) else {
            continue;
        };
        recognized += 1;
        let end = rest.iter().position(|&b| b == b'\n' || b == b'\r');
        let line = &rest[..end.unwrap_or(rest.len())];
        assert_eq!(known, split_field_name(line), "{:?}", rest.escape_ascii());
    }
    // Only the `data:` and `event:` lines of 8 bytes or more.
    assert_eq!(recognized, 7);
}

#[test]
fn layout() {
    // An event is four words of `Bytes` per string plus the retry.
    assert!(core::mem::size_of::<crate::Event>() <= 4 * 32 + 16);
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<crate::Event>();
    assert_send_sync::<crate::Parser>();
    assert_send_sync::<crate::Error>();
}
