//! [`Str`], a cheap-clone UTF-8 string over [`Bytes`], and [`Event`].

use alloc::string::String;
use core::{fmt, ops::Deref, str};

use bytes::Bytes;

/// An immutable UTF-8 string backed by [`Bytes`].
///
/// Cloning is `O(1)`: it bumps a reference count (or copies a pointer for
/// static strings). The parser hands out event data as a `Str` that shares
/// the caller's input chunk, so reading it as `&str` with [`Str::as_str`]
/// neither copies nor validates the UTF-8 again.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Str(
    // Invariant: the bytes are valid UTF-8.
    Bytes,
);

impl Str {
    /// An empty string. Does not allocate.
    pub const fn new() -> Str {
        Str(Bytes::new())
    }

    /// Wraps a static string. Does not allocate.
    pub const fn from_static(s: &'static str) -> Str {
        Str(Bytes::from_static(s.as_bytes()))
    }

    /// Wraps `bytes` if they are valid UTF-8.
    ///
    /// # Errors
    ///
    /// Returns the bytes back, with the UTF-8 error, when they are not valid UTF-8.
    pub fn from_utf8(bytes: Bytes) -> Result<Str, (Bytes, str::Utf8Error)> {
        match str::from_utf8(&bytes) {
            Ok(_) => Ok(Str(bytes)),
            Err(e) => Err((bytes, e)),
        }
    }

    /// Wraps `bytes`, replacing each invalid UTF-8 sequence with U+FFFD.
    ///
    /// Valid input is wrapped without a copy; only invalid input is copied.
    pub fn from_utf8_lossy(bytes: Bytes) -> Str {
        if crate::utf8::valid(&bytes) {
            Str(bytes)
        } else {
            Str(Bytes::from(String::from_utf8_lossy(&bytes).into_owned()))
        }
    }

    /// [`Str::from_utf8_lossy`], skipping the validation when the line
    /// scanner saw that every byte is ASCII (`ascii`).
    #[inline]
    pub(crate) fn from_scanned(bytes: Bytes, ascii: bool) -> Str {
        debug_assert!(!ascii || bytes.is_ascii());
        if ascii {
            // ASCII is valid UTF-8.
            Str(bytes)
        } else {
            Str::from_utf8_lossy(bytes)
        }
    }

    /// Wraps `bytes` without checking them.
    ///
    /// # Safety
    ///
    /// `bytes` must be valid UTF-8.
    #[inline]
    pub(crate) unsafe fn from_utf8_unchecked(bytes: Bytes) -> Str {
        Str(bytes)
    }

    /// Copies a borrowed string into a new `Str`.
    pub fn copy_from_str(s: &str) -> Str {
        Str(Bytes::copy_from_slice(s.as_bytes()))
    }

    /// The string. This operation is `O(1)` and does not validate.
    #[inline]
    pub fn as_str(&self) -> &str {
        // SAFETY: every constructor checks that the bytes are valid UTF-8,
        // and `Bytes` is immutable, so the invariant still holds.
        unsafe { str::from_utf8_unchecked(&self.0) }
    }

    /// The underlying bytes, sharing the same memory.
    #[inline]
    pub fn as_bytes(&self) -> &Bytes {
        &self.0
    }

    /// Converts into the underlying bytes. This operation is `O(1)`.
    #[inline]
    pub fn into_bytes(self) -> Bytes {
        self.0
    }
}

impl Deref for Str {
    type Target = str;

    #[inline]
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Str {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<[u8]> for Str {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl core::borrow::Borrow<str> for Str {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl From<String> for Str {
    /// Takes ownership of the string's buffer without copying.
    fn from(s: String) -> Str {
        Str(Bytes::from(s))
    }
}

impl From<&'static str> for Str {
    fn from(s: &'static str) -> Str {
        Str::from_static(s)
    }
}

impl From<Str> for Bytes {
    fn from(s: Str) -> Bytes {
        s.0
    }
}

impl From<Str> for String {
    fn from(s: Str) -> String {
        String::from(s.as_str())
    }
}

impl PartialEq<str> for Str {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Str {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Str {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other.as_str()
    }
}

impl fmt::Debug for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

/// A string of an [`EventRef`]: the validated text, and what owns it (for
/// [`Src::to_str`]). Reading the text needs no branch.
#[derive(Clone, Copy)]
pub(crate) struct Src<'a> {
    text: &'a str,
    owner: Owner<'a>,
}

#[derive(Clone, Copy)]
enum Owner<'a> {
    /// `text` is a range of this chunk, starting at this offset.
    Chunk(&'a Bytes, usize),
    /// `text` is in a buffer of the parser's: owning it takes a copy.
    Parser,
    /// `text` is this string.
    Str(&'a Str),
    /// `text` is static.
    Static(&'static str),
}

impl<'a> Src<'a> {
    /// # Safety
    ///
    /// `chunk[start..end]` must be valid UTF-8.
    #[inline]
    pub(crate) unsafe fn chunk(chunk: &'a Bytes, start: usize, end: usize) -> Src<'a> {
        Src {
            // SAFETY: the caller guarantees valid UTF-8.
            text: unsafe { str::from_utf8_unchecked(&chunk[start..end]) },
            owner: Owner::Chunk(chunk, start),
        }
    }

    /// # Safety
    ///
    /// `bytes` must be valid UTF-8.
    #[inline]
    pub(crate) unsafe fn valid(bytes: &'a [u8]) -> Src<'a> {
        Src {
            // SAFETY: the caller guarantees valid UTF-8.
            text: unsafe { str::from_utf8_unchecked(bytes) },
            owner: Owner::Parser,
        }
    }

    #[inline]
    pub(crate) fn str(s: &'a Str) -> Src<'a> {
        Src {
            text: s.as_str(),
            owner: Owner::Str(s),
        }
    }

    /// A static string: nothing to drop, nothing to count.
    #[inline]
    pub(crate) fn stat(s: &'static str) -> Src<'a> {
        Src {
            text: s,
            owner: Owner::Static(s),
        }
    }

    #[inline]
    fn as_str(self) -> &'a str {
        self.text
    }

    /// The text as an owned `Str`: a slice of its chunk, a clone of its
    /// `Str`, or a copy of a parser buffer.
    #[inline]
    pub(crate) fn to_str(self) -> Str {
        match self.owner {
            // `text` lies in `bytes`, and was validated.
            Owner::Chunk(bytes, start) => Str(bytes.slice(start..start + self.text.len())),
            Owner::Parser => Str::copy_from_str(self.text),
            Owner::Str(s) => s.clone(),
            Owner::Static(s) => Str::from_static(s),
        }
    }

    /// [`Src::to_str`] for an event type: a well-known one is static.
    #[inline]
    pub(crate) fn to_type(self) -> Str {
        match self.owner {
            Owner::Str(s) => s.clone(),
            Owner::Static(s) => Str::from_static(s),
            _ => well_known(self.text.as_bytes()).unwrap_or_else(|| self.to_str()),
        }
    }
}

/// An event as the [`Parser`](crate::Parser) hands it out: borrowed from the
/// parser, valid until its next call.
///
/// Reading it costs nothing: its strings point into the input chunk (or
/// into the parser's buffer for multi-line data) and were validated as
/// UTF-8 once. Call [`to_event`](EventRef::to_event), or
/// [`data_str`](EventRef::data_str) for the data alone, to keep it: those
/// share the chunk's memory instead of copying (`O(1)`, a reference count).
#[derive(Clone, Copy)]
pub struct EventRef<'a> {
    event: Src<'a>,
    data: Src<'a>,
    id: &'a Str,
    retry: Option<u64>,
}

impl<'a> EventRef<'a> {
    pub(crate) fn new(
        event: Src<'a>,
        data: Src<'a>,
        id: &'a Str,
        retry: Option<u64>,
    ) -> EventRef<'a> {
        EventRef {
            event,
            data,
            id,
            retry,
        }
    }

    /// The event type: the last `event` field of the event, or `"message"`.
    #[inline]
    pub fn event(&self) -> &'a str {
        self.event.as_str()
    }

    /// The data: the event's `data` lines joined with `\n`.
    #[inline]
    pub fn data(&self) -> &'a str {
        self.data.as_str()
    }

    /// The last event id: the value of the latest valid `id` field seen on
    /// the stream up to this event (it persists across events), or `""`.
    #[inline]
    pub fn id(&self) -> &'a str {
        self.id.as_str()
    }

    /// The reconnection time in milliseconds, when this event carried a
    /// valid `retry` field.
    #[inline]
    pub fn retry(&self) -> Option<u64> {
        self.retry
    }

    /// The data as an owned [`Str`].
    ///
    /// Data that lies in one input chunk (a single `data` line not split
    /// across chunks) shares that chunk's memory: `O(1)`, one reference
    /// count. Data the parser assembled in its own buffer (several `data`
    /// lines, a line split across chunks) is copied;
    /// [`Parser::next_event_owned`](crate::Parser::next_event_owned) takes
    /// it without a copy.
    #[inline]
    pub fn data_str(&self) -> Str {
        self.data.to_str()
    }

    /// An owned copy of the event that shares the input's memory.
    ///
    /// The data costs what [`data_str`](EventRef::data_str) costs: one
    /// reference count on the input chunk, or a copy of data the parser
    /// assembled in its own buffer. The event types of Claude's Messages API
    /// (`message_start`, `content_block_delta`, `ping`, ...) and `message`
    /// are handed out as static strings, which cost none.
    /// [`Parser::next_event_owned`](crate::Parser::next_event_owned) never
    /// copies the data.
    pub fn to_event(&self) -> Event {
        Event {
            event: self.event.to_type(),
            data: self.data.to_str(),
            id: self.id.clone(),
            retry: self.retry,
        }
    }
}

impl fmt::Debug for EventRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventRef")
            .field("event", &self.event())
            .field("data", &self.data())
            .field("id", &self.id())
            .field("retry", &self.retry)
            .finish()
    }
}

impl PartialEq<Event> for EventRef<'_> {
    fn eq(&self, other: &Event) -> bool {
        self.event() == other.event()
            && self.data() == other.data()
            && self.id() == other.id()
            && self.retry == other.retry
    }
}

/// The event type an event has when the stream names none.
pub(crate) const MESSAGE: Str = Str::from_static("message");

/// The event types of Claude's Messages API stream (and the default
/// `message`) as static strings, for [`well_known`].
const WELL_KNOWN: [&str; 9] = [
    "message",
    "ping",
    "error",
    "message_start",
    "message_delta",
    "message_stop",
    "content_block_start",
    "content_block_delta",
    "content_block_stop",
];

/// `name` as a static string when it is one of [`WELL_KNOWN`]: such a
/// `Str` is cloned and dropped without touching a reference count, which
/// is what an owned event's type costs otherwise.
#[inline]
pub(crate) fn well_known(name: &[u8]) -> Option<Str> {
    well_known_static(name).map(Str::from_static)
}

/// [`well_known`] as a `&'static str`.
///
/// The candidate is picked by length (and, for two pairs of names of the
/// same length, by the last byte), then compared once: no loop over the
/// table.
#[inline(always)]
pub(crate) fn well_known_static(name: &[u8]) -> Option<&'static str> {
    let candidate = match (name.len(), name.last()) {
        (4, _) => WELL_KNOWN[1],
        (5, _) => WELL_KNOWN[2],
        (7, _) => WELL_KNOWN[0],
        (12, _) => WELL_KNOWN[5],
        (13, Some(b't')) => WELL_KNOWN[3],
        (13, _) => WELL_KNOWN[4],
        (18, _) => WELL_KNOWN[8],
        (19, Some(b't')) => WELL_KNOWN[6],
        (19, _) => WELL_KNOWN[7],
        _ => return None,
    };
    same_name(candidate.as_bytes(), name).then_some(candidate)
}

/// `a == b` for two names of 4 to 24 bytes, in two or three word
/// comparisons (overlapping when the length is not a multiple of the word)
/// instead of a call to `memcmp`.
#[inline(always)]
fn same_name(a: &[u8], b: &[u8]) -> bool {
    fn word4(s: &[u8], at: usize) -> u32 {
        let mut w = [0u8; 4];
        w.copy_from_slice(&s[at..at + 4]);
        u32::from_ne_bytes(w)
    }
    fn word8(s: &[u8], at: usize) -> u64 {
        let mut w = [0u8; 8];
        w.copy_from_slice(&s[at..at + 8]);
        u64::from_ne_bytes(w)
    }
    let n = a.len();
    if n != b.len() || !(4..=24).contains(&n) {
        return a == b;
    }
    if n < 8 {
        return word4(a, 0) == word4(b, 0) && word4(a, n - 4) == word4(b, n - 4);
    }
    word8(a, 0) == word8(b, 0)
        && word8(a, n - 8) == word8(b, n - 8)
        && (n <= 16 || word8(a, 8) == word8(b, 8))
}

/// One Server-Sent Event, owned.
///
/// The parser hands out [`EventRef`]s; [`EventRef::to_event`] makes an
/// `Event` without copying text. The [`Encoder`](crate::Encoder) writes
/// `Event`s. Every field is a [`Str`], so an `Event` is cheap to clone and to move
/// across threads. Two events are equal when their type, data, last event id
/// and retry are equal.
///
/// # Examples
///
/// ```
/// use sse_core::Event;
///
/// let event = Event::new("hello").with_event("greeting").with_id("7");
/// assert_eq!(event.event(), "greeting");
/// assert_eq!(event.data(), "hello");
/// assert_eq!(event.id(), "7");
/// assert_eq!(event.retry(), None);
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Event {
    pub(crate) event: Str,
    pub(crate) data: Str,
    pub(crate) id: Str,
    pub(crate) retry: Option<u64>,
}

impl Event {
    /// Assembles an event from its parts (the parser's owned path).
    #[inline]
    pub(crate) fn from_parts(event: Str, data: Str, id: Str, retry: Option<u64>) -> Event {
        Event {
            event,
            data,
            id,
            retry,
        }
    }

    /// An event of type `"message"` with the given data, no id and no retry.
    pub fn new(data: impl Into<Str>) -> Event {
        Event {
            event: MESSAGE,
            data: data.into(),
            id: Str::new(),
            retry: None,
        }
    }

    /// Sets the event type. An empty type means `"message"`, as on the wire.
    #[must_use]
    pub fn with_event(mut self, event: impl Into<Str>) -> Event {
        let event = event.into();
        self.event = if event.is_empty() { MESSAGE } else { event };
        self
    }

    /// Sets the last event id.
    #[must_use]
    pub fn with_id(mut self, id: impl Into<Str>) -> Event {
        self.id = id.into();
        self
    }

    /// Sets the reconnection time, in milliseconds.
    #[must_use]
    pub fn with_retry(mut self, retry: Option<u64>) -> Event {
        self.retry = retry;
        self
    }

    /// The event type: the last `event` field of the event, or `"message"`.
    #[inline]
    pub fn event(&self) -> &str {
        &self.event
    }

    /// The data: the event's `data` lines joined with `\n`.
    #[inline]
    pub fn data(&self) -> &str {
        &self.data
    }

    /// The last event id: the value of the latest valid `id` field seen on
    /// the stream up to this event (it persists across events), or `""`.
    #[inline]
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The reconnection time in milliseconds, when this event carried a valid
    /// `retry` field.
    #[inline]
    pub fn retry(&self) -> Option<u64> {
        self.retry
    }

    /// The event type as a [`Str`].
    #[inline]
    pub fn event_str(&self) -> &Str {
        &self.event
    }

    /// The data as a [`Str`]; clone it to keep the data without copying.
    #[inline]
    pub fn data_str(&self) -> &Str {
        &self.data
    }

    /// The last event id as a [`Str`].
    #[inline]
    pub fn id_str(&self) -> &Str {
        &self.id
    }

    /// Takes the data out of the event. This operation is `O(1)`.
    #[inline]
    pub fn into_data(self) -> Str {
        self.data
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("event", &self.event)
            .field("data", &self.data)
            .field("id", &self.id)
            .field("retry", &self.retry)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use alloc::vec::Vec;

    #[test]
    fn well_known_names_and_near_misses() {
        for name in super::WELL_KNOWN {
            assert_eq!(super::well_known(name.as_bytes()).as_deref(), Some(name));
            // The same length, one byte changed anywhere: not recognized.
            for i in 0..name.len() {
                let mut other: Vec<u8> = name.as_bytes().to_vec();
                other[i] ^= 0x20;
                assert_eq!(super::well_known(&other), None, "{other:?}");
            }
            // One byte more or less.
            assert_eq!(super::well_known(&name.as_bytes()[1..]), None);
            assert_eq!(super::well_known(&[name.as_bytes(), b"x"].concat()), None);
        }
        assert_eq!(super::well_known(b""), None);
        for (a, b) in [
            (&b"ping"[..], &b"pinh"[..]),
            (b"error", b"erroR"),
            (b"message", b"Message"),
            (b"message_stop", b"message_stoq"),
            (b"content_block_delta", b"content_block_dalta"),
            (b"content_block_delta", b"content_blocK_delta"),
        ] {
            assert!(super::same_name(a, a));
            assert!(!super::same_name(a, b), "{a:?} {b:?}");
        }
        assert_eq!(super::well_known(b"pong"), None);
        assert_eq!(super::well_known(b"content_block_deltx"), None);
    }
}
