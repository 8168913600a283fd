//! Message Batches for Claude's Messages API, and a local runner for the same
//! jobs.
//!
//! Bulk work goes one of two ways, with one result type
//! ([`BatchResultLine`](messages_types::BatchResultLine)) for both:
//!
//! - the **Message Batches API** (half price, results within 24 hours):
//!   [`Batches`] has the endpoints (create, retrieve, an auto-paginating
//!   [`list`](Batches::list), cancel, delete, [`results`](Batches::results)
//!   as a stream decoded incrementally, and [`wait`](Batches::wait) with
//!   backoff, progress and a deadline); [`BatchJob`] validates requests,
//!   splits large jobs into several batches and presents them as one
//!   [`SubmittedJob`] with one progress view and one merged results stream;
//! - the **[`LocalRunner`]** (full price, results in minutes): the same job
//!   through `POST /v1/messages`, a few requests at a time, with a
//!   checkpoint file that makes a killed run resumable without sending any
//!   finished request again.
//!
//! [`Summary`] counts the results (by outcome and error type, token usage,
//! an estimated cost with the batch discount). [`ResultsDecoder`] is the
//! sans-IO JSONL decoder behind the results stream, public for files
//! ([`ResultsReader`]) and benchmarks. [`hybrid`] shows how to route
//! interactive requests to streaming and background ones to batches.
//!
//! # Results are never lost silently
//!
//! Results decoding keeps memory constant (one line at a time, a
//! configurable maximum line length with a clear error beyond it), handles
//! CR, LF and CRLF split across chunks, names the line number and the
//! `custom_id` in every decode error, closes the connection on an error, and
//! reports a body that ends mid-line as [`Error::is_truncated`]. A job's
//! merged stream also checks that every `custom_id` has exactly one result.
//!
//! # Example
//!
//! ```no_run
//! # async fn run() -> Result<(), messages_batch::Error> {
//! use futures_util::TryStreamExt;
//! use messages_batch::{BatchJob, Batches, WaitOptions};
//! use messages_types::MessageRequest;
//!
//! let batches = Batches::new(messages_http::Transport::from_env()?);
//! let mut job = BatchJob::new();
//! for (i, q) in ["What is 2+2?", "Name a prime."].iter().enumerate() {
//!     job.add(format!("q-{i}"), MessageRequest::new("claude-haiku-4-5", 256).user(*q))?;
//! }
//! let submitted = job.submit(&batches).await?;
//! submitted.wait(WaitOptions::new().on_progress(|p| eprintln!("{p}"))).await?;
//! let mut results = submitted.results();
//! while let Some(line) = results.try_next().await? {
//!     let joined = job.join(line)?;
//!     println!("{} -> {:?}", joined.index, joined.line.result);
//! }
//! println!("{}", results.summary());
//! # Ok(())
//! # }
//! # let _ = run;
//! ```
//!
//! Result lines of 2 KiB and more are decoded with simd-json when
//! `messages-types`' `simd-json` feature is on (its default); the results
//! are identical to serde_json's.
#![deny(missing_docs)]
#![deny(missing_debug_implementations)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![doc(test(attr(deny(warnings, rust_2018_idioms))))]

mod api;
mod atomic;
mod decoder;
mod error;
mod fingerprint;
pub mod hybrid;
mod job;
mod pace;
mod preflight;
mod runner;
mod summary;
mod wait;

#[cfg(test)]
mod tests;

pub use crate::api::{BatchList, Batches, ResultsStream};
pub use crate::atomic::TempFile;
pub use crate::decoder::{DEFAULT_MAX_LINE_LEN, RawLine, ResultsDecoder, ResultsReader};
pub use crate::error::{CreatedBatch, Error, Result};
pub use crate::hybrid::{BackgroundQueue, Urgency};
pub use crate::job::{
    BatchJob, JobResults, Joined, MAX_BYTES_PER_BATCH, MAX_REQUESTS_PER_BATCH, SubmittedJob,
    is_resubmittable,
};
pub use crate::runner::{
    CHECKPOINT_FORMAT, DEFAULT_CONCURRENCY, DEFAULT_MAX_WAIT, DEFAULT_RUN_WIDE_ERRORS, LocalRunner,
    RunReport, errored_result, read_results, write_output, write_output_to,
};
pub use crate::summary::{
    BATCH_DISCOUNT, ModelPrice, PRICES_JSON, PriceTable, PriceTableError, Summary, cost_of,
    price_of,
};
pub use crate::wait::{Progress, WaitOptions};
pub use messages_http::ListParams;
