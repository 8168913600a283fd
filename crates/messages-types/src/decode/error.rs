//! [`DecodeError`]: what failed to decode, where, and around which input.

use std::fmt;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::ErrorResponse;
use crate::stream::{
    ContentBlockDeltaEvent, ContentBlockStartEvent, ContentBlockStopEvent, MessageDeltaEvent,
    MessageStartEvent, MessageStopEvent, PingEvent,
};

/// Bytes of input shown before and after the error position.
const EXCERPT_BEFORE: usize = 24;
const EXCERPT_AFTER: usize = 40;

/// A stream event or document that could not be decoded.
///
/// It names the event type (or the document kind), the JSON path of the
/// failing value (such as `usage.output_tokens`; `.` for the whole
/// document) and a short excerpt of the input around the failure.
///
/// The `Display` text is for humans and may change.
///
/// # Examples
///
/// ```
/// use bytes::Bytes;
/// use messages_types::decode_event;
///
/// let data = Bytes::from_static(br#"{"type":"message_delta","delta":{},"usage":{"output_tokens":"ten"}}"#);
/// let err = decode_event("message_delta", &data).unwrap_err();
/// assert_eq!(err.event_type(), "message_delta");
/// assert_eq!(err.path(), "usage.output_tokens");
/// assert!(err.is_data());
/// ```
#[non_exhaustive]
pub struct DecodeError {
    inner: Box<Inner>,
}

struct Inner {
    what: String,
    path: String,
    excerpt: String,
    message: String,
    category: serde_json::error::Category,
}

impl DecodeError {
    /// The event type (the JSON `type`, else the SSE event name) or, for
    /// documents, their kind (such as `"message"`).
    pub fn event_type(&self) -> &str {
        &self.inner.what
    }

    /// The JSON path of the value that failed, such as
    /// `message.usage.output_tokens` or `delta`; `.` is the whole document.
    pub fn path(&self) -> &str {
        &self.inner.path
    }

    /// A short excerpt of the input around the failure (lossy UTF-8).
    pub fn excerpt(&self) -> &str {
        &self.inner.excerpt
    }

    /// What went wrong, as serde reported it.
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// The input is not JSON (a syntax error).
    pub fn is_syntax(&self) -> bool {
        self.inner.category == serde_json::error::Category::Syntax
    }

    /// The input ended in the middle of the JSON (truncated).
    pub fn is_eof(&self) -> bool {
        self.inner.category == serde_json::error::Category::Eof
    }

    /// The JSON is valid but does not have the expected shape (a wrong type,
    /// a missing field).
    pub fn is_data(&self) -> bool {
        self.inner.category == serde_json::error::Category::Data
    }

    /// An error for a stream event, recomputing the path on the generic
    /// types. Only runs after decoding failed.
    pub(super) fn for_event(
        name: Option<&str>,
        data: &[u8],
        err: &serde_json::Error,
    ) -> DecodeError {
        let value: Result<Value, _> = serde_json::from_slice(data);
        let json_type = value
            .as_ref()
            .ok()
            .and_then(|v| v.get("type"))
            .and_then(Value::as_str);
        let what = json_type.or(name).unwrap_or("unknown").to_owned();
        let tracked = match &value {
            Ok(v) => match json_type {
                Some("message_start") => track::<MessageStartEvent>(v),
                Some("content_block_start") => track::<ContentBlockStartEvent>(v),
                Some("content_block_delta") => track::<ContentBlockDeltaEvent>(v),
                Some("content_block_stop") => track::<ContentBlockStopEvent>(v),
                Some("message_delta") => track::<MessageDeltaEvent>(v),
                Some("message_stop") => track::<MessageStopEvent>(v),
                Some("ping") => track::<PingEvent>(v),
                Some("error") => track::<ErrorResponse>(v),
                _ => None,
            },
            Err(_) => track_syntax(data),
        };
        DecodeError::new(what, data, err, tracked)
    }

    /// An error for a document of type `T`.
    pub(super) fn for_document<T: DeserializeOwned>(
        what: &str,
        data: &[u8],
        err: &serde_json::Error,
    ) -> DecodeError {
        let tracked = match serde_json::from_slice::<Value>(data) {
            Ok(v) => track::<T>(&v),
            Err(_) => track_syntax(data),
        };
        DecodeError::new(what.to_owned(), data, err, tracked)
    }

    fn new(
        what: String,
        data: &[u8],
        err: &serde_json::Error,
        tracked: Option<Tracked>,
    ) -> DecodeError {
        let category = err.classify();
        let (path, message) = match tracked {
            Some(t) => (t.path, t.message),
            None => (".".to_owned(), strip_position(&err.to_string())),
        };
        let at = match category {
            serde_json::error::Category::Data => locate(data, &path),
            _ => offset_of(data, err.line(), err.column()),
        };
        DecodeError {
            inner: Box::new(Inner {
                what,
                path,
                excerpt: excerpt(data, at),
                message,
                category,
            }),
        }
    }
}

struct Tracked {
    path: String,
    message: String,
}

/// Deserializes `value` again as `T`, tracking the path of the failure.
fn track<T: DeserializeOwned>(value: &Value) -> Option<Tracked> {
    match serde_path_to_error::deserialize::<_, T>(value) {
        Ok(_) => None,
        Err(e) => Some(Tracked {
            path: e.path().to_string(),
            message: strip_position(&e.inner().to_string()),
        }),
    }
}

/// Parses `data` again as a `Value`, tracking the path of the syntax error.
fn track_syntax(data: &[u8]) -> Option<Tracked> {
    let mut de = serde_json::Deserializer::from_slice(data);
    match serde_path_to_error::deserialize::<_, Value>(&mut de) {
        Ok(_) => None,
        Err(e) => Some(Tracked {
            // A syntax error inside a key shows as a `?` segment: drop it.
            path: e.path().to_string().trim_end_matches(".?").to_owned(),
            message: strip_position(&e.inner().to_string()),
        }),
    }
}

/// serde_json appends " at line L column C"; the excerpt shows where.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) if msg[i..].contains(" column ") => msg[..i].to_owned(),
        _ => msg.to_owned(),
    }
}

/// The byte offset of a 1-based line and column (serde_json's position).
fn offset_of(data: &[u8], line: usize, column: usize) -> usize {
    let mut start = 0;
    for _ in 1..line {
        match data[start..].iter().position(|&b| b == b'\n') {
            Some(i) => start += i + 1,
            None => break,
        }
    }
    (start + column.saturating_sub(1)).min(data.len())
}

/// Where the last key of `path` appears in `data`, else the start.
fn locate(data: &[u8], path: &str) -> usize {
    let key = path
        .rsplit('.')
        .map(|seg| seg.split('[').next().unwrap_or(seg))
        .find(|seg| !seg.is_empty());
    let Some(key) = key else { return 0 };
    let needle = format!("\"{key}\"");
    data.windows(needle.len())
        .position(|w| w == needle.as_bytes())
        .unwrap_or(0)
}

/// A short, char-aligned excerpt of `data` around `at`.
pub(crate) fn excerpt(data: &[u8], at: usize) -> String {
    let at = at.min(data.len());
    let mut start = at.saturating_sub(EXCERPT_BEFORE);
    let mut end = (at + EXCERPT_AFTER).min(data.len());
    while start > 0 && start < data.len() && data[start] & 0xC0 == 0x80 {
        start -= 1;
    }
    while end < data.len() && data[end] & 0xC0 == 0x80 {
        end += 1;
    }
    let mut s = String::new();
    if start > 0 {
        s.push('…');
    }
    s.push_str(&String::from_utf8_lossy(&data[start..end]));
    if end < data.len() {
        s.push('…');
    }
    s
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot decode `{}`: {} at `{}` near {:?}",
            self.inner.what, self.inner.message, self.inner.path, self.inner.excerpt
        )
    }
}

impl fmt::Debug for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecodeError")
            .field("event_type", &self.inner.what)
            .field("path", &self.inner.path)
            .field("excerpt", &self.inner.excerpt)
            .field("message", &self.inner.message)
            .finish()
    }
}

impl std::error::Error for DecodeError {}
