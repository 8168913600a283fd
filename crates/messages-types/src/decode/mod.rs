//! Decoding entry points: the hot-path stream event decoder and the decoders
//! of large documents.
//!
//! * [`decode_event`] picks the struct by the SSE event name (which always
//!   equals the JSON `type`) and shares the data buffer for delta text. On
//!   anything unusual it falls back to [`decode_event_generic`], so both
//!   always give the same result.
//! * [`decode_message`] and [`decode_batch_result_line`] decode whole
//!   documents, with simd-json where it is faster when the `simd-json`
//!   feature is on.
//!
//! Every error is a [`DecodeError`] naming the event type (or document
//! kind), the JSON path and a short excerpt of the input.

use bytes::Bytes;
use serde::de::DeserializeOwned;

use crate::batch::BatchResultLine;
use crate::message::Message;
use crate::stream::StreamEvent;

mod error;
mod fast;
mod scan;

pub use self::error::DecodeError;
#[cfg(test)]
pub(crate) use self::error::excerpt as _excerpt_for_tests;

/// Decodes one stream event from its SSE event name and data.
///
/// `name` selects the struct to decode without looking at the JSON first;
/// the JSON `type` must still match it. Delta text without escapes
/// (`text_delta`, `input_json_delta`, `thinking_delta`, `signature_delta`)
/// is not copied: the returned [`Text`](crate::Text) shares `data` (a
/// reference count increment). When the name is unknown, does not match the
/// JSON `type`, or the JSON has an unusual shape (extra or repeated fields
/// in a delta), this falls back to the generic path
/// ([`decode_event_generic`]); the result is the same either way.
///
/// The returned event owns its data (`'static`, `Send + Sync`).
///
/// # Errors
///
/// Malformed JSON, a wrong type or a missing required field. The error
/// names the event type, the JSON path and an excerpt of the input.
/// Unknown event, block and delta types are not errors: they decode to
/// `Unknown` variants that keep the raw JSON.
///
/// # Examples
///
/// ```
/// use bytes::Bytes;
/// use messages_types::{ContentBlockDelta, StreamEvent, decode_event};
///
/// let data = Bytes::from_static(
///     br#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}"#,
/// );
/// let event = decode_event("content_block_delta", &data).unwrap();
/// let StreamEvent::ContentBlockDelta(e) = event else { panic!() };
/// let ContentBlockDelta::Text(t) = e.delta else { panic!() };
/// assert_eq!(t.text, "Hello");
///
/// let err = decode_event("message_delta", &Bytes::from_static(b"{\"type\":\"message_delta\"")).unwrap_err();
/// assert_eq!(err.event_type(), "message_delta");
/// ```
pub fn decode_event(name: &str, data: &Bytes) -> Result<StreamEvent, DecodeError> {
    match fast::decode(name, data) {
        Some(event) => Ok(event),
        None => generic(Some(name), data),
    }
}

/// Decodes one stream event from its data alone, reading the JSON `type`:
/// the plain serde path (`serde_json::from_slice::<StreamEvent>`) with a
/// [`DecodeError`] on failure. Text is always copied.
///
/// # Errors
///
/// As [`decode_event`].
pub fn decode_event_generic(data: &[u8]) -> Result<StreamEvent, DecodeError> {
    generic(None, data)
}

fn generic(name: Option<&str>, data: &[u8]) -> Result<StreamEvent, DecodeError> {
    serde_json::from_slice(data).map_err(|e| DecodeError::for_event(name, data, &e))
}

/// Decodes a whole [`Message`] (the body of a non-streaming response).
///
/// With the `simd-json` feature, documents of at least
/// [`SIMD_JSON_MIN_LEN`] bytes are parsed by simd-json (into a copy of the
/// input, which simd-json needs); the result is the same.
///
/// # Errors
///
/// As [`decode_json`].
pub fn decode_message(data: &[u8]) -> Result<Message, DecodeError> {
    decode_document("message", data)
}

/// Decodes one line of a batch's JSONL results.
///
/// With the `simd-json` feature, lines of at least [`SIMD_JSON_MIN_LEN`]
/// bytes are parsed by simd-json; the result is the same.
///
/// # Errors
///
/// As [`decode_json`].
pub fn decode_batch_result_line(line: &[u8]) -> Result<BatchResultLine, DecodeError> {
    decode_document("batch result line", line)
}

/// Decodes any JSON document with serde_json, turning a failure into a
/// [`DecodeError`] that names `what` (such as `"message batch"`).
///
/// # Errors
///
/// Malformed JSON, a wrong type or a missing required field; the error
/// names `what`, the JSON path and an excerpt of the input.
pub fn decode_json<T: DeserializeOwned>(what: &str, data: &[u8]) -> Result<T, DecodeError> {
    serde_json::from_slice(data).map_err(|e| DecodeError::for_document::<T>(what, data, &e))
}

/// The smallest document [`decode_message`] and
/// [`decode_batch_result_line`] hand to simd-json when the `simd-json`
/// feature is on (the default). Below it serde_json is as fast or faster;
/// above it simd-json wins, by 1.16x at 4 KiB and 1.3x from 64 KiB
/// (benches/decode.rs, docs/benchmarks.md).
pub const SIMD_JSON_MIN_LEN: usize = 2 * 1024;

fn decode_document<T: DeserializeOwned>(what: &str, data: &[u8]) -> Result<T, DecodeError> {
    #[cfg(feature = "simd-json")]
    if data.len() >= SIMD_JSON_MIN_LEN
        && let Ok(value) = simd::from_slice(data)
    {
        return Ok(value);
    }
    // Without the feature, below the threshold, or when simd-json refused:
    // serde_json decides, and explains any error.
    decode_json(what, data)
}

#[cfg(feature = "simd-json")]
mod simd {
    use serde::de::DeserializeOwned;

    /// Parses with simd-json's serde deserializer, on a copy of `data`.
    pub(crate) fn from_slice<T: DeserializeOwned>(data: &[u8]) -> Result<T, simd_json::Error> {
        let mut copy = data.to_vec();
        simd_json::serde::from_slice(&mut copy)
    }
}

/// The raw decoders, for the workspace's benchmarks and tests only (feature
/// `bench-internals`, which is not part of the public API).
#[cfg(feature = "bench-internals")]
#[doc(hidden)]
pub mod _benchable {
    use serde::de::DeserializeOwned;

    /// Decodes with serde_json, whatever the size.
    pub fn serde_json_from_slice<T: DeserializeOwned>(data: &[u8]) -> Result<T, serde_json::Error> {
        serde_json::from_slice(data)
    }

    /// Decodes with simd-json (on a copy of `data`), whatever the size.
    #[cfg(feature = "simd-json")]
    pub fn simd_json_from_slice<T: DeserializeOwned>(data: &[u8]) -> Result<T, simd_json::Error> {
        super::simd::from_slice(data)
    }
}
