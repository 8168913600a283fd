//! Load generator for the relay benchmark (`benches/relay/run.sh`): N
//! concurrent browser-like SSE clients, each posting one chat and reading
//! the reply to the end.
//!
//! ```text
//! cargo run --release -p messages-relay --example load -- URL N [--emulator] [--pid PID] [--pace-ms 20] [--ramp-per-sec 10000]
//! ```
//!
//! `URL` is a relay's `POST /chat?format=simple` (or a baseline's `/chat`,
//! which speak the same `data: {"text"}` shape), or with `--emulator` the
//! emulator's `/v1/messages` (read directly, the reference). For every text
//! event, the lateness is its arrival time after the request was sent minus
//! the tokens received so far times the pace (the emulator's schedule,
//! counting one word as one token). What a relay adds is its lateness minus
//! the direct reference's at the same N. With an emulator started with
//! `--stamp-text`, every text is the time the emulator wrote it, and
//! `behind_*` is each event's arrival minus that stamp: the delay behind the
//! emulator event by event, which for a relay is what it adds plus what the
//! reader itself adds (the `behind_*` of the direct run). `--pid` samples that
//! process's RSS and CPU time from /proc. Prints one line of `key=value`.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use sse_core::Parser;

struct Args {
    url: http::Uri,
    n: usize,
    emulator: bool,
    pid: Option<u32>,
    pace: Duration,
    ramp_per_sec: usize,
}

fn args() -> Args {
    let mut it = std::env::args().skip(1);
    let url = it.next().expect("URL").parse().expect("a URL");
    let n = it.next().expect("N").parse().expect("N is a number");
    let mut a = Args {
        url,
        n,
        emulator: false,
        pid: None,
        pace: Duration::from_millis(20),
        ramp_per_sec: 10_000,
    };
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--emulator" => a.emulator = true,
            "--pid" => a.pid = it.next().and_then(|p| p.parse().ok()),
            "--pace-ms" => {
                a.pace = Duration::from_millis(it.next().and_then(|p| p.parse().ok()).unwrap_or(20))
            }
            "--ramp-per-sec" => {
                a.ramp_per_sec = it
                    .next()
                    .and_then(|p| p.parse().ok())
                    .filter(|&n: &usize| n >= 50)
                    .expect("--ramp-per-sec takes a number >= 50")
            }
            other => panic!("unknown flag {other}"),
        }
    }
    a
}

/// One stream's outcome.
#[derive(Default)]
struct Outcome {
    ok: bool,
    first: Option<Duration>,
    events: u64,
    lateness_us: Vec<i64>,
    /// For text stamped by the emulator (`--stamp-text`): arrival minus
    /// the stamp, the time the emulator wrote the event.
    behind_us: Vec<(Instant, i64)>,
    /// When the first text event arrived.
    first_at: Option<Instant>,
    /// Why the stream did not complete (printed for the first such stream).
    failure: Option<String>,
}

/// Microseconds since the Unix epoch.
fn unix_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

/// Counts word starts in `text`, carrying whether the previous text ended
/// inside a word.
fn words(text: &str, in_word: &mut bool) -> u64 {
    let mut n = 0;
    for c in text.chars() {
        if c.is_whitespace() {
            *in_word = false;
        } else if !*in_word {
            *in_word = true;
            n += 1;
        }
    }
    n
}

async fn one(url: http::Uri, emulator: bool, pace: Duration) -> Outcome {
    let mut out = Outcome::default();
    let start = Instant::now();
    let addr = format!(
        "{}:{}",
        url.host().unwrap_or("127.0.0.1"),
        url.port_u16().unwrap_or(80)
    );
    let tcp = match tokio::net::TcpStream::connect(&addr).await {
        Ok(tcp) => tcp,
        Err(e) => {
            out.failure = Some(format!("connecting to {addr}: {e}"));
            return out;
        }
    };
    let (mut send, conn) = match hyper::client::conn::http1::handshake(TokioIo::new(tcp)).await {
        Ok(h) => h,
        Err(e) => {
            out.failure = Some(format!("handshake: {e}"));
            return out;
        }
    };
    tokio::spawn(conn);
    let prompt = "Tell me a long story about relays and browsers";
    let body = if emulator {
        serde_json::json!({"model": "claude-haiku-4-5", "max_tokens": 500, "stream": true,
            "messages": [{"role": "user", "content": prompt}]})
    } else {
        serde_json::json!({"messages": [{"role": "user", "content": prompt}]})
    };
    let path = url.path_and_query().map_or("/", |p| p.as_str());
    let req = http::Request::post(path)
        .header("host", "bench")
        .header("content-type", "application/json")
        .header("accept", "text/event-stream")
        .header("x-api-key", "bench")
        .header("anthropic-version", "2023-06-01")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("a request");
    let res = match send.send_request(req).await {
        Ok(res) => res,
        Err(e) => {
            out.failure = Some(format!("sending the request: {e}"));
            return out;
        }
    };
    if !res.status().is_success() {
        out.failure = Some(format!("status {}", res.status()));
        return out;
    }
    let mut last_data = String::new();
    let mut body = res.into_body();
    let mut parser = Parser::new();
    let mut in_word = false;
    let mut tokens = 0u64;
    loop {
        while let Ok(Some(e)) = parser.next_event() {
            let now = Instant::now();
            let v: serde_json::Value = match serde_json::from_str(e.data()) {
                Ok(v) => v,
                Err(_) => continue,
            };
            let text = if emulator {
                v.pointer("/delta/text").and_then(|t| t.as_str())
            } else {
                v.get("text").and_then(|t| t.as_str())
            };
            if v.get("done").is_some()
                || v.get("type").and_then(|t| t.as_str()) == Some("message_stop")
            {
                out.ok = true;
            }
            let Some(text) = text else {
                // Kept for the failure report (an error event has no text);
                // text deltas, nearly every event, are not copied.
                e.data().clone_into(&mut last_data);
                continue;
            };
            out.events += 1;
            if let Some(stamp) = text.strip_prefix(" t").and_then(|t| t.parse::<i64>().ok()) {
                out.behind_us.push((now, unix_micros() - stamp));
            }
            tokens += words(text, &mut in_word);
            if out.first.is_none() {
                out.first = Some(now - start);
                out.first_at = Some(now);
            }
            // Lateness against the emulator's schedule from the request:
            // token k leaves the emulator k paces after the stream starts.
            let ideal = pace.saturating_mul(tokens as u32);
            let late = (now - start).as_micros() as i64 - ideal.as_micros() as i64;
            out.lateness_us.push(late);
        }
        match body.frame().await {
            Some(Ok(f)) => {
                if let Ok(d) = f.into_data() {
                    parser.push(d);
                }
            }
            Some(Err(e)) => {
                out.failure = Some(format!("reading the body: {e}"));
                break;
            }
            None => break,
        }
    }
    if !out.ok && out.failure.is_none() {
        out.failure = Some(format!(
            "ended without its last event; the last event without text: {last_data}"
        ));
    }
    out
}

/// A `/proc/PID/status` field in KiB.
fn status_kib(status: &str, field: &str) -> u64 {
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// The anonymous part of `pid`'s RSS in KiB: heap and stacks, without the
/// pages of the executable and libraries, which the first requests page in
/// once (about 2.6 MiB for `msgs serve`) whatever the number of streams.
fn anon_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status_kib(&status, "RssAnon:")
}

/// (RSS in KiB, CPU time in clock ticks) of `pid`.
fn proc_stats(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss = status_kib(&status, "VmRSS:");
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at ")".
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 here.
    let cpu = f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0);
    (rss, cpu)
}

fn pct(v: &[i64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let i = ((v.len() - 1) as f64 * p).round() as usize;
    v[i] as f64 / 1000.0
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let a = args();
    let (rss0, cpu0) = a.pid.map_or((0, 0), proc_stats);
    let anon0 = a.pid.map_or(0, anon_kib);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..a.n {
        tasks.spawn(one(a.url.clone(), a.emulator, a.pace));
        // Ramp up: `ramp_per_sec` connections a second, in steps of 20 ms.
        if i % (a.ramp_per_sec / 50) == a.ramp_per_sec / 50 - 1 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    // The peak RSS, sampled every 100 ms while the streams run.
    let peak_rss = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let peak_anon = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let sampler = a.pid.map(|pid| {
        let peak = std::sync::Arc::clone(&peak_rss);
        let anon = std::sync::Arc::clone(&peak_anon);
        tokio::spawn(async move {
            loop {
                peak.fetch_max(proc_stats(pid).0, std::sync::atomic::Ordering::Relaxed);
                anon.fetch_max(anon_kib(pid), std::sync::atomic::Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    });
    let mut ok = 0;
    let mut events = 0;
    let mut lateness = Vec::new();
    let mut behind = Vec::new();
    let mut firsts = Vec::new();
    let mut all_started: Option<Instant> = None;
    let mut failure = None;
    while let Some(r) = tasks.join_next().await {
        let o = r.expect("a stream task");
        ok += usize::from(o.ok);
        failure = failure.or(o.failure);
        events += o.events;
        lateness.extend(o.lateness_us);
        behind.extend(o.behind_us);
        if let Some(t) = o.first_at {
            all_started = Some(all_started.map_or(t, |a| a.max(t)));
        }
        if let Some(f) = o.first {
            firsts.push(f.as_micros() as i64);
        }
    }
    let elapsed = started.elapsed();
    if let Some(f) = failure {
        eprintln!("{} of {} streams failed; the first: {f}", a.n - ok, a.n);
    }
    let (peak, cpu) = match (a.pid, sampler) {
        (Some(pid), Some(s)) => {
            let (rss_now, cpu1) = proc_stats(pid);
            s.abort();
            let peak = peak_rss
                .load(std::sync::atomic::Ordering::Relaxed)
                .max(rss_now);
            peak_anon.fetch_max(anon_kib(pid), std::sync::atomic::Ordering::Relaxed);
            (peak, cpu1 - cpu0)
        }
        _ => (0, 0),
    };
    lateness.sort_unstable();
    // Steady state: the events after every stream had its first event, when
    // all N streams were open at once (none has ended before then when the
    // streams outlast the ramp).
    let mut steady: Vec<i64> = behind
        .iter()
        .filter(|(at, _)| all_started.is_some_and(|s| *at >= s))
        .map(|&(_, b)| b)
        .collect();
    steady.sort_unstable();
    let steady_secs = all_started.map_or(0.0, |s| {
        (started + elapsed)
            .saturating_duration_since(s)
            .as_secs_f64()
    });
    let mut behind: Vec<i64> = behind.into_iter().map(|(_, b)| b).collect();
    behind.sort_unstable();
    firsts.sort_unstable();
    let ticks = 100.0; // USER_HZ
    let cpu_ms_per_1k = if events > 0 {
        cpu as f64 / ticks * 1000.0 / (events as f64 / 1000.0)
    } else {
        f64::NAN
    };
    println!(
        "n={} ok={} events={} secs={:.1} late_p50_ms={:.1} late_p99_ms={:.1} behind_p50_ms={:.1} behind_p99_ms={:.1} behind_max_ms={:.1} steady_events={} steady_secs={:.1} steady_behind_p50_ms={:.1} steady_behind_p99_ms={:.1} steady_behind_max_ms={:.1} ttft_p50_ms={:.1} ttft_p99_ms={:.1} rss0_kib={} peak_rss_kib={} rss_per_stream_kib={:.1} anon_per_stream_kib={:.1} cpu_ms_per_1k_events={:.1}",
        a.n,
        ok,
        events,
        elapsed.as_secs_f64(),
        pct(&lateness, 0.5),
        pct(&lateness, 0.99),
        pct(&behind, 0.5),
        pct(&behind, 0.99),
        pct(&behind, 1.0),
        steady.len(),
        steady_secs,
        pct(&steady, 0.5),
        pct(&steady, 0.99),
        pct(&steady, 1.0),
        pct(&firsts, 0.5),
        pct(&firsts, 0.99),
        rss0,
        peak,
        (peak.saturating_sub(rss0)) as f64 / a.n as f64,
        (peak_anon
            .load(std::sync::atomic::Ordering::Relaxed)
            .saturating_sub(anon0)) as f64
            / a.n as f64,
        cpu_ms_per_1k,
    );
}
