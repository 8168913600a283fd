//! Errors of the retry middleware.

use std::error::Error as StdError;
use std::fmt;

use crate::BoxError;

/// The final error of a retried request, with the number of attempts made.
///
/// `Display` shows the inner error; [`Attempted::attempts`] says how often it
/// was tried.
#[derive(Debug)]
pub(crate) struct Attempted {
    attempts: u32,
    source: BoxError,
}

impl Attempted {
    pub(crate) fn new(attempts: u32, source: BoxError) -> Attempted {
        Attempted { attempts, source }
    }

    /// How many attempts were made (1 + retries).
    pub(crate) fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The error of the last attempt.
    pub(crate) fn into_source(self) -> BoxError {
        self.source
    }
}

impl fmt::Display for Attempted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (after {} attempts)", self.source, self.attempts)
    }
}

impl StdError for Attempted {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&*self.source)
    }
}
