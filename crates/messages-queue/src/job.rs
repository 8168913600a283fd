//! Jobs, their states, and the job file format.

use std::fmt;
use std::io::BufRead;
use std::time::{SystemTime, UNIX_EPOCH};

use messages_types::{BatchRequest, MessageRequest};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A priority lane. Workers take from [`Lane::Interactive`] before
/// [`Lane::Background`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lane {
    /// Someone is waiting: taken first.
    Interactive,
    /// Work that can wait: taken when no interactive job is queued. The
    /// default.
    Background,
}

impl Lane {
    /// Both lanes, in the order workers take from them.
    pub const ALL: [Lane; 2] = [Lane::Interactive, Lane::Background];

    /// `"interactive"` or `"background"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Lane::Interactive => "interactive",
            Lane::Background => "background",
        }
    }

    /// Parses [`Lane::as_str`]'s names.
    pub fn parse(s: &str) -> Option<Lane> {
        match s {
            "interactive" => Some(Lane::Interactive),
            "background" => Some(Lane::Background),
            _ => None,
        }
    }
}

impl fmt::Display for Lane {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One unit of work: a Messages request with an id, a lane, an optional
/// deadline, callback URL and metadata.
///
/// The id is the idempotency key: enqueueing a job whose id the queue
/// already has (queued, running, done or dead) does nothing.
///
/// ```
/// use messages_queue::{Job, Lane};
/// use messages_types::MessageRequest;
///
/// let job = Job::new("order-17", MessageRequest::new("claude-haiku-4-5", 256).user("Hi"))?
///     .lane(Lane::Interactive)
///     .callback("http://127.0.0.1:9000/done")?;
/// assert_eq!(job.id, "order-17");
/// # Ok::<(), messages_queue::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// The job id: 1 to 64 characters of `[A-Za-z0-9_-]` (a batch
    /// `custom_id`, so a job can also go through the Batches API).
    pub id: String,
    /// The request, sent non-streaming to `POST /v1/messages`.
    pub request: MessageRequest,
    /// Its lane.
    pub lane: Lane,
    /// Unix seconds after which the job is not worth running: a worker
    /// that takes it later stores an `expired` result instead of sending it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<u64>,
    /// Where the result is POSTed once stored (see [`crate::callback`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback: Option<String>,
    /// Caller's data, stored with the job and sent with the callback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<serde_json::Value>,
}

impl Job {
    /// A background job with no deadline, callback or metadata.
    ///
    /// # Errors
    ///
    /// [`Error::is_input`]: an invalid id, or a streaming request.
    pub fn new(id: impl Into<String>, request: MessageRequest) -> Result<Job> {
        let job = Job {
            id: id.into(),
            request,
            lane: Lane::Background,
            deadline: None,
            callback: None,
            metadata: None,
        };
        job.validate()?;
        Ok(job)
    }

    /// Sets the lane. Default is [`Lane::Background`].
    pub fn lane(mut self, lane: Lane) -> Job {
        self.lane = lane;
        self
    }

    /// Sets the deadline, in Unix seconds. Default is none.
    pub fn deadline(mut self, unix_secs: u64) -> Job {
        self.deadline = Some(unix_secs);
        self
    }

    /// Sets the callback URL (`http://` only).
    ///
    /// # Errors
    ///
    /// [`Error::is_input`] for a URL that is not `http://HOST...`.
    pub fn callback(mut self, url: impl Into<String>) -> Result<Job> {
        let url = url.into();
        check_callback_url(&url)?;
        self.callback = Some(url);
        Ok(self)
    }

    /// Sets the metadata. Default is none.
    pub fn metadata(mut self, metadata: serde_json::Value) -> Job {
        self.metadata = Some(metadata);
        self
    }

    /// Checks the id, the request and the callback URL.
    ///
    /// # Errors
    ///
    /// [`Error::is_input`] naming what is wrong.
    pub fn validate(&self) -> Result<()> {
        if !BatchRequest::custom_id_is_valid(&self.id) {
            return Err(Error::input(format!(
                "job id {:?} is invalid: it must be 1 to 64 characters of A-Z, a-z, 0-9, _ and -",
                self.id
            )));
        }
        if self.request.stream == Some(true) {
            return Err(Error::input(format!(
                "job {}: queued requests cannot be streamed (params.stream is true)",
                self.id
            )));
        }
        if let Some(url) = &self.callback {
            check_callback_url(url).map_err(|e| Error::input(format!("job {}: {e}", self.id)))?;
        }
        Ok(())
    }
}

fn check_callback_url(url: &str) -> Result<()> {
    match url.parse::<http::Uri>() {
        Ok(uri) if uri.scheme_str() == Some("http") && uri.host().is_some() => Ok(()),
        Ok(_) => Err(Error::input(format!(
            "callback URL {url:?} is not supported: it must be http://HOST[:PORT]/PATH (internal callbacks; put TLS in front with a proxy)"
        ))),
        Err(e) => Err(Error::input(format!(
            "callback URL {url:?} is invalid: {e}"
        ))),
    }
}

/// One line of a job file: the JSONL of `msgs run`
/// (`{"custom_id": ..., "params": {...}}`) plus optional `priority`
/// (`"interactive"` or `"background"`), `deadline` (Unix seconds or an RFC
/// 3339 UTC time such as `"2026-12-01T00:00:00Z"`), `callback` and
/// `metadata`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JobLine {
    custom_id: String,
    params: MessageRequest,
    #[serde(default)]
    priority: Option<Lane>,
    #[serde(default)]
    deadline: Option<Deadline>,
    #[serde(default)]
    callback: Option<String>,
    #[serde(default)]
    metadata: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Deadline {
    Unix(u64),
    Text(String),
}

/// Reads a job file: one job per line (see [`Job`] and the README's
/// `msgs queue enqueue`), blank lines skipped. The whole file is checked
/// before anything is enqueued.
///
/// # Errors
///
/// [`Error::is_input`] naming the 1-based line ([`Error::line`]) of the
/// first line that is not a job, or repeats an id of an earlier line;
/// [`Error::is_io`] when reading fails.
pub fn read_jobs(reader: impl BufRead) -> Result<Vec<Job>> {
    let mut jobs = Vec::new();
    let mut seen = std::collections::HashMap::new();
    // The one JSONL splitter of the workspace (LF, CRLF or a lone CR; blank
    // lines and a BOM skipped), as for `msgs run` job files.
    let mut lines = messages_batch::ResultsReader::new(reader);
    loop {
        let next = lines.next_raw().map_err(|e| {
            let n = lines.decoder().line_number() + 1;
            Error::input(format!("line {n}: {e}")).with_line(n)
        });
        let Some(raw) = next? else { break };
        let n = raw.number();
        let line = raw.bytes().trim_ascii();
        let bad = |msg: String| Error::input(format!("line {n}: {msg}")).with_line(n);
        let parsed: JobLine =
            serde_json::from_slice(line).map_err(|e| bad(format!("not a job: {e}")))?;
        let deadline = match parsed.deadline {
            None => None,
            Some(Deadline::Unix(s)) => Some(s),
            Some(Deadline::Text(t)) => Some(parse_rfc3339(&t).ok_or_else(|| {
                bad(format!(
                    "deadline {t:?} is not Unix seconds or an RFC 3339 UTC time (2026-12-01T00:00:00Z)"
                ))
            })?),
        };
        let job = Job {
            id: parsed.custom_id,
            request: parsed.params,
            lane: parsed.priority.unwrap_or(Lane::Background),
            deadline,
            callback: parsed.callback,
            metadata: parsed.metadata,
        };
        job.validate().map_err(|e| bad(e.to_string()))?;
        if let Some(first) = seen.insert(job.id.clone(), n) {
            return Err(bad(format!(
                "job id {} is used twice (lines {first} and {n})",
                job.id
            )));
        }
        jobs.push(job);
    }
    Ok(jobs)
}

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Waiting for a worker.
    Queued,
    /// Taken by a worker at least once, no result yet.
    Running,
    /// Its result is stored (succeeded, errored or expired).
    Done,
    /// Moved to the dead letters after too many deliveries.
    Dead,
}

impl JobState {
    /// All states.
    pub const ALL: [JobState; 4] = [
        JobState::Queued,
        JobState::Running,
        JobState::Done,
        JobState::Dead,
    ];

    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Dead => "dead",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<JobState> {
        JobState::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The delivery state of a job's callback.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CallbackState {
    /// Where it is.
    pub status: CallbackStatus,
    /// POSTs made so far.
    pub attempts: u32,
    /// The last failure (a connection error or a non-2xx status).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// See [`CallbackState`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallbackStatus {
    /// The job has no callback URL.
    #[default]
    None,
    /// The result is stored and the callback not yet delivered.
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Every attempt failed; the result stays readable.
    Failed,
}

/// What the queue knows about a job.
#[derive(Debug, Clone, PartialEq)]
pub struct JobInfo {
    /// The job.
    pub job: Job,
    /// Its state.
    pub state: JobState,
    /// How many times a worker took it.
    pub deliveries: u64,
    /// The last retryable error a worker recorded for it.
    pub last_error: Option<String>,
    /// Its callback's delivery state.
    pub callback: CallbackState,
}

/// A job handed to a worker by [`Queue::take`](crate::Queue::take).
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// The job.
    pub job: Job,
    /// How many times it has been taken, this time included.
    pub deliveries: u64,
    /// Whether its result is already stored (a worker died between storing
    /// it and acknowledging): only the callback and the acknowledgement
    /// remain.
    pub done: bool,
    /// The backend's handle (the stream entry id for Redis).
    pub(crate) token: String,
}

/// A job moved to the dead letters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// The job id.
    pub id: String,
    /// Its lane.
    pub lane: Lane,
    /// How many times it was taken.
    pub deliveries: u64,
    /// The last error a worker recorded.
    pub error: String,
}

/// Counts for one lane, by state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LaneCounts {
    /// Waiting for a worker.
    pub queued: u64,
    /// Taken, no result yet.
    pub running: u64,
    /// Result stored.
    pub done: u64,
    /// In the dead letters.
    pub dead: u64,
}

impl LaneCounts {
    pub(crate) fn add(&mut self, state: JobState, n: i64) {
        let slot = match state {
            JobState::Queued => &mut self.queued,
            JobState::Running => &mut self.running,
            JobState::Done => &mut self.done,
            JobState::Dead => &mut self.dead,
        };
        *slot = slot.saturating_add_signed(n);
    }

    /// The count for `state`.
    pub fn get(&self, state: JobState) -> u64 {
        match state {
            JobState::Queued => self.queued,
            JobState::Running => self.running,
            JobState::Done => self.done,
            JobState::Dead => self.dead,
        }
    }
}

/// The queue at a glance (`msgs queue status`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Status {
    /// Counts per lane, in [`Lane::ALL`] order.
    pub lanes: [LaneCounts; 2],
    /// Workers whose heartbeat is recent.
    pub workers_alive: u64,
    /// Results stored in the last full minute and in the current one.
    pub completed_last_minute: u64,
    /// Results stored so far in the current minute.
    pub completed_this_minute: u64,
    /// The last rate-limit headroom seen in API responses, as
    /// `(requests remaining, tokens remaining)`.
    pub headroom: Option<(Option<u64>, Option<u64>)>,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "lane         queued  running     done     dead")?;
        for (lane, c) in Lane::ALL.iter().zip(&self.lanes) {
            writeln!(
                f,
                "{:<11} {:>7}  {:>7}  {:>7}  {:>7}",
                lane.as_str(),
                c.queued,
                c.running,
                c.done,
                c.dead
            )?;
        }
        writeln!(f, "workers alive: {}", self.workers_alive)?;
        write!(
            f,
            "throughput: {} jobs in the last minute, {} so far this minute",
            self.completed_last_minute, self.completed_this_minute
        )?;
        if let Some((req, tok)) = self.headroom {
            let show = |v: Option<u64>| v.map_or("-".to_owned(), |v| v.to_string());
            write!(
                f,
                "\nrate-limit headroom: {} requests, {} tokens",
                show(req),
                show(tok)
            )?;
        }
        Ok(())
    }
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Parses an RFC 3339 UTC time (`2026-12-01T00:00:00Z`, fractional seconds
/// allowed, `Z` or `+00:00`) into Unix seconds.
pub(crate) fn parse_rfc3339(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        if !t.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        t.parse().ok()
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        rest = &frac[digits..];
    }
    if !matches!(rest, "Z" | "z" | "+00:00" | "-00:00") {
        return None;
    }
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days * 86_400 + h * 3600 + mi * 60 + sec).ok()
}
