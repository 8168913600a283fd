//! A minimal hyper server for a [`Relay`](crate::Relay) (or any service
//! answering with [`RelayBody`]), and the embedded demo page.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, header};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

use crate::body::RelayBody;

/// The demo chat page: one static HTML file with its CSS and JS inline,
/// loading nothing from elsewhere. It posts to `/chat`, shows the reply as it
/// streams, has a stop button, and resumes a reply in progress after a
/// reload (it keeps the stream id and last event id in `sessionStorage`).
pub const DEMO_PAGE: &str = include_str!("../assets/demo.html");

/// Accepts connections on `listener` and serves each (HTTP/1.1, or HTTP/2
/// with prior knowledge) with a clone of `service`.
///
/// Each connection runs on its own task. Dropping the returned future stops
/// accepting; connections already open keep being served by their tasks.
/// A failed accept never stops the server: a connection reset before it
/// was accepted is skipped, and running out of file descriptors (or any
/// other accept error) is logged and retried after 50 ms, while the open
/// connections keep being served.
///
/// # Errors
///
/// None today: it runs until dropped. (The `Result` leaves room for
/// setup errors.)
pub async fn serve<S>(listener: TcpListener, service: S) -> io::Result<()>
where
    S: tower::Service<
            Request<hyper::body::Incoming>,
            Response = Response<RelayBody>,
            Error = Infallible,
        > + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    loop {
        let tcp = match listener.accept().await {
            Ok((tcp, _)) => tcp,
            Err(e) => {
                if !matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionAborted
                        | io::ErrorKind::ConnectionReset
                        | io::ErrorKind::ConnectionRefused
                ) {
                    // EMFILE and friends: wait for connections to close.
                    tracing::warn!(error = %e, "accepting a connection failed; retrying in 50 ms");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let service = TowerToHyperService::new(service.clone());
        tokio::spawn(async move {
            let builder = auto::Builder::new(TokioExecutor::new());
            let builder = match sniff(&tcp).await {
                Some(Sniffed::Http1) => builder.http1_only(),
                Some(Sniffed::Http2) => builder.http2_only(),
                None => builder,
            };
            if let Err(e) = builder.serve_connection(TokioIo::new(tcp), service).await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
}

/// What a connection speaks, told from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sniffed {
    Http1,
    Http2,
}

/// The HTTP/2 connection preface's first bytes (RFC 9113, section 3.4); no
/// HTTP/1.1 method is `PRI`.
const H2_PREFACE: &[u8] = b"PRI";

/// Tells HTTP/1.1 from HTTP/2 by peeking at the connection's first bytes,
/// without consuming them; `None` when they do not tell yet (fewer than
/// three bytes, all of them the preface's) or the peek failed.
///
/// The connection is then served by a builder fixed to that version. Left
/// to find out itself, hyper-util's `auto` builder reads the first bytes
/// into a buffer of its own and hands them back ahead of the socket, and
/// hyper's read buffer then grows from 8 to 16 KiB to hold the rest, for
/// the connection's whole life: 8 KiB more per browser stream.
async fn sniff(tcp: &tokio::net::TcpStream) -> Option<Sniffed> {
    let mut first = [0u8; 3];
    let n = tcp.peek(&mut first).await.ok()?;
    if n == 0 {
        return None;
    }
    if !H2_PREFACE.starts_with(&first[..n]) {
        return Some(Sniffed::Http1);
    }
    (n == H2_PREFACE.len()).then_some(Sniffed::Http2)
}

/// A service that answers `GET /` with the [`DEMO_PAGE`] and hands every
/// other request to `inner`.
#[derive(Debug, Clone)]
pub struct WithDemoPage<S> {
    inner: S,
}

impl<S> WithDemoPage<S> {
    /// Wraps `inner`.
    pub fn new(inner: S) -> WithDemoPage<S> {
        WithDemoPage { inner }
    }
}

impl<S, B> tower::Service<Request<B>> for WithDemoPage<S>
where
    S: tower::Service<Request<B>, Response = Response<RelayBody>, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = Response<RelayBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<RelayBody>, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        if req.method() == Method::GET && matches!(req.uri().path(), "/" | "/index.html") {
            let mut res = Response::new(RelayBody::from(Bytes::from_static(DEMO_PAGE.as_bytes())));
            let h = res.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            // Everything is inline and same-origin; nothing may load from elsewhere.
            h.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'",
                ),
            );
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            h.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            return Box::pin(std::future::ready(Ok(res)));
        }
        Box::pin(self.inner.call(req))
    }
}
