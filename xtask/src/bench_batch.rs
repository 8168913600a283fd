//! `cargo xtask bench-batch [MB]`: batch results end to end, this client
//! against the official Python SDK, on the same results file served by
//! `messages-emulator`.
//!
//! Writes an ended batch of about MB megabytes of realistic result lines
//! (2 to 4 KB each; default 1024 MB) straight into an emulator data
//! directory under `target/bench-batch/` (the emulator's persisted layout:
//! `batches/ID/{meta.json,requests.jsonl,results.jsonl}`), starts the
//! release emulator on it, then reads the results with
//! `messages-batch`'s `read_results` example and with the Python SDK's
//! `client.messages.batches.results(id)` iterator, each under
//! `/usr/bin/time -v`, and prints wall time, throughput and peak RSS.

use std::fs;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use crate::interop::{ANTHROPIC_PYTHON, install_sdks, path_str, start_emulator, target_dir};
use crate::{Result, cargo};

const PYTHON_READER: &str = r#"
import os, sys, time
import anthropic
client = anthropic.Anthropic(base_url=os.environ["ANTHROPIC_BASE_URL"], api_key="bench", max_retries=0, timeout=3600)
t = time.time()
n = 0
for r in client.messages.batches.results(sys.argv[1]):
    n += 1
print(f"lines={n} secs={time.time() - t:.3f}")
"#;

fn io(what: &str, p: &Path) -> impl FnOnce(std::io::Error) -> String {
    let p = p.display().to_string();
    let what = what.to_owned();
    move |e| format!("{what} {p}: {e}")
}

/// Writes an ended batch of about `mb` MB of results (the lines of
/// `benches::ResultLines`, written by the `batch_results` binary); returns
/// its id.
fn write_batch(data_dir: &Path, mb: u64) -> Result<String> {
    let id = format!("msgbatch_bench_{mb}mb");
    let dir = data_dir.join("batches").join(&id);
    if dir.join("meta.json").exists() {
        return Ok(id);
    }
    fs::create_dir_all(&dir).map_err(io("creating", &dir))?;
    let results_path = dir.join("results.jsonl");
    let writer = target_dir()
        .join("release")
        .join("batch_results")
        .display()
        .to_string();
    let out = Command::new(&writer)
        .args([path_str(&results_path)?, &mb.to_string()])
        .output()
        .map_err(|e| format!("could not start {writer}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{writer} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let lines: usize = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .map_err(|_| format!("{writer} did not print a line count"))?;
    // The emulator's persisted layout: the requests (by custom_id) and the
    // batch's metadata beside the results.
    let requests_path = dir.join("requests.jsonl");
    let mut requests =
        BufWriter::new(fs::File::create(&requests_path).map_err(io("creating", &requests_path))?);
    for n in 0..lines {
        writeln!(
            requests,
            "{{\"custom_id\":\"request-{n:06}\",\"params\":{{}}}}"
        )
        .map_err(io("writing", &requests_path))?;
    }
    requests.flush().map_err(io("writing", &requests_path))?;
    let meta = format!(
        "{{\"id\":\"{id}\",\"created_at\":1700000000.0,\"expires_at\":1700086400.0,\"ended_at\":1700000100.0,\"cancel_initiated_at\":null,\"processing_status\":\"ended\",\"seq\":0}}"
    );
    let meta_path = dir.join("meta.json");
    fs::write(&meta_path, meta).map_err(io("writing", &meta_path))?;
    eprintln!("wrote {lines} result lines to {}", results_path.display());
    Ok(id)
}

/// Runs `cmd` under `/usr/bin/time -v`; returns (stdout, wall seconds, peak RSS in KiB).
fn timed(cmd: &[&str], envs: &[(&str, &str)]) -> Result<(String, f64, u64)> {
    eprintln!("$ /usr/bin/time -v {}", cmd.join(" "));
    let started = Instant::now();
    let out = Command::new("/usr/bin/time")
        .arg("-v")
        .args(cmd)
        .envs(envs.iter().copied())
        .output()
        .map_err(|e| format!("could not start /usr/bin/time: {e}"))?;
    let secs = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!("`{}` failed: {stderr}", cmd.join(" ")));
    }
    let rss = stderr
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
        })
        .and_then(|v| v.trim().parse().ok())
        .ok_or("no peak RSS in /usr/bin/time's output")?;
    Ok((
        String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        secs,
        rss,
    ))
}

pub(crate) fn bench_batch(args: &[String]) -> Result {
    let mb: u64 = match args.first() {
        Some(a) => a
            .parse()
            .map_err(|_| format!("MB must be a number, got {a}"))?,
        None => 1024,
    };
    cargo(&[
        "build",
        "--release",
        "-p",
        "messages-emulator",
        "--bin",
        "messages-emulator",
    ])?;
    cargo(&[
        "build",
        "--release",
        "-p",
        "messages-batch",
        "--example",
        "read_results",
    ])?;
    cargo(&[
        "build",
        "--release",
        "-p",
        "benches",
        "--bin",
        "batch_results",
    ])?;
    let target = target_dir();
    let work = target.join("bench-batch");
    let id = write_batch(&work.join("data"), mb)?;

    // The official SDKs, shared with `cargo xtask interop` and `bench-e2e`.
    let (python, _node) = install_sdks(&target.join("interop"))?;
    let python_str = path_str(&python)?.to_owned();
    let script = work.join("read_results.py");
    fs::write(&script, PYTHON_READER).map_err(io("writing", &script))?;

    let bin = target.join("release").join("messages-emulator");
    let data = work.join("data");
    eprintln!("loading {mb} MB of results into the emulator");
    let (_emulator, base_url) = start_emulator(
        &bin,
        &["--data-dir", path_str(&data)?, "--batch-pace-ms", "0"],
    )?;
    let env = [
        ("ANTHROPIC_BASE_URL", base_url.as_str()),
        ("ANTHROPIC_API_KEY", "bench"),
    ];

    let reader = target.join("release").join("examples").join("read_results");
    let reader = reader.to_str().ok_or("path is not UTF-8")?.to_owned();
    let script = script.to_str().ok_or("path is not UTF-8")?.to_owned();
    let (rust_out, rust_secs, rust_rss) = timed(&[&reader, &id], &env)?;
    let (py_out, py_secs, py_rss) = timed(&[&python_str, &script, &id], &env)?;
    println!("results of {id} ({mb} MB) from {base_url}");
    println!("| reader | output | wall s | peak RSS MiB |");
    println!("|---|---|---|---|");
    println!(
        "| messages-batch read_results | {rust_out} | {rust_secs:.2} | {:.1} |",
        rust_rss as f64 / 1024.0
    );
    println!(
        "| Python SDK {ANTHROPIC_PYTHON} batches.results | {py_out} | {py_secs:.2} | {:.1} |",
        py_rss as f64 / 1024.0
    );
    println!("speed-up (wall): {:.1}x", py_secs / rust_secs);
    Ok(())
}
