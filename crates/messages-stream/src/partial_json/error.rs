//! The two public errors: where the text stopped being valid JSON
//! (`JsonSyntaxError`) and the strict parser's verdict at the end
//! (`InvalidJson`).

use std::fmt;

#[cfg(doc)]
use super::PartialJson;

/// Where and why the text stopped being valid JSON
/// ([`PartialJson::error`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonSyntaxError {
    pub(super) offset: usize,
    pub(super) reason: &'static str,
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
    pub(super) raw: String,
    pub(super) error: serde_json::Error,
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
