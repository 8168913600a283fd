//! The fast path of [`decode_event`](super::decode_event): one plain struct
//! per event name, borrowed strings, no intermediate `Value`.
//!
//! Every function here returns `None` when it is not sure to give exactly
//! what the generic path gives; the caller then takes the generic path.

use std::borrow::Cow;
use std::fmt;

use bytes::Bytes;
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};

use crate::content::ContentBlock;
use crate::error::{ApiError, ErrorResponse};
use crate::message::{Message, Usage};
use crate::stream::{
    ContentBlockDelta, ContentBlockDeltaEvent, ContentBlockStartEvent, ContentBlockStopEvent,
    InputJsonDelta, MessageDelta, MessageDeltaEvent, MessageStartEvent, MessageStopEvent,
    PingEvent, SignatureDelta, StreamEvent, TextDelta, ThinkingDelta,
};
use crate::text::{CowStr, Text};

/// Decodes `data` as the event `name`, or `None` to take the generic path.
pub(super) fn decode(name: &str, data: &Bytes) -> Option<StreamEvent> {
    match name {
        "content_block_delta" => super::scan::block_delta(data).or_else(|| block_delta(data)),
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
            (e.ty == name).then_some(StreamEvent::MessageDelta(MessageDeltaEvent {
                delta: e.delta,
                usage: e.usage,
            }))
        }
        "message_start" => {
            let e: MessageStartRaw<'_> = serde_json::from_slice(data).ok()?;
            (e.ty == name).then_some(StreamEvent::MessageStart(MessageStartEvent {
                message: e.message,
            }))
        }
        "content_block_start" => {
            let e: BlockStartRaw<'_> = serde_json::from_slice(data).ok()?;
            (e.ty == name).then_some(StreamEvent::ContentBlockStart(ContentBlockStartEvent {
                index: e.index,
                content_block: e.content_block,
            }))
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

fn block_delta(data: &Bytes) -> Option<StreamEvent> {
    let e: BlockDeltaRaw<'_> = serde_json::from_slice(data).ok()?;
    if e.ty != "content_block_delta" || !e.delta.clean {
        return None;
    }
    let (field, s) = e.delta.field?;
    let text = |s| Text::from_cow_in(s, data);
    let delta = match (e.delta.ty?.as_ref(), field) {
        ("text_delta", DeltaField::Text) => ContentBlockDelta::Text(TextDelta { text: text(s) }),
        ("input_json_delta", DeltaField::PartialJson) => {
            ContentBlockDelta::InputJson(InputJsonDelta {
                partial_json: text(s),
            })
        }
        ("thinking_delta", DeltaField::Thinking) => {
            ContentBlockDelta::Thinking(ThinkingDelta { thinking: text(s) })
        }
        ("signature_delta", DeltaField::Signature) => {
            ContentBlockDelta::Signature(SignatureDelta { signature: text(s) })
        }
        _ => return None,
    };
    Some(StreamEvent::ContentBlockDelta(ContentBlockDeltaEvent {
        index: e.index,
        delta,
    }))
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
struct BlockDeltaRaw<'a> {
    #[serde(rename = "type", borrow)]
    ty: Cow<'a, str>,
    index: u32,
    #[serde(borrow)]
    delta: RawDelta<'a>,
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

// ===== the delta object =====

/// The text field a delta carries.
#[derive(Clone, Copy, PartialEq, Eq)]
enum DeltaField {
    Text,
    PartialJson,
    Thinking,
    Signature,
}

/// A delta object: its `type`, its one text field, and whether it had
/// nothing else (`clean`). Anything else sends the event to the generic path.
struct RawDelta<'a> {
    ty: Option<Cow<'a, str>>,
    field: Option<(DeltaField, Cow<'a, str>)>,
    clean: bool,
}

enum DeltaKey {
    Type,
    Field(DeltaField),
    Other,
}

impl<'de> Deserialize<'de> for DeltaKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<DeltaKey, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = DeltaKey;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<DeltaKey, E> {
                Ok(match s {
                    "type" => DeltaKey::Type,
                    "text" => DeltaKey::Field(DeltaField::Text),
                    "partial_json" => DeltaKey::Field(DeltaField::PartialJson),
                    "thinking" => DeltaKey::Field(DeltaField::Thinking),
                    "signature" => DeltaKey::Field(DeltaField::Signature),
                    _ => DeltaKey::Other,
                })
            }
        }
        d.deserialize_identifier(V)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for RawDelta<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<RawDelta<'a>, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = RawDelta<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a delta object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawDelta<'a>, A::Error> {
                let mut delta = RawDelta {
                    ty: None,
                    field: None,
                    clean: true,
                };
                while let Some(key) = map.next_key::<DeltaKey>()? {
                    match key {
                        DeltaKey::Type if delta.ty.is_none() => {
                            delta.ty = Some(map.next_value::<CowStr<'de>>()?.0);
                        }
                        DeltaKey::Field(f) if delta.field.is_none() => {
                            delta.field = Some((f, map.next_value::<CowStr<'de>>()?.0));
                        }
                        _ => {
                            delta.clean = false;
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(delta)
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}
