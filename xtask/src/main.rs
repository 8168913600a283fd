//! Project automation, in the [cargo-xtask](https://github.com/matklad/cargo-xtask) style.
//!
//! ```text
//! cargo xtask ci                 fmt, clippy, tests, SDK interop, browser checks, docs, feature checks, fuzz smoke run
//! cargo xtask fuzz [SECS] [T..]  run fuzz targets (default: all, 600 s each)
//! cargo xtask bench [ARGS..]     criterion benchmarks (benches/)
//! cargo xtask interop            official Python and TypeScript SDKs against messages-emulator
//! cargo xtask browser            the relay against the AI SDK's reader, EventSource and the demo page in Chromium
//! cargo xtask bench-e2e [N]      end-to-end streaming: this client vs the official SDKs (slow)
//! ```
//!
//! Every step shells out to cargo; a failing step stops the run with its exit status.

mod bench_batch;
mod bench_e2e;
mod browser;
mod interop;
mod redis;

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// Seconds each fuzz target runs during `cargo xtask ci`.
const CI_FUZZ_SECONDS: u64 = 20;

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci(),
        Some("fuzz") => fuzz_cmd(&args[1..]),
        Some("bench") => bench(&args[1..]),
        Some("interop") => interop::interop(),
        Some("browser") => browser::browser(),
        Some("bench-batch") => bench_batch::bench_batch(&args[1..]),
        Some("bench-e2e") => bench_e2e::bench_e2e(&args[1..]),
        _ => {
            eprintln!(
                "usage: cargo xtask <ci | fuzz [SECONDS] [TARGET..] | bench [ARGS..] | interop | browser | bench-e2e [N]>"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

type Result<T = ()> = std::result::Result<T, String>;

fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the root")
        .to_path_buf()
}

/// Runs a command in `dir`, echoing it first, and fails on a non-zero exit.
fn run(dir: &Path, program: &str, args: &[&str], envs: &[(&str, &str)]) -> Result {
    eprintln!("$ {program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .current_dir(dir)
        .envs(envs.iter().copied())
        .status()
        .map_err(|e| format!("could not start {program}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "`{program} {}` failed with {status}",
            args.join(" ")
        ))
    }
}

fn cargo(args: &[&str]) -> Result {
    run(&project_root(), "cargo", args, &[])
}

fn ci() -> Result {
    cargo(&["fmt", "--all", "--", "--check"])?;
    cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--all-features",
        "--",
        "-D",
        "warnings",
    ])?;
    // Feature combinations users build: each feature alone, as cargo-hack's
    // `--each-feature` does.
    each_feature("sse-core")?;
    each_feature("messages")?;
    redis::ensure_redis()?;
    cargo(&["test", "--workspace", "--all-features"])?;
    interop::interop()?;
    browser::browser()?;
    run(
        &project_root(),
        "cargo",
        &["doc", "--workspace", "--no-deps", "--all-features"],
        &[("RUSTDOCFLAGS", "-D warnings")],
    )?;
    fuzz(CI_FUZZ_SECONDS, &[])
}

/// `cargo check -p CRATE` with no features, then with each feature of its
/// manifest alone, then with the defaults (like `cargo hack --each-feature`,
/// without installing it).
fn each_feature(krate: &str) -> Result {
    let manifest = project_root().join("crates").join(krate).join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest)
        .map_err(|e| format!("reading {}: {e}", manifest.display()))?;
    let features = manifest_features(&text);
    if features.is_empty() {
        return Err(format!("{}: no [features] table", manifest.display()));
    }
    cargo(&["check", "-p", krate, "--no-default-features"])?;
    for feature in features.iter().filter(|f| *f != "default") {
        cargo(&[
            "check",
            "-p",
            krate,
            "--no-default-features",
            "--features",
            feature,
        ])?;
    }
    cargo(&["check", "-p", krate])
}

/// The names in a manifest's `[features]` table.
fn manifest_features(manifest: &str) -> Vec<String> {
    let mut in_features = false;
    let mut names = Vec::new();
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_features = line == "[features]";
        } else if in_features
            && let Some((name, _)) = line.split_once('=')
            && !line.starts_with('#')
        {
            names.push(name.trim().to_owned());
        }
    }
    names
}

fn bench(args: &[String]) -> Result {
    let mut full = vec!["bench", "-p", "benches"];
    full.extend(args.iter().map(String::as_str));
    cargo(&full)
}

fn fuzz_cmd(args: &[String]) -> Result {
    let (seconds, targets) = match args.first().and_then(|a| a.parse::<u64>().ok()) {
        Some(s) => (s, &args[1..]),
        None => (600, args),
    };
    fuzz(seconds, targets)
}

/// Builds and runs fuzz targets on the stable toolchain (`RUSTC_BOOTSTRAP=1`),
/// installing cargo-fuzz first when it is missing.
fn fuzz(seconds: u64, targets: &[String]) -> Result {
    let fuzz_dir = project_root().join("fuzz");
    let have_fuzz = Command::new("cargo")
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !have_fuzz {
        cargo(&["install", "cargo-fuzz", "--locked"])?;
    }
    let targets: Vec<String> = if targets.is_empty() {
        let out = Command::new("cargo")
            .args(["fuzz", "list"])
            .current_dir(&fuzz_dir)
            .output()
            .map_err(|e| format!("cargo fuzz list: {e}"))?;
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .collect()
    } else {
        targets.to_vec()
    };
    if targets.is_empty() {
        return Err("no fuzz targets found".into());
    }
    let max_time = format!("-max_total_time={seconds}");
    for target in &targets {
        run(
            &fuzz_dir,
            "cargo",
            &["fuzz", "run", target, "--", &max_time, "-rss_limit_mb=2048"],
            &[("RUSTC_BOOTSTRAP", "1")],
        )?;
    }
    Ok(())
}
