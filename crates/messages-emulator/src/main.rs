//! The `messages-emulator` binary: see the library's crate docs for the contract.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use messages_emulator::{Emulator, EmulatorBuilder};

const USAGE: &str = "\
usage: messages-emulator [OPTIONS]

  --addr HOST:PORT          address to listen on (default 127.0.0.1:0)
  --data-dir DIR            persist batches under DIR (default: in memory)
  --api-key KEY             accept only this key (default: any non-empty key)
  --model ID                accept one more model id (repeatable)
  --models FILE.json        add the models of a models file (messages-types data/models.json format)
  --replay FILE.sse         answer every streaming POST /v1/messages with FILE, verbatim
  --token-delay-ms N        stream pacing per token (default 3; 0 = as fast as possible)
  --fault SPEC              server-wide faults in the x-emulator-fault grammar (repeatable)
  --pad-json                pad stream JSON with spaces like the real API
  --stamp-text              each paced text delta is ` t<unix micros>`, the
                            time it was written (for latency benchmarks)
  --ping-every N            a ping after every N deltas (default 25)
  --batch-pace-ms N         time to process one batch request (default 5)
  --batch-expiry-secs N     batch expiry after creation (default 86400)
  --max-body-bytes N        largest request body (default 33554432)
  --latency-ms N            delay before every response head (default 0)
  --body-timeout-secs N     time a request body may take to arrive (default 60)
  --requests-per-minute N   rate limit on POST /v1/messages (429 with retry-after)
  --tokens-per-minute N     token rate limit on POST /v1/messages (input + max_tokens)
  --rate-limit-window-ms N  the window of both limits (default 60000)
  --help                    this text

Prints `listening on http://HOST:PORT` when ready, then serves until SIGINT/SIGTERM.";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let builder = match parse(&args) {
        Ok(Some(b)) => b,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("messages-emulator: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("messages-emulator: could not start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let handle = match builder.start().await {
            Ok(h) => h,
            Err(e) => {
                eprintln!("messages-emulator: {e}");
                return ExitCode::FAILURE;
            }
        };
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "listening on {}", handle.base_url());
        let _ = out.flush();
        drop(out);
        handle.serve_until_signal().await;
        ExitCode::SUCCESS
    })
}

fn parse(args: &[String]) -> Result<Option<EmulatorBuilder>, String> {
    let mut b = Emulator::builder().request_log(false);
    let mut faults: Vec<String> = Vec::new();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let (flag, inline) = match flag.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_owned())),
            _ => (flag.as_str(), None),
        };
        if flag == "--help" || flag == "-h" {
            return Ok(None);
        }
        if flag == "--pad-json" {
            b = b.pad_json(true);
            continue;
        }
        if flag == "--stamp-text" {
            b = b.stamp_text(true);
            continue;
        }
        let mut value = || -> Result<String, String> {
            inline
                .clone()
                .or_else(|| it.next().cloned())
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        let num = |v: String| -> Result<u64, String> {
            v.parse::<u64>()
                .map_err(|_| format!("{flag}: `{v}` is not a non-negative integer"))
        };
        match flag {
            "--addr" => {
                let v = value()?;
                let addr: SocketAddr = v.parse().map_err(|_| {
                    format!("--addr: `{v}` is not HOST:PORT (an IP address and port)")
                })?;
                b = b.addr(addr);
            }
            "--data-dir" => b = b.data_dir(value()?),
            "--api-key" => b = b.api_key(value()?),
            "--model" => b = b.model(value()?),
            "--models" => {
                let path = value()?;
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| format!("--models: cannot read {path}: {e}"))?;
                messages_types::ModelCatalog::from_json(&text)
                    .map_err(|e| format!("--models: {path}: {e}"))?;
                b = b.models_json(&text);
            }
            "--replay" => {
                let path = value()?;
                let bytes = std::fs::read(&path)
                    .map_err(|e| format!("--replay: cannot read {path}: {e}"))?;
                b = b.replay(bytes);
            }
            "--token-delay-ms" => b = b.token_delay(Duration::from_millis(num(value()?)?)),
            "--fault" => {
                let v = value()?;
                messages_emulator::FaultSpec::parse(&v).map_err(|e| format!("--fault: {e}"))?;
                faults.push(v);
            }
            "--ping-every" => b = b.ping_every(num(value()?)? as usize),
            "--batch-pace-ms" => b = b.batch_pace(Duration::from_millis(num(value()?)?)),
            "--batch-expiry-secs" => b = b.batch_expiry(Duration::from_secs(num(value()?)?)),
            "--max-body-bytes" => b = b.max_body_bytes(num(value()?)? as usize),
            "--latency-ms" => b = b.latency(Duration::from_millis(num(value()?)?)),
            "--body-timeout-secs" => {
                b = b.request_body_timeout(Duration::from_secs(num(value()?)?));
            }
            "--requests-per-minute" => b = b.requests_per_minute(num(value()?)?),
            "--tokens-per-minute" => b = b.tokens_per_minute(num(value()?)?),
            "--rate-limit-window-ms" => {
                b = b.rate_limit_window(Duration::from_millis(num(value()?)?));
            }
            other => return Err(format!("unknown option `{other}`")),
        }
    }
    if !faults.is_empty() {
        b = b.fault(&faults.join("; "));
    }
    Ok(Some(b))
}
