//! The models the emulator knows: the model table of `messages-types`
//! (`data/models.json`, a data file with aliases, context windows, output
//! limits and deprecation and retirement dates), plus any the user adds with
//! `--model ID` or a models file.

use messages_types::catalog::{ModelCatalog, ModelSpec};

use crate::wire::ModelInfo;

/// One known model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Model {
    pub(crate) id: String,
    pub(crate) display_name: String,
    pub(crate) created_at: String,
    pub(crate) aliases: Vec<String>,
    /// The largest `max_tokens` accepted.
    pub(crate) max_output_tokens: u64,
    /// The context window in tokens.
    pub(crate) context_window: u64,
    /// Whether `thinking: {"type": "adaptive"}` is accepted.
    pub(crate) adaptive_thinking: bool,
    /// The date from which the model is refused (`YYYY-MM-DD`).
    pub(crate) retires_on: Option<String>,
}

/// The largest `max_tokens` of a model added by id only.
const DEFAULT_MAX_OUTPUT: u64 = 128_000;
/// The context window of a model added by id only.
const DEFAULT_CONTEXT: u64 = 1_000_000;

impl From<ModelSpec> for Model {
    fn from(m: ModelSpec) -> Model {
        Model {
            display_name: if m.display_name.is_empty() {
                m.id.clone()
            } else {
                m.display_name
            },
            created_at: if m.created_at.is_empty() {
                "2026-01-01T00:00:00Z".to_owned()
            } else {
                m.created_at
            },
            id: m.id,
            aliases: m.aliases,
            max_output_tokens: if m.max_output_tokens == 0 {
                DEFAULT_MAX_OUTPUT
            } else {
                m.max_output_tokens
            },
            context_window: if m.context_window == 0 {
                DEFAULT_CONTEXT
            } else {
                m.context_window
            },
            adaptive_thinking: m.adaptive_thinking,
            retires_on: m.retires_on,
        }
    }
}

impl Model {
    /// A model added by id only (`--model ID`): current limits, adaptive
    /// thinking, never retired.
    pub(crate) fn named(id: &str) -> Model {
        Model {
            id: id.to_owned(),
            display_name: id.to_owned(),
            created_at: "2026-01-01T00:00:00Z".to_owned(),
            aliases: Vec::new(),
            max_output_tokens: DEFAULT_MAX_OUTPUT,
            context_window: DEFAULT_CONTEXT,
            adaptive_thinking: true,
            retires_on: None,
        }
    }

    /// The model as `GET /v1/models` lists it.
    pub(crate) fn info(&self) -> ModelInfo<'_> {
        ModelInfo {
            id: &self.id,
            display_name: &self.display_name,
            created_at: &self.created_at,
            max_input_tokens: self.context_window,
            max_tokens: self.max_output_tokens,
        }
    }
}

/// The built-in model table, newest first, as `GET /v1/models` lists them.
pub(crate) fn builtin() -> Vec<Model> {
    ModelCatalog::builtin()
        .models
        .into_iter()
        .map(Model::from)
        .collect()
}

/// Adds `more` to `table`; a model with an id already present replaces it.
pub(crate) fn extend(table: &mut Vec<Model>, more: impl IntoIterator<Item = Model>) {
    for m in more {
        match table.iter_mut().find(|x| x.id == m.id) {
            Some(slot) => *slot = m,
            None => table.push(m),
        }
    }
}

/// Finds a model by id or alias.
pub(crate) fn find<'m>(models: &'m [Model], name: &str) -> Option<&'m Model> {
    models
        .iter()
        .find(|m| m.id == name || m.aliases.iter().any(|a| a == name))
}
