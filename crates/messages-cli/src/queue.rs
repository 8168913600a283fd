//! `msgs queue ...` and `msgs worker`: background jobs on Redis Streams or
//! the embedded local store (messages-queue).

use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Subcommand};
use messages_queue::{
    Callbacks, Coordinator, LocalQueue, Queue, QueueConfig, RateLimit, RedisQueue, Worker,
    read_jobs,
};

use crate::cli::Global;
use crate::error::{CliError, EXIT_INTERRUPTED};

/// Where the queue is: Redis, or a local directory.
#[derive(Debug, Args, Clone)]
pub(crate) struct QueueAt {
    /// The Redis URL (redis://HOST:PORT/DB) of a queue shared by many
    /// machines (default: MSGS_REDIS_URL). Without either, the embedded
    /// local store in --dir is used.
    #[arg(long, value_name = "URL")]
    pub(crate) redis: Option<String>,
    /// The directory of the embedded local store (one machine, no server).
    #[arg(long, value_name = "DIR", default_value = "msgs-queue")]
    pub(crate) dir: PathBuf,
    /// Seconds a taken job may go without its worker's heartbeat before
    /// another worker takes it.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub(crate) visibility_timeout: u64,
    /// Deliveries after which a job without a result goes to the dead
    /// letters.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub(crate) max_deliveries: u64,
    /// Jobs enqueued with a deadline at least this many hours away go
    /// through the Message Batches API (half price), run by the coordinator
    /// in `msgs worker`; 0 turns routing off.
    #[arg(long, value_name = "HOURS", default_value_t = 24)]
    pub(crate) batch_after_hours: u64,
}

impl QueueAt {
    fn config(&self) -> QueueConfig {
        QueueConfig {
            visibility_timeout: Duration::from_secs(self.visibility_timeout.max(1)),
            max_deliveries: self.max_deliveries.max(1),
            batch_after: (self.batch_after_hours > 0)
                .then(|| Duration::from_secs(self.batch_after_hours * 3600)),
        }
    }

    /// Where the queue is, for messages: the Redis URL without its
    /// credentials, or the local store's directory.
    pub(crate) fn describe(&self) -> String {
        match self.redis.clone().or_else(|| env("MSGS_REDIS_URL")) {
            Some(url) => format!("queue on redis {}", redact(&url)),
            None => format!("local queue in {}", self.dir.display()),
        }
    }

    pub(crate) async fn open(&self) -> Result<Arc<dyn Queue>, CliError> {
        let cfg = self.config();
        let redis = self.redis.clone().or_else(|| env("MSGS_REDIS_URL"));
        Ok(match &redis {
            Some(url) => Arc::new(RedisQueue::connect(url, cfg).await.map_err(queue_err)?),
            None => Arc::new(LocalQueue::open(&self.dir, cfg).map_err(queue_err)?),
        })
    }
}

/// `redis://user:secret@host/` without `user:secret@`.
fn redact(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let (auth, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            let host = auth.rsplit_once('@').map_or(auth, |(_, h)| h);
            format!("{scheme}://{host}{path}")
        }
        None => url.to_owned(),
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn queue_err(e: messages_queue::Error) -> CliError {
    if e.is_input() {
        CliError::input(e.to_string())
    } else {
        CliError::other(e.to_string())
    }
}

/// `msgs queue`.
#[derive(Debug, Subcommand)]
pub(crate) enum QueueCommand {
    /// Enqueues the jobs of a JSONL file: the lines of `msgs run`
    /// ({"custom_id", "params"}) plus optional "priority"
    /// ("interactive" | "background"), "deadline" (Unix seconds or RFC 3339
    /// UTC), "callback" (http:// URL) and "metadata". The whole file is
    /// checked first; a job id already queued is skipped.
    Enqueue(EnqueueArgs),
    /// Counts per lane and state, workers alive, throughput, rate-limit
    /// headroom.
    Status(QueueOnly),
    /// One job: its state, deliveries, last error, callback, result.
    Show(ShowArgs),
    /// Writes every stored result as JSONL (the batch results format).
    Results(ResultsArgs),
    /// Lists the dead letters; --redrive puts jobs back in their lane.
    DeadLetters(DeadArgs),
    /// Serves a live page of the queue (jobs by state over time,
    /// throughput, error types, tokens and estimated cost, workers alive,
    /// rate-limit headroom), updated over server-sent events, until Ctrl-C.
    Dashboard(crate::dashboard::DashboardArgs),
}

#[derive(Debug, Args)]
pub(crate) struct QueueOnly {
    #[command(flatten)]
    pub(crate) at: QueueAt,
}

#[derive(Debug, Args)]
pub(crate) struct EnqueueArgs {
    /// The job file (JSONL).
    pub(crate) file: PathBuf,
    #[command(flatten)]
    pub(crate) at: QueueAt,
}

#[derive(Debug, Args)]
pub(crate) struct ShowArgs {
    /// The job id.
    pub(crate) id: String,
    #[command(flatten)]
    pub(crate) at: QueueAt,
}

#[derive(Debug, Args)]
pub(crate) struct ResultsArgs {
    /// Where the results go (`-` for stdout).
    #[arg(short, long, value_name = "FILE")]
    pub(crate) output: PathBuf,
    #[command(flatten)]
    pub(crate) at: QueueAt,
}

#[derive(Debug, Args)]
pub(crate) struct DeadArgs {
    /// Puts these dead jobs back in their lane (repeatable).
    #[arg(long, value_name = "ID")]
    pub(crate) redrive: Vec<String>,
    /// Puts every dead job back.
    #[arg(long, conflicts_with = "redrive")]
    pub(crate) redrive_all: bool,
    #[command(flatten)]
    pub(crate) at: QueueAt,
}

/// `msgs worker`.
#[derive(Debug, Args)]
pub(crate) struct WorkerArgs {
    #[command(flatten)]
    pub(crate) at: QueueAt,
    /// Jobs in flight in this process.
    #[arg(long, default_value_t = 8)]
    pub(crate) concurrency: usize,
    /// The fleet's requests per minute (shared by every worker of the
    /// queue; 0: none).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub(crate) rpm: u64,
    /// The fleet's tokens per minute (0: none).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub(crate) tpm: u64,
    /// The secret callbacks are signed with (HMAC-SHA256; see the
    /// msgs-signature header in messages-queue's docs). Default:
    /// MSGS_CALLBACK_SECRET.
    #[arg(long, value_name = "SECRET")]
    pub(crate) callback_secret: Option<String>,
    /// POSTs per callback before it is recorded as failed.
    #[arg(long, value_name = "N", default_value_t = 6)]
    pub(crate) callback_attempts: u32,
    /// On Ctrl-C, wait up to this many seconds for the jobs in flight; the
    /// rest go back to the queue. A second Ctrl-C gives them back at once.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub(crate) stop_grace: u64,
    /// Do not run the batch coordinator in this process (it sends jobs
    /// routed by --batch-after-hours through the Message Batches API; one
    /// coordinator of the fleet works at a time, the others stand by).
    #[arg(long)]
    pub(crate) no_coordinator: bool,
    /// Seconds between the coordinator's passes.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub(crate) coordinator_interval: u64,
    /// Exit once no job has been available for this many seconds (for
    /// scripts; default: run until Ctrl-C).
    #[arg(long, value_name = "SECS")]
    pub(crate) exit_when_idle: Option<u64>,
    #[command(flatten)]
    pub(crate) timeout: crate::cli::TimeoutArg,
}

/// `msgs queue ...`.
pub(crate) async fn run(cmd: QueueCommand) -> Result<(), CliError> {
    match cmd {
        QueueCommand::Enqueue(args) => enqueue(args).await,
        QueueCommand::Status(args) => {
            let q = args.at.open().await?;
            println!("{}", q.status().await.map_err(queue_err)?);
            let dead = q.dead_letters().await.map_err(queue_err)?;
            println!("dead letters: {}", dead.len());
            Ok(())
        }
        QueueCommand::Show(args) => show(args).await,
        QueueCommand::Results(args) => results(args).await,
        QueueCommand::DeadLetters(args) => dead_letters(args).await,
        QueueCommand::Dashboard(args) => crate::dashboard::run(args).await,
    }
}

async fn enqueue(args: EnqueueArgs) -> Result<(), CliError> {
    let name = args.file.display().to_string();
    let f =
        File::open(&args.file).map_err(|e| CliError::input(format!("cannot open {name}: {e}")))?;
    let jobs = read_jobs(BufReader::new(f)).map_err(|e| {
        let mut err = queue_err(e);
        err.message = format!("{name}: {}", err.message);
        err
    })?;
    let q = args.at.open().await?;
    let (mut added, mut skipped) = (0u64, 0u64);
    for job in &jobs {
        if q.enqueue(job).await.map_err(queue_err)? {
            added += 1;
        } else {
            skipped += 1;
        }
    }
    eprintln!("{added} jobs enqueued, {skipped} already in the queue");
    Ok(())
}

async fn show(args: ShowArgs) -> Result<(), CliError> {
    let q = args.at.open().await?;
    let Some(info) = q.job(&args.id).await.map_err(queue_err)? else {
        return Err(CliError::input(format!("no job {} in the queue", args.id)));
    };
    let result = q.result(&args.id).await.map_err(queue_err)?;
    let out = serde_json::json!({
        "custom_id": info.job.id,
        "lane": info.job.lane,
        "state": info.state,
        "deliveries": info.deliveries,
        "last_error": info.last_error,
        "callback": info.callback,
        "result": result,
    });
    println!("{out}");
    Ok(())
}

async fn results(args: ResultsArgs) -> Result<(), CliError> {
    let q = args.at.open().await?;
    let to_stdout = crate::output::is_stdout(&args.output);
    // Like every `-o` output: a temporary file renamed into place once
    // complete, a write error exits 74 and leaves no partial file.
    let mut out = crate::batch::Sink::open((!to_stdout).then_some(args.output.as_path()))?;
    let mut cursor: Option<String> = None;
    let mut n = 0u64;
    let mut line_buf = Vec::new();
    loop {
        let (page, next) = q
            .results_page(cursor.as_deref(), 500)
            .await
            .map_err(queue_err)?;
        if page.is_empty() {
            break;
        }
        for line in page {
            line_buf.clear();
            serde_json::to_writer(&mut line_buf, &line)
                .map_err(|e| CliError::other(format!("encoding a result: {e}")))?;
            out.write_line(&line_buf)?;
            n += 1;
        }
        cursor = next;
    }
    out.commit()?;
    if !to_stdout {
        eprintln!("{n} results in {}", args.output.display());
    }
    Ok(())
}

async fn dead_letters(args: DeadArgs) -> Result<(), CliError> {
    let q = args.at.open().await?;
    let dead = q.dead_letters().await.map_err(queue_err)?;
    let ids: Vec<String> = if args.redrive_all {
        dead.iter().map(|d| d.id.clone()).collect()
    } else {
        args.redrive.clone()
    };
    if ids.is_empty() {
        for d in &dead {
            println!(
                "{}",
                serde_json::json!({"custom_id": d.id, "lane": d.lane, "deliveries": d.deliveries, "error": d.error})
            );
        }
        eprintln!("{} dead letters", dead.len());
        return Ok(());
    }
    let mut missing = Vec::new();
    for id in &ids {
        if !q.redrive(id).await.map_err(queue_err)? {
            missing.push(id.as_str());
        }
    }
    eprintln!("{} jobs re-driven", ids.len() - missing.len());
    if !missing.is_empty() {
        return Err(CliError::input(format!(
            "not in the dead letters: {}",
            missing.join(", ")
        )));
    }
    Ok(())
}

/// `msgs worker`.
pub(crate) async fn worker(global: &Global, args: WorkerArgs) -> Result<(), CliError> {
    let q = args.at.open().await?;
    let conn = crate::connect::connect_with(global, args.timeout.timeout).await?;
    let vis = Duration::from_secs(args.at.visibility_timeout.max(1));
    let mut worker = Worker::new(q.clone(), conn.client.transport().clone())
        .concurrency(args.concurrency)
        .rate_limit(RateLimit {
            requests_per_minute: args.rpm,
            tokens_per_minute: args.tpm,
        })
        .touch_every(vis / 3)
        .stop_grace(Duration::from_secs(args.stop_grace));
    let callbacks = args
        .callback_secret
        .clone()
        .or_else(|| env("MSGS_CALLBACK_SECRET"))
        .filter(|s| !s.is_empty())
        .map(|s| Callbacks::new(s.as_bytes()).attempts(args.callback_attempts));
    match &callbacks {
        Some(cb) => worker = worker.callbacks(cb.clone()),
        None => eprintln!(
            "msgs: no --callback-secret (MSGS_CALLBACK_SECRET): jobs with a callback URL get their callback recorded as failed"
        ),
    }
    eprintln!(
        "msgs: worker on the {}, concurrency {}; Ctrl-C stops",
        args.at.describe(),
        args.concurrency
    );
    let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
    let idle_exit = args.exit_when_idle.map(Duration::from_secs);
    let q2 = q.clone();
    let stop = async move {
        let idle = async {
            let Some(after) = idle_exit else {
                return std::future::pending().await;
            };
            let mut idle_since = tokio::time::Instant::now();
            loop {
                tokio::time::sleep(Duration::from_millis(200)).await;
                match q2.status().await {
                    Ok(st) if st.lanes.iter().all(|l| l.queued == 0 && l.running == 0) => {
                        if idle_since.elapsed() >= after {
                            return;
                        }
                    }
                    _ => idle_since = tokio::time::Instant::now(),
                }
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {
                eprintln!("msgs: stopping: waiting for the jobs in flight; Ctrl-C again to give them back now");
            }
            () = idle => {}
        }
        let _ = stopping_tx.send(());
    };
    let abandon = async move {
        if stopping_rx.await.is_err() {
            return std::future::pending().await;
        }
        let _ = tokio::signal::ctrl_c().await;
    };
    let coordinator = (!args.no_coordinator).then(|| {
        let mut c = Coordinator::new(q.clone(), conn.client.batches().into_inner())
            .interval(Duration::from_secs(args.coordinator_interval.max(1)))
            .lease(Duration::from_secs((args.coordinator_interval * 4).max(10)));
        if let Some(cb) = &callbacks {
            c = c.callbacks(cb.clone());
        }
        tokio::spawn(async move { c.run_until(std::future::pending()).await })
    });
    let report = tokio::select! {
        r = worker.run_until(stop) => r,
        () = abandon => {
            return Err(CliError::new(
                EXIT_INTERRUPTED,
                "interrupted: jobs in flight return to the queue after the visibility timeout",
            ));
        }
    };
    // The coordinator's state is all in the queue: stopping it anywhere is safe.
    if let Some(c) = coordinator {
        c.abort();
    }
    let report = report.map_err(|e| CliError::new(1, e.to_string()))?;
    let secs = report.active.as_secs_f64();
    let rate = if secs > 0.0 {
        report.stored as f64 / secs
    } else {
        0.0
    };
    eprintln!(
        "msgs: worker stopped: {} results stored in {secs:.2} s of work ({rate:.1} jobs/s), {} duplicates dropped, {} retryable failures, {} callbacks delivered, {} failed",
        report.stored,
        report.duplicates,
        report.retried,
        report.callbacks_delivered,
        report.callbacks_failed
    );
    drop(conn);
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn redact_drops_credentials() {
        assert_eq!(super::redact("redis://:pw@h:1/0"), "redis://h:1/0");
        assert_eq!(super::redact("redis://u:p@w@h"), "redis://h");
        assert_eq!(super::redact("rediss://h:6379/"), "rediss://h:6379/");
        assert_eq!(super::redact("h:6379"), "h:6379");
    }
}
