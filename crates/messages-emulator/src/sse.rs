//! Writing SSE frames.

use bytes::BytesMut;
use sse_core::{Encoder, Event};

/// Appends one event, `event: NAME\ndata: DATA\n\n`, to `buf`, with
/// sse-core's encoder.
///
/// The event names are the API's fixed names, which never contain a line
/// break, so encoding cannot fail; were it to, nothing would be written and
/// the client would see the stream without that event.
pub(crate) fn encode(buf: &mut BytesMut, event: &'static str, data: String) {
    let ev = Event::new(data).with_event(event);
    let result = Encoder::new().encode(&ev, buf);
    debug_assert!(result.is_ok(), "event names have no line breaks");
}

/// Pads a JSON object with spaces before its closing brace, as the real API
/// sometimes does (`{"type":"ping"}      }` style), `n` spaces.
pub(crate) fn pad(json: &str, n: usize) -> String {
    match json.strip_suffix('}') {
        Some(head) if n > 0 => {
            let mut s = String::with_capacity(json.len() + n);
            s.push_str(head);
            s.extend(std::iter::repeat_n(' ', n));
            s.push('}');
            s
        }
        _ => json.to_owned(),
    }
}
