//! Integration tests of messages-types.

mod errors;
mod fast_decode;
mod golden;
mod recorded;
mod roundtrip;
#[cfg(feature = "simd-json")]
mod simd;
mod support;
mod version;
