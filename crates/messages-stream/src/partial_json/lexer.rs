//! The state machine that reads the JSON grammar, one byte at a time.
//!
//! It runs over each pushed fragment once (`PartialJson::scan`), tracks where
//! it is in a string, number or literal, and tells the tree (`super::tree`)
//! when a value opens, grows or closes.

use std::mem;

use serde_json::{Map, Number, Value};

use super::tree::Frame;
use super::{JsonSyntaxError, PartialJson};

/// `serde_json`'s default recursion limit: it refuses the 128th nested
/// array or object.
pub(super) const MAX_DEPTH: usize = 127;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) enum State {
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
pub(super) enum Escape {
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
pub(super) enum Num {
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
    pub(super) fn accepting(self) -> bool {
        matches!(self, Num::Zero | Num::Int | Num::Frac | Num::ExpDigits)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Literal {
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

pub(super) fn is_ws(b: u8) -> bool {
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
pub(super) fn parse_number(token: &str) -> Option<Number> {
    token.parse::<Number>().ok()
}

impl PartialJson {
    fn fail(&mut self, offset: usize, reason: &'static str) {
        self.state = State::Failed;
        self.error = Some(JsonSyntaxError { offset, reason });
    }

    /// Runs the state machine over `fragment`, which starts at `base` in `raw`.
    pub(super) fn scan(&mut self, fragment: &str, base: usize) {
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
}
