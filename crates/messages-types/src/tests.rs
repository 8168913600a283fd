//! Unit tests of the crate internals.

use bytes::Bytes;

use crate::{DecodeError, StreamEvent, Text};

#[test]
fn public_types_are_send_sync_static() {
    fn check<T: Send + Sync + 'static>() {}
    check::<StreamEvent>();
    check::<Text>();
    check::<DecodeError>();
    check::<crate::Message>();
    check::<crate::MessageRequest>();
}

#[test]
fn decode_error_is_one_pointer() {
    assert_eq!(
        std::mem::size_of::<DecodeError>(),
        std::mem::size_of::<usize>()
    );
}

#[test]
fn text_shares_the_source_buffer() {
    let source = Bytes::from_static(b"xxhelloxx");
    let s = std::str::from_utf8(&source[2..7]).unwrap();
    let t = Text::from_str_in(s, &source);
    assert_eq!(t, "hello");
    assert_eq!(t.as_bytes().as_ptr(), source[2..].as_ptr());
}

#[test]
fn text_copies_strings_outside_the_source() {
    let source = Bytes::from_static(b"abc");
    let t = Text::from_str_in("other", &source);
    assert_eq!(t, "other");
    assert_ne!(t.as_bytes().as_ptr(), "other".as_ptr());
}

#[test]
fn excerpt_stays_on_char_boundaries() {
    let data = "ééééééééééééééééééééééééééééééééééééééééé{".as_bytes();
    for at in 0..data.len() {
        let e = super::decode::_excerpt_for_tests(data, at);
        assert!(!e.is_empty());
        assert!(!e.contains(char::REPLACEMENT_CHARACTER), "{e}");
    }
}
