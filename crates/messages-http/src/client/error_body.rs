//! Error-body parsing: a non-2xx response read (up to a limit) into an API
//! error, with or without the envelope's tag, or an excerpt of whatever
//! else the server sent.

use http::StatusCode;
use messages_types::error::{ApiError, ErrorResponse, ErrorType};
use serde::Deserialize;

use crate::error::{Error, one_line};
use crate::response::Body;

/// The largest error body read to build an API error; the rest is dropped.
const ERROR_BODY_LIMIT: usize = 64 * 1024;
/// The longest excerpt of a non-JSON error body kept in the error.
const EXCERPT_CHARS: usize = 200;

/// An error body, with or without the `"type":"error"` tag (some proxies
/// drop it): unknown fields, the tag included, are ignored.
#[derive(Deserialize)]
struct LooseErrorBody {
    error: ApiError,
    #[serde(default)]
    request_id: Option<String>,
}

pub(super) async fn api_error(
    status: StatusCode,
    body: Body,
    request_id: Option<String>,
    attempts: u32,
) -> Error {
    // A failed read (timeout, reset) still yields an API error from the
    // status; the body was only an explanation.
    let bytes = body
        .bytes_limited(ERROR_BODY_LIMIT)
        .await
        .unwrap_or_default();
    // One parse covers both shapes: `LooseErrorBody` ignores the tag.
    let parsed = serde_json::from_slice::<LooseErrorBody>(&bytes)
        .ok()
        .map(|l| ErrorResponse::new(l.error).with_request_id(l.request_id));
    let resp = parsed.unwrap_or_else(|| {
        let text = String::from_utf8_lossy(&bytes);
        let excerpt = one_line(&text, EXCERPT_CHARS);
        let mut message = format!("HTTP {}", status.as_u16());
        if let Some(reason) = status.canonical_reason() {
            message.push(' ');
            message.push_str(reason);
        }
        if !excerpt.is_empty() {
            message.push_str(": ");
            message.push_str(&excerpt);
        }
        ErrorResponse::new(ApiError::new(
            ErrorType::from_status(status.as_u16()),
            message,
        ))
    });
    Error::api(status, resp)
        .with_request_id(request_id)
        .with_attempts(attempts)
}
