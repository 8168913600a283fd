//! Adaptive pacing for the local runner: a concurrency window that halves
//! on 429/529 and grows back on success (AIMD), a run-wide pause for
//! `retry-after`, and pacing from the `anthropic-ratelimit-*` headers so that
//! requests slow down before the API refuses them.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use http::HeaderMap;

/// Paced requests use this share of the rate the headers allow, so the
/// client's and the server's clocks may disagree a little.
const SAFETY: f64 = 0.95;

/// One rate limit (requests or tokens) as the headers report it.
#[derive(Debug, Default)]
struct Lane {
    /// The start number of the latest answer with this limit's headers.
    seen: Option<u64>,
    /// What the API had left at that answer, minus what is in flight, minus
    /// what was started since.
    budget: f64,
    /// The refill rate, per second (0 until known).
    rate: f64,
    /// The longest window (seconds) the headers have shown, 0 until one.
    window: f64,
    /// When the API's bucket is full again.
    reset_at: Option<Instant>,
    /// When `budget` was last set from headers.
    updated: Option<Instant>,
}

/// The pacing state of one run. Sans-IO: the runner asks when the next
/// request may start and reports starts, answers and throttles.
#[derive(Debug)]
pub(crate) struct Pacer {
    max: usize,
    /// The AIMD concurrency window, in `1..=max`.
    window: f64,
    /// Requests started before this start number do not cut the window
    /// again: one cut per round of throttles.
    cut_after: u64,
    paused_until: Option<Instant>,
    /// Starts so far.
    started: u64,
    /// The requests in flight and their token costs.
    in_flight: HashMap<u64, f64>,
    /// The sum of their token costs.
    in_flight_tokens: f64,
    requests: Lane,
    tokens: Lane,
}

impl Pacer {
    pub(crate) fn new(max: usize) -> Pacer {
        Pacer {
            max: max.max(1),
            window: max.max(1) as f64,
            cut_after: 0,
            paused_until: None,
            started: 0,
            in_flight: HashMap::new(),
            in_flight_tokens: 0.0,
            requests: Lane::default(),
            tokens: Lane::default(),
        }
    }

    /// How many requests may be in flight now.
    pub(crate) fn limit(&self) -> usize {
        (self.window.floor() as usize).clamp(1, self.max)
    }

    /// When a request costing `tokens` may start: `None` for now.
    pub(crate) fn ready_at(&self, tokens: f64, now: Instant) -> Option<Instant> {
        let mut at = self.paused_until.filter(|&t| t > now);
        for (lane, cost) in [(&self.requests, 1.0), (&self.tokens, tokens)] {
            if lane.seen.is_none() || lane.budget >= cost {
                continue;
            }
            // Out of budget: when the bucket, refilling since the budget
            // was last known, holds this request's cost.
            let wait = if lane.rate > 0.0 {
                lane.updated.map(|t| {
                    t + Duration::from_secs_f64((cost - lane.budget) / (lane.rate * SAFETY))
                })
            } else {
                lane.reset_at
            };
            if let Some(w) = wait.filter(|&w| w > now) {
                at = Some(at.map_or(w, |a| a.max(w)));
            }
        }
        at
    }

    /// Notes that a request costing `tokens` starts; returns its number.
    pub(crate) fn start(&mut self, tokens: f64) -> u64 {
        self.started += 1;
        self.in_flight.insert(self.started, tokens);
        self.in_flight_tokens += tokens;
        self.requests.budget -= 1.0;
        self.tokens.budget -= tokens;
        self.started
    }

    /// Notes the answer to request `seq`: its rate-limit headers, if any,
    /// and whether it succeeded (which grows the window).
    pub(crate) fn answered(&mut self, seq: u64, headers: Option<&HeaderMap>, success: bool) {
        self.finished(seq);
        if success {
            self.window = (self.window + 1.0 / self.window).min(self.max as f64);
        }
        let Some(h) = headers else {
            return;
        };
        let now = Instant::now();
        let wall = SystemTime::now();
        // The API may not have counted the requests still in flight (those
        // started before this one too, when they wait for a connection):
        // they are spent from what it reported.
        let pending = (self.in_flight.len() as f64, self.in_flight_tokens);
        for (lane, name, pending) in [
            (&mut self.requests, "requests", pending.0),
            (&mut self.tokens, "tokens", pending.1),
        ] {
            let Some((limit, remaining, reset)) = read_limit(h, name) else {
                continue;
            };
            lane.seen = Some(seq);
            let until = reset
                .and_then(|r| r.duration_since(wall).ok())
                .unwrap_or(Duration::ZERO);
            // The API's limits are per minute. A bucket that is visibly
            // refilling says its own window (the emulator's faster clocks):
            // `until * limit / used`. Delays on the way only shorten
            // `until`, so the longest window seen is the best estimate.
            let used = limit - remaining;
            if used >= 5.0 && until > Duration::from_millis(1) {
                let window = until.as_secs_f64() * limit / used;
                lane.window = lane.window.max(window).min(60.0);
            }
            let window = if lane.window > 0.0 { lane.window } else { 60.0 };
            lane.rate = limit / window;
            // Answers arrive out of order: an older one reports more left.
            // The latest "full at" time seen says the most, and, with the
            // refill since, what the bucket holds now.
            let mut level = remaining;
            if reset.is_some() {
                let full_at = now + until;
                let full_at = lane.reset_at.map_or(full_at, |f| f.max(full_at));
                lane.reset_at = Some(full_at);
                let left = full_at.saturating_duration_since(now).as_secs_f64();
                level = level.min(limit - lane.rate * left);
            }
            lane.budget = level - pending;
            lane.updated = Some(now);
        }
    }

    /// Notes that request `seq` was refused for rate (429) or overload
    /// (529): pauses every start for `wait`, halves the window (once per
    /// round), and spends the header budgets.
    pub(crate) fn throttled(&mut self, seq: u64, wait: Duration, now: Instant) {
        self.finished(seq);
        let until = now + wait;
        self.paused_until = Some(self.paused_until.map_or(until, |p| p.max(until)));
        if seq > self.cut_after {
            self.window = (self.window / 2.0).max(1.0);
            self.cut_after = self.started;
        }
        for lane in [&mut self.requests, &mut self.tokens] {
            if lane.seen.is_some() {
                lane.budget = lane.budget.min(0.0);
                lane.updated = Some(until);
            }
        }
    }
}

impl Pacer {
    fn finished(&mut self, seq: u64) {
        if let Some(tokens) = self.in_flight.remove(&seq) {
            self.in_flight_tokens = (self.in_flight_tokens - tokens).max(0.0);
        }
    }
}

/// `anthropic-ratelimit-{name}-{limit,remaining,reset}`.
fn read_limit(h: &HeaderMap, name: &str) -> Option<(f64, f64, Option<SystemTime>)> {
    let get = |suffix: &str| {
        h.get(format!("anthropic-ratelimit-{name}-{suffix}"))
            .and_then(|v| v.to_str().ok())
    };
    let limit = get("limit")?.trim().parse::<f64>().ok()?;
    let remaining = get("remaining")?.trim().parse::<f64>().ok()?;
    let reset = get("reset").and_then(parse_rfc3339);
    (limit > 0.0 && remaining >= 0.0).then_some((limit, remaining, reset))
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)`.
pub(crate) fn parse_rfc3339(s: &str) -> Option<SystemTime> {
    let s = s.trim().as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if s.get(4) != Some(&b'-')
        || s.get(7) != Some(&b'-')
        || !matches!(s.get(10), Some(b'T' | b't' | b' '))
    {
        return None;
    }
    let mut i = 19;
    let mut frac = 0.0;
    if s.get(i) == Some(&b'.') {
        let start = i + 1;
        i = start;
        while s.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        frac = std::str::from_utf8(&s[start - 1..i])
            .ok()?
            .parse::<f64>()
            .ok()?;
    }
    let offset = match s.get(i..)? {
        b"Z" | b"z" => 0,
        [sign @ (b'+' | b'-'), ..] if s.len() == i + 6 => {
            let o = num(i + 1..i + 3)? * 3600 + num(i + 4..i + 6)? * 60;
            if *sign == b'+' { o } else { -o }
        }
        _ => return None,
    };
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    let secs = days_from_civil(y, mo, d) * 86_400 + hh * 3600 + mm * 60 + ss - offset;
    let secs = u64::try_from(secs).ok()?;
    Some(UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_secs_f64(frac))
}

/// Formats a time as RFC 3339 UTC to the second.
pub(crate) fn format_rfc3339(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) as i64;
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

// Howard Hinnant's civil calendar algorithms.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}
