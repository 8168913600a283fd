//! The request log: every request the emulator answered, for tests to inspect.

use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use http::{HeaderMap, Method};

/// One request the emulator answered.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LoggedRequest {
    /// The request method.
    pub method: Method,
    /// The path, without the query string (`/v1/messages`).
    pub path: String,
    /// The query string, without `?`, when there was one.
    pub query: Option<String>,
    /// The request headers.
    pub headers: HeaderMap,
    /// The request body as received (empty when it was rejected before
    /// being read).
    pub body: Bytes,
    /// The status the emulator answered with.
    pub status: u16,
    /// The `request-id` the emulator gave the response.
    pub request_id: String,
}

impl LoggedRequest {
    /// The body parsed as JSON, or `None` when it is not JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// A shared, append-only log of answered requests.
///
/// Cloning is cheap (an `Arc`); all clones see the same log. Entries are
/// appended when the response head is ready, so a streamed response is
/// logged before its body has been sent.
#[derive(Debug, Clone, Default)]
pub struct RequestLog {
    inner: Arc<Mutex<Vec<LoggedRequest>>>,
}

impl RequestLog {
    fn lock(&self) -> MutexGuard<'_, Vec<LoggedRequest>> {
        crate::util::lock(&self.inner)
    }

    pub(crate) fn push(&self, entry: LoggedRequest) {
        self.lock().push(entry);
    }

    /// A snapshot of all entries, oldest first. This clones every entry.
    pub fn entries(&self) -> Vec<LoggedRequest> {
        self.lock().clone()
    }

    /// How many requests were logged.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no request was logged.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// How many requests had this method and path (`"POST"`, `"/v1/messages"`).
    pub fn count(&self, method: &str, path: &str) -> usize {
        self.lock()
            .iter()
            .filter(|e| e.method.as_str() == method && e.path == path)
            .count()
    }

    /// The entries matching a predicate, oldest first.
    pub fn filter(&self, mut pred: impl FnMut(&LoggedRequest) -> bool) -> Vec<LoggedRequest> {
        self.lock().iter().filter(|e| pred(e)).cloned().collect()
    }

    /// Forgets all entries.
    pub fn clear(&self) {
        self.lock().clear();
    }
}
