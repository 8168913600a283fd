//! The checks made before a job's requests are sent: the API version's
//! rules and retired models (the checks `messages_stream::preflight` makes
//! for one request, without its deprecation warning: this crate does not
//! log).

use std::sync::OnceLock;

use messages_types::catalog::{Lifecycle, ModelCatalog, today_utc};
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
    match catalog().lifecycle(&params.model, today) {
        Some(Lifecycle::Retired { on }) => Some(format!(
            "model `{}` was retired on {on} and is no longer served; choose a current model",
            params.model
        )),
        _ => None,
    }
}

/// Today's date (UTC), once per call site that checks many requests.
pub(crate) fn today() -> String {
    today_utc()
}

fn catalog() -> &'static ModelCatalog {
    static CATALOG: OnceLock<ModelCatalog> = OnceLock::new();
    CATALOG.get_or_init(ModelCatalog::builtin)
}
