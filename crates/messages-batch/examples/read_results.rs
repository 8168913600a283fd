//! Streams a batch's results (or a results file) through the decoder and
//! prints how many lines and bytes it read and how fast: the client side of
//! the results benchmarks (`cargo xtask bench-batch`, peak RSS with
//! `/usr/bin/time -v`).
//!
//! ```text
//! ANTHROPIC_BASE_URL=http://127.0.0.1:PORT ANTHROPIC_API_KEY=x \
//!     cargo run --release -p messages-batch --example read_results -- BATCH_ID
//! cargo run --release -p messages-batch --example read_results -- --file results.jsonl
//! ```
//!
//! Lines are decoded into typed results and dropped, as a consumer that
//! writes them elsewhere would: memory stays bounded by the longest line.

use std::time::Instant;

use messages_batch::{Batches, read_results};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let started = Instant::now();
    let (lines, bytes) = match args.as_slice() {
        [flag, path] if flag == "--file" => {
            let mut n = 0u64;
            let mut reader = read_results(path)?;
            while let Some(raw) = reader.next_raw()? {
                std::hint::black_box(raw.decode()?);
                n += 1;
            }
            (n, reader.decoder().consumed())
        }
        [id] => {
            let batches = Batches::new(messages_http::Transport::from_env()?);
            let mut stream = batches.results(id).await?;
            let mut n = 0u64;
            let mut bytes = 0u64;
            while let Some(raw) = stream.next_raw().await {
                let raw = raw?;
                bytes += raw.bytes().len() as u64 + 1;
                std::hint::black_box(raw.decode()?);
                n += 1;
            }
            (n, bytes)
        }
        _ => return Err("usage: read_results BATCH_ID | --file PATH".into()),
    };
    let secs = started.elapsed().as_secs_f64();
    println!(
        "lines={lines} bytes={bytes} secs={secs:.3} MB/s={:.1}",
        bytes as f64 / secs / 1e6
    );
    Ok(())
}
