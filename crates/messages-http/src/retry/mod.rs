//! The retry middleware: the official SDKs' retry contract.
//!
//! A response is retried when
//!
//! 1. the `x-should-retry` header says `true` (and never when it says
//!    `false`: the header overrides every other rule), else
//! 2. its status is 408, 409, 429 or any status >= 500.
//!
//! An error is retried when it is a connection error or a timeout of the
//! attempt (anything but TLS certificate failures and refused requests).
//!
//! The wait before retry `n` (0-based) is `retry-after-ms`, else
//! `retry-after` (seconds or an HTTP date), when that is in `(0, 60]`
//! seconds; otherwise `min(0.5 * 2^n, 8)` seconds times `(1 - 0.25 * rand)`.
//!
//! Retries happen only before a response is returned: the body of the final
//! response is handed over untouched, so no body byte is ever replayed.
//! Requests carry their body as [`Bytes`], so every attempt
//! sends the same bytes.

pub(crate) mod error;
pub(crate) mod future;
mod policy;

use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use tower::Service;

pub use self::policy::{
    backoff_delay, requested_wait, retry_after, retry_delay, should_retry_status,
};

use crate::BoxError;

/// Default number of retries after the first attempt.
pub const DEFAULT_MAX_RETRIES: u32 = 2;

/// A request extension that overrides the number of retries of one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MaxRetries(pub u32);

/// A request extension that [`Retry`] updates with the number of attempts
/// started, so a caller that gives up (a deadline) can still report it.
/// Clones share the counter.
#[derive(Debug, Clone, Default)]
pub(crate) struct AttemptCounter(pub std::sync::Arc<std::sync::atomic::AtomicU32>);

impl AttemptCounter {
    /// The attempts started so far.
    pub(crate) fn get(&self) -> u32 {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// A response extension set by [`Retry`]: the number of attempts made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Attempts(pub u32);

/// Retries requests whose responses or errors the retry contract marks
/// retryable. See the [module docs](self).
#[derive(Debug, Clone)]
pub(crate) struct Retry<S> {
    inner: S,
    max_retries: u32,
}

impl<S> Retry<S> {
    /// Wraps `inner`, retrying at most `max_retries` times per request unless
    /// the request carries a [`MaxRetries`] extension.
    pub(crate) fn new(inner: S, max_retries: u32) -> Retry<S> {
        Retry { inner, max_retries }
    }
}

impl<S, B> Service<Request<Bytes>> for Retry<S>
where
    S: Service<Request<Bytes>, Response = Response<B>, Error = BoxError> + Clone,
{
    type Response = Response<B>;
    type Error = BoxError;
    type Future = future::ResponseFuture<S, B>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // Readiness is checked per attempt on the clone the future owns.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<Bytes>) -> Self::Future {
        let max = req
            .extensions()
            .get::<MaxRetries>()
            .map_or(self.max_retries, |m| m.0);
        // `self.inner` is never polled for readiness here, so the future can
        // own a plain clone.
        future::ResponseFuture::new(self.inner.clone(), req, max)
    }
}

#[cfg(test)]
pub(crate) fn policy_jitter() -> f64 {
    policy::jitter()
}
