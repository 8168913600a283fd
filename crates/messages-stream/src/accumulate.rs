//! Folding stream events into a [`Message`].

use messages_types::stream::{ContentBlockDelta, MessageDeltaEvent};
use messages_types::{ContentBlock, Message, StreamEvent};

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
///   `citations_delta` adds one citation; `input_json_delta` fragments
///   accumulate in a [`PartialJson`] (linear time, with a live preview) and
///   are parsed strictly at `content_block_stop`;
/// - blocks that arrive whole in `content_block_start` (`redacted_thinking`,
///   server tool results, unknown kinds) are kept as they came;
/// - `message_delta` usage overwrites, never adds ([`Usage::update`]);
///   unknown fields of the delta are kept in [`Message::extra`]; blocks
///   still open then (the API leaves a block cut by `max_tokens` without
///   `content_block_stop`) are closed, and a tool input cut that way is a
///   [tool input error](Error::is_tool_input) when it is not valid JSON;
/// - `ping` and unknown events change nothing; an `error` event is returned
///   as an [API error](Error::is_api).
///
/// Anything out of order is a [protocol error](Error::is_protocol) naming
/// the event; the accumulator never panics on its input.
///
/// [`Usage::update`]: messages_types::Usage::update
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
    /// no `content_block_stop`. A tool input cut there is usually invalid
    /// JSON, reported as such.
    fn close_open_blocks(&mut self) -> Result<(), Error> {
        let Some(message) = self.message.as_mut() else {
            return Ok(());
        };
        for (index, slot) in self.slots.iter_mut().enumerate() {
            if let Slot::Open(json) = std::mem::replace(slot, Slot::Closed)
                && let Some(json) = json
            {
                finish_input(&mut message.content[index], *json, index)?;
            }
        }
        Ok(())
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
        (
            ContentBlock::ToolUse(_) | ContentBlock::ServerToolUse(_),
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
    match delta {
        ContentBlockDelta::Text(_) => "text_delta",
        ContentBlockDelta::InputJson(_) => "input_json_delta",
        ContentBlockDelta::Thinking(_) => "thinking_delta",
        ContentBlockDelta::Signature(_) => "signature_delta",
        ContentBlockDelta::Citations(_) => "citations_delta",
        ContentBlockDelta::Unknown(v) => v
            .get("type")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("unknown delta"),
        _ => "delta",
    }
}

fn finish_input(block: &mut ContentBlock, json: PartialJson, index: usize) -> Result<(), Error> {
    let (input, name, id) = match block {
        ContentBlock::ToolUse(b) => (&mut b.input, &b.name, &b.id),
        ContentBlock::ServerToolUse(b) => (&mut b.input, &b.name, &b.id),
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

fn apply_message_delta(message: &mut Message, event: &MessageDeltaEvent) {
    let delta = &event.delta;
    if delta.stop_reason.is_some() {
        message.stop_reason.clone_from(&delta.stop_reason);
        message.stop_sequence.clone_from(&delta.stop_sequence);
    } else if delta.stop_sequence.is_some() {
        message.stop_sequence.clone_from(&delta.stop_sequence);
    }
    for (k, v) in &delta.extra {
        message.extra.insert(k.clone(), v.clone());
    }
    message.usage.update(&event.usage);
}
