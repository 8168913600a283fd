//! The models the emulator knows, with their aliases.

use serde_json::{Value, json};

/// One known model: its id, display name, release time and aliases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Model {
    pub(crate) id: String,
    pub(crate) display_name: String,
    pub(crate) created_at: String,
    pub(crate) aliases: Vec<String>,
}

/// The built-in model table, newest first, as `GET /v1/models` lists them.
///
/// Kept in one place so the crate docs and the server agree.
pub(crate) const BUILTIN: &[(&str, &str, &str, &[&str])] = &[
    (
        "claude-opus-4-5-20251101",
        "Claude Opus 4.5",
        "2025-11-24T00:00:00Z",
        &["claude-opus-4-5"],
    ),
    (
        "claude-haiku-4-5-20251001",
        "Claude Haiku 4.5",
        "2025-10-15T00:00:00Z",
        &["claude-haiku-4-5"],
    ),
    (
        "claude-sonnet-4-5-20250929",
        "Claude Sonnet 4.5",
        "2025-09-29T00:00:00Z",
        &["claude-sonnet-4-5"],
    ),
    (
        "claude-opus-4-1-20250805",
        "Claude Opus 4.1",
        "2025-08-05T00:00:00Z",
        &["claude-opus-4-1"],
    ),
    (
        "claude-opus-4-20250514",
        "Claude Opus 4",
        "2025-05-22T00:00:00Z",
        &["claude-opus-4-0"],
    ),
    (
        "claude-sonnet-4-20250514",
        "Claude Sonnet 4",
        "2025-05-22T00:00:00Z",
        &["claude-sonnet-4-0"],
    ),
    (
        "claude-3-7-sonnet-20250219",
        "Claude Sonnet 3.7",
        "2025-02-24T00:00:00Z",
        &["claude-3-7-sonnet-latest"],
    ),
    (
        "claude-3-5-haiku-20241022",
        "Claude Haiku 3.5",
        "2024-10-22T00:00:00Z",
        &["claude-3-5-haiku-latest"],
    ),
    (
        "claude-3-haiku-20240307",
        "Claude Haiku 3",
        "2024-03-07T00:00:00Z",
        &[],
    ),
];

/// The default model table.
pub(crate) fn builtin() -> Vec<Model> {
    BUILTIN
        .iter()
        .map(|(id, name, created, aliases)| Model {
            id: (*id).to_owned(),
            display_name: (*name).to_owned(),
            created_at: (*created).to_owned(),
            aliases: aliases.iter().map(|a| (*a).to_owned()).collect(),
        })
        .collect()
}

/// Finds a model by id or alias.
pub(crate) fn find<'m>(models: &'m [Model], name: &str) -> Option<&'m Model> {
    models
        .iter()
        .find(|m| m.id == name || m.aliases.iter().any(|a| a == name))
}

impl Model {
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "type": "model",
            "id": self.id,
            "display_name": self.display_name,
            "created_at": self.created_at,
        })
    }
}
