//! Integration tests for sse-core: spec cases at every chunking, properties
//! against a reference parser, recorded streams, allocation counts, the
//! encoder, the stream adapter and the dump example.

mod alloc_count;
mod cases;
mod dump;
mod encoder;
mod fixtures;
mod limits;
mod props;
mod reference;
#[cfg(feature = "stream")]
mod stream;
mod support;

/// Counts allocations per thread (`alloc_count`).
#[global_allocator]
static GLOBAL: test_support::alloc::Tracking = test_support::alloc::Tracking;
