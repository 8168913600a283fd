//! The bottom of the stack: TCP + TLS connector with a connect timeout, and
//! the hyper-util pooled clients (one, or more over HTTP/2: see [`Lanes`])
//! as a `Service<Request<Bytes>>`.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, Uri};
use http_body_util::Full;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use tokio::time::Sleep;
use tower::Service;

use crate::{BoxError, HttpBody};

// ===== Connector =====

/// Wraps the HTTPS connector with a timeout over the whole connect: DNS, TCP
/// and the TLS handshake.
#[derive(Clone)]
pub(crate) struct Connector {
    inner: HttpsConnector<HttpConnector>,
    timeout: Option<Duration>,
}

impl Connector {
    pub(crate) fn new(inner: HttpsConnector<HttpConnector>, timeout: Option<Duration>) -> Self {
        Connector { inner, timeout }
    }
}

impl fmt::Debug for Connector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connector")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Service<Uri> for Connector {
    type Response = <HttpsConnector<HttpConnector> as Service<Uri>>::Response;
    type Error = BoxError;
    type Future = Connecting<<HttpsConnector<HttpConnector> as Service<Uri>>::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        Connecting {
            inner: self.inner.call(dst),
            sleep: self.timeout.map(|t| Box::pin(tokio::time::sleep(t))),
            timeout: self.timeout.unwrap_or_default(),
        }
    }
}

/// The connect future. It must be `Unpin` for hyper-util, so the timer is boxed.
pub(crate) struct Connecting<F> {
    inner: F,
    sleep: Option<Pin<Box<Sleep>>>,
    timeout: Duration,
}

impl<F, T> Future for Connecting<F>
where
    F: Future<Output = Result<T, BoxError>> + Unpin,
{
    type Output = Result<T, BoxError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if let Poll::Ready(r) = Pin::new(&mut this.inner).poll(cx) {
            return Poll::Ready(r);
        }
        if let Some(sleep) = this.sleep.as_mut()
            && sleep.as_mut().poll(cx).is_ready()
        {
            return Poll::Ready(Err(Box::new(ConnectTimeout(this.timeout))));
        }
        Poll::Pending
    }
}

/// The connect (TCP + TLS) did not finish in time.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConnectTimeout(pub(crate) Duration);

impl fmt::Display for ConnectTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "connect timed out after {:?}", self.0)
    }
}

impl StdError for ConnectTimeout {}

// ===== HyperService =====

/// The most requests one HTTP/2 connection carries at once, unless set:
/// RFC 9113 (section 6.5.2) asks servers to allow no fewer than 100.
pub(crate) const DEFAULT_HTTP2_MAX_STREAMS: usize = 100;

/// The pooled hyper clients ("lanes") requests go out on.
///
/// Over HTTP/1.1 one lane serves every request: its pool opens a connection
/// per concurrent request. Over HTTP/2 a lane's pool keeps one connection per
/// host and queues every request beyond the server's stream limit until an
/// earlier one ends (hyper does not open a second connection); a stream of
/// Claude's reply can hold its slot for minutes. So a lane known to speak
/// HTTP/2 (by prior knowledge, or from the version of a response it gave)
/// takes at most `max_streams` requests at once, and the next request goes
/// to the next lane, which has a connection of its own.
pub(crate) struct Lanes {
    builder: hyper_util::client::legacy::Builder,
    connector: Connector,
    max_streams: usize,
    prior_knowledge: bool,
    list: RwLock<Vec<Arc<Lane>>>,
}

struct Lane {
    client: Client<Connector, Full<Bytes>>,
    in_flight: AtomicUsize,
    http2: AtomicBool,
}

impl Lane {
    /// Takes a slot: always on a lane not known to speak HTTP/2, below the
    /// cap on one that does.
    fn try_take(&self, max: usize) -> bool {
        if !self.http2.load(Ordering::Relaxed) {
            self.in_flight.fetch_add(1, Ordering::Relaxed);
            return true;
        }
        self.in_flight
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                (n < max).then_some(n + 1)
            })
            .is_ok()
    }
}

/// A request's slot on its lane, given back on drop.
struct Slot(Arc<Lane>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Lanes {
    pub(crate) fn new(
        builder: hyper_util::client::legacy::Builder,
        connector: Connector,
        max_streams: usize,
        prior_knowledge: bool,
    ) -> Lanes {
        Lanes {
            builder,
            connector,
            max_streams: max_streams.max(1),
            prior_knowledge,
            list: RwLock::new(Vec::new()),
        }
    }

    /// A slot on the first lane with room, or on a new lane.
    fn take(&self) -> Slot {
        let list = self.list.read().unwrap_or_else(PoisonError::into_inner);
        if let Some(lane) = list.iter().find(|l| l.try_take(self.max_streams)) {
            return Slot(Arc::clone(lane));
        }
        drop(list);
        let mut list = self.list.write().unwrap_or_else(PoisonError::into_inner);
        // Another request may have added a lane in between.
        if let Some(lane) = list.iter().find(|l| l.try_take(self.max_streams)) {
            return Slot(Arc::clone(lane));
        }
        // Lanes are only added when every lane is a full HTTP/2 one, so a
        // new lane is taken to speak HTTP/2 too until it answers otherwise.
        let lane = Arc::new(Lane {
            client: self.builder.build(self.connector.clone()),
            in_flight: AtomicUsize::new(1),
            http2: AtomicBool::new(self.prior_knowledge || !list.is_empty()),
        });
        list.push(Arc::clone(&lane));
        Slot(lane)
    }
}

/// The bottom service: sends each request on a lane (see [`Lanes`]).
#[derive(Clone)]
pub(crate) struct HyperService {
    lanes: Arc<Lanes>,
    allow_insecure_credentials: bool,
}

impl HyperService {
    pub(crate) fn new(lanes: Lanes, allow_insecure_credentials: bool) -> Self {
        HyperService {
            lanes: Arc::new(lanes),
            allow_insecure_credentials,
        }
    }
}

impl fmt::Debug for HyperService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HyperService").finish_non_exhaustive()
    }
}

impl Service<Request<Bytes>> for HyperService {
    type Response = Response<HttpBody>;
    type Error = BoxError;
    type Future = HyperFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        // Always ready: a lane's client queues on its pool, and a full
        // HTTP/2 lane makes a new one.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<Bytes>) -> Self::Future {
        if !self.allow_insecure_credentials
            && has_credentials(req.headers())
            && let Err(e) = check_secure(req.uri())
        {
            return HyperFuture {
                inner: None,
                slot: None,
                error: Some(Box::new(e)),
            };
        }
        let slot = self.lanes.take();
        HyperFuture {
            inner: Some(slot.0.client.request(req.map(Full::new))),
            slot: Some(slot),
            error: None,
        }
    }
}

/// The future of the bottom service. Dropping it gives its lane slot back.
pub(crate) struct HyperFuture {
    inner: Option<hyper_util::client::legacy::ResponseFuture>,
    slot: Option<Slot>,
    error: Option<BoxError>,
}

impl Future for HyperFuture {
    type Output = Result<Response<HttpBody>, BoxError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Some(e) = self.error.take() {
            return Poll::Ready(Err(e));
        }
        let Some(fut) = self.inner.as_mut() else {
            return Poll::Ready(Err("HyperFuture polled after completion".into()));
        };
        let resp = match ready!(Pin::new(fut).poll(cx)) {
            Ok(resp) => resp,
            Err(e) => {
                self.slot = None;
                return Poll::Ready(Err(Box::new(e)));
            }
        };
        let slot = self.slot.take();
        if let Some(slot) = &slot {
            let http2 = resp.version() == http::Version::HTTP_2;
            slot.0.http2.store(http2, Ordering::Relaxed);
        }
        Poll::Ready(Ok(
            resp.map(|body| HttpBody::new(SlotBody { inner: body, slot }))
        ))
    }
}

/// A response body holding its request's lane slot until it ends or is
/// dropped (an HTTP/2 stream is open until then).
struct SlotBody {
    inner: hyper::body::Incoming,
    slot: Option<Slot>,
}

impl http_body::Body for SlotBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, BoxError>>> {
        let r = ready!(Pin::new(&mut self.inner).poll_frame(cx));
        if !matches!(r, Some(Ok(_))) {
            self.slot = None;
        }
        Poll::Ready(r.map(|f| f.map_err(BoxError::from)))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

fn has_credentials(h: &http::HeaderMap) -> bool {
    h.contains_key("x-api-key") || h.contains_key(http::header::AUTHORIZATION)
}

/// Credentials were about to go over plain HTTP to a host that is not loopback.
#[derive(Debug)]
pub(crate) struct InsecureCredentials(String);

impl fmt::Display for InsecureCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "refusing to send credentials over plain http:// to non-loopback host {:?}; \
             use https:// or opt in with allow_insecure_credentials(true)",
            self.0
        )
    }
}

impl StdError for InsecureCredentials {}

pub(crate) fn check_secure(uri: &Uri) -> Result<(), InsecureCredentials> {
    if uri.scheme_str() == Some("https") {
        return Ok(());
    }
    let host = uri.host().unwrap_or("");
    if is_loopback(host) {
        Ok(())
    } else {
        Err(InsecureCredentials(host.to_owned()))
    }
}

/// A literal loopback address (127.0.0.0/8, `::1`, bracketed or not), or
/// `localhost` when the hosts file maps it to loopback addresses only.
///
/// Other names, `*.localhost` included, are not trusted: they are resolved
/// by ordinary DNS on many systems, which a network attacker may answer.
pub(crate) fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let lower = host.to_ascii_lowercase();
    if lower.trim_end_matches('.') == "localhost" {
        return localhost_is_loopback();
    }
    is_loopback_ip(host)
}

fn is_loopback_ip(s: &str) -> bool {
    s.parse::<IpAddr>().is_ok_and(|ip| match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    })
}

/// Whether `localhost` resolves to loopback from the hosts file (read once).
/// Where there is no `/etc/hosts` (Windows), the system resolves
/// `localhost` itself, to loopback.
fn localhost_is_loopback() -> bool {
    static ANSWER: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ANSWER.get_or_init(|| {
        if cfg!(unix) {
            std::fs::read_to_string("/etc/hosts").is_ok_and(|h| hosts_map_localhost_to_loopback(&h))
        } else {
            true
        }
    })
}

/// Whether a hosts file names `localhost`, and only on loopback addresses.
pub(crate) fn hosts_map_localhost_to_loopback(hosts: &str) -> bool {
    let mut found = false;
    for line in hosts.lines() {
        let line = line.split('#').next().unwrap_or("");
        let mut fields = line.split_whitespace();
        let Some(addr) = fields.next() else { continue };
        if fields.any(|name| name.trim_end_matches('.').eq_ignore_ascii_case("localhost")) {
            if !is_loopback_ip(addr) {
                return false;
            }
            found = true;
        }
    }
    found
}
