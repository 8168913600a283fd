//! Polling until batches end: [`WaitOptions`], [`Progress`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use messages_types::{MessageBatch, ProcessingStatus, RequestCounts};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::api::Batches;
use crate::error::{Error, Kind, Result};

/// Where a batch, a job or a local run stands: request counts by state.
///
/// The same type reports progress for [`Batches::wait`], a
/// [`SubmittedJob`](crate::SubmittedJob) (summed over its batches) and the
/// [`LocalRunner`](crate::LocalRunner).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Progress {
    /// All requests.
    pub total: u64,
    /// Not finished yet.
    pub processing: u64,
    /// Finished with a message.
    pub succeeded: u64,
    /// Finished with an error.
    pub errored: u64,
    /// Canceled before they ran.
    pub canceled: u64,
    /// Expired before they ran.
    pub expired: u64,
    /// Whether everything has ended (for batches: `processing_status` is
    /// `ended`; for a local run: every request has a result).
    pub ended: bool,
}

impl Progress {
    /// The progress of one batch.
    pub fn of_batch(batch: &MessageBatch) -> Progress {
        let c: &RequestCounts = &batch.request_counts;
        Progress {
            total: c.processing + c.succeeded + c.errored + c.canceled + c.expired,
            processing: c.processing,
            succeeded: c.succeeded,
            errored: c.errored,
            canceled: c.canceled,
            expired: c.expired,
            ended: batch.processing_status == ProcessingStatus::Ended,
        }
    }

    /// Requests with a result (`total - processing`).
    pub fn finished(&self) -> u64 {
        self.succeeded + self.errored + self.canceled + self.expired
    }

    /// The finished fraction, 0.0 to 1.0 (1.0 for an empty job).
    pub fn fraction(&self) -> f64 {
        if self.total == 0 {
            1.0
        } else {
            self.finished() as f64 / self.total as f64
        }
    }

    /// The progress of several batches as one: counts added, ended when
    /// every one has ended.
    pub(crate) fn combined<'a>(batches: impl IntoIterator<Item = &'a MessageBatch>) -> Progress {
        let mut total = Progress {
            ended: true,
            ..Progress::default()
        };
        for b in batches {
            let p = Progress::of_batch(b);
            total.total += p.total;
            total.processing += p.processing;
            total.succeeded += p.succeeded;
            total.errored += p.errored;
            total.canceled += p.canceled;
            total.expired += p.expired;
            total.ended &= p.ended;
        }
        total
    }
}

impl fmt::Display for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{} done ({} succeeded, {} errored, {} canceled, {} expired){}",
            self.finished(),
            self.total,
            self.succeeded,
            self.errored,
            self.canceled,
            self.expired,
            if self.ended { ", ended" } else { "" }
        )
    }
}

type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;

/// Progress reporting shared by waits and local runs: a callback and/or a
/// watch channel.
#[derive(Clone, Default)]
pub(crate) struct Reporter {
    callback: Option<ProgressFn>,
    watch: Option<watch::Sender<Progress>>,
}

impl Reporter {
    pub(crate) fn set_callback(&mut self, f: impl Fn(&Progress) + Send + Sync + 'static) {
        self.callback = Some(Arc::new(f));
    }

    pub(crate) fn subscribe(&mut self) -> watch::Receiver<Progress> {
        match &self.watch {
            Some(tx) => tx.subscribe(),
            None => {
                let (tx, rx) = watch::channel(Progress::default());
                self.watch = Some(tx);
                rx
            }
        }
    }

    pub(crate) fn report(&self, p: &Progress) {
        if let Some(cb) = &self.callback {
            cb(p);
        }
        if let Some(tx) = &self.watch {
            tx.send_replace(*p);
        }
    }
}

impl fmt::Debug for Reporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reporter")
            .field("callback", &self.callback.is_some())
            .field("watch", &self.watch.is_some())
            .finish()
    }
}

/// How [`Batches::wait`] polls: a backing-off schedule, a deadline, the
/// grace period for the transient 404 after create, and progress reporting.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use messages_batch::WaitOptions;
///
/// let mut opts = WaitOptions::new()
///     .interval(Duration::from_secs(2), Duration::from_secs(30))
///     .deadline(Duration::from_secs(3600))
///     .on_progress(|p| eprintln!("{p}"));
/// let progress = opts.watch(); // a tokio watch::Receiver<Progress>
/// assert_eq!(progress.borrow().total, 0);
/// ```
#[derive(Debug, Clone)]
pub struct WaitOptions {
    initial: Duration,
    max: Duration,
    multiplier: f64,
    deadline: Option<Duration>,
    not_found_grace: Duration,
    pub(crate) reporter: Reporter,
}

impl Default for WaitOptions {
    fn default() -> WaitOptions {
        WaitOptions::new()
    }
}

impl WaitOptions {
    /// Polls after 1 s, backing off by 1.5x to at most 60 s between polls,
    /// without a deadline, tolerating 404 for 60 s.
    pub fn new() -> WaitOptions {
        WaitOptions {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(60),
            multiplier: 1.5,
            deadline: None,
            not_found_grace: Duration::from_secs(60),
            reporter: Reporter::default(),
        }
    }

    /// The first and the longest interval between polls. Default is 1 s
    /// and 60 s.
    pub fn interval(mut self, initial: Duration, max: Duration) -> WaitOptions {
        self.initial = initial;
        self.max = max.max(initial);
        self
    }

    /// How much the interval grows after a poll that saw no change
    /// (at least 1.0). A poll that saw progress keeps the interval. Default
    /// is 1.5.
    pub fn multiplier(mut self, m: f64) -> WaitOptions {
        self.multiplier = if m.is_finite() { m.max(1.0) } else { 1.0 };
        self
    }

    /// Gives up with [`Error::is_timeout`] after this long, even in the
    /// middle of a status request that hangs (the deadline bounds every
    /// request of the wait, not only the pauses between them). Default is no
    /// deadline (batches end within 24 hours, by expiry if nothing else).
    pub fn deadline(mut self, deadline: Duration) -> WaitOptions {
        self.deadline = Some(deadline);
        self
    }

    /// How long a 404 counts as "not visible yet" (the API can answer 404
    /// right after create) rather than an error. Default is 60 s from the
    /// start of the wait.
    pub fn not_found_grace(mut self, grace: Duration) -> WaitOptions {
        self.not_found_grace = grace;
        self
    }

    /// Calls `f` with the progress after every poll that saw a change (and
    /// after the first). It runs on the waiting task: keep it short.
    pub fn on_progress(mut self, f: impl Fn(&Progress) + Send + Sync + 'static) -> WaitOptions {
        self.reporter.set_callback(f);
        self
    }

    /// A watch channel that receives the same progress as
    /// [`on_progress`](WaitOptions::on_progress). Calling it again gives
    /// another receiver of the same channel.
    pub fn watch(&mut self) -> watch::Receiver<Progress> {
        self.reporter.subscribe()
    }
}

impl Batches {
    /// Polls a batch until it has ended and returns it.
    ///
    /// Polls on the schedule of `opts` (backing off while nothing changes),
    /// reports [`Progress`] after each change, treats 404 as "not visible
    /// yet" during the grace period, and stops at the deadline. The
    /// transport retries transient failures of each poll.
    ///
    /// # Errors
    ///
    /// [`Error::is_timeout`] at the deadline; [`Error::is_http`] when a poll
    /// fails (after the transport's retries), including a 404 after the
    /// grace period.
    ///
    /// # Cancellation
    ///
    /// Cancelled on drop: dropping the future stops polling at once; nothing
    /// runs in the background. The batch itself is not canceled (use
    /// [`Batches::cancel`]).
    pub async fn wait(&self, id: &str, opts: WaitOptions) -> Result<MessageBatch> {
        let mut ended = self.wait_all(&[id.to_owned()], &opts).await?;
        ended
            .pop()
            .ok_or_else(|| Error::new(Kind::Incomplete, "no batch was polled"))
    }

    /// Polls several batches until all have ended, reporting their summed
    /// progress. Returns the ended batches in the order of `ids`.
    pub(crate) async fn wait_all(
        &self,
        ids: &[String],
        opts: &WaitOptions,
    ) -> Result<Vec<MessageBatch>> {
        let start = Instant::now();
        let deadline = opts.deadline.map(|d| start + d);
        let mut latest: Vec<Option<MessageBatch>> = vec![None; ids.len()];
        let mut interval = opts.initial;
        let mut last_reported: Option<Progress> = None;
        loop {
            for (slot, id) in latest.iter_mut().zip(ids) {
                if slot
                    .as_ref()
                    .is_some_and(|b| b.processing_status == ProcessingStatus::Ended)
                {
                    continue;
                }
                // The deadline bounds each request too, not only the gaps
                // between them: a status request that hangs ends the wait.
                let polled = match deadline {
                    Some(d) => match tokio::time::timeout_at(d, self.retrieve(id)).await {
                        Ok(polled) => polled,
                        Err(_) => {
                            let progress = Progress::combined(latest.iter().flatten());
                            return Err(deadline_passed(opts, id, &progress));
                        }
                    },
                    None => self.retrieve(id).await,
                };
                match polled {
                    Ok(b) => *slot = Some(b),
                    Err(e)
                        if e.status() == Some(http::StatusCode::NOT_FOUND)
                            && start.elapsed() < opts.not_found_grace =>
                    {
                        // Not visible yet, right after create.
                    }
                    Err(e) => return Err(e),
                }
            }
            let mut progress = Progress::combined(latest.iter().flatten());
            // A batch not visible yet has not ended.
            progress.ended &= latest.iter().all(Option::is_some);
            let changed = last_reported != Some(progress);
            if changed {
                opts.reporter.report(&progress);
                last_reported = Some(progress);
            }
            if progress.ended {
                return Ok(latest.into_iter().flatten().collect());
            }
            if !changed {
                interval = interval.mul_f64(opts.multiplier).min(opts.max);
            }
            let mut wake = Instant::now() + interval;
            if let Some(d) = deadline {
                if Instant::now() >= d {
                    let id = ids.first().map_or("", String::as_str);
                    return Err(deadline_passed(opts, id, &progress));
                }
                wake = wake.min(d);
            }
            tokio::time::sleep_until(wake).await;
        }
    }
}

fn deadline_passed(opts: &WaitOptions, id: &str, progress: &Progress) -> Error {
    Error::new(
        Kind::Timeout,
        format!(
            "the wait deadline of {:?} passed before the batch ended: {progress}",
            opts.deadline.unwrap_or_default()
        ),
    )
    .with_batch_id(id)
}
