//! A global allocator that counts, per thread, the allocations made and the
//! bytes live and their peak.
//!
//! A test binary opts in by declaring it:
//!
//! ```ignore
//! #[global_allocator]
//! static GLOBAL: test_support::alloc::Tracking = test_support::alloc::Tracking;
//! ```
//!
//! The counts are per thread, so a test measures what its own thread does:
//! code under test on a current-thread runtime (the client and the test's
//! server together), or a plain synchronous call.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::future::Future;

/// Delegates to the system allocator and counts, per thread, allocations
/// ([`allocations`]) and live bytes with their peak ([`peak_of`]).
#[derive(Debug, Clone, Copy)]
pub struct Tracking;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn grow(n: usize) {
    let live = LIVE.with(|l| {
        let v = l.get() + n as isize;
        l.set(v);
        v
    });
    PEAK.with(|p| p.set(p.get().max(live)));
}

fn shrink(n: usize) {
    LIVE.with(|l| l.set(l.get() - n as isize));
}

fn count() {
    ALLOCATIONS.with(|c| c.set(c.get() + 1));
}

// SAFETY: delegates every call to the system allocator with the caller's
// arguments; it only counts sizes and calls in thread-locals, which do not
// allocate (const-initialised `Cell`s).
unsafe impl GlobalAlloc for Tracking {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        grow(layout.size());
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        shrink(layout.size());
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        grow(new_size);
        shrink(layout.size());
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Whether [`Tracking`] is the global allocator: one allocation is made and
/// must be counted. Tests that measure call it first, so that a binary
/// which forgot to install the allocator fails instead of measuring zero.
pub fn is_installed() -> bool {
    let before = allocations();
    drop(std::hint::black_box(Box::new(0u64)));
    allocations() > before
}

/// The allocations (`alloc` and `realloc` calls) made on this thread so far.
/// Only counted when [`Tracking`] is the global allocator.
pub fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

/// Runs `f` and returns its output with the most bytes it had allocated on
/// this thread at any one time (beyond what was live when it started).
///
/// # Panics
///
/// If [`Tracking`] is not the global allocator (nothing would be measured).
pub async fn peak_of<T>(f: impl Future<Output = T>) -> (T, usize) {
    assert!(
        is_installed(),
        "peak_of needs `#[global_allocator] static GLOBAL: test_support::alloc::Tracking`"
    );
    let base = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(base));
    let out = f.await;
    let peak = PEAK.with(Cell::get) - base;
    (out, peak.max(0) as usize)
}
