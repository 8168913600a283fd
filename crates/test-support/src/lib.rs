//! Test support shared by the workspace's integration tests, one copy of
//! what several crates' tests need:
//!
//! - [`alloc`]: a global allocator that counts allocations and tracks the
//!   bytes live and their peak per thread, for tests that assert "no
//!   allocation" or "memory stays bounded";
//! - [`raw`] (feature `net`): hostile servers, raw HTTP/1.1 on a loopback
//!   `TcpListener`, whose replies the test writes byte by byte;
//! - [`TempDir`]: a unique temporary directory, removed on drop;
//! - [`redis`]: a `redis-server` on a free loopback port with its own
//!   directory, for the queue's, the relay's and the CLI's tests.
//!
//! Used only as a dev-dependency; never published.
#![deny(missing_docs)]
#![deny(missing_debug_implementations)]
#![deny(clippy::missing_safety_doc, clippy::undocumented_unsafe_blocks)]

pub mod alloc;
#[cfg(feature = "net")]
pub mod raw;
pub mod redis;
mod temp;

pub use temp::TempDir;

#[cfg(test)]
#[global_allocator]
static GLOBAL: alloc::Tracking = alloc::Tracking;

#[cfg(test)]
mod tests;
