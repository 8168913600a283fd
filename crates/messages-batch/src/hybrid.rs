//! Hybrid routing: interactive requests stream, background requests batch.
//!
//! A service often has both kinds of traffic: a user waiting for an answer
//! (stream it, full price, first token in about a second) and work nobody
//! waits for (summaries, evaluations, backfills: batch it, half price,
//! results within 24 hours). The pattern is a [`BackgroundQueue`] next to
//! the streaming client, and one decision per request:
//!
//! ```no_run
//! # async fn run(transport: messages_http::Transport) -> Result<(), messages_batch::Error> {
//! use messages_batch::{BackgroundQueue, Batches, Urgency};
//! use messages_types::MessageRequest;
//!
//! let mut queue = BackgroundQueue::new(Batches::new(transport)).flush_at(5_000);
//! # let incoming: Vec<(String, Urgency, MessageRequest)> = Vec::new();
//! for (id, urgency, request) in incoming {
//!     match urgency {
//!         // The streaming client (messages-stream) answers these now.
//!         Urgency::Interactive => { /* client.messages().stream(request) */ }
//!         // Queued; a batch is submitted every 5,000 requests.
//!         Urgency::Background => {
//!             if let Some(job) = queue.push(id, request).await? {
//!                 println!("submitted {:?}", job.batch_ids());
//!             }
//!         }
//!     }
//! }
//! // Submit the rest, for example on a timer or at shutdown.
//! queue.flush().await?;
//! # Ok(())
//! # }
//! # let _ = run;
//! ```

use messages_types::MessageRequest;

use crate::api::Batches;
use crate::error::Result;
use crate::job::{BatchJob, SubmittedJob};

/// Where a request should go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Urgency {
    /// Someone is waiting: stream it through the Messages endpoint.
    Interactive,
    /// Nobody is waiting: queue it for the Batches API at half price.
    Background,
}

impl Urgency {
    /// Background when the answer may take up to `acceptable_delay`
    /// seconds: the Batches API promises results within 24 hours (most
    /// batches end within an hour), so anything that can wait a day goes to
    /// the batch path.
    pub fn for_deadline(acceptable_delay: std::time::Duration) -> Urgency {
        if acceptable_delay >= std::time::Duration::from_secs(24 * 60 * 60) {
            Urgency::Background
        } else {
            Urgency::Interactive
        }
    }
}

/// Collects background requests and submits them as a [`BatchJob`] when
/// enough have accumulated, or on [`flush`](BackgroundQueue::flush).
#[derive(Debug)]
pub struct BackgroundQueue {
    batches: Batches,
    job: BatchJob,
    /// An empty job with the configured limits.
    empty: BatchJob,
    flush_at: usize,
}

impl BackgroundQueue {
    /// A queue that submits every 10,000 requests.
    pub fn new(batches: Batches) -> BackgroundQueue {
        BackgroundQueue {
            batches,
            job: BatchJob::new(),
            empty: BatchJob::new(),
            flush_at: 10_000,
        }
    }

    /// At most this many requests per batch: a flush of more is split
    /// ([`BatchJob::max_requests_per_batch`]). Default is the API's
    /// 100,000. Applies to requests queued from now on.
    pub fn max_requests_per_batch(mut self, n: usize) -> BackgroundQueue {
        self.empty = self.empty.max_requests_per_batch(n);
        self.job = self.job.max_requests_per_batch(n);
        self
    }

    /// Submits once this many requests are queued (at least 1). Default is
    /// 10,000.
    pub fn flush_at(mut self, n: usize) -> BackgroundQueue {
        self.flush_at = n.max(1);
        self
    }

    /// Requests waiting to be submitted.
    pub fn len(&self) -> usize {
        self.job.len()
    }

    /// Whether no request is waiting.
    pub fn is_empty(&self) -> bool {
        self.job.is_empty()
    }

    /// Queues a request; submits the queue when it is full and returns the
    /// submitted job.
    ///
    /// # Errors
    ///
    /// [`BatchJob::add`]'s errors (the request is not queued), or
    /// [`BatchJob::submit`]'s (the queue is kept, to flush again).
    pub async fn push(
        &mut self,
        custom_id: impl Into<String>,
        params: MessageRequest,
    ) -> Result<Option<SubmittedJob>> {
        self.job.add(custom_id, params)?;
        if self.job.len() >= self.flush_at {
            return self.flush().await;
        }
        Ok(None)
    }

    /// Submits the queued requests, if any.
    ///
    /// A request is never submitted twice: when a split job fails after
    /// some of its batches were created, the requests those batches hold
    /// leave the queue, and the error's
    /// [`created_batches`](crate::Error::created_batches) names the batches
    /// (rebuild them with [`SubmittedJob::from_batch_ids`]). The next flush
    /// submits only the rest.
    ///
    /// # Errors
    ///
    /// [`BatchJob::submit`]'s errors; the requests not yet in a batch stay
    /// queued.
    ///
    /// # Cancellation
    ///
    /// If dropped while submitting, the whole queue is kept: batches
    /// created before the drop are not known to it, and a later flush
    /// submits their requests again. Do not drop a flush in progress.
    pub async fn flush(&mut self) -> Result<Option<SubmittedJob>> {
        if self.job.is_empty() {
            return Ok(None);
        }
        match self.job.submit(&self.batches).await {
            Ok(submitted) => {
                self.job = self.empty.clone();
                Ok(Some(submitted))
            }
            Err(e) => {
                if !e.created_batches().is_empty() {
                    self.job = self.job.without(e.created_batches());
                }
                Err(e)
            }
        }
    }
}
