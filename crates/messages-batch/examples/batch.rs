//! Submit a JSONL file of requests as a batch job, wait with progress, and
//! write the results as JSONL in input order.
//!
//! ```text
//! cargo run -p messages-batch --example batch -- [INPUT.jsonl] [OUTPUT.jsonl]
//! ```
//!
//! INPUT has one `{"custom_id": ..., "params": {...}}` per line; without it,
//! 1,000 demo requests are generated. OUTPUT defaults to
//! `batch-results.jsonl`. With `ANTHROPIC_API_KEY` unset, an in-process
//! emulator answers (no network, no key), and the example says so.

use std::io::Write;
use std::time::{Duration, Instant};

use futures_util::TryStreamExt;
use messages_batch::{BatchJob, Batches, WaitOptions};
use messages_types::MessageRequest;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let output = args.get(1).map_or("batch-results.jsonl", String::as_str);

    let job = match args.first() {
        Some(path) => BatchJob::from_jsonl(std::io::BufReader::new(std::fs::File::open(path)?))?,
        None => {
            let mut job = BatchJob::new();
            for i in 0..1_000 {
                job.add(
                    format!("demo-{i}"),
                    MessageRequest::new("claude-haiku-4-5", 128)
                        .user(format!("Write one sentence about the number {i}.")),
                )?;
            }
            job
        }
    };

    // Without a key, the in-process emulator stands in for the API.
    let (transport, emulator) = if std::env::var_os("ANTHROPIC_API_KEY").is_some() {
        (messages_http::Transport::from_env()?, None)
    } else {
        let emu = messages_emulator::Emulator::builder()
            .batch_pace(Duration::from_micros(200))
            .start()
            .await?;
        eprintln!(
            "ANTHROPIC_API_KEY is not set: using the local emulator at {}",
            emu.base_url()
        );
        let t = messages_http::Transport::builder()
            .api_key("emulator")
            .base_url(emu.base_url())
            .build()?;
        (t, Some(emu))
    };
    let batches = Batches::new(transport);

    let started = Instant::now();
    let submitted = job.submit(&batches).await?;
    eprintln!(
        "submitted {} requests as {} batch(es): {}",
        job.len(),
        submitted.batch_ids().len(),
        submitted.batch_ids().join(", ")
    );
    let opts = WaitOptions::new()
        .interval(Duration::from_millis(200), Duration::from_secs(30))
        .on_progress(|p| eprintln!("  {:5.1}%  {p}", p.fraction() * 100.0));
    submitted.wait(opts).await?;

    // Results come in any order: join them to the inputs and write them in
    // input order.
    let mut results = submitted.results();
    let mut by_index = vec![None; job.len()];
    while let Some(line) = results.try_next().await? {
        let joined = job.join(line)?;
        by_index[joined.index] = Some(joined.line);
    }
    let mut out = std::io::BufWriter::new(std::fs::File::create(output)?);
    for line in by_index.into_iter().flatten() {
        serde_json::to_writer(&mut out, &line)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    eprintln!("{}", results.summary());
    eprintln!("wrote {output} in {:.1?}", started.elapsed());
    if let Some(emu) = emulator {
        emu.shutdown().await;
    }
    Ok(())
}
