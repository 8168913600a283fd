//! [`SseStream`]: byte chunks in, events out, as a `futures_core::Stream`.

use core::{
    fmt,
    pin::Pin,
    task::{Context, Poll},
};

use bytes::Bytes;
use futures_core::Stream;

use crate::{Event, Finish, Parser};

pin_project_lite::pin_project! {
    /// Turns a `Stream<Item = Result<Bytes, E>>` (an HTTP body, a socket)
    /// into a stream of [`Event`]s.
    ///
    /// Input is pulled only when the consumer asks for the next event and
    /// the parser has none queued, so a slow consumer applies backpressure
    /// and memory stays bounded. Dropping the `SseStream` drops the inner
    /// stream.
    ///
    /// At the end of the input, a stream that stopped inside an event yields
    /// one final [`StreamError::Unterminated`]; the partial event itself is
    /// not dispatched, as the specification says. Consumers that follow the
    /// specification to the letter may ignore that error.
    ///
    /// # Examples
    ///
    /// ```
    /// use bytes::Bytes;
    /// use futures_util::{stream, StreamExt};
    /// use sse_core::SseStream;
    ///
    /// # futures_executor::block_on(async {
    /// let chunks = stream::iter([
    ///     Ok::<_, std::io::Error>(Bytes::from_static(b"data: hel")),
    ///     Ok(Bytes::from_static(b"lo\n\n")),
    /// ]);
    /// let mut events = SseStream::new(chunks);
    /// assert_eq!(events.next().await.unwrap().unwrap().data(), "hello");
    /// assert!(events.next().await.is_none());
    /// # });
    /// ```
    pub struct SseStream<S> {
        #[pin]
        inner: S,
        parser: Parser,
        done: bool,
    }
}

/// An error from [`SseStream`].
#[derive(Debug)]
pub enum StreamError<E> {
    /// The inner stream failed.
    Transport(E),
    /// An event exceeded the maximum size; the stream resumes at the next event.
    Parse(crate::Error),
    /// The input ended inside an event, which was discarded.
    Unterminated,
}

impl<E: fmt::Display> fmt::Display for StreamError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamError::Transport(e) => write!(f, "reading the event stream failed: {e}"),
            StreamError::Parse(e) => fmt::Display::fmt(e, f),
            StreamError::Unterminated => {
                f.write_str("the event stream ended inside an event (truncated)")
            }
        }
    }
}

impl<E: core::error::Error + 'static> core::error::Error for StreamError<E> {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            StreamError::Transport(e) => Some(e),
            StreamError::Parse(e) => Some(e),
            StreamError::Unterminated => None,
        }
    }
}

impl<S> SseStream<S> {
    /// Wraps `inner` with a default [`Parser`].
    pub fn new(inner: S) -> SseStream<S> {
        SseStream::with_parser(inner, Parser::new())
    }

    /// Wraps `inner` with a configured parser.
    pub fn with_parser(inner: S, parser: Parser) -> SseStream<S> {
        SseStream {
            inner,
            parser,
            done: false,
        }
    }

    /// The parser, for its last event id and reconnection time.
    pub fn parser(&self) -> &Parser {
        &self.parser
    }

    /// The inner stream.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// Returns the inner stream and the parser.
    pub fn into_inner(self) -> (S, Parser) {
        (self.inner, self.parser)
    }
}

impl<S, E> Stream for SseStream<S>
where
    S: Stream<Item = Result<Bytes, E>>,
{
    type Item = Result<Event, StreamError<E>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        loop {
            match this.parser.next_event_owned_inline() {
                Ok(Some(event)) => return Poll::Ready(Some(Ok(event))),
                Err(e) => return Poll::Ready(Some(Err(StreamError::Parse(e)))),
                Ok(None) => {}
            }
            if *this.done {
                return Poll::Ready(None);
            }
            match this.inner.as_mut().poll_next(cx) {
                Poll::Ready(Some(Ok(chunk))) => this.parser.push_inline(chunk),
                Poll::Ready(Some(Err(e))) => {
                    return Poll::Ready(Some(Err(StreamError::Transport(e))));
                }
                Poll::Ready(None) => {
                    *this.done = true;
                    if this.parser.finish() == Finish::Unterminated {
                        return Poll::Ready(Some(Err(StreamError::Unterminated)));
                    }
                    return Poll::Ready(None);
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl<S> fmt::Debug for SseStream<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SseStream")
            .field("parser", &self.parser)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}
