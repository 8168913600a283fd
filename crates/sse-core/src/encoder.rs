//! The event encoder.

use core::fmt;

use bytes::{BufMut, BytesMut};

use crate::event::{Event, Str};

/// Writes events in the `text/event-stream` format.
///
/// The encoder remembers the last event id it wrote, and writes an `id`
/// line only when an event's id differs from it, so that for any sequence of
/// events `e` the [`Parser`](crate::Parser) reads back exactly `e`.
///
/// Data is written one `data:` line per line of data. SSE has no escapes,
/// so a CR or CRLF inside data is written as a line break and reads back as
/// `\n`: a data string can never end an event early or inject fields.
///
/// # Examples
///
/// ```
/// use bytes::BytesMut;
/// use sse_core::{Encoder, Event};
///
/// let mut encoder = Encoder::new();
/// let mut out = BytesMut::new();
/// encoder.encode(&Event::new("a\nb").with_event("note"), &mut out)?;
/// encoder.comment("keep-alive", &mut out);
/// assert_eq!(&out[..], b"event: note\ndata: a\ndata: b\n\n: keep-alive\n");
/// # Ok::<(), sse_core::EncodeError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Encoder {
    last_id: Str,
}

/// An event that cannot be written in the event-stream format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncodeError {
    /// The event type contains a CR or LF.
    EventTypeHasLineBreak,
    /// The id contains a CR, LF or NUL (a parser would ignore or split it).
    InvalidId,
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EncodeError::EventTypeHasLineBreak => "event type contains a line break",
            EncodeError::InvalidId => "event id contains a line break or NUL",
        })
    }
}

impl core::error::Error for EncodeError {}

impl Encoder {
    /// An encoder for a new stream (no id written yet).
    pub fn new() -> Encoder {
        Encoder::default()
    }

    /// Appends `event` to `dst`, ending with the blank line that dispatches it.
    ///
    /// # Errors
    ///
    /// An event type with a line break, or an id with a line break or NUL,
    /// cannot be represented; nothing is written then.
    pub fn encode(&mut self, event: &Event, dst: &mut BytesMut) -> Result<(), EncodeError> {
        if memchr::memchr2(b'\r', b'\n', event.event().as_bytes()).is_some() {
            return Err(EncodeError::EventTypeHasLineBreak);
        }
        let id = event.id_str();
        if memchr::memchr3(b'\r', b'\n', 0, id.as_bytes()).is_some() {
            return Err(EncodeError::InvalidId);
        }
        let data = event.data().as_bytes();
        dst.reserve(data.len() + event.event().len() + 16);
        if *id != self.last_id {
            field(dst, b"id", id.as_bytes());
            self.last_id = id.clone();
        }
        if event.event() != "message" {
            field(dst, b"event", event.event().as_bytes());
        }
        if let Some(ms) = event.retry() {
            retry_line(dst, ms);
        }
        lines(dst, b"data", data);
        dst.put_u8(b'\n');
        Ok(())
    }

    /// Appends a comment; a multi-line `text` becomes several comment lines.
    /// Comments are ignored by parsers; servers use them as keep-alives.
    pub fn comment(&mut self, text: &str, dst: &mut BytesMut) {
        lines(dst, b"", text.as_bytes());
    }

    /// Appends a standalone `retry` field, setting the client's reconnection
    /// time to `ms` milliseconds without dispatching an event.
    pub fn retry(&mut self, ms: u64, dst: &mut BytesMut) {
        retry_line(dst, ms);
        dst.put_u8(b'\n');
    }
}

/// Writes `name: value\n`.
fn field(dst: &mut BytesMut, name: &[u8], value: &[u8]) {
    dst.extend_from_slice(name);
    dst.extend_from_slice(b": ");
    dst.extend_from_slice(value);
    dst.put_u8(b'\n');
}

/// Writes one `name: line` per line of `value` (CRLF, CR or LF separated).
fn lines(dst: &mut BytesMut, name: &[u8], mut value: &[u8]) {
    loop {
        match memchr::memchr2(b'\r', b'\n', value) {
            None => {
                field(dst, name, value);
                return;
            }
            Some(i) => {
                field(dst, name, &value[..i]);
                let skip = if value[i] == b'\r' && value.get(i + 1) == Some(&b'\n') {
                    2
                } else {
                    1
                };
                value = &value[i + skip..];
            }
        }
    }
}

fn retry_line(dst: &mut BytesMut, ms: u64) {
    let mut digits = [0u8; 20];
    let mut n = ms;
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    field(dst, b"retry", &digits[i..]);
}
