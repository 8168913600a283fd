//! Unit tests of the crate internals.

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
fn stream_events_are_as_small_as_a_delta() {
    // The large, once-per-stream events are boxed, so moving the frequent
    // delta events around does not copy the size of a whole `Message`.
    let event = std::mem::size_of::<StreamEvent>();
    let delta = std::mem::size_of::<crate::ContentBlockDeltaEvent>();
    assert!(
        event <= delta + 8,
        "StreamEvent is {event} bytes, a delta {delta}"
    );
}

#[test]
fn decode_error_is_one_pointer() {
    assert_eq!(
        std::mem::size_of::<DecodeError>(),
        std::mem::size_of::<usize>()
    );
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
