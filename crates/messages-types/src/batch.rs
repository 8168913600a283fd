//! Message Batches: create params, [`MessageBatch`], result lines.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::ErrorResponse;
use crate::message::Message;
use crate::request::MessageRequest;

/// The body of `POST /v1/messages/batches`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BatchCreateParams {
    /// The requests, at most 100,000 (and 256 MB) per batch.
    pub requests: Vec<BatchRequest>,
}

impl BatchCreateParams {
    /// The body that creates a batch of these requests.
    pub fn new(requests: Vec<BatchRequest>) -> BatchCreateParams {
        BatchCreateParams { requests }
    }
}

/// One request of a batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BatchRequest {
    /// The caller's id for this request: 1 to 64 characters of
    /// `[A-Za-z0-9_-]`, unique within the batch.
    pub custom_id: String,
    /// A non-streaming Messages request.
    pub params: MessageRequest,
}

impl BatchRequest {
    /// A batch request.
    pub fn new(custom_id: impl Into<String>, params: MessageRequest) -> BatchRequest {
        BatchRequest {
            custom_id: custom_id.into(),
            params,
        }
    }

    /// Checks the `custom_id` rules: 1 to 64 characters of `[A-Za-z0-9_-]`.
    pub fn custom_id_is_valid(custom_id: &str) -> bool {
        (1..=64).contains(&custom_id.len())
            && custom_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    }
}

/// A message batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "message_batch")]
#[non_exhaustive]
pub struct MessageBatch {
    /// The batch id, `msgbatch_...`.
    pub id: String,
    /// Where the batch is in its life.
    pub processing_status: ProcessingStatus,
    /// Requests by state.
    pub request_counts: RequestCounts,
    /// When processing ended (RFC 3339).
    #[serde(default)]
    pub ended_at: Option<String>,
    /// When the batch was created (RFC 3339).
    pub created_at: String,
    /// When unfinished requests expire: 24 hours after creation (RFC 3339).
    pub expires_at: String,
    /// When the batch was archived (RFC 3339).
    #[serde(default)]
    pub archived_at: Option<String>,
    /// When cancellation was requested (RFC 3339).
    #[serde(default)]
    pub cancel_initiated_at: Option<String>,
    /// Where to download the results once ended.
    #[serde(default)]
    pub results_url: Option<String>,
    /// Fields this version does not know, kept verbatim.
    #[serde(flatten, deserialize_with = "crate::macros::extra_without_type")]
    pub extra: Map<String, Value>,
}

impl MessageBatch {
    /// A batch with this id and status, no requests counted and no
    /// timestamps; for tests and stand-in servers.
    pub fn new(id: impl Into<String>, processing_status: ProcessingStatus) -> MessageBatch {
        MessageBatch {
            id: id.into(),
            processing_status,
            request_counts: RequestCounts::default(),
            ended_at: None,
            created_at: String::new(),
            expires_at: String::new(),
            archived_at: None,
            cancel_initiated_at: None,
            results_url: None,
            extra: Map::new(),
        }
    }
}

string_enum! {
    /// The processing status of a batch.
    pub enum ProcessingStatus {
        /// `in_progress`.
        InProgress => "in_progress",
        /// `canceling`: cancellation was requested.
        Canceling => "canceling",
        /// `ended`: every request has a result.
        Ended => "ended",
    }
}

/// Requests of a batch by state.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RequestCounts {
    /// Still being processed.
    #[serde(default)]
    pub processing: u64,
    /// Completed successfully.
    #[serde(default)]
    pub succeeded: u64,
    /// Failed.
    #[serde(default)]
    pub errored: u64,
    /// Canceled before processing.
    #[serde(default)]
    pub canceled: u64,
    /// Expired before processing.
    #[serde(default)]
    pub expired: u64,
}

/// The answer of `DELETE /v1/messages/batches/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "message_batch_deleted")]
#[non_exhaustive]
pub struct DeletedMessageBatch {
    /// The deleted batch's id.
    pub id: String,
}

impl DeletedMessageBatch {
    /// The answer to deleting batch `id`.
    pub fn new(id: impl Into<String>) -> DeletedMessageBatch {
        DeletedMessageBatch { id: id.into() }
    }
}

/// One line of a batch's results (JSONL).
///
/// # Examples
///
/// ```
/// use messages_types::{BatchResult, BatchResultLine};
///
/// let line = r#"{"custom_id":"a","result":{"type":"expired"}}"#;
/// let r: BatchResultLine = serde_json::from_str(line).unwrap();
/// assert_eq!(r.result, BatchResult::Expired);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BatchResultLine {
    /// The request's `custom_id`.
    pub custom_id: String,
    /// What happened to it.
    pub result: BatchResult,
}

impl BatchResultLine {
    /// One line of a results file.
    pub fn new(custom_id: impl Into<String>, result: BatchResult) -> BatchResultLine {
        BatchResultLine {
            custom_id: custom_id.into(),
            result,
        }
    }
}

/// The result of one batch request.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type")]
#[non_exhaustive]
#[allow(clippy::large_enum_variant)] // Lines are decoded one at a time; boxing would add an allocation per line.
pub enum BatchResult {
    /// `succeeded`.
    #[serde(rename = "succeeded")]
    Succeeded {
        /// The message.
        message: Message,
    },
    /// `errored`.
    #[serde(rename = "errored")]
    Errored {
        /// The error body.
        error: ErrorResponse,
    },
    /// `canceled`: the batch was canceled before this request ran.
    #[serde(rename = "canceled")]
    Canceled,
    /// `expired`: the batch expired before this request ran.
    #[serde(rename = "expired")]
    Expired,
    /// A result type this version does not know, kept as raw JSON.
    #[serde(untagged)]
    Unknown(Value),
}

#[derive(Deserialize)]
struct Succeeded {
    message: Message,
}

#[derive(Deserialize)]
struct Errored {
    error: ErrorResponse,
}

impl<'de> Deserialize<'de> for BatchResult {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        let tag = crate::macros::tag_of::<D::Error>(&value, "batch result")?;
        match tag {
            "succeeded" => Succeeded::deserialize(value)
                .map(|s| BatchResult::Succeeded { message: s.message })
                .map_err(|e| crate::macros::in_variant(e, "batch result", "succeeded")),
            "errored" => Errored::deserialize(value)
                .map(|e| BatchResult::Errored { error: e.error })
                .map_err(|e| crate::macros::in_variant(e, "batch result", "errored")),
            "canceled" => Ok(BatchResult::Canceled),
            "expired" => Ok(BatchResult::Expired),
            _ => Ok(BatchResult::Unknown(value)),
        }
    }
}
