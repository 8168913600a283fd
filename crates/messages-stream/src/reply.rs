//! The check that a reply is an event stream before it is parsed: a JSON
//! body is reported as the API error it holds, anything else as "not an
//! event stream" quoting its start.

use http::HeaderMap;

use crate::error::{Error, Kind};

/// The most bytes of a JSON reply read to report it as an API error.
const JSON_ERROR_LIMIT: usize = 64 * 1024;
/// The most bytes of another reply read to quote it.
const QUOTE_LIMIT: usize = 1024;
/// The longest quote of a reply that is not an event stream, in chars.
const QUOTE_CHARS: usize = 200;

/// A reply whose headers say it is not an event stream.
#[derive(Debug)]
pub(crate) struct BadReply {
    content_type: Option<String>,
    encoding: Option<String>,
    json: bool,
    pub(crate) start: Vec<u8>,
}

impl BadReply {
    /// Checks `content-type` (`text/event-stream`, or absent) and
    /// `content-encoding` (absent or identity).
    pub(crate) fn check(headers: &HeaderMap) -> Option<Box<BadReply>> {
        let text = |name: http::header::HeaderName| {
            headers
                .get(name)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_owned())
        };
        let content_type = text(http::header::CONTENT_TYPE);
        let encoding = text(http::header::CONTENT_ENCODING)
            .filter(|e| !e.is_empty() && !e.eq_ignore_ascii_case("identity"));
        let media = content_type.as_deref().map(|c| {
            c.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
        let sse = media.as_deref().is_none_or(|m| m == "text/event-stream");
        if sse && encoding.is_none() {
            return None;
        }
        let json = media
            .as_deref()
            .is_some_and(|m| m == "application/json" || m.ends_with("+json"));
        Some(Box::new(BadReply {
            content_type,
            encoding,
            json,
            start: Vec::new(),
        }))
    }

    /// How much of the body to read before reporting.
    pub(crate) fn wanted(&self) -> usize {
        match (&self.encoding, self.json) {
            (Some(_), _) => 0,
            (None, true) => JSON_ERROR_LIMIT,
            (None, false) => QUOTE_LIMIT,
        }
    }

    pub(crate) fn into_error(self) -> Error {
        if self.json
            && self.encoding.is_none()
            && let Ok(response) =
                serde_json::from_slice::<messages_types::error::ErrorResponse>(&self.start)
        {
            return Error::api_in_reply(response);
        }
        let mut detail = match &self.content_type {
            Some(c) => format!("content-type {c:?}"),
            None => "no content-type".to_owned(),
        };
        if let Some(e) = &self.encoding {
            detail.push_str(&format!(
                ", content-encoding {e:?} (a compressed body, which this client does not \
                 decode; a proxy may have added it)"
            ));
        } else {
            let text = String::from_utf8_lossy(&self.start);
            let mut quote: String = text
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .chars()
                .take(QUOTE_CHARS)
                .collect();
            if quote.chars().count() == QUOTE_CHARS {
                quote.push_str("...");
            }
            detail.push_str(&format!("; the body starts with {quote:?}"));
        }
        Error::new(Kind::NotEventStream, detail)
    }
}
