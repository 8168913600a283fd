//! The model table as data: ids, aliases, context windows, output limits,
//! deprecation and retirement dates.
//!
//! The built-in table is `data/models.json` in this crate (its `as_of` date
//! and `sources` say where each fact comes from). A user extends or replaces
//! it with their own file in the same format ([`ModelCatalog::from_json`]),
//! so a new model never needs a new release. The emulator serves the same
//! data, and clients use it to warn about deprecated models and refuse
//! retired ones before sending ([`ModelCatalog::check`], the one home of
//! that rule).
//!
//! The newest entries (Claude Opus 5.5, Sonnet 5.5 and Haiku 5.5) come from
//! their model pages on platform.claude.com (`/docs/en/models/haiku-5-5/overview`
//! and the Opus 5.5 and Sonnet 5.5 pages), as the `sources` of the file say.
//!
//! ```
//! use messages_types::catalog::{Lifecycle, ModelCatalog};
//!
//! let catalog = ModelCatalog::builtin();
//! let opus = catalog.find("claude-opus-4-6").unwrap();
//! assert_eq!(opus.max_output_tokens, 128_000);
//! assert_eq!(catalog.find("claude-haiku-5-5").unwrap().context_window, 1_000_000);
//! assert_eq!(catalog.find("claude-sonnet-4-5").unwrap().id, "claude-sonnet-4-5-20250929");
//! assert!(matches!(
//!     catalog.lifecycle("claude-sonnet-4-5", "2026-12-01"),
//!     Some(Lifecycle::Retired { .. })
//! ));
//! ```

use std::fmt;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// The built-in table, embedded at build time.
pub const BUILTIN_JSON: &str = include_str!("../data/models.json");

/// One model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ModelSpec {
    /// The canonical id, such as `claude-opus-4-5-20251101`.
    pub id: String,
    /// A human-readable name.
    #[serde(default)]
    pub display_name: String,
    /// When the model was released (RFC 3339).
    #[serde(default)]
    pub created_at: String,
    /// Other names that resolve to this model, such as `claude-opus-4-5`.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// The context window in tokens.
    #[serde(default)]
    pub context_window: u64,
    /// The largest `max_tokens` the model accepts.
    #[serde(default)]
    pub max_output_tokens: u64,
    /// Whether the model supports `thinking: {"type": "adaptive"}`.
    #[serde(default)]
    pub adaptive_thinking: bool,
    /// Whether the model is deprecated (still served, retiring).
    #[serde(default)]
    pub deprecated: bool,
    /// The date (`YYYY-MM-DD`, UTC) from which the model is no longer served.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retires_on: Option<String>,
}

impl ModelSpec {
    /// A model with these limits, its id as display name, no aliases, no
    /// adaptive thinking, not deprecated.
    pub fn new(id: impl Into<String>, context_window: u64, max_output_tokens: u64) -> ModelSpec {
        let id = id.into();
        ModelSpec {
            display_name: id.clone(),
            id,
            created_at: String::new(),
            aliases: Vec::new(),
            context_window,
            max_output_tokens,
            adaptive_thinking: false,
            deprecated: false,
            retires_on: None,
        }
    }
}

impl ModelSpec {
    /// Whether `name` is this model's id or one of its aliases.
    pub fn answers_to(&self, name: &str) -> bool {
        self.id == name || self.aliases.iter().any(|a| a == name)
    }
}

/// Where a model is in its life on a given day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lifecycle {
    /// Served, not deprecated.
    Active,
    /// Served, deprecated; `retires_on` when a date is known.
    Deprecated {
        /// The retirement date, if known.
        retires_on: Option<String>,
    },
    /// No longer served since `on`.
    Retired {
        /// The retirement date.
        on: String,
    },
}

/// A model table.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ModelCatalog {
    /// The date the table was last checked (`YYYY-MM-DD`).
    #[serde(default)]
    pub as_of: String,
    /// Where the facts come from.
    #[serde(default)]
    pub sources: Vec<String>,
    /// The models, newest first.
    pub models: Vec<ModelSpec>,
}

/// A models file that could not be read.
#[derive(Debug)]
pub struct CatalogError(serde_json::Error);

impl fmt::Display for CatalogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid models file: {}", self.0)
    }
}

impl std::error::Error for CatalogError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

impl ModelCatalog {
    /// The built-in table (`data/models.json`). Parses the embedded JSON:
    /// call once and keep the result.
    pub fn builtin() -> ModelCatalog {
        // The embedded file is checked by this crate's tests.
        ModelCatalog::from_json(BUILTIN_JSON).unwrap_or_default()
    }

    /// A table from a models file: `{"models": [...]}` (the built-in
    /// format) or a bare array of models.
    ///
    /// # Errors
    ///
    /// The JSON error, with its line and column.
    pub fn from_json(json: &str) -> Result<ModelCatalog, CatalogError> {
        let value: serde_json::Value = serde_json::from_str(json).map_err(CatalogError)?;
        if value.is_array() {
            let models = serde_json::from_value(value).map_err(CatalogError)?;
            return Ok(ModelCatalog {
                models,
                ..ModelCatalog::default()
            });
        }
        serde_json::from_value(value).map_err(CatalogError)
    }

    /// Adds the models of `other`; a model with an id already present
    /// replaces it.
    pub fn extend(&mut self, other: ModelCatalog) {
        for m in other.models {
            match self.models.iter_mut().find(|x| x.id == m.id) {
                Some(slot) => *slot = m,
                None => self.models.push(m),
            }
        }
    }

    /// The model `name` (an id or alias) names.
    pub fn find(&self, name: &str) -> Option<&ModelSpec> {
        self.models.iter().find(|m| m.answers_to(name))
    }

    /// The built-in table ([`builtin`](ModelCatalog::builtin)), parsed once
    /// per process on first use and shared after that.
    pub fn shared() -> &'static ModelCatalog {
        static SHARED: OnceLock<ModelCatalog> = OnceLock::new();
        SHARED.get_or_init(ModelCatalog::builtin)
    }

    /// The check made before a request naming model `name` is sent on
    /// `today` (`YYYY-MM-DD`), the one rule every client path applies: a
    /// retired model is refused ([`RetiredModel`], whose message gives the
    /// retirement date); otherwise its [`Lifecycle`], where
    /// [`Lifecycle::Deprecated`] is for the caller to warn about. A model
    /// not in the table is [`Lifecycle::Active`]: it is sent as it is.
    ///
    /// ```
    /// use messages_types::catalog::{Lifecycle, ModelCatalog};
    ///
    /// let catalog = ModelCatalog::from_json(
    ///     r#"[{"id": "old", "context_window": 1, "max_output_tokens": 1, "retires_on": "2026-01-05"}]"#,
    /// )?;
    /// assert!(matches!(catalog.check("old", "2026-01-01"), Ok(Lifecycle::Deprecated { .. })));
    /// let err = catalog.check("old", "2026-01-05").unwrap_err();
    /// assert!(err.to_string().contains("retired on 2026-01-05"));
    /// assert_eq!(catalog.check("unknown", "2026-01-05"), Ok(Lifecycle::Active));
    /// # Ok::<(), messages_types::catalog::CatalogError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// The model is retired on `today`.
    pub fn check(&self, name: &str, today: &str) -> Result<Lifecycle, RetiredModel> {
        match self.lifecycle(name, today) {
            Some(Lifecycle::Retired { on }) => Err(RetiredModel {
                model: name.to_owned(),
                on,
            }),
            Some(lifecycle) => Ok(lifecycle),
            None => Ok(Lifecycle::Active),
        }
    }

    /// The lifecycle of model `name` on `today` (`YYYY-MM-DD`); `None` for
    /// a model not in the table.
    pub fn lifecycle(&self, name: &str, today: &str) -> Option<Lifecycle> {
        let m = self.find(name)?;
        Some(match &m.retires_on {
            Some(on) if today >= on.as_str() => Lifecycle::Retired { on: on.clone() },
            retires_on if m.deprecated || retires_on.is_some() => Lifecycle::Deprecated {
                retires_on: retires_on.clone(),
            },
            _ => Lifecycle::Active,
        })
    }
}

/// A retired model, refused before a request naming it is sent (see
/// [`ModelCatalog::check`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetiredModel {
    model: String,
    on: String,
}

impl RetiredModel {
    /// The model as the request named it.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// The retirement date (`YYYY-MM-DD`).
    pub fn retired_on(&self) -> &str {
        &self.on
    }
}

impl fmt::Display for RetiredModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "model `{}` was retired on {} and is no longer served; choose a current model",
            self.model, self.on
        )
    }
}

impl std::error::Error for RetiredModel {}

/// Today's date in UTC, `YYYY-MM-DD`, from the system clock.
pub fn today_utc() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    civil_date(secs / 86_400)
}

/// The `YYYY-MM-DD` date of a day count since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
pub fn civil_date(days: u64) -> String {
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}
