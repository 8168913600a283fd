//! Integration tests: the relay on loopback in front of the in-process
//! emulator, read by a hyper client.

mod cancel;
mod errors;
mod formats;
mod mount;
mod policy;
#[cfg(feature = "redis")]
mod redis;
mod resume;
mod server;
mod support;
