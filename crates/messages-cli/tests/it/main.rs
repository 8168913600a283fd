//! End-to-end tests: the built `msgs` binary against the emulator on loopback.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use messages_emulator::{Emulator, EmulatorHandle};

mod batch;
mod consistency;
mod dashboard;
mod errors;
mod hostile;
mod human;
mod money;
mod queue;
mod run;
mod serve;
mod sse;
mod stream;

/// A `msgs` command aimed at `base_url` (or at nothing: no key, no URL).
fn msgs(base_url: Option<&str>) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_msgs"));
    cmd.env_remove("ANTHROPIC_API_KEY")
        .env_remove("ANTHROPIC_AUTH_TOKEN")
        .env_remove("ANTHROPIC_BASE_URL")
        .stdin(Stdio::null());
    if let Some(url) = base_url {
        cmd.env("ANTHROPIC_API_KEY", "test")
            .env("ANTHROPIC_BASE_URL", url);
    }
    cmd
}

/// Runs a command to completion off the async runtime.
async fn output(mut cmd: Command) -> Output {
    tokio::task::spawn_blocking(move || cmd.output().expect("msgs runs"))
        .await
        .expect("the blocking task finishes")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

async fn emulator() -> EmulatorHandle {
    Emulator::builder()
        .token_delay(std::time::Duration::ZERO)
        .start()
        .await
        .expect("emulator starts")
}

/// A fresh temporary directory for one test.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("msgs-it-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// A job file of `n` requests with custom_ids `q-0` ..
fn write_job(path: &Path, n: usize) {
    let mut s = String::new();
    for i in 0..n {
        s.push_str(&format!(
            r#"{{"custom_id":"q-{i}","params":{{"model":"claude-haiku-4-5","max_tokens":16,"messages":[{{"role":"user","content":"question {i}"}}]}}}}"#
        ));
        s.push('\n');
    }
    std::fs::write(path, s).expect("write job");
}

/// The custom_ids of a results JSONL file, in order.
fn custom_ids(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).expect("results file");
    text.lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("a JSON line");
            assert!(v["result"]["type"].is_string(), "a result line: {l}");
            v["custom_id"].as_str().expect("custom_id").to_owned()
        })
        .collect()
}
