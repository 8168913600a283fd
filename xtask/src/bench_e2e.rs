//! `cargo xtask bench-e2e [N]`: the end-to-end streaming benchmark.
//!
//! Builds `messages-emulator` and the `e2e_consume` example in release,
//! installs the pinned official SDKs (as `cargo xtask interop` does), starts
//! the emulator once, and streams the same firehose of `N` text deltas
//! (`x-emulator-firehose: N`, default 200,000) to each consumer, three times:
//!
//! - this client: `text_deltas()` without keeping the text, and `final_text()`;
//! - the Python SDK: `text_stream` and `get_final_message()`;
//! - the TypeScript SDK: iterating the stream's events and `finalMessage()`;
//! - a raw socket reader that does not parse (the emulator alone);
//! - the `msgs` CLI as a whole process, `msgs stream` with the firehose
//!   header, timed from spawn to exit (startup, connection, parsing and
//!   writing the text to a pipe included), against the TypeScript SDK's
//!   in-process stream time.
//!
//! Every consumer is a separate process that checks what it received and
//! prints `{"events", "secs", "cpu_secs", "max_rss_kb"}` for the timed
//! stream (after a small warm-up). The task prints the medians as a table,
//! the ratios against the targets, and this client's peak RSS at `N` and
//! `4 N` deltas (it must stay flat when the caller does not accumulate).
//! Slow (the Python SDK takes tens of seconds per run), so not part of `ci`.

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::interop::{install_sdks, path_str, start_emulator, target_dir};
use crate::{Result, cargo, project_root};

const DEFAULT_DELTAS: u64 = 200_000;
const RUNS: usize = 3;
/// Where the consumer script is copied, so that it resolves the SDK.
const NODE_SCRIPT: &str = "bench_e2e_consume.mjs";

/// One consumer: a program, the arguments before `BASE_URL N MODE`, the mode.
struct Consumer {
    name: &'static str,
    program: PathBuf,
    pre_args: Vec<String>,
    dir: PathBuf,
    mode: &'static str,
}

/// Medians of a consumer's runs.
struct Row {
    name: &'static str,
    events: u64,
    secs: f64,
    cpu_secs: f64,
    max_rss_kb: f64,
}

impl Row {
    fn events_per_sec(&self) -> f64 {
        self.events as f64 / self.secs
    }

    fn cpu_per_100k(&self) -> f64 {
        self.cpu_secs * 100_000.0 / self.events as f64
    }
}

pub(crate) fn bench_e2e(args: &[String]) -> Result {
    let n: u64 = match args.first() {
        Some(a) => a
            .parse()
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| format!("N: `{a}` is not a positive number of deltas"))?,
        None => DEFAULT_DELTAS,
    };
    let root = project_root();
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
        "messages-stream",
        "--example",
        "e2e_consume",
    ])?;
    cargo(&["build", "--release", "-p", "messages-cli", "--bin", "msgs"])?;
    let target = target_dir();
    let exe = std::env::consts::EXE_SUFFIX;
    let release = target.join("release");
    let emulator_bin = release.join(format!("messages-emulator{exe}"));
    let rust = release.join("examples").join(format!("e2e_consume{exe}"));
    let (python, node) = install_sdks(&target.join("interop"))?;
    let scripts = root.join("benches").join("e2e");
    fs::copy(scripts.join("consume.mjs"), node.join(NODE_SCRIPT))
        .map_err(|e| format!("copying consume.mjs: {e}"))?;
    let py_script = path_str(&scripts.join("consume.py"))?.to_owned();

    let (emulator, base_url) = start_emulator(&emulator_bin, &["--token-delay-ms", "0"])?;
    let rust_consumer = |name, mode| Consumer {
        name,
        program: rust.clone(),
        pre_args: vec![],
        dir: root.clone(),
        mode,
    };
    let python_consumer = |name, mode| Consumer {
        name,
        program: python.clone(),
        pre_args: vec![py_script.clone()],
        dir: root.clone(),
        mode,
    };
    let node_consumer = |name, mode| Consumer {
        name,
        program: PathBuf::from("node"),
        pre_args: vec![NODE_SCRIPT.to_owned()],
        dir: node.clone(),
        mode,
    };
    let consumers = [
        rust_consumer("Rust text_deltas()", "text"),
        rust_consumer("Rust final_text()", "final"),
        python_consumer("Python text_stream", "text_stream"),
        python_consumer("Python get_final_message()", "get_final_message"),
        node_consumer("TypeScript for await (events)", "text"),
        node_consumer("TypeScript finalMessage()", "finalMessage"),
        rust_consumer("raw socket (emulator alone)", "raw"),
    ];
    let mut rows = Vec::new();
    for consumer in &consumers {
        rows.push(measure(consumer, &base_url, n)?);
    }
    let rows: [Row; 7] = rows
        .try_into()
        .map_err(|_| "one row per consumer".to_owned())?;
    let long = measure(
        &rust_consumer("Rust text_deltas(), 4 N", "text"),
        &base_url,
        4 * n,
    )?;
    let msgs = measure_msgs(&release.join(format!("msgs{exe}")), &base_url, n)?;
    drop(emulator);

    print_report(&rows, &long, n);
    let typescript = fastest(&rows[4], &rows[5]);
    let ratio = typescript.secs / msgs;
    let verdict = if ratio >= 3.0 { "met" } else { "NOT met" };
    println!(
        "- the msgs process, start to exit ({msgs:.3} s, median of {RUNS}), vs the fastest TypeScript in process ({}, {:.3} s): {ratio:.1}x faster (target >= 3x: {verdict})",
        typescript.name, typescript.secs
    );
    Ok(())
}

/// Runs `msgs stream` on a firehose of `n` deltas [`RUNS`] times, its text
/// read from a pipe, and returns the median wall time from spawn to exit.
fn measure_msgs(msgs: &std::path::Path, base_url: &str, n: u64) -> Result<f64> {
    let header = format!("x-emulator-firehose: {n}");
    let mut secs = Vec::new();
    for run in 1..=RUNS {
        let start = std::time::Instant::now();
        let output = Command::new(msgs)
            .args(["stream", "--max-tokens", "64000", "-H", &header, "hi"])
            .env("ANTHROPIC_API_KEY", "bench")
            .env("ANTHROPIC_BASE_URL", base_url)
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .map_err(|e| format!("could not start {}: {e}", msgs.display()))?;
        let s = start.elapsed().as_secs_f64();
        // " token" per delta, then a newline.
        let expected = n as usize * " token".len() + 1;
        if !output.status.success() || output.stdout.len() != expected {
            return Err(format!(
                "msgs stream failed ({}) or printed {} bytes, not {expected}",
                output.status,
                output.stdout.len()
            ));
        }
        eprintln!(
            "msgs stream process run {run}/{RUNS}: {n} deltas in {s:.3} s = {:.0} events/s",
            n as f64 / s
        );
        secs.push(s);
    }
    Ok(median(secs))
}

/// Runs `consumer` [`RUNS`] times and returns the median of each figure.
fn measure(consumer: &Consumer, base_url: &str, n: u64) -> Result<Row> {
    let mut secs = Vec::new();
    let mut cpu = Vec::new();
    let mut rss = Vec::new();
    for run in 1..=RUNS {
        let (s, c, r) = run_once(consumer, base_url, n)?;
        eprintln!(
            "{} run {run}/{RUNS}: {n} deltas in {s:.3} s = {:.0} events/s, {c:.3} CPU s, {:.1} MiB peak RSS",
            consumer.name,
            n as f64 / s,
            r / 1024.0
        );
        secs.push(s);
        cpu.push(c);
        rss.push(r);
    }
    Ok(Row {
        name: consumer.name,
        events: n,
        secs: median(secs),
        cpu_secs: median(cpu),
        max_rss_kb: median(rss),
    })
}

fn run_once(consumer: &Consumer, base_url: &str, n: u64) -> Result<(f64, f64, f64)> {
    let n_arg = n.to_string();
    let mut args: Vec<&str> = consumer.pre_args.iter().map(String::as_str).collect();
    args.extend([base_url, &n_arg, consumer.mode]);
    let shown = format!("{} {}", consumer.program.display(), args.join(" "));
    let output = Command::new(&consumer.program)
        .args(&args)
        .current_dir(&consumer.dir)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("could not start `{shown}`: {e}"))?;
    if !output.status.success() {
        return Err(format!("`{shown}` failed with {}", output.status));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .ok_or_else(|| format!("`{shown}` printed nothing"))?;
    let events = field(line, "events")?;
    if events != n as f64 {
        return Err(format!("`{shown}` reported {events} events: {line}"));
    }
    Ok((
        field(line, "secs")?,
        field(line, "cpu_secs")?,
        field(line, "max_rss_kb")?,
    ))
}

/// The number after `"key":` in a one-line JSON object.
fn field(line: &str, key: &str) -> Result<f64> {
    let quoted = format!("\"{key}\"");
    let start = line
        .find(&quoted)
        .ok_or_else(|| format!("no {quoted} in the consumer's output: {line}"))?;
    let rest = line[start + quoted.len()..]
        .trim_start()
        .strip_prefix(':')
        .ok_or_else(|| format!("{quoted} without a value: {line}"))?
        .trim_start();
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E')))
        .unwrap_or(rest.len());
    rest[..end]
        .parse()
        .map_err(|e| format!("{quoted} is not a number ({e}): {line}"))
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn fastest<'a>(a: &'a Row, b: &'a Row) -> &'a Row {
    if a.events_per_sec() >= b.events_per_sec() {
        a
    } else {
        b
    }
}

/// `rows` in the order of the consumers in [`bench_e2e`].
fn print_report(rows: &[Row; 7], long: &Row, n: u64) {
    println!();
    println!("End-to-end streaming: {n} text deltas per stream, median of {RUNS} runs");
    println!();
    println!("| consumer | events/s | CPU s / 100,000 events | peak RSS (MiB) |");
    println!("|---|---:|---:|---:|");
    for row in rows.iter().chain([long]) {
        let name = if row.events == n {
            row.name.to_owned()
        } else {
            format!("{} ({} deltas)", row.name, row.events)
        };
        println!(
            "| {name} | {:.0} | {:.4} | {:.1} |",
            row.events_per_sec(),
            row.cpu_per_100k(),
            row.max_rss_kb / 1024.0
        );
    }
    println!();

    let [
        rust_text,
        rust_final,
        py_text,
        py_final,
        ts_text,
        ts_final,
        raw,
    ] = rows;
    let python = fastest(py_text, py_final);
    let typescript = fastest(ts_text, ts_final);
    let client = fastest(fastest(rust_text, rust_final), fastest(python, typescript));
    let ratio = |a: &Row, b: &Row| a.events_per_sec() / b.events_per_sec();
    let target = |what: String, x: f64, goal: f64| {
        let verdict = if x >= goal { "met" } else { "NOT met" };
        println!("- {what}: {x:.1}x (target >= {goal}x: {verdict})");
    };
    target(
        format!(
            "{} vs the fastest Python ({})",
            rust_final.name, python.name
        ),
        ratio(rust_final, python),
        10.0,
    );
    target(
        format!(
            "{} vs the fastest TypeScript ({})",
            rust_final.name, typescript.name
        ),
        ratio(rust_final, typescript),
        3.0,
    );
    target(
        format!(
            "emulator (raw socket) vs the fastest client ({})",
            client.name
        ),
        ratio(raw, client),
        3.0,
    );
    println!(
        "- mode for mode: text {:.1}x Python, {:.1}x TypeScript; final {:.1}x Python, {:.1}x TypeScript",
        ratio(rust_text, py_text),
        ratio(rust_text, ts_text),
        ratio(rust_final, py_final),
        ratio(rust_final, ts_final),
    );
    println!(
        "- {} peak RSS: {:.1} MiB at {} deltas, {:.1} MiB at {} deltas ({:+.1} MiB)",
        rust_text.name,
        rust_text.max_rss_kb / 1024.0,
        rust_text.events,
        long.max_rss_kb / 1024.0,
        long.events,
        (long.max_rss_kb - rust_text.max_rss_kb) / 1024.0
    );
}
