//! Integration tests for messages-http, against hyper servers on loopback.

mod errors;
mod hostile;
mod http1;
mod http2;
mod retry;
mod secrets;
mod support;
mod timeouts;
mod tls;

/// Counts allocations and peak memory per thread, for the memory bounds
/// asserted with `test_support::alloc::peak_of` (hostile servers).
#[global_allocator]
static GLOBAL: test_support::alloc::Tracking = test_support::alloc::Tracking;
