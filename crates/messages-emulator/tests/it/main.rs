//! Integration tests: the emulator over real loopback HTTP.

mod bad_input;
mod batches;
mod binary;
mod fault_scope;
mod faults;
mod messages;
mod ratelimit;
mod slow_bodies;
mod streams;
mod support;
