//! [`Summary`] of a job's results and the price table behind its cost
//! estimate.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt;
use std::sync::OnceLock;

use messages_types::{BatchResult, BatchResultLine, Usage};
use serde::{Deserialize, Serialize};

/// The built-in price table (`data/prices.json` in this crate), embedded at
/// build time. Its `as_of` date and `sources` say where each price comes
/// from; models it does not price get no estimate.
///
/// The newest models are priced from Anthropic's own pages only: Opus 5,
/// Opus 4.8 and Opus 4.7 from the "Model pricing" table of
/// <https://platform.claude.com/docs/en/about-claude/pricing>, Sonnet 5 from
/// <https://platform.claude.com/docs/en/models/sonnet-5/overview> (read on
/// 2026-11-30; third-party reports that disagreed were not used). Newer
/// minor versions the table does not list (Opus 5.5, Sonnet 5.5, ...) stay
/// "cost unknown"; see [`PriceTable::price_of`].
pub const PRICES_JSON: &str = include_str!("../data/prices.json");

/// The discount of the Message Batches API: half the standard price.
pub const BATCH_DISCOUNT: f64 = 0.5;

/// Standard prices of one model family, in US dollars per million tokens.
///
/// Cache writes cost 1.25x the input price for a 5 minute time to live and
/// 2x for 1 hour; cache reads 0.1x. Long-context surcharges are not
/// modelled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ModelPrice {
    /// The model id prefix this price applies to, such as
    /// `"claude-sonnet-4-6"`; it matches the id itself and ids continuing
    /// with `-` (dated ids).
    pub prefix: String,
    /// Input tokens.
    pub input: f64,
    /// Output tokens.
    pub output: f64,
}

/// A dated price table: data, not code.
///
/// [`PriceTable::builtin`] is this crate's `data/prices.json`; a user
/// replaces it with their own file in the same format
/// ([`PriceTable::from_json`], [`PriceTable::load`], `msgs --prices FILE`)
/// and makes it the process default with [`PriceTable::install`].
///
/// ```
/// use messages_batch::PriceTable;
///
/// let t = PriceTable::from_json(r#"{"as_of": "2027-01-01", "prices": [{"prefix": "claude-x", "input": 1.0, "output": 2.0}]}"#).unwrap();
/// assert_eq!(t.as_of, "2027-01-01");
/// assert_eq!(t.price_of("claude-x-20270101").unwrap().output, 2.0);
/// assert!(t.price_of("claude-y").is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PriceTable {
    /// The date the prices were checked (`YYYY-MM-DD`).
    #[serde(default)]
    pub as_of: String,
    /// Where the prices come from.
    #[serde(default)]
    pub sources: Vec<String>,
    /// The prices, most specific prefix first.
    pub prices: Vec<ModelPrice>,
}

/// A prices file that could not be read or parsed.
#[derive(Debug)]
pub struct PriceTableError(String);

impl fmt::Display for PriceTableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PriceTableError {}

static DEFAULT_PRICES: OnceLock<PriceTable> = OnceLock::new();

impl ModelPrice {
    /// The price of models whose id is `prefix` or continues it with `-`,
    /// in dollars per million input and output tokens.
    pub fn new(prefix: impl Into<String>, input: f64, output: f64) -> ModelPrice {
        ModelPrice {
            prefix: prefix.into(),
            input,
            output,
        }
    }
}

impl PriceTable {
    /// A table checked on `as_of` (`YYYY-MM-DD`) with these prices, most
    /// specific prefix first, and no sources.
    pub fn new(as_of: impl Into<String>, prices: Vec<ModelPrice>) -> PriceTable {
        PriceTable {
            as_of: as_of.into(),
            sources: Vec::new(),
            prices,
        }
    }

    /// The built-in table (parsed once per call; [`PriceTable::current`]
    /// keeps one).
    pub fn builtin() -> PriceTable {
        // The embedded file is checked by this crate's tests.
        PriceTable::from_json(PRICES_JSON).unwrap_or_default()
    }

    /// A table from the JSON of a prices file.
    ///
    /// # Errors
    ///
    /// The JSON error with its line and column, or a negative price.
    pub fn from_json(json: &str) -> Result<PriceTable, PriceTableError> {
        let t: PriceTable = serde_json::from_str(json)
            .map_err(|e| PriceTableError(format!("invalid prices file: {e}")))?;
        if let Some(p) = t
            .prices
            .iter()
            .find(|p| !(p.input >= 0.0 && p.output >= 0.0))
        {
            return Err(PriceTableError(format!(
                "invalid prices file: the price of `{}` is not a non-negative number",
                p.prefix
            )));
        }
        Ok(t)
    }

    /// A table from a prices file.
    ///
    /// # Errors
    ///
    /// The file cannot be read, or see [`PriceTable::from_json`]; the
    /// message names the path.
    pub fn load(path: impl AsRef<std::path::Path>) -> Result<PriceTable, PriceTableError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|e| PriceTableError(format!("cannot read {}: {e}", path.display())))?;
        PriceTable::from_json(&text)
            .map_err(|e| PriceTableError(format!("{}: {e}", path.display())))
    }

    /// Makes this table the process default used by [`price_of`],
    /// [`cost_of`] and [`Summary`]; gives it back when a default was already
    /// set or used (set it once, at start-up).
    pub fn install(self) -> Result<(), PriceTable> {
        DEFAULT_PRICES.set(self)
    }

    /// The process default: the installed table, else the built-in one.
    pub fn current() -> &'static PriceTable {
        DEFAULT_PRICES.get_or_init(PriceTable::builtin)
    }

    /// The price entry for a model id, if the table has one.
    ///
    /// A prefix matches the id itself and the id continued by `-` and a
    /// suffix such as a date (`claude-opus-4-1` prices
    /// `claude-opus-4-1-20250805`), but never by a short number, which is a
    /// newer minor version with prices of its own: `claude-opus-5` does not
    /// price `claude-opus-5-5`, which gets no estimate until the table names
    /// it.
    pub fn price_of(&self, model: &str) -> Option<&ModelPrice> {
        self.prices.iter().find(|p| {
            model
                .strip_prefix(p.prefix.as_str())
                .is_some_and(|rest| rest.is_empty() || is_suffix_of_same_model(rest))
        })
    }

    /// The standard (undiscounted) cost in US dollars of one response's
    /// usage, or `None` for a model the table does not price.
    pub fn cost_of(&self, model: &str, usage: &Usage) -> Option<f64> {
        let p = self.price_of(model)?;
        let input = usage.input_tokens.unwrap_or(0) as f64;
        let (write_5m, write_1h) = match &usage.cache_creation {
            Some(c) => (
                c.ephemeral_5m_input_tokens as f64,
                c.ephemeral_1h_input_tokens as f64,
            ),
            None => (usage.cache_creation_input_tokens.unwrap_or(0) as f64, 0.0),
        };
        let read = usage.cache_read_input_tokens.unwrap_or(0) as f64;
        let input_cost = p.input * (input + 1.25 * write_5m + 2.0 * write_1h + 0.1 * read);
        Some((input_cost + p.output * usage.output_tokens as f64) / 1_000_000.0)
    }
}

/// Whether `rest` (what follows a price prefix in a model id) names the
/// same model: `-20250805` or `-latest` do, `-5` or `-5-20270101` (a minor
/// version, one or two digits) do not.
fn is_suffix_of_same_model(rest: &str) -> bool {
    let Some(rest) = rest.strip_prefix('-') else {
        return false;
    };
    let segment = rest.split('-').next().unwrap_or("");
    let minor_version =
        !segment.is_empty() && segment.len() <= 2 && segment.bytes().all(|b| b.is_ascii_digit());
    !minor_version
}

/// The price entry for a model id in the [current](PriceTable::current)
/// table.
///
/// ```
/// use messages_batch::price_of;
///
/// assert_eq!(price_of("claude-sonnet-4-6").unwrap().input, 3.0);
/// assert_eq!(price_of("claude-opus-4-5").unwrap().output, 25.0);
/// assert_eq!(price_of("claude-opus-4-1-20250805").unwrap().output, 75.0);
/// assert!(price_of("claude-future-9").is_none());
/// ```
pub fn price_of(model: &str) -> Option<&'static ModelPrice> {
    PriceTable::current().price_of(model)
}

/// The standard (undiscounted) cost in US dollars of one response's usage in
/// the [current](PriceTable::current) table, or `None` for a model it does
/// not price.
pub fn cost_of(model: &str, usage: &Usage) -> Option<f64> {
    PriceTable::current().cost_of(model, usage)
}

/// What happened to a job: counts by outcome, errors by type, token usage
/// and an estimated cost.
///
/// Build one with [`Summary::batch`] or [`Summary::local`] and
/// [`Summary::add`] each result (jobs and the local runner do this for you).
///
/// # Examples
///
/// ```
/// use messages_batch::Summary;
/// use messages_types::BatchResultLine;
///
/// let line: BatchResultLine = serde_json::from_str(r#"{"custom_id":"a","result":{"type":"succeeded","message":
///   {"id":"msg_1","type":"message","role":"assistant","model":"claude-haiku-4-5","content":[],
///    "stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":1000000,"output_tokens":200000}}}}"#).unwrap();
/// let mut s = Summary::batch();
/// s.add(&line);
/// assert_eq!(s.succeeded, 1);
/// // $1 input + $1 output at standard prices, halved for batches.
/// assert_eq!(s.estimated_cost_usd(), Some(1.0));
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct Summary {
    /// Results of type `succeeded`.
    pub succeeded: u64,
    /// Results of type `errored`, by error type (`invalid_request_error`...).
    pub errored: BTreeMap<String, u64>,
    /// Results of type `canceled`.
    pub canceled: u64,
    /// Results of type `expired`.
    pub expired: u64,
    /// Results of a type this version does not know.
    pub unknown: u64,
    /// Token usage of the succeeded results.
    pub usage: Usage,
    /// Succeeded results per model.
    pub models: BTreeMap<String, u64>,
    discount: f64,
    cost: f64,
    unpriced: BTreeSet<String>,
    /// Results whose `custom_id` was already counted (counted once only).
    pub duplicates: u64,
    first_duplicate: Option<String>,
    seen: HashSet<String>,
}

impl Summary {
    /// An empty summary priced at the Batches API's 50% discount.
    pub fn batch() -> Summary {
        Summary {
            discount: BATCH_DISCOUNT,
            ..Summary::default()
        }
    }

    /// An empty summary priced at standard prices (the local runner).
    pub fn local() -> Summary {
        Summary::default()
    }

    /// Counts one result. A result whose `custom_id` was already counted is
    /// not counted again: it adds to [`duplicates`](Summary::duplicates),
    /// which the summary's text reports as a warning. (The custom_ids are
    /// kept for this: memory grows with the number of results, a few dozen
    /// bytes each.)
    pub fn add(&mut self, line: &BatchResultLine) {
        if !self.seen.insert(line.custom_id.clone()) {
            self.duplicates += 1;
            self.first_duplicate
                .get_or_insert_with(|| line.custom_id.clone());
            return;
        }
        match &line.result {
            BatchResult::Succeeded { message } => {
                self.succeeded += 1;
                let u = &message.usage;
                self.usage.add_counts(u);
                *self.models.entry(message.model.clone()).or_default() += 1;
                match cost_of(&message.model, u) {
                    Some(c) => self.cost += c,
                    None => {
                        self.unpriced.insert(message.model.clone());
                    }
                }
            }
            BatchResult::Errored { error } => {
                *self
                    .errored
                    .entry(error.error.kind.as_str().to_owned())
                    .or_default() += 1;
            }
            BatchResult::Canceled => self.canceled += 1,
            BatchResult::Expired => self.expired += 1,
            _ => self.unknown += 1,
        }
    }

    /// All results counted.
    pub fn total(&self) -> u64 {
        self.succeeded + self.errored_total() + self.canceled + self.expired + self.unknown
    }

    /// All errored results, whatever the type.
    pub fn errored_total(&self) -> u64 {
        self.errored.values().sum()
    }

    /// The estimated cost in US dollars ([`PriceTable::current`], with the batch discount
    /// for batch jobs), or `None` when a succeeded result came from a model
    /// the table does not price ([`Summary::unpriced_models`]): no estimate
    /// rather than a wrong one.
    pub fn estimated_cost_usd(&self) -> Option<f64> {
        self.unpriced
            .is_empty()
            .then_some(self.cost * (1.0 - self.discount))
    }

    /// Models of succeeded results missing from the price table.
    pub fn unpriced_models(&self) -> impl Iterator<Item = &str> {
        self.unpriced.iter().map(String::as_str)
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} succeeded", self.succeeded)?;
        if self.errored.is_empty() {
            write!(f, ", 0 errored")?;
        } else {
            write!(f, ", {} errored (", self.errored_total())?;
            for (i, (k, n)) in self.errored.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{k}: {n}")?;
            }
            f.write_str(")")?;
        }
        write!(
            f,
            ", {} canceled, {} expired; {} input and {} output tokens",
            self.canceled,
            self.expired,
            self.usage.input_tokens.unwrap_or(0),
            self.usage.output_tokens
        )?;
        match self.estimated_cost_usd() {
            Some(c) => write!(f, "; about ${c:.4}")?,
            None => write!(f, "; cost unknown (unpriced model)")?,
        }
        if self.duplicates > 0 {
            write!(
                f,
                "; warning: {} result(s) repeated a custom_id already seen (first: {}) and were not counted again",
                self.duplicates,
                self.first_duplicate.as_deref().unwrap_or("")
            )?;
        }
        Ok(())
    }
}
