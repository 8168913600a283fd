use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::Instant;
use tower::{Service, ServiceExt};

use crate::BoxError;

/// Lets at most `num` requests start per `per`, with bursts of up to `num`
/// (a GCRA token bucket shared by all clones).
///
/// A request that must wait reserves its slot first, then sleeps; dropping it
/// while it waits does not give the slot back.
#[derive(Clone)]
pub(crate) struct RateLimit<S> {
    inner: S,
    state: Arc<Mutex<Gcra>>,
}

#[derive(Debug)]
struct Gcra {
    // Emission interval: `per / num`.
    interval: Duration,
    // Burst tolerance: `per - interval`.
    tolerance: Duration,
    // Theoretical arrival time of the next request.
    tat: Option<Instant>,
}

impl Gcra {
    fn new(num: u64, per: Duration) -> Gcra {
        let num = num.max(1);
        let interval = per / u32::try_from(num).unwrap_or(u32::MAX);
        Gcra {
            interval,
            tolerance: per.saturating_sub(interval),
            tat: None,
        }
    }

    /// Reserves a slot and returns when it may start.
    fn reserve(&mut self, now: Instant) -> Instant {
        let tat = self.tat.map_or(now, |t| t.max(now));
        let allowed = tat.checked_sub(self.tolerance).unwrap_or(now).max(now);
        self.tat = Some(tat + self.interval);
        allowed
    }
}

impl<S> RateLimit<S> {
    /// Wraps `inner`, letting `num` requests (at least 1) start per `per`.
    pub(crate) fn new(inner: S, num: u64, per: Duration) -> Self {
        RateLimit {
            inner,
            state: Arc::new(Mutex::new(Gcra::new(num, per))),
        }
    }
}

impl<S> fmt::Debug for RateLimit<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimit").finish_non_exhaustive()
    }
}

impl<S, Req> Service<Req> for RateLimit<S>
where
    S: Service<Req, Error = BoxError> + Clone + Send + 'static,
    S::Future: Send + 'static,
    Req: Send + 'static,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Req) -> Self::Future {
        // `poll_ready` never readies `self.inner` (the future drives its
        // own clone with `oneshot`), so a plain clone is enough.
        let inner = self.inner.clone();
        let at = match self.state.lock() {
            Ok(mut g) => g.reserve(Instant::now()),
            // A panic elsewhere while holding the lock: the state is a few
            // numbers, still consistent; keep limiting.
            Err(poisoned) => poisoned.into_inner().reserve(Instant::now()),
        };
        Box::pin(async move {
            tokio::time::sleep_until(at).await;
            inner.oneshot(req).await
        })
    }
}

#[cfg(test)]
pub(super) fn schedule(num: u64, per: Duration, n: usize) -> Vec<Duration> {
    let mut g = Gcra::new(num, per);
    let t0 = Instant::now();
    (0..n).map(|_| g.reserve(t0) - t0).collect()
}
