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
        self.pos = plain_run(self.buf, self.pos);
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

    /// The string `"lit"`, written without escapes, at the cursor: one
    /// comparison instead of a scan. `None` for anything else (an escaped
    /// spelling too: the caller then falls back to serde).
    fn literal(&mut self, lit: &[u8]) -> Option<()> {
        self.ws();
        let quoted = self.buf.get(self.pos..self.pos + lit.len() + 2)?;
        (quoted[0] == b'"' && &quoted[1..=lit.len()] == lit && quoted[lit.len() + 1] == b'"')
            .then(|| self.pos += lit.len() + 2)
    }

    fn key(&mut self) -> Option<&[u8]> {
        let (s, e) = self.string()?;
        self.eat(b':')?;
        Some(&self.buf[s..e])
    }
}

/// The index of the first byte at or after `from` that ends a plain run
/// inside a JSON string: `"`, `\\` or a control byte (below 0x20); the
/// length of `buf` when there is none. Eight bytes at a time.
fn plain_run(buf: &[u8], mut from: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // The high bit of each byte of `x` that is zero; bytes above the first
    // zero may be flagged too (borrows carry upwards), so only the lowest
    // set bit is exact.
    let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    while let Some(word) = buf.get(from..from + 8) {
        let mut le = [0u8; 8];
        le.copy_from_slice(word);
        let x = u64::from_le_bytes(le);
        let stops = zero(x ^ (ONES * u64::from(b'"')))
            | zero(x ^ (ONES * u64::from(b'\\')))
            | (x.wrapping_sub(ONES * 0x20) & !x & HIGH);
        if stops != 0 {
            return from + (stops.trailing_zeros() / 8) as usize;
        }
        from += 8;
    }
    buf[from..]
        .iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
        .map_or(buf.len(), |i| from + i)
}

pub(super) fn block_delta(data: &Bytes) -> Option<StreamEvent> {
    let mut c = Cursor { buf: data, pos: 0 };
    let (mut ty, mut index, mut delta) = (false, None, None);
    c.eat(b'{')?;
    loop {
        match c.key()? {
            b"type" if !ty => {
                c.literal(b"content_block_delta")?;
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
    Some(StreamEvent::ContentBlockDelta(ContentBlockDeltaEvent::new(
        index?, delta?,
    )))
}

/// The text field of a delta.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    Text,
    PartialJson,
    Thinking,
    Signature,
}

impl Field {
    /// The delta `type` that goes with the field.
    fn delta_type(self) -> &'static [u8] {
        match self {
            Field::Text => b"text_delta",
            Field::PartialJson => b"input_json_delta",
            Field::Thinking => b"thinking_delta",
            Field::Signature => b"signature_delta",
        }
    }
}

/// The delta's `type`, one of the four known ones.
fn delta_type(c: &mut Cursor<'_>) -> Option<Field> {
    [
        Field::Text,
        Field::PartialJson,
        Field::Thinking,
        Field::Signature,
    ]
    .into_iter()
    .find(|f| c.literal(f.delta_type()).is_some())
}

fn inner_delta(c: &mut Cursor<'_>, data: &Bytes) -> Option<ContentBlockDelta> {
    let mut ty: Option<Field> = None;
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
            None => ty = Some(delta_type(c)?),
            Some(f) => field = Some((f, c.text()?)),
        }
        if c.end_of_member()? {
            break;
        }
    }
    let ty = ty?;
    let (key, value) = field?;
    if ty != key {
        return None;
    }
    let text = match value {
        Str::Range(s, e) => Text::from_utf8(data.slice(s..e)).ok()?,
        Str::Unescaped(s) => Text::from(s),
    };
    Some(match key {
        Field::Text => ContentBlockDelta::Text(TextDelta {
            text,
            extra: crate::Extra::new(),
        }),
        Field::PartialJson => ContentBlockDelta::InputJson(InputJsonDelta {
            partial_json: text,
            extra: crate::Extra::new(),
        }),
        Field::Thinking => ContentBlockDelta::Thinking(ThinkingDelta {
            thinking: text,
            estimated_tokens: None,
            extra: crate::Extra::new(),
        }),
        Field::Signature => ContentBlockDelta::Signature(SignatureDelta {
            signature: text,
            extra: crate::Extra::new(),
        }),
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::plain_run;

    proptest! {
        #[test]
        fn plain_run_stops_where_a_byte_loop_does(
            buf in proptest::collection::vec(
                prop_oneof![
                    6 => b' '..=b'~',
                    1 => Just(b'"'),
                    1 => Just(b'\\'),
                    1 => 0u8..0x20,
                    1 => 0x80u8..=0xff,
                ],
                0..40,
            ),
            from in 0usize..40,
        ) {
            let from = from.min(buf.len());
            let naive = (from..buf.len())
                .find(|&i| buf[i] == b'"' || buf[i] == b'\\' || buf[i] < 0x20)
                .unwrap_or(buf.len());
            prop_assert_eq!(plain_run(&buf, from), naive);
        }
    }
}
