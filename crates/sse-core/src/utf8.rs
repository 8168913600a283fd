//! UTF-8 validation of values the line scanner did not see to be ASCII.
//!
//! simdutf8 validates 64 bytes a step with AVX2 or SSE4.2 (detected at run
//! time with the `std` feature) and falls back to `core::str::from_utf8` for
//! shorter inputs and other processors, so short values cost what they did.

/// Whether `bytes` is valid UTF-8.
#[inline]
pub(crate) fn valid(bytes: &[u8]) -> bool {
    simdutf8::basic::from_utf8(bytes).is_ok()
}

#[cfg(test)]
mod tests {
    use alloc::vec::Vec;

    use proptest::prelude::*;

    proptest! {
        #[test]
        fn agrees_with_core(
            prefix in "[a-z\u{e9}\u{4e2d}\u{1f600}]{0,200}",
            tail in proptest::collection::vec(any::<u8>(), 0..8),
        ) {
            let mut bytes: Vec<u8> = prefix.into_bytes();
            bytes.extend_from_slice(&tail);
            prop_assert_eq!(super::valid(&bytes), core::str::from_utf8(&bytes).is_ok());
        }
    }
}
