//! Optional limits: concurrency and rate.
//!
//! Both apply per attempt (retries wait for a permit and take a rate slot like
//! any request) and both are shared by all clones of a service, so one limit
//! covers every clone of a [`Transport`](crate::Transport).

mod concurrency;
mod rate;

pub(crate) use self::concurrency::ConcurrencyLimit;
pub(crate) use self::rate::RateLimit;

/// The start offsets of `n` requests arriving at once under `num` per `per`.
#[cfg(test)]
pub(crate) fn gcra_schedule(
    num: u64,
    per: std::time::Duration,
    n: usize,
) -> Vec<std::time::Duration> {
    rate::schedule(num, per, n)
}
