//! The response bodies: [`RelayBody`] and the per-connection event reader.

use std::convert::Infallible;
use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body::{Body, Frame, SizeHint};
use tokio::time::Sleep;

use crate::format::{ErrorInfo, Item, Writer};
use crate::service::{Attachment, Inner};
use crate::store::{Batch, BoxFuture, StoreError};

/// The body of every response of the relay: a whole JSON or HTML body, or
/// an event stream that is written as the browser reads it.
///
/// # Backpressure and memory
///
/// An event stream reads its stream's buffered events only when hyper asks
/// for the next frame, which it does when the socket accepts more: a slow
/// browser holds no queue of its own beyond one batch (at most
/// [`RelayBuilder::batch`](crate::RelayBuilder::batch) events). Adjacent
/// text deltas of one block in a batch are merged into one event, so a
/// reader that falls behind catches up in fewer, larger events and never
/// loses text. Dropping the body (the browser left) detaches it from the
/// stream; the upstream request is cancelled once no body has been
/// attached for the grace period.
pub struct RelayBody {
    kind: Kind,
}

enum Kind {
    Full(Option<Bytes>),
    Events(Box<EventBody>),
    Stream(Option<Pin<Box<dyn futures_core::Stream<Item = Bytes> + Send>>>),
}

impl fmt::Debug for RelayBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Full(b) => f
                .debug_tuple("RelayBody::Full")
                .field(&b.as_ref().map_or(0, Bytes::len))
                .finish(),
            Kind::Events(e) => f
                .debug_struct("RelayBody::Events")
                .field("stream", &e.stream)
                .field("cursor", &e.cursor)
                .finish_non_exhaustive(),
            Kind::Stream(s) => f
                .debug_struct("RelayBody::Stream")
                .field("done", &s.is_none())
                .finish_non_exhaustive(),
        }
    }
}

impl From<Bytes> for RelayBody {
    fn from(b: Bytes) -> RelayBody {
        RelayBody {
            kind: Kind::Full(Some(b)),
        }
    }
}

impl RelayBody {
    /// A body written from `stream`, one frame per item, as hyper asks for
    /// them (so a slow reader holds no queue here): for event streams that
    /// do not come from a relayed reply, such as a dashboard's samples
    /// encoded with `sse_core::Encoder`. It ends when the stream ends;
    /// dropping the body drops the stream.
    pub fn from_stream<S>(stream: S) -> RelayBody
    where
        S: futures_core::Stream<Item = Bytes> + Send + 'static,
    {
        RelayBody {
            kind: Kind::Stream(Some(Box::pin(stream))),
        }
    }

    pub(crate) fn empty() -> RelayBody {
        RelayBody {
            kind: Kind::Full(None),
        }
    }

    pub(crate) fn events(body: EventBody) -> RelayBody {
        RelayBody {
            kind: Kind::Events(Box::new(body)),
        }
    }
}

impl Body for RelayBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match &mut self.get_mut().kind {
            Kind::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            Kind::Events(e) => e.poll(cx).map(|o| o.map(|b| Ok(Frame::data(b)))),
            Kind::Stream(slot) => {
                let Some(s) = slot.as_mut() else {
                    return Poll::Ready(None);
                };
                match s.as_mut().poll_next(cx) {
                    Poll::Ready(Some(b)) => Poll::Ready(Some(Ok(Frame::data(b)))),
                    Poll::Ready(None) => {
                        *slot = None;
                        Poll::Ready(None)
                    }
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Full(b) => b.is_none(),
            Kind::Events(e) => e.done,
            Kind::Stream(s) => s.is_none(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Full(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
            Kind::Events(_) | Kind::Stream(_) => SizeHint::default(),
        }
    }
}

/// One browser connection reading one stream.
pub(crate) struct EventBody {
    inner: Arc<Inner>,
    stream: Arc<str>,
    cursor: u64,
    writer: Writer,
    read: Option<BoxFuture<'static, Result<Batch, StoreError>>>,
    heartbeat: Pin<Box<Sleep>>,
    every: Duration,
    /// Written before the first batch (the `retry` field).
    preamble: Option<Bytes>,
    done: bool,
    _attachment: Option<Attachment>,
}

impl EventBody {
    pub(crate) fn new(
        inner: Arc<Inner>,
        stream: Arc<str>,
        after: u64,
        writer: Writer,
        attachment: Option<Attachment>,
    ) -> EventBody {
        let every = inner.config.heartbeat;
        inner.counters.connections.fetch_add(1, Ordering::Relaxed);
        let mut preamble = BytesMut::new();
        sse_core::Encoder::new().retry(inner.config.retry_ms, &mut preamble);
        EventBody {
            inner,
            stream,
            cursor: after,
            writer,
            read: None,
            heartbeat: Box::pin(tokio::time::sleep(every)),
            every,
            preamble: Some(preamble.freeze()),
            done: false,
            _attachment: attachment,
        }
    }

    fn reset_heartbeat(&mut self) {
        let at = tokio::time::Instant::now() + self.every;
        self.heartbeat.as_mut().reset(at);
    }

    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        if let Some(p) = self.preamble.take() {
            return Poll::Ready(Some(p));
        }
        loop {
            if self.done {
                return Poll::Ready(None);
            }
            let batch = self.inner.config.batch;
            let read = self
                .read
                .get_or_insert_with(|| self.inner.store.read(&self.stream, self.cursor, batch));
            match read.as_mut().poll(cx) {
                Poll::Ready(Ok(batch)) => {
                    self.read = None;
                    let mut out = BytesMut::new();
                    let written = self.write_batch(batch.entries, &mut out);
                    if batch.end {
                        self.done = true;
                    }
                    if out.is_empty() {
                        continue;
                    }
                    let c = &self.inner.counters;
                    c.events.fetch_add(written as u64, Ordering::Relaxed);
                    c.bytes.fetch_add(out.len() as u64, Ordering::Relaxed);
                    self.reset_heartbeat();
                    return Poll::Ready(Some(out.freeze()));
                }
                Poll::Ready(Err(e)) => {
                    self.read = None;
                    self.done = true;
                    let mut out = BytesMut::new();
                    let kind = match e {
                        StoreError::NotFound => "not_found_error",
                        _ => "api_error",
                    };
                    let item = Item::Error(ErrorInfo {
                        kind: kind.to_owned(),
                        message: format!("stream {}: {e}", self.stream),
                        request_id: None,
                    });
                    self.writer.write(self.cursor + 1, &item, &mut out);
                    return Poll::Ready(Some(out.freeze()));
                }
                Poll::Pending => {}
            }
            if self.heartbeat.as_mut().poll(cx).is_ready() {
                self.reset_heartbeat();
                let mut out = BytesMut::new();
                self.writer.heartbeat(&mut out);
                self.inner
                    .counters
                    .heartbeats
                    .fetch_add(1, Ordering::Relaxed);
                return Poll::Ready(Some(out.freeze()));
            }
            return Poll::Pending;
        }
    }

    /// Encodes a batch, merging adjacent text deltas of one block (the
    /// merged event takes the id of the last delta it holds). Returns the
    /// number of SSE events written.
    fn write_batch(&mut self, entries: Vec<crate::store::Entry>, out: &mut BytesMut) -> usize {
        let mut written = 0;
        let mut pending: Option<(u64, Item)> = None;
        for entry in entries {
            let id = entry.id();
            let item = entry.item;
            if let Some((pid, held)) = pending.as_mut() {
                match held.merge(item) {
                    None => {
                        *pid = id;
                        self.inner.counters.merged.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    Some(item) => {
                        written += self.writer.write(*pid, held, out);
                        pending = Some((id, item));
                    }
                }
            } else {
                pending = Some((id, item));
            }
        }
        if let Some((id, item)) = pending {
            written += self.writer.write(id, &item, out);
            self.cursor = id;
        }
        written
    }
}

impl Drop for EventBody {
    fn drop(&mut self) {
        self.inner
            .counters
            .connections
            .fetch_sub(1, Ordering::Relaxed);
    }
}
