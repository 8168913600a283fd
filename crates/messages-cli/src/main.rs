//! `msgs`: Claude's Messages API from a terminal.
//!
//! Stream a reply, count tokens, list models, submit a Message Batch from a
//! JSONL file, watch it with a progress bar, fetch its results, or run the
//! same file through the local concurrent runner with checkpoint/resume.
//! `msgs sse parse` turns any SSE stream into JSONL events (a debugging
//! aid), `msgs emulator` runs the local emulator and `msgs serve` the
//! browser relay with a demo chat page.
//!
//! # Where requests go
//!
//! With `ANTHROPIC_API_KEY` (or `ANTHROPIC_AUTH_TOKEN`) in the environment,
//! requests go to `ANTHROPIC_BASE_URL` or `--base-url`, else to the real API.
//! With no key and no base URL, `msgs` starts the embedded emulator on
//! loopback, says so in one line on stderr, and sends every request there:
//! a fresh checkout runs the whole flow with no key and no network. The
//! embedded emulator lives as long as the command, so batch ids do not
//! outlive it: use `msgs batch submit --wait`, or run `msgs emulator
//! --data-dir DIR` in another terminal and point `ANTHROPIC_BASE_URL` at it.
//!
//! # Exit codes
//!
//! | code | meaning |
//! |------|---------|
//! | 0    | success |
//! | 1    | API or transport error (the message names the request id when there is one) |
//! | 2    | usage or input error: bad flags, a missing or unreadable file, an invalid JSONL line |
//! | 3    | a stream or input ended early (truncated) |
//! | 4    | a job finished, but some requests errored, expired or were canceled (`run`, `batch submit --wait`, `batch results`); the results are written |
//! | 74   | the output could not be written: disk full, a closed pipe, a failed rename (`EX_IOERR`) |
//! | 130  | interrupted (Ctrl-C); `msgs run` resumes from its checkpoint |
//!
//! Errors are printed as one line on stderr, prefixed with `msgs: `.
#![deny(missing_docs)]
#![deny(missing_debug_implementations)]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod batch;
mod cli;
mod connect;
mod dashboard;
mod emulator;
mod error;
mod human;
mod input;
mod output;
mod progress;
mod queue;
mod run;
mod serve;
mod simple;
mod sse;

#[cfg(test)]
mod tests;

use std::process::ExitCode;

use clap::Parser as _;

use crate::cli::{Cli, Command};
use crate::error::CliError;

fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.global.verbose {
        tracing_subscriber::fmt()
            .with_max_level(tracing_subscriber::filter::LevelFilter::DEBUG)
            .with_writer(std::io::stderr)
            .init();
    }
    // `sse parse` needs no runtime.
    if let Command::Sse(cli::SseCommand::Parse(args)) = &cli.command {
        return finish(sse::parse(args));
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            return finish(Err(CliError::other(format!(
                "cannot start the runtime: {e}"
            ))));
        }
    };
    let result = runtime.block_on(dispatch(cli));
    // Abandoned requests (Ctrl-C) must not delay the exit.
    runtime.shutdown_background();
    finish(result)
}

async fn dispatch(cli: Cli) -> Result<(), CliError> {
    let global = cli.global;
    if let Some(path) = &global.prices {
        let table = messages::batch::PriceTable::load(path)
            .map_err(|e| CliError::input(format!("--prices: {e}")))?;
        // The first and only install in this process.
        let _ = table.install();
    }
    match cli.command {
        Command::Stream(args) => simple::stream(&global, args).await,
        Command::CountTokens(args) => simple::count_tokens(&global, args).await,
        Command::Models(args) => simple::models(&global, args).await,
        Command::Batch(cmd) => batch::run(&global, cmd).await,
        Command::Run(args) => run::run(&global, args).await,
        Command::Emulator(args) => emulator::run(args).await,
        Command::Serve(args) => serve::run(&global, args).await,
        Command::Sse(cli::SseCommand::Parse(args)) => sse::parse(&args),
        Command::Queue(cmd) => queue::run(cmd).await,
        Command::Worker(args) => queue::worker(&global, args).await,
    }
}

fn finish(result: Result<(), CliError>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if !e.message.is_empty() {
                eprintln!("msgs: {}", e.message);
            }
            ExitCode::from(e.code)
        }
    }
}
