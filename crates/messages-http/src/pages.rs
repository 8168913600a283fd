//! [`Pages`]: every item of a cursor-paginated list endpoint, as a stream.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use messages_types::Page;
use serde::de::DeserializeOwned;

use crate::{Error, Request, RequestOptions, Result, Transport};

/// The query of a list endpoint (`GET /v1/models`,
/// `GET /v1/messages/batches`): a cursor and a page size.
///
/// # Examples
///
/// ```
/// use messages_http::ListParams;
///
/// let params = ListParams::new().after_id("msgbatch_013").limit(100);
/// assert_eq!(params.limit, Some(100));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListParams {
    /// Items newer than this id (the page just before it).
    pub before_id: Option<String>,
    /// Items older than this id (the page just after it).
    pub after_id: Option<String>,
    /// Page size, 1 to 1000. Default (none) is the endpoint's own (20).
    pub limit: Option<u32>,
    /// Options of every page request (headers, betas, timeouts, retries).
    pub options: RequestOptions,
}

impl ListParams {
    /// No cursor, the endpoint's page size.
    pub fn new() -> ListParams {
        ListParams::default()
    }

    /// Sets `before_id`.
    pub fn before_id(mut self, id: impl Into<String>) -> ListParams {
        self.before_id = Some(id.into());
        self
    }

    /// Sets `after_id`.
    pub fn after_id(mut self, id: impl Into<String>) -> ListParams {
        self.after_id = Some(id.into());
        self
    }

    /// Sets the page size.
    pub fn limit(mut self, limit: u32) -> ListParams {
        self.limit = Some(limit);
        self
    }

    /// Sets the options of every page request.
    pub fn options(mut self, options: RequestOptions) -> ListParams {
        self.options = options;
        self
    }

    /// `GET path` with these parameters as its query.
    fn request(&self, path: &str) -> Request {
        let mut req = Request::get(path).with_options(self.options.clone());
        if let Some(b) = &self.before_id {
            req = req.with_query("before_id", b);
        }
        if let Some(a) = &self.after_id {
            req = req.with_query("after_id", a);
        }
        if let Some(l) = self.limit {
            req = req.with_query("limit", &l.to_string());
        }
        req
    }
}

impl Transport {
    /// One page of a list endpoint: `GET path` with `params`.
    ///
    /// # Errors
    ///
    /// As [`Transport::send`] and [`Response::json`](crate::Response::json).
    pub async fn page<T: DeserializeOwned>(
        &self,
        path: &str,
        params: &ListParams,
    ) -> Result<Page<T>> {
        self.send(params.request(path)).await?.json().await
    }

    /// Every item of a list endpoint as a [`Pages`] stream, fetching one
    /// page at a time as the stream is read.
    pub fn pages<T>(&self, path: impl Into<String>, params: ListParams) -> Pages<T> {
        Pages {
            transport: self.clone(),
            path: path.into(),
            params,
            buffer: VecDeque::new(),
            pending: None,
            done: false,
        }
    }
}

type PageFuture<T> = Pin<Box<dyn Future<Output = Result<Page<T>>> + Send>>;

/// Every item of a list endpoint, from [`Transport::pages`]: a [`Stream`]
/// that requests the next page when the items of the last one are used up.
///
/// Items come as the endpoint orders them (newest first). With `after_id`
/// (or no cursor) the stream pages towards older items; with `before_id`,
/// towards newer ones (each page still newest first, as the API returns
/// it). `limit` is the page size, not a cap on the stream: use
/// `StreamExt::take` for that.
///
/// Nothing is requested until the stream is polled. After an error the
/// stream ends. A page that has more items but whose cursor does not
/// advance (the server gives back the cursor it was sent) ends the stream
/// with an [`Error::is_protocol`] error instead of requesting the same page
/// for ever; its items are not yielded again.
///
/// # Cancellation
///
/// Dropping the stream abandons the page request in flight, if any.
pub struct Pages<T> {
    transport: Transport,
    path: String,
    params: ListParams,
    buffer: VecDeque<T>,
    pending: Option<PageFuture<T>>,
    done: bool,
}

impl<T> fmt::Debug for Pages<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pages")
            .field("path", &self.path)
            .field("params", &self.params)
            .field("buffered", &self.buffer.len())
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

// No field is structurally pinned: the page future is boxed.
impl<T> Unpin for Pages<T> {}

impl<T: DeserializeOwned + Send + 'static> Stream for Pages<T> {
    type Item = Result<T>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<T>>> {
        let this = &mut *self;
        loop {
            if let Some(item) = this.buffer.pop_front() {
                return Poll::Ready(Some(Ok(item)));
            }
            if this.done {
                return Poll::Ready(None);
            }
            let fut = this.pending.get_or_insert_with(|| {
                let transport = this.transport.clone();
                let path = this.path.clone();
                let params = this.params.clone();
                Box::pin(async move { transport.page(&path, &params).await })
            });
            let page = match fut.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(page) => page,
            };
            this.pending = None;
            let page = match page {
                Ok(page) => page,
                Err(e) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(e)));
                }
            };
            let backwards = this.params.before_id.is_some();
            let next = if backwards {
                &page.first_id
            } else {
                &page.last_id
            };
            match next {
                Some(id) if page.has_more && !page.data.is_empty() => {
                    let cursor = if backwards {
                        &mut this.params.before_id
                    } else {
                        &mut this.params.after_id
                    };
                    if cursor.as_deref() == Some(id.as_str()) {
                        // The same page would come again, for ever.
                        this.done = true;
                        let field = if backwards { "first_id" } else { "last_id" };
                        return Poll::Ready(Some(Err(Error::protocol(format!(
                            "the list {} did not advance: the page requested with cursor {id:?} \
                             has more items but gives the same cursor as its {field}",
                            this.path
                        )))));
                    }
                    *cursor = Some(id.clone());
                }
                _ => this.done = true,
            }
            this.buffer.extend(page.data);
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let upper = self.done.then_some(self.buffer.len());
        (self.buffer.len(), upper)
    }
}
