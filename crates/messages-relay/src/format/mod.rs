//! The one mapping layer: upstream events to [`Item`]s, and items to the
//! frames of each browser [`Format`]. Pure functions, no I/O.
//!
//! An upstream event is mapped once, when it arrives, into an [`Item`] that
//! holds what every format needs: the raw `data`, copied once out of the
//! network buffer (a slice would keep the whole buffer alive as long as the
//! stream is kept), and for deltas the text, a slice of that copy. Items are
//! what the buffer keeps;
//! each connection encodes them in its own format as it writes them. No
//! format parses JSON: the `anthropic` format writes the raw data as it
//! arrived, the others serialize the few typed fields they need.

use std::fmt;
use std::str::FromStr;

use bytes::{Bytes, BytesMut};
use messages_types::stream::ContentBlockDelta;
use messages_types::{ContentBlock, Message, StopReason, StreamEvent, Text, Usage};
use serde::Serialize;
use serde_json::Value;
use sse_core::{Encoder, Event, Str};

/// A wire format for the browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Format {
    /// `anthropic`: the upstream events relayed losslessly (each event's
    /// `data` exactly as the API sent it), with SSE ids added. What the
    /// TypeScript and Python SDKs' stream readers parse.
    Anthropic,
    /// `ui-message-stream`: the Vercel AI SDK UI message stream protocol,
    /// v1 (`x-vercel-ai-ui-message-stream: v1`): `start`, `text-start` /
    /// `text-delta` / `text-end`, `reasoning-*`, `tool-input-*`, `finish`,
    /// `error`, `abort` and `[DONE]`. The AI SDK's `useChat` / `Chat` read it.
    #[default]
    UiMessageStream,
    /// `simple`: `data: {"text": "..."}` per text delta and a final
    /// `data: {"done": true, "usage": {...}}`, the shape hand-written relays use.
    Simple,
}

impl Format {
    /// The name used in configuration and in the `format` query parameter.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Anthropic => "anthropic",
            Format::UiMessageStream => "ui-message-stream",
            Format::Simple => "simple",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A format name that is not one of `anthropic`, `ui-message-stream`, `simple`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownFormat(pub String);

impl fmt::Display for UnknownFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown format {:?} (expected anthropic, ui-message-stream or simple)",
            self.0
        )
    }
}

impl std::error::Error for UnknownFormat {}

impl FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(s: &str) -> Result<Format, UnknownFormat> {
        match s {
            "anthropic" => Ok(Format::Anthropic),
            "ui-message-stream" | "ui" => Ok(Format::UiMessageStream),
            "simple" => Ok(Format::Simple),
            _ => Err(UnknownFormat(s.to_owned())),
        }
    }
}

/// What kind of block an index holds, as far as the formats care.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BlockKind {
    Text,
    Thinking,
    Tool { id: String, name: String },
    Other,
}

impl BlockKind {
    fn of(block: &ContentBlock) -> BlockKind {
        match block {
            ContentBlock::Text(_) => BlockKind::Text,
            ContentBlock::Thinking(_) => BlockKind::Thinking,
            ContentBlock::ToolUse(t) => BlockKind::Tool {
                id: t.id.clone(),
                name: t.name.clone(),
            },
            _ => BlockKind::Other,
        }
    }
}

/// An error as the page sees it: the API's error type, its message, the
/// request id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct ErrorInfo {
    #[serde(rename = "type")]
    pub(crate) kind: String,
    pub(crate) message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) request_id: Option<String>,
}

/// One buffered event: an upstream event mapped once, or an event of the
/// relay's own (error, stop).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Item {
    /// `message_start`.
    Start { message_id: String, raw: Bytes },
    /// `content_block_start`.
    BlockStart {
        index: u32,
        kind: BlockKind,
        raw: Bytes,
    },
    /// A `text_delta`. `raw` is `None` for deltas merged for a slow reader
    /// (and for events of a resumed upstream continuation).
    Text {
        index: u32,
        text: Text,
        raw: Option<Bytes>,
    },
    /// A `thinking_delta`.
    Thinking { index: u32, text: Text, raw: Bytes },
    /// An `input_json_delta` of a tool block.
    ToolInput {
        index: u32,
        id: String,
        json: Text,
        raw: Bytes,
    },
    /// `content_block_stop`, with the block's kind and (tools) its input.
    BlockStop {
        index: u32,
        kind: BlockKind,
        input: Option<Value>,
        raw: Bytes,
    },
    /// `message_stop`: the finish reason and the final usage.
    Stop {
        stop_reason: Option<StopReason>,
        /// Boxed: `Usage` is large and this item comes once per stream.
        usage: Box<Usage>,
        raw: Bytes,
    },
    /// Every other upstream event (`message_delta`, `ping`, signatures,
    /// citations, unknown events): relayed by the `anthropic` format only.
    Other { kind: Str, raw: Bytes },
    /// The stream failed; it ends after this.
    Error(ErrorInfo),
    /// The stream was stopped (`POST .../stop`, or the grace period ran
    /// out); it ends after this.
    Stopped,
}

impl Item {
    /// Whether the stream ends with this item.
    pub(crate) fn is_terminal(&self) -> bool {
        matches!(self, Item::Stop { .. } | Item::Error(_) | Item::Stopped)
    }

    /// The bytes this item keeps alive, roughly (for the memory bound).
    pub(crate) fn weight(&self) -> usize {
        let raw = match self {
            Item::Start { raw, .. }
            | Item::BlockStart { raw, .. }
            | Item::Thinking { raw, .. }
            | Item::ToolInput { raw, .. }
            | Item::BlockStop { raw, .. }
            | Item::Stop { raw, .. }
            | Item::Other { raw, .. } => raw.len(),
            Item::Text { raw, text, .. } => raw.as_ref().map_or(text.len(), Bytes::len),
            Item::Error(e) => e.message.len(),
            Item::Stopped => 0,
        };
        raw + std::mem::size_of::<Item>()
    }

    /// Merges `next` into `self` when both are text deltas of the same
    /// block (the text is concatenated; nothing is lost). Returns `next`
    /// back when they cannot be merged.
    pub(crate) fn merge(&mut self, next: Item) -> Option<Item> {
        match (self, next) {
            (
                Item::Text { index, text, raw },
                Item::Text {
                    index: i2,
                    text: t2,
                    ..
                },
            ) if *index == i2 => {
                let mut joined = String::with_capacity(text.len() + t2.len());
                joined.push_str(text);
                joined.push_str(&t2);
                *text = Text::from(joined);
                *raw = None;
                None
            }
            (_, next) => Some(next),
        }
    }
}

/// The bytes of one stream's buffered events: each event's raw data is
/// copied into the current block (1 KiB, or the event's size when larger)
/// and handed out as a slice of it, so a stream's events cost their bytes
/// and one allocation per block, not one (and a reference-count header when
/// first shared) per event. A block is freed when the last event in it is.
///
/// Text deltas have blocks of their own ([`Arena::copy_text`]): a store
/// that keeps a text delta's text alone ([`MemoryStore`](crate::MemoryStore)
/// does when the raw data is the canonical encoding) drops its raw data, and
/// a `ping` or another event kept whole in the same block would keep the
/// whole block alive.
#[derive(Debug, Default)]
pub(crate) struct Arena {
    other: BytesMut,
    text: BytesMut,
}

/// The size of an [`Arena`]'s blocks.
const ARENA_BLOCK: usize = 1024;

impl Arena {
    /// A copy of `data`, in the blocks of everything but text deltas.
    pub(crate) fn copy(&mut self, data: &[u8]) -> Bytes {
        Arena::copy_into(&mut self.other, data)
    }

    /// A copy of a text delta's `data`, in the blocks of text deltas.
    pub(crate) fn copy_text(&mut self, data: &[u8]) -> Bytes {
        Arena::copy_into(&mut self.text, data)
    }

    fn copy_into(block: &mut BytesMut, data: &[u8]) -> Bytes {
        if block.capacity() < data.len() {
            *block = BytesMut::with_capacity(data.len().max(ARENA_BLOCK));
        }
        block.extend_from_slice(data);
        block.split().freeze()
    }
}

/// Maps one upstream event to an item. `raw` is the event's data as it
/// arrived ([`MessageStream::raw_data`](messages_stream::MessageStream::raw_data));
/// `None` (events of a resumed continuation) serializes the typed event.
/// `snapshot` is the message accumulated *including* this event. The raw
/// data kept is copied into `arena`, the stream's.
pub(crate) fn map_event(
    event: &StreamEvent,
    raw: Option<&Bytes>,
    snapshot: Option<&Message>,
    arena: &mut Arena,
) -> Item {
    // The raw data is copied once, out of the network buffer it is a slice
    // of: a buffered slice would keep that whole buffer (often 8 KiB or more
    // for a 150-byte event) alive for as long as the stream is kept.
    let copied = raw.map(|b| match event {
        StreamEvent::ContentBlockDelta(d) if matches!(d.delta, ContentBlockDelta::Text(_)) => {
            arena.copy_text(b)
        }
        _ => arena.copy(b),
    });
    let raw_bytes = || match &copied {
        Some(b) => b.clone(),
        None => Bytes::from(serde_json::to_vec(event).unwrap_or_default()),
    };
    let block = |index: u32| {
        snapshot
            .and_then(|m| m.content.get(index as usize))
            .map_or(BlockKind::Other, BlockKind::of)
    };
    match event {
        StreamEvent::MessageStart(start) => Item::Start {
            message_id: start.message.id.clone(),
            raw: raw_bytes(),
        },
        StreamEvent::ContentBlockStart(start) => Item::BlockStart {
            index: start.index,
            kind: BlockKind::of(&start.content_block),
            raw: raw_bytes(),
        },
        StreamEvent::ContentBlockDelta(d) => match &d.delta {
            ContentBlockDelta::Text(t) => {
                let (raw, text) = compact(raw, copied.as_ref(), &t.text);
                Item::Text {
                    index: d.index,
                    text,
                    raw,
                }
            }
            ContentBlockDelta::Thinking(t) => {
                let (raw, text) = compact(raw, copied.as_ref(), &t.thinking);
                Item::Thinking {
                    index: d.index,
                    text,
                    raw: raw.unwrap_or_else(raw_bytes),
                }
            }
            ContentBlockDelta::InputJson(j) => match block(d.index) {
                BlockKind::Tool { id, .. } => {
                    let (raw, json) = compact(raw, copied.as_ref(), &j.partial_json);
                    Item::ToolInput {
                        index: d.index,
                        id,
                        json,
                        raw: raw.unwrap_or_else(raw_bytes),
                    }
                }
                _ => other(event, raw_bytes()),
            },
            _ => other(event, raw_bytes()),
        },
        StreamEvent::ContentBlockStop(stop) => {
            let content = snapshot.and_then(|m| m.content.get(stop.index as usize));
            let input = match content {
                Some(ContentBlock::ToolUse(t)) => Some(t.input.clone()),
                _ => None,
            };
            Item::BlockStop {
                index: stop.index,
                kind: content.map_or(BlockKind::Other, BlockKind::of),
                input,
                raw: raw_bytes(),
            }
        }
        StreamEvent::MessageStop(_) => Item::Stop {
            stop_reason: snapshot.and_then(|m| m.stop_reason.clone()),
            usage: Box::new(snapshot.map(|m| m.usage.clone()).unwrap_or_default()),
            raw: raw_bytes(),
        },
        StreamEvent::Error(e) => Item::Error(ErrorInfo {
            kind: e.error.kind.as_str().to_owned(),
            message: e.error.message.clone(),
            request_id: e.request_id.clone(),
        }),
        _ => other(event, raw_bytes()),
    }
}

/// A delta's raw data (`copy`, the arena's copy of `raw`) and its text,
/// pointed into the copy when the text was a slice of the raw data (a delta
/// without JSON escapes, decoded without copying); an escaped text is
/// already its own small allocation and is copied only if it still points
/// into a network buffer. Nothing of the network buffer is kept.
fn compact(raw: Option<&Bytes>, copy: Option<&Bytes>, text: &Text) -> (Option<Bytes>, Text) {
    let (Some(raw), Some(copy)) = (raw, copy) else {
        return (None, Text::from(text.as_str()));
    };
    let copy = copy.clone();
    let start = raw.as_ptr() as usize;
    let at = (text.as_bytes().as_ptr() as usize).wrapping_sub(start);
    let text = match raw.get(at..at + text.len()) {
        Some(inside) if inside.as_ptr() == text.as_bytes().as_ptr() => {
            Text::from_utf8(copy.slice(at..at + text.len()))
                .unwrap_or_else(|_| Text::from(text.as_str()))
        }
        _ => Text::from(text.as_str()),
    };
    (Some(copy), text)
}

fn other(event: &StreamEvent, raw: Bytes) -> Item {
    Item::Other {
        kind: Str::copy_from_str(event.kind()),
        raw,
    }
}

/// The text-part id of block `index` in the `ui-message-stream` format.
fn part_id(index: u32) -> String {
    format!("{index}")
}

/// The AI SDK's finish reason for a stop reason.
fn finish_reason(stop: Option<&StopReason>) -> &'static str {
    match stop.map(StopReason::as_str) {
        Some("end_turn" | "stop_sequence" | "pause_turn") | None => "stop",
        Some("max_tokens" | "model_context_window_exceeded") => "length",
        Some("tool_use") => "tool-calls",
        Some("refusal") => "content-filter",
        Some(_) => "other",
    }
}

/// Encodes items of one stream in one format. Keeps the sse-core encoder
/// (which writes an `id` line only when the id changes).
#[derive(Debug, Default)]
pub(crate) struct Writer {
    format: Format,
    encoder: Encoder,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
enum Ui<'a> {
    Start {
        #[serde(rename = "messageId")]
        message_id: &'a str,
    },
    StartStep,
    TextStart {
        id: &'a str,
    },
    TextDelta {
        id: &'a str,
        delta: &'a str,
    },
    TextEnd {
        id: &'a str,
    },
    ReasoningStart {
        id: &'a str,
    },
    ReasoningDelta {
        id: &'a str,
        delta: &'a str,
    },
    ReasoningEnd {
        id: &'a str,
    },
    ToolInputStart {
        #[serde(rename = "toolCallId")]
        tool_call_id: &'a str,
        #[serde(rename = "toolName")]
        tool_name: &'a str,
    },
    ToolInputDelta {
        #[serde(rename = "toolCallId")]
        tool_call_id: &'a str,
        #[serde(rename = "inputTextDelta")]
        input_text_delta: &'a str,
    },
    ToolInputAvailable {
        #[serde(rename = "toolCallId")]
        tool_call_id: &'a str,
        #[serde(rename = "toolName")]
        tool_name: &'a str,
        input: &'a Value,
    },
    FinishStep,
    Finish {
        #[serde(rename = "finishReason")]
        finish_reason: &'a str,
    },
    Error {
        #[serde(rename = "errorText")]
        error_text: &'a str,
    },
    Abort,
}

#[derive(Serialize)]
struct TextDeltaJson<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    index: u32,
    delta: TextDeltaInner<'a>,
}

#[derive(Serialize)]
struct TextDeltaInner<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    text: &'a str,
}

#[derive(Serialize)]
struct AnthropicError<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    error: AnthropicErrorInner<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<&'a str>,
}

#[derive(Serialize)]
struct AnthropicErrorInner<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    message: &'a str,
}

#[derive(Serialize)]
#[serde(untagged)]
enum SimpleJson<'a> {
    Text {
        text: &'a str,
    },
    Done {
        done: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        stop_reason: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        usage: Option<&'a Usage>,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        stopped: bool,
    },
    Error {
        error: &'a ErrorInfo,
    },
}

/// A text delta as the `anthropic` format writes one that has no raw data.
fn text_delta_json(index: u32, text: &str) -> TextDeltaJson<'_> {
    TextDeltaJson {
        kind: "content_block_delta",
        index,
        delta: TextDeltaInner {
            kind: "text_delta",
            text,
        },
    }
}

/// Whether `raw` is byte for byte what the `anthropic` format writes for a
/// text delta of block `index` holding `text` when it has no raw data (the
/// API's own encoding, unpadded): keeping the text alone then loses nothing.
/// Compares while serializing, without allocating.
pub(crate) fn is_canonical_text_delta(index: u32, text: &str, raw: &[u8]) -> bool {
    /// Compares what is written with the rest of `.0`.
    struct Same<'a>(&'a [u8], bool);
    impl std::io::Write for Same<'_> {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            match self.0.strip_prefix(buf) {
                Some(rest) if self.1 => self.0 = rest,
                _ => self.1 = false,
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut same = Same(raw, true);
    serde_json::to_writer(&mut same, &text_delta_json(index, text)).is_ok()
        && same.1
        && same.0.is_empty()
}

fn json<T: Serialize>(value: &T) -> Bytes {
    // Serializing these plain structs cannot fail.
    Bytes::from(serde_json::to_vec(value).unwrap_or_default())
}

impl Writer {
    /// A writer for `format`.
    pub(crate) fn new(format: Format) -> Writer {
        Writer {
            format,
            encoder: Encoder::new(),
        }
    }

    fn event(&mut self, id: &str, name: Option<&str>, data: Bytes, out: &mut BytesMut) {
        let data = Str::from_utf8(data).unwrap_or_else(|(b, _)| Str::from_utf8_lossy(b));
        let mut event = Event::new(data).with_id(Str::copy_from_str(id));
        if let Some(name) = name {
            event = event.with_event(Str::copy_from_str(name));
        }
        // Event names here are fixed strings or the API's event types, and
        // ids are decimal numbers: neither has a line break.
        let _ = self.encoder.encode(&event, out);
    }

    /// Appends the frames of item `id` to `out`; returns how many SSE
    /// events were written (zero when the format has nothing for the item).
    pub(crate) fn write(&mut self, id: u64, item: &Item, out: &mut BytesMut) -> usize {
        let id = id.to_string();
        let before = out.len();
        let mut n = 0;
        let mut emit = |w: &mut Writer, name: Option<&str>, data: Bytes, out: &mut BytesMut| {
            w.event(&id, name, data, out);
            n += 1;
        };
        match self.format {
            Format::Anthropic => match item {
                Item::Start { raw, .. } => emit(self, Some("message_start"), raw.clone(), out),
                Item::BlockStart { raw, .. } => {
                    emit(self, Some("content_block_start"), raw.clone(), out)
                }
                Item::Text { index, text, raw } => {
                    let data = raw
                        .clone()
                        .unwrap_or_else(|| json(&text_delta_json(*index, text)));
                    emit(self, Some("content_block_delta"), data, out)
                }
                Item::Thinking { raw, .. } | Item::ToolInput { raw, .. } => {
                    emit(self, Some("content_block_delta"), raw.clone(), out)
                }
                Item::BlockStop { raw, .. } => {
                    emit(self, Some("content_block_stop"), raw.clone(), out)
                }
                Item::Stop { raw, .. } => emit(self, Some("message_stop"), raw.clone(), out),
                Item::Other { kind, raw } => emit(self, Some(kind), raw.clone(), out),
                Item::Error(e) => {
                    let data = json(&AnthropicError {
                        kind: "error",
                        error: AnthropicErrorInner {
                            kind: &e.kind,
                            message: &e.message,
                        },
                        request_id: e.request_id.as_deref(),
                    });
                    emit(self, Some("error"), data, out)
                }
                Item::Stopped => emit(
                    self,
                    Some("relay_stopped"),
                    Bytes::from_static(br#"{"type":"relay_stopped"}"#),
                    out,
                ),
            },
            Format::Simple => match item {
                Item::Text { text, .. } => emit(self, None, json(&SimpleJson::Text { text }), out),
                Item::Stop {
                    stop_reason, usage, ..
                } => {
                    let done = SimpleJson::Done {
                        done: true,
                        stop_reason: stop_reason.as_ref().map(StopReason::as_str),
                        usage: Some(&**usage),
                        stopped: false,
                    };
                    emit(self, None, json(&done), out)
                }
                Item::Error(error) => emit(self, None, json(&SimpleJson::Error { error }), out),
                Item::Stopped => {
                    let done = SimpleJson::Done {
                        done: true,
                        stop_reason: None,
                        usage: None,
                        stopped: true,
                    };
                    emit(self, None, json(&done), out)
                }
                _ => {}
            },
            Format::UiMessageStream => {
                let done = Bytes::from_static(b"[DONE]");
                match item {
                    Item::Start { message_id, .. } => {
                        for part in [Ui::Start { message_id }, Ui::StartStep] {
                            emit(self, None, json(&part), out);
                        }
                    }
                    Item::BlockStart { index, kind, .. } => {
                        let pid = part_id(*index);
                        let part = match kind {
                            BlockKind::Text => Ui::TextStart { id: &pid },
                            BlockKind::Thinking => Ui::ReasoningStart { id: &pid },
                            BlockKind::Tool { id, name } => Ui::ToolInputStart {
                                tool_call_id: id,
                                tool_name: name,
                            },
                            BlockKind::Other => return 0,
                        };
                        emit(self, None, json(&part), out);
                    }
                    Item::Text { index, text, .. } => {
                        let pid = part_id(*index);
                        let part = Ui::TextDelta {
                            id: &pid,
                            delta: text,
                        };
                        emit(self, None, json(&part), out);
                    }
                    Item::Thinking { index, text, .. } => {
                        let pid = part_id(*index);
                        let part = Ui::ReasoningDelta {
                            id: &pid,
                            delta: text,
                        };
                        emit(self, None, json(&part), out);
                    }
                    Item::ToolInput { id, json: j, .. } => {
                        let part = Ui::ToolInputDelta {
                            tool_call_id: id,
                            input_text_delta: j,
                        };
                        emit(self, None, json(&part), out);
                    }
                    Item::BlockStop {
                        index, kind, input, ..
                    } => {
                        let pid = part_id(*index);
                        let empty = Value::Object(serde_json::Map::new());
                        let part = match kind {
                            BlockKind::Text => Ui::TextEnd { id: &pid },
                            BlockKind::Thinking => Ui::ReasoningEnd { id: &pid },
                            BlockKind::Tool { id, name } => Ui::ToolInputAvailable {
                                tool_call_id: id,
                                tool_name: name,
                                input: input.as_ref().unwrap_or(&empty),
                            },
                            BlockKind::Other => return 0,
                        };
                        emit(self, None, json(&part), out);
                    }
                    Item::Stop { stop_reason, .. } => {
                        let finish_reason = finish_reason(stop_reason.as_ref());
                        for part in [Ui::FinishStep, Ui::Finish { finish_reason }] {
                            emit(self, None, json(&part), out);
                        }
                        emit(self, None, done, out);
                    }
                    Item::Error(e) => {
                        let text = match &e.request_id {
                            Some(rid) => format!("{}: {} (request id {rid})", e.kind, e.message),
                            None => format!("{}: {}", e.kind, e.message),
                        };
                        emit(self, None, json(&Ui::Error { error_text: &text }), out);
                        emit(self, None, done, out);
                    }
                    Item::Stopped => {
                        emit(self, None, json(&Ui::Abort), out);
                        emit(self, None, done, out);
                    }
                    Item::Other { .. } => {}
                }
            }
        }
        debug_assert!(n == 0 || out.len() > before);
        n
    }

    /// Appends a heartbeat in the format: a `ping` event for `anthropic`
    /// (the API's own keep-alive), an SSE comment for the others. A
    /// heartbeat has no id and is not buffered.
    pub(crate) fn heartbeat(&mut self, out: &mut BytesMut) {
        match self.format {
            Format::Anthropic => {
                // No id line: an event without one leaves the browser's
                // last event id as it was (and the encoder's state alone).
                out.extend_from_slice(b"event: ping\ndata: {\"type\":\"ping\"}\n\n");
            }
            _ => self.encoder.comment("heartbeat", out),
        }
    }
}

#[cfg(test)]
mod tests;
