//! Incremental JSON for tool input that arrives in fragments.
//!
//! STUB: the interface is fixed; the implementation below is a placeholder.

use serde_json::Value;

/// A JSON value arriving in fragments (`input_json_delta.partial_json`).
#[derive(Debug, Default)]
pub struct PartialJson {
    raw: String,
}

/// The raw text did not parse as JSON at the end of the block.
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

impl PartialJson {
    /// An empty buffer.
    pub fn new() -> PartialJson {
        PartialJson::default()
    }
    /// Appends a fragment and updates the preview.
    pub fn push(&mut self, fragment: &str) {
        self.raw.push_str(fragment);
    }
    /// All text received so far.
    pub fn raw(&self) -> &str {
        &self.raw
    }
    /// The best-effort value of the text so far; `None` before a value began.
    pub fn preview(&self) -> Option<&Value> {
        None
    }
    /// Parses the whole text strictly. Empty text is `{}`.
    pub fn finish(self) -> Result<Value, InvalidJson> {
        if self.raw.trim().is_empty() {
            return Ok(Value::Object(Default::default()));
        }
        serde_json::from_str(&self.raw).map_err(|error| InvalidJson { raw: self.raw, error })
    }
}
