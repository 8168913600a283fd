//! Integration tests of messages-types.

mod errors;
mod fast_decode;
mod golden;
mod recorded;
mod roundtrip;
#[cfg(all(feature = "simd-json", feature = "bench-internals"))]
mod simd;
mod support;
mod version;
