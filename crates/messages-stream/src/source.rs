//! Where a stream's bytes come from: [`Source`], any HTTP client's response
//! body, and [`Connect`], how a continuation request is sent when a stream
//! resumes.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use futures_core::Stream;
use messages_http::{Request, Response, Transport};

use crate::reply::BadReply;

/// A boxed error of any HTTP client.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, BoxError>> + Send>>;

/// The body of a streaming response, from any HTTP client, with its
/// `request-id` when known.
///
/// Build one from a byte stream ([`from_stream`](Source::from_stream), such
/// as reqwest's `Response::bytes_stream()`), from any [`http_body::Body`]
/// ([`from_body`](Source::from_body), such as hyper's `Incoming`), or from
/// this workspace's transport ([`From<messages_http::Response>`]).
///
/// # Costs
///
/// One allocation per source (the body is boxed); each chunk is handed to
/// the parser as it is, without a copy, when the client's chunks are
/// `Bytes`.
pub struct Source {
    pub(crate) bytes: ByteStream,
    pub(crate) request_id: Option<String>,
    pub(crate) bad: Option<Box<BadReply>>,
}

impl Source {
    /// A source over a stream of byte chunks.
    pub fn from_stream<S, E>(stream: S) -> Source
    where
        S: Stream<Item = Result<Bytes, E>> + Send + 'static,
        E: Into<BoxError>,
    {
        Source {
            bytes: Box::pin(MapErr { inner: stream }),
            request_id: None,
            bad: None,
        }
    }

    /// A source over an [`http_body::Body`]; trailers are ignored.
    pub fn from_body<B>(body: B) -> Source
    where
        B: http_body::Body + Send + 'static,
        B::Error: Into<BoxError>,
    {
        Source {
            bytes: Box::pin(DataFrames(Box::pin(body))),
            request_id: None,
            bad: None,
        }
    }

    /// Checks the response head before anything is parsed: a
    /// `content-type` other than `text/event-stream` (or a `content-encoding`
    /// other than identity) makes the first read fail with
    /// [`Error::is_not_event_stream`](crate::Error::is_not_event_stream), or
    /// with the API's error for a JSON error body. A source from
    /// [`Transport`] is checked already.
    pub fn headers(mut self, headers: &http::HeaderMap) -> Source {
        self.bad = BadReply::check(headers);
        self
    }

    /// Sets the response's `request-id`, which errors then name.
    pub fn request_id(mut self, id: impl Into<String>) -> Source {
        self.request_id = Some(id.into());
        self
    }
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Source")
            .field("request_id", &self.request_id)
            .finish_non_exhaustive()
    }
}

impl From<Response> for Source {
    /// The body of a response of [`Transport::send`], with its idle timeout
    /// between chunks, its request id and the event-stream check of
    /// [`headers`](Source::headers).
    fn from(response: Response) -> Source {
        let request_id = response.request_id().map(str::to_owned);
        let bad = BadReply::check(response.headers());
        Source {
            bytes: Box::pin(MapErr {
                inner: response.into_body(),
            }),
            request_id,
            bad,
        }
    }
}

/// Sends a streaming request: how a resumable [`MessageStream`] opens its
/// continuation after a break.
///
/// The request is plain data (method, path, headers, a `Bytes` body with
/// `"stream": true`); [`Transport`] implements this trait, and so can any
/// other HTTP client: send the request to the API's base URL with the
/// credentials, fail on an error status, and return the body once the
/// response head arrived.
///
/// [`MessageStream`]: crate::MessageStream
pub trait Connect: Send + Sync + 'static {
    /// Sends `request` and resolves to the response body.
    fn send(
        &self,
        request: Request,
    ) -> Pin<Box<dyn Future<Output = Result<Source, BoxError>> + Send>>;
}

impl Connect for Transport {
    fn send(
        &self,
        request: Request,
    ) -> Pin<Box<dyn Future<Output = Result<Source, BoxError>> + Send>> {
        let transport = self.clone();
        Box::pin(async move {
            let response = transport.send(request).await?;
            Ok(Source::from(response))
        })
    }
}

pin_project_lite::pin_project! {
    struct MapErr<S> {
        #[pin]
        inner: S,
    }
}

impl<S, E> Stream for MapErr<S>
where
    S: Stream<Item = Result<Bytes, E>>,
    E: Into<BoxError>,
{
    type Item = Result<Bytes, BoxError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let inner = self.project().inner;
        inner
            .poll_next(cx)
            .map(|item| item.map(|r| r.map_err(Into::into)))
    }
}

struct DataFrames<B>(Pin<Box<B>>);

impl<B> Stream for DataFrames<B>
where
    B: http_body::Body,
    B::Error: Into<BoxError>,
{
    type Item = Result<Bytes, BoxError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            let frame = match self.0.as_mut().poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e.into()))),
                Poll::Ready(Some(Ok(frame))) => frame,
            };
            if let Ok(mut data) = frame.into_data() {
                let n = data.remaining();
                if n > 0 {
                    // Zero-copy when the data already is `Bytes`.
                    return Poll::Ready(Some(Ok(data.copy_to_bytes(n))));
                }
            }
        }
    }
}
