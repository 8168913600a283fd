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
//!
//! The module is split by concern: `lexer` is the state machine that reads
//! the JSON grammar byte by byte, `tree` keeps the preview (the open values
//! and their slots in the `serde_json::Value` tree), and `error` holds the
//! two public errors.

use serde_json::{Map, Value};

mod error;
mod lexer;
mod tree;

pub use self::error::{InvalidJson, JsonSyntaxError};
use self::lexer::{State, parse_number};
use self::tree::Frame;

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
}

#[cfg(test)]
mod tests;
