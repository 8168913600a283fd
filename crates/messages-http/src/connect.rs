//! The bottom of the stack: TCP + TLS connector with a connect timeout, and
//! the hyper-util pooled client as a `Service<Request<Bytes>>`.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, Uri};
use http_body_util::{BodyExt, Full};
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

/// The pooled hyper-util client as a tower service. Refuses to send
/// credentials over plain HTTP to a host that is not loopback unless allowed;
/// this check runs last, after any user layer could have changed the URL.
#[derive(Clone)]
pub(crate) struct HyperService {
    client: Client<Connector, Full<Bytes>>,
    allow_insecure_credentials: bool,
}

impl HyperService {
    pub(crate) fn new(
        client: Client<Connector, Full<Bytes>>,
        allow_insecure_credentials: bool,
    ) -> Self {
        HyperService {
            client,
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
        // The legacy client is always ready; it queues on its pool.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<Bytes>) -> Self::Future {
        if !self.allow_insecure_credentials
            && has_credentials(req.headers())
            && let Err(e) = check_secure(req.uri())
        {
            return HyperFuture {
                inner: None,
                error: Some(Box::new(e)),
            };
        }
        HyperFuture {
            inner: Some(self.client.request(req.map(Full::new))),
            error: None,
        }
    }
}

/// The future of the bottom service.
pub(crate) struct HyperFuture {
    inner: Option<hyper_util::client::legacy::ResponseFuture>,
    error: Option<BoxError>,
}

impl Future for HyperFuture {
    type Output = Result<Response<HttpBody>, BoxError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Some(e) = self.error.take() {
            return Poll::Ready(Err(e));
        }
        match self.inner.as_mut() {
            Some(fut) => Pin::new(fut).poll(cx).map(|r| match r {
                Ok(resp) => Ok(resp.map(|b| HttpBody::new(b.map_err(BoxError::from)))),
                Err(e) => Err(Box::new(e) as BoxError),
            }),
            None => Poll::Ready(Err("HyperFuture polled after completion".into())),
        }
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
