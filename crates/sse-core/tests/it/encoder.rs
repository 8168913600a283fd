//! The encoder's exact output.

use bytes::BytesMut;
use sse_core::{EncodeError, Encoder, Event};

fn encode(events: &[Event]) -> String {
    let mut enc = Encoder::new();
    let mut out = BytesMut::new();
    for e in events {
        enc.encode(e, &mut out).unwrap();
    }
    String::from_utf8(out.to_vec()).unwrap()
}

#[test]
fn plain_message() {
    assert_eq!(encode(&[Event::new("hi")]), "data: hi\n\n");
}

#[test]
fn all_fields() {
    let e = Event::new("a\nb")
        .with_event("x")
        .with_id("1")
        .with_retry(Some(30));
    assert_eq!(
        encode(&[e]),
        "id: 1\nevent: x\nretry: 30\ndata: a\ndata: b\n\n"
    );
}

#[test]
fn cr_and_crlf_in_data_become_lines() {
    assert_eq!(
        encode(&[Event::new("a\r\nb\rc\n")]),
        "data: a\ndata: b\ndata: c\ndata: \n\n"
    );
}

#[test]
fn leading_space_survives() {
    assert_eq!(encode(&[Event::new(" x")]), "data:  x\n\n");
}

#[test]
fn empty_data() {
    assert_eq!(encode(&[Event::new("")]), "data: \n\n");
}

#[test]
fn id_written_only_when_it_changes() {
    let out = encode(&[
        Event::new("1").with_id("a"),
        Event::new("2").with_id("a"),
        Event::new("3"),
    ]);
    assert_eq!(out, "id: a\ndata: 1\n\ndata: 2\n\nid: \ndata: 3\n\n");
}

#[test]
fn comments_and_retry() {
    let mut enc = Encoder::new();
    let mut out = BytesMut::new();
    enc.comment("one\r\ntwo", &mut out);
    enc.retry(0, &mut out);
    enc.retry(u64::MAX, &mut out);
    assert_eq!(
        &out[..],
        b": one\n: two\nretry: 0\n\nretry: 18446744073709551615\n\n"
    );
}

#[test]
fn unrepresentable_events_are_errors() {
    let mut enc = Encoder::new();
    let mut out = BytesMut::new();
    let bad_type = Event::new("x").with_event("a\nb");
    assert_eq!(
        enc.encode(&bad_type, &mut out),
        Err(EncodeError::EventTypeHasLineBreak)
    );
    for id in ["a\rb", "a\nb", "a\0b"] {
        let bad_id = Event::new("x").with_id(id);
        assert_eq!(enc.encode(&bad_id, &mut out), Err(EncodeError::InvalidId));
    }
    assert!(out.is_empty());
    assert_eq!(
        EncodeError::InvalidId.to_string(),
        "event id contains a line break or NUL"
    );
}
