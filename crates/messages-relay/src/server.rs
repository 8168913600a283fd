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
            if let Err(e) = builder.serve_connection(TokioIo::new(tcp), service).await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
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
