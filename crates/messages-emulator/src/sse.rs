//! Writing SSE frames.

use bytes::BytesMut;

/// Appends one event, `event: NAME\ndata: DATA\n\n`, to `buf`.
///
/// `data` is compact JSON (no newlines), so one `data:` line suffices.
pub(crate) fn encode(buf: &mut BytesMut, event: &str, data: &str) {
    buf.reserve(event.len() + data.len() + 16);
    buf.extend_from_slice(b"event: ");
    buf.extend_from_slice(event.as_bytes());
    buf.extend_from_slice(b"\ndata: ");
    buf.extend_from_slice(data.as_bytes());
    buf.extend_from_slice(b"\n\n");
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
