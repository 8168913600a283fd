//! A spec-exact, zero-copy, sans-IO parser and encoder for Server-Sent Events.
//!
//! `sse-core` reads and writes the `text/event-stream` format exactly as the
//! WHATWG HTML specification's "event stream interpretation" defines it. It
//! knows bytes and the SSE grammar and nothing else: no async runtime, no
//! HTTP, no JSON. It builds as `no_std` + `alloc`.
//!
//! - [`Parser`] is fed [`Bytes`](bytes::Bytes) chunks of any size and yields
//!   [`EventRef`]s borrowed from the input. A single-line `data` field that lies in one chunk is handed
//!   out as a slice of that chunk, without copying or allocating.
//! - [`Encoder`] writes events, comments and `retry` fields; whatever it
//!   writes, the parser reads back unchanged.
//! - [`SseStream`] (feature `stream`) adapts a `Stream` of byte chunks, such
//!   as an HTTP body, into a `Stream` of events.
//!
//! # Example
//!
//! ```
//! use bytes::Bytes;
//! use sse_core::{Finish, Parser};
//!
//! let mut parser = Parser::new();
//! // Chunks may split lines and line ends anywhere.
//! for chunk in ["event: content_block_delta\r", "\ndata: {\"index\":0}\r\n", "\r\n", "data: cut"] {
//!     parser.push(Bytes::from(chunk));
//!     while let Some(event) = parser.next_event()? {
//!         assert_eq!(event.event(), "content_block_delta");
//!         assert_eq!(event.data(), r#"{"index":0}"#);
//!     }
//! }
//! // The stream stopped inside an event: it is not dispatched, but reported.
//! assert_eq!(parser.finish(), Finish::Unterminated);
//! # Ok::<(), sse_core::Error>(())
//! ```
//!
//! # Optional features
//!
//! - `std` (default): runtime CPU feature detection: AVX2 for the scan of
//!   long lines and for UTF-8 validation (with simdutf8), and in the
//!   encoder's scans. The parser's line scanner uses SSE2 on x86_64 (part of
//!   its baseline) and a portable word-at-a-time scan elsewhere, with or
//!   without `std`; without `std`, AVX2 is used only when the crate is
//!   compiled for it (`-C target-feature=+avx2`).
//! - `stream`: [`SseStream`], over `futures_core::Stream`.
#![no_std]
#![deny(missing_docs)]
#![deny(missing_debug_implementations)]
#![deny(clippy::missing_safety_doc, clippy::undocumented_unsafe_blocks)]
#![cfg_attr(docsrs, feature(doc_cfg))]
// The crate docs link to `SseStream`, which exists only with `stream`.
#![cfg_attr(not(feature = "stream"), allow(rustdoc::broken_intra_doc_links))]
#![doc(test(attr(deny(warnings, rust_2018_idioms))))]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod encoder;
mod event;
mod parser;
mod scan;
#[cfg(feature = "stream")]
mod stream;
mod utf8;

pub use encoder::{EncodeError, Encoder};
pub use event::{Event, EventRef, Str};
pub use parser::{DEFAULT_MAX_EVENT_SIZE, Error, Finish, Parser, ParserConfig};
#[cfg(feature = "stream")]
#[cfg_attr(docsrs, doc(cfg(feature = "stream")))]
pub use stream::{SseStream, StreamError};

#[cfg(test)]
mod tests;
