//! `msgs run`: the local runner with a checkpoint.

use std::path::PathBuf;
use std::time::Duration;

use messages::batch::LocalRunner;

use crate::cli::{Global, RunArgs};
use crate::connect::connect;
use crate::error::{CliError, EXIT_INTERRUPTED};
use crate::{input, progress};

/// `msgs run`.
pub(crate) async fn run(global: &Global, args: RunArgs) -> Result<(), CliError> {
    let job = input::read_job(&args.input)?;
    let checkpoint = args.checkpoint.clone().unwrap_or_else(|| {
        let mut p = args.output.as_os_str().to_owned();
        p.push(".checkpoint");
        PathBuf::from(p)
    });
    let conn = connect(global).await?;
    let bar = progress::bar("run");
    let b = bar.clone();
    let runner = LocalRunner::new(conn.client.transport().clone())
        .concurrency(args.concurrency)
        .retry_errored(!args.no_retry_errors)
        .stop_grace(Duration::from_secs(args.stop_grace))
        .on_progress(move |p| progress::update(&b, p));
    let runner = match args.max_line_bytes {
        Some(n) => runner.max_line_len(n),
        None => runner,
    };
    // The first Ctrl-C stops starting requests and lets those in flight
    // finish (up to --stop-grace); a second one abandons them.
    let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
    let b = bar.clone();
    let grace = args.stop_grace;
    let stop = async move {
        let _ = tokio::signal::ctrl_c().await;
        if grace > 0 {
            b.suspend(|| {
                eprintln!(
                    "msgs: stopping: waiting up to {grace} s for the requests in flight; Ctrl-C again to abandon them"
                );
            });
        }
        let _ = stopping_tx.send(());
    };
    let abandon = async move {
        if stopping_rx.await.is_err() {
            // The run ended without a Ctrl-C.
            return std::future::pending().await;
        }
        let _ = tokio::signal::ctrl_c().await;
    };
    let report = tokio::select! {
        report = runner.run_until(&job, &checkpoint, stop) => report,
        () = abandon => {
            bar.finish_and_clear();
            return Err(CliError::new(
                EXIT_INTERRUPTED,
                format!(
                    "interrupted: requests in flight abandoned; finished results are in {}: run the same command again to resume",
                    checkpoint.display()
                ),
            ));
        }
    };
    bar.finish_and_clear();
    let report = report.map_err(|e| {
        // A checkpoint error (locked, or another job's) is not resumable.
        let resumable = !e.is_checkpoint();
        let mut err = CliError::from(e);
        if resumable {
            err.message.push_str(&format!(
                "; finished results are in {}: run again to resume",
                checkpoint.display()
            ));
        }
        err
    })?;
    let done = report.summary.total();
    if !report.is_complete() {
        let msg = format!(
            "interrupted: {done} of {} requests have a result in {}; run the same command again to resume",
            report.total,
            checkpoint.display()
        );
        return Err(CliError::new(EXIT_INTERRUPTED, msg));
    }
    let written = runner
        .write_output(&job, &checkpoint, &args.output)
        .map_err(|e| {
            // Writing the output failed (disk full...): not an input error.
            if e.is_io() {
                CliError::new(crate::output::EXIT_WRITE, e.to_string())
            } else {
                CliError::from(e)
            }
        })?;
    eprintln!(
        "{written} results in {} ({} resumed from the checkpoint, {} sent now, {} of them retries of retryable errors)",
        args.output.display(),
        report.resumed,
        report.sent,
        report.retried
    );
    eprintln!("{}", report.summary);
    Ok(())
}
