//! [`MessageStream`]: a response body turned into typed, accumulated events.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use std::sync::Arc;

use bytes::Bytes;
use futures_core::Stream;
use messages_http::{Response, Transport};
use messages_types::stream::ContentBlockDelta;
use messages_types::{Citation, ContentBlock, Message, MessageRequest, StreamEvent, Text};
use serde_json::Value;
use sse_core::{Parser, ParserConfig};

use crate::accumulate::{Accumulator, Change};
use crate::error::{Error, Kind, Result};
use crate::options::{CONTENT_BYTES_PER_TOKEN, CONTENT_MARGIN, StreamOptions, stream_request};
use crate::reply::BadReply;
use crate::resume::Resumer;
use crate::source::{BoxError, Connect, Source};

type Pending = Pin<Box<dyn Future<Output = std::result::Result<Source, BoxError>> + Send>>;
type ByteStream = Pin<Box<dyn Stream<Item = std::result::Result<Bytes, BoxError>> + Send>>;

/// A streamed reply: typed events as they arrive, folded into a [`Message`].
///
/// `MessageStream` is a [`Stream`] of every [`StreamEvent`] (including
/// `ping` and, kept raw, events this version does not know). Each event is
/// applied to the [snapshot](MessageStream::snapshot) before it is yielded.
/// Derived views spare the caller any bookkeeping:
///
/// - [`text_deltas`](MessageStream::text_deltas): only the text, as it arrives;
/// - [`next_update`](MessageStream::next_update): enriched events (text with
///   the snapshot so far, tool input with its partial value, finished blocks,
///   the finished message), borrowed from the stream without copying;
/// - [`final_message`](MessageStream::final_message) and
///   [`final_text`](MessageStream::final_text) consume the rest.
///
/// # Errors are terminal and lose nothing
///
/// The stream yields at most one error, then ends. A stream that ends, or
/// breaks, before `message_stop` is an [incomplete](Error::is_incomplete)
/// error carrying the [partial message](Error::partial), never a silently
/// truncated one. A mid-stream `error` event is an [API error](Error::is_api)
/// with the request id. A stall longer than the idle timeout is an incomplete
/// stream whose cause [is an idle timeout](Error::is_idle_timeout).
///
/// # Backpressure, cancellation and drop
///
/// The body is read only as the consumer pulls, one network chunk at a time:
/// a slow consumer slows the connection down (TCP flow control) instead of
/// buffering. Dropping the stream drops the body, which closes the
/// connection, and the server stops generating. Every method is cancel safe:
/// an event is only taken from the stream when the call returns it.
///
/// # Costs
///
/// Parsing borrows from the network chunk; a `text_delta`'s text is a
/// zero-copy slice of it. The snapshot copies each delta once (appended to
/// its block). A tool input's fragments are appended once and its preview is
/// updated in time proportional to the fragment.
pub struct MessageStream {
    body: Option<ByteStream>,
    pending: Option<Pending>,
    parser: Parser,
    max_event_size: Option<usize>,
    acc: Accumulator,
    request_id: Option<String>,
    /// Events received in the current attempt (for error messages).
    events: u64,
    /// Events to yield before reading more (splicing can produce two).
    queued: VecDeque<StreamEvent>,
    /// What the last event yielded changed, and (for [`Update`]) the event.
    change: Change,
    last: Option<StreamEvent>,
    /// The `data` of the event last yielded, when it is the wire's own.
    raw: Option<Bytes>,
    /// What to send after a break, and who sends it (resumption on).
    resumer: Option<Box<(Resumer, Arc<dyn Connect>)>>,
    /// The reply is not an event stream: the start of its body is read to
    /// report it, then the stream fails.
    bad: Option<Box<BadReply>>,
    /// The content bound and the content received so far, in bytes.
    max_content: Option<u64>,
    content: u64,
    done: bool,
}

impl fmt::Debug for MessageStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MessageStream")
            .field("request_id", &self.request_id)
            .field("events", &self.acc.events())
            .field("complete", &self.acc.is_complete())
            .field("resumptions", &self.resumptions())
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl MessageStream {
    /// Sends `request` as a stream (`"stream": true`) and returns once the
    /// response head arrived.
    ///
    /// The transport retries failures that happen before the head (429,
    /// 5xx, connection errors), as configured. The request is cloned once
    /// when resumption is enabled, to build continuation requests.
    ///
    /// Before anything is sent, the request goes through [`preflight`]
    /// under the `anthropic-version` it will be sent with (a per-request
    /// header, else the transport's): a field that version rejects or a
    /// retired model fails here, exactly as through the umbrella `Client`.
    ///
    /// [`preflight`]: crate::preflight()
    ///
    /// # Errors
    ///
    /// The request failed the [`preflight`] checks (an
    /// [`Error::is_http`] error whose transport error
    /// [`is_builder`](messages_http::Error::is_builder); nothing was sent),
    /// the transport failed, or the API answered with an error status
    /// ([`Error::is_http`]; [`Error::api_error`] has the API's error).
    pub async fn open(
        transport: &Transport,
        request: &MessageRequest,
        options: StreamOptions,
    ) -> Result<MessageStream> {
        crate::preflight::preflight(
            request,
            crate::preflight::version_for(
                transport.anthropic_version(),
                &options.request,
                &options.headers,
            ),
        )?;
        let http_request = stream_request(request, &options.request, &options.headers)?;
        let response = transport.send(http_request).await?;
        Ok(MessageStream::resumable(
            Source::from(response),
            request,
            options,
            transport.clone(),
        ))
    }

    /// Reads the events of a streaming response that was sent some other
    /// way, with default options. Resumption is off (the stream does not
    /// know the request).
    pub fn new(response: Response) -> MessageStream {
        MessageStream::from_source(Source::from(response))
    }

    /// Reads the events of a streaming response body from any HTTP client
    /// (see [`Source`]), with default options and no resumption.
    ///
    /// ```no_run
    /// # async fn run(body: impl futures_core::Stream<Item = Result<bytes::Bytes, std::io::Error>> + Send + 'static) -> Result<(), messages_stream::Error> {
    /// use messages_stream::{MessageStream, Source};
    ///
    /// // For example reqwest's `response.bytes_stream()`.
    /// let stream = MessageStream::from_source(Source::from_stream(body));
    /// let message = stream.final_message().await?;
    /// # Ok(()) }
    /// ```
    pub fn from_source(source: Source) -> MessageStream {
        MessageStream {
            body: Some(source.bytes),
            pending: None,
            parser: Parser::new(),
            max_event_size: None,
            acc: Accumulator::new(),
            request_id: source.request_id,
            events: 0,
            queued: VecDeque::new(),
            change: Change::None,
            last: None,
            raw: None,
            resumer: None,
            bad: source.bad,
            max_content: None,
            content: 0,
            done: false,
        }
    }

    /// Reads `source`, the response to `request` sent with `"stream": true`,
    /// with `options`; when they hold a [`ResumePolicy`](crate::ResumePolicy),
    /// a break is resumed by sending the continuation through `connect`
    /// (any HTTP client, see [`Connect`]). [`open`](MessageStream::open) is
    /// this with the transport as both the sender of the first request and
    /// the connector.
    ///
    /// The request is cloned once when resumption is on, to build
    /// continuation requests.
    pub fn resumable(
        source: Source,
        request: &MessageRequest,
        options: StreamOptions,
        connect: impl Connect,
    ) -> MessageStream {
        let mut stream = MessageStream::from_source(source);
        stream.max_content = Some(options.max_content_bytes.unwrap_or_else(|| {
            u64::from(request.max_tokens) * CONTENT_BYTES_PER_TOKEN + CONTENT_MARGIN
        }));
        stream.max_event_size = options.max_event_size;
        stream.parser = parser(options.max_event_size);
        if options.discard_text {
            stream.acc = Accumulator::discarding_text();
        }
        if let Some(policy) = options.resume {
            let plan = Resumer::new(request.clone(), &options, policy);
            stream.resumer = Some(Box::new((plan, Arc::new(connect))));
        }
        stream
    }

    /// The message accumulated so far; `None` before `message_start`.
    ///
    /// A `tool_use` block's `input` is filled in when the block stops; see
    /// [`partial_input`](MessageStream::partial_input) for the preview.
    pub fn snapshot(&self) -> Option<&Message> {
        self.acc.message()
    }

    /// The best-effort value of the open tool-input block `index`, updated
    /// after every `input_json_delta`.
    pub fn partial_input(&self, index: usize) -> Option<&Value> {
        self.acc.partial_input(index).and_then(|p| p.preview())
    }

    /// The `request-id` of the response being read (after a resumption, the
    /// continuation's).
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// How many times the stream was resumed.
    pub fn resumptions(&self) -> u32 {
        self.resumer.as_ref().map_or(0, |r| r.0.used())
    }

    /// The `data` of the event last yielded, exactly as it arrived: the
    /// bytes the typed event was decoded from, without a second parse or a
    /// copy (a slice of the network chunk, or of the parser's buffer for an
    /// event split across chunks).
    ///
    /// `None` before the first event, and for the events of a resumed
    /// continuation, which are rewritten before they are yielded (indexes
    /// shifted, usage summed, a block merged): those exist only as typed
    /// events; serialize them with `serde_json` when bytes are needed.
    /// Fields the types do not model are kept here, so this is the way to
    /// relay events losslessly.
    ///
    /// ```no_run
    /// # use futures_util::StreamExt;
    /// # async fn run(mut stream: messages_stream::MessageStream) {
    /// while let Some(Ok(event)) = stream.next().await {
    ///     if let Some(data) = stream.raw_data() {
    ///         println!("{}", String::from_utf8_lossy(data));
    ///     }
    /// }
    /// # }
    /// ```
    pub fn raw_data(&self) -> Option<&Bytes> {
        self.raw.as_ref()
    }

    /// The deltas of kinds this version does not know, so far, in arrival
    /// order with their block index: see [`Accumulator::unknown_deltas`].
    pub fn unknown_deltas(&self) -> &[(usize, Value)] {
        self.acc.unknown_deltas()
    }

    /// Whether `message_stop` arrived.
    pub fn is_complete(&self) -> bool {
        self.acc.is_complete()
    }

    /// Reads the rest of the stream and returns the complete message.
    ///
    /// # Errors
    ///
    /// The first error of the stream: see the [type docs](MessageStream).
    pub async fn final_message(mut self) -> Result<Message> {
        while let Some(event) = std::future::poll_fn(|cx| Pin::new(&mut self).poll_next(cx)).await {
            event?;
        }
        let acc = std::mem::take(&mut self.acc);
        acc.finish()
            .map_err(|e| e.with_request_id(self.request_id.as_deref()))
    }

    /// Reads the rest of the stream and returns the text of all its `text`
    /// blocks, joined.
    ///
    /// # Errors
    ///
    /// As [`final_message`](MessageStream::final_message).
    pub async fn final_text(self) -> Result<String> {
        let message = self.final_message().await?;
        let mut blocks = message.content.into_iter().filter_map(|b| match b {
            ContentBlock::Text(t) => Some(t.text),
            _ => None,
        });
        let mut text = blocks.next().unwrap_or_default();
        for more in blocks {
            text.push_str(&more);
        }
        Ok(text)
    }

    /// A stream of the text deltas only (zero-copy slices of the network
    /// chunks). The snapshot keeps accumulating meanwhile, so
    /// [`final_message`](MessageStream::final_message) works afterwards.
    pub fn text_deltas(&mut self) -> TextDeltas<'_> {
        TextDeltas { inner: self }
    }

    /// The next event as an [`Update`]: what it means for the message, with
    /// borrowed views of the accumulated state. `None` once the stream ended
    /// (after `message_stop`, or after an error).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(mut stream: messages_stream::MessageStream) -> Result<(), messages_stream::Error> {
    /// use messages_stream::Update;
    ///
    /// while let Some(update) = stream.next_update().await {
    ///     match update? {
    ///         Update::Text { delta, .. } => print!("{delta}"),
    ///         Update::ToolInput { partial: Some(value), .. } => eprintln!("tool input so far: {value}"),
    ///         Update::Done(message) => eprintln!("\nstop reason: {:?}", message.stop_reason),
    ///         _ => {}
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn next_update(&mut self) -> Option<Result<Update<'_>>> {
        match std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await? {
            Ok(event) => self.last = Some(event),
            Err(e) => return Some(Err(e)),
        }
        let event = self.last.as_ref()?;
        match self.acc.message() {
            Some(message) => Some(Ok(Update::new(event, self.change, message, &self.acc))),
            // Only pings and unknown events can come before `message_start`.
            None => Some(Ok(Update::Event(event))),
        }
    }

    fn fail(&mut self, error: Error) -> Poll<Option<Result<StreamEvent>>> {
        self.done = true;
        self.body = None;
        self.pending = None;
        let error = error
            .with_request_id(self.request_id.as_deref())
            .with_partial(self.acc.message().cloned());
        Poll::Ready(Some(Err(error)))
    }

    /// The stream broke before `message_stop`: resume when allowed (`None`:
    /// poll again), else fail.
    fn broken(&mut self, cause: Option<BoxError>) -> Option<Poll<Option<Result<StreamEvent>>>> {
        self.body = None;
        let idle = |e: &BoxError| {
            e.downcast_ref::<messages_http::Error>()
                .is_some_and(messages_http::Error::is_idle_timeout)
        };
        let detail = match &cause {
            Some(e) if idle(e) => "no data within the idle timeout".to_owned(),
            Some(_) => "the connection failed mid-stream".to_owned(),
            None if self.parser.finish().is_clean() => {
                "the body ended before `message_stop`".to_owned()
            }
            None => "the body ended inside an event".to_owned(),
        };
        let mut error = Error::new(Kind::Incomplete, detail).at_event(self.events);
        if let Some(cause) = cause {
            error = error.with_source(cause);
        }
        let Some((plan, connect)) = self.resumer.as_deref_mut() else {
            return Some(self.fail(error));
        };
        match plan.resume(&self.acc, error) {
            Ok(request) => {
                self.pending = Some(connect.send(request));
                self.parser = parser(self.max_event_size);
                self.events = 0;
                None
            }
            Err(error) => Some(self.fail(error)),
        }
    }

    fn poll_inner(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<StreamEvent>>> {
        loop {
            if let Some(event) = self.queued.pop_front() {
                self.raw = None;
                return self.yield_event(event);
            }
            if self.done {
                return Poll::Ready(None);
            }
            if let Some(pending) = self.pending.as_mut() {
                match pending.as_mut().poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Ok(source)) => {
                        self.pending = None;
                        self.request_id = source.request_id;
                        self.bad = source.bad;
                        self.body = Some(source.bytes);
                    }
                    Poll::Ready(Err(e)) => {
                        self.pending = None;
                        let detail = "the continuation request failed";
                        return self.fail(Error::new(Kind::Resume, detail).with_source(e));
                    }
                }
            }
            if self.bad.is_some() {
                return self.poll_bad_reply(cx);
            }
            match self.parser.next_event() {
                Ok(Some(sse)) => {
                    self.events += 1;
                    // sse-core gives "message" for an event without a type.
                    let data = sse.data_str().into_bytes();
                    let decoded = messages_types::decode_event(sse.event(), &data);
                    let event = match decoded {
                        Ok(event) => event,
                        Err(e) => {
                            let n = self.events;
                            return self.fail(Error::decode(e).at_event(n));
                        }
                    };
                    let passed = match self.resumer.as_deref_mut() {
                        Some((r, _)) => r.map(event, &self.acc, &mut self.queued),
                        None => Some(event),
                    };
                    // `queued` is empty here (it is drained before parsing),
                    // so yielding at once keeps the order.
                    if let Some(event) = passed {
                        self.raw = Some(data);
                        return self.yield_event(event);
                    }
                    continue;
                }
                Ok(None) => {}
                Err(e) => {
                    let n = self.events + 1;
                    return self.fail(Error::new(Kind::EventTooLarge, e.to_string()).at_event(n));
                }
            }
            let Some(body) = self.body.as_mut() else {
                // A resumption is pending but not yet polled: loop to poll it.
                if self.pending.is_some() {
                    continue;
                }
                return Poll::Ready(None);
            };
            match body.as_mut().poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(chunk))) => self.parser.push(chunk),
                Poll::Ready(Some(Err(e))) => {
                    if self.acc.is_complete() {
                        self.done = true;
                        self.body = None;
                        return Poll::Ready(None);
                    }
                    if let Some(r) = self.broken(Some(e)) {
                        return r;
                    }
                }
                Poll::Ready(None) => {
                    if self.acc.is_complete() {
                        self.done = true;
                        self.body = None;
                        if !self.parser.finish().is_clean() {
                            let n = self.events + 1;
                            let e = Error::new(
                                Kind::Protocol,
                                "bytes after `message_stop` end inside an event",
                            );
                            return self.fail(e.at_event(n));
                        }
                        return Poll::Ready(None);
                    }
                    if let Some(r) = self.broken(None) {
                        return r;
                    }
                }
            }
        }
    }

    /// Reads the start of a reply that is not an event stream, then fails.
    fn poll_bad_reply(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<StreamEvent>>> {
        if let (Some(bad), Some(body)) = (self.bad.as_mut(), self.body.as_mut()) {
            let wanted = bad.wanted();
            while bad.start.len() < wanted {
                match body.as_mut().poll_next(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Some(Ok(chunk))) => {
                        let room = wanted - bad.start.len();
                        bad.start.extend_from_slice(&chunk[..chunk.len().min(room)]);
                    }
                    // What arrived is all there is to report.
                    Poll::Ready(Some(Err(_)) | None) => break,
                }
            }
        }
        let error = self.bad.take().map(|b| b.into_error());
        match error {
            Some(e) => self.fail(e),
            None => Poll::Ready(None),
        }
    }

    /// Counts the content an event adds against the bound.
    fn over_content_bound(&mut self, event: &StreamEvent) -> Option<Error> {
        let max = self.max_content?;
        let StreamEvent::ContentBlockDelta(d) = event else {
            return None;
        };
        let n = match &d.delta {
            ContentBlockDelta::Text(t) => t.text.len(),
            ContentBlockDelta::Thinking(t) => t.thinking.len(),
            ContentBlockDelta::InputJson(j) => j.partial_json.len(),
            _ => 0,
        };
        self.content += n as u64;
        (self.content > max).then(|| {
            Error::new(
                Kind::Protocol,
                format!(
                    "the reply sent more content than max_tokens allows (over {max} bytes of \
                     text, thinking and tool input); the server is broken or hostile"
                ),
            )
            .at_event(self.events)
        })
    }

    fn yield_event(&mut self, event: StreamEvent) -> Poll<Option<Result<StreamEvent>>> {
        if let Some(e) = self.over_content_bound(&event) {
            return self.fail(e);
        }
        match self.acc.apply(&event) {
            Ok(change) => {
                self.change = change;
                Poll::Ready(Some(Ok(event)))
            }
            Err(e) => self.fail(e),
        }
    }
}

fn parser(max_event_size: Option<usize>) -> Parser {
    match max_event_size {
        Some(n) => ParserConfig::default().max_event_size(n).build(),
        None => Parser::new(),
    }
}

impl Stream for MessageStream {
    type Item = Result<StreamEvent>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_inner(cx)
    }
}

/// The text deltas of a [`MessageStream`], from
/// [`MessageStream::text_deltas`].
///
/// Each item is a `text_delta`'s text: a zero-copy slice of the network
/// chunk. Other events are applied to the snapshot and skipped. Errors are
/// the stream's.
#[derive(Debug)]
pub struct TextDeltas<'a> {
    inner: &'a mut MessageStream,
}

impl Stream for TextDeltas<'_> {
    type Item = Result<Text>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let inner = &mut *self.get_mut().inner;
        loop {
            match inner.poll_inner(cx) {
                Poll::Ready(Some(Ok(StreamEvent::ContentBlockDelta(d)))) => {
                    if let ContentBlockDelta::Text(t) = d.delta {
                        return Poll::Ready(Some(Ok(t.text)));
                    }
                }
                Poll::Ready(Some(Ok(_))) => {}
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

/// One event of a [`MessageStream`] with what it means for the message,
/// from [`MessageStream::next_update`]. Everything is borrowed from the
/// stream: nothing is copied to build it.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Update<'a> {
    /// `message_start`: the message, with empty content.
    Started(&'a Message),
    /// Text was appended to block `index`.
    Text {
        /// The block's index.
        index: usize,
        /// The new text.
        delta: &'a str,
        /// The block's whole text so far (empty with
        /// [`StreamOptions::discard_text`]).
        snapshot: &'a str,
    },
    /// Tool input JSON was appended to block `index`.
    ToolInput {
        /// The block's index.
        index: usize,
        /// The tool's name.
        name: &'a str,
        /// The new JSON fragment.
        delta: &'a str,
        /// The input's best-effort value so far (see
        /// [`PartialJson::preview`](crate::PartialJson::preview)).
        partial: Option<&'a Value>,
        /// All the JSON text so far.
        raw: &'a str,
    },
    /// Reasoning was appended to `thinking` block `index`.
    Thinking {
        /// The block's index.
        index: usize,
        /// The new reasoning text.
        delta: &'a str,
        /// The block's whole reasoning so far.
        snapshot: &'a str,
    },
    /// The signature of `thinking` block `index` was set.
    Signature {
        /// The block's index.
        index: usize,
        /// The signature.
        signature: &'a str,
    },
    /// A citation was added to text block `index`.
    Citation {
        /// The block's index.
        index: usize,
        /// The citation.
        citation: &'a Citation,
    },
    /// Block `index` is complete (tool input parsed).
    BlockDone {
        /// The block's index.
        index: usize,
        /// The complete block.
        block: &'a ContentBlock,
    },
    /// `message_stop`: the message is complete.
    Done(&'a Message),
    /// Any other event: `content_block_start`, `message_delta`, `ping`,
    /// unknown events and deltas.
    Event(&'a StreamEvent),
}

impl<'a> Update<'a> {
    fn new(
        event: &'a StreamEvent,
        change: Change,
        message: &'a Message,
        acc: &'a Accumulator,
    ) -> Update<'a> {
        let block = |i: usize| message.content.get(i);
        match (change, event) {
            (Change::MessageStart, _) => Update::Started(message),
            (Change::MessageStop, _) => Update::Done(message),
            (Change::BlockStop(index), _) => match block(index) {
                Some(block) => Update::BlockDone { index, block },
                None => Update::Event(event),
            },
            (Change::BlockDelta(index), StreamEvent::ContentBlockDelta(d)) => {
                match (&d.delta, block(index)) {
                    (ContentBlockDelta::Text(t), Some(ContentBlock::Text(b))) => Update::Text {
                        index,
                        delta: t.text.as_str(),
                        snapshot: &b.text,
                    },
                    (ContentBlockDelta::Thinking(t), Some(ContentBlock::Thinking(b))) => {
                        Update::Thinking {
                            index,
                            delta: t.thinking.as_str(),
                            snapshot: &b.thinking,
                        }
                    }
                    (ContentBlockDelta::Signature(s), _) => Update::Signature {
                        index,
                        signature: s.signature.as_str(),
                    },
                    (ContentBlockDelta::Citations(c), _) => Update::Citation {
                        index,
                        citation: &c.citation,
                    },
                    (ContentBlockDelta::InputJson(j), Some(b)) => {
                        let name = match b {
                            ContentBlock::ToolUse(t) => t.name.as_str(),
                            ContentBlock::ServerToolUse(t) => t.name.as_str(),
                            _ => "",
                        };
                        let json = acc.partial_input(index);
                        Update::ToolInput {
                            index,
                            name,
                            delta: j.partial_json.as_str(),
                            partial: json.and_then(|p| p.preview()),
                            raw: json.map_or("", |p| p.raw()),
                        }
                    }
                    _ => Update::Event(event),
                }
            }
            _ => Update::Event(event),
        }
    }
}
