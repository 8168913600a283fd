//! Background jobs for Claude's Messages API: a work queue that many
//! workers on many machines share, on Redis Streams ([`RedisQueue`]), or in
//! a directory on one machine with no server ([`LocalQueue`]), behind one
//! [`Queue`] trait.
//!
//! A producer (a web handler) [`enqueue`](Queue::enqueue)s a [`Job`] and
//! returns; [`Worker`]s take jobs, call `POST /v1/messages` under one rate
//! limit for the whole fleet, store each result once, POST it to the job's
//! signed [`callback`] URL, and acknowledge.
//!
//! # Guarantees
//!
//! - **Enqueue is idempotent**: a job id the queue has seen (in any state)
//!   is not added again.
//! - **At-least-once processing**: a job leaves a worker's hands only when
//!   acknowledged, and it is acknowledged only after its result is stored
//!   and its callback delivered or given up. A worker that dies (or stops
//!   renewing its lease for [`QueueConfig::visibility_timeout`]) has its
//!   jobs taken by another worker (Redis: `XAUTOCLAIM`). So a job may be
//!   *sent* to the API more than once (a worker killed after the API
//!   answered and before the result was stored).
//! - **Exactly one result per job**: the first stored result wins,
//!   atomically (Redis: `SET NX` in a Lua script; local: under the log's
//!   lock); later results for the same id are dropped and counted as
//!   duplicates.
//! - **One callback per job, at least once**: only the worker whose result
//!   won (or, if it died, the next worker to take the job) POSTs the
//!   callback, and its delivery state is recorded before the
//!   acknowledgement. A worker killed after the receiver got the POST and
//!   before the state was recorded causes a second POST with the same
//!   `idempotency-key`: receivers that must act once key on it.
//! - **Dead letters**: a job taken more than [`QueueConfig::max_deliveries`]
//!   times without a result moves to the dead letters with its last error;
//!   [`Queue::redrive`] puts it back.
//! - **Deadline routing**: a job whose deadline is at least
//!   [`QueueConfig::batch_after`] away (a day by default) is not given to
//!   workers but collected by a [`Coordinator`] into Message Batches (half
//!   price); its result and callback come back the same way. The batch ids
//!   are persisted in the queue before the coordinator moves on, so a
//!   replacement finishes a dead coordinator's batches (see
//!   [`Coordinator`] for the one window where a batch may be created twice).
//! - **Final errors are results**: a request the API rejects (400, ...) is
//!   stored as an `errored` result, not retried.
//!
//! **What Redis must provide.** These guarantees hold across a Redis
//! restart only if Redis keeps every acknowledged write: run it with the
//! append-only file on and synced on every write
//! (`appendonly yes`, `appendfsync always`). With the default
//! `appendfsync everysec`, a crash of the Redis *machine* (not just the
//! process) can lose the last second of writes: enqueued jobs, stored
//! results, acknowledgements (a lost acknowledgement only makes a job run
//! again; a lost result is recomputed). With persistence off
//! (`save ""`, `appendonly no`), a restart loses everything. Replicas are
//! asynchronous: a failover can lose the last writes the same way. Keys are
//! under one hash tag (`{msgs}` by default), so a cluster keeps a queue on
//! one node. Evictions must be off (`maxmemory-policy noeviction`).
//!
//! The local store gives the same guarantees on one machine; its log is
//! written (not `fsync`ed) before each operation returns, so a killed
//! process loses nothing and a power loss may lose the last records.
//!
//! # Example
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use messages_queue::{Callbacks, Job, Lane, Queue, QueueConfig, RedisQueue, Worker};
//! use messages_types::MessageRequest;
//!
//! let queue = Arc::new(RedisQueue::connect("redis://127.0.0.1/", QueueConfig::default()).await?);
//! let job = Job::new("order-17", MessageRequest::new("claude-haiku-4-5", 256).user("Hi"))?
//!     .lane(Lane::Interactive)
//!     .callback("http://127.0.0.1:9000/done")?;
//! queue.enqueue(&job).await?;
//!
//! let worker = Worker::new(queue.clone(), messages_http::Transport::from_env()?)
//!     .concurrency(32)
//!     .callbacks(Callbacks::new(b"shared secret"));
//! worker.run_until(async { let _ = tokio::signal::ctrl_c().await; }).await?;
//! # Ok(())
//! # }
//! # let _ = run;
//! ```
#![deny(missing_docs)]
#![deny(missing_debug_implementations)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![doc(test(attr(deny(warnings, rust_2018_idioms))))]

pub mod callback;
mod coordinator;
mod error;
mod job;
mod local;
mod queue;
mod redis;
mod stats;
mod worker;

#[cfg(test)]
mod tests;

pub use crate::callback::Callbacks;
pub use crate::coordinator::{Coordinator, CoordinatorReport};
pub use crate::error::{Error, Result};
pub use crate::job::{
    CallbackState, CallbackStatus, DeadLetter, Delivery, Job, JobInfo, JobState, Lane, LaneCounts,
    Status, read_jobs,
};
pub use crate::local::{LOG_FILE, LocalQueue};
pub use crate::queue::{
    BatchGroup, BoxFuture, Headroom, Queue, QueueConfig, RateLimit, wait_result,
};
pub use crate::redis::{DEFAULT_PREFIX, RedisQueue};
pub use crate::stats::{Cost, ModelUsage, Stats};
pub use crate::worker::{Worker, WorkerReport};
