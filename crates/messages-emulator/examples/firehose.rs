//! Measures the emulator's firehose rate with a raw socket reader.
//!
//! ```text
//! cargo run --release -p messages-emulator --example firehose [DELTAS] [RUNS]
//! ```
//!
//! Starts an emulator in-process on loopback, sends one streaming request
//! with `x-emulator-firehose: DELTAS` over a plain `std::net::TcpStream`, and
//! reads the response into a 64 KiB buffer without parsing it: the fastest a
//! client could possibly consume the stream. Prints bytes/s and events/s.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use messages_emulator::Emulator;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let deltas: u64 = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(2_000_000);
    let runs: u32 = args.next().map(|a| a.parse()).transpose()?.unwrap_or(5);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let emulator = runtime.block_on(
        Emulator::builder()
            .token_delay(Duration::ZERO)
            .request_log(false)
            .start(),
    )?;
    let addr = emulator.local_addr();
    let body = r#"{"model":"claude-sonnet-4-6","max_tokens":1024,"stream":true,"messages":[{"role":"user","content":"firehose"}]}"#;
    let request = format!(
        "POST /v1/messages HTTP/1.1\r\nhost: {addr}\r\nx-api-key: bench\r\ncontent-type: application/json\r\n\
         x-emulator-firehose: {deltas}\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut best = f64::MAX;
    let mut bytes_total = 0u64;
    for run in 0..runs {
        let mut sock = TcpStream::connect(addr)?;
        let t0 = Instant::now();
        sock.write_all(request.as_bytes())?;
        let mut buf = vec![0u8; 64 * 1024];
        let mut n = 0u64;
        loop {
            let got = sock.read(&mut buf)?;
            if got == 0 {
                break;
            }
            n += got as u64;
        }
        let secs = t0.elapsed().as_secs_f64();
        bytes_total = n;
        println!(
            "run {run}: {n} bytes in {secs:.3} s = {:.0} MiB/s, {:.2} M events/s",
            n as f64 / secs / (1024.0 * 1024.0),
            deltas as f64 / secs / 1e6
        );
        best = best.min(secs);
    }
    println!(
        "best of {runs}: {deltas} deltas, {bytes_total} bytes in {best:.3} s = {:.0} MiB/s, {:.2} M events/s",
        bytes_total as f64 / best / (1024.0 * 1024.0),
        deltas as f64 / best / 1e6
    );
    runtime.block_on(emulator.shutdown());
    Ok(())
}
