//! The wire encoding of an [`Entry`], for stores that keep entries outside
//! the process (the Redis store, or a store of your own).
//!
//! # Encoding, version 1
//!
//! ```text
//! entry    = version:u8 (= 1)  id:varint  tag:u8  fields
//! varint   = unsigned LEB128 (7 bits a byte, low first, at most 10 bytes)
//! bytes    = len:varint  byte{len}
//! str      = bytes, valid UTF-8
//! opt<T>   = 0x00 | 0x01 T
//! text     = 0x00 str                    a text of its own
//!          | 0x01 offset:varint len:varint   a slice of the entry's raw data
//! kind     = 0x00 text | 0x01 thinking | 0x02 tool id:str name:str | 0x03 other
//! json     = str holding one JSON value
//!
//! tag  fields
//! 1    start        message_id:str  raw:bytes
//! 2    block start  index:varint  kind  raw:bytes
//! 3    text delta   index:varint  raw:opt<bytes>  text
//! 4    thinking     index:varint  raw:bytes  text
//! 5    tool input   index:varint  id:str  raw:bytes  text
//! 6    block stop   index:varint  kind  input:opt<json>  raw:bytes
//! 7    stop         stop_reason:opt<str>  usage:json  raw:bytes
//! 8    other        event_type:str  raw:bytes
//! 9    error        type:str  message:str  request_id:opt<str>
//! 10   stopped
//! ```
//!
//! The raw data (the upstream event's `data`, byte for byte) is stored
//! once; a delta's text is almost always a slice of it and is then stored
//! as an offset and a length, so a text delta costs its raw data plus about
//! eight bytes. Decoding copies nothing: the raw data and the texts are
//! slices of the stored bytes.
//!
//! A decoder reads only the versions it knows and fails with a
//! [`DecodeError`] naming what was wrong and at which byte, never panics,
//! and refuses trailing bytes.

use std::fmt;

use bytes::{BufMut, Bytes, BytesMut};
use messages_types::{StopReason, Text, Usage};
use serde_json::Value;
use sse_core::Str;

use crate::format::{BlockKind, ErrorInfo, Item};
use crate::store::Entry;

/// The version byte this crate writes (and the only one it reads).
pub const ENTRY_VERSION: u8 = 1;

const START: u8 = 1;
const BLOCK_START: u8 = 2;
const TEXT: u8 = 3;
const THINKING: u8 = 4;
const TOOL_INPUT: u8 = 5;
const BLOCK_STOP: u8 = 6;
const STOP: u8 = 7;
const OTHER: u8 = 8;
const ERROR: u8 = 9;
const STOPPED: u8 = 10;

/// A stored entry that could not be decoded (see [`Entry::decode`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    at: usize,
    what: String,
}

impl DecodeError {
    fn new(at: usize, what: impl Into<String>) -> DecodeError {
        DecodeError {
            at,
            what: what.into(),
        }
    }

    /// The byte offset in the encoded entry where decoding failed.
    pub fn offset(&self) -> usize {
        self.at
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "malformed stored entry at byte {}: {}",
            self.at, self.what
        )
    }
}

impl std::error::Error for DecodeError {}

impl Entry {
    /// The entry in the [encoding](crate::codec) version
    /// [`ENTRY_VERSION`]: about the size of the upstream event's data plus
    /// a few bytes. Costs one allocation.
    pub fn encode(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(self.weight().min(1 << 16) + 16);
        out.put_u8(ENTRY_VERSION);
        put_varint(&mut out, self.id());
        match &self.item {
            Item::Start { message_id, raw } => {
                out.put_u8(START);
                put_bytes(&mut out, message_id.as_bytes());
                put_bytes(&mut out, raw);
            }
            Item::BlockStart { index, kind, raw } => {
                out.put_u8(BLOCK_START);
                put_varint(&mut out, u64::from(*index));
                put_kind(&mut out, kind);
                put_bytes(&mut out, raw);
            }
            Item::Text { index, text, raw } => {
                out.put_u8(TEXT);
                put_varint(&mut out, u64::from(*index));
                match raw {
                    None => out.put_u8(0),
                    Some(raw) => {
                        out.put_u8(1);
                        put_bytes(&mut out, raw);
                    }
                }
                put_text(&mut out, text, raw.as_ref());
            }
            Item::Thinking { index, text, raw } => {
                out.put_u8(THINKING);
                put_varint(&mut out, u64::from(*index));
                put_bytes(&mut out, raw);
                put_text(&mut out, text, Some(raw));
            }
            Item::ToolInput {
                index,
                id,
                json,
                raw,
            } => {
                out.put_u8(TOOL_INPUT);
                put_varint(&mut out, u64::from(*index));
                put_bytes(&mut out, id.as_bytes());
                put_bytes(&mut out, raw);
                put_text(&mut out, json, Some(raw));
            }
            Item::BlockStop {
                index,
                kind,
                input,
                raw,
            } => {
                out.put_u8(BLOCK_STOP);
                put_varint(&mut out, u64::from(*index));
                put_kind(&mut out, kind);
                match input {
                    None => out.put_u8(0),
                    Some(v) => {
                        out.put_u8(1);
                        put_bytes(&mut out, &serde_json::to_vec(v).unwrap_or_default());
                    }
                }
                put_bytes(&mut out, raw);
            }
            Item::Stop {
                stop_reason,
                usage,
                raw,
            } => {
                out.put_u8(STOP);
                match stop_reason {
                    None => out.put_u8(0),
                    Some(r) => {
                        out.put_u8(1);
                        put_bytes(&mut out, r.as_str().as_bytes());
                    }
                }
                put_bytes(
                    &mut out,
                    &serde_json::to_vec(usage.as_ref()).unwrap_or_default(),
                );
                put_bytes(&mut out, raw);
            }
            Item::Other { kind, raw } => {
                out.put_u8(OTHER);
                put_bytes(&mut out, kind.as_bytes());
                put_bytes(&mut out, raw);
            }
            Item::Error(e) => {
                out.put_u8(ERROR);
                put_bytes(&mut out, e.kind.as_bytes());
                put_bytes(&mut out, e.message.as_bytes());
                match &e.request_id {
                    None => out.put_u8(0),
                    Some(r) => {
                        out.put_u8(1);
                        put_bytes(&mut out, r.as_bytes());
                    }
                }
            }
            Item::Stopped => out.put_u8(STOPPED),
        }
        out.freeze()
    }

    /// Decodes an entry written by [`encode`](Entry::encode). The raw data
    /// and texts of the result are slices of `bytes` (no copy).
    ///
    /// # Errors
    ///
    /// A [`DecodeError`] naming the byte where the data stops making sense:
    /// an unknown version or tag, a length past the end, invalid UTF-8 or
    /// JSON, a text slice outside the raw data, trailing bytes.
    pub fn decode(bytes: Bytes) -> Result<Entry, DecodeError> {
        let mut r = Reader { bytes, at: 0 };
        let version = r.u8("the version")?;
        if version != ENTRY_VERSION {
            return Err(DecodeError::new(
                0,
                format!("unknown version {version} (this relay reads version {ENTRY_VERSION})"),
            ));
        }
        let id = r.varint("the id")?;
        let tag_at = r.at;
        let item = match r.u8("the tag")? {
            START => Item::Start {
                message_id: r.string("the message id")?,
                raw: r.bytes("the raw data")?,
            },
            BLOCK_START => Item::BlockStart {
                index: r.index()?,
                kind: r.kind()?,
                raw: r.bytes("the raw data")?,
            },
            TEXT => {
                let index = r.index()?;
                let raw = if r.flag("the raw-data flag")? {
                    Some(r.bytes("the raw data")?)
                } else {
                    None
                };
                let text = r.text(raw.as_ref())?;
                Item::Text { index, text, raw }
            }
            THINKING => {
                let index = r.index()?;
                let raw = r.bytes("the raw data")?;
                let text = r.text(Some(&raw))?;
                Item::Thinking { index, text, raw }
            }
            TOOL_INPUT => {
                let index = r.index()?;
                let id = r.string("the tool id")?;
                let raw = r.bytes("the raw data")?;
                let json = r.text(Some(&raw))?;
                Item::ToolInput {
                    index,
                    id,
                    json,
                    raw,
                }
            }
            BLOCK_STOP => {
                let index = r.index()?;
                let kind = r.kind()?;
                let input = if r.flag("the input flag")? {
                    Some(r.json::<Value>("the tool input")?)
                } else {
                    None
                };
                Item::BlockStop {
                    index,
                    kind,
                    input,
                    raw: r.bytes("the raw data")?,
                }
            }
            STOP => {
                let stop_reason = if r.flag("the stop-reason flag")? {
                    Some(StopReason::from_wire(&r.string("the stop reason")?))
                } else {
                    None
                };
                let usage = Box::new(r.json::<Usage>("the usage")?);
                Item::Stop {
                    stop_reason,
                    usage,
                    raw: r.bytes("the raw data")?,
                }
            }
            OTHER => {
                let at = r.at;
                let kind = Str::from_utf8(r.bytes("the event type")?)
                    .map_err(|_| DecodeError::new(at, "the event type is not UTF-8"))?;
                Item::Other {
                    kind,
                    raw: r.bytes("the raw data")?,
                }
            }
            ERROR => Item::Error(ErrorInfo {
                kind: r.string("the error type")?,
                message: r.string("the error message")?,
                request_id: if r.flag("the request-id flag")? {
                    Some(r.string("the request id")?)
                } else {
                    None
                },
            }),
            STOPPED => Item::Stopped,
            tag => {
                return Err(DecodeError::new(tag_at, format!("unknown tag {tag}")));
            }
        };
        if r.at != r.bytes.len() {
            return Err(DecodeError::new(
                r.at,
                format!("{} trailing bytes", r.bytes.len() - r.at),
            ));
        }
        Ok(Entry::new(id, item))
    }
}

fn put_varint(out: &mut BytesMut, mut n: u64) {
    while n >= 0x80 {
        out.put_u8((n as u8) | 0x80);
        n >>= 7;
    }
    out.put_u8(n as u8);
}

fn put_bytes(out: &mut BytesMut, b: &[u8]) {
    put_varint(out, b.len() as u64);
    out.put_slice(b);
}

fn put_kind(out: &mut BytesMut, kind: &BlockKind) {
    match kind {
        BlockKind::Text => out.put_u8(0),
        BlockKind::Thinking => out.put_u8(1),
        BlockKind::Tool { id, name } => {
            out.put_u8(2);
            put_bytes(out, id.as_bytes());
            put_bytes(out, name.as_bytes());
        }
        BlockKind::Other => out.put_u8(3),
    }
}

/// A text that is a slice of `raw` is written as its offset and length.
fn put_text(out: &mut BytesMut, text: &Text, raw: Option<&Bytes>) {
    if let Some(raw) = raw {
        let start = raw.as_ptr() as usize;
        let at = (text.as_bytes().as_ptr() as usize).wrapping_sub(start);
        if at <= raw.len() && text.len() <= raw.len() - at {
            out.put_u8(1);
            put_varint(out, at as u64);
            put_varint(out, text.len() as u64);
            return;
        }
    }
    out.put_u8(0);
    put_bytes(out, text.as_bytes());
}

struct Reader {
    bytes: Bytes,
    at: usize,
}

impl Reader {
    fn u8(&mut self, what: &str) -> Result<u8, DecodeError> {
        let b = *self
            .bytes
            .get(self.at)
            .ok_or_else(|| DecodeError::new(self.at, format!("ends before {what}")))?;
        self.at += 1;
        Ok(b)
    }

    fn flag(&mut self, what: &str) -> Result<bool, DecodeError> {
        let at = self.at;
        match self.u8(what)? {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(DecodeError::new(at, format!("{what} is {b}, not 0 or 1"))),
        }
    }

    fn varint(&mut self, what: &str) -> Result<u64, DecodeError> {
        let start = self.at;
        let mut n = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.u8(what)?;
            let bits = u64::from(b & 0x7f);
            if shift == 63 && bits > 1 {
                break;
            }
            n |= bits << shift;
            if b & 0x80 == 0 {
                return Ok(n);
            }
        }
        Err(DecodeError::new(start, format!("{what} overflows 64 bits")))
    }

    fn index(&mut self) -> Result<u32, DecodeError> {
        let at = self.at;
        let n = self.varint("the block index")?;
        u32::try_from(n)
            .map_err(|_| DecodeError::new(at, format!("block index {n} is over 32 bits")))
    }

    fn len(&mut self, what: &str) -> Result<usize, DecodeError> {
        let at = self.at;
        let n = self.varint(what)?;
        let left = self.bytes.len() - self.at;
        match usize::try_from(n) {
            Ok(n) if n <= left => Ok(n),
            _ => Err(DecodeError::new(
                at,
                format!("{what} is {n} bytes long, but only {left} bytes follow"),
            )),
        }
    }

    fn bytes(&mut self, what: &str) -> Result<Bytes, DecodeError> {
        let n = self.len(what)?;
        let b = self.bytes.slice(self.at..self.at + n);
        self.at += n;
        Ok(b)
    }

    fn string(&mut self, what: &str) -> Result<String, DecodeError> {
        let at = self.at;
        let b = self.bytes(what)?;
        String::from_utf8(b.to_vec())
            .map_err(|_| DecodeError::new(at, format!("{what} is not UTF-8")))
    }

    fn json<T: serde::de::DeserializeOwned>(&mut self, what: &str) -> Result<T, DecodeError> {
        let at = self.at;
        let b = self.bytes(what)?;
        serde_json::from_slice(&b)
            .map_err(|e| DecodeError::new(at, format!("{what} is not valid JSON: {e}")))
    }

    fn kind(&mut self) -> Result<BlockKind, DecodeError> {
        let at = self.at;
        Ok(match self.u8("the block kind")? {
            0 => BlockKind::Text,
            1 => BlockKind::Thinking,
            2 => BlockKind::Tool {
                id: self.string("the tool id")?,
                name: self.string("the tool name")?,
            },
            3 => BlockKind::Other,
            k => return Err(DecodeError::new(at, format!("unknown block kind {k}"))),
        })
    }

    fn text(&mut self, raw: Option<&Bytes>) -> Result<Text, DecodeError> {
        let at = self.at;
        let b = if self.flag("the text form")? {
            let Some(raw) = raw else {
                return Err(DecodeError::new(
                    at,
                    "the text is a slice of raw data the entry does not have",
                ));
            };
            let off_at = self.at;
            let off = self.varint("the text offset")?;
            let len = self.varint("the text length")?;
            let end = off.checked_add(len).filter(|&e| e <= raw.len() as u64);
            match end {
                Some(end) => raw.slice(off as usize..end as usize),
                None => {
                    return Err(DecodeError::new(
                        off_at,
                        format!(
                            "the text slice {off}+{len} is outside the {} bytes of raw data",
                            raw.len()
                        ),
                    ));
                }
            }
        } else {
            self.bytes("the text")?
        };
        Text::from_utf8(b).map_err(|_| DecodeError::new(at, "the text is not UTF-8"))
    }
}

#[cfg(test)]
mod tests;
