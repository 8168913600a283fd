//! Rate limits: requests and tokens per window, as token buckets that refill
//! continuously (the API's algorithm), reported in the
//! `anthropic-ratelimit-{requests,tokens}-{limit,remaining,reset}` headers
//! and enforced with 429 `rate_limit_error` and `retry-after`.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The configured limits (none by default).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) requests: Option<u64>,
    pub(crate) tokens: Option<u64>,
    /// The window the limits are per: 60 s, as the API's per-minute limits.
    pub(crate) window: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            requests: None,
            tokens: None,
            window: Duration::from_secs(60),
        }
    }
}

#[derive(Debug)]
struct Bucket {
    capacity: f64,
    level: f64,
}

impl Bucket {
    fn new(capacity: u64) -> Bucket {
        Bucket {
            capacity: capacity as f64,
            level: capacity as f64,
        }
    }

    /// Adds what the time since the last refill gives, up to capacity.
    fn refill(&mut self, elapsed: Duration, window: Duration) {
        let rate = self.capacity / window.as_secs_f64();
        self.level = (self.level + rate * elapsed.as_secs_f64()).min(self.capacity);
    }

    /// How long until `amount` is available.
    fn wait_for(&self, amount: f64, window: Duration) -> Duration {
        let missing = (amount.min(self.capacity) - self.level).max(0.0);
        Duration::from_secs_f64(missing * window.as_secs_f64() / self.capacity)
    }

    /// How long until the bucket is full again.
    fn until_full(&self, window: Duration) -> Duration {
        self.wait_for(self.capacity, window)
    }
}

#[derive(Debug)]
struct Buckets {
    requests: Option<Bucket>,
    tokens: Option<Bucket>,
    updated: Instant,
}

/// One limit's state for the headers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Snapshot {
    pub(crate) limit: u64,
    pub(crate) remaining: u64,
    /// Seconds until the bucket is full again.
    pub(crate) reset_in: f64,
}

/// The server's rate limiter. Without limits it admits everything and
/// reports nothing.
#[derive(Debug)]
pub(crate) struct Limiter {
    limits: Limits,
    state: Mutex<Buckets>,
}

impl Limiter {
    pub(crate) fn new(limits: Limits) -> Limiter {
        Limiter {
            limits,
            state: Mutex::new(Buckets {
                requests: limits.requests.map(Bucket::new),
                tokens: limits.tokens.map(Bucket::new),
                updated: Instant::now(),
            }),
        }
    }

    fn refilled(&self) -> std::sync::MutexGuard<'_, Buckets> {
        let mut st = crate::util::lock(&self.state);
        let now = Instant::now();
        let elapsed = now.saturating_duration_since(st.updated);
        st.updated = now;
        let window = self.limits.window;
        if let Some(b) = &mut st.requests {
            b.refill(elapsed, window);
        }
        if let Some(b) = &mut st.tokens {
            b.refill(elapsed, window);
        }
        st
    }

    /// Admits one request that may use `tokens` tokens, or says how long to
    /// wait (and which limit refused it).
    pub(crate) fn admit(&self, tokens: u64) -> Result<(), (Duration, &'static str)> {
        if self.limits.requests.is_none() && self.limits.tokens.is_none() {
            return Ok(());
        }
        let mut st = self.refilled();
        let window = self.limits.window;
        let tokens = tokens as f64;
        if let Some(b) = &st.requests
            && b.level < 1.0
        {
            return Err((b.wait_for(1.0, window), "requests"));
        }
        if let Some(b) = &st.tokens
            && b.level < tokens.min(b.capacity)
        {
            return Err((b.wait_for(tokens, window), "tokens"));
        }
        if let Some(b) = &mut st.requests {
            b.level -= 1.0;
        }
        if let Some(b) = &mut st.tokens {
            b.level = (b.level - tokens).max(0.0);
        }
        Ok(())
    }

    /// The requests and tokens limits now, when configured.
    pub(crate) fn snapshot(&self) -> (Option<Snapshot>, Option<Snapshot>) {
        if self.limits.requests.is_none() && self.limits.tokens.is_none() {
            return (None, None);
        }
        let st = self.refilled();
        let window = self.limits.window;
        let snap = |b: &Bucket| Snapshot {
            limit: b.capacity as u64,
            remaining: b.level.floor().max(0.0) as u64,
            reset_in: b.until_full(window).as_secs_f64(),
        };
        (st.requests.as_ref().map(snap), st.tokens.as_ref().map(snap))
    }
}

/// The tokens a Messages request may use, charged when it is admitted: its
/// input (about 4 bytes per token) plus its `max_tokens`, as the API
/// estimates output tokens before generating them.
pub(crate) fn charge(body: &[u8]) -> u64 {
    let max = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["max_tokens"].as_u64())
        .unwrap_or(0);
    body.len() as u64 / 4 + max
}
