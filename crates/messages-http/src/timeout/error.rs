//! Errors of the timeout middleware.

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

/// The response headers did not arrive within the per-attempt timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Elapsed(pub(crate) Duration);

impl Elapsed {
    /// The timeout that elapsed.
    pub(crate) fn duration(&self) -> Duration {
        self.0
    }
}

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "no response headers within {:?}", self.0)
    }
}

impl StdError for Elapsed {}
