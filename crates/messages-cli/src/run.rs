//! `msgs run`: the local runner with a checkpoint.

use std::path::PathBuf;
use std::time::Duration;

use messages::batch::LocalRunner;

use crate::cli::{Global, RunArgs};
use crate::error::{CliError, EXIT_INTERRUPTED, check_all_succeeded};
use crate::{input, output, progress};

/// `msgs run`.
pub(crate) async fn run(global: &Global, args: RunArgs) -> Result<(), CliError> {
    let job = input::read_job(&args.input)?;
    let to_stdout = output::is_stdout(&args.output);
    let checkpoint = match &args.checkpoint {
        Some(c) => c.clone(),
        None => {
            let base = if to_stdout {
                if output::is_stdout(&args.input.file) {
                    return Err(CliError::input(
                        "with the job on stdin and -o -, give the checkpoint path with --checkpoint",
                    ));
                }
                &args.input.file
            } else {
                &args.output
            };
            let mut p = base.as_os_str().to_owned();
            p.push(".checkpoint");
            PathBuf::from(p)
        }
    };
    // Before the first request: a bad -o is found now, not after the work.
    output::check(&args.output)?;
    let conn = crate::connect::connect_with(global, args.timeout.timeout).await?;
    let bar = progress::bar("run");
    let b = bar.clone();
    let runner = LocalRunner::new(conn.client.transport().clone())
        .concurrency(args.concurrency)
        .retry_errored(!args.no_retry_errors)
        .rerun_changed(args.rerun_changed)
        .max_wait(Duration::from_secs(args.max_wait))
        .stop_grace(Duration::from_secs(args.stop_grace))
        .on_progress(move |p| progress::update(&b, p, true));
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
        // A checkpoint error (locked, or another job's) and changed
        // requests are not resumed by running the same command again; a
        // run-wide or rate-limit stop already says where the results are;
        // a checkpoint that could not be created holds nothing.
        let resumable = !e.is_checkpoint()
            && !e.is_changed()
            && !e.is_run_wide()
            && !e.is_rate_limited()
            && checkpoint.is_file();
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
    let (written, place) = if to_stdout {
        let stdout = std::io::stdout().lock();
        let n =
            messages::batch::write_output_to(&job, &checkpoint, std::io::BufWriter::new(stdout))
                .map_err(|e| {
                    let source = std::error::Error::source(&e);
                    match source.and_then(|s| s.downcast_ref::<std::io::Error>()) {
                        // A closed stdout (`| head`) ends the command quietly.
                        Some(io) if io.kind() == std::io::ErrorKind::BrokenPipe => {
                            CliError::new(0, "")
                        }
                        _ => CliError::from(e),
                    }
                })?;
        (n, String::from("stdout"))
    } else {
        let n = runner
            .write_output(&job, &checkpoint, &args.output)
            .map_err(|e| {
                // Writing the output failed (disk full...): not an input error.
                if e.is_io() {
                    CliError::new(crate::output::EXIT_WRITE, crate::error::chain(&e))
                } else {
                    CliError::from(e)
                }
            })?;
        (n, args.output.display().to_string())
    };
    eprintln!(
        "{written} results in {place} ({} resumed from the checkpoint, {} sent now, {} of them retries of retryable errors, {} of changed requests)",
        report.resumed, report.sent, report.retried, report.changed
    );
    eprintln!("{}", report.summary);
    check_all_succeeded(&report.summary, &place)
}
