//! The line scanner: finds the end of a line and, in the same pass, whether
//! the bytes before it are all ASCII.
//!
//! Lines in a Claude stream are short (an `event:` line is about 30 bytes, a
//! `data:` line about 100), so a general-purpose `memchr` spends much of its
//! time on setup; and every value must later be checked as UTF-8. Looking
//! at 16 bytes at a time for CR, LF and a set high bit does both jobs in one
//! pass: an all-ASCII value (almost every value, as JSON escapes non-ASCII
//! rarely and text deltas are mostly English) needs no further validation.

/// The end of a line, as found by [`line_end`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LineEnd {
    /// Index of the first CR or LF.
    pub(crate) at: usize,
    /// Whether every byte before `at` is ASCII.
    pub(crate) ascii: bool,
}

/// Finds the first CR or LF in `hay`, and whether the bytes before it are
/// all ASCII. `None` when `hay` holds neither.
#[inline]
pub(crate) fn line_end(hay: &[u8]) -> Option<LineEnd> {
    #[cfg(target_arch = "x86_64")]
    {
        sse2::line_end(hay)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        swar::line_end(hay)
    }
}

/// The byte-at-a-time finish shared by both implementations: scans
/// `hay[from..]`, with `high` telling whether a byte before `from` was
/// non-ASCII.
#[inline]
fn line_end_bytes(hay: &[u8], from: usize, mut high: bool) -> Option<LineEnd> {
    for (at, &b) in hay.iter().enumerate().skip(from) {
        if b == b'\n' || b == b'\r' {
            return Some(LineEnd { at, ascii: !high });
        }
        high |= !b.is_ascii();
    }
    None
}

/// SSE2, which every x86_64 processor has.
#[cfg(target_arch = "x86_64")]
mod sse2 {
    use core::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };

    use super::{LineEnd, line_end_bytes};

    /// Masks of the line ends and of the non-ASCII bytes in `hay[at..at + 16]`.
    #[inline(always)]
    fn block(hay: &[u8], at: usize) -> (u32, u32) {
        let block = &hay[at..at + 16];
        // SAFETY: SSE2 is part of the x86_64 baseline, so these intrinsics
        // are always available; `block` is 16 readable bytes and
        // `_mm_loadu_si128` accepts any alignment.
        unsafe {
            let v = _mm_loadu_si128(block.as_ptr().cast::<__m128i>());
            let lf = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\n' as i8));
            let cr = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\r' as i8));
            (
                _mm_movemask_epi8(_mm_or_si128(lf, cr)) as u32,
                _mm_movemask_epi8(v) as u32,
            )
        }
    }

    /// The answer for a block at `base` whose line-end mask `ends` is not
    /// zero, with `high` the non-ASCII mask of the block and `seen` whether
    /// an earlier block had a non-ASCII byte.
    #[inline(always)]
    fn found(base: usize, ends: u32, high: u32, seen: bool) -> LineEnd {
        let k = ends.trailing_zeros();
        let before = high & ((1u32 << k) - 1);
        LineEnd {
            at: base + k as usize,
            ascii: !seen && before == 0,
        }
    }

    #[inline]
    pub(super) fn line_end(hay: &[u8]) -> Option<LineEnd> {
        let len = hay.len();
        if len < 16 {
            return line_end_bytes(hay, 0, false);
        }
        let mut at = 0;
        let mut seen = false;
        while at + 16 <= len {
            let (ends, high) = block(hay, at);
            if ends != 0 {
                return Some(found(at, ends, high, seen));
            }
            seen |= high != 0;
            at += 16;
        }
        if at == len {
            return None;
        }
        // The last, partial block: read the final 16 bytes, overlapping
        // bytes already scanned, and ignore those.
        let base = len - 16;
        let fresh = !((1u32 << (at - base)) - 1);
        let (ends, high) = block(hay, base);
        let ends = ends & fresh;
        if ends == 0 {
            return None;
        }
        Some(found(base, ends, high & fresh, seen))
    }
}

/// Eight bytes at a time in a `u64`, for every other target (and tested on
/// x86_64 against the SSE2 version).
#[cfg(any(test, not(target_arch = "x86_64")))]
pub(crate) mod swar {
    use super::{LineEnd, line_end_bytes};

    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;

    /// The high bit of each byte of `x` equal to `b`, and possibly of bytes
    /// above (more significant than) the first one: borrows only carry
    /// upwards, so the lowest set bit is exact.
    #[inline(always)]
    fn matches(x: u64, b: u8) -> u64 {
        let t = x ^ (ONES * u64::from(b));
        t.wrapping_sub(ONES) & !t & HIGH
    }

    #[inline]
    pub(crate) fn line_end(hay: &[u8]) -> Option<LineEnd> {
        let mut words = hay.chunks_exact(8);
        let mut seen = 0u64;
        for (i, word) in (&mut words).enumerate() {
            let mut le = [0u8; 8];
            le.copy_from_slice(word);
            let x = u64::from_le_bytes(le);
            let ends = matches(x, b'\n') | matches(x, b'\r');
            if ends != 0 {
                let k = ends.trailing_zeros() / 8;
                // Bits of the bytes before byte `k` (k < 8, so no overflow).
                let before = x & ((1u64 << (8 * k)) - 1);
                return Some(LineEnd {
                    at: i * 8 + k as usize,
                    ascii: (seen | before) & HIGH == 0,
                });
            }
            seen |= x;
        }
        line_end_bytes(hay, hay.len() - words.remainder().len(), seen & HIGH != 0)
    }
}

#[cfg(test)]
mod tests {
    use alloc::vec::Vec;

    use proptest::prelude::*;

    use super::{LineEnd, line_end, swar};

    fn reference(hay: &[u8]) -> Option<LineEnd> {
        let at = hay.iter().position(|&b| b == b'\n' || b == b'\r')?;
        Some(LineEnd {
            at,
            ascii: hay[..at].is_ascii(),
        })
    }

    /// Bytes drawn mostly from the interesting ones: CR, LF, a high byte.
    fn bytes() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(
            prop_oneof![
                8 => b'a'..=b'z',
                1 => Just(b'\n'),
                1 => Just(b'\r'),
                1 => Just(0x80u8),
                1 => any::<u8>(),
            ],
            0..80,
        )
    }

    proptest! {
        #[test]
        fn agrees_with_reference(hay in bytes()) {
            prop_assert_eq!(line_end(&hay), reference(&hay));
            prop_assert_eq!(swar::line_end(&hay), reference(&hay));
        }
    }

    #[test]
    fn every_position_and_length() {
        // A line end or a high byte at every position of every length up to
        // three blocks, which covers the overlapping last block.
        for len in 0..48 {
            for end in 0..=len {
                for high in 0..=len {
                    let mut hay = alloc::vec![b'x'; len];
                    if high < len {
                        hay[high] = 0xC3;
                    }
                    if end < len {
                        hay[end] = if end % 2 == 0 { b'\n' } else { b'\r' };
                    }
                    assert_eq!(line_end(&hay), reference(&hay), "{hay:?}");
                    assert_eq!(swar::line_end(&hay), reference(&hay), "{hay:?}");
                }
            }
        }
    }
}
