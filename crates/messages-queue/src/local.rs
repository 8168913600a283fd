//! [`LocalQueue`]: the queue in a directory, for one machine, no server.

use std::collections::{HashMap, VecDeque};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use messages_types::{BatchResult, BatchResultLine};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Kind, Result};
use crate::job::{
    CallbackState, CallbackStatus, DeadLetter, Delivery, Job, JobInfo, JobState, Lane, Status,
    now_ms,
};
use crate::queue::{BatchGroup, BoxFuture, Headroom, Queue, QueueConfig, RateLimit};
use crate::stats::Stats;

/// The log's file name in the queue's directory.
pub const LOG_FILE: &str = "queue.log";

/// One line of the log: a state change.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Rec {
    Enqueue {
        job: Job,
        at: u64,
        #[serde(default)]
        routed: bool,
    },
    Take {
        id: String,
        until: u64,
    },
    Lease {
        id: String,
        until: u64,
    },
    Fail {
        id: String,
        error: String,
        until: u64,
    },
    Release {
        id: String,
    },
    Result {
        id: String,
        result: BatchResult,
        at: u64,
    },
    Callback {
        id: String,
        state: CallbackState,
    },
    Ack {
        id: String,
    },
    Dead {
        id: String,
        error: String,
    },
    Redrive {
        id: String,
    },
    Heartbeat {
        worker: String,
        until: u64,
    },
    Pause {
        until: u64,
    },
    Lead {
        name: String,
        until: u64,
    },
    FormBatch {
        group: String,
        ids: Vec<String>,
    },
    BatchIds {
        group: String,
        batch_ids: Vec<String>,
    },
    FinishBatch {
        group: String,
    },
}

#[derive(Debug)]
struct LocalJob {
    job: Job,
    state: JobState,
    deliveries: u64,
    last_error: Option<String>,
    result: Option<BatchResult>,
    callback: CallbackState,
    acked: bool,
    /// Routed to the Message Batches API at enqueue.
    routed: bool,
}

#[derive(Debug, Default)]
struct State {
    jobs: HashMap<String, LocalJob>,
    /// Per lane: jobs never taken (or re-driven), in order.
    ready: [VecDeque<String>; 2],
    /// Taken and not acknowledged: the lease end in Unix ms.
    leased: HashMap<String, u64>,
    /// Job ids in the order their results were stored.
    results: Vec<String>,
    /// Dead job ids, oldest first.
    dead: Vec<String>,
    workers: HashMap<String, u64>,
    /// Results stored per Unix minute.
    tput: HashMap<u64, u64>,
    pause_until: u64,
    /// In-process token buckets: (level, last refill ms).
    buckets: [(f64, u64); 2],
    headroom: Option<Headroom>,
    /// Jobs routed to batches, not yet in a group.
    batch_pending: VecDeque<String>,
    /// Open groups, oldest first: (group id, job ids, batch ids).
    groups: Vec<(String, Vec<String>, Vec<String>)>,
    group_seq: u64,
    /// The coordinator's lease: (name, until ms).
    leader: Option<(String, u64)>,
    /// Running totals for [`Queue::stats`].
    stats: Stats,
}

fn lane_index(lane: Lane) -> usize {
    match lane {
        Lane::Interactive => 0,
        Lane::Background => 1,
    }
}

impl State {
    fn apply(&mut self, rec: Rec) {
        match rec {
            Rec::Enqueue { job, routed, .. } => {
                if self.jobs.contains_key(&job.id) {
                    return;
                }
                if routed {
                    self.batch_pending.push_back(job.id.clone());
                } else {
                    self.ready[lane_index(job.lane)].push_back(job.id.clone());
                }
                self.jobs.insert(
                    job.id.clone(),
                    LocalJob {
                        job,
                        state: JobState::Queued,
                        deliveries: 0,
                        last_error: None,
                        result: None,
                        callback: CallbackState::default(),
                        acked: false,
                        routed,
                    },
                );
            }
            Rec::Take { id, until } => {
                if let Some(j) = self.jobs.get_mut(&id) {
                    j.deliveries += 1;
                    if j.state == JobState::Queued {
                        j.state = JobState::Running;
                        let q = &mut self.ready[lane_index(j.job.lane)];
                        if let Some(pos) = q.iter().position(|x| *x == id) {
                            q.remove(pos);
                        }
                    }
                    self.leased.insert(id, until);
                }
            }
            Rec::Lease { id, until } => {
                if let Some(l) = self.leased.get_mut(&id) {
                    *l = until;
                }
            }
            Rec::Fail { id, error, until } => {
                if let Some(j) = self.jobs.get_mut(&id) {
                    self.stats.add_retry(&error);
                    j.last_error = Some(error);
                }
                if let Some(l) = self.leased.get_mut(&id) {
                    *l = until;
                }
            }
            Rec::Release { id } => {
                if let Some(j) = self.jobs.get_mut(&id) {
                    j.deliveries = j.deliveries.saturating_sub(1);
                }
                if let Some(l) = self.leased.get_mut(&id) {
                    *l = 0;
                }
            }
            Rec::Result { id, result, at } => {
                if let Some(j) = self.jobs.get_mut(&id)
                    && j.result.is_none()
                {
                    self.stats.add_result(&result, j.routed);
                    j.result = Some(result);
                    j.state = JobState::Done;
                    if j.job.callback.is_some() {
                        j.callback.status = CallbackStatus::Pending;
                    }
                    self.results.push(id);
                    *self.tput.entry(at / 60_000).or_default() += 1;
                }
            }
            Rec::Callback { id, state } => {
                if let Some(j) = self.jobs.get_mut(&id) {
                    j.callback = state;
                }
            }
            Rec::Ack { id } => {
                if let Some(j) = self.jobs.get_mut(&id) {
                    j.acked = true;
                }
                self.leased.remove(&id);
            }
            Rec::Dead { id, error } => {
                if let Some(j) = self.jobs.get_mut(&id) {
                    j.state = JobState::Dead;
                    j.last_error = Some(error);
                    j.acked = true;
                    self.dead.push(id.clone());
                }
                self.leased.remove(&id);
            }
            Rec::Redrive { id } => {
                if let Some(j) = self.jobs.get_mut(&id)
                    && j.state == JobState::Dead
                {
                    j.state = JobState::Queued;
                    j.deliveries = 0;
                    j.last_error = None;
                    j.acked = false;
                    self.dead.retain(|x| *x != id);
                    self.ready[lane_index(j.job.lane)].push_back(id);
                }
            }
            Rec::Heartbeat { worker, until } => {
                self.workers.insert(worker, until);
            }
            Rec::Pause { until } => {
                self.pause_until = self.pause_until.max(until);
            }
            Rec::Lead { name, until } => self.leader = Some((name, until)),
            Rec::FormBatch { group, ids } => {
                self.batch_pending.retain(|id| !ids.contains(id));
                self.group_seq += 1;
                self.groups.push((group, ids, Vec::new()));
            }
            Rec::BatchIds { group, batch_ids } => {
                if let Some(g) = self.groups.iter_mut().find(|g| g.0 == group) {
                    g.2 = batch_ids;
                }
            }
            Rec::FinishBatch { group } => self.groups.retain(|g| g.0 != group),
        }
    }
}

#[derive(Debug)]
struct Inner {
    file: File,
    path: PathBuf,
    /// Bytes of the log applied to `state`.
    offset: u64,
    /// Complete lines applied (for error messages).
    lines: u64,
    state: State,
}

impl Inner {
    /// Applies what other processes appended since our last look. Called
    /// with the file lock held. A last line without its newline was torn
    /// by a writer killed mid-write: it never took effect, and is cut off.
    fn catch_up(&mut self) -> Result<()> {
        let len = self
            .file
            .metadata()
            .map_err(|e| Error::io(format!("reading {}", self.path.display()), e))?
            .len();
        if len == self.offset {
            return Ok(());
        }
        let mut buf = Vec::with_capacity((len - self.offset) as usize);
        self.file
            .seek(SeekFrom::Start(self.offset))
            .and_then(|_| (&self.file).take(len - self.offset).read_to_end(&mut buf))
            .map_err(|e| Error::io(format!("reading {}", self.path.display()), e))?;
        let mut start = 0;
        while let Some(nl) = memchr_nl(&buf[start..]) {
            let line = &buf[start..start + nl];
            self.lines += 1;
            let rec: Rec = serde_json::from_slice(line).map_err(|e| {
                Error::new(
                    Kind::Corrupt,
                    format!(
                        "{} line {}: not a queue record: {e}",
                        self.path.display(),
                        self.lines
                    ),
                )
                .with_line(self.lines)
            })?;
            self.state.apply(rec);
            start += nl + 1;
        }
        self.offset += start as u64;
        if self.offset < len {
            self.file.set_len(self.offset).map_err(|e| {
                Error::io(
                    format!("cutting the torn last line of {}", self.path.display()),
                    e,
                )
            })?;
        }
        Ok(())
    }

    /// Appends records (one `write`) and applies them.
    fn append(&mut self, recs: Vec<Rec>) -> Result<()> {
        if recs.is_empty() {
            return Ok(());
        }
        let mut buf = Vec::new();
        for r in &recs {
            serde_json::to_writer(&mut buf, r)
                .map_err(|e| Error::new(Kind::Io, format!("encoding a queue record: {e}")))?;
            buf.push(b'\n');
        }
        self.file
            .seek(SeekFrom::End(0))
            .and_then(|_| self.file.write_all(&buf))
            .map_err(|e| Error::io(format!("appending to {}", self.path.display()), e))?;
        self.offset += buf.len() as u64;
        self.lines += recs.len() as u64;
        for r in recs {
            self.state.apply(r);
        }
        Ok(())
    }
}

fn memchr_nl(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| c == b'\n')
}

/// The queue in a directory: an append-only log (`DIR/queue.log`, one JSON
/// record per state change) replayed into memory, for one machine and no
/// server. It has the same API and the same guarantees as
/// [`RedisQueue`](crate::RedisQueue), within one machine: several worker
/// processes and `msgs queue` commands may share the directory.
///
/// Each operation takes an exclusive advisory lock on the log (`flock`),
/// reads what other processes appended since, decides, appends its records
/// with one `write`, and releases the lock; so every operation is atomic
/// across processes, and one killed at any point either happened or did
/// not (a torn last line is cut off by the next reader). Records reach the
/// operating system before an operation returns, so a killed process loses
/// nothing; a power loss may lose the last records (no `fsync`).
///
/// Costs: memory holds every job and result; the log grows by a few hundred
/// bytes per job plus its result and is never compacted (start a new
/// directory for a new workload). The rate limiter's buckets live in each
/// process (a pause is shared through the log).
#[derive(Debug, Clone)]
pub struct LocalQueue {
    inner: Arc<Mutex<Inner>>,
    config: QueueConfig,
}

impl LocalQueue {
    /// Opens (or creates) the queue in `dir`, replaying its log.
    ///
    /// # Errors
    ///
    /// [`Error::is_io`] when the directory or log cannot be created or
    /// read; [`Error::is_corrupt`] naming the line of a log record this
    /// version cannot read.
    pub fn open(dir: impl AsRef<Path>, config: QueueConfig) -> Result<LocalQueue> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
        let path = dir.join(LOG_FILE);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| Error::io(format!("opening {}", path.display()), e))?;
        let mut inner = Inner {
            file,
            path,
            offset: 0,
            lines: 0,
            state: State::default(),
        };
        lock(&inner)?;
        let r = inner.catch_up();
        let _ = inner.file.unlock();
        r?;
        Ok(LocalQueue {
            inner: Arc::new(Mutex::new(inner)),
            config,
        })
    }

    /// The delivery settings.
    pub fn config(&self) -> &QueueConfig {
        &self.config
    }

    /// Runs `f` on the caught-up state with the log locked, on a blocking
    /// thread; `f` returns the records to append and a value.
    fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut State, u64) -> Result<(Vec<Rec>, T)> + Send + 'static,
    ) -> BoxFuture<'static, T> {
        let inner = self.inner.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                let mut inner = inner.lock().unwrap_or_else(|p| p.into_inner());
                lock(&inner)?;
                let r = (|| {
                    inner.catch_up()?;
                    let (recs, out) = f(&mut inner.state, now_ms())?;
                    inner.append(recs)?;
                    Ok(out)
                })();
                let _ = inner.file.unlock();
                r
            })
            .await
            .map_err(|e| Error::new(Kind::Io, format!("local queue task failed: {e}")))?
        })
    }
}

fn lock(inner: &Inner) -> Result<()> {
    inner
        .file
        .lock()
        .map_err(|e| Error::io(format!("locking {}", inner.path.display()), e))
}

fn info(j: &LocalJob) -> JobInfo {
    JobInfo {
        job: j.job.clone(),
        state: j.state,
        deliveries: j.deliveries,
        last_error: j.last_error.clone(),
        callback: j.callback.clone(),
    }
}

impl Queue for LocalQueue {
    fn enqueue<'a>(&'a self, job: &'a Job) -> BoxFuture<'a, bool> {
        if let Err(e) = job.validate() {
            return Box::pin(async move { Err(e) });
        }
        let job = job.clone();
        let cfg = self.config;
        self.with(move |st, now| {
            if st.jobs.contains_key(&job.id) {
                return Ok((vec![], false));
            }
            let routed = cfg.routes_to_batch(&job, now);
            Ok((
                vec![Rec::Enqueue {
                    job,
                    at: now,
                    routed,
                }],
                true,
            ))
        })
    }

    fn take<'a>(&'a self, _consumer: &'a str, max: usize) -> BoxFuture<'a, Vec<Delivery>> {
        let cfg = self.config;
        self.with(move |st, now| {
            let until = now + cfg.visibility_timeout.as_millis() as u64;
            let mut recs = Vec::new();
            let mut picked: Vec<String> = Vec::new();
            for lane in Lane::ALL {
                let mut expired: Vec<&String> = st
                    .leased
                    .iter()
                    .filter(|(id, until)| **until <= now && st.jobs[*id].job.lane == lane)
                    .map(|(id, _)| id)
                    .collect();
                expired.sort();
                for id in expired {
                    if picked.len() >= max.max(1) {
                        break;
                    }
                    picked.push(id.clone());
                }
                for id in &st.ready[lane_index(lane)] {
                    if picked.len() >= max.max(1) {
                        break;
                    }
                    picked.push(id.clone());
                }
            }
            let mut out = Vec::new();
            for id in picked {
                let j = &st.jobs[&id];
                let n = j.deliveries + 1;
                let done = j.result.is_some();
                if !done && n > cfg.max_deliveries {
                    let error = j.last_error.clone().unwrap_or_else(|| {
                        "no error recorded (the worker stopped or timed out)".to_owned()
                    });
                    recs.push(Rec::Take {
                        id: id.clone(),
                        until,
                    });
                    recs.push(Rec::Dead { id, error });
                    continue;
                }
                out.push(Delivery {
                    job: j.job.clone(),
                    deliveries: n,
                    done,
                    token: id.clone(),
                });
                recs.push(Rec::Take { id, until });
            }
            Ok((recs, out))
        })
    }

    fn touch<'a>(&'a self, _consumer: &'a str, deliveries: &'a [Delivery]) -> BoxFuture<'a, ()> {
        let ids: Vec<String> = deliveries.iter().map(|d| d.job.id.clone()).collect();
        let vis = self.config.visibility_timeout.as_millis() as u64;
        self.with(move |st, now| {
            let recs = ids
                .into_iter()
                .filter(|id| st.leased.contains_key(id))
                .map(|id| Rec::Lease {
                    id,
                    until: now + vis,
                })
                .collect();
            Ok((recs, ()))
        })
    }

    fn fail<'a>(
        &'a self,
        _consumer: &'a str,
        delivery: &'a Delivery,
        error: &'a str,
        backoff: Duration,
    ) -> BoxFuture<'a, ()> {
        let id = delivery.job.id.clone();
        let error = error.to_owned();
        self.with(move |_, now| {
            Ok((
                vec![Rec::Fail {
                    id,
                    error,
                    until: now + backoff.as_millis() as u64,
                }],
                (),
            ))
        })
    }

    fn release<'a>(&'a self, _consumer: &'a str, delivery: &'a Delivery) -> BoxFuture<'a, ()> {
        let id = delivery.job.id.clone();
        self.with(move |_, _| Ok((vec![Rec::Release { id }], ())))
    }

    fn store_result<'a>(&'a self, id: &'a str, result: &'a BatchResult) -> BoxFuture<'a, bool> {
        let id = id.to_owned();
        let result = result.clone();
        self.with(move |st, now| {
            match st.jobs.get(&id) {
                Some(j) if j.result.is_none() => {}
                Some(_) => return Ok((vec![], false)),
                None => return Err(Error::input(format!("no job {id} in the queue"))),
            }
            Ok((
                vec![Rec::Result {
                    id,
                    result,
                    at: now,
                }],
                true,
            ))
        })
    }

    fn set_callback<'a>(&'a self, id: &'a str, state: &'a CallbackState) -> BoxFuture<'a, ()> {
        let id = id.to_owned();
        let state = state.clone();
        self.with(move |_, _| Ok((vec![Rec::Callback { id, state }], ())))
    }

    fn ack<'a>(&'a self, delivery: &'a Delivery) -> BoxFuture<'a, ()> {
        let id = delivery.job.id.clone();
        self.with(move |_, _| Ok((vec![Rec::Ack { id }], ())))
    }

    fn job<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Option<JobInfo>> {
        let id = id.to_owned();
        self.with(move |st, _| Ok((vec![], st.jobs.get(&id).map(info))))
    }

    fn result<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Option<BatchResult>> {
        let id = id.to_owned();
        self.with(move |st, _| Ok((vec![], st.jobs.get(&id).and_then(|j| j.result.clone()))))
    }

    fn results_page<'a>(
        &'a self,
        cursor: Option<&'a str>,
        max: usize,
    ) -> BoxFuture<'a, (Vec<BatchResultLine>, Option<String>)> {
        let cursor = cursor.map(str::to_owned);
        self.with(move |st, _| {
            let start = match cursor {
                None => 0,
                Some(c) => c
                    .parse::<usize>()
                    .map_err(|_| Error::input(format!("results cursor {c:?} is not a position")))?,
            };
            let end = (start + max.max(1)).min(st.results.len());
            let lines: Vec<BatchResultLine> = st.results[start.min(end)..end]
                .iter()
                .filter_map(|id| {
                    Some(BatchResultLine::new(
                        id.clone(),
                        st.jobs.get(id)?.result.clone()?,
                    ))
                })
                .collect();
            let next = (end > start).then(|| end.to_string());
            Ok((vec![], (lines, next)))
        })
    }

    fn status(&self) -> BoxFuture<'_, Status> {
        self.with(move |st, now| {
            let minute = now / 60_000;
            let mut status = Status {
                workers_alive: st.workers.values().filter(|u| **u > now).count() as u64,
                completed_last_minute: st.tput.get(&(minute - 1)).copied().unwrap_or(0),
                completed_this_minute: st.tput.get(&minute).copied().unwrap_or(0),
                headroom: st
                    .headroom
                    .map(|h| (h.requests_remaining, h.tokens_remaining)),
                ..Status::default()
            };
            for j in st.jobs.values() {
                status.lanes[lane_index(j.job.lane)].add(j.state, 1);
            }
            Ok((vec![], status))
        })
    }

    fn stats(&self) -> BoxFuture<'_, Stats> {
        self.with(move |st, now| {
            let mut stats = st.stats.clone();
            stats.paused_for = Duration::from_millis(st.pause_until.saturating_sub(now));
            Ok((vec![], stats))
        })
    }

    fn dead_letters(&self) -> BoxFuture<'_, Vec<DeadLetter>> {
        self.with(move |st, _| {
            let out = st
                .dead
                .iter()
                .filter_map(|id| {
                    let j = st.jobs.get(id)?;
                    Some(DeadLetter {
                        id: id.clone(),
                        lane: j.job.lane,
                        deliveries: j.deliveries,
                        error: j.last_error.clone().unwrap_or_default(),
                    })
                })
                .collect();
            Ok((vec![], out))
        })
    }

    fn redrive<'a>(&'a self, id: &'a str) -> BoxFuture<'a, bool> {
        let id = id.to_owned();
        self.with(move |st, _| match st.jobs.get(&id) {
            Some(j) if j.state == JobState::Dead => Ok((vec![Rec::Redrive { id }], true)),
            _ => Ok((vec![], false)),
        })
    }

    fn heartbeat<'a>(&'a self, worker: &'a str, ttl: Duration) -> BoxFuture<'a, ()> {
        let worker = worker.to_owned();
        self.with(move |_, now| {
            Ok((
                vec![Rec::Heartbeat {
                    worker,
                    until: now + ttl.as_millis() as u64,
                }],
                (),
            ))
        })
    }

    fn acquire<'a>(&'a self, limit: &'a RateLimit, tokens: u64) -> BoxFuture<'a, Duration> {
        let limit = *limit;
        self.with(move |st, now| {
            if st.pause_until > now {
                return Ok((vec![], Duration::from_millis(st.pause_until - now)));
            }
            let rates = [
                (limit.requests_per_minute, 1u64),
                (limit.tokens_per_minute, tokens),
            ];
            let mut levels = [0.0f64; 2];
            let mut wait = 0u64;
            for (i, (rate, need)) in rates.iter().enumerate() {
                if *rate == 0 {
                    continue;
                }
                let rate = *rate as f64;
                let need = *need as f64;
                let cap = (rate / 60.0).max(need);
                let (lvl, ts) = st.buckets[i];
                let lvl = if ts == 0 {
                    cap
                } else {
                    (lvl + (now - ts) as f64 * rate / 60_000.0).min(cap)
                };
                levels[i] = lvl;
                if lvl < need {
                    wait = wait.max(((need - lvl) * 60_000.0 / rate).ceil() as u64);
                }
            }
            if wait == 0 {
                for (i, (rate, need)) in rates.iter().enumerate() {
                    if *rate > 0 {
                        st.buckets[i] = (levels[i] - *need as f64, now);
                    }
                }
            }
            Ok((vec![], Duration::from_millis(wait)))
        })
    }

    fn pause(&self, for_: Duration) -> BoxFuture<'_, ()> {
        self.with(move |_, now| {
            Ok((
                vec![Rec::Pause {
                    until: now + for_.as_millis() as u64,
                }],
                (),
            ))
        })
    }

    fn set_headroom<'a>(&'a self, headroom: &'a Headroom) -> BoxFuture<'a, ()> {
        let h = *headroom;
        self.with(move |st, _| {
            st.headroom = Some(h);
            Ok((vec![], ()))
        })
    }

    fn lead<'a>(&'a self, name: &'a str, ttl: Duration) -> BoxFuture<'a, bool> {
        let name = name.to_owned();
        self.with(move |st, now| match &st.leader {
            Some((cur, until)) if *cur != name && *until > now => Ok((vec![], false)),
            _ => Ok((
                vec![Rec::Lead {
                    name,
                    until: now + ttl.as_millis() as u64,
                }],
                true,
            )),
        })
    }

    fn form_batch(&self, max: usize) -> BoxFuture<'_, Option<BatchGroup>> {
        self.with(move |st, _| {
            if st.batch_pending.is_empty() {
                return Ok((vec![], None));
            }
            let ids: Vec<String> = st.batch_pending.iter().take(max.max(1)).cloned().collect();
            let group = (st.group_seq + 1).to_string();
            let jobs = ids.iter().map(|id| st.jobs[id].job.clone()).collect();
            Ok((
                vec![Rec::FormBatch {
                    group: group.clone(),
                    ids,
                }],
                Some(BatchGroup {
                    id: group,
                    jobs,
                    batch_ids: Vec::new(),
                }),
            ))
        })
    }

    fn open_batches(&self) -> BoxFuture<'_, Vec<BatchGroup>> {
        self.with(move |st, _| {
            let out = st
                .groups
                .iter()
                .map(|(id, ids, batch_ids)| BatchGroup {
                    id: id.clone(),
                    jobs: ids.iter().map(|j| st.jobs[j].job.clone()).collect(),
                    batch_ids: batch_ids.clone(),
                })
                .collect();
            Ok((vec![], out))
        })
    }

    fn set_batch_ids<'a>(&'a self, group: &'a str, batch_ids: &'a [String]) -> BoxFuture<'a, ()> {
        let group = group.to_owned();
        let batch_ids = batch_ids.to_vec();
        self.with(move |_, _| Ok((vec![Rec::BatchIds { group, batch_ids }], ())))
    }

    fn finish_batch<'a>(&'a self, group: &'a str) -> BoxFuture<'a, ()> {
        let group = group.to_owned();
        self.with(move |_, _| Ok((vec![Rec::FinishBatch { group }], ())))
    }
}
