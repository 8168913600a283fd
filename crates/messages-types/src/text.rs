//! [`Text`]: a cheap-to-clone UTF-8 string that can share the buffer it was
//! decoded from.

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;

use bytes::Bytes;
use bytestring::ByteString;
use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde::{Serialize, Serializer};

/// An immutable UTF-8 string backed by [`Bytes`].
///
/// The delta types of a stream ([`TextDelta`](crate::TextDelta),
/// [`InputJsonDelta`](crate::InputJsonDelta), ...) hold their text in a
/// `Text`. When [`decode_event`](crate::decode_event) finds a string without
/// escapes it does not copy it: the `Text` points into the event's data
/// buffer (the buffer stays alive as long as any `Text` made from it does).
///
/// Cloning is `O(1)` (a reference count increment); dereferencing to `&str`
/// is `O(1)`. It serializes and deserializes as a JSON string and compares
/// equal to `str` and `String` with the same contents.
///
/// # Examples
///
/// ```
/// use messages_types::Text;
///
/// let t = Text::from("Hello");
/// assert_eq!(t, "Hello");
/// assert_eq!(t.len(), 5);
/// assert_eq!(serde_json::to_string(&t).unwrap(), r#""Hello""#);
/// ```
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Text(ByteString);

impl Text {
    /// An empty text. Does not allocate.
    pub const fn new() -> Text {
        Text(ByteString::new())
    }

    /// A text pointing to a static string. Does not allocate.
    pub const fn from_static(s: &'static str) -> Text {
        Text(ByteString::from_static(s))
    }

    /// Wraps bytes that hold UTF-8, without copying them.
    ///
    /// # Errors
    ///
    /// Returns the UTF-8 error when `bytes` is not valid UTF-8.
    pub fn from_utf8(bytes: Bytes) -> Result<Text, std::str::Utf8Error> {
        ByteString::try_from(bytes).map(Text)
    }

    /// The text as a `&str`. This operation is `O(1)`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The underlying bytes. This operation is `O(1)`.
    pub fn as_bytes(&self) -> &Bytes {
        self.0.as_bytes()
    }

    /// Gives up the text as [`Bytes`]. This operation is `O(1)`.
    pub fn into_bytes(self) -> Bytes {
        self.0.into_bytes()
    }
}

impl Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl AsRef<[u8]> for Text {
    fn as_ref(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl Borrow<str> for Text {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<String> for Text {
    /// Takes the string's buffer without copying it.
    fn from(s: String) -> Text {
        Text(ByteString::from(s))
    }
}

impl From<&str> for Text {
    /// Copies the string.
    fn from(s: &str) -> Text {
        Text(ByteString::from(s))
    }
}

impl From<Text> for String {
    fn from(t: Text) -> String {
        String::from(t.0)
    }
}

impl From<Text> for Bytes {
    fn from(t: Text) -> Bytes {
        t.into_bytes()
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Text {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other.as_str()
    }
}

impl PartialEq<Text> for str {
    fn eq(&self, other: &Text) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<Text> for &str {
    fn eq(&self, other: &Text) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<Text> for String {
    fn eq(&self, other: &Text) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Serialize for Text {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Text {
    /// Deserializes from a JSON string. Outside [`decode_event`](crate::decode_event)
    /// there is no buffer to share, so this copies (or takes an owned string).
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Text, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Text, E> {
                Ok(Text::from(s))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Text, E> {
                Ok(Text::from(s))
            }
        }
        d.deserialize_string(V)
    }
}
