//! [`Summary`] of a job's results and the price table behind its cost
//! estimate.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt;

use messages_types::{BatchResult, BatchResultLine, Usage};

/// The date the [`PRICES`] table was taken from Anthropic's public pricing
/// page. Prices change: check them before relying on an estimate.
pub const PRICES_AS_OF: &str = "2025-11-24";

/// The discount of the Message Batches API: half the standard price.
pub const BATCH_DISCOUNT: f64 = 0.5;

/// Standard prices of one model family, in US dollars per million tokens.
///
/// Cache writes cost 1.25x the input price for a 5 minute time to live and
/// 2x for 1 hour; cache reads 0.1x. Long-context (over 200k input tokens)
/// surcharges are not modelled.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelPrice {
    /// The model id prefix this price applies to, such as
    /// `"claude-sonnet-4"`.
    pub prefix: &'static str,
    /// Input tokens.
    pub input: f64,
    /// Output tokens.
    pub output: f64,
}

/// Prices per model family ([`PRICES_AS_OF`]), matched by model id prefix,
/// most specific first. A model that matches no entry gets no cost estimate
/// (never a guessed one).
pub const PRICES: &[ModelPrice] = &[
    ModelPrice {
        prefix: "claude-opus-4-5",
        input: 5.0,
        output: 25.0,
    },
    ModelPrice {
        prefix: "claude-opus-4",
        input: 15.0,
        output: 75.0,
    },
    ModelPrice {
        prefix: "claude-3-opus",
        input: 15.0,
        output: 75.0,
    },
    ModelPrice {
        prefix: "claude-sonnet-4",
        input: 3.0,
        output: 15.0,
    },
    ModelPrice {
        prefix: "claude-3-7-sonnet",
        input: 3.0,
        output: 15.0,
    },
    ModelPrice {
        prefix: "claude-haiku-4-5",
        input: 1.0,
        output: 5.0,
    },
    ModelPrice {
        prefix: "claude-3-5-haiku",
        input: 0.8,
        output: 4.0,
    },
    ModelPrice {
        prefix: "claude-3-haiku",
        input: 0.25,
        output: 1.25,
    },
];

/// The price entry for a model id, if the table has one.
///
/// ```
/// use messages_batch::price_of;
///
/// assert_eq!(price_of("claude-sonnet-4-5-20250929").unwrap().input, 3.0);
/// assert_eq!(price_of("claude-opus-4-5").unwrap().output, 25.0);
/// assert_eq!(price_of("claude-opus-4-1-20250805").unwrap().output, 75.0);
/// assert!(price_of("claude-future-9").is_none());
/// ```
pub fn price_of(model: &str) -> Option<&'static ModelPrice> {
    PRICES.iter().find(|p| {
        model
            .strip_prefix(p.prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('-'))
    })
}

/// The standard (undiscounted) cost in US dollars of one response's usage,
/// or `None` for a model missing from [`PRICES`].
pub fn cost_of(model: &str, usage: &Usage) -> Option<f64> {
    let p = price_of(model)?;
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

/// Token counts summed over results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TokenUsage {
    /// Input tokens (not counting cache reads and writes).
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// Input tokens written to the cache.
    pub cache_creation_input_tokens: u64,
    /// Input tokens read from the cache.
    pub cache_read_input_tokens: u64,
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
    pub usage: TokenUsage,
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
                self.usage.input_tokens += u.input_tokens.unwrap_or(0);
                self.usage.output_tokens += u.output_tokens;
                self.usage.cache_creation_input_tokens +=
                    u.cache_creation_input_tokens.unwrap_or(0);
                self.usage.cache_read_input_tokens += u.cache_read_input_tokens.unwrap_or(0);
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

    /// The estimated cost in US dollars ([`PRICES`], with the batch discount
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
            self.canceled, self.expired, self.usage.input_tokens, self.usage.output_tokens
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
