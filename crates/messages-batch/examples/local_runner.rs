//! Run a JSONL file of requests through the local concurrent runner, with a
//! checkpoint: stop it (Ctrl-C, or kill it) and run it again to resume.
//!
//! ```text
//! cargo run -p messages-batch --example local_runner -- \
//!     [--input IN.jsonl] [--concurrency N] [--checkpoint FILE] [--output OUT.jsonl] [--demo N]
//! ```
//!
//! Without `--input`, `--demo N` (default 200) requests are generated.
//! With `ANTHROPIC_API_KEY` unset, an in-process emulator answers (no
//! network, no key; `EMULATOR_LATENCY_MS` sets its per-request latency,
//! default 50), and the example says so. At the end it prints the
//! throughput, and the ideal `concurrency / latency` when the latency is
//! known.

use std::time::{Duration, Instant};

use messages_batch::{BatchJob, LocalRunner, write_output};
use messages_types::MessageRequest;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut input = None;
    let mut concurrency = messages_batch::DEFAULT_CONCURRENCY;
    let mut checkpoint = "local-runner.checkpoint.jsonl".to_owned();
    let mut output = "local-runner-results.jsonl".to_owned();
    let mut demo = 200usize;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--input" => input = Some(value()?),
            "--concurrency" => concurrency = value()?.parse()?,
            "--checkpoint" => checkpoint = value()?,
            "--output" => output = value()?,
            "--demo" => demo = value()?.parse()?,
            other => return Err(format!("unknown option {other}").into()),
        }
    }
    let job = match &input {
        Some(path) => BatchJob::from_jsonl(std::io::BufReader::new(std::fs::File::open(path)?))?,
        None => {
            let mut job = BatchJob::new();
            for i in 0..demo {
                job.add(
                    format!("demo-{i}"),
                    MessageRequest::new("claude-haiku-4-5", 128)
                        .user(format!("Write one sentence about the number {i}.")),
                )?;
            }
            job
        }
    };

    let mut latency = None;
    let (builder, emulator) = if std::env::var_os("ANTHROPIC_API_KEY").is_some() {
        if let Some(ms) = std::env::var("EMULATOR_LATENCY_MS")
            .ok()
            .and_then(|v| v.parse().ok())
        {
            latency = Some(Duration::from_millis(ms));
        }
        (messages_http::Transport::builder().from_env(), None)
    } else {
        let ms = std::env::var("EMULATOR_LATENCY_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(50);
        latency = Some(Duration::from_millis(ms));
        let emu = messages_emulator::Emulator::builder()
            .latency(Duration::from_millis(ms))
            .request_log(false)
            .start()
            .await?;
        eprintln!(
            "ANTHROPIC_API_KEY is not set: using the local emulator at {} ({ms} ms per request)",
            emu.base_url()
        );
        let b = messages_http::Transport::builder()
            .api_key("emulator")
            .base_url(emu.base_url());
        (b, Some(emu))
    };
    // Long runs near the rate limit: let the transport retry more.
    let transport = builder
        .max_retries(6)
        .pool_max_idle_per_host(concurrency)
        .build()?;

    let every = (job.len() / 20).max(1) as u64;
    let runner = LocalRunner::new(transport)
        .concurrency(concurrency)
        .on_progress(move |p| {
            if p.finished() % every == 0 || p.ended {
                eprintln!("  {:5.1}%  {p}", p.fraction() * 100.0);
            }
        });
    let stop = async {
        let _ = tokio::signal::ctrl_c().await;
        eprintln!("stopping: requests in flight are abandoned, the checkpoint keeps the rest");
    };
    let started = Instant::now();
    let report = runner.run_until(&job, &checkpoint, stop).await?;
    let elapsed = started.elapsed();
    eprintln!("{}", report.summary);
    let rate = report.sent as f64 / elapsed.as_secs_f64();
    eprint!(
        "sent {} requests in {elapsed:.2?} ({rate:.1} requests/s at concurrency {concurrency}",
        report.sent
    );
    match latency {
        Some(l) => {
            let ideal = concurrency as f64 / l.as_secs_f64();
            eprintln!("; ideal {ideal:.1}/s, {:.1}%)", 100.0 * rate / ideal);
        }
        None => eprintln!(")"),
    }
    if report.is_complete() {
        let n = write_output(&job, &checkpoint, &output)?;
        eprintln!("wrote {n} results to {output} (checkpoint: {checkpoint})");
    } else {
        eprintln!(
            "stopped with {} of {} done; run again with the same --checkpoint to resume",
            report.summary.total(),
            report.total
        );
    }
    if let Some(emu) = emulator {
        emu.shutdown().await;
    }
    Ok(())
}
