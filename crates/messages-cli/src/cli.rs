//! The command line, as clap derive types.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

const LONG_ABOUT: &str = "\
Claude's Messages API from a terminal: stream a reply, count tokens, list models, run Message \
Batches and the local concurrent runner.

With ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN) set, requests go to ANTHROPIC_BASE_URL or \
--base-url, else to the real API. With no key and no base URL, msgs starts the embedded emulator \
on loopback and says so in one line on stderr. The embedded emulator lives as long as one \
command: use `msgs batch submit --wait`, or run `msgs emulator --data-dir DIR` elsewhere and set \
ANTHROPIC_BASE_URL, to use batch ids across commands.";

const EXIT_CODES: &str = "\
Exit codes:
  0    success
  1    API or transport error (the message names the request id when there is one)
  2    usage or input error: bad flags, a missing or unreadable file, an invalid JSONL line
  3    a stream or input ended early (truncated)
  4    a job finished, but some requests errored, expired or were canceled
       (run, batch submit --wait, batch results); the results are written
  74   the output could not be written: disk full, a failed rename (EX_IOERR);
       a closed stdout (`| head`) ends quietly instead
  130  interrupted (Ctrl-C); `msgs run` resumes from its checkpoint";

/// `msgs`.
#[derive(Debug, Parser)]
#[command(name = "msgs", version, about = "Claude's Messages API from a terminal", long_about = LONG_ABOUT, after_long_help = EXIT_CODES)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: Global,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Flags of every command that sends requests.
#[derive(Debug, Args, Clone, Default)]
pub(crate) struct Global {
    /// The API base URL (overrides ANTHROPIC_BASE_URL).
    #[arg(long, global = true, value_name = "URL")]
    pub(crate) base_url: Option<String>,
    /// An extra request header, `name: value` (repeatable).
    #[arg(
        short = 'H',
        long = "header",
        global = true,
        value_name = "NAME: VALUE"
    )]
    pub(crate) headers: Vec<String>,
    /// Tracing output (debug level) on stderr.
    #[arg(short, long, global = true)]
    pub(crate) verbose: bool,
    /// How long a streaming request waits for the response headers, in
    /// seconds (fractions allowed), before the attempt fails and is retried
    /// (default 60).
    #[arg(long, global = true, value_name = "SECS", value_parser = parse_secs)]
    pub(crate) header_timeout: Option<std::time::Duration>,
    /// Speak HTTP/2 from the first byte (h2c to an http:// base URL, such
    /// as the emulator); without it TLS picks HTTP/2 or 1.1 by ALPN.
    #[arg(long, global = true)]
    pub(crate) http2_prior_knowledge: bool,
    /// The most requests one HTTP/2 connection carries at once before
    /// another connection is opened (default 100).
    #[arg(long, global = true, value_name = "N")]
    pub(crate) http2_max_streams: Option<usize>,
    /// Read each HTTP/1.1 response through a buffer of exactly BYTES
    /// (at least 1024; a response head must fit in it) instead of one
    /// that grows with the traffic. `msgs serve` uses 4096, which keeps
    /// each upstream connection to about 8 KiB.
    #[arg(long, global = true, value_name = "BYTES")]
    pub(crate) http1_read_buf: Option<usize>,
    /// A prices file (the format of messages-batch's data/prices.json) for
    /// cost estimates instead of the built-in, dated table.
    #[arg(long, global = true, value_name = "FILE")]
    pub(crate) prices: Option<PathBuf>,
}

/// `--timeout SECS`, the same flag on `msgs stream`, `msgs run` and
/// `msgs worker`.
#[derive(Debug, Args, Clone, Copy, Default)]
pub(crate) struct TimeoutArg {
    /// The overall deadline of each request, in seconds (fractions
    /// allowed): retries, the response headers and the whole body, streamed
    /// or not. Setting it also lets a non-streaming request with a large
    /// --max-tokens through (without it, one expected to take over 10
    /// minutes is refused). Default: 10 minutes, and for a stream only up
    /// to its response headers (the body is then guarded by a 60 s idle
    /// timeout).
    #[arg(long, value_name = "SECS", value_parser = parse_secs)]
    pub(crate) timeout: Option<std::time::Duration>,
}

/// Seconds, fractions allowed, as a `Duration`.
fn parse_secs(s: &str) -> Result<std::time::Duration, String> {
    s.parse::<f64>()
        .ok()
        .and_then(|v| std::time::Duration::try_from_secs_f64(v).ok())
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("{s:?} is not a positive number of seconds"))
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Streams a reply: text as it arrives (or raw events with --json), then
    /// the usage and stop reason on stderr.
    Stream(StreamArgs),
    /// Counts the input tokens of a prompt.
    CountTokens(CountArgs),
    /// Lists the models, or shows one.
    Models(ModelsArgs),
    /// Message Batches: submit, status, wait, results, list, cancel.
    #[command(subcommand)]
    Batch(BatchCommand),
    /// Runs a JSONL job through the local concurrent runner, with a
    /// checkpoint: Ctrl-C stops cleanly and a rerun resumes.
    Run(RunArgs),
    /// Server-sent events tools.
    #[command(subcommand)]
    Sse(SseCommand),
    /// Runs the emulator until Ctrl-C.
    Emulator(EmulatorArgs),
    /// Background jobs: enqueue, status, results, dead letters (Redis with
    /// --redis, else the embedded local store).
    #[command(subcommand)]
    Queue(crate::queue::QueueCommand),
    /// Takes jobs from the queue and runs them until Ctrl-C.
    Worker(crate::queue::WorkerArgs),
    /// Runs the browser relay with a demo chat page until Ctrl-C.
    Serve(crate::serve::ServeArgs),
}

/// What every prompt-taking command shares.
#[derive(Debug, Args)]
pub(crate) struct PromptArgs {
    /// The prompt; `-` or nothing reads it from stdin.
    pub(crate) prompt: Option<String>,
    /// The model.
    #[arg(long, short, default_value = "claude-sonnet-4-6")]
    pub(crate) model: String,
    /// A system prompt.
    #[arg(long)]
    pub(crate) system: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct StreamArgs {
    #[command(flatten)]
    pub(crate) prompt: PromptArgs,
    /// The most tokens to generate.
    #[arg(long, default_value_t = 1024)]
    pub(crate) max_tokens: u32,
    /// Extended thinking with this token budget (less than --max-tokens).
    /// The reasoning is printed to stderr between `[thinking]` and
    /// `[/thinking]` lines as it arrives; the answer goes to stdout.
    #[arg(long, value_name = "BUDGET", conflicts_with = "adaptive_thinking")]
    pub(crate) thinking: Option<u32>,
    /// Adaptive thinking (`{"type": "adaptive"}`): the model decides how
    /// much to think. Printed like --thinking.
    #[arg(long)]
    pub(crate) adaptive_thinking: bool,
    /// Print each event's `data` exactly as it arrived, one line per event
    /// (JSONL), instead of the text.
    #[arg(long)]
    pub(crate) json: bool,
    /// When the stream breaks mid-way, continue it with a new request (the
    /// reply so far as a prefill), up to N times (default 3): one reply,
    /// no repeated text.
    #[arg(long, value_name = "N", num_args = 0..=1, default_missing_value = "3")]
    pub(crate) resume: Option<u32>,
    #[command(flatten)]
    pub(crate) timeout: TimeoutArg,
}

#[derive(Debug, Args)]
pub(crate) struct CountArgs {
    #[command(flatten)]
    pub(crate) prompt: PromptArgs,
}

#[derive(Debug, Args)]
pub(crate) struct ModelsArgs {
    /// A model id or alias to show (default: list them all).
    pub(crate) id: Option<String>,
    /// Print JSON lines instead of a table.
    #[arg(long)]
    pub(crate) json: bool,
}

/// How a JSONL job file is read.
#[derive(Debug, Args, Clone)]
pub(crate) struct JobInput {
    /// The job: JSONL lines of {"custom_id", "params"}, or plain prompts
    /// with --prompts / --template; `-` reads stdin.
    pub(crate) file: PathBuf,
    /// Each non-empty line is a plain prompt (custom_id `line-N`), sent with
    /// --model, --max-tokens and --system.
    #[arg(long)]
    pub(crate) prompts: bool,
    /// Like --prompts, with these request params (a JSON object, or @FILE)
    /// as the template; the line is appended as the last user message.
    #[arg(long, value_name = "JSON|@FILE")]
    pub(crate) template: Option<String>,
    /// The model for --prompts.
    #[arg(long, default_value = "claude-sonnet-4-6")]
    pub(crate) model: String,
    /// The most tokens per reply for --prompts.
    #[arg(long, default_value_t = 1024)]
    pub(crate) max_tokens: u32,
    /// A system prompt for --prompts.
    #[arg(long)]
    pub(crate) system: Option<String>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum BatchCommand {
    /// Validates a JSONL file and submits it (split into several batches if
    /// it is too large for one); prints the batch ids.
    Submit(SubmitArgs),
    /// Shows a batch: status, counts and times (--json: the API's JSON).
    Status {
        /// The batch id.
        id: String,
        /// Print the batch as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Waits until a batch ends, with a progress bar (counts and ETA).
    Wait(WaitArgs),
    /// Writes a batch's results as JSONL, lines verbatim.
    Results(ResultsArgs),
    /// Lists batches, newest first, as a table.
    List {
        /// Print JSON lines instead of a table.
        #[arg(long)]
        json: bool,
        /// At most this many.
        #[arg(long)]
        limit: Option<usize>,
    },
    /// Cancels a batch (an ended batch is left as it is, and msgs says so).
    Cancel {
        /// The batch id.
        id: String,
        /// Print the batch as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Deletes an ended batch and its results.
    Delete {
        /// The batch id.
        id: String,
        /// Print the API's answer as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Submits again the requests of ended batches that expired, were
    /// canceled or hit a retryable error, until each has a final result
    /// (or --attempts is reached), and writes the merged results: every
    /// custom_id once, each line with the "attempt" it came from (1: the
    /// given batches). The job file is needed because the API does not
    /// return a request's params.
    Resubmit(ResubmitArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ResubmitArgs {
    #[command(flatten)]
    pub(crate) input: JobInput,
    /// The ended batches of the job's first attempt.
    #[arg(required = true, value_name = "BATCH_ID")]
    pub(crate) ids: Vec<String>,
    /// At most this many attempts in all (the given batches are the first).
    #[arg(long, default_value_t = 3)]
    pub(crate) attempts: u32,
    /// Where the merged results go (`-`: stdout). Checked before anything
    /// is submitted.
    #[arg(short, long, value_name = "FILE")]
    pub(crate) output: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct SubmitArgs {
    #[command(flatten)]
    pub(crate) input: JobInput,
    /// Wait for the batches to end, then write the results (to -o or
    /// stdout), in the order the API returns them.
    #[arg(long)]
    pub(crate) wait: bool,
    /// With --wait: write the results here instead of stdout (`-`: stdout).
    /// Checked before the batch is submitted.
    #[arg(short, long, value_name = "FILE", requires = "wait")]
    pub(crate) output: Option<PathBuf>,
    /// Split the job into batches of at most N requests (default and
    /// maximum: the API's 100,000 per batch).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub(crate) max_requests_per_batch: Option<u32>,
}

#[derive(Debug, Args)]
pub(crate) struct WaitArgs {
    /// The batch id.
    pub(crate) id: String,
    /// Give up after this many seconds.
    #[arg(long, value_name = "SECS")]
    pub(crate) timeout: Option<u64>,
}

#[derive(Debug, Args)]
pub(crate) struct ResultsArgs {
    /// The batch id.
    pub(crate) id: String,
    /// Write here instead of stdout (replaced atomically when complete;
    /// `-`: stdout).
    #[arg(short, long, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    #[command(flatten)]
    pub(crate) input: JobInput,
    /// Requests in flight.
    #[arg(long, default_value_t = 5)]
    pub(crate) concurrency: usize,
    /// The checkpoint file (default: OUTPUT.checkpoint; with `-o -`,
    /// INPUT.checkpoint).
    #[arg(long, value_name = "PATH")]
    pub(crate) checkpoint: Option<PathBuf>,
    /// On Ctrl-C, wait up to this many seconds for the requests in flight
    /// to finish (their results are saved); a second Ctrl-C abandons them.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub(crate) stop_grace: u64,
    /// The longest retry-after to wait for; a 429/529 asking for more (a
    /// usage cap) stops the run, saying when the limit resets.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub(crate) max_wait: u64,
    /// Keep retryable errors found in the checkpoint (rate limit,
    /// overloaded, API error, timeout) as final results instead of sending
    /// those requests again.
    #[arg(long)]
    pub(crate) no_retry_errors: bool,
    /// Send again the requests whose saved result was produced by other
    /// params (the job was edited since); without it such a run is refused.
    #[arg(long)]
    pub(crate) rerun_changed: bool,
    /// Where the results go, in the job's order, once every request has one
    /// (`-`: stdout). Checked before the first request is sent.
    #[arg(short, long, value_name = "FILE")]
    pub(crate) output: PathBuf,
    /// The longest checkpoint line, in bytes: a larger result is recorded
    /// as an errored `result_too_large` result. Raise it to read a
    /// checkpoint with longer lines (default 64 MiB).
    #[arg(long, value_name = "BYTES")]
    pub(crate) max_line_bytes: Option<usize>,
    #[command(flatten)]
    pub(crate) timeout: TimeoutArg,
}

#[derive(Debug, Subcommand)]
pub(crate) enum SseCommand {
    /// Parses an SSE stream into JSONL events:
    /// {"event","data","id","retry"} (the format of sse-core's dump example).
    Parse(SseParseArgs),
}

#[derive(Debug, Args)]
pub(crate) struct SseParseArgs {
    /// The input; `-` or nothing reads stdin.
    pub(crate) file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct EmulatorArgs {
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1:0", value_name = "HOST:PORT")]
    pub(crate) addr: std::net::SocketAddr,
    /// Persist batches under DIR (default: in memory).
    #[arg(long, value_name = "DIR")]
    pub(crate) data_dir: Option<PathBuf>,
    /// Accept only this key (default: any non-empty key).
    #[arg(long)]
    pub(crate) api_key: Option<String>,
    /// Accept one more model id (repeatable).
    #[arg(long = "model", value_name = "ID")]
    pub(crate) models_extra: Vec<String>,
    /// Add the models of a models file (the format of messages-types'
    /// data/models.json).
    #[arg(long = "models", value_name = "FILE.json")]
    pub(crate) models_file: Option<PathBuf>,
    /// Answer every streaming request with this SSE file, verbatim.
    #[arg(long, value_name = "FILE.sse")]
    pub(crate) replay: Option<PathBuf>,
    /// Stream pacing per token in milliseconds.
    #[arg(long, default_value_t = 3, value_name = "MS")]
    pub(crate) token_delay_ms: u64,
    /// Pad stream JSON with spaces like the real API.
    #[arg(long)]
    pub(crate) pad_json: bool,
    /// Each paced text delta is ` t<unix micros>`, the time it was written
    /// (for latency benchmarks).
    #[arg(long)]
    pub(crate) stamp_text: bool,
    /// A ping event after every N deltas (default 25).
    #[arg(long, value_name = "N")]
    pub(crate) ping_every: Option<usize>,
    /// Time to process one batch request in milliseconds.
    #[arg(long, default_value_t = 5, value_name = "MS")]
    pub(crate) batch_pace_ms: u64,
    /// Batch expiry after creation, in seconds (default 86400).
    #[arg(long, value_name = "SECS")]
    pub(crate) batch_expiry_secs: Option<u64>,
    /// The largest request body, in bytes (default 33554432).
    #[arg(long, value_name = "N")]
    pub(crate) max_body_bytes: Option<usize>,
    /// Delay before every response head in milliseconds.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub(crate) latency_ms: u64,
    /// The time a request body may take to arrive, in seconds (default 60).
    #[arg(long, value_name = "SECS")]
    pub(crate) body_timeout_secs: Option<u64>,
    /// Server-wide faults in the x-emulator-fault grammar (repeatable).
    #[arg(long, value_name = "SPEC")]
    pub(crate) fault: Vec<String>,
    /// A rate limit on POST /v1/messages: 429 with retry-after beyond it,
    /// reported in the anthropic-ratelimit-requests-* headers.
    #[arg(long, value_name = "N")]
    pub(crate) requests_per_minute: Option<u64>,
    /// A token rate limit on POST /v1/messages (input estimate plus
    /// max_tokens), reported in the anthropic-ratelimit-tokens-* headers.
    #[arg(long, value_name = "N")]
    pub(crate) tokens_per_minute: Option<u64>,
    /// The window of both rate limits, in milliseconds (default 60000).
    #[arg(long, value_name = "MS")]
    pub(crate) rate_limit_window_ms: Option<u64>,
}
