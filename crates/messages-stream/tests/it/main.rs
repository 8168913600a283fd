//! Integration tests: streams from the emulator and from recorded traffic,
//! over real loopback HTTP.

mod accumulate;
mod emulator;
mod fixtures;
mod hostile;
mod peak;
mod recorded;
mod support;
