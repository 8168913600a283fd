//! Signed callbacks: an HTTP POST of a job's result to its callback URL.
//!
//! # The request
//!
//! `POST` to the job's URL with `content-type: application/json` and the
//! body
//!
//! ```json
//! {"custom_id": "JOB ID", "result": {"type": "succeeded", "message": {...}}, "metadata": {...}}
//! ```
//!
//! (the line of the batch results format, plus the job's `metadata` when it
//! has some), and these headers:
//!
//! - `msgs-signature: t=TIMESTAMP,v1=HEX`: `TIMESTAMP` is the Unix time in
//!   seconds when the request was signed and `HEX` the lowercase hex
//!   HMAC-SHA256, keyed with the shared secret, of the bytes
//!   `TIMESTAMP.BODY` (the timestamp, a full stop, the raw body), the scheme
//!   of the well-known webhook signatures;
//! - `idempotency-key: JOB ID`: delivery is at-least-once, so a receiver
//!   that must act once per job keys its work on this;
//! - `msgs-job-id: JOB ID`.
//!
//! A receiver checks it with [`verify`]: the signature must match (compared
//! in constant time) and the timestamp be within a tolerance of its clock
//! (replays of old requests are refused).
//!
//! # Delivery
//!
//! Any 2xx answer is a delivery. Anything else (a connection error, a
//! timeout, another status) is retried with exponential backoff
//! ([`Callbacks::attempts`], [`Callbacks::backoff`]); after the last attempt
//! the callback is recorded as failed and the result stays readable in the
//! queue.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use messages_types::BatchResult;
use ring::hmac;
use serde::Serialize;

use crate::error::{Error, Kind, Result};
use crate::job::{CallbackState, CallbackStatus, Job};

/// The signature header.
pub const SIGNATURE_HEADER: &str = "msgs-signature";
/// The idempotency key header: the job id.
pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";
/// The job id header.
pub const JOB_ID_HEADER: &str = "msgs-job-id";
/// The default tolerance of [`verify`]: five minutes.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

/// Signs `body` at Unix time `timestamp` with `secret`: the value of the
/// [`SIGNATURE_HEADER`].
///
/// ```
/// let header = messages_queue::callback::sign(b"secret", 1_700_000_000, b"{}");
/// assert!(header.starts_with("t=1700000000,v1="));
/// ```
pub fn sign(secret: &[u8], timestamp: u64, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let tag = hmac::sign(&key, &signed_payload(timestamp, body));
    let mut hex = String::with_capacity(64);
    for b in tag.as_ref() {
        hex.push_str(&format!("{b:02x}"));
    }
    format!("t={timestamp},v1={hex}")
}

fn signed_payload(timestamp: u64, body: &[u8]) -> Vec<u8> {
    let mut msg = Vec::with_capacity(body.len() + 12);
    msg.extend_from_slice(timestamp.to_string().as_bytes());
    msg.push(b'.');
    msg.extend_from_slice(body);
    msg
}

/// Checks a callback: `header` is the [`SIGNATURE_HEADER`] value, `body` the
/// raw body, `now` the receiver's Unix time in seconds. The timestamp must
/// be within `tolerance` of `now` (either way), and one of the header's
/// `v1=` signatures must be the HMAC-SHA256 of `TIMESTAMP.BODY` under
/// `secret`; the comparison takes the same time wherever the bytes differ.
///
/// ```
/// use std::time::Duration;
/// use messages_queue::callback::{sign, verify};
///
/// let header = sign(b"secret", 1_700_000_000, b"{\"custom_id\":\"a\"}");
/// let tolerance = Duration::from_secs(300);
/// assert!(verify(b"secret", &header, b"{\"custom_id\":\"a\"}", 1_700_000_010, tolerance).is_ok());
/// assert!(verify(b"other", &header, b"{\"custom_id\":\"a\"}", 1_700_000_010, tolerance).is_err());
/// assert!(verify(b"secret", &header, b"{\"custom_id\":\"b\"}", 1_700_000_010, tolerance).is_err());
/// assert!(verify(b"secret", &header, b"{\"custom_id\":\"a\"}", 1_700_009_000, tolerance).is_err());
/// ```
///
/// # Errors
///
/// [`Error::is_signature`]: a malformed header, a timestamp outside the
/// tolerance, or no matching signature.
pub fn verify(
    secret: &[u8],
    header: &str,
    body: &[u8],
    now: u64,
    tolerance: Duration,
) -> Result<()> {
    let bad = |m: &str| Error::new(Kind::Signature, format!("callback signature: {m}"));
    let mut timestamp = None;
    let mut sigs = Vec::new();
    for part in header.split(',') {
        let (k, v) = part
            .trim()
            .split_once('=')
            .ok_or_else(|| bad("malformed header (expected t=...,v1=...)"))?;
        match k {
            "t" => {
                timestamp = Some(
                    v.parse::<u64>()
                        .map_err(|_| bad("the timestamp is not a number"))?,
                );
            }
            "v1" => sigs.push(v),
            _ => {}
        }
    }
    let t = timestamp.ok_or_else(|| bad("no timestamp (t=)"))?;
    if sigs.is_empty() {
        return Err(bad("no v1 signature"));
    }
    if t.abs_diff(now) > tolerance.as_secs() {
        return Err(bad(&format!(
            "timestamp {t} is more than {} s from now ({now})",
            tolerance.as_secs()
        )));
    }
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let payload = signed_payload(t, body);
    for sig in sigs {
        let Some(tag) = from_hex(sig) else { continue };
        if hmac::verify(&key, &payload, &tag).is_ok() {
            return Ok(());
        }
    }
    Err(bad("no signature matches"))
}

fn from_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[derive(Serialize)]
struct Body<'a> {
    custom_id: &'a str,
    result: &'a BatchResult,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<&'a serde_json::Value>,
}

/// Sends signed callbacks, with retries. Cheap to clone (a pooled HTTP/1
/// client).
#[derive(Clone)]
pub struct Callbacks {
    client: Client<HttpConnector, Full<Bytes>>,
    secret: std::sync::Arc<[u8]>,
    attempts: u32,
    backoff: Duration,
    timeout: Duration,
}

impl std::fmt::Debug for Callbacks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Callbacks")
            .field("attempts", &self.attempts)
            .field("backoff", &self.backoff)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Callbacks {
    /// Callbacks signed with `secret`.
    pub fn new(secret: impl AsRef<[u8]>) -> Callbacks {
        let mut http = HttpConnector::new();
        http.set_connect_timeout(Some(Duration::from_secs(5)));
        Callbacks {
            client: Client::builder(TokioExecutor::new()).build(http),
            secret: secret.as_ref().into(),
            attempts: 6,
            backoff: Duration::from_millis(500),
            timeout: Duration::from_secs(10),
        }
    }

    /// POSTs per callback before it is recorded as failed (at least 1).
    /// Default is 6.
    pub fn attempts(mut self, n: u32) -> Callbacks {
        self.attempts = n.max(1);
        self
    }

    /// The wait before the first retry; it doubles after each, up to 30 s.
    /// Default is 500 ms.
    pub fn backoff(mut self, first: Duration) -> Callbacks {
        self.backoff = first;
        self
    }

    /// The time limit of one POST. Default is 10 s.
    pub fn timeout(mut self, timeout: Duration) -> Callbacks {
        self.timeout = timeout;
        self
    }

    /// Delivers `job`'s callback with `result`, retrying as configured.
    /// Returns the final state ([`CallbackStatus::Delivered`] or
    /// [`CallbackStatus::Failed`]); a job with no callback URL gives
    /// [`CallbackStatus::None`] at once.
    ///
    /// # Cancellation
    ///
    /// Dropping the future stops between or during attempts; a POST in
    /// flight may or may not have reached the receiver.
    pub async fn deliver(&self, job: &Job, result: &BatchResult, prior: u32) -> CallbackState {
        let Some(url) = &job.callback else {
            return CallbackState::default();
        };
        let body = match serde_json::to_vec(&Body {
            custom_id: &job.id,
            result,
            metadata: job.metadata.as_ref(),
        }) {
            Ok(b) => Bytes::from(b),
            Err(e) => {
                return CallbackState {
                    status: CallbackStatus::Failed,
                    attempts: prior,
                    last_error: Some(format!("encoding the body: {e}")),
                };
            }
        };
        let mut state = CallbackState {
            status: CallbackStatus::Pending,
            attempts: prior,
            last_error: None,
        };
        let mut delay = self.backoff;
        for attempt in 0..self.attempts {
            if attempt > 0 {
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(30));
            }
            state.attempts += 1;
            match self.post(url, &job.id, body.clone()).await {
                Ok(()) => {
                    state.status = CallbackStatus::Delivered;
                    state.last_error = None;
                    return state;
                }
                Err(e) => {
                    tracing::debug!(job = %job.id, error = %e, "callback attempt failed");
                    state.last_error = Some(e);
                }
            }
        }
        state.status = CallbackStatus::Failed;
        state
    }

    async fn post(&self, url: &str, id: &str, body: Bytes) -> std::result::Result<(), String> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let sig = sign(&self.secret, now, &body);
        let req = http::Request::post(url)
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, sig)
            .header(IDEMPOTENCY_HEADER, id)
            .header(JOB_ID_HEADER, id)
            .body(Full::new(body))
            .map_err(|e| format!("building the request to {url}: {e}"))?;
        let send = async {
            let resp = self
                .client
                .request(req)
                .await
                .map_err(|e| format!("POST {url}: {}", error_chain(&e)))?;
            let status = resp.status();
            // Read the (small) body so the connection can be reused.
            let _ = resp.into_body().collect().await;
            if status.is_success() {
                Ok(())
            } else {
                Err(format!("POST {url}: status {status}"))
            }
        };
        tokio::time::timeout(self.timeout, send)
            .await
            .map_err(|_| format!("POST {url}: no answer within {:?}", self.timeout))?
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}
