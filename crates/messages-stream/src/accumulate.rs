//! Folding stream events into a [`Message`].

use messages_types::stream::{ContentBlockDelta, MessageDeltaEvent};
use messages_types::{ContentBlock, Message, StopReason, StreamEvent};
use serde_json::Value;

use crate::error::{Error, Kind};
use crate::partial_json::PartialJson;

/// Folds the events of one Messages stream into the [`Message`] they describe.
///
/// This is the sans-IO core of [`MessageStream`](crate::MessageStream): feed it
/// events from any source with [`apply`](Accumulator::apply). It follows the
/// API's rules exactly:
///
/// - blocks are addressed by their `index`, which must count up from 0 with
///   no gap; deltas and stops must name a started, unstopped block;
/// - `text_delta` and `thinking_delta` append; `signature_delta` sets;
///   `citations_delta` adds one citation; `compaction_delta` appends to a
///   `compaction` block's `content` and sets its `encrypted_content` when
///   non-null; `input_json_delta` fragments accumulate in a [`PartialJson`]
///   (linear time, with a live preview) and are parsed strictly at
///   `content_block_stop`;
/// - blocks that arrive whole in `content_block_start` (`redacted_thinking`,
///   server tool results, unknown kinds) are kept as they came; a
///   `fallback` block switches the message's `model` to the model it names
///   (`to.model`), as the official SDKs do;
/// - `message_delta` usage overwrites, never adds ([`Usage::update`]); its
///   `stop_details`, `container` and top-level `context_management` are
///   kept, and `null` never erases a value set earlier; unknown fields of
///   the delta are kept in [`Message::extra`];
/// - blocks still open at `message_delta` (the API leaves a block cut by
///   `max_tokens` without `content_block_stop`) are closed. A tool input
///   cut by `max_tokens` is **not** an error, as in the official SDKs: the
///   block's `input` is the best valid prefix of the JSON text (the
///   [`PartialJson`] preview, `{}` when none), the raw text is kept in
///   `incomplete_input`, and [`ToolUseBlock::is_input_complete`] says so.
///   Under any other stop reason a tool input that is not valid JSON is a
///   [tool input error](Error::is_tool_input) naming the block and quoting
///   the raw text;
/// - unknown deltas are kept, in order and with their raw JSON, in
///   [`unknown_deltas`](Accumulator::unknown_deltas);
/// - `ping` and unknown events change nothing; an `error` event is returned
///   as an [API error](Error::is_api).
///
/// Anything out of order is a [protocol error](Error::is_protocol) naming
/// the event; the accumulator never panics on its input.
///
/// [`Usage::update`]: messages_types::Usage::update
/// [`ToolUseBlock::is_input_complete`]: messages_types::ToolUseBlock::is_input_complete
///
/// # Examples
///
/// ```
/// use bytes::Bytes;
/// use messages_stream::Accumulator;
/// use messages_types::decode_event;
///
/// let events = [
///     ("message_start", r#"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[],"stop_reason":null,"usage":{"input_tokens":5,"output_tokens":1}}}"#),
///     ("content_block_start", r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#),
///     ("content_block_delta", r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}"#),
///     ("content_block_stop", r#"{"type":"content_block_stop","index":0}"#),
///     ("message_delta", r#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":2}}"#),
///     ("message_stop", r#"{"type":"message_stop"}"#),
/// ];
/// let mut acc = Accumulator::new();
/// for (name, json) in events {
///     acc.apply(&decode_event(name, &Bytes::from_static(json.as_bytes())).unwrap()).unwrap();
/// }
/// let message = acc.finish().unwrap();
/// assert_eq!(message.text(), "Hello");
/// assert_eq!(message.usage.output_tokens, 2);
/// ```
#[derive(Debug, Default)]
pub struct Accumulator {
    message: Option<Message>,
    /// One slot per block of `message.content`.
    slots: Vec<Slot>,
    stopped: bool,
    events: u64,
    discard_text: bool,
    /// Deltas of kinds this version does not know: (block index, raw JSON).
    unknown_deltas: Vec<(usize, Value)>,
}

#[derive(Debug)]
enum Slot {
    /// Started, not stopped; tool input fragments when any arrived.
    Open(Option<Box<PartialJson>>),
    Closed,
}

/// What one event changed in the accumulated message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Change {
    /// Nothing (`ping`, unknown events, unknown deltas).
    None,
    /// `message_start`: the message now exists.
    MessageStart,
    /// A block was added at this index.
    BlockStart(usize),
    /// The block at this index grew.
    BlockDelta(usize),
    /// The block at this index is complete.
    BlockStop(usize),
    /// Stop reason, stop sequence or usage changed.
    MessageDelta,
    /// `message_stop`: the message is complete.
    MessageStop,
}

impl Accumulator {
    /// An accumulator that has seen no event.
    pub fn new() -> Accumulator {
        Accumulator::default()
    }

    /// An accumulator that does not keep the text of `text` and `thinking`
    /// blocks (they stay as `content_block_start` gave them, usually empty),
    /// so its memory does not grow with the length of the reply. Everything
    /// else is kept: block structure, tool inputs, signatures, citations,
    /// stop reason and usage. For consumers that handle the text deltas
    /// themselves.
    pub fn discarding_text() -> Accumulator {
        Accumulator {
            discard_text: true,
            ..Accumulator::default()
        }
    }

    /// Whether this accumulator was made by
    /// [`discarding_text`](Accumulator::discarding_text).
    pub fn discards_text(&self) -> bool {
        self.discard_text
    }

    /// Applies one event and says what changed.
    ///
    /// On error the accumulator is left as it was before the event (except
    /// for a tool input that failed to parse: its block is closed with the
    /// input from `content_block_start`).
    pub fn apply(&mut self, event: &StreamEvent) -> Result<Change, Error> {
        self.events += 1;
        let n = self.events;
        self.apply_inner(event).map_err(|e| e.at_event(n))
    }

    fn apply_inner(&mut self, event: &StreamEvent) -> Result<Change, Error> {
        if self.stopped && !matches!(event, StreamEvent::Ping(_)) {
            return Err(protocol(format!("`{}` after `message_stop`", event.kind())));
        }
        if let StreamEvent::Error(e) = event {
            return Err(Error::api(e.clone()));
        }
        if let StreamEvent::MessageStart(start) = event {
            if self.message.is_some() {
                return Err(protocol("a second `message_start`".into()));
            }
            self.message = Some(start.message.clone());
            self.slots = start.message.content.iter().map(|_| Slot::Closed).collect();
            return Ok(Change::MessageStart);
        }
        if matches!(event, StreamEvent::Ping(_) | StreamEvent::Unknown(_)) {
            return Ok(Change::None);
        }
        let Some(message) = self.message.as_mut() else {
            return Err(protocol(format!(
                "`{}` before `message_start`",
                event.kind()
            )));
        };
        match event {
            StreamEvent::ContentBlockStart(start) => {
                let index = start.index as usize;
                if index != message.content.len() {
                    return Err(protocol(format!(
                        "`content_block_start` for index {index}, expected index {}",
                        message.content.len()
                    )));
                }
                if let ContentBlock::Fallback(f) = &start.content_block
                    && !f.to.model.is_empty()
                {
                    message.model.clone_from(&f.to.model);
                }
                message.content.push(start.content_block.clone());
                self.slots.push(Slot::Open(None));
                Ok(Change::BlockStart(index))
            }
            StreamEvent::ContentBlockDelta(d) => {
                let index = d.index as usize;
                let json = match self.slots.get_mut(index) {
                    Some(Slot::Open(json)) => json,
                    Some(Slot::Closed) => {
                        return Err(protocol(format!(
                            "`content_block_delta` for stopped block {index}"
                        )));
                    }
                    None => {
                        return Err(protocol(format!(
                            "`content_block_delta` for block {index} before its `content_block_start`"
                        )));
                    }
                };
                if let ContentBlockDelta::Unknown(raw) = &d.delta {
                    self.unknown_deltas.push((index, raw.clone()));
                    return Ok(Change::None);
                }
                if let ContentBlock::Unknown(_) = message.content[index] {
                    // A known delta to a block this version does not know:
                    // kept as JSON too (it serializes to what arrived).
                    if let Ok(raw) = serde_json::to_value(&d.delta) {
                        self.unknown_deltas.push((index, raw));
                    }
                    return Ok(Change::None);
                }
                apply_delta(
                    &mut message.content[index],
                    json,
                    &d.delta,
                    index,
                    self.discard_text,
                )
            }
            StreamEvent::ContentBlockStop(stop) => {
                let index = stop.index as usize;
                let slot = match self.slots.get_mut(index) {
                    Some(slot @ Slot::Open(_)) => std::mem::replace(slot, Slot::Closed),
                    Some(Slot::Closed) => {
                        return Err(protocol(format!(
                            "`content_block_stop` for stopped block {index}"
                        )));
                    }
                    None => {
                        return Err(protocol(format!(
                            "`content_block_stop` for block {index} before its `content_block_start`"
                        )));
                    }
                };
                if let Slot::Open(Some(json)) = slot {
                    finish_input(&mut message.content[index], *json, index)?;
                }
                Ok(Change::BlockStop(index))
            }
            StreamEvent::MessageDelta(delta) => {
                apply_message_delta(message, delta);
                self.close_open_blocks()?;
                Ok(Change::MessageDelta)
            }
            StreamEvent::MessageStop(_) => {
                self.close_open_blocks()?;
                self.stopped = true;
                Ok(Change::MessageStop)
            }
            // Handled above; `StreamEvent` is non-exhaustive.
            _ => Ok(Change::None),
        }
    }

    /// Closes blocks left open when the message ends. The API does this when
    /// `max_tokens` cuts a block: `message_delta` follows its last delta with
    /// no `content_block_stop`. A tool input cut by `max_tokens` keeps its
    /// best valid prefix; under another stop reason invalid JSON is an error.
    fn close_open_blocks(&mut self) -> Result<(), Error> {
        let Some(message) = self.message.as_mut() else {
            return Ok(());
        };
        let cut = message.stop_reason == Some(StopReason::MaxTokens);
        for (index, slot) in self.slots.iter_mut().enumerate() {
            if let Slot::Open(json) = std::mem::replace(slot, Slot::Closed)
                && let Some(json) = json
            {
                if cut && !json.is_complete() {
                    keep_prefix(&mut message.content[index], *json);
                } else {
                    finish_input(&mut message.content[index], *json, index)?;
                }
            }
        }
        Ok(())
    }

    /// The deltas of kinds this version does not know, in arrival order,
    /// each with the index of its block and its raw JSON. They change
    /// nothing in the message.
    pub fn unknown_deltas(&self) -> &[(usize, Value)] {
        &self.unknown_deltas
    }

    /// The message so far; `None` before `message_start`.
    ///
    /// Text, thinking and signatures are current; a `tool_use` block's
    /// `input` is its `content_block_start` value until the block stops (see
    /// [`partial_input`](Accumulator::partial_input) for the live preview).
    pub fn message(&self) -> Option<&Message> {
        self.message.as_ref()
    }

    /// The tool input fragments received so far for the open block `index`.
    pub fn partial_input(&self, index: usize) -> Option<&PartialJson> {
        match self.slots.get(index) {
            Some(Slot::Open(json)) => json.as_deref(),
            _ => None,
        }
    }

    /// The index of the block that is started and not stopped, if any.
    pub fn open_block(&self) -> Option<usize> {
        self.slots.iter().position(|s| matches!(s, Slot::Open(_)))
    }

    /// Whether `message_stop` arrived.
    pub fn is_complete(&self) -> bool {
        self.stopped
    }

    /// The number of events applied.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// The message, complete or not.
    pub fn into_message(self) -> Option<Message> {
        self.message
    }

    /// The complete message, or an [incomplete](Error::is_incomplete) error
    /// carrying the partial one when `message_stop` never arrived.
    pub fn finish(self) -> Result<Message, Error> {
        match self.message {
            Some(m) if self.stopped => Ok(m),
            partial => Err(
                Error::new(Kind::Incomplete, "the stream ended before `message_stop`")
                    .with_partial(partial),
            ),
        }
    }
}

fn protocol(detail: String) -> Error {
    Error::new(Kind::Protocol, detail)
}

fn apply_delta(
    block: &mut ContentBlock,
    json: &mut Option<Box<PartialJson>>,
    delta: &ContentBlockDelta,
    index: usize,
    discard_text: bool,
) -> Result<Change, Error> {
    match (block, delta) {
        (ContentBlock::Text(_), ContentBlockDelta::Text(_))
        | (ContentBlock::Thinking(_), ContentBlockDelta::Thinking(_))
            if discard_text => {}
        (ContentBlock::Text(b), ContentBlockDelta::Text(d)) => b.text.push_str(d.text.as_str()),
        (ContentBlock::Text(b), ContentBlockDelta::Citations(d)) => {
            b.citations
                .get_or_insert_with(Vec::new)
                .push(d.citation.clone());
        }
        (ContentBlock::Thinking(b), ContentBlockDelta::Thinking(d)) => {
            b.thinking.push_str(d.thinking.as_str())
        }
        (ContentBlock::Thinking(b), ContentBlockDelta::Signature(d)) => {
            b.signature.clear();
            b.signature.push_str(d.signature.as_str());
        }
        (ContentBlock::Compaction(b), ContentBlockDelta::Compaction(d)) => {
            if let Some(content) = &d.content {
                b.content.get_or_insert_with(String::new).push_str(content);
            }
            if d.encrypted_content.is_some() {
                b.encrypted_content.clone_from(&d.encrypted_content);
            }
        }
        (
            ContentBlock::ToolUse(_) | ContentBlock::ServerToolUse(_) | ContentBlock::McpToolUse(_),
            ContentBlockDelta::InputJson(d),
        ) => {
            json.get_or_insert_with(Box::default)
                .push(d.partial_json.as_str());
        }
        // Unknown deltas, and any delta to a block kind this version does not
        // know, are passed through by the stream but change nothing here.
        (_, ContentBlockDelta::Unknown(_)) | (ContentBlock::Unknown(_), _) => {
            return Ok(Change::None);
        }
        (block, delta) => {
            return Err(protocol(format!(
                "`{}` for block {index}, which is a `{}` block",
                delta_kind(delta),
                block.kind()
            )));
        }
    }
    Ok(Change::BlockDelta(index))
}

fn delta_kind(delta: &ContentBlockDelta) -> &str {
    match delta.kind() {
        "" => "unknown delta",
        kind => kind,
    }
}

/// A tool input cut by `max_tokens`: the best valid prefix as `input`, the
/// raw text in `incomplete_input`.
fn keep_prefix(block: &mut ContentBlock, json: PartialJson) {
    let prefix = json
        .preview()
        .cloned()
        .unwrap_or_else(|| Value::Object(serde_json::Map::new()));
    let raw = json.raw().to_owned();
    match block {
        ContentBlock::ToolUse(b) => {
            b.input = prefix;
            b.incomplete_input = Some(raw);
        }
        ContentBlock::ServerToolUse(b) => {
            b.input = prefix;
            b.incomplete_input = Some(raw);
        }
        ContentBlock::McpToolUse(b) => {
            b.input = prefix;
            b.extra
                .insert("incomplete_input".to_owned(), Value::String(raw));
        }
        _ => {}
    }
}

fn finish_input(block: &mut ContentBlock, json: PartialJson, index: usize) -> Result<(), Error> {
    let (input, name, id) = match block {
        ContentBlock::ToolUse(b) => (&mut b.input, &b.name, &b.id),
        ContentBlock::ServerToolUse(b) => (&mut b.input, &b.name, &b.id),
        ContentBlock::McpToolUse(b) => (&mut b.input, &b.name, &b.id),
        _ => return Ok(()),
    };
    match json.finish() {
        Ok(value) => {
            *input = value;
            Ok(())
        }
        Err(invalid) => {
            let detail = format!(
                "block {index} (tool `{name}`, id `{id}`): {}",
                invalid.error()
            );
            Err(Error::new(Kind::ToolInput, detail).with_raw(invalid.into_raw()))
        }
    }
}

/// `message_delta`: what it carries overwrites; `null` and absent fields
/// never erase a value set earlier.
fn apply_message_delta(message: &mut Message, event: &MessageDeltaEvent) {
    let delta = &event.delta;
    if delta.stop_reason.is_some() {
        message.stop_reason.clone_from(&delta.stop_reason);
        message.stop_sequence.clone_from(&delta.stop_sequence);
    } else if delta.stop_sequence.is_some() {
        message.stop_sequence.clone_from(&delta.stop_sequence);
    }
    if delta.stop_details.is_some() {
        message.stop_details.clone_from(&delta.stop_details);
    }
    if delta.container.is_some() {
        message.container.clone_from(&delta.container);
    }
    if event.context_management.is_some() {
        message
            .context_management
            .clone_from(&event.context_management);
    }
    for (k, v) in delta.extra.iter().chain(&event.extra) {
        if !v.is_null() {
            message.extra.insert(k.clone(), v.clone());
        }
    }
    message.usage.update(&event.usage);
}
