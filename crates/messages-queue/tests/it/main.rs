//! Integration tests: both backends (Redis on a `redis-server` started by
//! the test, and the local store in a temporary directory), workers against
//! the in-process emulator, callbacks to a loopback receiver.

mod queue;
mod support;
mod worker;
