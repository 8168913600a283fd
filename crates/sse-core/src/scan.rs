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
///
/// `avx2` must come from [`has_avx2`]: it selects the AVX2 scan.
#[inline]
pub(crate) fn line_end(hay: &[u8], avx2: bool) -> LineEnd {
    #[cfg(all(target_arch = "x86_64", any(feature = "std", target_feature = "avx2")))]
    if avx2 {
        // SAFETY: `avx2` comes from `has_avx2`, so the processor has AVX2.
        return unsafe { avx2::line_end(hay) };
    }
    let _ = avx2;
    #[cfg(target_arch = "x86_64")]
    {
        sse2::line_end(hay)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        swar::line_end(hay)
    }
}

/// [`line_end`] of `chunk[from..]` (`at` counts from `from`).
///
/// When fewer than 16 bytes are left but the chunk holds 16, it reads the
/// chunk's last 16 bytes in one block and ignores those before `from`,
/// instead of looking at the rest one byte at a time: the ends of lines cut
/// by small chunks are short.
///
/// The first 32 bytes are looked at inline, without a call: most lines
/// (`event` lines, short `data` values) end there. Longer lines are then
/// scanned by [`line_end`] from their start again. (Going on after the
/// inline bytes instead executes fewer instructions, but measured slower on
/// Claude's stream, whose `data` lines are about 100 bytes long.)
#[inline(always)]
pub(crate) fn line_end_at(chunk: &[u8], from: usize, avx2: bool) -> LineEnd {
    #[cfg(target_arch = "x86_64")]
    {
        let left = chunk.len() - from;
        if left >= FIRST {
            let (ends, high) = sse2::first(chunk, from);
            if ends != 0 {
                return found(0, ends, high, false);
            }
            // A longer line: scanned again from its start, by the same call
            // as when the first block is not looked at inline.
            return line_end(&chunk[from..], avx2);
        }
        if left < 16 && chunk.len() >= 16 {
            return sse2::last_block(chunk, from);
        }
    }
    line_end(&chunk[from..], avx2)
}

/// Bytes [`line_end_at`] looks at inline before it calls [`line_end`].
#[cfg(target_arch = "x86_64")]
const FIRST: usize = 32;

/// Copies `src` up to its first CR or LF (or all of it, when it holds
/// neither) to `dst`, and returns the line end as [`line_end`] does: one
/// pass over the bytes for the scan and the copy, for the values of long
/// lines.
///
/// Bytes of `dst` past `at` (but before `src.len()`) may be written too.
///
/// # Safety
///
/// `dst` must be valid for writes of `src.len()` bytes and must not overlap
/// `src`; `avx2` must come from [`has_avx2`].
#[inline]
pub(crate) unsafe fn copy_line(src: &[u8], dst: *mut u8, avx2: bool) -> LineEnd {
    #[cfg(all(target_arch = "x86_64", any(feature = "std", target_feature = "avx2")))]
    if avx2 {
        // SAFETY: the caller's guarantees, and `avx2` says the processor
        // has AVX2.
        return unsafe { copy::avx2(src, dst) };
    }
    let _ = avx2;
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: the caller's guarantees.
        unsafe { copy::sse2(src, dst) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let end = line_end(src, false);
        // SAFETY: `end.at <= src.len()`, and the caller guarantees `dst`
        // has room for `src.len()` bytes and does not overlap `src`.
        unsafe { core::ptr::copy_nonoverlapping(src.as_ptr(), dst, end.at) };
        end
    }
}

/// Whether [`line_end`] may use AVX2: detected at run time with the `std`
/// feature, known at compile time without it.
pub(crate) fn has_avx2() -> bool {
    #[cfg(all(target_arch = "x86_64", feature = "std"))]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(all(target_arch = "x86_64", feature = "std")))]
    {
        cfg!(all(target_arch = "x86_64", target_feature = "avx2"))
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

/// Bytes the SSE2 scan looks at one block at a time before a line counts as
/// long and it switches to 64-byte steps ([`wide`]). The AVX2 scan takes
/// 64-byte steps from the start when 64 bytes are left: it is only called
/// for lines whose first 32 bytes `line_end_at` has looked at already, so
/// Claude's `data` lines (about 100 bytes) end in its second step.
#[cfg(target_arch = "x86_64")]
const SHORT: usize = 64;

/// The answer for a run of blocks at `base` whose line-end mask `ends` is
/// not zero, with `high` the non-ASCII mask of those bytes and `seen`
/// whether an earlier byte was non-ASCII.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn found(base: usize, ends: u64, high: u64, seen: bool) -> LineEnd {
    let k = ends.trailing_zeros();
    // `k` < 64, as `ends` is not zero.
    let before = high & ((1u64 << k) - 1);
    LineEnd {
        at: base + k as usize,
        ascii: !seen && before == 0,
    }
}

/// SSE2, which every x86_64 processor has: 16-byte blocks.
#[cfg(target_arch = "x86_64")]
mod sse2 {
    use core::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };

    use super::{LineEnd, SHORT, found, line_end_bytes, wide};

    /// Masks of the line ends and of the non-ASCII bytes in `hay[at..at + 16]`.
    #[inline(always)]
    fn block(hay: &[u8], at: usize) -> (u64, u64) {
        let block = &hay[at..at + 16];
        // SAFETY: SSE2 is part of the x86_64 baseline, so these intrinsics
        // are always available; `block` is 16 readable bytes and
        // `_mm_loadu_si128` accepts any alignment.
        unsafe {
            let v = _mm_loadu_si128(block.as_ptr().cast::<__m128i>());
            let lf = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\n' as i8));
            let cr = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\r' as i8));
            (
                u64::from(_mm_movemask_epi8(_mm_or_si128(lf, cr)) as u16),
                u64::from(_mm_movemask_epi8(v) as u16),
            )
        }
    }

    /// Masks of the line ends and of the non-ASCII bytes in
    /// `hay[at..at + FIRST]` (two blocks).
    #[inline(always)]
    pub(super) fn first(hay: &[u8], at: usize) -> (u64, u64) {
        let (e0, h0) = block(hay, at);
        let (e1, h1) = block(hay, at + 16);
        (e0 | e1 << 16, h0 | h1 << 16)
    }

    /// [`super::line_end_at`] when `chunk.len() - 16 <= from <= chunk.len()`.
    #[inline]
    pub(super) fn last_block(chunk: &[u8], from: usize) -> LineEnd {
        let base = chunk.len() - 16;
        // Between 0 and 16 bytes of the block lie before `from`.
        let skip = from - base;
        let fresh = !((1u64 << skip) - 1);
        let (ends, high) = block(chunk, base);
        let ends = ends & fresh;
        let high = high & fresh;
        if ends == 0 {
            return LineEnd {
                at: chunk.len() - from,
                ascii: high == 0,
            };
        }
        let k = ends.trailing_zeros() as usize;
        LineEnd {
            at: k - skip,
            ascii: high & ((1u64 << k) - 1) == 0,
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
            if at == SHORT && len - at >= 64 {
                // A long line: go on 64 bytes a step.
                match wide::sse2(hay, at) {
                    Ok(end) => {
                        return LineEnd {
                            at: end.at,
                            ascii: end.ascii && !seen,
                        };
                    }
                    Err((to, high)) => {
                        at = to;
                        seen |= high;
                    }
                }
            }
        }
        if at == len {
            return LineEnd { at, ascii: !seen };
        }
        // The last, partial block: read the final 16 bytes, overlapping
        // bytes already scanned, and ignore those.
        let base = len - 16;
        let fresh = !((1u64 << (at - base)) - 1);
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

/// AVX2: 32-byte blocks.
#[cfg(all(target_arch = "x86_64", any(feature = "std", target_feature = "avx2")))]
mod avx2 {
    use core::arch::x86_64::{
        __m256i, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_movemask_epi8, _mm256_or_si256,
        _mm256_set1_epi8,
    };

    use super::{LineEnd, found, wide};

    /// Masks of the line ends and of the non-ASCII bytes in `hay[at..at + 32]`.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn block(hay: &[u8], at: usize) -> (u64, u64) {
        let block = &hay[at..at + 32];
        // SAFETY: `block` is 32 readable bytes and `_mm256_loadu_si256`
        // accepts any alignment.
        let v = unsafe { _mm256_loadu_si256(block.as_ptr().cast::<__m256i>()) };
        let lf = _mm256_cmpeq_epi8(v, _mm256_set1_epi8(b'\n' as i8));
        let cr = _mm256_cmpeq_epi8(v, _mm256_set1_epi8(b'\r' as i8));
        (
            u64::from(_mm256_movemask_epi8(_mm256_or_si256(lf, cr)) as u32),
            u64::from(_mm256_movemask_epi8(v) as u32),
        )
    }

    /// [`super::line_end`] with AVX2.
    ///
    /// # Safety
    ///
    /// The processor must support AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn line_end(hay: &[u8]) -> LineEnd {
        let len = hay.len();
        if len < 32 {
            return super::sse2::line_end(hay);
        }
        let mut at = 0;
        let mut seen = false;
        if len >= 64 {
            // 64 bytes a step from the start: `line_end_at`, the only
            // caller with this much left, has already seen that the first
            // 32 bytes hold no line end, so the line is longer than one
            // block.
            // SAFETY: the caller guarantees AVX2.
            match unsafe { wide::avx2(hay, 0) } {
                Ok(end) => return end,
                Err((to, high)) => {
                    at = to;
                    seen = high;
                }
            }
        }
        while at + 32 <= len {
            let (ends, high) = block(hay, at);
            if ends != 0 {
                return found(at, ends, high, seen);
            }
            seen |= high != 0;
            at += 32;
        }
        if at == len {
            return LineEnd { at, ascii: !seen };
        }
        // The last, partial block: read the final 32 bytes, overlapping
        // bytes already scanned (between 1 and 31), and ignore those.
        let base = len - 32;
        let fresh = !((1u64 << (at - base)) - 1);
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

/// The scan of long lines, 64 bytes a step: SSE2 (four loads) or AVX2 (two).
///
/// Both scan `hay[from..]` in 64-byte groups. They return `Ok` with the
/// first line end, when a group holds one (`ascii` then tells about
/// `hay[from..at]`), or `Err` with the point where fewer than 64 bytes are
/// left and whether a byte before it (from `from`) was non-ASCII.
#[cfg(target_arch = "x86_64")]
pub(crate) mod wide {
    use core::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
        _mm_setzero_si128,
    };

    use super::{LineEnd, found};

    /// The 64-bit mask of a 16-byte movemask at position `i` of a group.
    #[inline(always)]
    fn at16(mask: i32, i: u32) -> u64 {
        u64::from(mask as u16) << (16 * i)
    }

    /// With SSE2 (x86_64 baseline).
    #[inline(never)]
    pub(crate) fn sse2(hay: &[u8], from: usize) -> Result<LineEnd, (usize, bool)> {
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
                let ea = _mm_or_si128(_mm_cmpeq_epi8(a, lf), _mm_cmpeq_epi8(a, cr));
                let eb = _mm_or_si128(_mm_cmpeq_epi8(b, lf), _mm_cmpeq_epi8(b, cr));
                let ec = _mm_or_si128(_mm_cmpeq_epi8(c, lf), _mm_cmpeq_epi8(c, cr));
                let ed = _mm_or_si128(_mm_cmpeq_epi8(d, lf), _mm_cmpeq_epi8(d, cr));
                let any = _mm_or_si128(_mm_or_si128(ea, eb), _mm_or_si128(ec, ed));
                if _mm_movemask_epi8(any) != 0 {
                    let ends = at16(_mm_movemask_epi8(ea), 0)
                        | at16(_mm_movemask_epi8(eb), 1)
                        | at16(_mm_movemask_epi8(ec), 2)
                        | at16(_mm_movemask_epi8(ed), 3);
                    let high = at16(_mm_movemask_epi8(a), 0)
                        | at16(_mm_movemask_epi8(b), 1)
                        | at16(_mm_movemask_epi8(c), 2)
                        | at16(_mm_movemask_epi8(d), 3);
                    return Ok(found(at, ends, high, _mm_movemask_epi8(acc) != 0));
                }
                acc = _mm_or_si128(acc, _mm_or_si128(_mm_or_si128(a, b), _mm_or_si128(c, d)));
                at += 64;
            }
            Err((at, _mm_movemask_epi8(acc) != 0))
        }
    }

    /// With AVX2.
    ///
    /// # Safety
    ///
    /// The processor must support AVX2.
    #[cfg(any(feature = "std", target_feature = "avx2"))]
    #[inline]
    #[target_feature(enable = "avx2")]
    pub(crate) unsafe fn avx2(hay: &[u8], from: usize) -> Result<LineEnd, (usize, bool)> {
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
            // alignment.
            let (a, b) = unsafe {
                let p = hay.as_ptr().add(at).cast::<__m256i>();
                (_mm256_loadu_si256(p), _mm256_loadu_si256(p.add(1)))
            };
            let ea = _mm256_or_si256(_mm256_cmpeq_epi8(a, lf), _mm256_cmpeq_epi8(a, cr));
            let eb = _mm256_or_si256(_mm256_cmpeq_epi8(b, lf), _mm256_cmpeq_epi8(b, cr));
            if _mm256_movemask_epi8(_mm256_or_si256(ea, eb)) != 0 {
                let ends = u64::from(_mm256_movemask_epi8(ea) as u32)
                    | u64::from(_mm256_movemask_epi8(eb) as u32) << 32;
                let high = u64::from(_mm256_movemask_epi8(a) as u32)
                    | u64::from(_mm256_movemask_epi8(b) as u32) << 32;
                return Ok(found(at, ends, high, _mm256_movemask_epi8(acc) != 0));
            }
            acc = _mm256_or_si256(acc, _mm256_or_si256(a, b));
            at += 64;
        }
        Err((at, _mm256_movemask_epi8(acc) != 0))
    }
}

/// [`copy_line`]: 64 bytes a step, each loaded once, tested, and stored.
#[cfg(target_arch = "x86_64")]
mod copy {
    use core::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
        _mm_setzero_si128, _mm_storeu_si128,
    };

    use super::{LineEnd, found};

    /// The tail of fewer than 64 bytes, from `at`, with `seen` telling
    /// whether an earlier byte was non-ASCII.
    ///
    /// # Safety
    ///
    /// As for [`super::copy_line`].
    #[inline(always)]
    unsafe fn tail(src: &[u8], dst: *mut u8, at: usize, seen: bool, avx2: bool) -> LineEnd {
        if at == src.len() {
            return LineEnd { at, ascii: !seen };
        }
        let end = super::line_end(&src[at..], avx2);
        // SAFETY: `at + end.at <= src.len()`; the caller guarantees `dst`
        // has room for `src.len()` bytes and does not overlap `src`.
        unsafe { core::ptr::copy_nonoverlapping(src.as_ptr().add(at), dst.add(at), end.at) };
        LineEnd {
            at: at + end.at,
            ascii: end.ascii && !seen,
        }
    }

    /// With SSE2 (x86_64 baseline).
    ///
    /// # Safety
    ///
    /// As for [`super::copy_line`].
    pub(super) unsafe fn sse2(src: &[u8], dst: *mut u8) -> LineEnd {
        let mut at = 0;
        // SAFETY: SSE2 is part of the x86_64 baseline. Every load reads
        // and every store writes 16 bytes at `at + 16 * i` for i < 4 with
        // `at + 64 <= src.len()`: in bounds of `src`, and of `dst`, which
        // the caller guarantees has room for `src.len()` bytes. Unaligned
        // loads and stores accept any alignment.
        unsafe {
            let lf = _mm_set1_epi8(b'\n' as i8);
            let cr = _mm_set1_epi8(b'\r' as i8);
            let mut acc = _mm_setzero_si128();
            while at + 64 <= src.len() {
                let p = src.as_ptr().add(at).cast::<__m128i>();
                let q = dst.add(at).cast::<__m128i>();
                let a = _mm_loadu_si128(p);
                let b = _mm_loadu_si128(p.add(1));
                let c = _mm_loadu_si128(p.add(2));
                let d = _mm_loadu_si128(p.add(3));
                _mm_storeu_si128(q, a);
                _mm_storeu_si128(q.add(1), b);
                _mm_storeu_si128(q.add(2), c);
                _mm_storeu_si128(q.add(3), d);
                let ea = _mm_or_si128(_mm_cmpeq_epi8(a, lf), _mm_cmpeq_epi8(a, cr));
                let eb = _mm_or_si128(_mm_cmpeq_epi8(b, lf), _mm_cmpeq_epi8(b, cr));
                let ec = _mm_or_si128(_mm_cmpeq_epi8(c, lf), _mm_cmpeq_epi8(c, cr));
                let ed = _mm_or_si128(_mm_cmpeq_epi8(d, lf), _mm_cmpeq_epi8(d, cr));
                let any = _mm_or_si128(_mm_or_si128(ea, eb), _mm_or_si128(ec, ed));
                if _mm_movemask_epi8(any) != 0 {
                    let m = |v| u64::from(_mm_movemask_epi8(v) as u16);
                    let ends = m(ea) | m(eb) << 16 | m(ec) << 32 | m(ed) << 48;
                    let high = m(a) | m(b) << 16 | m(c) << 32 | m(d) << 48;
                    return found(at, ends, high, _mm_movemask_epi8(acc) != 0);
                }
                acc = _mm_or_si128(acc, _mm_or_si128(_mm_or_si128(a, b), _mm_or_si128(c, d)));
                at += 64;
            }
            tail(src, dst, at, _mm_movemask_epi8(acc) != 0, false)
        }
    }

    /// With AVX2.
    ///
    /// # Safety
    ///
    /// As for [`super::copy_line`], and the processor must support AVX2.
    #[cfg(any(feature = "std", target_feature = "avx2"))]
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn avx2(src: &[u8], dst: *mut u8) -> LineEnd {
        use core::arch::x86_64::{
            __m256i, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_movemask_epi8, _mm256_or_si256,
            _mm256_set1_epi8, _mm256_setzero_si256, _mm256_storeu_si256,
        };
        let mut at = 0;
        let lf = _mm256_set1_epi8(b'\n' as i8);
        let cr = _mm256_set1_epi8(b'\r' as i8);
        let mut acc = _mm256_setzero_si256();
        while at + 64 <= src.len() {
            // SAFETY: both loads read and both stores write 32 bytes at
            // `at` and `at + 32` with `at + 64 <= src.len()`: in bounds of
            // `src`, and of `dst`, which the caller guarantees has room for
            // `src.len()` bytes. Unaligned loads and stores accept any
            // alignment.
            let (a, b) = unsafe {
                let p = src.as_ptr().add(at).cast::<__m256i>();
                let q = dst.add(at).cast::<__m256i>();
                let (a, b) = (_mm256_loadu_si256(p), _mm256_loadu_si256(p.add(1)));
                _mm256_storeu_si256(q, a);
                _mm256_storeu_si256(q.add(1), b);
                (a, b)
            };
            let ea = _mm256_or_si256(_mm256_cmpeq_epi8(a, lf), _mm256_cmpeq_epi8(a, cr));
            let eb = _mm256_or_si256(_mm256_cmpeq_epi8(b, lf), _mm256_cmpeq_epi8(b, cr));
            if _mm256_movemask_epi8(_mm256_or_si256(ea, eb)) != 0 {
                let ends = u64::from(_mm256_movemask_epi8(ea) as u32)
                    | u64::from(_mm256_movemask_epi8(eb) as u32) << 32;
                let high = u64::from(_mm256_movemask_epi8(a) as u32)
                    | u64::from(_mm256_movemask_epi8(b) as u32) << 32;
                return found(at, ends, high, _mm256_movemask_epi8(acc) != 0);
            }
            acc = _mm256_or_si256(acc, _mm256_or_si256(a, b));
            at += 64;
        }
        // SAFETY: the caller's guarantees, AVX2 included.
        unsafe { tail(src, dst, at, _mm256_movemask_epi8(acc) != 0, true) }
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

    use super::{LineEnd, has_avx2, swar};

    /// Every implementation this processor can run.
    fn line_ends(hay: &[u8]) -> [LineEnd; 3] {
        [
            super::line_end(hay, false),
            super::line_end(hay, has_avx2()),
            swar::line_end(hay),
        ]
    }

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
            let expected = reference(&hay);
            prop_assert_eq!(line_ends(&hay), [expected; 3]);
        }

        /// Long lines, which take the wide scan.
        #[test]
        fn long_lines_agree_with_reference(hay in bytes(700, 60)) {
            let expected = reference(&hay);
            prop_assert_eq!(line_ends(&hay), [expected; 3]);
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
                    assert_eq!(line_ends(&hay), [reference(&hay); 3], "{hay:?}");
                }
            }
        }
    }

    /// `line_end_at(chunk, from)` against the naive scan, both
    /// implementations, for a chunk of `len` bytes with a line end at `end`
    /// and the byte `high` at `high` (each only when inside the chunk).
    fn check_line_end_at(len: usize, from: usize, end: usize, high: usize, byte: u8) {
        let mut chunk = alloc::vec![b'q'; len];
        if high < len {
            chunk[high] = byte;
        }
        if end < len {
            chunk[end] = if end.is_multiple_of(2) { b'\n' } else { b'\r' };
        }
        let expected = reference(&chunk[from..]);
        for avx2 in [false, has_avx2()] {
            assert_eq!(
                super::line_end_at(&chunk, from, avx2),
                expected,
                "len {len} from {from} end {end} high {high}"
            );
        }
    }

    /// `line_end_at` from every start in chunks of every length up to three
    /// blocks, with a line end and a high byte anywhere (or nowhere).
    #[test]
    fn line_end_at_every_start() {
        for len in 0usize..48 {
            for from in 0..=len {
                for end in [
                    len,
                    from,
                    from + 1,
                    from + 5,
                    len.saturating_sub(1),
                    from.saturating_sub(1),
                ] {
                    for high in [
                        len,
                        from,
                        from + 2,
                        len.saturating_sub(1),
                        from.saturating_sub(1),
                    ] {
                        check_line_end_at(len, from, end, high, 0xC3);
                    }
                }
            }
        }
    }

    /// `line_end_at` past its inline first blocks: every start and every
    /// line end position in chunks up to 80 bytes, with a high byte around
    /// the block edges (16, 32) or nowhere.
    #[test]
    fn line_end_at_first_blocks() {
        for len in 0usize..80 {
            for from in 0..=len {
                for end in from..=len {
                    for high in [
                        from,
                        from + 15,
                        from + 16,
                        from + 31,
                        from + 32,
                        from + 33,
                        len.saturating_sub(1),
                        len,
                    ] {
                        check_line_end_at(len, from, end, high, 0xE2);
                    }
                }
            }
        }
    }

    proptest! {
        #[test]
        fn line_end_at_agrees_with_reference(chunk in bytes(120, 4), from in any::<prop::sample::Index>()) {
            let from = from.index(chunk.len() + 1);
            let expected = reference(&chunk[from..]);
            prop_assert_eq!(super::line_end_at(&chunk, from, false), expected);
            prop_assert_eq!(super::line_end_at(&chunk, from, has_avx2()), expected);
        }
    }

    /// A `len`-byte line of `x` with `high_byte` at `high` and a line end
    /// (LF at even places, CR at odd ones) at `end` (either past the line
    /// when `len`): every scan finds what the naive one finds.
    fn check_line(len: usize, end: usize, high: usize, high_byte: u8) {
        let mut hay = alloc::vec![b'x'; len];
        if high < len {
            hay[high] = high_byte;
        }
        if end < len {
            hay[end] = if end.is_multiple_of(2) { b'\n' } else { b'\r' };
        }
        assert_eq!(
            line_ends(&hay),
            [reference(&hay); 3],
            "len {len} end {end} high {high}"
        );
    }

    #[test]
    fn every_position_in_long_lines() {
        // Past the short blocks, through several wide groups and the tail.
        for len in [64, 65, 127, 128, 129, 200, 256, 300, 333] {
            for end in (0..=len).step_by(3) {
                for high in [len, 0, 63, 64, 100, 127, 128, 191, 192, 250, len - 1] {
                    check_line(len, end, high, 0xE2);
                }
            }
        }
    }

    #[test]
    fn every_line_end_past_the_first_block() {
        // Lines longer than the 32 bytes `line_end_at` looks at inline go
        // to `line_end`, whose AVX2 scan starts with 64-byte steps when 64
        // bytes are left: every line-end position of every length from one
        // to three such steps, with a high byte at the block and step
        // edges and next to the line end.
        for len in 32usize..=200 {
            for end in 0..=len {
                let highs = [
                    len,
                    0,
                    31,
                    32,
                    63,
                    64,
                    95,
                    96,
                    127,
                    128,
                    len - 1,
                    end.saturating_sub(1),
                    end + 1,
                ];
                for high in highs {
                    check_line(len, end, high, 0xF0);
                }
            }
        }
    }

    /// `copy_line` copies exactly the bytes before the line end.
    fn check_copy(hay: &[u8]) {
        let expected = reference(hay);
        for avx2 in [false, has_avx2()] {
            let mut dst = alloc::vec![0u8; hay.len()];
            // SAFETY: `dst` has room for `hay.len()` bytes and is a separate
            // allocation; `avx2` comes from `has_avx2`.
            let end = unsafe { super::copy_line(hay, dst.as_mut_ptr(), avx2) };
            assert_eq!(end, expected, "{hay:?}");
            assert_eq!(&dst[..end.at], &hay[..end.at]);
        }
    }

    proptest! {
        #[test]
        fn copy_line_agrees_with_reference(hay in bytes(600, 60)) {
            check_copy(&hay);
        }
    }

    #[test]
    fn copy_line_every_position() {
        // Every length up to two wide steps and a bit, which covers every
        // size of the tail after zero, one and two steps.
        for len in (0_usize..=140).chain([200]) {
            for end in 0..=len {
                for high in [
                    len,
                    0,
                    15,
                    16,
                    31,
                    32,
                    63,
                    64,
                    100,
                    127,
                    128,
                    end.saturating_sub(1),
                    end + 1,
                    len.saturating_sub(16),
                    len.saturating_sub(1_usize),
                ] {
                    let mut hay = alloc::vec![b'y'; len];
                    if high < len {
                        hay[high] = 0xF0;
                    }
                    if end < len {
                        hay[end] = if end % 2 == 0 { b'\r' } else { b'\n' };
                    }
                    check_copy(&hay);
                }
            }
        }
    }

    /// The wide scan, by its contract: the first line end when a 64-byte
    /// group holds one, else where fewer than 64 bytes are left.
    #[cfg(target_arch = "x86_64")]
    fn wide_reference(hay: &[u8], from: usize) -> Result<LineEnd, (usize, bool)> {
        let mut at = from;
        while at + 64 <= hay.len() {
            if let Some(k) = hay[at..at + 64]
                .iter()
                .position(|&b| b == b'\n' || b == b'\r')
            {
                return Ok(LineEnd {
                    at: at + k,
                    ascii: hay[from..at + k].is_ascii(),
                });
            }
            at += 64;
        }
        Err((at, !hay[from..at].is_ascii()))
    }

    #[cfg(target_arch = "x86_64")]
    proptest! {
        #[test]
        fn wide_scan_agrees_with_reference(hay in bytes(600, 80), from in 0usize..100) {
            let from = from.min(hay.len());
            let expected = wide_reference(&hay, from);
            prop_assert_eq!(super::wide::sse2(&hay, from), expected);
            #[cfg(feature = "std")]
            if has_avx2() {
                // SAFETY: AVX2 was detected just above.
                prop_assert_eq!(unsafe { super::wide::avx2(&hay, from) }, expected);
            }
        }
    }
}
