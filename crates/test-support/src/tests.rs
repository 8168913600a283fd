use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use crate::alloc::{allocations, is_installed, peak_of};

/// Polls a future that never waits.
fn ready<T>(f: impl Future<Output = T>) -> T {
    let mut f = pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("the future waited"),
    }
}

#[test]
fn allocations_are_counted_per_call() {
    assert!(is_installed());
    let before = allocations();
    let v: Vec<u8> = std::hint::black_box(Vec::with_capacity(10));
    let mut w = v;
    w.reserve(1000);
    assert_eq!(allocations() - before, 2, "one alloc and one realloc");
}

#[test]
fn peak_is_the_most_bytes_live_at_once() {
    let ((), peak) = ready(peak_of(async {
        let a = std::hint::black_box(vec![0u8; 100_000]);
        drop(a);
        let b = std::hint::black_box(vec![0u8; 10_000]);
        drop(b);
    }));
    assert!((100_000..110_000).contains(&peak), "{peak}");
    let ((), peak) = ready(peak_of(async {}));
    assert_eq!(peak, 0);
}
