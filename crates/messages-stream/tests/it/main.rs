//! Integration tests: streams from the emulator and from recorded traffic,
//! over real loopback HTTP.

mod accumulate;
mod emulator;
mod fixtures;
mod hostile;
mod recorded;
mod support;

/// Counts allocations and peak memory per thread, for the memory bounds
/// asserted with `test_support::alloc::peak_of` (hostile servers).
#[global_allocator]
static GLOBAL: test_support::alloc::Tracking = test_support::alloc::Tracking;
