//! The preview tree: the open strings, arrays and objects (`Frame`s) and
//! their slots in the `serde_json::Value` tree that `PartialJson::preview`
//! shows.
//!
//! The lexer (`super::lexer`) calls in here when a value opens, grows or
//! closes; `detach` and `attach` take the open values out of the tree for
//! the length of one push and put them back.

use std::mem;

use serde_json::Value;

use super::PartialJson;
use super::lexer::{State, parse_number};

/// An open string, array or object.
#[derive(Debug)]
pub(super) struct Frame {
    /// `Value::String`, `Value::Array` or `Value::Object`.
    pub(super) value: Value,
    /// For an object: the key of the member being read, from the key's closing
    /// quote until its value is complete.
    pub(super) key: Option<String>,
}

impl PartialJson {
    /// Shows the first `len` bytes of the number token (a complete number)
    /// in the preview, if it is in range.
    pub(super) fn show_number(&mut self, len: usize) {
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
    pub(super) fn push_str(&mut self, key: bool, text: &str) {
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

    pub(super) fn push_char(&mut self, key: bool, c: char) {
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
    pub(super) fn open(&mut self, value: Value) {
        if !self.frames.is_empty() {
            // The slot is filled when the frames are attached.
            let _ = self.slot(false);
        }
        self.frames.push(Frame { value, key: None });
    }

    /// Closes the innermost open string, array or object.
    pub(super) fn close(&mut self) {
        if let Some(frame) = self.frames.pop() {
            self.put(frame.value, !self.frames.is_empty());
        }
    }

    /// A complete value: stores it in its slot and moves past it.
    pub(super) fn put(&mut self, value: Value, exists: bool) {
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
    pub(super) fn detach(&mut self) {
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
    pub(super) fn attach(&mut self) {
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
