//! [`Coordinator`]: sends the jobs that can wait through the Message
//! Batches API, at half price.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use futures_util::TryStreamExt;
use messages_batch::{BatchJob, Batches, SubmittedJob};

use crate::callback::Callbacks;
use crate::error::{Error, Kind, Result};
use crate::job::{CallbackStatus, now_ms};
use crate::queue::{BatchGroup, Queue};
use crate::worker::deliver_callback;

/// What one [`Coordinator::run_until`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CoordinatorReport {
    /// Groups submitted as Message Batches by this coordinator.
    pub submitted: u64,
    /// Groups whose results this coordinator stored.
    pub finished: u64,
    /// Results stored (first write).
    pub stored: u64,
}

/// Collects the jobs routed to batches
/// ([`QueueConfig::batch_after`](crate::QueueConfig::batch_after)) into
/// Message Batches with messages-batch's [`BatchJob`], waits for them, and
/// writes each result back to its job (first write wins), with its
/// callback, as a worker would.
///
/// One coordinator works at a time: each pass first takes or renews a lease
/// in the queue ([`Queue::lead`]); run one in every worker process and the
/// others stand by. The batch ids are persisted in the queue
/// ([`Queue::set_batch_ids`]) right after the batches are created, so a
/// replacement attaches to them ([`SubmittedJob::attach`]) and finishes
/// them: no job is lost, and no batch is created twice, except in one
/// window: a coordinator killed after the API created a batch and before
/// its id was recorded leaves a group with no batch id, which the
/// replacement submits again (the results are still stored once per job;
/// the requests are paid twice).
#[derive(Debug, Clone)]
pub struct Coordinator {
    queue: Arc<dyn Queue>,
    batches: Batches,
    callbacks: Option<Callbacks>,
    name: String,
    interval: Duration,
    lease: Duration,
    max_per_group: usize,
}

impl Coordinator {
    /// A coordinator for `queue` creating batches through `batches`.
    pub fn new(queue: Arc<dyn Queue>, batches: Batches) -> Coordinator {
        Coordinator {
            queue,
            batches,
            callbacks: None,
            name: format!("coordinator-{}-{}", std::process::id(), now_ms() % 100_000),
            interval: Duration::from_secs(30),
            lease: Duration::from_secs(120),
            max_per_group: 10_000,
        }
    }

    /// Its name in the lease. Default is `coordinator-PID-N`.
    pub fn name(mut self, name: impl Into<String>) -> Coordinator {
        self.name = name.into();
        self
    }

    /// Signs and sends callbacks (see [`Worker::callbacks`](crate::Worker::callbacks)).
    pub fn callbacks(mut self, callbacks: Callbacks) -> Coordinator {
        self.callbacks = Some(callbacks);
        self
    }

    /// The time between passes (collecting new jobs, polling batches).
    /// Default is 30 s.
    pub fn interval(mut self, every: Duration) -> Coordinator {
        self.interval = every;
        self
    }

    /// How long the lease lasts without renewal: after it, a standby
    /// coordinator takes over. Keep it above the interval. Default is 120 s.
    pub fn lease(mut self, lease: Duration) -> Coordinator {
        self.lease = lease;
        self
    }

    /// The most jobs in one group (split by [`BatchJob`] into batches of at
    /// most 100,000 requests / 256 MB). Default is 10,000.
    pub fn max_per_group(mut self, n: usize) -> Coordinator {
        self.max_per_group = n.max(1);
        self
    }

    /// Runs passes every [`interval`](Coordinator::interval) until `stop`.
    /// A failed pass (Redis or the Batches API down) is logged and tried
    /// again at the next interval.
    ///
    /// # Errors
    ///
    /// None so far: errors of a pass are retried. The `Result` is for
    /// future fatal conditions.
    ///
    /// # Cancellation
    ///
    /// Safe at any point: the state of every group is in the queue.
    pub async fn run_until(&self, stop: impl Future<Output = ()>) -> Result<CoordinatorReport> {
        let mut report = CoordinatorReport::default();
        let mut stop = pin!(stop);
        loop {
            if let Err(e) = self.pass(&mut report).await {
                tracing::warn!(error = %e, "coordinator pass failed; retrying");
            }
            tokio::select! {
                () = &mut stop => return Ok(report),
                () = tokio::time::sleep(self.interval) => {}
            }
        }
    }

    /// One pass: take the lease, submit groups without batch ids, finish
    /// groups whose batches ended, form a new group from waiting jobs.
    /// Returns whether this coordinator leads.
    ///
    /// # Errors
    ///
    /// The queue's errors; [`Error::is_batch`] when the Batches API fails.
    pub async fn pass(&self, report: &mut CoordinatorReport) -> Result<bool> {
        if !self.queue.lead(&self.name, self.lease).await? {
            return Ok(false);
        }
        for group in self.queue.open_batches().await? {
            if group.batch_ids.is_empty() {
                self.submit(&group, report).await?;
            } else {
                self.collect(&group, report).await?;
            }
        }
        while let Some(group) = self.queue.form_batch(self.max_per_group).await? {
            self.submit(&group, report).await?;
        }
        Ok(true)
    }

    fn batch_job(group: &BatchGroup) -> Result<BatchJob> {
        let mut job = BatchJob::new();
        for j in &group.jobs {
            job.add(j.id.clone(), j.request.clone()).map_err(|e| {
                Error::new(Kind::Input, format!("batch group {}: {e}", group.id)).with_source(e)
            })?;
        }
        Ok(job)
    }

    async fn submit(&self, group: &BatchGroup, report: &mut CoordinatorReport) -> Result<()> {
        let job = Coordinator::batch_job(group)?;
        let submitted = job.submit(&self.batches).await.map_err(batch_err)?;
        self.queue
            .set_batch_ids(&group.id, submitted.batch_ids())
            .await?;
        report.submitted += 1;
        tracing::info!(group = %group.id, batches = ?submitted.batch_ids(), "submitted");
        Ok(())
    }

    async fn collect(&self, group: &BatchGroup, report: &mut CoordinatorReport) -> Result<()> {
        let job = Coordinator::batch_job(group)?;
        let submitted = SubmittedJob::attach(self.batches.clone(), group.batch_ids.clone(), &job);
        if !submitted.progress().await.map_err(batch_err)?.ended {
            return Ok(());
        }
        let mut results = submitted.results();
        while let Some(line) = results.try_next().await.map_err(batch_err)? {
            let q = &self.queue;
            let won = q.store_result(&line.custom_id, &line.result).await?;
            if won {
                report.stored += 1;
            }
            let Some(info) = q.job(&line.custom_id).await? else {
                continue;
            };
            if info.callback.status == CallbackStatus::Pending {
                let state = deliver_callback(
                    self.callbacks.as_ref(),
                    &info.job,
                    &line.result,
                    info.callback.attempts,
                )
                .await;
                q.set_callback(&line.custom_id, &state).await?;
            }
        }
        self.queue.finish_batch(&group.id).await?;
        report.finished += 1;
        Ok(())
    }
}

fn batch_err(e: messages_batch::Error) -> Error {
    Error::new(Kind::Batch, format!("batches: {e}")).with_source(e)
}
