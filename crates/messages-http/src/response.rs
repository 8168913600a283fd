//! Responses and their incrementally readable bodies.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use http::{HeaderMap, StatusCode, Version};
use http_body::{Body as HttpBodyTrait, Frame, SizeHint};
use serde::de::DeserializeOwned;
use tokio::time::{Instant, Sleep};

use crate::HttpBody;
use crate::error::{Error, Result, TimeoutKind};

/// A successful (2xx) response: status, headers, request id and a body.
///
/// Non-success statuses never reach the caller as a `Response`: they become
/// an [`Error`] with [`Error::is_api`].
pub struct Response {
    status: StatusCode,
    version: Version,
    headers: HeaderMap,
    attempts: u32,
    body: Body,
}

impl Response {
    pub(crate) fn new(
        status: StatusCode,
        version: Version,
        headers: HeaderMap,
        attempts: u32,
        body: Body,
    ) -> Response {
        Response {
            status,
            version,
            headers,
            attempts,
            body,
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The HTTP version the connection negotiated.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The response headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The `request-id` header, when present and valid UTF-8.
    pub fn request_id(&self) -> Option<&str> {
        self.body.request_id.as_deref()
    }

    /// How many attempts were made (1 + retries).
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The body, mutably (for reading chunks while keeping the head).
    pub fn body_mut(&mut self) -> &mut Body {
        &mut self.body
    }

    /// Consumes the response, returning its body.
    pub fn into_body(self) -> Body {
        self.body
    }

    /// Reads the whole body. See [`Body::bytes`].
    ///
    /// # Errors
    ///
    /// As [`Body::bytes`].
    pub async fn bytes(self) -> Result<Bytes> {
        self.body.bytes().await
    }

    /// Reads the whole body and decodes it as JSON. See [`Body::json`].
    ///
    /// # Errors
    ///
    /// As [`Body::json`].
    pub async fn json<T: DeserializeOwned>(self) -> Result<T> {
        self.body.json().await
    }
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("version", &self.version)
            .field("request_id", &self.request_id())
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

// ===== Body =====

/// A response body, readable incrementally as `Bytes` chunks.
///
/// It is an [`http_body::Body`] (`Data = Bytes`, `Error = Error`) and a
/// [`Stream`] of `Result<Bytes, Error>`; [`Body::chunk`], [`Body::bytes`] and
/// [`Body::json`] are conveniences on top.
///
/// Two timers guard it:
///
/// - the **idle timeout** fails the read when no data arrives for that long
///   (it restarts after every chunk; default 60 s, configurable, can be off);
/// - the **deadline**, for non-streaming requests (or any request with an
///   explicit timeout), fails the read when the whole exchange took too long.
///
/// After the first error or the end of the body, reads return `None`.
///
/// # Drop behaviour
///
/// Dropping a body that was not read to the end closes its connection (it is
/// not returned to the pool half-read), or over HTTP/2 resets its stream;
/// either tells the server to stop generating. A body read to the end
/// returns its connection (or its HTTP/2 stream slot) to the pool.
pub struct Body {
    inner: HttpBody,
    // The idle timeout and its timer, restarted after every frame.
    idle: Option<(Duration, Pin<Box<Sleep>>)>,
    deadline: Option<(Duration, Pin<Box<Sleep>>)>,
    request_id: Option<String>,
    attempts: u32,
    // The most `bytes` and `json` read.
    max_size: usize,
    done: bool,
}

impl Body {
    pub(crate) fn new(
        inner: HttpBody,
        idle: Option<Duration>,
        deadline: Option<(Duration, Instant)>,
        request_id: Option<String>,
        attempts: u32,
    ) -> Body {
        Body {
            inner,
            idle: idle.map(|d| (d, Box::pin(tokio::time::sleep(d)))),
            deadline: deadline.map(|(d, at)| (d, Box::pin(tokio::time::sleep_until(at)))),
            request_id,
            attempts,
            max_size: usize::MAX,
            done: false,
        }
    }

    pub(crate) fn with_max_size(mut self, max: usize) -> Body {
        self.max_size = max;
        self
    }

    /// The most bytes [`bytes`](Body::bytes) and [`json`](Body::json) read
    /// before they fail with [`Error::is_too_large`] (see
    /// [`TransportBuilder::max_body_size`](crate::TransportBuilder::max_body_size)).
    /// Reading chunk by chunk is not limited.
    pub fn max_size(&self) -> usize {
        self.max_size
    }

    /// The request id of the response this body belongs to.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    fn fail(&mut self, e: Error) -> Error {
        self.done = true;
        e.with_request_id(self.request_id.clone())
            .with_attempts(self.attempts)
    }

    /// The next chunk of data, or `None` at the end of the body.
    ///
    /// # Errors
    ///
    /// The idle timeout or the deadline elapsed ([`Error::is_timeout`]), or
    /// the connection failed mid-body ([`Error::is_body`]).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a chunk is only removed from the body when this returns.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx))
            .await
            .transpose()
    }

    /// Reads the whole body into one `Bytes`, up to
    /// [`max_size`](Body::max_size) bytes.
    ///
    /// Costs one copy when the body arrives in more than one chunk. Memory
    /// stays below the limit: a body announced larger (`content-length`)
    /// fails before any byte is read, and one that grows past it fails as
    /// soon as it does, closing the connection.
    ///
    /// # Errors
    ///
    /// As [`Body::chunk`], or [`Error::is_too_large`] past the limit.
    pub async fn bytes(mut self) -> Result<Bytes> {
        let limit = self.max_size;
        if self.inner.size_hint().lower() > limit as u64 {
            return Err(self.fail(Error::too_large(limit)));
        }
        // One chunk is returned as is; more are joined.
        let mut first: Option<Bytes> = None;
        let mut joined = BytesMut::new();
        let mut len = 0usize;
        while let Some(chunk) = self.chunk().await? {
            len = len.saturating_add(chunk.len());
            if len > limit {
                return Err(self.fail(Error::too_large(limit)));
            }
            match first.take() {
                None if joined.is_empty() => first = Some(chunk),
                None => joined.extend_from_slice(&chunk),
                Some(f) => {
                    joined.reserve(len);
                    joined.extend_from_slice(&f);
                    joined.extend_from_slice(&chunk);
                }
            }
        }
        Ok(first.unwrap_or_else(|| joined.freeze()))
    }

    /// Reads up to `limit` bytes; the rest of the body is dropped.
    pub(crate) async fn bytes_limited(mut self, limit: usize) -> Result<Bytes> {
        let mut buf = BytesMut::new();
        while let Some(b) = self.chunk().await? {
            let room = limit - buf.len();
            buf.extend_from_slice(&b[..b.len().min(room)]);
            if buf.len() >= limit {
                break;
            }
        }
        Ok(buf.freeze())
    }

    /// Reads the whole body (up to [`max_size`](Body::max_size) bytes) and
    /// decodes it as JSON with serde_json.
    ///
    /// # Errors
    ///
    /// As [`Body::bytes`], or [`Error::is_decode`] when the bytes are not the
    /// expected JSON (the error says where).
    pub async fn json<T: DeserializeOwned>(self) -> Result<T> {
        let id = self.request_id.clone();
        let attempts = self.attempts;
        let bytes = self.bytes().await?;
        serde_json::from_slice(&bytes)
            .map_err(|e| Error::decode(e).with_request_id(id).with_attempts(attempts))
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Body")
            .field("idle_timeout", &self.idle.as_ref().map(|i| i.0))
            .field("deadline", &self.deadline.as_ref().map(|d| d.0))
            .field("request_id", &self.request_id)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl HttpBodyTrait for Body {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        if let Some((d, sleep)) = this.deadline.as_mut()
            && sleep.as_mut().poll(cx).is_ready()
        {
            let e = Error::timeout(TimeoutKind::Deadline(*d));
            return Poll::Ready(Some(Err(this.fail(e))));
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some((idle, sleep)) = this.idle.as_mut() {
                    sleep.as_mut().reset(Instant::now() + *idle);
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(this.fail(Error::body(e))))),
            Poll::Ready(None) => {
                this.done = true;
                Poll::Ready(None)
            }
            Poll::Pending => {
                if let Some((idle, sleep)) = this.idle.as_mut()
                    && sleep.as_mut().poll(cx).is_ready()
                {
                    let e = Error::timeout(TimeoutKind::Idle(*idle));
                    return Poll::Ready(Some(Err(this.fail(e))));
                }
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Stream for Body {
    type Item = Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes>>> {
        loop {
            match std::task::ready!(self.as_mut().poll_frame(cx)) {
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) if data.is_empty() => continue,
                    Ok(data) => return Poll::Ready(Some(Ok(data))),
                    // Trailers carry no data; skip them.
                    Err(_) => continue,
                },
                Some(Err(e)) => return Poll::Ready(Some(Err(e))),
                None => return Poll::Ready(None),
            }
        }
    }
}
