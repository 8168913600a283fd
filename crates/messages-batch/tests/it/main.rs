//! Integration tests against the in-process emulator.

mod batches;
mod create_once;
mod hostile;
mod results;
mod runner;
mod runner_limits;
mod runner_safety;
mod submit_safety;
mod support;
