//! Incremental JSON for tool input that arrives in fragments.
//!
//! The Messages API streams a `tool_use` block's input as `input_json_delta`
//! events whose `partial_json` strings concatenate to one JSON value (usually
//! an object). [`PartialJson`] accumulates them in linear time, keeps a
//! best-effort *preview* of the value so far up to date after every fragment,
//! and at `content_block_stop` turns the text into the block's input with
//! [`PartialJson::finish`].
//!
//! See [`PartialJson`] for the preview rules and costs.

use std::fmt;
use std::mem;

use serde_json::{Map, Number, Value};

/// `serde_json`'s default recursion limit: it refuses the 128th nested
/// array or object.
const MAX_DEPTH: usize = 127;

/// Number tokens up to this length are re-read for the preview after every
/// push; longer ones only when their length has doubled (see `PartialJson`).
const SHORT_NUMBER: usize = 32;

/// A JSON value arriving in fragments (`input_json_delta.partial_json`).
///
/// Push fragments with [`push`](Self::push), look at the value so far with
/// [`preview`](Self::preview), and take the final value with
/// [`finish`](Self::finish).
///
/// # How the preview is built
///
/// A small state machine reads each byte once, with a stack describing the
/// path from the root to the value being built, and updates a
/// [`serde_json::Value`] tree in place. The buffer is never re-parsed and the
/// tree is never cloned. The preview follows these rules:
///
/// - **Nothing before a value begins**: [`PartialJson::preview`] is `None` until
///   the first byte that is not whitespace (`""` and `"  "` have no preview).
/// - **Arrays and objects** appear as soon as their opening bracket arrives,
///   at any depth.
/// - **Strings** appear as soon as their opening quote arrives, holding the
///   decoded prefix so far. An escape sequence (`\n`, `\u00e9`, a surrogate
///   pair `\ud83d\ude00`) is added once it is complete; a partial escape is not
///   shown yet, even when fragments split it.
/// - **Object members** appear once the key's closing quote has arrived and the
///   member's value has begun (under the same rules as any value). A key that
///   repeats replaces the earlier member, as in `serde_json`.
/// - **Numbers** show the longest prefix of the token so far that is a
///   complete number: `-` shows nothing yet, `12` shows `12`, a following `3`
///   makes it `123`, and `1.`, `1e`, `1e+` show `1`. Tokens longer than
///   32 bytes are re-read only when that prefix has doubled in length since
///   the last reading, and once complete, so that the cost stays linear (their
///   preview lags). A number that goes out of `f64` range (`1e40` then `0`)
///   keeps the last value shown.
/// - **`true`, `false`, `null`** appear when complete.
/// - **Map order** is `serde_json::Map`'s: sorted by key unless the
///   `preserve_order` feature of `serde_json` is enabled somewhere in the
///   build (it is not in this workspace), in which case keys are in order of
///   arrival. Either way it is the order [`PartialJson::finish`] gives.
/// - **Invalid text**: the first byte that makes the text invalid JSON (or a
///   number out of `f64` range, or nesting deeper than `serde_json`'s limit of
///   127 arrays/objects) stops the machine. [`PartialJson::error`] then reports
///   where, and the preview no longer changes.
///
/// Every intermediate preview is *consistent* with the final value: strings
/// are prefixes of the final strings, arrays hold the final elements except
/// that the last may still be partial, objects hold a subset of the final
/// members of which at most one is partial, and `true`/`false`/`null` are
/// final. Only a number may still change into another number, and a member
/// whose key repeats an earlier key replaces the earlier member.
///
/// # Cost
///
/// [`PartialJson::push`] costs `O(fragment.len() + depth)` amortized: each
/// byte is examined once, and once per push the path from the root to the
/// value being built is walked twice (to detach the open values from the tree
/// and to put them back), with a map lookup at each object on the path.
/// [`PartialJson::preview`] is `O(1)`. [`PartialJson::finish`] is `O(1)` when
/// the text was a complete valid value (the preview *is* the value), and
/// otherwise one `serde_json` parse of the text to report its error.
///
/// # Strictness
///
/// The grammar is RFC 8259 JSON with `serde_json`'s limits: whitespace is
/// only space, tab, line feed and carriage return; strings may not contain
/// control characters; unpaired surrogate escapes are errors; numbers are
/// `serde_json`'s (`u64`, then `i64`, then `f64`; out-of-range floats such as
/// `1e400` are errors). The value [`PartialJson::finish`] returns is equal to
/// `serde_json::from_str(raw)`, and it fails exactly when `serde_json` does,
/// except that empty or whitespace-only text is `{}` (a tool called without
/// input). Both are checked by differential property tests.
///
/// # Example
///
/// ```
/// use messages_stream::PartialJson;
/// use serde_json::json;
///
/// let mut input = PartialJson::new();
/// input.push("");
/// assert_eq!(input.preview(), None);
/// input.push(r#"{"city": "San Fr"#);
/// assert_eq!(input.preview(), Some(&json!({"city": "San Fr"})));
/// input.push(r#"ancisco", "days": 1"#);
/// assert_eq!(input.preview(), Some(&json!({"city": "San Francisco", "days": 1})));
/// input.push("0}");
/// assert_eq!(input.raw(), r#"{"city": "San Francisco", "days": 10}"#);
/// assert_eq!(input.finish().unwrap(), json!({"city": "San Francisco", "days": 10}));
/// ```
#[derive(Debug, Default)]
pub struct PartialJson {
    /// All text received.
    raw: String,
    /// The preview. Between pushes it holds the whole tree; during a push the
    /// values on `frames` are detached from it (and it is `None` while
    /// `frames` is not empty).
    root: Option<Value>,
    /// The open strings, arrays and objects, outermost first. Only the last
    /// may be a string. Between pushes their `value`s are `Null` placeholders.
    frames: Vec<Frame>,
    state: State,
    /// The key being read (not shown in the preview until its value begins).
    key: String,
    /// The number token being read.
    number: String,
    /// Offset in `raw` of the number token's first byte.
    number_start: usize,
    /// Whether the number being read has a slot in the preview.
    number_shown: bool,
    /// Length of the longest prefix of the token that is a complete number.
    number_accepted_len: usize,
    /// Token length at the last reading of the number for the preview.
    number_read_len: usize,
    error: Option<JsonSyntaxError>,
    #[cfg(test)]
    stats: Stats,
}

/// Work counters, to check in tests that the cost is linear.
#[cfg(test)]
#[derive(Debug, Default, Clone, Copy)]
struct Stats {
    /// Bytes examined by the state machine.
    scanned: usize,
    /// Levels walked to detach and attach the open values.
    walked: usize,
    /// Bytes of number tokens parsed.
    number_bytes: usize,
}

/// An open string, array or object.
#[derive(Debug)]
struct Frame {
    /// `Value::String`, `Value::Array` or `Value::Object`.
    value: Value,
    /// For an object: the key of the member being read, from the key's closing
    /// quote until its value is complete.
    key: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum State {
    /// Expecting a value: at the top, after `:`, after `,` in an array.
    #[default]
    Value,
    /// After `[`: a value or `]`.
    ArrayFirst,
    /// After `{`: a key or `}`.
    ObjectFirst,
    /// After `,` in an object: a key.
    Key,
    /// After a key: `:`.
    Colon,
    /// After a value in an array or object: `,` or the closing bracket.
    AfterValue,
    /// In a string; `key` tells where the text goes.
    Str {
        key: bool,
        escape: Escape,
    },
    Number(Num),
    /// In `true`, `false` or `null`, `matched` bytes of it read.
    Literal {
        literal: Literal,
        matched: u8,
    },
    /// The top-level value is complete: only whitespace may follow.
    Done,
    /// The text is not valid JSON; see `error`.
    Failed,
}

/// Where a string is within an escape sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Escape {
    None,
    /// After `\`.
    Backslash,
    /// In `\uXXXX`: `digits` read, `code` so far.
    Hex {
        code: u16,
        digits: u8,
    },
    /// After a high surrogate escape: expecting `\`.
    LowBackslash {
        high: u16,
    },
    /// After a high surrogate escape and `\`: expecting `u`.
    LowU {
        high: u16,
    },
    /// In the low surrogate's `\uXXXX`.
    LowHex {
        high: u16,
        code: u16,
        digits: u8,
    },
}

/// Where a number token is in the JSON number grammar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Num {
    Minus,
    Zero,
    Int,
    Dot,
    Frac,
    Exp,
    ExpSign,
    ExpDigits,
}

impl Num {
    /// The token so far is a complete number.
    fn accepting(self) -> bool {
        matches!(self, Num::Zero | Num::Int | Num::Frac | Num::ExpDigits)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Literal {
    True,
    False,
    Null,
}

impl Literal {
    fn text(self) -> &'static [u8] {
        match self {
            Literal::True => b"true",
            Literal::False => b"false",
            Literal::Null => b"null",
        }
    }
    fn value(self) -> Value {
        match self {
            Literal::True => Value::Bool(true),
            Literal::False => Value::Bool(false),
            Literal::Null => Value::Null,
        }
    }
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

fn hex(b: u8) -> Option<u16> {
    match b {
        b'0'..=b'9' => Some(u16::from(b - b'0')),
        b'a'..=b'f' => Some(u16::from(b - b'a' + 10)),
        b'A'..=b'F' => Some(u16::from(b - b'A' + 10)),
        _ => None,
    }
}

/// Parses a complete number token exactly as `serde_json` parses it in a
/// document.
fn parse_number(token: &str) -> Option<Number> {
    token.parse::<Number>().ok()
}

impl PartialJson {
    /// An empty buffer.
    pub fn new() -> PartialJson {
        PartialJson::default()
    }

    /// Appends a fragment and updates the preview.
    ///
    /// Amortized `O(fragment.len() + depth)`. Once the text is invalid JSON
    /// the fragment is still appended to [`raw`](Self::raw) but the preview
    /// no longer changes.
    pub fn push(&mut self, fragment: &str) {
        if fragment.is_empty() {
            return;
        }
        let base = self.raw.len();
        self.raw.push_str(fragment);
        if self.state == State::Failed {
            return;
        }
        self.detach();
        self.scan(fragment, base);
        if let State::Number(_) = self.state {
            let len = self.number_accepted_len;
            if len != self.number_read_len
                && (len <= SHORT_NUMBER || len >= 2 * self.number_read_len)
            {
                self.show_number(len);
            }
        }
        self.attach();
    }

    /// All text received so far.
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// The best-effort value of the text so far; `None` before a value began.
    ///
    /// See the [preview rules](PartialJson#how-the-preview-is-built). `O(1)`.
    pub fn preview(&self) -> Option<&Value> {
        self.root.as_ref()
    }

    /// Where the text so far stopped being valid JSON, if it did.
    ///
    /// `None` does not promise that [`finish`](Self::finish) succeeds: the
    /// text may be incomplete, or a top-level number may be out of range.
    /// When this is `Some`, `finish` fails.
    pub fn error(&self) -> Option<JsonSyntaxError> {
        self.error
    }

    /// Whether the text so far is one complete JSON value (possibly followed by
    /// whitespace), so that [`finish`](Self::finish) would succeed without
    /// parsing. Empty text is not complete (although `finish` gives `{}`).
    ///
    /// `O(1)`, except for a top-level number: `O(token length)`.
    pub fn is_complete(&self) -> bool {
        match self.state {
            State::Done => true,
            State::Number(num) => {
                self.frames.is_empty() && num.accepting() && parse_number(&self.number).is_some()
            }
            _ => false,
        }
    }

    /// Turns the text into the final value. Empty or whitespace-only text
    /// (JSON whitespace) is `{}`.
    ///
    /// When the text is a complete valid value this takes the preview, which
    /// equals `serde_json::from_str(raw)`, in `O(1)`. Otherwise the text is
    /// parsed by `serde_json` to report its error, which is returned with the
    /// raw text.
    pub fn finish(mut self) -> Result<Value, InvalidJson> {
        match self.state {
            State::Done => {
                if let Some(value) = self.root.take() {
                    return Ok(value);
                }
            }
            State::Number(num) if self.frames.is_empty() && num.accepting() => {
                if let Some(n) = parse_number(&self.number) {
                    return Ok(Value::Number(n));
                }
            }
            State::Value if self.frames.is_empty() && self.root.is_none() => {
                return Ok(Value::Object(Map::new()));
            }
            _ => {}
        }
        // Not valid as far as the state machine knows: let serde_json say why.
        // (If it ever accepted the text anyway, its value is the strict answer.)
        serde_json::from_str(&self.raw).map_err(|error| InvalidJson {
            raw: self.raw,
            error,
        })
    }

    fn fail(&mut self, offset: usize, reason: &'static str) {
        self.state = State::Failed;
        self.error = Some(JsonSyntaxError { offset, reason });
    }

    /// Runs the state machine over `fragment`, which starts at `base` in `raw`.
    fn scan(&mut self, fragment: &str, base: usize) {
        let bytes = fragment.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            #[cfg(test)]
            {
                self.stats.scanned += 1;
            }
            match self.state {
                State::Value => self.begin_value(b, base + i),
                State::ArrayFirst => {
                    if b == b']' {
                        self.close();
                    } else {
                        self.begin_value(b, base + i);
                    }
                }
                State::ObjectFirst | State::Key => {
                    if b == b'"' {
                        self.key.clear();
                        self.state = State::Str {
                            key: true,
                            escape: Escape::None,
                        };
                    } else if b == b'}' && self.state == State::ObjectFirst {
                        self.close();
                    } else if !is_ws(b) {
                        self.fail(base + i, "expected a string key");
                    }
                }
                State::Colon => {
                    if b == b':' {
                        self.state = State::Value;
                    } else if !is_ws(b) {
                        self.fail(base + i, "expected ':'");
                    }
                }
                State::AfterValue => self.after_value(b, base + i),
                State::Str { key, escape } => {
                    if escape == Escape::None && b != b'"' && b != b'\\' && b >= 0x20 {
                        // A run of plain text: up to the next quote, backslash
                        // or control character (all ASCII, so a char boundary).
                        let end = bytes[i..]
                            .iter()
                            .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
                            .map_or(bytes.len(), |p| i + p);
                        #[cfg(test)]
                        {
                            self.stats.scanned += end - i - 1;
                        }
                        // The run starts and ends at ASCII bytes or the ends of
                        // the fragment: char boundaries.
                        if let Some(text) = fragment.get(i..end) {
                            self.push_str(key, text);
                        }
                        i = end;
                        continue;
                    }
                    self.string_byte(key, escape, b, base + i);
                }
                State::Number(num) => {
                    if !self.number_byte(num, b, base + i) {
                        // `b` ended the number: read it again in the new state.
                        continue;
                    }
                }
                State::Literal { literal, matched } => {
                    let text = literal.text();
                    if text.get(usize::from(matched)) == Some(&b) {
                        if usize::from(matched) + 1 == text.len() {
                            self.put(literal.value(), false);
                        } else {
                            self.state = State::Literal {
                                literal,
                                matched: matched + 1,
                            };
                        }
                    } else {
                        self.fail(base + i, "invalid literal");
                    }
                }
                State::Done => {
                    if !is_ws(b) {
                        self.fail(base + i, "trailing characters after the value");
                    }
                }
                State::Failed => return,
            }
            i += 1;
        }
    }

    fn begin_value(&mut self, b: u8, offset: usize) {
        match b {
            b'{' | b'[' => {
                if self.frames.len() >= MAX_DEPTH {
                    self.fail(offset, "nesting deeper than 127 arrays and objects");
                    return;
                }
                let (value, state) = if b == b'{' {
                    (Value::Object(Map::new()), State::ObjectFirst)
                } else {
                    (Value::Array(Vec::new()), State::ArrayFirst)
                };
                self.open(value);
                self.state = state;
            }
            b'"' => {
                self.open(Value::String(String::new()));
                self.state = State::Str {
                    key: false,
                    escape: Escape::None,
                };
            }
            b'-' | b'0'..=b'9' => {
                self.number.clear();
                self.number.push(char::from(b));
                self.number_start = offset;
                self.number_shown = false;
                self.number_read_len = 0;
                self.number_accepted_len = usize::from(b != b'-');
                self.state = State::Number(match b {
                    b'-' => Num::Minus,
                    b'0' => Num::Zero,
                    _ => Num::Int,
                });
            }
            b't' | b'f' | b'n' => {
                let literal = match b {
                    b't' => Literal::True,
                    b'f' => Literal::False,
                    _ => Literal::Null,
                };
                self.state = State::Literal {
                    literal,
                    matched: 1,
                };
            }
            _ if is_ws(b) => {}
            _ => self.fail(offset, "expected a value"),
        }
    }

    fn after_value(&mut self, b: u8, offset: usize) {
        let in_array = matches!(
            self.frames.last(),
            Some(Frame {
                value: Value::Array(_),
                ..
            })
        );
        match b {
            b',' => {
                self.state = if in_array { State::Value } else { State::Key };
            }
            b']' if in_array => self.close(),
            b'}' if !in_array => self.close(),
            _ if is_ws(b) => {}
            _ if in_array => self.fail(offset, "expected ',' or ']'"),
            _ => self.fail(offset, "expected ',' or '}'"),
        }
    }

    /// One byte of a string that is not part of a plain run.
    fn string_byte(&mut self, key: bool, escape: Escape, b: u8, offset: usize) {
        let next = match escape {
            Escape::None => match b {
                b'"' => {
                    if key {
                        let name = mem::take(&mut self.key);
                        if let Some(frame) = self.frames.last_mut() {
                            frame.key = Some(name);
                        }
                        self.state = State::Colon;
                    } else {
                        self.close();
                    }
                    return;
                }
                b'\\' => Escape::Backslash,
                _ => {
                    return self.fail(offset, "control character in a string");
                }
            },
            Escape::Backslash => {
                let c = match b {
                    b'"' => '"',
                    b'\\' => '\\',
                    b'/' => '/',
                    b'b' => '\u{8}',
                    b'f' => '\u{c}',
                    b'n' => '\n',
                    b'r' => '\r',
                    b't' => '\t',
                    b'u' => {
                        self.state = State::Str {
                            key,
                            escape: Escape::Hex { code: 0, digits: 0 },
                        };
                        return;
                    }
                    _ => return self.fail(offset, "invalid escape"),
                };
                self.push_char(key, c);
                Escape::None
            }
            Escape::Hex { code, digits } => {
                let Some(d) = hex(b) else {
                    return self.fail(offset, "invalid \\u escape");
                };
                let code = code << 4 | d;
                if digits < 3 {
                    Escape::Hex {
                        code,
                        digits: digits + 1,
                    }
                } else if (0xD800..0xDC00).contains(&code) {
                    Escape::LowBackslash { high: code }
                } else if let Some(c) = char::from_u32(u32::from(code)) {
                    self.push_char(key, c);
                    Escape::None
                } else {
                    return self.fail(offset, "unpaired surrogate in \\u escape");
                }
            }
            Escape::LowBackslash { high } => {
                if b != b'\\' {
                    return self.fail(offset, "unpaired surrogate in \\u escape");
                }
                Escape::LowU { high }
            }
            Escape::LowU { high } => {
                if b != b'u' {
                    return self.fail(offset, "unpaired surrogate in \\u escape");
                }
                Escape::LowHex {
                    high,
                    code: 0,
                    digits: 0,
                }
            }
            Escape::LowHex { high, code, digits } => {
                let Some(d) = hex(b) else {
                    return self.fail(offset, "invalid \\u escape");
                };
                let code = code << 4 | d;
                if digits < 3 {
                    Escape::LowHex {
                        high,
                        code,
                        digits: digits + 1,
                    }
                } else if (0xDC00..0xE000).contains(&code) {
                    let scalar =
                        0x1_0000 + ((u32::from(high) - 0xD800) << 10) + (u32::from(code) - 0xDC00);
                    match char::from_u32(scalar) {
                        Some(c) => self.push_char(key, c),
                        None => return self.fail(offset, "unpaired surrogate in \\u escape"),
                    }
                    Escape::None
                } else {
                    return self.fail(offset, "unpaired surrogate in \\u escape");
                }
            }
        };
        self.state = State::Str { key, escape: next };
    }

    /// One byte in a number. Returns false when `b` is not part of it (the
    /// number is then complete, or the text invalid) and must be read again.
    fn number_byte(&mut self, num: Num, b: u8, offset: usize) -> bool {
        let next = match (num, b) {
            (Num::Minus, b'0') => Num::Zero,
            (Num::Minus, b'1'..=b'9') => Num::Int,
            (Num::Int, b'0'..=b'9') => Num::Int,
            (Num::Zero | Num::Int, b'.') => Num::Dot,
            (Num::Dot | Num::Frac, b'0'..=b'9') => Num::Frac,
            (Num::Zero | Num::Int | Num::Frac, b'e' | b'E') => Num::Exp,
            (Num::Exp, b'+' | b'-') => Num::ExpSign,
            (Num::Exp | Num::ExpSign | Num::ExpDigits, b'0'..=b'9') => Num::ExpDigits,
            _ if num.accepting() && !b.is_ascii_digit() => {
                // The number ends here.
                #[cfg(test)]
                {
                    self.stats.number_bytes += self.number.len();
                }
                match parse_number(&self.number) {
                    Some(n) => {
                        let shown = self.number_shown;
                        self.put(Value::Number(n), shown);
                        return false;
                    }
                    None => {
                        self.fail(self.number_start, "number out of range");
                        return true;
                    }
                }
            }
            _ => {
                // Show what was valid, as if the text had been pushed up to here.
                let len = self.number_accepted_len;
                if len != self.number_read_len {
                    self.show_number(len);
                }
                self.fail(offset, "invalid number");
                return true;
            }
        };
        self.number.push(char::from(b));
        if next.accepting() {
            self.number_accepted_len = self.number.len();
        }
        self.state = State::Number(next);
        true
    }

    /// Shows the first `len` bytes of the number token (a complete number)
    /// in the preview, if it is in range.
    fn show_number(&mut self, len: usize) {
        #[cfg(test)]
        {
            self.stats.number_bytes += len;
        }
        self.number_read_len = len;
        if let Some(n) = self.number.get(..len).and_then(parse_number) {
            let shown = self.number_shown;
            if let Some(slot) = self.slot(shown) {
                *slot = Value::Number(n);
                self.number_shown = true;
            }
        }
    }

    /// Appends decoded text to the key or to the open string.
    fn push_str(&mut self, key: bool, text: &str) {
        if key {
            self.key.push_str(text);
        } else if let Some(Frame {
            value: Value::String(s),
            ..
        }) = self.frames.last_mut()
        {
            s.push_str(text);
        }
    }

    fn push_char(&mut self, key: bool, c: char) {
        self.push_str(key, c.encode_utf8(&mut [0; 4]));
    }

    /// The preview slot of the value being read in the innermost open
    /// container, or the root at the top; `exists` says whether it was
    /// already created (otherwise a `Null` one is added).
    fn slot(&mut self, exists: bool) -> Option<&mut Value> {
        match self.frames.last_mut() {
            None => {
                if exists {
                    self.root.as_mut()
                } else {
                    Some(self.root.insert(Value::Null))
                }
            }
            Some(Frame {
                value: Value::Array(items),
                ..
            }) => {
                if !exists {
                    items.push(Value::Null);
                }
                items.last_mut()
            }
            Some(Frame {
                value: Value::Object(map),
                key: Some(key),
            }) => {
                if exists {
                    map.get_mut(key.as_str())
                } else {
                    let slot = map.entry(key.clone()).or_insert(Value::Null);
                    *slot = Value::Null;
                    Some(slot)
                }
            }
            Some(_) => None,
        }
    }

    /// Opens a string, array or object: a new frame, with a placeholder slot
    /// in its parent.
    fn open(&mut self, value: Value) {
        if !self.frames.is_empty() {
            // The slot is filled when the frames are attached.
            let _ = self.slot(false);
        }
        self.frames.push(Frame { value, key: None });
    }

    /// Closes the innermost open string, array or object.
    fn close(&mut self) {
        if let Some(frame) = self.frames.pop() {
            self.put(frame.value, !self.frames.is_empty());
        }
    }

    /// A complete value: stores it in its slot and moves past it.
    fn put(&mut self, value: Value, exists: bool) {
        if !exists
            && let Some(Frame {
                value: Value::Object(map),
                key,
            }) = self.frames.last_mut()
            && let Some(key) = key.take()
        {
            // A new member: the key moves into the map.
            map.insert(key, value);
            self.state = State::AfterValue;
            return;
        }
        if let Some(slot) = self.slot(exists) {
            *slot = value;
        }
        match self.frames.last_mut() {
            None => self.state = State::Done,
            Some(frame) => {
                frame.key = None;
                self.state = State::AfterValue;
            }
        }
    }

    /// Takes the open values out of the tree, so that the innermost can be
    /// changed without walking from the root. `O(depth)`.
    fn detach(&mut self) {
        let Some(first) = self.frames.first_mut() else {
            return;
        };
        first.value = self.root.take().unwrap_or_default();
        for i in 1..self.frames.len() {
            #[cfg(test)]
            {
                self.stats.walked += 1;
            }
            let (outer, inner) = self.frames.split_at_mut(i);
            if let (Some(parent), Some(child)) = (outer.last_mut(), inner.first_mut())
                && let Some(slot) = parent.open_slot()
            {
                child.value = mem::take(slot);
            }
        }
    }

    /// Puts the open values back into the tree. `O(depth)`.
    fn attach(&mut self) {
        for i in (1..self.frames.len()).rev() {
            #[cfg(test)]
            {
                self.stats.walked += 1;
            }
            let (outer, inner) = self.frames.split_at_mut(i);
            if let (Some(parent), Some(child)) = (outer.last_mut(), inner.first_mut())
                && let Some(slot) = parent.open_slot()
            {
                *slot = mem::take(&mut child.value);
            }
        }
        if let Some(first) = self.frames.first_mut() {
            self.root = Some(mem::take(&mut first.value));
        }
    }
}

impl Frame {
    /// The slot of the open child of this array or object.
    fn open_slot(&mut self) -> Option<&mut Value> {
        match (&mut self.value, &self.key) {
            (Value::Array(items), _) => items.last_mut(),
            (Value::Object(map), Some(key)) => map.get_mut(key.as_str()),
            _ => None,
        }
    }
}

/// Where and why the text stopped being valid JSON
/// ([`PartialJson::error`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonSyntaxError {
    offset: usize,
    reason: &'static str,
}

impl JsonSyntaxError {
    /// The byte offset in [`PartialJson::raw`] of the first byte that cannot
    /// be part of a JSON value (for a number out of range: the number's
    /// first byte).
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// What was wrong, for example `"expected ':'"`.
    pub fn reason(&self) -> &'static str {
        self.reason
    }
}

impl fmt::Display for JsonSyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.reason, self.offset)
    }
}

impl std::error::Error for JsonSyntaxError {}

/// The raw text did not parse as JSON at the end of the block.
///
/// Keeps the text ([`raw`](Self::raw), [`into_raw`](Self::into_raw)) and what
/// `serde_json` reported ([`error`](Self::error), also the
/// [`source`](std::error::Error::source)).
#[derive(Debug)]
pub struct InvalidJson {
    raw: String,
    error: serde_json::Error,
}

impl InvalidJson {
    /// All the text received.
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// Takes the raw text.
    pub fn into_raw(self) -> String {
        self.raw
    }

    /// What the strict parser reported.
    pub fn error(&self) -> &serde_json::Error {
        &self.error
    }
}

impl fmt::Display for InvalidJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid JSON ({} bytes), error at line {} column {}",
            self.raw.len(),
            self.error.line(),
            self.error.column()
        )
    }
}

impl std::error::Error for InvalidJson {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

#[cfg(test)]
mod tests;
