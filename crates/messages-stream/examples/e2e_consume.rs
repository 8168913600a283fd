//! One consumer of the end-to-end streaming benchmark (`cargo xtask bench-e2e`).
//!
//! ```text
//! e2e_consume BASE_URL N MODE
//! ```
//!
//! Streams a firehose of `N` text deltas (`x-emulator-firehose: N`) from a
//! running `messages-emulator` and prints one JSON line:
//! `{"events": N, "secs": wall, "cpu_secs": user+sys, "max_rss_kb": VmHWM}`.
//!
//! MODE is one of:
//! - `text`: iterate [`MessageStream::text_deltas`], counting deltas and
//!   bytes without keeping the text (the caller does not accumulate);
//! - `final`: [`MessageStream::final_text`];
//! - `raw`: no client at all: a plain `std::net::TcpStream` reads the
//!   response into a 64 KiB buffer without parsing it. This is the fastest
//!   any client could consume the stream: it measures the emulator alone.
//!
//! A small warm-up stream runs first (so one-time costs such as the
//! connection are not timed); the timed part is the request and the whole
//! response. CPU time comes from `/proc/self/task/*/sched` (or
//! `/proc/self/stat`, in 10 ms clock ticks, where that is missing) and peak RSS from `/proc/self/status` (`VmHWM`), so this runs on
//! Linux only. The result is checked (exactly `N` deltas, the exact text
//! length); any mismatch exits non-zero.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::ExitCode;
use std::time::Instant;

use futures_util::StreamExt;
use http::{HeaderName, HeaderValue};
use messages_http::Transport;
use messages_stream::{MessageStream, StreamOptions};
use messages_types::MessageRequest;

/// The emulator's firehose repeats this delta.
const DELTA: &str = " token";
const WARM_UP: u64 = 1_000;

type BoxError = Box<dyn std::error::Error>;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("e2e_consume: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [base_url, n, mode] = args.as_slice() else {
        return Err("usage: e2e_consume BASE_URL N text|final|raw".into());
    };
    let n: u64 = n
        .parse()
        .map_err(|e| format!("N: `{n}` is not a count: {e}"))?;
    let (secs, cpu_secs) = match mode.as_str() {
        "raw" => {
            raw(base_url, WARM_UP)?;
            timed(|| raw(base_url, n))?
        }
        "text" | "final" => {
            // One thread, like the Python and Node consumers it is compared with.
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let transport = Transport::builder()
                .api_key("bench")
                .base_url(base_url.as_str())
                .build()?;
            let text = mode == "text";
            runtime.block_on(client(&transport, WARM_UP, text))?;
            timed(|| runtime.block_on(client(&transport, n, text)))?
        }
        other => return Err(format!("MODE: `{other}` is not text, final or raw").into()),
    };
    println!(
        "{{\"events\": {n}, \"secs\": {secs:.6}, \"cpu_secs\": {cpu_secs:.6}, \"max_rss_kb\": {}}}",
        peak_rss_kb()?
    );
    Ok(())
}

/// Wall and CPU seconds of `f`.
fn timed(f: impl FnOnce() -> Result<(), BoxError>) -> Result<(f64, f64), BoxError> {
    let cpu0 = cpu_secs()?;
    let t0 = Instant::now();
    f()?;
    let secs = t0.elapsed().as_secs_f64();
    Ok((secs, cpu_secs()? - cpu0))
}

fn request() -> MessageRequest {
    // A reply of N deltas needs room for N tokens: the stream bounds its
    // content by `max_tokens`.
    MessageRequest::new("claude-haiku-4-5", 64_000).user("firehose")
}

/// In `text` mode the snapshot does not keep the text (`discard_text`), so
/// memory stays flat however long the stream.
fn options(n: u64, text: bool) -> Result<StreamOptions, BoxError> {
    Ok(StreamOptions::new().discard_text(text).header(
        HeaderName::from_static("x-emulator-firehose"),
        HeaderValue::from_str(&n.to_string())?,
    ))
}

async fn client(transport: &Transport, n: u64, text: bool) -> Result<(), BoxError> {
    let mut stream = MessageStream::open(transport, &request(), options(n, text)?).await?;
    let (deltas, bytes) = if text {
        let mut deltas = 0u64;
        let mut bytes = 0u64;
        let mut texts = stream.text_deltas();
        while let Some(delta) = texts.next().await {
            let delta = delta?;
            if delta.as_str() != DELTA {
                return Err(
                    format!("delta {deltas}: {:?} instead of {DELTA:?}", delta.as_str()).into(),
                );
            }
            deltas += 1;
            bytes += delta.len() as u64;
        }
        if !stream.is_complete() {
            return Err("the stream ended without message_stop".into());
        }
        (deltas, bytes)
    } else {
        let message = stream.final_message().await?;
        let text: String = message
            .content
            .iter()
            .filter_map(|b| match b {
                messages_types::ContentBlock::Text(t) => Some(t.text.as_str()),
                _ => None,
            })
            .collect();
        if text.len() as u64 != n * DELTA.len() as u64 || !text.starts_with(DELTA) {
            return Err(format!("final text of {} bytes, expected {}", text.len(), n * 6).into());
        }
        (message.usage.output_tokens, text.len() as u64)
    };
    if deltas != n || bytes != n * DELTA.len() as u64 {
        return Err(format!(
            "got {deltas} deltas / {bytes} bytes, expected {n} / {}",
            n * 6
        )
        .into());
    }
    Ok(())
}

/// Reads the whole response with a plain socket, without parsing it; checks
/// only that the stream ended with `message_stop` and has the expected size
/// (at least `n` deltas' worth of bytes).
fn raw(base_url: &str, n: u64) -> Result<(), BoxError> {
    let addr = base_url
        .strip_prefix("http://")
        .ok_or_else(|| format!("BASE_URL `{base_url}` is not http://HOST:PORT"))?
        .trim_end_matches('/');
    let body = r#"{"model":"claude-haiku-4-5","max_tokens":1024,"stream":true,"messages":[{"role":"user","content":"firehose"}]}"#;
    let request = format!(
        "POST /v1/messages HTTP/1.1\r\nhost: {addr}\r\nx-api-key: bench\r\nanthropic-version: 2023-06-01\r\n\
         content-type: application/json\r\nx-emulator-firehose: {n}\r\nconnection: close\r\n\
         content-length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut sock = TcpStream::connect(addr)?;
    sock.write_all(request.as_bytes())?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    let mut tail = Vec::new();
    loop {
        let got = sock.read(&mut buf)?;
        if got == 0 {
            break;
        }
        total += got as u64;
        tail.clear();
        tail.extend_from_slice(&buf[got.saturating_sub(256)..got]);
    }
    // A text delta event is well over 100 bytes on the wire.
    if total < n * 100 || !String::from_utf8_lossy(&tail).contains("message_stop") {
        return Err(
            format!("raw read {total} bytes without a complete stream of {n} deltas").into(),
        );
    }
    Ok(())
}

/// User + system CPU seconds of this process: the sum of the threads'
/// `se.sum_exec_runtime` (nanosecond precision) when `/proc/self/task/*/sched`
/// exists (`CONFIG_SCHED_DEBUG`), otherwise `utime + stime` from
/// `/proc/self/stat` (clock ticks). The current-thread runtime keeps every
/// thread alive, so no exited thread's time is missed.
fn cpu_secs() -> Result<f64, BoxError> {
    match sched_secs() {
        Some(secs) => Ok(secs),
        None => stat_secs(),
    }
}

fn sched_secs() -> Option<f64> {
    let mut ms = 0.0;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let sched = std::fs::read_to_string(task.ok()?.path().join("sched")).ok()?;
        let line = sched
            .lines()
            .find_map(|l| l.strip_prefix("se.sum_exec_runtime"))?;
        ms += line
            .trim()
            .trim_start_matches(':')
            .trim()
            .parse::<f64>()
            .ok()?;
    }
    Some(ms / 1e3)
}

fn stat_secs() -> Result<f64, BoxError> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat
        .rsplit_once(')')
        .ok_or("/proc/self/stat without a command name")?
        .1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line; `rest` starts at field 3.
    let ticks = |i: usize| -> Result<f64, BoxError> {
        Ok(fields
            .get(i)
            .ok_or("/proc/self/stat is too short")?
            .parse::<f64>()?)
    };
    // USER_HZ is 100 on every Linux architecture.
    Ok((ticks(11)? + ticks(12)?) / 100.0)
}

/// Peak resident set size in KiB (`VmHWM` in `/proc/self/status`).
fn peak_rss_kb() -> Result<u64, BoxError> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let line = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .ok_or("no VmHWM in /proc/self/status")?;
    Ok(line.trim().trim_end_matches("kB").trim().parse()?)
}
