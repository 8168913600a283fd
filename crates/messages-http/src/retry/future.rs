//! The future of [`Retry`](super::Retry).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http::{Request, Response};
use pin_project_lite::pin_project;
use tokio::time::Sleep;
use tower::Service;

use super::error::Attempted;
use super::policy::{delay_for, should_retry_error};
use super::{AttemptCounter, Attempts, should_retry_status};
use crate::BoxError;

pin_project! {
    /// The response future of [`Retry`](super::Retry).
    ///
    /// # Cancel safety
    ///
    /// Dropping it cancels the attempt in flight (its connection is closed)
    /// or the wait before the next attempt.
    pub(crate) struct ResponseFuture<S, B>
    where
        S: Service<Request<Bytes>, Response = Response<B>, Error = BoxError>,
    {
        service: S,
        request: Request<Bytes>,
        // Attempts started so far.
        attempt: u32,
        max_retries: u32,
        #[pin]
        state: State<S::Future>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F> {
        Ready,
        Calling { #[pin] fut: F },
        Waiting { #[pin] sleep: Sleep },
    }
}

impl<S, B> ResponseFuture<S, B>
where
    S: Service<Request<Bytes>, Response = Response<B>, Error = BoxError>,
{
    pub(crate) fn new(service: S, request: Request<Bytes>, max_retries: u32) -> Self {
        ResponseFuture {
            service,
            request,
            attempt: 0,
            max_retries,
            state: State::Ready,
        }
    }
}

impl<S, B> Future for ResponseFuture<S, B>
where
    S: Service<Request<Bytes>, Response = Response<B>, Error = BoxError>,
{
    type Output = Result<Response<B>, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            match this.state.as_mut().project() {
                StateProj::Ready => {
                    if let Err(e) = ready!(this.service.poll_ready(cx)) {
                        return Poll::Ready(Err(Box::new(Attempted::new(*this.attempt, e))));
                    }
                    *this.attempt += 1;
                    let attempt = *this.attempt;
                    if let Some(c) = this.request.extensions().get::<AttemptCounter>() {
                        c.0.store(attempt, std::sync::atomic::Ordering::Relaxed);
                    }
                    tracing::Span::current().record("attempt", attempt);
                    tracing::debug!(attempt, "sending attempt");
                    let fut = this.service.call(this.request.clone());
                    this.state.set(State::Calling { fut });
                }
                StateProj::Calling { fut } => {
                    let attempt = *this.attempt;
                    let retries_left = attempt <= *this.max_retries;
                    let delay = match ready!(fut.poll(cx)) {
                        Ok(mut resp) => {
                            if !(retries_left && should_retry_status(resp.status(), resp.headers()))
                            {
                                resp.extensions_mut().insert(Attempts(attempt));
                                return Poll::Ready(Ok(resp));
                            }
                            let delay = delay_for(attempt - 1, Some(resp.headers()));
                            tracing::info!(
                                attempt,
                                status = resp.status().as_u16(),
                                delay_ms = delay.as_millis() as u64,
                                "retrying after a retryable status"
                            );
                            // Dropping the response drops its unread body,
                            // which closes that connection.
                            drop(resp);
                            delay
                        }
                        Err(e) => {
                            if !(retries_left && should_retry_error(&e)) {
                                return Poll::Ready(Err(Box::new(Attempted::new(attempt, e))));
                            }
                            let delay = delay_for(attempt - 1, None);
                            tracing::info!(
                                attempt,
                                error = %e,
                                delay_ms = delay.as_millis() as u64,
                                "retrying after an error"
                            );
                            delay
                        }
                    };
                    this.state.set(State::Waiting {
                        sleep: tokio::time::sleep(delay),
                    });
                }
                StateProj::Waiting { sleep } => {
                    ready!(sleep.poll(cx));
                    this.state.set(State::Ready);
                }
            }
        }
    }
}

impl<S, B> fmt::Debug for ResponseFuture<S, B>
where
    S: Service<Request<Bytes>, Response = Response<B>, Error = BoxError>,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("attempt", &self.attempt)
            .field("max_retries", &self.max_retries)
            .finish_non_exhaustive()
    }
}
