//! A hand-written scanner for the hottest event shape,
//! `{"type":"content_block_delta","index":N,"delta":{"type":T,FIELD:"..."}}`,
//! in any key order and with any JSON whitespace.
//!
//! It accepts only that exact shape and returns `None` for anything else
//! (other or repeated keys, escapes outside the delta text, numbers that are
//! not plain unsigned integers, invalid UTF-8 or escapes), so the caller
//! falls back to serde. Delta text without escapes is shared with the input;
//! with escapes it is unescaped into a new string. Whatever it accepts is valid JSON that serde decodes to the
//! same event; the proptests in tests/it/fast_decode.rs check that.

use bytes::Bytes;

use crate::stream::{
    ContentBlockDelta, ContentBlockDeltaEvent, InputJsonDelta, SignatureDelta, StreamEvent,
    TextDelta, ThinkingDelta,
};
use crate::text::Text;

enum Str {
    /// A byte range of the input (no escapes).
    Range(usize, usize),
    /// Unescaped text.
    Unescaped(String),
}

struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.buf.get(self.pos) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        self.ws();
        (self.buf.get(self.pos) == Some(&byte)).then(|| self.pos += 1)
    }

    /// An escape-free string: its byte range (without quotes).
    fn string(&mut self) -> Option<(usize, usize)> {
        match self.text()? {
            Str::Range(s, e) => Some((s, e)),
            Str::Unescaped(_) => None,
        }
    }

    /// A string value: a byte range when it has no escapes, else the
    /// unescaped text (a copy). Invalid escapes and lone surrogates give
    /// `None` (serde then reports them).
    fn text(&mut self) -> Option<Str> {
        self.eat(b'"')?;
        let start = self.pos;
        loop {
            match *self.buf.get(self.pos)? {
                b'"' => {
                    self.pos += 1;
                    return Some(Str::Range(start, self.pos - 1));
                }
                b'\\' => break,
                0..=0x1f => return None,
                _ => self.pos += 1,
            }
        }
        // Escapes: copy into a buffer, unescaping.
        let mut out = Vec::with_capacity(self.buf.len() - start);
        out.extend_from_slice(&self.buf[start..self.pos]);
        loop {
            match *self.buf.get(self.pos)? {
                b'"' => {
                    self.pos += 1;
                    return String::from_utf8(out).ok().map(Str::Unescaped);
                }
                b'\\' => {
                    let esc = *self.buf.get(self.pos + 1)?;
                    self.pos += 2;
                    let byte = match esc {
                        b'"' => b'"',
                        b'\\' => b'\\',
                        b'/' => b'/',
                        b'b' => 0x08,
                        b'f' => 0x0c,
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'u' => {
                            let c = self.unicode_escape()?;
                            let mut tmp = [0u8; 4];
                            out.extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
                            continue;
                        }
                        _ => return None,
                    };
                    out.push(byte);
                }
                0..=0x1f => return None,
                b => {
                    out.push(b);
                    self.pos += 1;
                }
            }
        }
    }

    /// The char of a `\uXXXX` escape (after the `u`), pairing surrogates.
    fn unicode_escape(&mut self) -> Option<char> {
        let hi = self.hex4()?;
        match hi {
            0xD800..=0xDBFF => {
                if self.buf.get(self.pos..self.pos + 2)? != b"\\u" {
                    return None;
                }
                self.pos += 2;
                let lo = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&lo) {
                    return None;
                }
                char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
            }
            0xDC00..=0xDFFF => None,
            _ => char::from_u32(hi),
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = self.buf.get(self.pos..self.pos + 4)?;
        let mut n = 0;
        for &d in digits {
            n = n * 16 + char::from(d).to_digit(16)?;
        }
        self.pos += 4;
        Some(n)
    }

    /// A plain unsigned integer that fits `u32`.
    fn index(&mut self) -> Option<u32> {
        self.ws();
        let start = self.pos;
        let mut n: u32 = 0;
        while let Some(&d @ b'0'..=b'9') = self.buf.get(self.pos) {
            n = n.checked_mul(10)?.checked_add(u32::from(d - b'0'))?;
            self.pos += 1;
        }
        let len = self.pos - start;
        // No leading zeros, no fraction or exponent.
        if len == 0 || (len > 1 && self.buf[start] == b'0') {
            return None;
        }
        match self.buf.get(self.pos) {
            Some(b'.' | b'e' | b'E') => None,
            _ => Some(n),
        }
    }

    /// After a value: `true` at `}`, `false` at `,`.
    fn end_of_member(&mut self) -> Option<bool> {
        self.ws();
        let b = *self.buf.get(self.pos)?;
        self.pos += 1;
        match b {
            b'}' => Some(true),
            b',' => Some(false),
            _ => None,
        }
    }

    fn key(&mut self) -> Option<&[u8]> {
        let (s, e) = self.string()?;
        self.eat(b':')?;
        Some(&self.buf[s..e])
    }
}

pub(super) fn block_delta(data: &Bytes) -> Option<StreamEvent> {
    let mut c = Cursor { buf: data, pos: 0 };
    let (mut ty, mut index, mut delta) = (false, None, None);
    c.eat(b'{')?;
    loop {
        match c.key()? {
            b"type" if !ty => {
                let (s, e) = c.string()?;
                if &data[s..e] != b"content_block_delta" {
                    return None;
                }
                ty = true;
            }
            b"index" if index.is_none() => index = Some(c.index()?),
            b"delta" if delta.is_none() => delta = Some(inner_delta(&mut c, data)?),
            _ => return None,
        }
        if c.end_of_member()? {
            break;
        }
    }
    c.ws();
    if c.pos != data.len() || !ty {
        return None;
    }
    Some(StreamEvent::ContentBlockDelta(ContentBlockDeltaEvent {
        index: index?,
        delta: delta?,
    }))
}

/// The text field of a delta.
#[derive(Clone, Copy)]
enum Field {
    Text,
    PartialJson,
    Thinking,
    Signature,
}

fn inner_delta(c: &mut Cursor<'_>, data: &Bytes) -> Option<ContentBlockDelta> {
    let mut ty: Option<(usize, usize)> = None;
    let mut field: Option<(Field, Str)> = None;
    c.eat(b'{')?;
    loop {
        let key = match c.key()? {
            b"type" if ty.is_none() => None,
            b"text" if field.is_none() => Some(Field::Text),
            b"partial_json" if field.is_none() => Some(Field::PartialJson),
            b"thinking" if field.is_none() => Some(Field::Thinking),
            b"signature" if field.is_none() => Some(Field::Signature),
            _ => return None,
        };
        match key {
            None => ty = Some(c.string()?),
            Some(f) => field = Some((f, c.text()?)),
        }
        if c.end_of_member()? {
            break;
        }
    }
    let (ts, te) = ty?;
    let (key, value) = field?;
    let text = match value {
        Str::Range(s, e) => Text::from_utf8(data.slice(s..e)).ok()?,
        Str::Unescaped(s) => Text::from(s),
    };
    Some(match (&data[ts..te], key) {
        (b"text_delta", Field::Text) => ContentBlockDelta::Text(TextDelta { text }),
        (b"input_json_delta", Field::PartialJson) => {
            ContentBlockDelta::InputJson(InputJsonDelta { partial_json: text })
        }
        (b"thinking_delta", Field::Thinking) => {
            ContentBlockDelta::Thinking(ThinkingDelta { thinking: text })
        }
        (b"signature_delta", Field::Signature) => {
            ContentBlockDelta::Signature(SignatureDelta { signature: text })
        }
        _ => return None,
    })
}
