//! [`Relay`]: the tower `Service`, its routes, and the upstream task of
//! each stream.

use std::collections::HashMap;
use std::convert::Infallible;
use std::fmt;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_core::Stream;
use http::request::Parts;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use messages_http::Transport;
use messages_stream::{MessageStream, ResumePolicy, StreamOptions};
use messages_types::MessageRequest;
use serde::Serialize;
use tokio::sync::oneshot;
use tracing::Instrument;

use crate::body::{EventBody, RelayBody};
use crate::format::{Arena, ErrorInfo, Format, Item, Writer, map_event};
use crate::policy::{ChatPolicy, ChatRequest, Policy, Rejection};
use crate::store::{BoxFuture, BufferStore, Entry, MemoryStore, StoreError};

/// The browser relay, a tower [`Service`](tower::Service) over
/// `http::Request` / `http::Response`.
///
/// Routes, under a configurable path (`/chat` by default):
///
/// | method and path | what it does |
/// |---|---|
/// | `POST /chat` | starts a stream from the JSON body (see [`ChatRequest`]) and answers with its events; with `Accept: application/json`, answers `201 {"id", "url"}` and the events are read with `GET` |
/// | `GET /chat/{id}` | the stream's events after `Last-Event-ID` (header, or `last_event_id` query), then live; `204` once the stream ended and everything was read, `404` for an unknown or expired stream |
/// | `GET /chat/{chat_id}/stream` | the AI SDK's resume request: the live stream of that conversation from its start, or `204` when none runs |
/// | `POST /chat/{id}/stop` | cancels the upstream request at once (`204`) |
/// | `GET /chat/counters` | the [`Counters`] as JSON |
/// | `OPTIONS` any of them | CORS preflight |
///
/// The format is the relay's default ([`RelayBuilder::format`]) unless the
/// request asks for another with the `format` query parameter or an
/// `Accept: text/event-stream; format=NAME` parameter.
///
/// Stream ids are 128-bit random capabilities: whoever has one can read and
/// stop that stream (after the policy's [`authorize`](Policy::authorize)).
/// A conversation id comes from the page; resuming by it finds only running
/// streams, so pages should use unguessable ids (the AI SDK's are), or the
/// policy should refuse requests for conversations the caller does not own.
///
/// Cloning is cheap (an `Arc`); every clone serves the same streams.
/// Mount it in hyper with `hyper_util::service::TowerToHyperService`, or in
/// axum with `Router::route_service` (see the crate examples).
#[derive(Clone)]
pub struct Relay {
    inner: Arc<Inner>,
}

impl fmt::Debug for Relay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Relay")
            .field("config", &self.inner.config)
            .field("policy", &self.inner.policy)
            .field("store", &self.inner.store)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) path: String,
    pub(crate) format: Format,
    pub(crate) keep: Duration,
    pub(crate) grace: Duration,
    pub(crate) heartbeat: Duration,
    pub(crate) retry_ms: u64,
    pub(crate) batch: usize,
    pub(crate) resume: Option<ResumePolicy>,
    pub(crate) allow_origin: Option<HeaderValue>,
}

pub(crate) struct Inner {
    pub(crate) config: Config,
    pub(crate) store: Arc<dyn BufferStore>,
    pub(crate) counters: CounterCells,
    transport: Transport,
    policy: Arc<dyn Policy>,
    /// Streams whose upstream task runs.
    live: Mutex<HashMap<Arc<str>, Arc<Live>>>,
    /// Conversation id to its latest stream (for the AI SDK's resume).
    chats: Mutex<HashMap<String, Arc<str>>>,
    ids: AtomicU64,
}

/// The state of a running stream.
struct Live {
    /// The upstream task has ended (nothing left to cancel).
    done: std::sync::atomic::AtomicBool,
    attached: AtomicUsize,
    /// Bumped on every attach and detach, so a grace timer can tell whether
    /// anyone came back while it slept.
    generation: AtomicU64,
    cancel: Mutex<Option<oneshot::Sender<()>>>,
}

impl Live {
    fn cancel(&self) -> bool {
        lock(&self.cancel)
            .take()
            .is_some_and(|tx| tx.send(()).is_ok())
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Counts what the relay did since it was built (from [`Relay::counters`],
/// or as JSON at `GET /chat/counters`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Counters {
    /// Streams whose upstream request is running.
    pub active_streams: u64,
    /// Browser connections reading a stream right now.
    pub connections: u64,
    /// Streams started (one upstream request each).
    pub streams: u64,
    /// SSE events written to browsers (heartbeats not included).
    pub events: u64,
    /// Bytes of events and heartbeats written to browsers.
    pub bytes: u64,
    /// Heartbeats written.
    pub heartbeats: u64,
    /// Text deltas merged into the one before them for a reader that was behind.
    pub merged: u64,
    /// Upstream requests cancelled (stop, or nobody came back within the grace period).
    pub cancels: u64,
    /// Reconnections that replayed a stream (`GET /chat/{id}`, AI SDK resume).
    pub resumes: u64,
    /// Streams that ended with an error event.
    pub errors: u64,
}

#[derive(Debug, Default)]
pub(crate) struct CounterCells {
    pub(crate) active_streams: AtomicU64,
    pub(crate) connections: AtomicU64,
    pub(crate) streams: AtomicU64,
    pub(crate) events: AtomicU64,
    pub(crate) bytes: AtomicU64,
    pub(crate) heartbeats: AtomicU64,
    pub(crate) merged: AtomicU64,
    pub(crate) cancels: AtomicU64,
    pub(crate) resumes: AtomicU64,
    pub(crate) errors: AtomicU64,
}

impl CounterCells {
    fn snapshot(&self) -> Counters {
        let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Counters {
            active_streams: l(&self.active_streams),
            connections: l(&self.connections),
            streams: l(&self.streams),
            events: l(&self.events),
            bytes: l(&self.bytes),
            heartbeats: l(&self.heartbeats),
            merged: l(&self.merged),
            cancels: l(&self.cancels),
            resumes: l(&self.resumes),
            errors: l(&self.errors),
        }
    }
}

/// Builds a [`Relay`]; from [`Relay::builder`].
#[must_use]
pub struct RelayBuilder {
    transport: Transport,
    policy: Arc<dyn Policy>,
    store: Arc<dyn BufferStore>,
    config: Config,
}

impl fmt::Debug for RelayBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RelayBuilder")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl RelayBuilder {
    /// The [`Policy`]. Default [`ChatPolicy::default`].
    pub fn policy(mut self, policy: impl Policy) -> RelayBuilder {
        self.policy = Arc::new(policy);
        self
    }

    /// The [`BufferStore`]. Default a [`MemoryStore`] (4 MiB per stream).
    pub fn store(mut self, store: impl BufferStore) -> RelayBuilder {
        self.store = Arc::new(store);
        self
    }

    /// The path of `POST`, under which the other routes live. Default `/chat`.
    pub fn path(mut self, path: impl Into<String>) -> RelayBuilder {
        let path: String = path.into();
        self.config.path = path.trim_end_matches('/').to_owned();
        self
    }

    /// The format when the request does not ask for one. Default
    /// [`Format::UiMessageStream`].
    pub fn format(mut self, format: Format) -> RelayBuilder {
        self.config.format = format;
        self
    }

    /// How long a stream's events are kept after it ended, for reconnects.
    /// Default 5 minutes.
    pub fn keep(mut self, keep: Duration) -> RelayBuilder {
        self.config.keep = keep;
        self
    }

    /// How long a stream with no browser attached keeps its upstream request
    /// before cancelling it. Default 10 seconds.
    pub fn grace(mut self, grace: Duration) -> RelayBuilder {
        self.config.grace = grace;
        self
    }

    /// The heartbeat interval: a heartbeat is written after this long
    /// without an event. Default 15 seconds.
    pub fn heartbeat(mut self, every: Duration) -> RelayBuilder {
        self.config.heartbeat = every;
        self
    }

    /// The reconnection delay sent to `EventSource`s (the `retry` field).
    /// Default 1,000 ms.
    pub fn retry_ms(mut self, ms: u64) -> RelayBuilder {
        self.config.retry_ms = ms;
        self
    }

    /// The most events a connection takes from the buffer at once (and so
    /// the most that merge into one write). Default 256.
    pub fn batch(mut self, n: usize) -> RelayBuilder {
        self.config.batch = n.max(1);
        self
    }

    /// Resumes broken upstream streams (see [`ResumePolicy`]). Default off.
    pub fn resume(mut self, policy: ResumePolicy) -> RelayBuilder {
        self.config.resume = Some(policy);
        self
    }

    /// Sends `Access-Control-Allow-Origin: ORIGIN` (and answers preflights).
    /// Default: no CORS headers (same-origin pages only).
    ///
    /// # Panics
    ///
    /// If `origin` is not a valid header value.
    pub fn allow_origin(mut self, origin: &str) -> RelayBuilder {
        self.config.allow_origin = Some(HeaderValue::from_str(origin).expect("a header value"));
        self
    }

    /// The relay.
    pub fn build(self) -> Relay {
        Relay {
            inner: Arc::new(Inner {
                config: self.config,
                store: self.store,
                counters: CounterCells::default(),
                transport: self.transport,
                policy: self.policy,
                live: Mutex::new(HashMap::new()),
                chats: Mutex::new(HashMap::new()),
                ids: AtomicU64::new(0),
            }),
        }
    }
}

/// Keeps a stream counted as attached while a connection reads it.
pub(crate) struct Attachment {
    inner: Arc<Inner>,
    stream: Arc<str>,
    live: Arc<Live>,
}

impl Drop for Attachment {
    fn drop(&mut self) {
        self.live.generation.fetch_add(1, Ordering::SeqCst);
        if self.live.attached.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.inner.start_grace(&self.stream, &self.live);
        }
    }
}

impl Relay {
    /// A builder sending upstream requests through `transport`.
    pub fn builder(transport: Transport) -> RelayBuilder {
        RelayBuilder {
            transport,
            policy: Arc::new(ChatPolicy::default()),
            store: Arc::new(MemoryStore::new()),
            config: Config {
                path: "/chat".to_owned(),
                format: Format::default(),
                keep: Duration::from_secs(300),
                grace: Duration::from_secs(10),
                heartbeat: Duration::from_secs(15),
                retry_ms: 1000,
                batch: 256,
                resume: None,
                allow_origin: None,
            },
        }
    }

    /// What the relay did so far.
    pub fn counters(&self) -> Counters {
        self.inner.counters.snapshot()
    }

    /// Cancels stream `id`'s upstream request now (what `POST
    /// /chat/{id}/stop` does). Returns whether it was running.
    pub fn stop(&self, id: &str) -> bool {
        let live = lock(&self.inner.live).get(id).cloned();
        live.is_some_and(|l| l.cancel())
    }

    async fn handle<B>(self, req: Request<B>) -> Response<RelayBody>
    where
        B: http_body::Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let (head, body) = req.into_parts();
        let mut res = self.route(head, body).await;
        self.inner.common_headers(res.headers_mut());
        res
    }

    async fn route<B>(&self, head: Parts, body: B) -> Response<RelayBody>
    where
        B: http_body::Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let inner = &self.inner;
        let base = inner.config.path.as_str();
        let path = head.uri.path();
        let Some(rest) = path.strip_prefix(base) else {
            return not_found("no such route");
        };
        if !(rest.is_empty() || rest.starts_with('/')) {
            return not_found("no such route");
        }
        if head.method == Method::OPTIONS {
            return inner.preflight();
        }
        if let Err(r) = inner.policy.authorize(&head) {
            return r.into_response();
        }
        let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
        let format = match requested_format(&head) {
            Ok(f) => f.unwrap_or(inner.config.format),
            Err(e) => return Rejection::bad_request(e).into_response(),
        };
        match (&head.method, segments.as_slice()) {
            (&Method::POST, []) => self.start(head, body, format).await,
            (&Method::GET, ["counters"]) => json(StatusCode::OK, &inner.counters.snapshot()),
            (&Method::GET, [id]) => self.resume(&head, id, format).await,
            (&Method::GET, [chat, "stream"]) => self.resume_chat(chat, format).await,
            (&Method::POST, [id, "stop"]) => self.stop_route(id).await,
            (_, [] | ["counters"] | [_] | [_, "stream"] | [_, "stop"]) => {
                let mut res = Rejection::new(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "invalid_request_error",
                    format!("{} is not allowed here", head.method),
                )
                .into_response();
                let allow = if segments.is_empty() || segments.last() == Some(&"stop") {
                    "POST, OPTIONS"
                } else {
                    "GET, OPTIONS"
                };
                res.headers_mut()
                    .insert(header::ALLOW, HeaderValue::from_static(allow));
                res
            }
            _ => not_found("no such route"),
        }
    }

    async fn start<B>(&self, head: Parts, body: B, format: Format) -> Response<RelayBody>
    where
        B: http_body::Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let inner = &self.inner;
        let max = inner.policy.max_body_bytes();
        let declared = head
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > max as u64) {
            return Rejection::too_large(format!("the body is over {max} bytes")).into_response();
        }
        let bytes = match http_body_util::Limited::new(body, max).collect().await {
            Ok(c) => c.to_bytes(),
            Err(e) if e.is::<http_body_util::LengthLimitError>() => {
                return Rejection::too_large(format!("the body is over {max} bytes"))
                    .into_response();
            }
            Err(e) => {
                return Rejection::bad_request(format!("cannot read the body: {e}"))
                    .into_response();
            }
        };
        let chat: ChatRequest = match serde_json::from_slice(&bytes) {
            Ok(c) => c,
            Err(e) => {
                return Rejection::bad_request(format!("the body is not a chat request: {e}"))
                    .into_response();
            }
        };
        let chat_id = chat.id.clone();
        let request = match inner.policy.request(&head, chat) {
            Ok(r) => r,
            Err(r) => return r.into_response(),
        };
        let id = inner.new_id();
        if let Err(e) = inner.store.create(&id).await {
            return store_error(&e);
        }
        let (tx, rx) = oneshot::channel();
        let live = Arc::new(Live {
            done: std::sync::atomic::AtomicBool::new(false),
            attached: AtomicUsize::new(0),
            generation: AtomicU64::new(0),
            cancel: Mutex::new(Some(tx)),
        });
        lock(&inner.live).insert(Arc::clone(&id), Arc::clone(&live));
        if let Some(chat) = &chat_id {
            lock(&inner.chats).insert(chat.clone(), Arc::clone(&id));
        }
        inner.counters.streams.fetch_add(1, Ordering::Relaxed);
        inner
            .counters
            .active_streams
            .fetch_add(1, Ordering::Relaxed);
        let span = tracing::info_span!("relay_stream", stream = %id, format = %format);
        let task = produce(Arc::clone(inner), Arc::clone(&id), chat_id, request, rx);
        tokio::spawn(task.instrument(span));
        let wants_json = accepts(&head.headers, "application/json")
            && !accepts(&head.headers, "text/event-stream");
        if wants_json {
            // Nobody reads yet: the grace period starts now.
            inner.start_grace(&id, &live);
            let url = format!("{}/{}", inner.config.path, id);
            let mut res = json(
                StatusCode::CREATED,
                &serde_json::json!({"id": &*id, "url": url}),
            );
            if let Ok(v) = HeaderValue::from_str(&url) {
                res.headers_mut().insert(header::LOCATION, v);
            }
            set_stream_id(&mut res, &id);
            return res;
        }
        let attachment = inner.attach(&id, &live);
        self.events(id, 0, format, Some(attachment))
    }

    fn events(
        &self,
        id: Arc<str>,
        after: u64,
        format: Format,
        attachment: Option<Attachment>,
    ) -> Response<RelayBody> {
        let body = EventBody::new(
            Arc::clone(&self.inner),
            Arc::clone(&id),
            after,
            Writer::new(format),
            attachment,
        );
        let mut res = Response::new(RelayBody::events(body));
        let h = res.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/event-stream; charset=utf-8"),
        );
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        h.insert("x-accel-buffering", HeaderValue::from_static("no"));
        if format == Format::UiMessageStream {
            h.insert(
                "x-vercel-ai-ui-message-stream",
                HeaderValue::from_static("v1"),
            );
        }
        set_stream_id(&mut res, &id);
        res
    }

    async fn resume(&self, head: &Parts, id: &str, format: Format) -> Response<RelayBody> {
        let after = match last_event_id(head) {
            Ok(a) => a,
            Err(e) => return Rejection::bad_request(e).into_response(),
        };
        let inner = &self.inner;
        let state = match inner.store_state(id, after).await {
            Ok(s) => s,
            Err(e) => return store_error(&e),
        };
        if state.drained {
            return no_content();
        }
        inner.counters.resumes.fetch_add(1, Ordering::Relaxed);
        let live = lock(&inner.live)
            .get_key_value(id)
            .map(|(k, v)| (Arc::clone(k), Arc::clone(v)));
        match live {
            Some((key, live)) => {
                let attachment = inner.attach(&key, &live);
                self.events(key, after, format, Some(attachment))
            }
            None => self.events(Arc::from(id), after, format, None),
        }
    }

    async fn resume_chat(&self, chat: &str, format: Format) -> Response<RelayBody> {
        let inner = &self.inner;
        let stream = lock(&inner.chats).get(chat).cloned();
        let live = stream.and_then(|s| lock(&inner.live).get(&s).cloned().map(|l| (s, l)));
        match live {
            Some((id, live)) => {
                inner.counters.resumes.fetch_add(1, Ordering::Relaxed);
                let attachment = inner.attach(&id, &live);
                self.events(id, 0, format, Some(attachment))
            }
            None => no_content(),
        }
    }

    async fn stop_route(&self, id: &str) -> Response<RelayBody> {
        if self.stop(id) {
            return no_content();
        }
        // Running on another instance? A shared store passes the stop on.
        match self.inner.store.stop(id).await {
            Ok(true) => return no_content(),
            Ok(false) => {}
            Err(e) => return store_error(&e),
        }
        match self.inner.store_state(id, 0).await {
            // Already ended (or stopping): stopping is idempotent.
            Ok(_) => no_content(),
            Err(e) => store_error(&e),
        }
    }
}

/// What the store knows of a stream, as far as a reader after some id
/// cares.
struct StoreState {
    /// The stream ended and no entry follows the reader's id.
    drained: bool,
}

impl Inner {
    fn new_id(&self) -> Arc<str> {
        // Stream ids are capabilities (whoever has one can read and stop
        // the stream): 128 bits from SipHash with the process's random keys.
        let n = self.ids.fetch_add(1, Ordering::Relaxed);
        let state = std::collections::hash_map::RandomState::new();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let a = state.hash_one((n, nanos, 1u8));
        let b = state.hash_one((n, nanos, 2u8));
        Arc::from(format!("rs_{a:016x}{b:016x}"))
    }

    async fn store_state(&self, id: &str, after: u64) -> Result<StoreState, StoreError> {
        // A stream running here is not drained.
        if lock(&self.live).contains_key(id) {
            return Ok(StoreState { drained: false });
        }
        // Ended here, or kept by a shared store: one entry after `after`
        // tells (it waits only for a stream running on another instance
        // that has nothing after `after` yet).
        match self.store.read(id, after, 1).await {
            Ok(batch) => Ok(StoreState {
                drained: batch.end && batch.entries.is_empty(),
            }),
            // The stream exists; the reader's body reports the bad entry
            // as an error event in its format.
            Err(StoreError::Corrupt(_)) => Ok(StoreState { drained: false }),
            Err(e) => Err(e),
        }
    }

    fn attach(self: &Arc<Self>, id: &Arc<str>, live: &Arc<Live>) -> Attachment {
        live.generation.fetch_add(1, Ordering::SeqCst);
        live.attached.fetch_add(1, Ordering::SeqCst);
        Attachment {
            inner: Arc::clone(self),
            stream: Arc::clone(id),
            live: Arc::clone(live),
        }
    }

    /// Cancels the stream's upstream request if nobody attaches within the
    /// grace period.
    fn start_grace(self: &Arc<Self>, id: &Arc<str>, live: &Arc<Live>) {
        if live.done.load(Ordering::SeqCst) {
            return;
        }
        let generation = live.generation.load(Ordering::SeqCst);
        let grace = self.config.grace;
        let live = Arc::clone(live);
        let id = Arc::clone(id);
        let unattached = {
            let live = Arc::clone(&live);
            move || {
                live.generation.load(Ordering::SeqCst) == generation
                    && live.attached.load(Ordering::SeqCst) == 0
            }
        };
        let cancel = {
            let id = Arc::clone(&id);
            move || {
                if live.cancel() {
                    tracing::debug!(stream = %id, "nobody came back within the grace period: cancelled");
                }
            }
        };
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                let store = Arc::clone(&self.store);
                rt.spawn(async move {
                    loop {
                        tokio::time::sleep(grace).await;
                        if !unattached() {
                            return;
                        }
                        // A browser that came back through another instance
                        // of a shared store keeps the stream running.
                        if !store.read_elsewhere(&id).await {
                            break;
                        }
                    }
                    cancel();
                });
            }
            // Outside a runtime nothing can come back: cancel now.
            Err(_) => {
                if unattached() {
                    cancel();
                }
            }
        }
    }

    fn preflight(&self) -> Response<RelayBody> {
        let mut res = no_content();
        if self.config.allow_origin.is_some() {
            let h = res.headers_mut();
            h.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET, POST, OPTIONS"),
            );
            h.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static("authorization, content-type, last-event-id"),
            );
            h.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static("600"),
            );
        }
        res
    }

    fn common_headers(&self, h: &mut HeaderMap) {
        h.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        h.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
        if !h.contains_key(header::CACHE_CONTROL) {
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        if let Some(origin) = &self.config.allow_origin {
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
            h.insert(
                header::ACCESS_CONTROL_EXPOSE_HEADERS,
                HeaderValue::from_static("x-relay-stream-id, x-vercel-ai-ui-message-stream"),
            );
            h.insert(header::VARY, HeaderValue::from_static("origin"));
        }
    }
}

/// Reads the upstream stream into the store, until it ends, fails or is
/// cancelled.
async fn produce(
    inner: Arc<Inner>,
    id: Arc<str>,
    chat: Option<String>,
    request: MessageRequest,
    mut cancel: oneshot::Receiver<()>,
) {
    let mut next = 1u64;
    let mut arena = Arena::default();
    // The items need the snapshot's block kinds, tool inputs and usage; its
    // text (a second copy of the reply, beside the store's) only to resume.
    let options = match inner.config.resume {
        Some(policy) => StreamOptions::new().resume(policy),
        None => StreamOptions::new().discard_text(true),
    };
    let opened = tokio::select! {
        biased;
        _ = &mut cancel => None,
        // Boxed, with the request moved in: opening (the transport's retries
        // and timeouts) is the largest state of this task, and the box (and
        // the request, which a resumable stream keeps its own copy of) is
        // freed once the stream is open instead of held for the whole reply.
        r = Box::pin(async {
            let request = request;
            MessageStream::open(&inner.transport, &request, options).await
        }) => Some(r),
    };
    let last = match opened {
        None => Item::Stopped,
        Some(Err(e)) => Item::Error(error_info(&e)),
        Some(Ok(mut stream)) => loop {
            let event = tokio::select! {
                biased;
                _ = &mut cancel => break Item::Stopped,
                e = std::future::poll_fn(|cx| std::pin::Pin::new(&mut stream).poll_next(cx)) => e,
            };
            let item = match event {
                Some(Ok(event)) => {
                    map_event(&event, stream.raw_data(), stream.snapshot(), &mut arena)
                }
                Some(Err(e)) => break Item::Error(error_info(&e)),
                None => {
                    break Item::Error(ErrorInfo {
                        kind: "api_error".to_owned(),
                        message: "the upstream stream ended before `message_stop`".to_owned(),
                        request_id: stream.request_id().map(str::to_owned),
                    });
                }
            };
            if item.is_terminal() {
                break item;
            }
            match inner.store.append(&id, Entry::new(next, item)).await {
                Ok(()) => next += 1,
                // Stopped from another instance, through a shared store.
                Err(StoreError::Stopped) => break Item::Stopped,
                Err(e) => {
                    break Item::Error(ErrorInfo {
                        kind: "api_error".to_owned(),
                        message: format!("the relay stopped the reply: {e}"),
                        request_id: stream.request_id().map(str::to_owned),
                    });
                }
            }
        },
        // Leaving the match drops the upstream stream: its connection closes.
    };
    match &last {
        Item::Stopped => {
            inner.counters.cancels.fetch_add(1, Ordering::Relaxed);
            tracing::debug!("upstream cancelled");
        }
        Item::Error(e) => {
            inner.counters.errors.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(error = %e.kind, message = %e.message, "stream failed");
        }
        _ => {}
    }
    let _ = inner.store.append(&id, Entry::new(next, last)).await;
    let _ = inner.store.finish(&id, inner.config.keep).await;
    if let Some(live) = lock(&inner.live).remove(&id) {
        live.done.store(true, Ordering::SeqCst);
    }
    // Only running streams are resumed by conversation id.
    if let Some(chat) = chat {
        let mut chats = lock(&inner.chats);
        if chats.get(&chat).is_some_and(|s| *s == id) {
            chats.remove(&chat);
        }
    }
    inner
        .counters
        .active_streams
        .fetch_sub(1, Ordering::Relaxed);
}

/// The page's view of a stream error: the API's error type when there is
/// one, `timeout_error` for a stall, `api_error` otherwise.
fn error_info(e: &messages_stream::Error) -> ErrorInfo {
    let (kind, message) = match e.api_error() {
        Some(api) => (api.kind.as_str().to_owned(), api.message.clone()),
        None if e.is_idle_timeout() => ("timeout_error".to_owned(), e.to_string()),
        None => ("api_error".to_owned(), e.to_string()),
    };
    ErrorInfo {
        kind,
        message,
        request_id: e.request_id().map(str::to_owned),
    }
}

fn requested_format(head: &Parts) -> Result<Option<Format>, String> {
    if let Some(q) = head.uri.query() {
        for pair in q.split('&') {
            if let Some(v) = pair.strip_prefix("format=") {
                return v.parse().map(Some).map_err(|e| format!("format: {e}"));
            }
        }
    }
    for accept in head.headers.get_all(header::ACCEPT) {
        let Ok(accept) = accept.to_str() else {
            continue;
        };
        for param in accept.split([',', ';']) {
            if let Some(v) = param.trim().strip_prefix("format=") {
                let v = v.trim_matches('"');
                return v.parse().map(Some).map_err(|e| format!("Accept: {e}"));
            }
        }
    }
    Ok(None)
}

fn last_event_id(head: &Parts) -> Result<u64, String> {
    if let Some(v) = head.headers.get("last-event-id") {
        let s = v
            .to_str()
            .map_err(|_| "Last-Event-ID: not text".to_owned())?;
        if s.trim().is_empty() {
            return Ok(0);
        }
        return s
            .trim()
            .parse()
            .map_err(|_| format!("Last-Event-ID: {s:?} is not an event id of this relay"));
    }
    if let Some(q) = head.uri.query() {
        for pair in q.split('&') {
            if let Some(v) = pair.strip_prefix("last_event_id=") {
                return v
                    .parse()
                    .map_err(|_| format!("last_event_id: {v:?} is not an event id"));
            }
        }
    }
    Ok(0)
}

fn accepts(headers: &HeaderMap, mime: &str) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split(',').any(|m| m.trim().starts_with(mime)))
}

fn set_stream_id(res: &mut Response<RelayBody>, id: &str) {
    if let Ok(v) = HeaderValue::from_str(id) {
        res.headers_mut().insert("x-relay-stream-id", v);
    }
}

fn json<T: Serialize>(status: StatusCode, value: &T) -> Response<RelayBody> {
    let body = serde_json::to_vec(value).unwrap_or_default();
    let mut res = Response::new(RelayBody::from(Bytes::from(body)));
    *res.status_mut() = status;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}

fn no_content() -> Response<RelayBody> {
    let mut res = Response::new(RelayBody::empty());
    *res.status_mut() = StatusCode::NO_CONTENT;
    res
}

fn not_found(message: &str) -> Response<RelayBody> {
    Rejection::new(StatusCode::NOT_FOUND, "not_found_error", message).into_response()
}

fn store_error(e: &StoreError) -> Response<RelayBody> {
    match e {
        StoreError::NotFound => not_found("no such stream (unknown, or expired)"),
        other => Rejection::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "api_error",
            other.to_string(),
        )
        .into_response(),
    }
}

impl<B> tower::Service<Request<B>> for Relay
where
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = Response<RelayBody>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response<RelayBody>, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let relay = self.clone();
        Box::pin(async move { Ok(relay.handle(req).await) })
    }
}
