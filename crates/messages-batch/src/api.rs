//! The Message Batches endpoints: [`Batches`], [`ListParams`], [`ResultsStream`].

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use messages_http::encode_segment;
use messages_http::{Body, ListParams, Pages, Request, RequestOptions, Transport};
use messages_types::{BatchCreateParams, BatchResultLine, DeletedMessageBatch, MessageBatch, Page};

use crate::decoder::{DEFAULT_MAX_LINE_LEN, RawLine, ResultsDecoder};
use crate::error::{Error, Result};

const BATCHES: &str = "/v1/messages/batches";

/// The Message Batches API: create, retrieve, list, cancel, delete, results
/// and [`wait`](Batches::wait).
///
/// Cloning is cheap (the [`Transport`] is reference counted); a `Batches` is
/// `Send + Sync` and can be shared between tasks.
///
/// # Examples
///
/// ```no_run
/// # async fn run() -> Result<(), messages_batch::Error> {
/// use futures_util::TryStreamExt;
/// use messages_batch::{Batches, WaitOptions};
/// use messages_types::{BatchCreateParams, BatchRequest, MessageRequest};
///
/// let batches = Batches::new(messages_http::Transport::from_env()?);
/// let params = BatchCreateParams::new(vec![BatchRequest::new(
///     "q1",
///     MessageRequest::new("claude-haiku-4-5", 64).user("Hi"),
/// )]);
/// let batch = batches.create(&params).await?;
/// batches.wait(&batch.id, WaitOptions::new()).await?;
/// let mut results = batches.results(&batch.id).await?;
/// while let Some(line) = results.try_next().await? {
///     println!("{}: {:?}", line.custom_id, line.result);
/// }
/// # Ok(())
/// # }
/// # let _ = run;
/// ```
#[derive(Clone)]
pub struct Batches {
    transport: Transport,
    max_line_len: usize,
}

impl fmt::Debug for Batches {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Batches")
            .field("base_url", &self.transport.base_url())
            .field("max_line_len", &self.max_line_len)
            .finish()
    }
}

impl Batches {
    /// The Batches API over `transport` (retries, timeouts and limits are the
    /// transport's).
    pub fn new(transport: Transport) -> Batches {
        Batches {
            transport,
            max_line_len: DEFAULT_MAX_LINE_LEN,
        }
    }

    /// Sets the longest results line accepted by [`Batches::results`].
    /// Default is [`DEFAULT_MAX_LINE_LEN`] (64 MiB).
    pub fn with_max_line_len(mut self, max: usize) -> Batches {
        self.max_line_len = max;
        self
    }

    /// The transport.
    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    async fn send_json<T: serde::de::DeserializeOwned>(
        &self,
        req: Request,
        batch_id: Option<&str>,
    ) -> Result<T> {
        let tag = |e: Error| match batch_id {
            Some(id) => e.with_batch_id(id),
            None => e,
        };
        let resp = self.transport.send(req).await.map_err(|e| tag(e.into()))?;
        resp.json().await.map_err(|e| tag(e.into()))
    }

    /// Creates a batch: `POST /v1/messages/batches`.
    ///
    /// The body is sent as is; use [`BatchJob`](crate::BatchJob) to have
    /// `custom_id`s and the size limits checked first and large jobs split.
    /// A [`retrieve`](Batches::retrieve) right after this can transiently
    /// answer 404; [`wait`](Batches::wait) tolerates that.
    ///
    /// **Sent at most once when it may have been served.** A create costs
    /// money, so it is not retried like other requests: it is tried again
    /// (up to the transport's [`max_retries`](Transport::max_retries), with
    /// its backoff) only when the failure shows that no batch was created:
    /// the connection could not be made, or the API refused it with 429 or
    /// 529 (or asked for a retry with `x-should-retry: true`). A timeout,
    /// a connection lost after the request was sent, a 5xx or an unreadable
    /// answer is returned at once, with a message saying that the batch may
    /// have been created: [`list`](Batches::list) the newest batches before
    /// creating it again.
    ///
    /// # Errors
    ///
    /// [`Error::is_http`]: the transport failed or the API refused the batch
    /// (a 400 names the offending request).
    ///
    /// # Cancellation
    ///
    /// Dropping the future abandons the request; the batch may or may not
    /// have been created.
    pub async fn create(&self, params: &BatchCreateParams) -> Result<MessageBatch> {
        let body = Request::post(BATCHES).with_json(params)?.body().clone();
        self.create_raw(body).await
    }

    /// Creates a batch from an already serialized body
    /// (`{"requests":[...]}`), with the retry rules of
    /// [`create`](Batches::create).
    ///
    /// # Errors
    ///
    /// As [`Batches::create`].
    pub async fn create_raw(&self, body: bytes::Bytes) -> Result<MessageBatch> {
        let mut retry = 0;
        loop {
            let req = Request::post(BATCHES)
                .with_body(body.clone())
                .with_options(RequestOptions::new().max_retries(0));
            let e = match self.transport.send(req).await {
                // A 2xx whose answer cannot be read: created, id unknown.
                Ok(resp) => return resp.json().await.map_err(maybe_created),
                Err(e) => e,
            };
            if !was_not_served(&e) {
                // A 4xx refused it; anything else may have created it.
                let refused = e.status().is_some_and(|s| s.is_client_error());
                return Err(if refused { e.into() } else { maybe_created(e) });
            }
            if retry >= self.transport.max_retries() {
                return Err(e.into());
            }
            let wait = e
                .headers()
                .and_then(|h| messages_http::retry_after(h, std::time::SystemTime::now()))
                .unwrap_or_else(|| messages_http::retry_delay(retry));
            tokio::time::sleep(wait).await;
            retry += 1;
        }
    }

    /// Retrieves a batch: `GET /v1/messages/batches/{id}`.
    ///
    /// # Errors
    ///
    /// [`Error::is_http`]; a 404 ([`Error::status`]) for an unknown batch.
    pub async fn retrieve(&self, id: &str) -> Result<MessageBatch> {
        self.send_json(
            Request::get(format!("{BATCHES}/{}", encode_segment(id))),
            Some(id),
        )
        .await
    }

    /// Cancels a batch: `POST /v1/messages/batches/{id}/cancel`. The batch
    /// becomes `canceling`, then `ended` with its unprocessed requests
    /// `canceled`.
    ///
    /// # Errors
    ///
    /// [`Error::is_http`].
    pub async fn cancel(&self, id: &str) -> Result<MessageBatch> {
        self.send_json(
            Request::post(format!("{BATCHES}/{}/cancel", encode_segment(id))),
            Some(id),
        )
        .await
    }

    /// Deletes an ended batch: `DELETE /v1/messages/batches/{id}`.
    ///
    /// # Errors
    ///
    /// [`Error::is_http`]; the API refuses to delete a batch that has not
    /// ended.
    pub async fn delete(&self, id: &str) -> Result<DeletedMessageBatch> {
        self.send_json(
            Request::delete(format!("{BATCHES}/{}", encode_segment(id))),
            Some(id),
        )
        .await
    }

    /// One page of batches: `GET /v1/messages/batches` with the parameters.
    ///
    /// # Errors
    ///
    /// [`Error::is_http`].
    pub async fn list_page(&self, params: &ListParams) -> Result<Page<MessageBatch>> {
        Ok(self.transport.page(BATCHES, params).await?)
    }

    /// All batches as a [`Stream`], fetching pages as it is read.
    ///
    /// Batches come newest first. With `after_id` (or neither cursor) it
    /// pages towards older batches; with `before_id` it pages towards newer
    /// ones (each page still newest first, as the API returns it). `limit`
    /// is the page size (1 to 1000, default 20): it does not cap the stream;
    /// use `StreamExt::take` for that.
    ///
    /// # Cancellation
    ///
    /// Dropping the stream abandons the page request in flight, if any.
    pub fn list(&self, params: ListParams) -> BatchList {
        BatchList {
            pages: self.transport.pages(BATCHES, params),
        }
    }

    /// The results of an ended batch as a [`ResultsStream`] of typed lines:
    /// `GET /v1/messages/batches/{id}/results`.
    ///
    /// The body is decoded incrementally in constant memory (see
    /// [`ResultsDecoder`]); lines come in no particular order, so match them
    /// by `custom_id`.
    ///
    /// The download is sent as a streaming request: the transport's deadline
    /// covers the wait for the response headers, and the body is governed by
    /// the idle timeout only, so a large file over a slow link is not cut
    /// off while data keeps arriving.
    ///
    /// # Errors
    ///
    /// [`Error::is_http`] when the request fails (the batch has not ended:
    /// 400; unknown batch: 404). Errors while reading come from the stream.
    pub async fn results(&self, id: &str) -> Result<ResultsStream> {
        // A download as long as the results: like a stream, the deadline
        // covers the response headers and the idle timeout the body.
        let req = Request::get(format!("{BATCHES}/{}/results", encode_segment(id)))
            .with_options(RequestOptions::new().streaming(true));
        let resp = self
            .transport
            .send(req)
            .await
            .map_err(|e| Error::from(e).with_batch_id(id))?;
        Ok(ResultsStream {
            body: Some(resp.into_body()),
            decoder: ResultsDecoder::new().max_line_len(self.max_line_len),
            batch_id: id.to_owned(),
            done: false,
        })
    }
}

// ===== BatchList =====

/// The auto-paginating [`Stream`] of [`Batches::list`]: the transport's
/// [`Pages`] of batches, with this crate's [`Error`].
///
/// After an error the stream ends.
#[derive(Debug)]
pub struct BatchList {
    pages: Pages<MessageBatch>,
}

impl Stream for BatchList {
    type Item = Result<MessageBatch>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.pages)
            .poll_next(cx)
            .map(|item| item.map(|r| r.map_err(Error::from)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.pages.size_hint()
    }
}

// ===== ResultsStream =====

/// The results of one batch, decoded incrementally from the response body:
/// a [`Stream`] of [`BatchResultLine`].
///
/// Errors name the line number and, when it can be read, the `custom_id`
/// ([`Error::line`], [`Error::custom_id`]). A body that ends in the middle of
/// a line is an [`Error::is_truncated`] error. After an error the stream
/// ends.
///
/// # Drop behaviour
///
/// The connection is closed (not returned to the pool half-read) when the
/// stream hits a decode error, and when the stream is dropped before the end
/// of the body; a stream read to the end returns its connection to the pool.
pub struct ResultsStream {
    body: Option<Body>,
    decoder: ResultsDecoder,
    batch_id: String,
    done: bool,
}

impl fmt::Debug for ResultsStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResultsStream")
            .field("batch_id", &self.batch_id)
            .field("line", &self.decoder.line_number())
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl ResultsStream {
    /// The batch these results belong to.
    pub fn batch_id(&self) -> &str {
        &self.batch_id
    }

    fn fail(&mut self, e: Error) -> Error {
        // Dropping the body closes the connection.
        self.body = None;
        self.done = true;
        e.with_batch_id(self.batch_id.clone())
    }

    /// Polls for the next raw (undecoded) line.
    fn poll_raw(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<RawLine>>> {
        loop {
            if self.done {
                return Poll::Ready(None);
            }
            match self.decoder.next_raw() {
                Ok(Some(line)) => return Poll::Ready(Some(Ok(line))),
                Ok(None) => {}
                Err(e) => return Poll::Ready(Some(Err(self.fail(e)))),
            }
            let Some(body) = self.body.as_mut() else {
                // `finish` was called and the decoder is drained.
                self.done = true;
                return Poll::Ready(None);
            };
            match Pin::new(body).poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(chunk))) => self.decoder.push(chunk),
                Poll::Ready(Some(Err(e))) => {
                    return Poll::Ready(Some(Err(self.fail(e.into()))));
                }
                Poll::Ready(None) => {
                    self.body = None;
                    self.decoder.finish();
                }
            }
        }
    }

    /// The next line without decoding it (to copy results verbatim, or to
    /// decode elsewhere). Same errors and end as the stream.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a line is only taken when this returns.
    pub async fn next_raw(&mut self) -> Option<Result<RawLine>> {
        std::future::poll_fn(|cx| self.poll_raw(cx)).await
    }
}

impl Stream for ResultsStream {
    type Item = Result<BatchResultLine>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        match std::task::ready!(this.poll_raw(cx)) {
            None => Poll::Ready(None),
            Some(Err(e)) => Poll::Ready(Some(Err(e))),
            Some(Ok(raw)) => match raw.decode() {
                Ok(line) => Poll::Ready(Some(Ok(line))),
                Err(e) => Poll::Ready(Some(Err(this.fail(e)))),
            },
        }
    }
}

/// Whether a failed create certainly created nothing: no connection was
/// made, or the API answered a status that refuses the request before it
/// is served.
fn was_not_served(e: &messages_http::Error) -> bool {
    if e.is_connect() {
        return true;
    }
    let Some(status) = e.status() else {
        return false;
    };
    match e
        .headers()
        .and_then(|h| h.get("x-should-retry"))
        .map(|v| v.as_bytes())
    {
        Some(b"true") => true,
        Some(b"false") => false,
        _ => matches!(status.as_u16(), 429 | 529),
    }
}

/// A create that failed after it may have been served: the batch may
/// exist (and be billed).
fn maybe_created(e: messages_http::Error) -> Error {
    Error::new(
        crate::error::Kind::Http,
        "the batch may have been created (the request was sent, no usable answer came back): \
         list the newest batches before creating it again",
    )
    .with_source(e)
}
