//! The checks made before a job's requests are sent: the API version's
//! rules and retired models (the checks `messages_stream::preflight` makes
//! for one request, without its deprecation warning: this crate does not
//! log). The model rule itself is `ModelCatalog::check`, shared with
//! messages-stream.

use messages_types::catalog::{ModelCatalog, today_utc};
use messages_types::{ApiVersion, MessageRequest};

/// Why `params` must not be sent under `anthropic_version`, if it must not:
/// a field the version rejects, or a model retired on `today`
/// (`YYYY-MM-DD`).
pub(crate) fn refusal(
    params: &MessageRequest,
    anthropic_version: &str,
    today: &str,
) -> Option<String> {
    if let Some(version) = ApiVersion::parse(anthropic_version)
        && let Err(e) = params.check_version(version)
    {
        return Some(e.to_string());
    }
    ModelCatalog::shared()
        .check(&params.model, today)
        .err()
        .map(|retired| retired.to_string())
}

/// Today's date (UTC), once per call site that checks many requests.
pub(crate) fn today() -> String {
    today_utc()
}
