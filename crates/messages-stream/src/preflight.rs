//! The checks made before a Messages request is sent, on every path that
//! sends one through this workspace's transport.
//!
//! [`MessageStream::open`](crate::MessageStream::open) applies
//! [`preflight`]; the umbrella crate's `create`, `stream` and `count_tokens`
//! apply it (or [`preflight_count_tokens`]) too, so calling the stream
//! directly checks as much as going through the umbrella `Client`.
//!
//! Not covered, on purpose: [`MessageStream::resumable`] and
//! [`MessageStream::from_source`] read a response the caller already sent
//! with another client (nothing is left to check before sending). The
//! batch facade (`BatchJob::submit`) and its local runner sit beside this
//! crate, not above it: they make the same version and retired-model checks
//! with the same rule ([`ModelCatalog::check`], next to the model table in
//! messages-types), without the deprecation warning.
//!
//! [`MessageStream::resumable`]: crate::MessageStream::resumable
//! [`MessageStream::from_source`]: crate::MessageStream::from_source

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};

use http::HeaderMap;
use messages_http::RequestOptions;
use messages_types::catalog::{Lifecycle, ModelCatalog, today_utc};
use messages_types::{ApiVersion, CountTokensRequest, MessageRequest};

/// Checks a Messages request before it is sent under the API version
/// `anthropic_version` (the value of the `anthropic-version` header):
///
/// - a field that version does not accept (see
///   [`MessageRequest::check_version`]) is a
///   [builder](messages_http::Error::is_builder) error naming the field and
///   the version;
/// - a model of the model table ([`ModelCatalog::builtin`]) that is retired
///   on today's date (UTC) is refused with its retirement date;
/// - a deprecated model gets one `tracing` warning per process and model.
///
/// A version or a model the table does not know is sent as it is. The
/// check reads the request only (no I/O, no allocation on success beyond
/// the first warning of a deprecated model).
///
/// ```
/// use messages_stream::preflight;
/// use messages_types::MessageRequest;
///
/// let hot = MessageRequest::new("claude-opus-4-6", 20).user("hi").temperature(1.0);
/// let err = preflight(&hot, "2026-10-21").unwrap_err();
/// assert!(err.is_builder() && err.to_string().contains("temperature"));
/// assert!(preflight(&hot, "2023-06-01").is_ok());
/// ```
///
/// # Errors
///
/// As above; nothing was sent.
pub fn preflight(request: &MessageRequest, anthropic_version: &str) -> messages_http::Result<()> {
    if let Some(version) = ApiVersion::parse(anthropic_version) {
        request.check_version(version)?;
    }
    check_model(&request.model)
}

/// [`preflight`] for a token counting request: the same version rules (see
/// [`CountTokensRequest::check_version`]) and the same model checks.
///
/// # Errors
///
/// As [`preflight`]; nothing was sent.
pub fn preflight_count_tokens(
    request: &CountTokensRequest,
    anthropic_version: &str,
) -> messages_http::Result<()> {
    if let Some(version) = ApiVersion::parse(anthropic_version) {
        request.check_version(version)?;
    }
    check_model(&request.model)
}

/// The `anthropic-version` a request will be sent with: a per-request
/// header (from `headers`, then `options`) overrides the transport's.
pub(crate) fn version_for<'a>(
    transport_version: &'a str,
    options: &'a RequestOptions,
    headers: &'a HeaderMap,
) -> &'a str {
    headers
        .get("anthropic-version")
        .or_else(|| options.headers().get("anthropic-version"))
        .and_then(|v| v.to_str().ok())
        .unwrap_or(transport_version)
}

fn check_model(model: &str) -> messages_http::Result<()> {
    match ModelCatalog::shared().check(model, &today_utc()) {
        Err(retired) => Err(messages_http::Error::client_side(retired.to_string())),
        Ok(Lifecycle::Deprecated { retires_on }) => {
            warn_deprecated(model, retires_on);
            Ok(())
        }
        Ok(_) => Ok(()),
    }
}

/// Warns once per process and model that `model` is deprecated.
fn warn_deprecated(model: &str, retires_on: Option<String>) {
    static WARNED: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    let warned = WARNED.get_or_init(Mutex::default);
    let first = warned
        .lock()
        .map(|mut w| w.insert(model.to_owned()))
        .unwrap_or(false);
    if first {
        match retires_on {
            Some(on) => {
                tracing::warn!(model, retires_on = %on, "the model is deprecated and retires on {on}")
            }
            None => tracing::warn!(model, "the model is deprecated"),
        }
    }
}
