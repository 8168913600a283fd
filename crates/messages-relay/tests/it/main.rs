//! Integration tests of the relay.
