//! Integration tests for messages-http, against hyper servers on loopback.

mod errors;
mod hostile;
mod peak;
mod retry;
mod secrets;
mod support;
mod timeouts;
mod tls;
