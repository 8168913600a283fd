//! The incremental event-stream parser.

use alloc::collections::VecDeque;
use core::fmt;

use bytes::{BufMut, Bytes, BytesMut};

use crate::event::{EventRef, MESSAGE, Src, Str, well_known_static};
use crate::scan;

/// The default [`ParserConfig::max_event_size`]: 16 MiB.
pub const DEFAULT_MAX_EVENT_SIZE: usize = 16 * 1024 * 1024;

const BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];
/// A `data` value up to this long that lies in a chunk the parser is done
/// with is copied into the data buffer rather than shared with the chunk.
const SHORT_DATA: usize = 256;

/// A `data` value that holds no line end in its first this many bytes, and
/// goes on for more in its chunk, is copied into the data buffer while the
/// rest of it is scanned (`Parser::long_data`): it is likely to continue in
/// the next chunk.
const LONG_DATA: usize = 512;

/// `Parser::fresh_buf` takes the data buffer's allocation back from events
/// split off it only when less than this is left after them.
const RECLAIM_BELOW: usize = 1024;

/// The room `Parser::fresh_buf` makes at least when it takes the data
/// buffer back: owned events are split off it one after the other until it
/// is used up.
const RECLAIM_SPAN: usize = 8 * 1024;

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
            avx2: scan::has_avx2(),
            queue: VecDeque::new(),
            cur: Bytes::new(),
            pos: 0,
            offset: 0,
            line: BytesMut::new(),
            carried_len: 0,
            into_buf: false,
            line_start: 0,
            skip_lf: false,
            bom: 0,
            discarding: false,
            data: Data::None,
            buf: BytesMut::new(),
            buf_ascii: true,
            buf_reclaim: 0,
            buf_split_len: 0,
            event_type: Type::Message,
            last_type: MESSAGE,
            retry: None,
            held: [None, None],
            holding: false,
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
    /// One `data` line in the current chunk, `cur[start..end]`, and whether
    /// it is all ASCII.
    Cur(usize, usize, bool),
    /// One `data` line that lay in an earlier chunk: a slice of that chunk,
    /// and whether it is all ASCII.
    One(Bytes, bool),
    /// Several lines, or one that was split across chunks: in `Parser::buf`.
    Buf,
}

/// Where the current event's type is.
#[derive(Debug)]
enum Type {
    /// No `event` line (or an empty one): the type is "message".
    Message,
    /// In the current chunk, `cur[start..end]`, not yet validated, and
    /// whether it is all ASCII.
    Cur(usize, usize, bool),
    /// A well-known type (see `well_known`), from an earlier chunk.
    Static(&'static str),
    /// Copied or sliced out of an earlier chunk, validated.
    Owned(Str),
}

/// A string of the dispatched event: validated UTF-8 either in the current
/// chunk or owned.
#[derive(Debug)]
enum Ready {
    Cur(usize, usize),
    /// The whole of `Parser::buf`, validated. `buf` is left alone until
    /// the next call that parses.
    Buf,
    /// A static string ("message", a well-known type): nothing to drop.
    Static(&'static str),
    Owned(Str),
}

impl Ready {
    /// Validates `cur[start..end]`, replacing invalid UTF-8 with U+FFFD.
    /// `ascii` tells that the line scanner saw only ASCII there.
    #[inline]
    fn validate(cur: &Bytes, start: usize, end: usize, ascii: bool) -> Ready {
        if ascii || crate::utf8::valid(&cur[start..end]) {
            Ready::Cur(start, end)
        } else {
            Ready::Owned(Str::from_utf8_lossy(cur.slice(start..end)))
        }
    }

    /// The string to hand out, borrowed from the parser: `cur`, `buf`, or
    /// `held`, where an owned string is kept for as long as the borrow.
    ///
    /// `self` must come from the `dispatch` of the same `next_event` call,
    /// so that `cur` and `buf` are as `dispatch` left them.
    #[inline(always)]
    fn src<'a>(self, cur: &'a Bytes, buf: &'a [u8], held: &'a mut Option<Str>) -> Src<'a> {
        match self {
            // SAFETY: `Ready::Cur` is only built by `validate`, after the
            // range was checked to be UTF-8, and `cur` is the chunk it
            // refers to (built by this call's `dispatch`, see above).
            Ready::Cur(start, end) => unsafe { Src::chunk(cur, start, end) },
            // SAFETY: `Ready::Buf` is only built by `Parser::dispatch`, after
            // `buf` was seen to be ASCII or checked to be UTF-8, and nothing
            // wrote to `buf` since (see above); the `EventRef` borrows the
            // parser, so nothing can write to it while it is read.
            Ready::Buf => unsafe { Src::valid(buf) },
            Ready::Static(s) => Src::stat(s),
            Ready::Owned(s) => Src::str(held.insert(s)),
        }
    }
}

/// The event dispatched by the last `next_event` call.
#[derive(Debug)]
struct Dispatched {
    event: Ready,
    data: Ready,
    retry: Option<u64>,
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

/// Recognizes the line starts `data:` and `event:`, the fields of nearly
/// every line, from one 8-byte load, and gives the offset of the value
/// (after the one optional space). `None` for anything else, and when fewer
/// than 8 bytes are left: `split_field` then decides.
#[inline]
fn known_field(rest: &[u8]) -> Option<(Field, usize)> {
    const DATA: u64 = u64::from_le_bytes(*b"data:\0\0\0");
    const EVENT: u64 = u64::from_le_bytes(*b"event:\0\0");
    let head: [u8; 8] = rest.get(..8)?.try_into().ok()?;
    let word = u64::from_le_bytes(head);
    if word & 0xFF_FFFF_FFFF == DATA {
        Some((Field::Data, 5 + usize::from(head[5] == b' ')))
    } else if word & 0xFFFF_FFFF_FFFF == EVENT {
        Some((Field::Event, 6 + usize::from(head[6] == b' ')))
    } else {
        None
    }
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

/// Appends `src` up to its first line end to `buf`, scanning and copying in
/// one pass, and returns that line end. `avx2` must come from
/// `scan::has_avx2`.
#[inline]
fn copy_line_into(buf: &mut BytesMut, src: &[u8], avx2: bool) -> scan::LineEnd {
    buf.reserve(src.len());
    let dst = buf.spare_capacity_mut().as_mut_ptr().cast::<u8>();
    // SAFETY: `dst` has room for `src.len()` bytes (reserved above). It
    // does not overlap `src`: `spare_capacity_mut` hands out that memory
    // exclusively (a `&mut`), so no live `Bytes` or slice can see it.
    // `avx2` comes from `scan::has_avx2` (the caller's contract).
    let found = unsafe { scan::copy_line(src, dst, avx2) };
    // SAFETY: `copy_line` wrote the `found.at` bytes after `buf`'s length,
    // which fit its capacity.
    unsafe { buf.set_len(buf.len() + found.at) };
    found
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
    /// The line scanner may use AVX2 (see `scan::has_avx2`).
    avx2: bool,
    /// Chunks pushed but not yet reached.
    queue: VecDeque<Bytes>,
    /// The chunk being parsed, and the position in it.
    cur: Bytes,
    pos: usize,
    /// Stream offset of `cur[0]`.
    offset: u64,
    /// The start of a line that continues in a later chunk.
    line: BytesMut,
    /// Bytes of that line seen so far; non-zero while a line is carried.
    /// When discarding, they are counted but not kept in `line`.
    carried_len: usize,
    /// The carried line is a `data` line whose value goes straight into
    /// `buf` (copied once) instead of `line`.
    into_buf: bool,
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
    /// Whether the line scanner saw only ASCII in `buf`: then it needs no
    /// UTF-8 validation.
    buf_ascii: bool,
    /// The capacity `buf` had when the last event was split off it (zero
    /// when none was since `buf` was last taken back): at least what
    /// `fresh_buf` reserves when it takes `buf` back.
    buf_reclaim: usize,
    /// The length of the last event split off `buf`.
    buf_split_len: usize,
    event_type: Type,
    /// The type of the last event whose `event` line was split across
    /// chunks: a repeat (the usual case) is shared, not copied again.
    last_type: Str,
    retry: Option<u64>,
    /// The owned strings (type, data) of the event handed out by the last
    /// `next_event` call, when it had any: the `EventRef` borrows them.
    held: [Option<Str>; 2],
    /// Whether `held` holds anything, so that clearing it costs one test.
    holding: bool,
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
        self.push_inline(chunk);
    }

    /// [`push`](Parser::push), compiled into the caller: `SseStream`
    /// hands over the chunk its inner stream just returned, and a call
    /// would copy it first, reading back as 16-byte words what the inner
    /// stream wrote as 8-byte ones (a store-forwarding stall per chunk).
    #[inline(always)]
    pub(crate) fn push_inline(&mut self, chunk: Bytes) {
        if chunk.is_empty() {
            return;
        }
        if self.pos == self.cur.len() && self.queue.is_empty() {
            // The current chunk is used up: this one takes its place now,
            // without a trip through the queue.
            if let Some(at) = self.continue_data(&chunk) {
                if at < chunk.len() {
                    self.next_chunk(chunk);
                    self.skip_line_end(at);
                }
                return;
            }
            self.next_chunk(chunk);
        } else {
            self.queue.push_back(chunk);
        }
    }

    /// Makes `next` the current chunk, once the current one is used up.
    #[inline]
    fn next_chunk(&mut self, next: Bytes) {
        self.detach();
        self.offset += self.cur.len() as u64;
        self.cur = next;
        self.pos = 0;
    }

    /// Queues a borrowed chunk of input, copying it.
    ///
    /// When the chunk continues a `data` value begun in earlier input (the
    /// usual case for small chunks inside long values), its bytes up to the
    /// line end go straight into the parser's data buffer: no allocation and
    /// no reference count, which makes this faster than `push` there. In
    /// other cases it costs an allocation and a copy of the chunk on top of
    /// what [`push`](Parser::push) costs.
    pub fn push_slice(&mut self, chunk: &[u8]) {
        if chunk.is_empty() {
            return;
        }
        let mut end = None;
        if self.pos == self.cur.len() && self.queue.is_empty() {
            end = self.continue_data(chunk);
        }
        let Some(start) = end else {
            self.push(Bytes::copy_from_slice(chunk));
            return;
        };
        if start == chunk.len() {
            return;
        }
        let rest = Bytes::copy_from_slice(&chunk[start..]);
        // `rest` starts with the line end of the data value just completed.
        self.next_chunk(rest);
        self.offset += start as u64;
        self.skip_line_end(0);
    }

    /// When the current chunk is used up, nothing is queued and the parser
    /// is in the middle of a `data` value carried from earlier chunks:
    /// appends `chunk` up to its first line end to that value, scanning and
    /// copying in one pass, and returns where the line end is (or
    /// `chunk.len()` when there is none; the chunk is then used up). Returns
    /// `None`, having done nothing, in any other state.
    ///
    /// It leaves `cur` and `pos` alone: the caller makes the chunk (or its
    /// rest) current when a line end was found, and moves past it.
    #[inline]
    fn continue_data(&mut self, chunk: &[u8]) -> Option<usize> {
        // `into_buf` implies the BOM check is over and the parser is not
        // discarding.
        if !self.into_buf
            || self.skip_lf
            || self.size + self.carried_len + chunk.len() > self.max_event_size
        {
            return None;
        }
        debug_assert!(self.pos == self.cur.len() && self.queue.is_empty());
        let found = copy_line_into(&mut self.buf, chunk, self.avx2);
        self.buf_ascii &= found.ascii;
        if found.at == chunk.len() {
            // `cur` (still the previous chunk, with everything that points
            // into it) stays; the stream offset moves past `chunk`.
            self.offset += chunk.len() as u64;
            self.carried_len += found.at;
        } else {
            self.size += core::mem::take(&mut self.carried_len) + found.at;
            self.into_buf = false;
        }
        Some(found.at)
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
    #[inline]
    pub fn next_event(&mut self) -> Result<Option<EventRef<'_>>, Error> {
        if self.drained() {
            // Nothing to parse (a chunk that `push` used up, or the call
            // after the last event of a chunk): no call.
            return Ok(None);
        }
        self.next_event_parse()
    }

    /// Whether all pushed input was parsed.
    #[inline(always)]
    fn drained(&self) -> bool {
        self.pos == self.cur.len() && self.queue.is_empty()
    }

    /// [`next_event`](Parser::next_event) when there is input to parse.
    #[inline(never)]
    fn next_event_parse(&mut self) -> Result<Option<EventRef<'_>>, Error> {
        if core::mem::take(&mut self.holding) {
            self.held = [None, None];
        }
        let Some(r) = self.advance(Parser::dispatch)? else {
            return Ok(None);
        };
        let [held_event, held_data] = &mut self.held;
        self.holding = matches!(r.event, Ready::Owned(_)) || matches!(r.data, Ready::Owned(_));
        Ok(Some(EventRef::new(
            r.event.src(&self.cur, &self.buf, held_event),
            r.data.src(&self.cur, &self.buf, held_data),
            &self.last_id,
            r.retry,
        )))
    }

    /// [`next_event`](Parser::next_event), with the event owned.
    ///
    /// Costs no copy of the text: data lying in one input chunk shares it
    /// (one reference count), and data the parser assembled in its buffer
    /// (several `data` lines, a line split across chunks) is split off that
    /// buffer: the next such events are split off the room after it, and
    /// the parser takes the buffer back when that room runs low and the
    /// events split off it are dropped. [`EventRef::to_event`](crate::EventRef::to_event) on the
    /// result of `next_event` copies such data instead.
    ///
    /// # Errors
    ///
    /// As for [`next_event`](Parser::next_event).
    ///
    /// # Examples
    ///
    /// ```
    /// use bytes::Bytes;
    /// use sse_core::Parser;
    ///
    /// let mut parser = Parser::new();
    /// parser.push(Bytes::from_static(b"data: a\ndata: b\n\n"));
    /// let event = parser.next_event_owned()?.expect("one event");
    /// assert_eq!(event.data(), "a\nb");
    /// # Ok::<(), sse_core::Error>(())
    /// ```
    #[inline]
    pub fn next_event_owned(&mut self) -> Result<Option<crate::Event>, Error> {
        if self.drained() {
            // As in `next_event`: nothing to parse, no call.
            return Ok(None);
        }
        self.next_event_owned_parse()
    }

    /// [`next_event_owned`](Parser::next_event_owned) when there is input
    /// to parse.
    #[inline(never)]
    fn next_event_owned_parse(&mut self) -> Result<Option<crate::Event>, Error> {
        self.advance(Parser::dispatch_owned)
    }

    /// [`next_event_owned`](Parser::next_event_owned), compiled into the
    /// caller (`SseStream::poll_next`): the event is built where the caller
    /// moves it, instead of being written by a call and read back, which
    /// stalls the processor (a store-forwarding failure on the 112-byte
    /// `Event`).
    #[cfg(feature = "stream")]
    #[inline(always)]
    pub(crate) fn next_event_owned_inline(&mut self) -> Result<Option<crate::Event>, Error> {
        if self.drained() {
            return Ok(None);
        }
        self.advance(Parser::dispatch_owned)
    }

    /// Parses up to the next dispatched event and returns it, as
    /// `dispatch` makes it at the blank line that ends it, or `None` when
    /// the queued input holds no further complete event.
    ///
    /// `dispatch` is `Parser::dispatch` (borrowed events) or
    /// `Parser::dispatch_owned`: each caller gets its own copy of the loop,
    /// and the owned event is built where the event ends, not converted
    /// from a `Dispatched` after the loop.
    #[inline(always)]
    fn advance<T>(&mut self, dispatch: fn(&mut Parser) -> Option<T>) -> Result<Option<T>, Error> {
        loop {
            if self.pos == self.cur.len() {
                let Some(next) = self.queue.pop_front() else {
                    return Ok(None);
                };
                self.next_chunk(next);
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
            if self.carried_len != 0 {
                if self.into_buf && self.size + self.carried_len + rest.len() <= self.max_event_size
                {
                    // More of a `data` value: scanned while copied.
                    let found = self.copy_data(start);
                    if found.at == self.cur.len() - start {
                        self.pos = self.cur.len();
                        self.carried_len += found.at;
                        continue;
                    }
                    let end = start + found.at;
                    self.skip_line_end(end);
                    self.size += core::mem::take(&mut self.carried_len) + found.at;
                    self.into_buf = false;
                    continue;
                }
                let found = scan::line_end_at(&self.cur, start, self.avx2);
                if !found.found(rest) {
                    self.pos = self.cur.len();
                    self.carry(start, None, found.ascii)?;
                    continue;
                }
                let end = start + found.at;
                self.skip_line_end(end);
                self.end_carried_line(start, end, found.ascii)?;
                continue;
            }
            // A blank line (one per event) needs no scan; after a known
            // field name the scan starts at the value.
            let known = match rest[0] {
                b'\n' | b'\r' => {
                    self.skip_line_end(start);
                    if let Some(ready) = dispatch(self) {
                        return Ok(Some(ready));
                    }
                    continue;
                }
                _ => known_field(rest),
            };
            let value = known.map_or(0, |(_, v)| v);
            let from = start + value;
            let found = if self.cur.len() - from > LONG_DATA
                && matches!(known, Some((Field::Data, _)))
                && matches!(self.data, Data::None)
                && !self.discarding
            {
                // A long value may continue in the next chunk: past its
                // first `LONG_DATA` bytes it is copied while scanned.
                let head = scan::line_end_at(&self.cur[..from + LONG_DATA], from, self.avx2);
                if head.at < LONG_DATA {
                    head
                } else {
                    match self.long_data(start, from, head.ascii)? {
                        Some(found) => found,
                        None => continue,
                    }
                }
            } else {
                scan::line_end_at(&self.cur, from, self.avx2)
            };
            if found.at == self.cur.len() - from {
                self.pos = self.cur.len();
                let data = match known {
                    Some((Field::Data, v)) => Some(start + v),
                    _ => None,
                };
                self.carry(start, data, found.ascii)?;
                continue;
            }
            let end = start + value + found.at;
            self.skip_line_end(end);
            if self.discarding {
                continue;
            }
            if self.size + (end - start) > self.max_event_size {
                return Err(self.too_large(self.offset + start as u64));
            }
            // The two usual fields by plain branches: a `match` over all
            // five compiles to a jump table, whose indirect jump the
            // processor mispredicts when `data` and `event` lines alternate.
            match known {
                Some((Field::Data, v)) => {
                    self.data_line(start + v, end, found.ascii);
                }
                Some((_, v)) => self.event_line(start + v, end, found.ascii),
                None => {
                    let (field, v) = split_field(&self.cur[start..end]);
                    self.field_line(field, start, start + v, end, found.ascii);
                }
            }
            if known.is_some() {
                self.size += end - start;
            }
        }
    }

    /// The first `data` line of an event, whose value `cur[from..]` is
    /// longer than `LONG_DATA` and holds no line end in its first
    /// `LONG_DATA` bytes (`head_ascii` tells whether those were ASCII);
    /// `start` is where the line starts.
    ///
    /// Copies the value into `buf` while scanning the rest of it, so that a
    /// value that goes on in the next chunk is read once, not scanned and
    /// then copied. When the line ends in this chunk, returns its line end
    /// (relative to `from`) and leaves `buf` empty: the value is handed out
    /// from the chunk as usual, and the copy was only written to `buf`'s
    /// spare capacity. Otherwise carries the line, as `carry` does, and
    /// returns `None`.
    #[inline(never)]
    fn long_data(
        &mut self,
        start: usize,
        from: usize,
        head_ascii: bool,
    ) -> Result<Option<scan::LineEnd>, Error> {
        self.fresh_buf();
        let src = &self.cur[from..];
        self.buf.reserve(src.len());
        let dst = self.buf.spare_capacity_mut().as_mut_ptr().cast::<u8>();
        // SAFETY: `dst` has room for `src.len()` bytes (reserved above),
        // of which the first `LONG_DATA` (`src.len() > LONG_DATA`, the
        // caller's contract) are written here and the rest by `copy_line`,
        // which gets a destination with room for all of its input. It does
        // not overlap `src`: `spare_capacity_mut` hands that memory out
        // exclusively. `avx2` comes from `scan::has_avx2`.
        let tail = unsafe {
            core::ptr::copy_nonoverlapping(src.as_ptr(), dst, LONG_DATA);
            scan::copy_line(&src[LONG_DATA..], dst.add(LONG_DATA), self.avx2)
        };
        let found = scan::LineEnd {
            at: LONG_DATA + tail.at,
            ascii: head_ascii && tail.ascii,
        };
        if found.at < src.len() {
            return Ok(Some(found));
        }
        // Carried, as `carry` would.
        let len = src.len();
        self.pos = self.cur.len();
        self.line_start = self.offset + start as u64;
        self.carried_len = self.cur.len() - start;
        if self.size + self.carried_len > self.max_event_size {
            return Err(self.too_large(self.line_start));
        }
        // SAFETY: the `len` bytes after `buf`'s length (empty after
        // `fresh_buf`) were written above, within its capacity.
        unsafe { self.buf.set_len(len) };
        self.buf_ascii = found.ascii;
        self.data = Data::Buf;
        self.into_buf = true;
        Ok(None)
    }

    /// Moves past the line end at `cur[end]`: a CR, an LF, or a CR that an
    /// LF follows, here or at the start of the next chunk.
    #[inline]
    fn skip_line_end(&mut self, end: usize) {
        self.pos = end + 1;
        if self.cur[end] == b'\r' {
            match self.cur.get(end + 1) {
                Some(b'\n') => self.pos += 1,
                Some(_) => {}
                None => self.skip_lf = true,
            }
        }
    }

    /// Before `cur` is replaced: moves the parts of the current event that
    /// point into it out, as `Bytes` slices (no copy).
    fn detach(&mut self) {
        if let Data::Cur(start, end, ascii) = self.data {
            if end - start <= SHORT_DATA {
                // Copying a short value costs less than sharing the chunk
                // (two atomic reference-count operations).
                self.data = Data::None;
                self.fresh_buf();
                self.buf.extend_from_slice(&self.cur[start..end]);
                self.buf_ascii = ascii;
                self.data = Data::Buf;
            } else {
                self.data = Data::One(self.cur.slice(start..end), ascii);
            }
        }
        if let Type::Cur(start, end, ascii) = self.event_type {
            let name = &self.cur[start..end];
            self.event_type = match well_known_static(name) {
                Some(s) => Type::Static(s),
                None => Type::Owned(Str::from_scanned(self.cur.slice(start..end), ascii)),
            };
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
    /// event id and reconnection time are kept; everything else, the
    /// [`offset`](Parser::offset) included, starts afresh, and a BOM is again
    /// accepted at the start.
    pub fn finish(&mut self) -> Finish {
        let undrained = self.pos < self.cur.len() || !self.queue.is_empty();
        let in_event = self.carried_len != 0
            || self.discarding
            || !matches!(self.data, Data::None)
            || !matches!(self.event_type, Type::Message)
            || self.retry.is_some();
        let fresh = ParserConfig {
            max_event_size: self.max_event_size,
        }
        .build();
        let old = core::mem::replace(self, fresh);
        self.last_id = old.last_id;
        self.reconnection_time = old.reconnection_time;
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
                self.carried_len = 0;
                return;
            }
            if self.carried_len == 0 {
                self.line_start = self.offset + self.pos as u64 - 1;
            }
            self.line.put_u8(b);
            self.carried_len += 1;
        }
    }

    /// Keeps `cur[start..]`, a line without its end, for the next chunk.
    ///
    /// `data` is the start of the value when the line is a `data` line that
    /// starts here, and `ascii` whether the line scanner saw only ASCII in
    /// the value (or, for a continued line, in `cur[start..]`).
    ///
    /// The value of a `data` line goes straight into `buf`, so it is copied
    /// once; other lines (and a `data` line until its value begins) go into
    /// `line`.
    fn carry(&mut self, start: usize, data: Option<usize>, ascii: bool) -> Result<(), Error> {
        if self.carried_len == 0 {
            self.line_start = self.offset + start as u64;
        }
        self.carried_len += self.cur.len() - start;
        if self.discarding {
            return Ok(());
        }
        if self.size + self.carried_len > self.max_event_size {
            return Err(self.too_large(self.line_start));
        }
        if self.into_buf {
            self.buf.extend_from_slice(&self.cur[start..]);
            self.buf_ascii &= ascii;
        } else if let Some(value) = data {
            if matches!(self.data, Data::None) {
                // The usual case, without the call.
                self.data = Data::Buf;
                self.fresh_buf();
            } else {
                self.start_data_line();
            }
            self.buf.extend_from_slice(&self.cur[value..]);
            self.buf_ascii &= ascii;
            self.into_buf = true;
        } else {
            self.line.extend_from_slice(&self.cur[start..]);
            // Once the carried line is known to be a `data` line with its
            // value begun, move that value to `buf`.
            if self.line.len() >= 6 && self.line.starts_with(b"data:") {
                let v = 5 + usize::from(self.line[5] == b' ');
                self.start_data_line();
                self.buf.extend_from_slice(&self.line[v..]);
                self.buf_ascii &= self.line[v..].is_ascii();
                self.line.clear();
                self.into_buf = true;
            }
        }
        Ok(())
    }

    /// Appends `cur[start..]` up to its first line end to `buf`, scanning
    /// and copying in one pass, and returns that line end (relative to
    /// `start`).
    #[inline]
    fn copy_data(&mut self, start: usize) -> scan::LineEnd {
        let found = copy_line_into(&mut self.buf, &self.cur[start..], self.avx2);
        self.buf_ascii &= found.ascii;
        found
    }

    /// Finishes a line that began in an earlier chunk with `cur[start..end]`.
    ///
    /// This mirrors `field_line`, but copies values out of `line` instead of
    /// pointing into it: `line` keeps its capacity, so carried lines cost no
    /// allocation in steady state (handing `line` out as `Bytes` instead
    /// would cost one allocation per carried line).
    ///
    /// `ascii` tells whether the line scanner saw only ASCII in
    /// `cur[start..end]`.
    fn end_carried_line(&mut self, start: usize, end: usize, ascii: bool) -> Result<(), Error> {
        // Never empty: a line is carried only when a chunk ends inside it.
        let len = core::mem::take(&mut self.carried_len) + (end - start);
        if self.discarding {
            return Ok(());
        }
        if self.size + len > self.max_event_size {
            return Err(self.too_large(self.line_start));
        }
        if core::mem::take(&mut self.into_buf) {
            // A `data` line whose value is already in `buf`.
            self.size += len;
            self.buf.extend_from_slice(&self.cur[start..end]);
            self.buf_ascii &= ascii;
            return Ok(());
        }
        self.line.extend_from_slice(&self.cur[start..end]);
        let (field, v) = known_field(&self.line).unwrap_or_else(|| split_field(&self.line));
        match field {
            Field::Data => {
                self.size += len;
                self.start_data_line();
                self.buf.extend_from_slice(&self.line[v..]);
                self.buf_ascii &= self.line[v..].is_ascii();
            }
            Field::Event => {
                self.size += len;
                let value = &self.line[v..];
                self.event_type = if value.is_empty() {
                    Type::Message
                } else if let Some(s) = well_known_static(value) {
                    Type::Static(s)
                } else if value == self.last_type.as_bytes() {
                    Type::Owned(self.last_type.clone())
                } else {
                    let s = Str::from_utf8_lossy(Bytes::copy_from_slice(value));
                    self.last_type = s.clone();
                    Type::Owned(s)
                };
            }
            Field::Id => {
                if memchr::memchr(0, &self.line[v..]).is_none() {
                    self.last_id = Str::from_utf8_lossy(Bytes::copy_from_slice(&self.line[v..]));
                }
            }
            Field::Retry => self.set_retry(parse_retry(&self.line[v..])),
            Field::Ignored => {}
        }
        self.line.clear();
        Ok(())
    }

    /// Applies `field` with the value `cur[v..end]` of the line
    /// `cur[start..end]`, which fits the size limit, borrowing from the
    /// chunk. `ascii` tells whether the line scanner saw only ASCII there.
    #[inline(never)]
    fn field_line(&mut self, field: Field, start: usize, v: usize, end: usize, ascii: bool) {
        match field {
            Field::Data => {
                self.size += end - start;
                self.data_line(v, end, ascii);
            }
            Field::Event => {
                self.size += end - start;
                self.event_line(v, end, ascii);
            }
            Field::Id => {
                if memchr::memchr(0, &self.cur[v..end]).is_none() {
                    self.last_id = Str::from_utf8_lossy(self.cur.slice(v..end));
                }
            }
            Field::Retry => self.set_retry(parse_retry(&self.cur[v..end])),
            Field::Ignored => {}
        }
    }

    /// A `data` line with the value `cur[v..end]` (the size is counted by
    /// the caller).
    #[inline(always)]
    fn data_line(&mut self, v: usize, end: usize, ascii: bool) {
        match self.data {
            Data::None => self.data = Data::Cur(v, end, ascii),
            Data::Cur(..) | Data::One(..) | Data::Buf => {
                self.start_data_line();
                self.buf.extend_from_slice(&self.cur[v..end]);
                self.buf_ascii &= ascii;
            }
        }
    }

    /// An `event` line with the value `cur[v..end]` (the size is counted by
    /// the caller).
    #[inline(always)]
    fn event_line(&mut self, v: usize, end: usize, ascii: bool) {
        self.event_type = if v == end {
            Type::Message
        } else {
            Type::Cur(v, end, ascii)
        };
    }

    /// Prepares `buf` for another data line: moves a borrowed first line in
    /// and adds the `\n` that joins lines. `data` is `Data::Buf` after.
    #[inline]
    fn start_data_line(&mut self) {
        match core::mem::replace(&mut self.data, Data::Buf) {
            Data::Buf => self.buf.put_u8(b'\n'),
            Data::None => self.fresh_buf(),
            Data::Cur(start, end, ascii) => {
                self.fresh_buf();
                self.buf.extend_from_slice(&self.cur[start..end]);
                self.buf.put_u8(b'\n');
                self.buf_ascii = ascii;
            }
            Data::One(first, ascii) => {
                self.fresh_buf();
                self.buf.extend_from_slice(&first);
                self.buf.put_u8(b'\n');
                self.buf_ascii = ascii;
            }
        }
    }

    /// Empties `buf` for a new event's data. It may still hold the data of
    /// the last event handed out from it (lent, not split off).
    #[inline]
    fn fresh_buf(&mut self) {
        self.buf.clear();
        self.buf_ascii = true;
        if self.buf_reclaim != 0 && self.buf.capacity() < RECLAIM_BELOW.max(2 * self.buf_split_len)
        {
            // Events were split off `buf` (`next_event_owned`) and little
            // room is left after them (less than twice the last one): take
            // back the whole allocation if those events are gone, so that it
            // is not grown, or its content moved, while an event is copied
            // in. While room is left, the next events are written after the
            // last (a split costs less than taking the allocation back).
            // `reserve` takes the allocation back in place when it is no
            // longer shared, and allocates anew when it is: then this is
            // one allocation for the next `RECLAIM_SPAN` bytes of events.
            let span = core::mem::take(&mut self.buf_reclaim).max(RECLAIM_SPAN);
            self.buf.reserve(span);
        }
    }

    fn set_retry(&mut self, value: Option<u64>) {
        if let Some(ms) = value {
            self.retry = Some(ms);
            self.reconnection_time = Some(ms);
        }
    }

    /// At a blank line: dispatches the event, if it has data.
    #[inline(always)]
    fn dispatch(&mut self) -> Option<Dispatched> {
        if core::mem::take(&mut self.discarding) {
            self.reset_event();
            return None;
        }
        self.size = 0;
        let retry = self.retry.take();
        let event_type = core::mem::replace(&mut self.event_type, Type::Message);
        let data = match core::mem::replace(&mut self.data, Data::None) {
            Data::None => return None,
            Data::Cur(start, end, ascii) => Ready::validate(&self.cur, start, end, ascii),
            Data::One(bytes, ascii) => Ready::Owned(Str::from_scanned(bytes, ascii)),
            Data::Buf => {
                // Lent to the caller in place: no split, no reference count.
                // `fresh_buf` empties it when the next event's data begins.
                if core::mem::replace(&mut self.buf_ascii, true) || crate::utf8::valid(&self.buf) {
                    Ready::Buf
                } else {
                    Ready::Owned(Str::from(
                        alloc::string::String::from_utf8_lossy(&self.buf).into_owned(),
                    ))
                }
            }
        };
        let event = match event_type {
            Type::Message => Ready::Static("message"),
            Type::Static(s) => Ready::Static(s),
            Type::Cur(start, end, ascii) => Ready::validate(&self.cur, start, end, ascii),
            Type::Owned(s) => Ready::Owned(s),
        };
        Some(Dispatched { event, data, retry })
    }

    /// `dispatch` for `next_event_owned`: the event, owned. Data lying in
    /// the current chunk shares it (a reference count); data assembled in
    /// `buf` is split off it (see `fresh_buf`); a well-known type is static.
    ///
    /// Its first lines (discarding, size, retry, type, data) are
    /// `dispatch`'s, and must stay so. Shared through a function returning
    /// the type, data and retry, they cost 1.5-2.5% more instructions per
    /// event on the Claude corpus (callgrind), so each keeps its copy.
    #[inline(always)]
    fn dispatch_owned(&mut self) -> Option<crate::Event> {
        if core::mem::take(&mut self.discarding) {
            self.reset_event();
            return None;
        }
        self.size = 0;
        let retry = self.retry.take();
        let event_type = core::mem::replace(&mut self.event_type, Type::Message);
        let data = match core::mem::replace(&mut self.data, Data::None) {
            Data::None => return None,
            Data::Cur(start, end, ascii) => {
                if ascii || crate::utf8::valid(&self.cur[start..end]) {
                    // SAFETY: ASCII, or just checked to be UTF-8.
                    unsafe { Str::from_utf8_unchecked(self.cur.slice(start..end)) }
                } else {
                    Str::from_utf8_lossy(self.cur.slice(start..end))
                }
            }
            Data::Buf => {
                if core::mem::replace(&mut self.buf_ascii, true) || crate::utf8::valid(&self.buf) {
                    self.buf_reclaim = self.buf.capacity();
                    self.buf_split_len = self.buf.len();
                    // SAFETY: ASCII, or just checked to be UTF-8; once split
                    // off `buf`, nothing writes to it.
                    unsafe { Str::from_utf8_unchecked(self.buf.split().freeze()) }
                } else {
                    Str::from(alloc::string::String::from_utf8_lossy(&self.buf).into_owned())
                }
            }
            Data::One(bytes, ascii) => Str::from_scanned(bytes, ascii),
        };
        let event = match event_type {
            Type::Message => MESSAGE,
            Type::Static(s) => Str::from_static(s),
            Type::Cur(start, end, ascii) => match well_known_static(&self.cur[start..end]) {
                Some(s) => Str::from_static(s),
                None => Str::from_scanned(self.cur.slice(start..end), ascii),
            },
            Type::Owned(s) => s,
        };
        Some(crate::Event::from_parts(
            event,
            data,
            // An empty id is the common case: no call through the vtable.
            if self.last_id.is_empty() {
                Str::new()
            } else {
                self.last_id.clone()
            },
            retry,
        ))
    }

    fn reset_event(&mut self) {
        self.data = Data::None;
        self.buf.clear();
        self.buf_ascii = true;
        self.into_buf = false;
        self.event_type = Type::Message;
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

    fn name(field: super::Field) -> &'static str {
        match field {
            super::Field::Data => "data",
            super::Field::Event => "event",
            super::Field::Id => "id",
            super::Field::Retry => "retry",
            super::Field::Ignored => "ignored",
        }
    }

    /// `split_field` with the field shown by name.
    pub(crate) fn split_field_name(line: &[u8]) -> (&'static str, usize) {
        let (field, v) = super::split_field(line);
        (name(field), v)
    }

    /// `known_field` with the field shown by name.
    pub(crate) fn known_field_name(rest: &[u8]) -> Option<(&'static str, usize)> {
        super::known_field(rest).map(|(field, v)| (name(field), v))
    }
}
