//! `msgs batch ...`: the Message Batches API.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use futures_util::StreamExt;
use messages::Batches;
use messages::batch::{ListParams, Summary, WaitOptions};

use crate::cli::{BatchCommand, Global, ResubmitArgs, ResultsArgs, SubmitArgs, WaitArgs};
use crate::connect::{Conn, connect};
use crate::error::{CliError, EXIT_INTERRUPTED, check_all_succeeded};
use crate::output::{TempFile, write_error};
use crate::{human, input, output, progress};

/// How often a wait polls: from half a second, growing to 10 s.
fn wait_options() -> WaitOptions {
    WaitOptions::new().interval(Duration::from_millis(500), Duration::from_secs(10))
}

/// `msgs batch SUBCOMMAND`.
pub(crate) async fn run(global: &Global, cmd: BatchCommand) -> Result<(), CliError> {
    match cmd {
        BatchCommand::Submit(args) => submit(global, args).await,
        BatchCommand::Status { id, json } => {
            let conn = persistent(global).await?;
            let batch = conn.client.batches().retrieve(&id).await?;
            if json {
                human::line(to_json(&batch)?)
            } else {
                human::line(human::batch_status(&batch))
            }
        }
        BatchCommand::Wait(args) => wait(global, args).await,
        BatchCommand::Results(args) => results(global, args).await,
        BatchCommand::List { json, limit } => {
            let conn = connect(global).await?;
            let list = conn.client.batches().list(ListParams::new());
            let mut list = std::pin::pin!(list.take(limit.unwrap_or(usize::MAX)));
            let mut all = Vec::new();
            while let Some(batch) = list.next().await {
                let batch = batch?;
                if json {
                    human::line(to_json(&batch)?)?;
                } else {
                    all.push(batch);
                }
            }
            if !json {
                human::line(human::batch_list(&all))?;
            }
            Ok(())
        }
        BatchCommand::Cancel { id, json } => {
            let conn = persistent(global).await?;
            let batch = conn.client.batches().cancel(&id).await?;
            if json {
                human::line(to_json(&batch)?)
            } else {
                human::line(human::canceled(&batch))
            }
        }
        BatchCommand::Resubmit(args) => resubmit(global, args).await,
        BatchCommand::Delete { id, json } => {
            let conn = persistent(global).await?;
            let deleted = conn.client.batches().delete(&id).await?;
            if json {
                human::line(to_json(&deleted)?)
            } else {
                human::line(format!("deleted {}", deleted.id))
            }
        }
    }
}

fn to_json(value: &impl serde::Serialize) -> Result<String, CliError> {
    serde_json::to_string(value).map_err(|e| CliError::other(format!("cannot encode JSON: {e}")))
}

/// A connection for commands that name an existing batch: refused against
/// the embedded emulator, whose batches end with the command that made them.
async fn persistent(global: &Global) -> Result<Conn, CliError> {
    let conn = connect(global).await?;
    if conn.embedded.is_some() {
        return Err(CliError::input(
            "batch ids do not outlive the embedded emulator: use `msgs batch submit --wait`, or run \
             `msgs emulator --data-dir DIR` in another terminal and set ANTHROPIC_BASE_URL and \
             ANTHROPIC_API_KEY",
        ));
    }
    Ok(conn)
}

/// `msgs batch submit`.
async fn submit(global: &Global, args: SubmitArgs) -> Result<(), CliError> {
    // Validate the whole file before anything is sent.
    let mut job = input::read_job(&args.input)?;
    if let Some(n) = args.max_requests_per_batch {
        job = job.max_requests_per_batch(n as usize);
    }
    // Before anything is submitted: a bad -o is found now, not after the
    // batch has run (and been paid for).
    let out_path = args.output.as_deref().filter(|p| !output::is_stdout(p));
    if let Some(p) = out_path {
        output::check(p)?;
    }
    let conn = connect(global).await?;
    let batches = conn.client.batches();
    let submitted = match batches.submit(&job).await {
        Ok(s) => s,
        Err(e) => {
            // Batches created before the failure run and are billed: their
            // ids go to stdout as a successful submit's do, so that a script
            // can watch or cancel them.
            for c in e.created_batches() {
                human::line(&c.batch_id)?;
            }
            return Err(e.into());
        }
    };
    for id in submitted.batch_ids() {
        human::line(id)?;
    }
    eprintln!(
        "submitted {} requests in {} batch(es)",
        job.len(),
        submitted.batch_ids().len()
    );
    if !args.wait {
        return Ok(());
    }
    let bar = progress::bar("batch");
    let b = bar.clone();
    submitted
        .wait(wait_options().on_progress(move |p| progress::update(&b, p, false)))
        .await?;
    bar.finish_and_clear();
    let mut results = submitted.results();
    let mut sink = Sink::open(out_path)?;
    while let Some(line) = results.next().await {
        let line = line?;
        sink.write_line(to_json(&line)?.as_bytes())?;
    }
    sink.commit()?;
    eprintln!("{}", results.summary());
    check_all_succeeded(results.summary(), &place(out_path))
}

/// `msgs batch resubmit`.
async fn resubmit(global: &Global, args: ResubmitArgs) -> Result<(), CliError> {
    let job = input::read_job(&args.input)?;
    let out_path = Some(args.output.as_path()).filter(|p| !output::is_stdout(p));
    if let Some(p) = out_path {
        output::check(p)?;
    }
    let conn = persistent(global).await?;
    let batches = conn.client.batches();
    let mut sink = Sink::open(out_path)?;
    let mut merged = Summary::batch();
    let mut submitted = messages::SubmittedJob::attach(batches.clone(), args.ids.clone(), &job);
    let attempts = args.attempts.max(1);
    let mut attempt = 1;
    loop {
        let bar = progress::bar(&format!("attempt {attempt}"));
        let b = bar.clone();
        let waited = submitted
            .wait(wait_options().on_progress(move |p| progress::update(&b, p, false)))
            .await;
        bar.finish_and_clear();
        waited?;
        let mut results = submitted.results();
        let last = attempt == attempts;
        while let Some(line) = results.next().await {
            let line = line?;
            if !last && messages::batch::is_resubmittable(&line.result) {
                continue;
            }
            merged.add(&line);
            sink.write_line(&with_attempt(&line, attempt)?)?;
        }
        let retry = results.retry_job(&job);
        if last || retry.is_empty() {
            break;
        }
        attempt += 1;
        submitted = batches.submit(&retry).await?;
        eprintln!(
            "attempt {attempt}: resubmitted {} requests in batch(es) {}",
            retry.len(),
            submitted.batch_ids().join(", ")
        );
    }
    sink.commit()?;
    eprintln!("{merged}");
    check_all_succeeded(&merged, &place(out_path))
}

/// A result line with the attempt it came from, as a last field.
fn with_attempt(
    line: &messages::types::BatchResultLine,
    attempt: u32,
) -> Result<Vec<u8>, CliError> {
    let mut out = to_json(line)?.into_bytes();
    out.pop(); // The closing brace.
    out.extend_from_slice(format!(",\"attempt\":{attempt}}}").as_bytes());
    Ok(out)
}

/// `msgs batch wait`.
async fn wait(global: &Global, args: WaitArgs) -> Result<(), CliError> {
    let conn = persistent(global).await?;
    let bar = progress::bar("batch");
    let b = bar.clone();
    let mut opts = wait_options().on_progress(move |p| progress::update(&b, p, false));
    if let Some(secs) = args.timeout {
        opts = opts.deadline(Duration::from_secs(secs));
    }
    let batch = conn.client.batches().wait(&args.id, opts).await;
    bar.finish_and_clear();
    let batch = batch?;
    eprintln!(
        "{}: {}",
        batch.id,
        messages::batch::Progress::of_batch(&batch)
    );
    Ok(())
}

/// `msgs batch results`.
async fn results(global: &Global, args: ResultsArgs) -> Result<(), CliError> {
    let out_path = args.output.as_deref().filter(|p| !output::is_stdout(p));
    if let Some(p) = out_path {
        output::check(p)?;
    }
    let conn = persistent(global).await?;
    let batches: Batches = conn.client.batches();
    let mut stream = batches.results(&args.id).await?;
    let mut sink = Sink::open(out_path)?;
    let mut summary = Summary::batch();
    let copy = async {
        while let Some(raw) = stream.next_raw().await {
            let raw = raw?;
            summary.add(&raw.decode()?);
            sink.write_line(raw.bytes())?;
        }
        Ok::<_, CliError>(())
    };
    // Ctrl-C returns an error, so the temporary file is removed.
    tokio::select! {
        copied = copy => copied?,
        _ = tokio::signal::ctrl_c() => {
            return Err(CliError::new(EXIT_INTERRUPTED, "interrupted: no results written"));
        }
    }
    sink.commit()?;
    eprintln!("{summary}");
    check_all_succeeded(&summary, &place(out_path))
}

fn place(path: Option<&Path>) -> String {
    path.map_or_else(|| String::from("stdout"), |p| p.display().to_string())
}

/// Where result lines go: stdout, or a [`TempFile`] renamed into place
/// once every line is written (removed if the command fails first).
pub(crate) struct Sink {
    out: Box<dyn Write>,
    tmp: Option<TempFile>,
}

impl Sink {
    pub(crate) fn open(path: Option<&Path>) -> Result<Sink, CliError> {
        let Some(path) = path else {
            return Ok(Sink {
                out: Box::new(std::io::BufWriter::new(std::io::stdout())),
                tmp: None,
            });
        };
        let create = |e| {
            CliError::input(format!(
                "cannot create a file beside {}: {e}",
                path.display()
            ))
        };
        let tmp = TempFile::create(path).map_err(create)?;
        let f = tmp.try_clone_file().map_err(create)?;
        Ok(Sink {
            out: Box::new(std::io::BufWriter::new(f)),
            tmp: Some(tmp),
        })
    }

    /// What is written, for error messages.
    fn what(&self) -> String {
        match &self.tmp {
            Some(t) => format!("results to {}", t.path().display()),
            None => "results to stdout".to_owned(),
        }
    }

    /// A failed write: a closed stdout ends the command quietly.
    fn error(&self, e: std::io::Error) -> CliError {
        match self.tmp {
            None => human::stdout_error(e),
            Some(_) => write_error(self.what(), e),
        }
    }

    pub(crate) fn write_line(&mut self, line: &[u8]) -> Result<(), CliError> {
        self.out
            .write_all(line)
            .and_then(|()| self.out.write_all(b"\n"))
            .map_err(|e| self.error(e))
    }

    pub(crate) fn commit(mut self) -> Result<(), CliError> {
        let what = self.what();
        if let Err(e) = self.out.flush() {
            return Err(self.error(e));
        }
        if let Some(tmp) = self.tmp.take() {
            tmp.commit().map_err(|e| write_error(what, e))?;
        }
        Ok(())
    }
}
