//! A per-attempt timeout: the time from sending a request to receiving the
//! response headers.
//!
//! It does not cover the body: streams are guarded by the idle timeout of
//! [`Body`](crate::Body), whole bodies by the overall deadline.

pub(crate) mod error;
pub(crate) mod future;

use std::task::{Context, Poll};
use std::time::Duration;

use http::Request;
use tower::Service;

use crate::BoxError;

/// A request extension that overrides the per-attempt timeout of one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PerAttempt(pub Option<Duration>);

/// Fails an attempt with [`error::Elapsed`] if no response head arrives in time.
#[derive(Debug, Clone)]
pub(crate) struct Timeout<S> {
    inner: S,
    timeout: Option<Duration>,
}

impl<S> Timeout<S> {
    /// Wraps `inner`; `None` means no per-attempt timeout unless the request
    /// carries a [`PerAttempt`] extension.
    pub(crate) fn new(inner: S, timeout: Option<Duration>) -> Timeout<S> {
        Timeout { inner, timeout }
    }
}

impl<S, B> Service<Request<B>> for Timeout<S>
where
    S: Service<Request<B>>,
    S::Error: Into<BoxError>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = future::ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let timeout = req
            .extensions()
            .get::<PerAttempt>()
            .map_or(self.timeout, |p| p.0);
        future::ResponseFuture::new(self.inner.call(req), timeout)
    }
}
