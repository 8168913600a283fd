//! The response body: whole, fed by a channel, or a repeated chunk.

use std::error::Error as StdError;
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use tokio::sync::mpsc;

/// Why a body stopped early: the emulator aborts the connection on purpose
/// (`disconnect-after`).
#[derive(Debug)]
pub(crate) struct Abort;

impl fmt::Display for Abort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connection dropped by fault injection")
    }
}

impl StdError for Abort {}

/// A response body.
#[derive(Debug)]
pub(crate) enum Body {
    /// All bytes at once.
    Full(Option<Bytes>),
    /// Chunks written by a task; an `Err` aborts the connection.
    Channel(mpsc::Receiver<Result<Bytes, Abort>>),
    /// `head`, then `chunk` `count` times, then `tail`: the firehose.
    Repeat {
        head: Option<Bytes>,
        chunk: Bytes,
        count: u64,
        tail: Option<Bytes>,
    },
}

impl Body {
    pub(crate) fn full(bytes: impl Into<Bytes>) -> Body {
        Body::Full(Some(bytes.into()))
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = Abort;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Abort>>> {
        match self.get_mut() {
            Body::Full(b) => Poll::Ready(
                b.take()
                    .filter(|b| !b.is_empty())
                    .map(|b| Ok(Frame::data(b))),
            ),
            Body::Channel(rx) => match rx.poll_recv(cx) {
                Poll::Ready(Some(Ok(b))) => Poll::Ready(Some(Ok(Frame::data(b)))),
                Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e))),
                Poll::Ready(None) => Poll::Ready(None),
                Poll::Pending => Poll::Pending,
            },
            Body::Repeat {
                head,
                chunk,
                count,
                tail,
            } => {
                if let Some(h) = head.take() {
                    return Poll::Ready(Some(Ok(Frame::data(h))));
                }
                if *count > 0 {
                    *count -= 1;
                    return Poll::Ready(Some(Ok(Frame::data(chunk.clone()))));
                }
                Poll::Ready(tail.take().map(|t| Ok(Frame::data(t))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Body::Full(b) => b.as_ref().is_none_or(Bytes::is_empty),
            Body::Channel(_) => false,
            Body::Repeat {
                head, count, tail, ..
            } => head.is_none() && *count == 0 && tail.is_none(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Body::Full(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
            _ => SizeHint::default(),
        }
    }
}
