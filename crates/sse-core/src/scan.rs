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
    /// Index of the first CR or LF, or the length of the input when it
    /// holds neither.
    pub(crate) at: usize,
    /// Whether every byte before `at` is ASCII.
    pub(crate) ascii: bool,
}

impl LineEnd {
    /// Whether a line end was found in `hay` (the one scanned).
    #[inline]
    pub(crate) fn found(self, hay: &[u8]) -> bool {
        self.at < hay.len()
    }
}

/// Finds the first CR or LF in `hay`, and whether the bytes before it are
/// all ASCII. When `hay` holds neither, `at` is `hay.len()` and `ascii`
/// tells about all of `hay`.
#[inline]
pub(crate) fn line_end(hay: &[u8]) -> LineEnd {
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
fn line_end_bytes(hay: &[u8], from: usize, mut high: bool) -> LineEnd {
    for (at, &b) in hay.iter().enumerate().skip(from) {
        if b == b'\n' || b == b'\r' {
            return LineEnd { at, ascii: !high };
        }
        high |= !b.is_ascii();
    }
    LineEnd {
        at: hay.len(),
        ascii: !high,
    }
}

/// Bytes scanned 16 at a time before a line counts as long and the scan
/// switches to [`wide`]: Claude's lines mostly end before this, and the
/// wide loop's setup would cost them more than it saves.
#[cfg(target_arch = "x86_64")]
const SHORT: usize = 64;

/// SSE2, which every x86_64 processor has.
#[cfg(target_arch = "x86_64")]
mod sse2 {
    use core::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };

    use super::{LineEnd, SHORT, line_end_bytes, wide};

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
    pub(super) fn line_end(hay: &[u8]) -> LineEnd {
        let len = hay.len();
        if len < 16 {
            return line_end_bytes(hay, 0, false);
        }
        let mut at = 0;
        let mut seen = false;
        while at + 16 <= len {
            let (ends, high) = block(hay, at);
            if ends != 0 {
                return found(at, ends, high, seen);
            }
            seen |= high != 0;
            at += 16;
            if at == SHORT {
                // A long line: skip the 64-byte groups without a line end
                // with the wide scan, then finish here.
                let (to, high) = wide::skip(hay, at);
                at = to;
                seen |= high;
            }
        }
        if at == len {
            return LineEnd { at, ascii: !seen };
        }
        // The last, partial block: read the final 16 bytes, overlapping
        // bytes already scanned, and ignore those.
        let base = len - 16;
        let fresh = !((1u32 << (at - base)) - 1);
        let (ends, high) = block(hay, base);
        let ends = ends & fresh;
        if ends == 0 {
            return LineEnd {
                at: len,
                ascii: !seen && high & fresh == 0,
            };
        }
        found(base, ends, high & fresh, seen)
    }
}

/// The scan of long lines: skips 64 bytes at a time while they hold no line
/// end, with AVX2 where the processor has it (detected at run time with the
/// `std` feature, at compile time without), and SSE2 otherwise.
#[cfg(target_arch = "x86_64")]
pub(crate) mod wide {
    use core::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
        _mm_setzero_si128,
    };

    /// From `hay[from..]`, skips whole 64-byte groups that hold no CR or LF.
    /// Returns where it stopped (the start of the first group with a line
    /// end, or a point with fewer than 64 bytes left) and whether a skipped
    /// byte was non-ASCII.
    #[inline(never)]
    pub(crate) fn skip(hay: &[u8], from: usize) -> (usize, bool) {
        #[cfg(feature = "std")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the processor supports AVX2, checked just above.
            return unsafe { skip_avx2(hay, from) };
        }
        #[cfg(all(not(feature = "std"), target_feature = "avx2"))]
        {
            // SAFETY: the crate is compiled for processors with AVX2.
            return unsafe { skip_avx2(hay, from) };
        }
        #[allow(unreachable_code)]
        skip_sse2(hay, from)
    }

    /// [`skip`] with SSE2 (x86_64 baseline), four 16-byte loads a step.
    pub(crate) fn skip_sse2(hay: &[u8], from: usize) -> (usize, bool) {
        let mut at = from;
        // SAFETY: SSE2 is part of the x86_64 baseline. Every load reads
        // `hay[at + 16 * i..at + 16 * (i + 1)]` for i < 4 with
        // `at + 64 <= hay.len()`, in bounds; `_mm_loadu_si128` accepts any
        // alignment.
        unsafe {
            let lf = _mm_set1_epi8(b'\n' as i8);
            let cr = _mm_set1_epi8(b'\r' as i8);
            let mut acc = _mm_setzero_si128();
            while at + 64 <= hay.len() {
                let p = hay.as_ptr().add(at).cast::<__m128i>();
                let a = _mm_loadu_si128(p);
                let b = _mm_loadu_si128(p.add(1));
                let c = _mm_loadu_si128(p.add(2));
                let d = _mm_loadu_si128(p.add(3));
                let ends = _mm_or_si128(
                    _mm_or_si128(
                        _mm_or_si128(_mm_cmpeq_epi8(a, lf), _mm_cmpeq_epi8(a, cr)),
                        _mm_or_si128(_mm_cmpeq_epi8(b, lf), _mm_cmpeq_epi8(b, cr)),
                    ),
                    _mm_or_si128(
                        _mm_or_si128(_mm_cmpeq_epi8(c, lf), _mm_cmpeq_epi8(c, cr)),
                        _mm_or_si128(_mm_cmpeq_epi8(d, lf), _mm_cmpeq_epi8(d, cr)),
                    ),
                );
                if _mm_movemask_epi8(ends) != 0 {
                    break;
                }
                acc = _mm_or_si128(acc, _mm_or_si128(_mm_or_si128(a, b), _mm_or_si128(c, d)));
                at += 64;
            }
            (at, _mm_movemask_epi8(acc) != 0)
        }
    }

    /// [`skip`] with AVX2, two 32-byte loads a step.
    ///
    /// # Safety
    ///
    /// The processor must support AVX2.
    #[cfg(any(feature = "std", target_feature = "avx2"))]
    #[target_feature(enable = "avx2")]
    pub(crate) unsafe fn skip_avx2(hay: &[u8], from: usize) -> (usize, bool) {
        use core::arch::x86_64::{
            __m256i, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_movemask_epi8, _mm256_or_si256,
            _mm256_set1_epi8, _mm256_setzero_si256,
        };
        let mut at = from;
        let lf = _mm256_set1_epi8(b'\n' as i8);
        let cr = _mm256_set1_epi8(b'\r' as i8);
        let mut acc = _mm256_setzero_si256();
        while at + 64 <= hay.len() {
            // SAFETY: both loads read `hay[at..at + 64]`, in bounds as
            // `at + 64 <= hay.len()`; `_mm256_loadu_si256` accepts any
            // alignment, and the caller guarantees AVX2.
            let (a, b) = unsafe {
                let p = hay.as_ptr().add(at).cast::<__m256i>();
                (_mm256_loadu_si256(p), _mm256_loadu_si256(p.add(1)))
            };
            let ends = _mm256_or_si256(
                _mm256_or_si256(_mm256_cmpeq_epi8(a, lf), _mm256_cmpeq_epi8(a, cr)),
                _mm256_or_si256(_mm256_cmpeq_epi8(b, lf), _mm256_cmpeq_epi8(b, cr)),
            );
            if _mm256_movemask_epi8(ends) != 0 {
                break;
            }
            acc = _mm256_or_si256(acc, _mm256_or_si256(a, b));
            at += 64;
        }
        (at, _mm256_movemask_epi8(acc) != 0)
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
    pub(crate) fn line_end(hay: &[u8]) -> LineEnd {
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
                return LineEnd {
                    at: i * 8 + k as usize,
                    ascii: (seen | before) & HIGH == 0,
                };
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

    fn reference(hay: &[u8]) -> LineEnd {
        let at = hay
            .iter()
            .position(|&b| b == b'\n' || b == b'\r')
            .unwrap_or(hay.len());
        LineEnd {
            at,
            ascii: hay[..at].is_ascii(),
        }
    }

    /// Bytes drawn mostly from the interesting ones: CR, LF, a high byte.
    fn bytes(max: usize, rare: u32) -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(
            prop_oneof![
                8 * rare => b'a'..=b'z',
                1 => Just(b'\n'),
                1 => Just(b'\r'),
                1 => Just(0x80u8),
                1 => any::<u8>(),
            ],
            0..max,
        )
    }

    proptest! {
        #[test]
        fn agrees_with_reference(hay in bytes(80, 1)) {
            prop_assert_eq!(line_end(&hay), reference(&hay));
            prop_assert_eq!(swar::line_end(&hay), reference(&hay));
        }

        /// Long lines, which take the wide scan.
        #[test]
        fn long_lines_agree_with_reference(hay in bytes(700, 60)) {
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

    #[test]
    fn every_position_in_long_lines() {
        // Past the short blocks, through several wide groups and the tail.
        for len in [64, 65, 127, 128, 129, 200, 256, 300, 333] {
            for end in (0..=len).step_by(3) {
                for high in [len, 0, 63, 64, 100, 127, 128, 191, 192, 250, len - 1] {
                    let mut hay = alloc::vec![b'x'; len];
                    if high < len {
                        hay[high] = 0xE2;
                    }
                    if end < len {
                        hay[end] = if end % 2 == 0 { b'\n' } else { b'\r' };
                    }
                    assert_eq!(
                        line_end(&hay),
                        reference(&hay),
                        "len {len} end {end} high {high}"
                    );
                }
            }
        }
    }

    /// The wide skip, by its contract: stops at the first 64-byte group
    /// with a line end, or where fewer than 64 bytes are left.
    #[cfg(target_arch = "x86_64")]
    fn skip_reference(hay: &[u8], from: usize) -> (usize, bool) {
        let mut at = from;
        while at + 64 <= hay.len() && !hay[at..at + 64].iter().any(|&b| b == b'\n' || b == b'\r') {
            at += 64;
        }
        (at, !hay[from..at].is_ascii())
    }

    #[cfg(target_arch = "x86_64")]
    proptest! {
        #[test]
        fn wide_skip_agrees_with_reference(hay in bytes(600, 80), from in 0usize..100) {
            let from = from.min(hay.len());
            let expected = skip_reference(&hay, from);
            prop_assert_eq!(super::wide::skip_sse2(&hay, from), expected);
            prop_assert_eq!(super::wide::skip(&hay, from), expected);
            #[cfg(feature = "std")]
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: AVX2 was detected just above.
                prop_assert_eq!(unsafe { super::wide::skip_avx2(&hay, from) }, expected);
            }
        }
    }
}
