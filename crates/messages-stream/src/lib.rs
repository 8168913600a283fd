//! Streaming facade for Claude's Messages API.
#![deny(missing_docs)]
#![deny(missing_debug_implementations)]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod partial_json;

pub use crate::partial_json::{InvalidJson, PartialJson};
