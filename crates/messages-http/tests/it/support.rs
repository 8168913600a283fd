//! Loopback test servers and a tracing capture.

use std::cell::RefCell;
use std::convert::Infallible;
use std::fmt::Write as _;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body::Frame;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// A response body for test servers: whole bytes, or chunks from a channel
/// (the server stalls while the sender is alive and sends nothing; an `Err`
/// aborts the connection mid-body).
pub(crate) enum TestBody {
    Full(Option<Bytes>),
    Chan(mpsc::Receiver<Result<Bytes, std::io::Error>>),
}

impl TestBody {
    pub(crate) fn full(b: impl Into<Bytes>) -> TestBody {
        TestBody::Full(Some(b.into()))
    }

    pub(crate) fn channel() -> (mpsc::Sender<Result<Bytes, std::io::Error>>, TestBody) {
        let (tx, rx) = mpsc::channel(16);
        (tx, TestBody::Chan(rx))
    }
}

impl http_body::Body for TestBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        match self.get_mut() {
            TestBody::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            TestBody::Chan(rx) => rx.poll_recv(cx).map(|o| o.map(|r| r.map(Frame::data))),
        }
    }
}

/// What the server saw of one request.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    pub(crate) at: Instant,
    pub(crate) method: Method,
    pub(crate) uri: String,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

pub(crate) struct Server {
    pub(crate) addr: SocketAddr,
    log: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `GET /x` through a default transport aimed at this server.
    pub(crate) async fn get_x(&self) -> messages_http::Result<messages_http::Response> {
        transport(&self.url())
            .build()
            .unwrap()
            .send(messages_http::Request::get("/x"))
            .await
    }

    pub(crate) fn seen(&self) -> Vec<Seen> {
        self.log.lock().unwrap().clone()
    }

    pub(crate) fn count(&self) -> usize {
        self.log.lock().unwrap().len()
    }
}

type HandlerFut = Pin<Box<dyn Future<Output = Response<TestBody>> + Send>>;

/// Serves HTTP/1.1 and HTTP/2 (prior knowledge) on a loopback port; the
/// handler gets the index of the request and what was seen.
pub(crate) async fn serve<H, F>(handler: H) -> Server
where
    H: Fn(usize, Seen) -> F + Send + Sync + 'static,
    F: Future<Output = Response<TestBody>> + Send + 'static,
{
    init_tracing();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let handler: Arc<dyn Fn(usize, Seen) -> HandlerFut + Send + Sync> =
        Arc::new(move |i, s| Box::pin(handler(i, s)));
    let counter = Arc::new(AtomicUsize::new(0));
    let log2 = log.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let handler = handler.clone();
            let log = log2.clone();
            let counter = counter.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req: Request<Incoming>| {
                    let handler = handler.clone();
                    let log = log.clone();
                    let counter = counter.clone();
                    async move {
                        let at = Instant::now();
                        let (parts, body) = req.into_parts();
                        let body = body
                            .collect()
                            .await
                            .map(|c| c.to_bytes())
                            .unwrap_or_default();
                        let seen = Seen {
                            at,
                            method: parts.method,
                            uri: parts.uri.to_string(),
                            headers: parts.headers,
                            body,
                        };
                        log.lock().unwrap().push(seen.clone());
                        let i = counter.fetch_add(1, Ordering::SeqCst);
                        Ok::<_, Infallible>(handler(i, seen).await)
                    }
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    Server { addr, log }
}

/// One scripted reply.
#[derive(Clone)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Bytes,
}

pub(crate) fn reply(status: u16, body: &str) -> Reply {
    Reply {
        status,
        headers: Vec::new(),
        body: Bytes::copy_from_slice(body.as_bytes()),
    }
}

impl Reply {
    pub(crate) fn header(mut self, k: &str, v: &str) -> Reply {
        self.headers.push((k.to_owned(), v.to_owned()));
        self
    }
}

pub(crate) fn respond(r: &Reply) -> Response<TestBody> {
    let mut resp = Response::new(TestBody::full(r.body.clone()));
    *resp.status_mut() = StatusCode::from_u16(r.status).unwrap();
    for (k, v) in &r.headers {
        resp.headers_mut().append(
            http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            http::HeaderValue::from_str(v).unwrap(),
        );
    }
    resp
}

/// Replies with the script in order; the last reply repeats.
pub(crate) async fn scripted(replies: Vec<Reply>) -> Server {
    let replies = Arc::new(replies);
    serve(move |i, _| {
        let r = replies[i.min(replies.len() - 1)].clone();
        async move { respond(&r) }
    })
    .await
}

pub(crate) fn error_json(kind: &str, msg: &str) -> String {
    format!(
        r#"{{"type":"error","error":{{"type":"{kind}","message":"{msg}"}},"request_id":"req_body"}}"#
    )
}

pub(crate) fn transport(url: &str) -> messages_http::TransportBuilder {
    init_tracing();
    messages_http::Transport::builder()
        .api_key("sk-ant-test")
        .base_url(url)
}

// ===== tracing capture =====

// A scoped subscriber (`set_default`) races with tests on other threads that
// register the same callsites (their cached interest can be "never"), so one
// global subscriber is installed before any test sends a request, and it
// writes to a per-thread sink that a test can switch on.

thread_local! {
    static SINK: RefCell<Option<Arc<Mutex<String>>>> = const { RefCell::new(None) };
}

/// Installs the global capturing subscriber (once; callers wait for it).
pub(crate) fn init_tracing() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = tracing::subscriber::set_global_default(Router {
            next: AtomicU64::new(1),
        });
    });
}

/// Captures every span, field record and event emitted on this thread (the
/// current-thread runtime of a `#[tokio::test]`) until the guard is dropped.
pub(crate) fn capture() -> (CaptureGuard, Arc<Mutex<String>>) {
    init_tracing();
    let out = Arc::new(Mutex::new(String::new()));
    SINK.with(|s| *s.borrow_mut() = Some(out.clone()));
    (CaptureGuard, out)
}

pub(crate) struct CaptureGuard;

impl Drop for CaptureGuard {
    fn drop(&mut self) {
        SINK.with(|s| *s.borrow_mut() = None);
    }
}

fn with_sink(f: impl FnOnce(&mut String)) {
    SINK.with(|s| {
        if let Some(out) = &*s.borrow() {
            f(&mut out.lock().unwrap());
        }
    });
}

struct Router {
    next: AtomicU64,
}

struct Visit<'a>(&'a mut String);

impl tracing::field::Visit for Visit<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={:?}", field.name(), value);
    }
}

impl tracing::Subscriber for Router {
    fn register_callsite(
        &self,
        _: &'static tracing::Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        tracing::subscriber::Interest::always()
    }

    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }

    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(tracing::level_filters::LevelFilter::TRACE)
    }

    fn new_span(&self, attrs: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        with_sink(|out| {
            let _ = write!(out, "\nspan {}:", attrs.metadata().name());
            attrs.record(&mut Visit(out));
        });
        tracing::span::Id::from_u64(self.next.fetch_add(1, Ordering::Relaxed))
    }

    fn record(&self, _: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        with_sink(|out| {
            out.push_str("\nrecord:");
            values.record(&mut Visit(out));
        });
    }

    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}

    fn event(&self, event: &tracing::Event<'_>) {
        with_sink(|out| {
            let _ = write!(out, "\nevent {}:", event.metadata().target());
            event.record(&mut Visit(out));
        });
    }

    fn enter(&self, _: &tracing::span::Id) {}

    fn exit(&self, _: &tracing::span::Id) {}
}

pub(crate) fn assert_send<T: Send>(_: &T) {}
