//! Message Batches: the store, background processing and persistence.
//!
//! On disk, each batch lives in `DATA_DIR/batches/ID/`:
//! `meta.json` (status and times, replaced atomically on each transition),
//! `requests.jsonl` (the submitted requests, written once) and
//! `results.jsonl` (one line per finished request, appended as they finish).
//! Request counts are derived from the results, so a restart loses nothing:
//! a torn last results line is dropped and its request processed again.

use std::collections::HashMap;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use messages_types::ApiVersion;
use serde::Serialize;
use serde_json::{Map, Value};
use tokio::sync::watch;

use crate::generate::{Generation, generate};
use crate::models::Model;
use crate::util::{self, Rng, now_secs, rfc3339};
use crate::validate::{self, Failure};
use crate::wire::{
    self, BatchResult, ErrorBody, ErrorDetail, MessageBatch, RequestCounts, ResultLine,
};

/// The API's limit on requests per batch.
pub(crate) const MAX_REQUESTS: usize = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    InProgress,
    Canceling,
    Ended,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::InProgress => "in_progress",
            Status::Canceling => "canceling",
            Status::Ended => "ended",
        }
    }

    fn parse(s: &str) -> Option<Status> {
        match s {
            "in_progress" => Some(Status::InProgress),
            "canceling" => Some(Status::Canceling),
            "ended" => Some(Status::Ended),
            _ => None,
        }
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    succeeded: u64,
    errored: u64,
    canceled: u64,
    expired: u64,
}

#[derive(Debug)]
struct Batch {
    id: String,
    created_at: f64,
    expires_at: f64,
    ended_at: Option<f64>,
    cancel_initiated_at: Option<f64>,
    status: Status,
    custom_ids: Vec<String>,
    params: Vec<Value>,
    done: Vec<bool>,
    results: Vec<Bytes>,
    counts: Counts,
    seq: u64,
    /// The `anthropic-version` of the create request: its requests are
    /// checked against that version's rules, as direct requests are.
    version: ApiVersion,
}

impl Batch {
    fn total(&self) -> u64 {
        self.custom_ids.len() as u64
    }

    fn processing(&self) -> u64 {
        let c = self.counts;
        self.total() - c.succeeded - c.errored - c.canceled - c.expired
    }

    fn to_wire(&self, base_url: &str) -> MessageBatch {
        let c = self.counts;
        MessageBatch {
            id: self.id.clone(),
            kind: "message_batch",
            processing_status: self.status.as_str(),
            request_counts: RequestCounts {
                processing: self.processing(),
                succeeded: c.succeeded,
                errored: c.errored,
                canceled: c.canceled,
                expired: c.expired,
            },
            ended_at: self.ended_at.map(rfc3339),
            created_at: rfc3339(self.created_at),
            expires_at: rfc3339(self.expires_at),
            archived_at: None,
            cancel_initiated_at: self.cancel_initiated_at.map(rfc3339),
            results_url: (self.status == Status::Ended)
                .then(|| format!("{base_url}/v1/messages/batches/{}/results", self.id)),
        }
    }

    fn meta(&self) -> Meta<'_> {
        Meta {
            id: &self.id,
            created_at: self.created_at,
            expires_at: self.expires_at,
            ended_at: self.ended_at,
            cancel_initiated_at: self.cancel_initiated_at,
            processing_status: self.status.as_str(),
            seq: self.seq,
            anthropic_version: self.version.as_str(),
        }
    }

    /// Records one finished request; returns the line for the results file.
    fn record(&mut self, index: usize, result: &BatchResult<'_>) -> Option<Bytes> {
        let custom_id = self.custom_ids.get(index)?;
        let mut line = wire::to_string(&ResultLine { custom_id, result });
        line.push('\n');
        self.record_line(index, result.kind(), Bytes::from(line))
    }

    /// Records one finished request whose results line (ending in `\n`) is
    /// already written; returns it unless the request was done already.
    fn record_line(&mut self, index: usize, kind: &str, line: Bytes) -> Option<Bytes> {
        if self.done.get(index).copied().unwrap_or(true) {
            return None;
        }
        match kind {
            "succeeded" => self.counts.succeeded += 1,
            "errored" => self.counts.errored += 1,
            "canceled" => self.counts.canceled += 1,
            _ => self.counts.expired += 1,
        }
        self.done[index] = true;
        self.results.push(line.clone());
        Some(line)
    }
}

/// Batch configuration.
#[derive(Debug, Clone)]
pub(crate) struct BatchConfig {
    pub(crate) data_dir: Option<PathBuf>,
    pub(crate) pace: Duration,
    pub(crate) expiry: Duration,
    /// The date model retirement is checked against, as for direct
    /// requests (`YYYY-MM-DD`).
    pub(crate) today: String,
}

#[derive(Debug, Default)]
struct Inner {
    batches: HashMap<String, Batch>,
    next_seq: u64,
}

/// All batches, shared by the HTTP handlers and the workers.
#[derive(Debug)]
pub(crate) struct BatchStore {
    inner: Mutex<Inner>,
    config: BatchConfig,
    models: Arc<Vec<Model>>,
    shutdown: watch::Receiver<bool>,
    workers: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl BatchStore {
    /// Opens the store, loading persisted batches (it does not start workers).
    pub(crate) fn open(
        config: BatchConfig,
        models: Arc<Vec<Model>>,
        shutdown: watch::Receiver<bool>,
    ) -> io::Result<BatchStore> {
        let mut inner = Inner::default();
        if let Some(dir) = &config.data_dir {
            let root = dir.join("batches");
            fs::create_dir_all(&root)?;
            for entry in fs::read_dir(&root)? {
                let path = entry?.path();
                if !path.is_dir() {
                    continue;
                }
                match load_batch(&path) {
                    Ok(b) => {
                        inner.next_seq = inner.next_seq.max(b.seq + 1);
                        inner.batches.insert(b.id.clone(), b);
                    }
                    Err(e) => {
                        return Err(io::Error::new(
                            e.kind(),
                            format!("loading batch from {}: {e}", path.display()),
                        ));
                    }
                }
            }
        }
        Ok(BatchStore {
            inner: Mutex::new(inner),
            config,
            models,
            shutdown,
            workers: Mutex::new(Vec::new()),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        util::lock(&self.inner)
    }

    /// Starts a worker for every batch that has not ended (after a restart).
    pub(crate) fn resume(self: &Arc<Self>) {
        let ids: Vec<String> = self
            .lock()
            .batches
            .values()
            .filter(|b| b.status != Status::Ended)
            .map(|b| b.id.clone())
            .collect();
        for id in ids {
            self.spawn_worker(id);
        }
    }

    fn spawn_worker(self: &Arc<Self>, id: String) {
        let store = Arc::clone(self);
        let handle = tokio::spawn(async move { store.work(id).await });
        let mut workers = util::lock(&self.workers);
        workers.retain(|h| !h.is_finished());
        workers.push(handle);
    }

    /// Waits for all workers to stop (after the shutdown signal).
    pub(crate) async fn join_workers(&self) {
        let handles: Vec<_> = util::lock(&self.workers).drain(..).collect();
        for h in handles {
            let _ = h.await;
        }
    }

    fn dir(&self, id: &str) -> Option<PathBuf> {
        self.config
            .data_dir
            .as_ref()
            .map(|d| d.join("batches").join(id))
    }

    /// Validates and stores a new batch, then starts processing it. Its
    /// requests will be checked against the rules of `version`, the create
    /// request's `anthropic-version`.
    pub(crate) fn create(
        self: &Arc<Self>,
        body: &Map<String, Value>,
        base_url: &str,
        expiry_ms: Option<u64>,
        version: ApiVersion,
    ) -> Result<MessageBatch, Failure> {
        let requests = match body.get("requests") {
            None | Some(Value::Null) => return Err(Failure::invalid("requests: Field required")),
            Some(Value::Array(a)) => a,
            Some(_) => return Err(Failure::invalid("requests: Input should be a valid list")),
        };
        if requests.is_empty() {
            return Err(Failure::invalid(
                "requests: List should have at least 1 item after validation, not 0",
            ));
        }
        if requests.len() > MAX_REQUESTS {
            return Err(Failure::invalid(format!(
                "requests: List should have at most {MAX_REQUESTS} items after validation, not {}",
                requests.len()
            )));
        }
        let mut custom_ids = Vec::with_capacity(requests.len());
        let mut params = Vec::with_capacity(requests.len());
        let mut seen: HashMap<&str, usize> = HashMap::with_capacity(requests.len());
        for (i, r) in requests.iter().enumerate() {
            let Value::Object(r) = r else {
                return Err(Failure::invalid(format!(
                    "requests.{i}: Input should be a valid dictionary"
                )));
            };
            let cid = match r.get("custom_id") {
                None | Some(Value::Null) => {
                    return Err(Failure::invalid(format!(
                        "requests.{i}.custom_id: Field required"
                    )));
                }
                Some(Value::String(s)) => s.as_str(),
                Some(_) => {
                    return Err(Failure::invalid(format!(
                        "requests.{i}.custom_id: Input should be a valid string"
                    )));
                }
            };
            if cid.is_empty()
                || cid.len() > 64
                || !cid
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            {
                return Err(Failure::invalid(format!(
                    "requests.{i}.custom_id: String should match pattern '^[a-zA-Z0-9_-]{{1,64}}$'"
                )));
            }
            if let Some(first) = seen.insert(cid, i) {
                return Err(Failure::invalid(format!(
                    "requests.{i}.custom_id: Duplicate custom_id '{cid}' (first used at requests.{first}); custom_id must be unique within a batch"
                )));
            }
            let p = match r.get("params") {
                None | Some(Value::Null) => {
                    return Err(Failure::invalid(format!(
                        "requests.{i}.params: Field required"
                    )));
                }
                Some(Value::Object(p)) => p,
                Some(_) => {
                    return Err(Failure::invalid(format!(
                        "requests.{i}.params: Input should be a valid dictionary"
                    )));
                }
            };
            // The shape is checked now; everything else (unknown model,
            // roles, tools...) becomes an `errored` result, as the API does.
            for key in ["model", "max_tokens", "messages"] {
                if p.get(key).is_none_or(Value::is_null) {
                    return Err(Failure::invalid(format!(
                        "requests.{i}.params.{key}: Field required"
                    )));
                }
            }
            custom_ids.push(cid.to_owned());
            params.push(Value::Object(p.clone()));
        }

        let now = now_secs();
        let id = util::new_id("msgbatch_");
        let n = custom_ids.len();
        let batch = {
            let mut inner = self.lock();
            let seq = inner.next_seq;
            inner.next_seq += 1;
            let batch = Batch {
                id: id.clone(),
                created_at: now,
                expires_at: now
                    + expiry_ms.map_or(self.config.expiry.as_secs_f64(), |ms| ms as f64 / 1000.0),
                ended_at: None,
                cancel_initiated_at: None,
                status: Status::InProgress,
                custom_ids,
                params,
                done: vec![false; n],
                results: Vec::new(),
                counts: Counts::default(),
                seq,
                version,
            };
            if let Some(dir) = self.dir(&id) {
                persist_new(&dir, &batch).map_err(|e| {
                    Failure::new(
                        500,
                        "api_error",
                        format!("could not persist the batch: {e}"),
                    )
                })?;
            }
            let wire = batch.to_wire(base_url);
            inner.batches.insert(id.clone(), batch);
            wire
        };
        self.spawn_worker(id);
        Ok(batch)
    }

    pub(crate) fn get(&self, id: &str, base_url: &str) -> Result<MessageBatch, Failure> {
        self.lock()
            .batches
            .get(id)
            .map(|b| b.to_wire(base_url))
            .ok_or_else(|| not_found(id))
    }

    /// All batches, newest first.
    pub(crate) fn list(&self, base_url: &str) -> Vec<(String, MessageBatch)> {
        let inner = self.lock();
        let mut all: Vec<&Batch> = inner.batches.values().collect();
        all.sort_by_key(|b| std::cmp::Reverse(b.seq));
        all.iter()
            .map(|b| (b.id.clone(), b.to_wire(base_url)))
            .collect()
    }

    pub(crate) fn cancel(&self, id: &str, base_url: &str) -> Result<MessageBatch, Failure> {
        let mut inner = self.lock();
        let b = inner.batches.get_mut(id).ok_or_else(|| not_found(id))?;
        if b.status == Status::InProgress {
            b.status = Status::Canceling;
            b.cancel_initiated_at = Some(now_secs());
            if let Some(dir) = self.dir(id) {
                write_meta(&dir, b).map_err(persist_failure)?;
            }
        }
        Ok(b.to_wire(base_url))
    }

    /// Deletes an ended batch.
    pub(crate) fn delete(&self, id: &str) -> Result<(), Failure> {
        let mut inner = self.lock();
        let b = inner.batches.get(id).ok_or_else(|| not_found(id))?;
        if b.status != Status::Ended {
            return Err(Failure::invalid(format!(
                "Message Batch {id} cannot be deleted while it is {}; cancel it and wait until it has ended",
                b.status.as_str()
            )));
        }
        if let Some(dir) = self.dir(id) {
            fs::remove_dir_all(&dir).map_err(persist_failure)?;
        }
        inner.batches.remove(id);
        Ok(())
    }

    /// The results lines of an ended batch.
    pub(crate) fn results(&self, id: &str) -> Result<Vec<Bytes>, Failure> {
        let inner = self.lock();
        let b = inner.batches.get(id).ok_or_else(|| not_found(id))?;
        if b.status != Status::Ended {
            return Err(Failure::invalid(format!(
                "Message Batch {id} has not ended yet (processing_status: {}); results are available once it has ended",
                b.status.as_str()
            )));
        }
        Ok(b.results.clone())
    }

    /// Processes one batch until it ends or the server shuts down.
    async fn work(self: Arc<Self>, id: String) {
        let mut shutdown = self.shutdown.clone();
        // Requests finish in an order unrelated to submission: clients must
        // match results by custom_id, as with the real API.
        let order: Vec<usize> = {
            let inner = self.lock();
            let Some(b) = inner.batches.get(&id) else {
                return;
            };
            let mut order: Vec<usize> = (0..b.custom_ids.len()).filter(|&i| !b.done[i]).collect();
            let mut h = util::Fnv::new();
            h.write(id.as_bytes());
            let mut rng = Rng::new(h.finish());
            for i in (1..order.len()).rev() {
                order.swap(i, rng.below(i + 1));
            }
            order
        };
        for (step, index) in order.into_iter().enumerate() {
            if *shutdown.borrow() {
                return;
            }
            if !self.config.pace.is_zero() {
                tokio::select! {
                    _ = tokio::time::sleep(self.config.pace) => {}
                    _ = shutdown.changed() => return,
                }
            } else if step % 64 == 0 {
                tokio::task::yield_now().await;
            }
            let (params, version) = {
                let mut inner = self.lock();
                let Some(b) = inner.batches.get_mut(&id) else {
                    return;
                };
                if self.finish_if_due(b) {
                    return;
                }
                (b.params[index].clone(), b.version)
            };
            let rules = validate::Rules {
                version,
                today: self.config.today.clone(),
            };
            let outcome = process(&params, &self.models, &rules);
            let result = match &outcome {
                Ok(g) => BatchResult::Succeeded {
                    message: g.message(),
                },
                Err(f) => BatchResult::Errored {
                    error: ErrorBody {
                        error: ErrorDetail {
                            kind: &f.kind,
                            message: &f.message,
                        },
                        request_id: None,
                    },
                },
            };
            let mut inner = self.lock();
            let Some(b) = inner.batches.get_mut(&id) else {
                return;
            };
            if let Some(line) = b.record(index, &result)
                && let Some(dir) = self.dir(&id)
            {
                let _ = append_results(&dir, &[line]);
            }
        }
        let mut inner = self.lock();
        if let Some(b) = inner.batches.get_mut(&id)
            && !self.finish_if_due(b)
        {
            self.end(b, BatchResult::Canceled);
        }
    }

    /// Ends the batch when it was canceled or has expired; true if it ended.
    fn finish_if_due(&self, b: &mut Batch) -> bool {
        if b.status == Status::Ended {
            return true;
        }
        if b.status == Status::Canceling {
            self.end(b, BatchResult::Canceled);
            return true;
        }
        if now_secs() >= b.expires_at {
            self.end(b, BatchResult::Expired);
            return true;
        }
        false
    }

    /// Marks every unfinished request `kind` and ends the batch.
    fn end(&self, b: &mut Batch, result: BatchResult<'_>) {
        let mut lines = Vec::new();
        for i in 0..b.custom_ids.len() {
            if !b.done[i]
                && let Some(l) = b.record(i, &result)
            {
                lines.push(l);
            }
        }
        b.status = Status::Ended;
        b.ended_at = Some(now_secs());
        if let Some(dir) = self.dir(&b.id) {
            let _ = append_results(&dir, &lines);
            let _ = write_meta(&dir, b);
        }
    }
}

fn not_found(id: &str) -> Failure {
    Failure::not_found(format!("Message Batch not found: {id}"))
}

fn persist_failure(e: io::Error) -> Failure {
    Failure::new(500, "api_error", format!("batch storage failed: {e}"))
}

/// Runs one batch request: the message, or the failure of an `errored`
/// result.
///
/// `rules` are a direct request's: the create request's API version and
/// the date model retirement is checked against. So a request the version
/// refuses (say `temperature` under `2026-10-21`) gets the same error as
/// it would from `POST /v1/messages`, as an `errored` result: the API
/// validates each request's params when it processes it, not at create.
fn process(
    params: &Value,
    models: &[Model],
    rules: &validate::Rules,
) -> Result<Generation, Failure> {
    let outcome = match params {
        Value::Object(p) => validate::message_request(p, models, rules, "").and_then(|mp| {
            if mp.stream {
                Err(Failure::invalid(
                    "stream: Batch requests cannot be streamed",
                ))
            } else {
                Ok(mp)
            }
        }),
        _ => Err(Failure::invalid(
            "params: Input should be a valid dictionary",
        )),
    };
    outcome.map(|mp| generate(&mp))
}

// ===== persistence =====

/// `meta.json`: a batch's status and times (Unix seconds).
#[derive(Serialize)]
struct Meta<'a> {
    id: &'a str,
    created_at: f64,
    expires_at: f64,
    ended_at: Option<f64>,
    cancel_initiated_at: Option<f64>,
    processing_status: &'static str,
    seq: u64,
    anthropic_version: &'static str,
}

/// A line of `requests.jsonl`.
#[derive(Serialize)]
struct StoredRequest<'a> {
    custom_id: &'a str,
    params: &'a Value,
}

fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = path.with_extension("tmp");
    {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    fs::rename(&tmp, path)
}

fn write_meta(dir: &Path, b: &Batch) -> io::Result<()> {
    write_atomic(
        &dir.join("meta.json"),
        wire::to_string(&b.meta()).as_bytes(),
    )
}

fn persist_new(dir: &Path, b: &Batch) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    let mut buf = Vec::new();
    for (cid, p) in b.custom_ids.iter().zip(&b.params) {
        serde_json::to_writer(
            &mut buf,
            &StoredRequest {
                custom_id: cid,
                params: p,
            },
        )?;
        buf.push(b'\n');
    }
    write_atomic(&dir.join("requests.jsonl"), &buf)?;
    fs::File::create(dir.join("results.jsonl"))?;
    // meta.json last: a directory without it is an incomplete create.
    write_meta(dir, b)
}

fn append_results(dir: &Path, lines: &[Bytes]) -> io::Result<()> {
    if lines.is_empty() {
        return Ok(());
    }
    let mut f = fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(dir.join("results.jsonl"))?;
    let mut buf = Vec::new();
    for l in lines {
        buf.extend_from_slice(l);
    }
    f.write_all(&buf)
}

fn bad_data(path: &Path, what: impl std::fmt::Display) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("{}: {what}", path.display()),
    )
}

fn load_batch(dir: &Path) -> io::Result<Batch> {
    let meta_path = dir.join("meta.json");
    let meta: Value =
        serde_json::from_slice(&fs::read(&meta_path)?).map_err(|e| bad_data(&meta_path, e))?;
    let str_field = |k: &str| -> io::Result<String> {
        meta.get(k)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| bad_data(&meta_path, format!("missing `{k}`")))
    };
    let num_field = |k: &str| meta.get(k).and_then(Value::as_f64);
    let id = str_field("id")?;
    let status = Status::parse(&str_field("processing_status")?)
        .ok_or_else(|| bad_data(&meta_path, "unknown processing_status"))?;

    let req_path = dir.join("requests.jsonl");
    let mut custom_ids = Vec::new();
    let mut params = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for (n, line) in fs::read(&req_path)?.split(|&b| b == b'\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        let v: Value = serde_json::from_slice(line)
            .map_err(|e| bad_data(&req_path, format!("line {}: {e}", n + 1)))?;
        let cid = v
            .get("custom_id")
            .and_then(Value::as_str)
            .ok_or_else(|| bad_data(&req_path, format!("line {}: no custom_id", n + 1)))?
            .to_owned();
        index.insert(cid.clone(), custom_ids.len());
        custom_ids.push(cid);
        params.push(v.get("params").cloned().unwrap_or(Value::Null));
    }

    let mut batch = Batch {
        id,
        created_at: num_field("created_at").unwrap_or_else(now_secs),
        expires_at: num_field("expires_at").unwrap_or_else(now_secs),
        ended_at: num_field("ended_at"),
        cancel_initiated_at: num_field("cancel_initiated_at"),
        status,
        done: vec![false; custom_ids.len()],
        custom_ids,
        params,
        results: Vec::new(),
        counts: Counts::default(),
        seq: meta.get("seq").and_then(Value::as_u64).unwrap_or(0),
        // A batch stored before the version was kept: the version the
        // emulator assumes when the header is absent.
        version: meta
            .get("anthropic_version")
            .and_then(Value::as_str)
            .and_then(ApiVersion::parse)
            .unwrap_or(ApiVersion::V2023_06_01),
    };

    // Replay the results; a torn last line (a crash mid-append) is cut off
    // and its request processed again.
    let res_path = dir.join("results.jsonl");
    let data = fs::read(&res_path).unwrap_or_default();
    let mut good_len = 0usize;
    let mut pos = 0usize;
    while pos < data.len() {
        let end = match data[pos..].iter().position(|&b| b == b'\n') {
            Some(e) => pos + e,
            None => break,
        };
        let line = &data[pos..end];
        let parsed: Option<(String, String)> =
            serde_json::from_slice::<Value>(line).ok().and_then(|v| {
                let cid = v.get("custom_id")?.as_str()?.to_owned();
                let kind = v.get("result")?.get("type")?.as_str()?.to_owned();
                Some((cid, kind))
            });
        let Some((cid, kind)) = parsed else {
            break;
        };
        // The line is kept as it was written; `record_line` ignores a
        // repeated line for a request already done.
        if let Some(&i) = index.get(&cid) {
            let mut kept = Vec::with_capacity(line.len() + 1);
            kept.extend_from_slice(line);
            kept.push(b'\n');
            batch.record_line(i, &kind, Bytes::from(kept));
        }
        pos = end + 1;
        good_len = pos;
    }
    if good_len < data.len() {
        let f = fs::OpenOptions::new().write(true).open(&res_path)?;
        f.set_len(good_len as u64)?;
    }
    Ok(batch)
}
