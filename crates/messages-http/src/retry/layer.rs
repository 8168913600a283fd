use tower::Layer;

use super::Retry;

/// Applies [`Retry`] to a service.
#[derive(Debug, Clone, Copy)]
pub struct RetryLayer {
    max_retries: u32,
}

impl RetryLayer {
    /// A layer retrying at most `max_retries` times per request.
    pub fn new(max_retries: u32) -> RetryLayer {
        RetryLayer { max_retries }
    }
}

impl<S> Layer<S> for RetryLayer {
    type Service = Retry<S>;

    fn layer(&self, inner: S) -> Retry<S> {
        Retry::new(inner, self.max_retries)
    }
}
