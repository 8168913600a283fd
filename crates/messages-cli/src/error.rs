//! One error type for every command: a one-line message and an exit code.

use std::fmt::Display;

/// Exit code: API or transport error.
pub(crate) const EXIT_API: u8 = 1;
/// Exit code: usage or input error.
pub(crate) const EXIT_INPUT: u8 = 2;
/// Exit code: a stream or input ended early.
pub(crate) const EXIT_TRUNCATED: u8 = 3;
/// Exit code: a job finished, but not every request succeeded.
pub(crate) const EXIT_UNSUCCESSFUL: u8 = 4;
/// Exit code: interrupted.
pub(crate) const EXIT_INTERRUPTED: u8 = 130;

/// What a command failed with.
#[derive(Debug)]
pub(crate) struct CliError {
    /// One line (empty: already reported).
    pub(crate) message: String,
    /// The process exit code.
    pub(crate) code: u8,
}

impl CliError {
    pub(crate) fn new(code: u8, message: impl Into<String>) -> CliError {
        CliError {
            message: one_line(&message.into()),
            code,
        }
    }

    /// A usage or input error.
    pub(crate) fn input(message: impl Into<String>) -> CliError {
        CliError::new(EXIT_INPUT, message)
    }

    /// Anything else that went wrong (code 1).
    pub(crate) fn other(message: impl Into<String>) -> CliError {
        CliError::new(EXIT_API, message)
    }
}

/// Joins lines so that every error is one line on stderr.
pub(crate) fn one_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, line) in s
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        if i > 0 {
            out.push_str("; ");
        }
        out.push_str(line);
    }
    out
}

/// `message`, with the request id appended unless it is already in it.
pub(crate) fn with_request_id(message: impl Display, request_id: Option<&str>) -> String {
    let message = message.to_string();
    match request_id {
        Some(id) if !message.contains(id) => format!("{message} (request id {id})"),
        _ => message,
    }
}

/// An error and its causes on one line, each once (as anyhow's `{:#}`).
pub(crate) fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut line = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !text.is_empty() && !line.ends_with(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        source = s.source();
    }
    line
}

impl From<messages::Error> for CliError {
    fn from(e: messages::Error) -> CliError {
        let code = if e.is_invalid_request() {
            EXIT_INPUT
        } else if e.is_incomplete() {
            EXIT_TRUNCATED
        } else {
            EXIT_API
        };
        CliError::new(code, with_request_id(chain(&e), e.request_id()))
    }
}

impl From<messages::http::Error> for CliError {
    fn from(e: messages::http::Error) -> CliError {
        let code = if e.is_builder() { EXIT_INPUT } else { EXIT_API };
        CliError::new(code, with_request_id(chain(&e), e.request_id()))
    }
}

impl From<messages::stream::Error> for CliError {
    fn from(e: messages::stream::Error) -> CliError {
        let code = if e.is_incomplete() {
            EXIT_TRUNCATED
        } else if e.http().is_some_and(|h| h.is_builder()) {
            EXIT_INPUT
        } else {
            EXIT_API
        };
        CliError::new(code, with_request_id(chain(&e), e.request_id()))
    }
}

impl From<messages::batch::Error> for CliError {
    fn from(e: messages::batch::Error) -> CliError {
        let code = if e.is_invalid_input() || e.is_changed() || (e.is_io() && !e.is_checkpoint()) {
            EXIT_INPUT
        } else if e.is_truncated() {
            EXIT_TRUNCATED
        } else if e.http().is_some_and(|h| h.is_builder()) {
            EXIT_INPUT
        } else {
            EXIT_API
        };
        let id = e.http().and_then(|h| h.request_id());
        CliError::new(code, with_request_id(chain(&e), id))
    }
}

impl CliError {
    /// Puts `prefix` before the message.
    pub(crate) fn prefixed(mut self, prefix: &str) -> CliError {
        self.message.insert_str(0, prefix);
        self
    }
}

/// Exit 4 unless every request of a finished job succeeded.
pub(crate) fn check_all_succeeded(
    summary: &messages::batch::Summary,
    where_: &str,
) -> Result<(), CliError> {
    let total = summary.total();
    if summary.succeeded == total {
        return Ok(());
    }
    Err(CliError::new(
        EXIT_UNSUCCESSFUL,
        format!(
            "{} of {total} requests did not succeed ({} errored, {} canceled, {} expired); the results are in {where_}",
            total - summary.succeeded,
            summary.errored_total(),
            summary.canceled,
            summary.expired
        ),
    ))
}
