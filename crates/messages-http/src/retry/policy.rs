//! The retry decisions and delays, as pure functions.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, StatusCode};

use crate::BoxError;

/// The longest server-requested wait that is honoured, like the official SDKs.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
const INITIAL_DELAY: f64 = 0.5;
const MAX_DELAY: f64 = 8.0;

/// Whether a response should be retried (ignoring the retry budget).
///
/// `x-should-retry: true|false` decides when present; otherwise 408, 409, 429
/// and every status >= 500 are retried.
pub fn should_retry_status(status: StatusCode, headers: &HeaderMap) -> bool {
    match headers.get("x-should-retry").map(|v| v.as_bytes()) {
        Some(b"true") => return true,
        Some(b"false") => return false,
        _ => {}
    }
    matches!(status.as_u16(), 408 | 409 | 429) || status.as_u16() >= 500
}

/// The wait the server asked for, to be retried automatically: as
/// [`requested_wait`], but `None` when the value is not in `(0, 60]`
/// seconds: then the caller uses [`backoff_delay`].
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    requested_wait(headers, now).filter(|w| *w > Duration::ZERO && *w <= MAX_RETRY_AFTER)
}

/// The wait the server asked for, however long: `retry-after-ms`, else
/// `retry-after` in seconds or as an HTTP date (relative to `now`). `None`
/// when neither header is present and valid. A caller that decides for
/// itself what is too long (a usage cap that resets in hours) reads this.
pub fn requested_wait(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let from_ms = headers
        .get("retry-after-ms")
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .and_then(|ms| secs(ms / 1000.0));
    let wait = from_ms.or_else(|| {
        let s = headers
            .get(http::header::RETRY_AFTER)?
            .to_str()
            .ok()?
            .trim();
        match s.parse::<f64>() {
            Ok(v) => secs(v),
            Err(_) => {
                let at = httpdate::parse_http_date(s).ok()?;
                Some(at.duration_since(now).unwrap_or(Duration::ZERO))
            }
        }
    })?;
    Some(wait)
}

fn secs(v: f64) -> Option<Duration> {
    (v.is_finite() && (0.0..=1e9).contains(&v)).then(|| Duration::from_secs_f64(v))
}

/// The exponential backoff before retry number `retry` (0-based):
/// `min(0.5 * 2^retry, 8)` seconds times `(1 - 0.25 * rand)`, for `rand` in
/// `[0, 1)`.
pub fn backoff_delay(retry: u32, rand: f64) -> Duration {
    let base = (INITIAL_DELAY * 2f64.powi(retry.min(30) as i32)).min(MAX_DELAY);
    let rand = if rand.is_finite() {
        rand.clamp(0.0, 1.0)
    } else {
        0.0
    };
    Duration::from_secs_f64(base * (1.0 - 0.25 * rand))
}

/// [`backoff_delay`] with the transport's own jitter: the wait before retry
/// number `retry` (0-based) when the server did not say.
pub fn retry_delay(retry: u32) -> Duration {
    backoff_delay(retry, jitter())
}

/// The delay before retry number `retry` after a response with `headers`.
pub(crate) fn delay_for(retry: u32, headers: Option<&HeaderMap>) -> Duration {
    headers
        .and_then(|h| retry_after(h, SystemTime::now()))
        .unwrap_or_else(|| backoff_delay(retry, jitter()))
}

/// Whether an error of one attempt is worth retrying: connection errors and
/// attempt timeouts are; certificate failures and refused requests are not.
pub(crate) fn should_retry_error(err: &BoxError) -> bool {
    !crate::error::is_certificate_error(&**err)
}

/// A uniform number in `[0, 1)` from a process-wide splitmix64 sequence
/// seeded from the clock. Jitter only has to de-synchronise clients, so this
/// needs no cryptographic quality.
pub(crate) fn jitter() -> f64 {
    static STATE: AtomicU64 = AtomicU64::new(0);
    const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;
    if STATE.load(Ordering::Relaxed) == 0 {
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(GAMMA, |d| d.as_nanos() as u64)
            | 1;
        let _ = STATE.compare_exchange(0, seed, Ordering::Relaxed, Ordering::Relaxed);
    }
    let mut z = STATE
        .fetch_add(GAMMA, Ordering::Relaxed)
        .wrapping_add(GAMMA);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}
