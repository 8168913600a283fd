//! [`StreamOptions`] and the one place a streamed `/v1/messages` request is
//! built (for the first attempt and for continuations alike).

use http::{HeaderMap, HeaderName, HeaderValue};
use messages_http::{Request, RequestOptions};
use messages_types::MessageRequest;

use crate::resume::ResumePolicy;

/// How [`MessageStream::open`](crate::MessageStream::open) sends the request and reads the stream.
///
/// The default: no resumption, the transport's timeouts (including its idle
/// timeout between chunks), and sse-core's 16 MiB event size limit.
#[derive(Debug, Clone, Default)]
pub struct StreamOptions {
    pub(crate) resume: Option<ResumePolicy>,
    pub(crate) max_event_size: Option<usize>,
    pub(crate) discard_text: bool,
    pub(crate) max_content_bytes: Option<u64>,
    pub(crate) request: RequestOptions,
    pub(crate) headers: HeaderMap,
}

impl StreamOptions {
    /// The defaults.
    pub fn new() -> StreamOptions {
        StreamOptions::default()
    }

    /// Resume a stream that breaks mid-way (see [`ResumePolicy`]).
    pub fn resume(mut self, policy: ResumePolicy) -> StreamOptions {
        self.resume = Some(policy);
        self
    }

    /// The largest SSE event accepted, in bytes (default 16 MiB). A larger
    /// event fails the stream with a [decode error](crate::Error::is_decode).
    pub fn max_event_size(mut self, bytes: usize) -> StreamOptions {
        self.max_event_size = Some(bytes);
        self
    }

    /// Do not keep the text of `text` and `thinking` blocks in the snapshot
    /// (see [`Accumulator::discarding_text`](crate::Accumulator::discarding_text)): memory then stays flat however
    /// long the reply, for consumers that use the deltas and never the
    /// final text. The final message has the blocks, tool inputs, stop
    /// reason and usage, with empty text. Resumption needs the text, so a
    /// break then fails with [`Error::is_resume`](crate::Error::is_resume).
    pub fn discard_text(mut self, discard: bool) -> StreamOptions {
        self.discard_text = discard;
        self
    }

    /// The most content bytes (text, thinking and tool input deltas, summed)
    /// a reply may send before it fails with a [protocol
    /// error](crate::Error::is_protocol). Default: what the request's `max_tokens`
    /// allows, [`CONTENT_BYTES_PER_TOKEN`] bytes per token, plus
    /// [`CONTENT_MARGIN`]: a server that sends more is broken or hostile,
    /// and the snapshot must not grow without bound.
    pub fn max_content_bytes(mut self, bytes: u64) -> StreamOptions {
        self.max_content_bytes = Some(bytes);
        self
    }

    /// Per-request transport options: retries, timeouts, idle timeout,
    /// headers and betas (sent again with resumed requests). `streaming` and
    /// `max_tokens` are set by the stream itself.
    pub fn request_options(mut self, options: RequestOptions) -> StreamOptions {
        self.request = options;
        self
    }

    /// Adds a header to the request (and to resumed requests), on top of
    /// those of [`request_options`](StreamOptions::request_options).
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> StreamOptions {
        self.headers.append(name, value);
        self
    }
}

/// Bytes of content one output token may produce, for the content bound
/// (see [`StreamOptions::max_content_bytes`]). Real tokens are a few bytes of
/// text; with JSON escaping a tool input token stays far below this.
pub const CONTENT_BYTES_PER_TOKEN: u64 = 64;

/// Content allowed beyond `max_tokens * CONTENT_BYTES_PER_TOKEN` (1 MiB).
pub const CONTENT_MARGIN: u64 = 1024 * 1024;

/// The HTTP request for a streamed `request`: its JSON with `"stream": true`,
/// serialized once (the field is spliced in front rather than the request
/// cloned or rebuilt as a `serde_json::Value`).
pub(crate) fn stream_request(
    request: &MessageRequest,
    options: &RequestOptions,
    headers: &HeaderMap,
) -> messages_http::Result<Request> {
    let options = options
        .clone()
        .streaming(true)
        .max_tokens(u64::from(request.max_tokens));
    let http = match request.stream {
        Some(true) => Request::post("/v1/messages").with_json(request)?,
        Some(false) => {
            let mut streamed = request.clone();
            streamed.stream = Some(true);
            Request::post("/v1/messages").with_json(&streamed)?
        }
        None => {
            let http = Request::post("/v1/messages").with_json(request)?;
            let json = http.body();
            // A struct always serializes as `{...}` with at least `model`.
            let mut body = Vec::with_capacity(json.len() + 16);
            body.extend_from_slice(b"{\"stream\":true,");
            body.extend_from_slice(json.get(1..).unwrap_or_default());
            http.with_body(body)
        }
    };
    let mut http = http.with_options(options);
    for (name, value) in headers {
        http = http.with_header(name.clone(), value.clone());
    }
    Ok(http)
}
