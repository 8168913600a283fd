use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use http_body::{Body as HttpBodyTrait, Frame, SizeHint};
use pin_project_lite::pin_project;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower::{Service, ServiceExt};

use crate::{BoxError, HttpBody};

/// Allows at most `n` requests in flight, counting a response until its body
/// is finished or dropped (unlike `tower::limit::ConcurrencyLimit`, which
/// frees the slot when the headers arrive, so long streams would not count).
#[derive(Clone)]
pub(crate) struct ConcurrencyLimit<S> {
    inner: S,
    semaphore: Arc<Semaphore>,
}

impl<S> ConcurrencyLimit<S> {
    /// Wraps `inner` with a limit of `max` concurrent requests (at least 1).
    pub(crate) fn new(inner: S, max: usize) -> Self {
        ConcurrencyLimit {
            inner,
            semaphore: Arc::new(Semaphore::new(max.clamp(1, Semaphore::MAX_PERMITS))),
        }
    }
}

impl<S> fmt::Debug for ConcurrencyLimit<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConcurrencyLimit")
            .field("available", &self.semaphore.available_permits())
            .finish_non_exhaustive()
    }
}

impl<S> Service<Request<Bytes>> for ConcurrencyLimit<S>
where
    S: Service<Request<Bytes>, Response = Response<HttpBody>, Error = BoxError>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    type Response = Response<HttpBody>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Response<HttpBody>, BoxError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        // The permit is taken in the future, so callers queue there (fairly,
        // in FIFO order) instead of in `poll_ready`.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<Bytes>) -> Self::Future {
        // `poll_ready` never readies `self.inner` (the future drives its
        // own clone with `oneshot`), so a plain clone is enough.
        let inner = self.inner.clone();
        let semaphore = self.semaphore.clone();
        Box::pin(async move {
            let permit = semaphore.acquire_owned().await?;
            let resp = inner.oneshot(req).await?;
            Ok(resp.map(|body| {
                HttpBody::new(PermitBody {
                    inner: body,
                    permit: Some(permit),
                })
            }))
        })
    }
}

pin_project! {
    struct PermitBody {
        #[pin]
        inner: HttpBody,
        permit: Option<OwnedSemaphorePermit>,
    }
}

impl HttpBodyTrait for PermitBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.project();
        let r = this.inner.poll_frame(cx);
        if matches!(r, Poll::Ready(None) | Poll::Ready(Some(Err(_)))) {
            // The exchange is over: free the slot now, not when dropped.
            *this.permit = None;
        }
        r
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
