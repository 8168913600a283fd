//! [`Stats`]: running totals of a queue's results, errors and tokens, for
//! dashboards.

use std::collections::BTreeMap;
use std::time::Duration;

use messages_batch::{BATCH_DISCOUNT, PriceTable};
use messages_types::{BatchResult, Usage};

/// Running totals kept by the queue as results are stored and failures
/// recorded: what a dashboard shows besides [`Status`](crate::Status).
///
/// Each total counts the *stored* result of a job once (the first write,
/// see [`Queue::store_result`](crate::Queue::store_result)); a job sent
/// twice after a crash is billed twice by the API but counted once here.
/// Reading them ([`Queue::stats`](crate::Queue::stats)) costs one round
/// trip on Redis and a look at memory on the local store, whatever the
/// number of jobs.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Stats {
    /// Stored results by type: `succeeded`, `errored`, `expired`,
    /// `canceled` (and any type a later API version adds).
    pub outcomes: BTreeMap<String, u64>,
    /// Errored results by the API's error type (`invalid_request_error`,
    /// ...): final errors, not retried.
    pub errors: BTreeMap<String, u64>,
    /// Retryable failures (the job was taken again after a backoff) by
    /// kind: the API's error type (`overloaded_error`, `rate_limit_error`,
    /// `api_error`), `connection_error`, `timeout_error` or
    /// `transport_error` (other failures of the connection), `other` for an
    /// error recorded without a kind.
    pub retries: BTreeMap<String, u64>,
    /// Token usage of succeeded results, per model and route, sorted.
    pub usage: Vec<ModelUsage>,
    /// What is left of a fleet-wide rate-limit pause (a 429, or a
    /// `*-remaining: 0` header); zero when the fleet is not paused.
    pub paused_for: Duration,
}

/// The token usage of one model's succeeded results on one route.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ModelUsage {
    /// The model id the responses named.
    pub model: String,
    /// Whether these results came through the Message Batches API (half
    /// price) rather than `POST /v1/messages`.
    pub batch: bool,
    /// Succeeded results.
    pub results: u64,
    /// Input tokens (not counting cache reads and writes).
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// Tokens written to the cache with the 5 minute time to live (and
    /// writes the API reported without a time to live).
    pub cache_write_5m_tokens: u64,
    /// Tokens written to the cache with the 1 hour time to live.
    pub cache_write_1h_tokens: u64,
    /// Tokens read from the cache.
    pub cache_read_tokens: u64,
}

impl ModelUsage {
    /// An empty entry for `model` on a route.
    pub fn new(model: impl Into<String>, batch: bool) -> ModelUsage {
        ModelUsage {
            model: model.into(),
            batch,
            ..ModelUsage::default()
        }
    }

    /// The estimated cost in US dollars in `prices` (halved for batches),
    /// or `None` when the table does not price the model.
    #[allow(
        clippy::field_reassign_with_default,
        reason = "Usage is #[non_exhaustive] outside messages-types: no struct literal"
    )]
    pub fn cost_usd(&self, prices: &PriceTable) -> Option<f64> {
        let mut u = Usage::default();
        u.input_tokens = Some(self.input_tokens);
        u.output_tokens = self.output_tokens;
        u.cache_read_input_tokens = Some(self.cache_read_tokens);
        // `cost_of` prices `cache_creation_input_tokens` as 5 minute
        // writes; the 1 hour ones cost 2x input instead of 1.25x, which
        // 1.6 more 5 minute tokens add up to.
        u.cache_creation_input_tokens =
            Some(self.cache_write_5m_tokens + self.cache_write_1h_tokens * 8 / 5);
        let cost = prices.cost_of(&self.model, &u)?;
        Some(if self.batch {
            cost * (1.0 - BATCH_DISCOUNT)
        } else {
            cost
        })
    }

    /// Adds one succeeded result's usage.
    pub(crate) fn add(&mut self, u: &Usage) {
        self.results += 1;
        let (w5, w1) = cache_writes(u);
        self.input_tokens += u.input_tokens.unwrap_or(0);
        self.output_tokens += u.output_tokens;
        self.cache_write_5m_tokens += w5;
        self.cache_write_1h_tokens += w1;
        self.cache_read_tokens += u.cache_read_input_tokens.unwrap_or(0);
    }
}

/// The cache writes of a response: (5 minute, 1 hour).
pub(crate) fn cache_writes(u: &Usage) -> (u64, u64) {
    match &u.cache_creation {
        Some(c) => (c.ephemeral_5m_input_tokens, c.ephemeral_1h_input_tokens),
        None => (u.cache_creation_input_tokens.unwrap_or(0), 0),
    }
}

/// What the estimated cost of a queue's results is.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Cost {
    /// The estimate in US dollars over the models the table prices.
    pub priced_usd: f64,
    /// Models of succeeded results the table does not price: when not
    /// empty, the total cost is unknown ("cost unknown"), never guessed.
    pub unpriced: Vec<String>,
}

impl Cost {
    /// The total, or `None` when a model is not priced.
    pub fn total_usd(&self) -> Option<f64> {
        self.unpriced.is_empty().then_some(self.priced_usd)
    }
}

impl Stats {
    /// Stored results of every type.
    pub fn results(&self) -> u64 {
        self.outcomes.values().sum()
    }

    /// The estimated cost of the succeeded results in `prices` (messages-batch's
    /// [`PriceTable::current`] unless told otherwise).
    pub fn cost(&self, prices: &PriceTable) -> Cost {
        let mut cost = Cost::default();
        for u in &self.usage {
            match u.cost_usd(prices) {
                Some(c) => cost.priced_usd += c,
                None if !cost.unpriced.contains(&u.model) => cost.unpriced.push(u.model.clone()),
                None => {}
            }
        }
        cost
    }

    /// The usage entry of `model` on a route, created if missing.
    pub(crate) fn usage_mut(&mut self, model: &str, batch: bool) -> &mut ModelUsage {
        let i = match self
            .usage
            .binary_search_by(|u| (u.model.as_str(), u.batch).cmp(&(model, batch)))
        {
            Ok(i) => i,
            Err(i) => {
                self.usage.insert(i, ModelUsage::new(model, batch));
                i
            }
        };
        &mut self.usage[i]
    }

    /// Counts one stored result (the local store; Redis counts in its
    /// script from [`Recorded`]).
    pub(crate) fn add_result(&mut self, result: &BatchResult, batch: bool) {
        let r = Recorded::of(result);
        *self.outcomes.entry(r.outcome.to_owned()).or_default() += 1;
        if let Some(e) = r.error {
            *self.errors.entry(e.to_owned()).or_default() += 1;
        }
        if let BatchResult::Succeeded { message } = result {
            self.usage_mut(&message.model, batch).add(&message.usage);
        }
    }

    /// Counts one retryable failure whose recorded error is `error`.
    pub(crate) fn add_retry(&mut self, error: &str) {
        *self
            .retries
            .entry(error_kind(error).to_owned())
            .or_default() += 1;
    }
}

/// The parts of a result the totals count.
pub(crate) struct Recorded<'a> {
    pub(crate) outcome: &'a str,
    pub(crate) error: Option<&'a str>,
    pub(crate) usage: Option<(&'a str, &'a Usage)>,
}

impl<'a> Recorded<'a> {
    pub(crate) fn of(result: &'a BatchResult) -> Recorded<'a> {
        let mut r = Recorded {
            outcome: "unknown",
            error: None,
            usage: None,
        };
        match result {
            BatchResult::Succeeded { message } => {
                r.outcome = "succeeded";
                r.usage = Some((&message.model, &message.usage));
            }
            BatchResult::Errored { error } => {
                r.outcome = "errored";
                r.error = Some(error.error.kind.as_str());
            }
            BatchResult::Expired => r.outcome = "expired",
            BatchResult::Canceled => r.outcome = "canceled",
            _ => {}
        }
        r
    }
}

/// The kind of a recorded retryable error: the `snake_case` word before
/// its first `": "` (the worker writes them as `KIND: MESSAGE`), else
/// `other`.
pub(crate) fn error_kind(error: &str) -> &str {
    match error.split_once(": ") {
        Some((k, _))
            if !k.is_empty()
                && k.len() <= 48
                && k.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') =>
        {
            k
        }
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_kinds() {
        assert_eq!(
            error_kind("overloaded_error: Overloaded"),
            "overloaded_error"
        );
        assert_eq!(
            error_kind("connection_error: refused: x"),
            "connection_error"
        );
        assert_eq!(error_kind("Connection refused"), "other");
        assert_eq!(error_kind("Bad Thing: x"), "other");
        assert_eq!(error_kind(""), "other");
    }

    #[test]
    #[allow(
        clippy::field_reassign_with_default,
        reason = "Usage is #[non_exhaustive] outside messages-types: no struct literal"
    )]
    fn cost_is_unknown_for_an_unpriced_model_and_halved_for_batches() {
        let mut s = Stats::default();
        let mut u = Usage::default();
        u.input_tokens = Some(1_000_000);
        u.output_tokens = 200_000;
        s.usage_mut("claude-haiku-4-5", false).add(&u);
        s.usage_mut("claude-haiku-4-5", true).add(&u);
        let prices = PriceTable::builtin();
        let one = s.usage[0].cost_usd(&prices).expect("priced");
        let batch = s.usage[1].cost_usd(&prices).expect("priced");
        assert!(s.usage[1].batch && !s.usage[0].batch);
        assert!((batch - one / 2.0).abs() < 1e-9, "{one} {batch}");
        assert_eq!(s.cost(&prices).total_usd(), Some(one + batch));
        s.usage_mut("claude-future-9", false).add(&u);
        let c = s.cost(&prices);
        assert_eq!(c.total_usd(), None);
        assert_eq!(c.unpriced, vec!["claude-future-9".to_owned()]);
        assert!((c.priced_usd - (one + batch)).abs() < 1e-9);
    }

    #[test]
    fn one_hour_cache_writes_cost_twice_the_input_price() {
        let prices = PriceTable::builtin();
        let mut m = ModelUsage::new("claude-sonnet-4-6", false);
        m.cache_write_1h_tokens = 1_000_000;
        let input = prices.price_of("claude-sonnet-4-6").expect("priced").input;
        let c = m.cost_usd(&prices).expect("priced");
        assert!((c - 2.0 * input).abs() < 1e-9, "{c}");
    }
}
