//! Small helpers: a stable hash, a seeded generator, ids and RFC 3339 times.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

// ===== locking =====

/// Locks `m`, recovering the guard if a holder panicked: every critical
/// section here leaves the data consistent, so poisoning carries no meaning.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

// ===== stable hashing =====

/// FNV-1a, 64 bit: stable across Rust versions and platforms, unlike
/// `DefaultHasher`, so generated responses never change under a toolchain
/// upgrade.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fnv(u64);

impl Fnv {
    pub(crate) fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    pub(crate) fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    pub(crate) fn finish(self) -> u64 {
        self.0
    }
}

/// Hashes a JSON object canonically: keys in sorted order, whatever order
/// the client sent them in and whatever map serde_json was built with.
/// Keys named in `skip` are left out at the top level only.
pub(crate) fn hash_json(map: &Map<String, Value>, skip: &[&str]) -> u64 {
    let mut h = Fnv::new();
    hash_map(&mut h, map, skip);
    h.finish()
}

fn hash_value(h: &mut Fnv, value: &Value) {
    match value {
        Value::Null => h.write(b"n"),
        Value::Bool(b) => h.write(if *b { b"t" } else { b"f" }),
        Value::Number(n) => {
            h.write(b"#");
            h.write(n.to_string().as_bytes());
        }
        Value::String(s) => {
            h.write(b"s");
            h.write(&(s.len() as u64).to_le_bytes());
            h.write(s.as_bytes());
        }
        Value::Array(items) => {
            h.write(b"[");
            for item in items {
                hash_value(h, item);
            }
            h.write(b"]");
        }
        Value::Object(map) => hash_map(h, map, &[]),
    }
}

fn hash_map(h: &mut Fnv, map: &Map<String, Value>, skip: &[&str]) {
    let mut keys: Vec<&String> = map.keys().filter(|k| !skip.contains(&k.as_str())).collect();
    keys.sort();
    h.write(b"{");
    for k in keys {
        h.write(&(k.len() as u64).to_le_bytes());
        h.write(k.as_bytes());
        if let Some(v) = map.get(k) {
            hash_value(h, v);
        }
    }
    h.write(b"}");
}

/// The length of `map` serialized as compact JSON, counted without building
/// the string.
pub(crate) fn json_len(map: &Map<String, Value>) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    // Serializing a `Map` cannot fail: its keys are strings, and `Count`
    // never reports an I/O error.
    let _ = serde_json::to_writer(&mut count, map);
    count.0
}

// ===== seeded generator =====

/// SplitMix64: tiny, fast and good enough to pick words.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `lo..=hi` (`lo` when the range is empty).
    pub(crate) fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        lo + self.next_u64() % (hi - lo + 1)
    }

    pub(crate) fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }

    pub(crate) fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }
}

// ===== ids =====

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `len` base-62 characters drawn from `rng`.
pub(crate) fn base62(rng: &mut Rng, len: usize) -> String {
    (0..len)
        .map(|_| char::from(BASE62[rng.below(BASE62.len())]))
        .collect()
}

/// A process-unique, hard-to-guess seed: wall clock, a counter and the
/// address-space randomness of `RandomState`.
pub(crate) fn fresh_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(n);
    h.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.finish()
}

/// A new id such as `req_011CUdgeEaEXcfa9PDdxrNMk` (prefix + 24 characters).
pub(crate) fn new_id(prefix: &str) -> String {
    let mut rng = Rng::new(fresh_seed());
    format!("{prefix}{}", base62(&mut rng, 24))
}

// ===== time =====

/// Seconds since the Unix epoch, now.
pub(crate) fn now_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Formats Unix seconds as RFC 3339 UTC with microseconds, as the API does:
/// `2024-08-20T18:37:24.100435Z`.
pub(crate) fn rfc3339(secs: f64) -> String {
    let whole = secs.floor();
    let micros = ((secs - whole) * 1_000_000.0).round().clamp(0.0, 999_999.0) as i64;
    format!("{}.{micros:06}Z", date_time(whole as i64))
}

/// Formats Unix seconds as RFC 3339 UTC without fractions (rate-limit headers).
pub(crate) fn rfc3339_secs(secs: f64) -> String {
    format!("{}Z", date_time(secs.floor() as i64))
}

/// `YYYY-MM-DDTHH:MM:SS` for whole Unix seconds, UTC.
fn date_time(whole: i64) -> String {
    let days = whole.div_euclid(86_400);
    let rem = whole.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Howard Hinnant's days-from-civil inverse: days since 1970-01-01 to (y, m, d).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}
