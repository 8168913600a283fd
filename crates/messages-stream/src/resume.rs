//! Resuming a broken stream with a prefill continuation.

use std::collections::VecDeque;

use http::HeaderMap;

use messages_http::{Request, RequestOptions};
use messages_types::stream::{ContentBlockDelta, ContentBlockStopEvent};
use messages_types::{ContentBlock, InputMessage, MessageRequest, Role, StreamEvent, Text, Usage};

use crate::accumulate::Accumulator;
use crate::error::{Error, Kind};
use crate::options::{StreamOptions, stream_request};

/// Resume a stream that broke mid-way, so the consumer sees one
/// uninterrupted stream and one final message.
///
/// When the connection fails or stalls past the idle timeout after some
/// text arrived, the stream re-sends the request with the reply so far as
/// an assistant prefill (the last turn of `messages`); the model continues
/// from there and the continuation is spliced in: its `message_start` is
/// skipped, its first text block is merged into the interrupted one, its
/// block indexes are shifted, and its usage is added to what earlier
/// attempts reported.
///
/// # Limits
///
/// - A stream can resume only between blocks or inside a `text` block.
///   Inside a `tool_use`, `server_tool_use`, `thinking` or unknown block,
///   or after a complete `tool_use` block (the reply must end there), it
///   fails with [`Error::is_resume`]: a partial block of those kinds cannot
///   be continued.
/// - The API rejects a prefill that ends in whitespace, so trailing
///   whitespace is trimmed from the prefill; the consumer already saw it,
///   so leading whitespace of the continuation is dropped once.
///   Citations are not sent back in the prefill (the continuation's own
///   citations are kept).
/// - Usage is summed across attempts: input tokens of every attempt (the
///   continuation re-reads the prompt and the prefill), and for a broken
///   attempt the last output count the server reported, which may be lower
///   than what it generated before the break.
/// - The continuation's `max_tokens` is the original minus what earlier
///   attempts produced, counted as the larger of the reported output tokens
///   and the number of deltas received (each delta carries at least one
///   token); the whole reply can exceed `max_tokens` by the tokens the
///   server generated but never delivered.
/// - The continuation is a new request: it has its own request id
///   ([`MessageStream::request_id`](crate::MessageStream::request_id) then
///   returns the newest) and it is billed.
/// - At most `max_attempts` resumptions; after that the stream fails with
///   the [incomplete](Error::is_incomplete) error of the last break.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResumePolicy {
    max_attempts: u32,
}

impl ResumePolicy {
    /// At most `max_attempts` resumptions per stream.
    pub fn new(max_attempts: u32) -> ResumePolicy {
        ResumePolicy { max_attempts }
    }

    /// The maximum number of resumptions.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }
}

impl Default for ResumePolicy {
    /// Three resumptions.
    fn default() -> ResumePolicy {
        ResumePolicy::new(3)
    }
}

/// The state of resumption across the attempts of one stream.
#[derive(Debug)]
pub(crate) struct Resumer {
    request: MessageRequest,
    options: RequestOptions,
    headers: HeaderMap,
    policy: ResumePolicy,
    used: u32,
    /// Usage of the finished (broken) attempts, summed.
    base_usage: Usage,
    /// Usage reported by the current attempt so far.
    attempt_usage: Usage,
    attempt_deltas: u64,
    /// Output tokens spent by earlier attempts (for `max_tokens`).
    spent: u64,
    splice: Splice,
}

/// How the events of the current attempt map onto the accumulated message.
#[derive(Debug, Default)]
struct Splice {
    /// Skip the attempt's `message_start` (a continuation).
    continuation: bool,
    /// The interrupted text block the first text block merges into.
    merge_into: Option<usize>,
    /// Added to the attempt's block indexes.
    offset: usize,
    first_block_seen: bool,
    /// Drop leading whitespace of the first continuation text once.
    strip_leading_ws: bool,
}

impl Resumer {
    pub(crate) fn new(
        request: MessageRequest,
        options: &StreamOptions,
        policy: ResumePolicy,
    ) -> Resumer {
        Resumer {
            request,
            options: options.request.clone(),
            headers: options.headers.clone(),
            policy,
            used: 0,
            base_usage: Usage::default(),
            attempt_usage: Usage::default(),
            attempt_deltas: 0,
            spent: 0,
            splice: Splice::default(),
        }
    }

    pub(crate) fn used(&self) -> u32 {
        self.used
    }

    /// Maps one decoded event of the current attempt onto the accumulated
    /// message. An event of the first attempt passes through unchanged and
    /// is returned; a continuation's events are rewritten into `out` (zero,
    /// one or two events to apply and yield) and `None` is returned.
    pub(crate) fn map(
        &mut self,
        event: StreamEvent,
        acc: &Accumulator,
        out: &mut VecDeque<StreamEvent>,
    ) -> Option<StreamEvent> {
        match &event {
            StreamEvent::MessageStart(start) => self.attempt_usage = start.message.usage.clone(),
            StreamEvent::ContentBlockDelta(_) => self.attempt_deltas += 1,
            StreamEvent::MessageDelta(d) => self.attempt_usage.update(&d.usage),
            _ => {}
        }
        let splice = &mut self.splice;
        if !splice.continuation {
            return Some(event);
        }
        match event {
            StreamEvent::MessageStart(_) => {}
            StreamEvent::ContentBlockStart(mut start) => {
                if !splice.first_block_seen {
                    splice.first_block_seen = true;
                    if let Some(k) = splice.merge_into {
                        if matches!(start.content_block, ContentBlock::Text(_)) {
                            splice.offset = k;
                            return None;
                        }
                        out.push_back(stop(k));
                        splice.offset = k + 1;
                        splice.merge_into = None;
                    }
                }
                start.index = shift(start.index, splice.offset);
                out.push_back(StreamEvent::ContentBlockStart(start));
            }
            StreamEvent::ContentBlockDelta(mut d) => {
                if splice.strip_leading_ws
                    && d.index == 0
                    && splice.merge_into.is_some()
                    && let ContentBlockDelta::Text(t) = &mut d.delta
                {
                    splice.strip_leading_ws = false;
                    let s = t.text.as_str();
                    let trimmed = s.len() - s.trim_start().len();
                    if trimmed == s.len() {
                        splice.strip_leading_ws = true;
                        return None;
                    }
                    let rest = t.text.as_bytes().slice(trimmed..);
                    t.text = Text::from_utf8(rest).unwrap_or_default();
                }
                d.index = shift(d.index, splice.offset);
                out.push_back(StreamEvent::ContentBlockDelta(d));
            }
            StreamEvent::ContentBlockStop(mut s) => {
                s.index = shift(s.index, splice.offset);
                out.push_back(StreamEvent::ContentBlockStop(s));
            }
            StreamEvent::MessageDelta(mut d) => {
                self.close_unmerged(acc, out);
                d.usage = sum(&self.base_usage, &self.attempt_usage);
                out.push_back(StreamEvent::MessageDelta(d));
            }
            StreamEvent::MessageStop(s) => {
                self.close_unmerged(acc, out);
                out.push_back(StreamEvent::MessageStop(s));
            }
            other => out.push_back(other),
        }
        None
    }

    /// A continuation that produced no block leaves the interrupted text
    /// block open: close it before the message ends.
    fn close_unmerged(&mut self, acc: &Accumulator, out: &mut VecDeque<StreamEvent>) {
        let splice = &mut self.splice;
        if !splice.first_block_seen
            && let Some(k) = splice.merge_into.take()
            && acc.open_block() == Some(k)
        {
            splice.first_block_seen = true;
            out.push_back(stop(k));
        }
    }

    /// Plans the next attempt after the stream broke with `cause` (an
    /// incomplete-stream error): the continuation request, or the error to
    /// report.
    pub(crate) fn resume(&mut self, acc: &Accumulator, cause: Error) -> Result<Request, Error> {
        if self.used >= self.policy.max_attempts {
            return Err(cause);
        }
        let cannot = |detail: String, cause: Error| -> Result<Request, Error> {
            Err(Error::new(Kind::Resume, detail).with_source(cause))
        };
        let spent = self.spent + self.attempt_usage.output_tokens.max(self.attempt_deltas);
        let mut splice = Splice::default();
        let mut request = self.request.clone();
        if acc.discards_text() {
            return cannot(
                "the stream does not keep the text (`discard_text`)".to_owned(),
                cause,
            );
        }
        if let Some(message) = acc.message() {
            splice.continuation = true;
            splice.offset = message.content.len();
            let open = acc.open_block();
            if let Some(k) = open {
                if !matches!(message.content.get(k), Some(ContentBlock::Text(_))) {
                    let kind = message.content.get(k).map_or("unknown", ContentBlock::kind);
                    return cannot(
                        format!(
                            "it broke inside a `{kind}` block (index {k}); only text can be continued"
                        ),
                        cause,
                    );
                }
                splice.merge_into = Some(k);
            } else if let Some(last @ (ContentBlock::ToolUse(_) | ContentBlock::ServerToolUse(_))) =
                message.content.last()
            {
                return cannot(
                    format!(
                        "it broke after a complete `{}` block, where the reply must end",
                        last.kind()
                    ),
                    cause,
                );
            }
            let remaining = u64::from(self.request.max_tokens).saturating_sub(spent);
            if remaining == 0 {
                return cannot("the max_tokens budget is spent".to_owned(), cause);
            }
            request.max_tokens = u32::try_from(remaining).unwrap_or(u32::MAX);
            let (blocks, trimmed) = prefill(&message.content);
            splice.strip_leading_ws = trimmed && splice.merge_into.is_some();
            if !blocks.is_empty() {
                append_assistant(&mut request, blocks);
            }
        }
        let http = stream_request(&request, &self.options, &self.headers).map_err(|e| {
            Error::new(Kind::Resume, "building the continuation request failed").with_source(e)
        })?;
        self.used += 1;
        self.spent = spent;
        self.base_usage = sum(&self.base_usage, &self.attempt_usage);
        self.attempt_usage = Usage::default();
        self.attempt_deltas = 0;
        self.splice = splice;
        Ok(http)
    }
}

fn shift(index: u32, offset: usize) -> u32 {
    u32::try_from(index as usize + offset).unwrap_or(u32::MAX)
}

fn stop(index: usize) -> StreamEvent {
    StreamEvent::ContentBlockStop(ContentBlockStopEvent::new(
        u32::try_from(index).unwrap_or(u32::MAX),
    ))
}

/// The blocks to send back as the prefill, and whether trailing whitespace
/// was trimmed from the last one.
fn prefill(content: &[ContentBlock]) -> (Vec<ContentBlock>, bool) {
    let mut blocks: Vec<ContentBlock> = content
        .iter()
        .map(|b| match b {
            ContentBlock::Text(t) => ContentBlock::text(t.text.clone()),
            other => other.clone(),
        })
        .collect();
    let mut trimmed = false;
    if let Some(ContentBlock::Text(t)) = blocks.last_mut() {
        let len = t.text.trim_end().len();
        trimmed = len < t.text.len();
        t.text.truncate(len);
        if t.text.is_empty() {
            blocks.pop();
        }
    }
    (blocks, trimmed)
}

/// Appends `blocks` as the final assistant turn (merging into one the
/// caller already prefilled).
fn append_assistant(request: &mut MessageRequest, blocks: Vec<ContentBlock>) {
    match request.messages.last_mut() {
        Some(last) if last.role == Role::Assistant => {
            let mut content = std::mem::replace(&mut last.content, Vec::new().into()).into_blocks();
            content.extend(blocks);
            last.content = content.into();
        }
        _ => request.messages.push(InputMessage::assistant(blocks)),
    }
}

/// Usage of two attempts added up: counts are summed; descriptive fields
/// (service tier, unknown fields) are the newer attempt's.
/// `b`'s usage with `a`'s counts added (the attempts of one stream).
fn sum(a: &Usage, b: &Usage) -> Usage {
    let mut out = b.clone();
    out.add_counts(a);
    out
}
