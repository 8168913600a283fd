//! Wire types for Claude's Messages API.
//!
//! This crate knows JSON shapes and nothing else: no I/O, no HTTP.
#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod error;

pub use error::{ApiError, ErrorResponse, ErrorType};
