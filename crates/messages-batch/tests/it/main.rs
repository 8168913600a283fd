//! Integration tests against the in-process emulator.

mod batches;
mod hostile;
mod results;
mod runner;
mod support;
