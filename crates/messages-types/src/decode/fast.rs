//! The fast path of [`decode_event`](super::decode_event): one plain struct
//! per event name, borrowed strings, no intermediate `Value`. The hottest
//! event, `content_block_delta`, has its own scanner (`super::scan`).
//!
//! Every function here returns `None` when it is not sure to give exactly
//! what the generic path gives; the caller then takes the generic path.

use std::borrow::Cow;

use bytes::Bytes;
use serde::Deserialize;

use crate::content::ContentBlock;
use crate::error::{ApiError, ErrorResponse};
use crate::message::{Message, Usage};
use crate::stream::{
    ContentBlockStartEvent, ContentBlockStopEvent, MessageDelta, MessageDeltaEvent,
    MessageStartEvent, MessageStopEvent, PingEvent, StreamEvent,
};

/// Decodes `data` as the event `name`, or `None` to take the generic path.
pub(super) fn decode(name: &str, data: &Bytes) -> Option<StreamEvent> {
    match name {
        "content_block_delta" => super::scan::block_delta(data),
        "content_block_stop" => {
            let e: IndexOnly<'_> = serde_json::from_slice(data).ok()?;
            (e.ty == name)
                .then(|| StreamEvent::ContentBlockStop(ContentBlockStopEvent::new(e.index)))
        }
        "ping" => {
            let e: TypeOnly<'_> = serde_json::from_slice(data).ok()?;
            (e.ty == name).then(|| StreamEvent::Ping(PingEvent::default()))
        }
        "message_stop" => {
            let e: TypeOnly<'_> = serde_json::from_slice(data).ok()?;
            (e.ty == name).then(|| StreamEvent::MessageStop(MessageStopEvent::default()))
        }
        "message_delta" => {
            let e: MessageDeltaRaw<'_> = serde_json::from_slice(data).ok()?;
            (e.ty == name).then(|| {
                StreamEvent::MessageDelta(Box::new(MessageDeltaEvent {
                    delta: e.delta,
                    usage: e.usage,
                    context_management: e.context_management,
                    extra: serde_json::Map::new(),
                }))
            })
        }
        "message_start" => {
            let e: MessageStartRaw<'_> = serde_json::from_slice(data).ok()?;
            (e.ty == name).then(|| {
                StreamEvent::MessageStart(Box::new(MessageStartEvent {
                    message: e.message,
                    extra: serde_json::Map::new(),
                }))
            })
        }
        "content_block_start" => {
            let e: BlockStartRaw<'_> = serde_json::from_slice(data).ok()?;
            (e.ty == name).then(|| {
                StreamEvent::ContentBlockStart(Box::new(ContentBlockStartEvent::new(
                    e.index,
                    e.content_block,
                )))
            })
        }
        "error" => {
            let e: ErrorRaw<'_> = serde_json::from_slice(data).ok()?;
            (e.ty == name).then_some(StreamEvent::Error(ErrorResponse {
                error: e.error,
                request_id: e.request_id,
            }))
        }
        _ => None,
    }
}

// ===== raw event structs =====
//
// Each one denies unknown fields: an event with a top-level field this
// version does not know takes the generic path, which keeps it in `extra`.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TypeOnly<'a> {
    #[serde(rename = "type", borrow)]
    ty: Cow<'a, str>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IndexOnly<'a> {
    #[serde(rename = "type", borrow)]
    ty: Cow<'a, str>,
    index: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MessageDeltaRaw<'a> {
    #[serde(rename = "type", borrow)]
    ty: Cow<'a, str>,
    delta: MessageDelta,
    usage: Usage,
    #[serde(default)]
    context_management: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MessageStartRaw<'a> {
    #[serde(rename = "type", borrow)]
    ty: Cow<'a, str>,
    message: Message,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BlockStartRaw<'a> {
    #[serde(rename = "type", borrow)]
    ty: Cow<'a, str>,
    index: u32,
    content_block: ContentBlock,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ErrorRaw<'a> {
    #[serde(rename = "type", borrow)]
    ty: Cow<'a, str>,
    error: ApiError,
    #[serde(default)]
    request_id: Option<String>,
}
