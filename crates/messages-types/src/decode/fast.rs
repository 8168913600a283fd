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
            (e.ty == name).then_some(StreamEvent::ContentBlockStop(ContentBlockStopEvent {
                index: e.index,
            }))
        }
        "ping" => {
            let e: TypeOnly<'_> = serde_json::from_slice(data).ok()?;
            (e.ty == name).then_some(StreamEvent::Ping(PingEvent {}))
        }
        "message_stop" => {
            let e: TypeOnly<'_> = serde_json::from_slice(data).ok()?;
            (e.ty == name).then_some(StreamEvent::MessageStop(MessageStopEvent {}))
        }
        "message_delta" => {
            let e: MessageDeltaRaw<'_> = serde_json::from_slice(data).ok()?;
            (e.ty == name).then(|| {
                StreamEvent::MessageDelta(Box::new(MessageDeltaEvent {
                    delta: e.delta,
                    usage: e.usage,
                }))
            })
        }
        "message_start" => {
            let e: MessageStartRaw<'_> = serde_json::from_slice(data).ok()?;
            (e.ty == name).then(|| {
                StreamEvent::MessageStart(Box::new(MessageStartEvent { message: e.message }))
            })
        }
        "content_block_start" => {
            let e: BlockStartRaw<'_> = serde_json::from_slice(data).ok()?;
            (e.ty == name).then(|| {
                StreamEvent::ContentBlockStart(Box::new(ContentBlockStartEvent {
                    index: e.index,
                    content_block: e.content_block,
                }))
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

#[derive(Deserialize)]
struct TypeOnly<'a> {
    #[serde(rename = "type", borrow)]
    ty: Cow<'a, str>,
}

#[derive(Deserialize)]
struct IndexOnly<'a> {
    #[serde(rename = "type", borrow)]
    ty: Cow<'a, str>,
    index: u32,
}

#[derive(Deserialize)]
struct MessageDeltaRaw<'a> {
    #[serde(rename = "type", borrow)]
    ty: Cow<'a, str>,
    delta: MessageDelta,
    usage: Usage,
}

#[derive(Deserialize)]
struct MessageStartRaw<'a> {
    #[serde(rename = "type", borrow)]
    ty: Cow<'a, str>,
    message: Message,
}

#[derive(Deserialize)]
struct BlockStartRaw<'a> {
    #[serde(rename = "type", borrow)]
    ty: Cow<'a, str>,
    index: u32,
    content_block: ContentBlock,
}

#[derive(Deserialize)]
struct ErrorRaw<'a> {
    #[serde(rename = "type", borrow)]
    ty: Cow<'a, str>,
    error: ApiError,
    #[serde(default)]
    request_id: Option<String>,
}
