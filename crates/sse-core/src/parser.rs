//! The incremental event-stream parser.

use alloc::collections::VecDeque;
use core::fmt;

use bytes::{BufMut, Bytes, BytesMut};

use crate::event::{Event, MESSAGE, Str};

/// The default [`ParserConfig::max_event_size`]: 16 MiB.
pub const DEFAULT_MAX_EVENT_SIZE: usize = 16 * 1024 * 1024;

const BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];
/// `Parser::bom` once the start of the stream has been checked for a BOM.
const BOM_DONE: u8 = 3;

/// Settings for a [`Parser`].
///
/// # Examples
///
/// ```
/// use sse_core::ParserConfig;
///
/// let parser = ParserConfig::default().max_event_size(64 * 1024).build();
/// # drop(parser);
/// ```
#[derive(Debug, Clone)]
pub struct ParserConfig {
    max_event_size: usize,
}

impl Default for ParserConfig {
    fn default() -> ParserConfig {
        ParserConfig {
            max_event_size: DEFAULT_MAX_EVENT_SIZE,
        }
    }
}

impl ParserConfig {
    /// Bounds the memory one event may take: the bytes of its `data` and
    /// `event` lines plus the line being read must stay within `bytes`.
    ///
    /// Past it, [`Parser::next_event`] returns an [`Error`] and the parser
    /// skips the rest of that event. The check does not depend on how the
    /// input is split into chunks.
    ///
    /// Default is [`DEFAULT_MAX_EVENT_SIZE`] (16 MiB).
    pub fn max_event_size(&mut self, bytes: usize) -> &mut ParserConfig {
        self.max_event_size = bytes;
        self
    }

    /// Creates a parser with these settings.
    pub fn build(&self) -> Parser {
        Parser {
            max_event_size: self.max_event_size,
            queue: VecDeque::new(),
            cur: Bytes::new(),
            pos: 0,
            offset: 0,
            line: BytesMut::new(),
            carrying: false,
            carried_len: 0,
            line_start: 0,
            skip_lf: false,
            bom: 0,
            discarding: false,
            data: Data::None,
            buf: BytesMut::new(),
            event_type: None,
            retry: None,
            size: 0,
            last_id: Str::new(),
            reconnection_time: None,
        }
    }
}

/// How a stream ended, as reported by [`Parser::finish`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use = "an unterminated stream usually means the connection was cut"]
pub enum Finish {
    /// The input ended at an event boundary: nothing was left over.
    Clean,
    /// The input ended inside an event (fields or a partial line not closed
    /// by a blank line). As the specification requires, that event was
    /// discarded, not dispatched.
    Unterminated,
}

impl Finish {
    /// Whether the input ended at an event boundary.
    pub fn is_clean(self) -> bool {
        self == Finish::Clean
    }
}

/// A parse error.
///
/// The only error is an event larger than [`ParserConfig::max_event_size`];
/// malformed lines and invalid UTF-8 are not errors in the event-stream
/// format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Error {
    limit: usize,
    offset: u64,
}

impl Error {
    /// The configured maximum event size that was exceeded.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// The byte offset in the stream (counting from its first byte, BOM
    /// included) of the line at which the limit was exceeded.
    pub fn offset(&self) -> u64 {
        self.offset
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "event exceeds the maximum size of {} bytes (line at byte {} of the stream)",
            self.limit, self.offset
        )
    }
}

impl core::error::Error for Error {}

/// Where the current event's data is.
#[derive(Debug)]
enum Data {
    /// No `data` line yet: the event will not be dispatched.
    None,
    /// One `data` line that lay in one chunk: a slice of that chunk.
    One(Bytes),
    /// Several lines, or one that was split across chunks: in `Parser::buf`.
    Buf,
}

/// The field a line sets.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    Data,
    Event,
    Id,
    Retry,
    /// A comment or a field the specification ignores.
    Ignored,
}

/// Splits a non-empty line into its field and the offset of its value.
#[inline]
fn split_field(line: &[u8]) -> (Field, usize) {
    if line[0] == b':' {
        return (Field::Ignored, line.len());
    }
    // Field names are short, so a plain scan beats `memchr` here.
    let (name, value) = match line.iter().position(|&b| b == b':') {
        Some(colon) => {
            let value = if line.get(colon + 1) == Some(&b' ') {
                colon + 2
            } else {
                colon + 1
            };
            (&line[..colon], value)
        }
        None => (line, line.len()),
    };
    let field = match name {
        b"data" => Field::Data,
        b"event" => Field::Event,
        b"id" => Field::Id,
        b"retry" => Field::Retry,
        _ => Field::Ignored,
    };
    (field, value)
}

/// Parses a `retry` value: only non-empty, all-ASCII-digit values count.
/// Values past `u64::MAX` saturate.
pub(crate) fn parse_retry(value: &[u8]) -> Option<u64> {
    if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(value.iter().fold(0u64, |n, &d| {
        n.saturating_mul(10).saturating_add(u64::from(d - b'0'))
    }))
}

/// An incremental, sans-IO parser for the `text/event-stream` format.
///
/// Feed it chunks with [`push`](Parser::push), in any sizes, and take events
/// with [`next_event`](Parser::next_event) until it returns `Ok(None)`. At the
/// end of the input call [`finish`](Parser::finish) to learn whether the
/// stream stopped inside an event.
///
/// It follows the WHATWG HTML "event stream interpretation" exactly: lines
/// end in CRLF, LF or a lone CR (also when a CR ends one chunk and its LF
/// starts the next); one UTF-8 BOM at the start is dropped, even split across
/// chunks; lines starting with `:` are comments; one space after the colon is
/// stripped; `data` lines are joined with `\n`; an `id` containing NUL is
/// ignored and the last id persists across events; `retry` counts only when
/// all ASCII digits; an event without data is not dispatched; invalid UTF-8
/// becomes U+FFFD.
///
/// # Costs
///
/// A single-line `data` field lying in one chunk is handed out as a slice of
/// that chunk: no copy and no allocation. Only multi-line data, and lines
/// split across chunks, are copied, into a buffer whose capacity is reused.
/// Each event's data is validated as UTF-8 once. Memory is bounded by
/// [`ParserConfig::max_event_size`].
///
/// # Examples
///
/// ```
/// use bytes::Bytes;
/// use sse_core::Parser;
///
/// let mut parser = Parser::new();
/// parser.push(Bytes::from_static(b"event: ping\ndata: {\"type\":\"ping\"}\n\nda"));
/// let event = parser.next_event()?.expect("one complete event");
/// assert_eq!(event.event(), "ping");
/// assert_eq!(event.data(), r#"{"type":"ping"}"#);
/// assert!(parser.next_event()?.is_none());
///
/// parser.push(Bytes::from_static(b"ta: split\r"));
/// parser.push(Bytes::from_static(b"\n\r\n"));
/// assert_eq!(parser.next_event()?.unwrap().data(), "split");
/// assert!(parser.finish().is_clean());
/// # Ok::<(), sse_core::Error>(())
/// ```
pub struct Parser {
    max_event_size: usize,
    /// Chunks pushed but not yet reached.
    queue: VecDeque<Bytes>,
    /// The chunk being parsed, and the position in it.
    cur: Bytes,
    pos: usize,
    /// Stream offset of `cur[0]`.
    offset: u64,
    /// The start of a line that continues in a later chunk.
    line: BytesMut,
    /// Whether a line is in progress across chunks. When discarding, its
    /// bytes are counted in `carried_len` but not kept in `line`.
    carrying: bool,
    carried_len: usize,
    /// Stream offset of the carried line's first byte.
    line_start: u64,
    /// The previous chunk ended with CR: skip an LF at the start of the next.
    skip_lf: bool,
    /// BOM bytes matched at the start of the stream, or `BOM_DONE`.
    bom: u8,
    /// Skipping the rest of an event that exceeded the size limit.
    discarding: bool,
    // The event being built.
    data: Data,
    /// Data that had to be copied; its capacity is reused across events.
    buf: BytesMut,
    event_type: Option<Str>,
    retry: Option<u64>,
    /// Bytes held for the current event, checked against `max_event_size`.
    size: usize,
    // Stream state.
    last_id: Str,
    reconnection_time: Option<u64>,
}

impl Default for Parser {
    fn default() -> Parser {
        Parser::new()
    }
}

impl fmt::Debug for Parser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Parser")
            .field("max_event_size", &self.max_event_size)
            .field("offset", &(self.offset + self.pos as u64))
            .field("last_event_id", &self.last_id)
            .field("reconnection_time", &self.reconnection_time)
            .finish_non_exhaustive()
    }
}

impl Parser {
    /// A parser with the default [`ParserConfig`].
    pub fn new() -> Parser {
        ParserConfig::default().build()
    }

    /// Queues a chunk of input. This operation is `O(1)` and does not copy.
    ///
    /// Chunks may be any size, including empty, and may split lines, line
    /// ends and UTF-8 sequences anywhere.
    pub fn push(&mut self, chunk: Bytes) {
        if !chunk.is_empty() {
            self.queue.push_back(chunk);
        }
    }

    /// Queues a borrowed chunk of input, copying it.
    pub fn push_slice(&mut self, chunk: &[u8]) {
        self.push(Bytes::copy_from_slice(chunk));
    }

    /// Parses queued input up to the next dispatched event.
    ///
    /// Returns `Ok(None)` when the queued input holds no further complete
    /// event; push more input and call again.
    ///
    /// # Errors
    ///
    /// An event larger than [`ParserConfig::max_event_size`] gives an
    /// [`Error`]. The parser then skips the rest of that event: calling
    /// `next_event` again resumes at the event after the next blank line.
    /// Callers that treat the error as fatal simply stop.
    pub fn next_event(&mut self) -> Result<Option<Event>, Error> {
        loop {
            if self.pos == self.cur.len() {
                let Some(next) = self.queue.pop_front() else {
                    return Ok(None);
                };
                self.offset += self.cur.len() as u64;
                self.cur = next;
                self.pos = 0;
            }
            if self.bom != BOM_DONE {
                self.strip_bom();
                continue;
            }
            if self.skip_lf {
                self.skip_lf = false;
                if self.cur[self.pos] == b'\n' {
                    self.pos += 1;
                    continue;
                }
            }
            let start = self.pos;
            let rest = &self.cur[start..];
            let Some(i) = memchr::memchr2(b'\n', b'\r', rest) else {
                self.pos = self.cur.len();
                self.carry(start)?;
                continue;
            };
            let end = start + i;
            self.pos = end + 1;
            if rest[i] == b'\r' {
                match rest.get(i + 1) {
                    Some(b'\n') => self.pos += 1,
                    Some(_) => {}
                    None => self.skip_lf = true,
                }
            }
            let event = if self.carrying {
                self.end_carried_line(start, end)?
            } else {
                self.chunk_line(start, end)?
            };
            if event.is_some() {
                return Ok(event);
            }
        }
    }

    /// Ends the input and reports whether it stopped inside an event.
    ///
    /// Call it once [`next_event`](Parser::next_event) has returned
    /// `Ok(None)`. Pushed input that was not drained counts as an
    /// unterminated tail. An unterminated event is discarded, never
    /// dispatched, as the specification says; facades use
    /// [`Finish::Unterminated`] to report a truncated stream.
    ///
    /// The parser is then ready for a new stream (a reconnection): the last
    /// event id and reconnection time are kept, and a BOM is again accepted
    /// at the start.
    pub fn finish(&mut self) -> Finish {
        let undrained = self.pos < self.cur.len() || !self.queue.is_empty();
        let in_event = self.carrying
            || self.discarding
            || !matches!(self.data, Data::None)
            || self.event_type.is_some()
            || self.retry.is_some();
        self.offset += self.cur.len() as u64;
        self.queue.clear();
        self.cur = Bytes::new();
        self.pos = 0;
        self.line.clear();
        self.carrying = false;
        self.carried_len = 0;
        self.skip_lf = false;
        self.bom = 0;
        self.discarding = false;
        self.reset_event();
        if undrained || in_event {
            Finish::Unterminated
        } else {
            Finish::Clean
        }
    }

    /// The last event id: the latest valid `id` field seen, or `""`.
    pub fn last_event_id(&self) -> &str {
        &self.last_id
    }

    /// The reconnection time from the latest valid `retry` field, in
    /// milliseconds, whether or not its event was dispatched.
    pub fn reconnection_time(&self) -> Option<u64> {
        self.reconnection_time
    }

    /// Bytes consumed from the stream so far.
    pub fn offset(&self) -> u64 {
        self.offset + self.pos as u64
    }

    // ===== private =====

    /// Consumes bytes at the start of the stream that may be a BOM. Matched
    /// bytes are kept as a partial line, so that when the match fails they
    /// are read as ordinary input.
    fn strip_bom(&mut self) {
        while self.pos < self.cur.len() {
            let b = self.cur[self.pos];
            if b != BOM[usize::from(self.bom)] {
                self.bom = BOM_DONE;
                return;
            }
            self.pos += 1;
            self.bom += 1;
            if self.bom == BOM_DONE {
                self.line.clear();
                self.carrying = false;
                self.carried_len = 0;
                return;
            }
            if !self.carrying {
                self.line_start = self.offset + self.pos as u64 - 1;
            }
            self.line.put_u8(b);
            self.carrying = true;
            self.carried_len += 1;
        }
    }

    /// Keeps `cur[start..]`, a line without its end, for the next chunk.
    fn carry(&mut self, start: usize) -> Result<(), Error> {
        let len = self.cur.len() - start;
        if !self.carrying {
            self.line_start = self.offset + start as u64;
        }
        self.carrying = true;
        self.carried_len += len;
        if self.discarding {
            return Ok(());
        }
        if self.size + self.carried_len > self.max_event_size {
            return Err(self.too_large(self.line_start));
        }
        self.line.extend_from_slice(&self.cur[start..]);
        Ok(())
    }

    /// Finishes a line that began in an earlier chunk with `cur[start..end]`.
    fn end_carried_line(&mut self, start: usize, end: usize) -> Result<Option<Event>, Error> {
        self.carrying = false;
        let len = core::mem::take(&mut self.carried_len) + (end - start);
        if self.discarding {
            if len == 0 {
                self.discarding = false;
            }
            return Ok(None);
        }
        if self.size + len > self.max_event_size {
            return Err(self.too_large(self.line_start));
        }
        self.line.extend_from_slice(&self.cur[start..end]);
        let result = self.carried_line(len);
        self.line.clear();
        result
    }

    /// Processes the complete line in `self.line`.
    fn carried_line(&mut self, len: usize) -> Result<Option<Event>, Error> {
        if self.line.is_empty() {
            return Ok(self.dispatch());
        }
        let (field, v) = split_field(&self.line);
        match field {
            Field::Data => {
                self.size += len;
                self.start_data_line();
                self.buf.extend_from_slice(&self.line[v..]);
                self.data = Data::Buf;
            }
            Field::Event => {
                self.size += len;
                let value = Bytes::copy_from_slice(&self.line[v..]);
                self.set_event_type(value);
            }
            Field::Id => {
                if memchr::memchr(0, &self.line[v..]).is_none() {
                    self.last_id = Str::from_utf8_lossy(Bytes::copy_from_slice(&self.line[v..]));
                }
            }
            Field::Retry => self.set_retry(parse_retry(&self.line[v..])),
            Field::Ignored => {}
        }
        Ok(None)
    }

    /// Processes the complete line `cur[start..end]`, borrowing from the chunk.
    #[inline]
    fn chunk_line(&mut self, start: usize, end: usize) -> Result<Option<Event>, Error> {
        if start == end {
            return Ok(self.dispatch());
        }
        if self.discarding {
            return Ok(None);
        }
        let len = end - start;
        if self.size + len > self.max_event_size {
            return Err(self.too_large(self.offset + start as u64));
        }
        let (field, v) = split_field(&self.cur[start..end]);
        let v = start + v;
        match field {
            Field::Data => {
                self.size += len;
                match self.data {
                    Data::None => self.data = Data::One(self.cur.slice(v..end)),
                    Data::One(_) | Data::Buf => {
                        self.start_data_line();
                        self.buf.extend_from_slice(&self.cur[v..end]);
                        self.data = Data::Buf;
                    }
                }
            }
            Field::Event => {
                self.size += len;
                let value = self.cur.slice(v..end);
                self.set_event_type(value);
            }
            Field::Id => {
                if memchr::memchr(0, &self.cur[v..end]).is_none() {
                    self.last_id = Str::from_utf8_lossy(self.cur.slice(v..end));
                }
            }
            Field::Retry => self.set_retry(parse_retry(&self.cur[v..end])),
            Field::Ignored => {}
        }
        Ok(None)
    }

    /// Prepares `buf` for another data line: moves a borrowed first line in
    /// and adds the `\n` that joins lines.
    fn start_data_line(&mut self) {
        match core::mem::replace(&mut self.data, Data::Buf) {
            Data::None => {}
            Data::One(first) => {
                self.buf.extend_from_slice(&first);
                self.buf.put_u8(b'\n');
            }
            Data::Buf => self.buf.put_u8(b'\n'),
        }
    }

    fn set_event_type(&mut self, value: Bytes) {
        self.event_type = if value.is_empty() {
            None
        } else {
            Some(Str::from_utf8_lossy(value))
        };
    }

    fn set_retry(&mut self, value: Option<u64>) {
        if let Some(ms) = value {
            self.retry = Some(ms);
            self.reconnection_time = Some(ms);
        }
    }

    /// Dispatches the event at a blank line, if it has data.
    fn dispatch(&mut self) -> Option<Event> {
        if core::mem::take(&mut self.discarding) {
            self.reset_event();
            return None;
        }
        self.size = 0;
        let retry = self.retry.take();
        let event = self.event_type.take().unwrap_or(MESSAGE);
        let data = match core::mem::replace(&mut self.data, Data::None) {
            Data::None => return None,
            Data::One(bytes) => bytes,
            Data::Buf => self.buf.split().freeze(),
        };
        Some(Event {
            event,
            data: Str::from_utf8_lossy(data),
            id: self.last_id.clone(),
            retry,
        })
    }

    fn reset_event(&mut self) {
        self.data = Data::None;
        self.buf.clear();
        self.event_type = None;
        self.retry = None;
        self.size = 0;
    }

    /// Drops the current event and starts skipping to its end.
    fn too_large(&mut self, offset: u64) -> Error {
        self.reset_event();
        self.line.clear();
        self.discarding = true;
        Error {
            limit: self.max_event_size,
            offset,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests_support {
    pub(crate) use super::parse_retry;

    /// `split_field` with the field shown by name.
    pub(crate) fn split_field_name(line: &[u8]) -> (&'static str, usize) {
        let (field, v) = super::split_field(line);
        let name = match field {
            super::Field::Data => "data",
            super::Field::Event => "event",
            super::Field::Id => "id",
            super::Field::Retry => "retry",
            super::Field::Ignored => "ignored",
        };
        (name, v)
    }
}
