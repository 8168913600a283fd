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
        match str::from_utf8(&bytes) {
            Ok(_) => Str(bytes),
            Err(_) => Str(Bytes::from(String::from_utf8_lossy(&bytes).into_owned())),
        }
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

/// The event type an event has when the stream names none.
pub(crate) const MESSAGE: Str = Str::from_static("message");

/// One dispatched Server-Sent Event.
///
/// Every field is a [`Str`], so an `Event` is cheap to clone and to move
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
