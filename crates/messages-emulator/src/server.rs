//! The HTTP side: routing, auth, limits, faults, headers and the request log.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::{Bytes, BytesMut};
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, HOST};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use serde::Serialize;
use serde_json::Value;

use crate::Config;
use crate::batch::BatchStore;
use crate::body::Body;
use crate::fault::{ActiveFaults, FaultCounter, FaultKind, FaultSpec};
use crate::generate::{Generation, generate};
use crate::log::{LoggedRequest, RequestLog};
use crate::models::{self, Model};
use crate::stream::{self, StreamOptions};
use crate::util::{Fnv, new_id, now_secs, rfc3339_secs};
use crate::validate::{self, Failure};
use crate::wire::{self, BatchDeleted, ErrorBody, ErrorDetail, ModelInfo, Page, TokenCount};

/// The header that injects faults into one request.
pub(crate) const FAULT_HEADER: &str = "x-emulator-fault";
/// The header that turns a streaming request into a firehose.
pub(crate) const FIREHOSE_HEADER: &str = "x-emulator-firehose";

/// Everything the handlers share.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) config: Config,
    pub(crate) models: Arc<Vec<Model>>,
    pub(crate) faults: FaultCounter,
    pub(crate) limiter: crate::ratelimit::Limiter,
    pub(crate) log: Option<RequestLog>,
    pub(crate) batches: Arc<BatchStore>,
    pub(crate) requests_served: AtomicU64,
    /// Streams whose client went away before the stream ended.
    pub(crate) cancelled_streams: Arc<AtomicU64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route<'a> {
    Messages,
    CountTokens,
    ListModels,
    GetModel(&'a str),
    CreateBatch,
    ListBatches,
    GetBatch(&'a str),
    CancelBatch(&'a str),
    DeleteBatch(&'a str),
    BatchResults(&'a str),
}

impl Route<'_> {
    fn takes_json_body(self) -> bool {
        matches!(
            self,
            Route::Messages | Route::CountTokens | Route::CreateBatch
        )
    }
}

fn route<'a>(method: &Method, path: &'a str) -> Option<Route<'a>> {
    let path = path.strip_suffix('/').unwrap_or(path);
    let segs: Vec<&str> = path.split('/').skip(1).collect();
    let id_ok = |s: &str| !s.is_empty();
    match (method, segs.as_slice()) {
        (&Method::POST, ["v1", "messages"]) => Some(Route::Messages),
        (&Method::POST, ["v1", "messages", "count_tokens"]) => Some(Route::CountTokens),
        (&Method::GET, ["v1", "models"]) => Some(Route::ListModels),
        (&Method::GET, ["v1", "models", id]) if id_ok(id) => Some(Route::GetModel(id)),
        (&Method::POST, ["v1", "messages", "batches"]) => Some(Route::CreateBatch),
        (&Method::GET, ["v1", "messages", "batches"]) => Some(Route::ListBatches),
        (&Method::GET, ["v1", "messages", "batches", id]) if id_ok(id) => Some(Route::GetBatch(id)),
        (&Method::DELETE, ["v1", "messages", "batches", id]) if id_ok(id) => {
            Some(Route::DeleteBatch(id))
        }
        (&Method::POST, ["v1", "messages", "batches", id, "cancel"]) if id_ok(id) => {
            Some(Route::CancelBatch(id))
        }
        (&Method::GET, ["v1", "messages", "batches", id, "results"]) if id_ok(id) => {
            Some(Route::BatchResults(id))
        }
        _ => None,
    }
}

/// What a handler produced before the common headers are added.
struct Reply {
    status: u16,
    content_type: &'static str,
    body: Body,
    extra: Vec<(&'static str, String)>,
}

impl Reply {
    fn json<T: Serialize>(value: &T) -> Reply {
        Reply {
            status: 200,
            content_type: "application/json",
            body: Body::full(wire::to_string(value)),
            extra: Vec::new(),
        }
    }

    fn failure(f: &Failure, request_id: &str) -> Reply {
        let text = wire::to_string(&ErrorBody {
            error: ErrorDetail {
                kind: &f.kind,
                message: &f.message,
            },
            request_id: Some(request_id),
        });
        Reply {
            status: f.status,
            content_type: "application/json",
            body: Body::full(text),
            extra: Vec::new(),
        }
    }
}

/// Serves one request. Never fails: every problem becomes an API-shaped error.
pub(crate) async fn handle(
    state: Arc<State>,
    req: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let request_id = new_id("req_");
    let (parts, incoming) = req.into_parts();
    let path = parts.uri.path().to_owned();
    let query = parts.uri.query().map(str::to_owned);
    let mut body_bytes = Bytes::new();
    let reply = match serve(&state, &parts, incoming, &request_id, &mut body_bytes).await {
        Ok(r) => r,
        Err(f) => Reply::failure(&f, &request_id),
    };
    if !state.config.latency.is_zero() {
        tokio::time::sleep(state.config.latency).await;
    }
    if let Some(log) = &state.log {
        log.push(LoggedRequest {
            method: parts.method.clone(),
            path,
            query,
            headers: parts.headers.clone(),
            body: body_bytes,
            status: reply.status,
            request_id: request_id.clone(),
        });
    }
    let timed_out = reply.status == 408;
    let mut resp = finish(&state, reply, &request_id);
    if timed_out && parts.version <= http::Version::HTTP_11 {
        // The rest of a slow body is not waited for: close the connection.
        resp.headers_mut().insert(
            http::header::CONNECTION,
            http::HeaderValue::from_static("close"),
        );
    }
    Ok(resp)
}

fn finish(state: &State, reply: Reply, request_id: &str) -> Response<Body> {
    let served = state.requests_served.fetch_add(1, Ordering::Relaxed);
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = Response::new(reply.body);
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(reply.content_type));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("request-id", v);
    }
    let now = now_secs();
    let reset = rfc3339_secs(now + 1.0);
    let remaining = 4000 - (served % 4000);
    let mut limits: [(&str, u64, u64, String); 4] = [
        ("requests", 4000, remaining, reset.clone()),
        ("tokens", 2_000_000, 2_000_000, reset.clone()),
        ("input-tokens", 1_600_000, 1_600_000, reset.clone()),
        ("output-tokens", 400_000, 400_000, reset),
    ];
    // Configured limits replace the fixed figures.
    let (requests, tokens) = state.limiter.snapshot();
    for (slot, snap) in [(0, requests), (1, tokens)] {
        if let Some(s) = snap {
            let at = crate::util::rfc3339(now + s.reset_in);
            limits[slot] = (limits[slot].0, s.limit, s.remaining, at);
        }
    }
    for (name, limit, left, reset) in limits {
        for (suffix, value) in [
            ("limit", limit.to_string()),
            ("remaining", left.to_string()),
            ("reset", reset),
        ] {
            if let (Ok(n), Ok(v)) = (
                http::HeaderName::from_bytes(
                    format!("anthropic-ratelimit-{name}-{suffix}").as_bytes(),
                ),
                HeaderValue::from_str(&value),
            ) {
                h.insert(n, v);
            }
        }
    }
    if reply.content_type.starts_with("text/event-stream") {
        h.insert("cache-control", HeaderValue::from_static("no-cache"));
    }
    for (name, value) in reply.extra {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(name, v);
        }
    }
    resp
}

async fn serve(
    state: &State,
    parts: &http::request::Parts,
    incoming: Incoming,
    request_id: &str,
    body_out: &mut Bytes,
) -> Result<Reply, Failure> {
    let path = parts.uri.path();
    let Some(route) = route(&parts.method, path) else {
        return Err(Failure::not_found(format!(
            "Not Found: {} {path}",
            parts.method
        )));
    };
    check_auth(&state.config, &parts.headers)?;

    if route.takes_json_body() {
        let ct = parts
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let mime = ct.split(';').next().unwrap_or("").trim();
        if !mime.eq_ignore_ascii_case("application/json") {
            return Err(Failure::invalid(format!(
                "content-type: expected application/json, got {}",
                if ct.is_empty() {
                    "no content-type header"
                } else {
                    ct
                }
            )));
        }
    }
    let limit = if route == Route::CreateBatch {
        state.config.max_batch_bytes
    } else {
        state.config.max_body_bytes
    };
    let timeout = state.config.body_timeout;
    let body = tokio::time::timeout(timeout, read_body(incoming, &parts.headers, limit))
        .await
        .map_err(|_| {
            Failure::new(
                408,
                "timeout_error",
                format!(
                    "the request body did not arrive within {} s",
                    timeout.as_secs_f64()
                ),
            )
        })??;
    *body_out = body.clone();

    // Faults: the header replaces the server-wide faults for this request.
    let spec_owned;
    let spec = match parts.headers.get(FAULT_HEADER) {
        Some(v) => {
            let text = v.to_str().map_err(|_| {
                Failure::invalid(format!("{FAULT_HEADER}: header is not valid UTF-8"))
            })?;
            spec_owned = FaultSpec::parse(text)
                .map_err(|e| Failure::invalid(format!("{FAULT_HEADER}: {e}")))?;
            &spec_owned
        }
        None => &state.config.faults,
    };
    let faults = if spec.is_empty() {
        ActiveFaults::default()
    } else {
        let mut h = Fnv::new();
        h.write(parts.method.as_str().as_bytes());
        h.write(b" ");
        h.write(parts.uri.path().as_bytes());
        h.write(b"\0");
        h.write(&body);
        h.write(b"\0");
        h.write(spec.source.as_bytes());
        state
            .faults
            .activate(spec, h.finish(), parts.method.as_str(), parts.uri.path())
    };
    if let Some(ms) = faults.hang_ms {
        // Nothing is sent until then; a client that leaves first drops this
        // future, and the sleep with it.
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }
    if let Some(FaultKind::Status {
        code,
        error_type,
        retry_after,
        retry_after_ms,
        should_retry,
    }) = &faults.status
    {
        let kind = error_type
            .clone()
            .unwrap_or_else(|| error_type_for_status(*code).to_owned());
        let message = stream::error_message(&kind);
        let mut reply = Reply::failure(&Failure::new(*code, &kind, message), request_id);
        if let Some(s) = retry_after {
            reply.extra.push(("retry-after", s.clone()));
        }
        if let Some(ms) = retry_after_ms {
            reply.extra.push(("retry-after-ms", ms.to_string()));
        }
        if let Some(b) = should_retry {
            reply.extra.push(("x-should-retry", b.to_string()));
        }
        return Ok(reply);
    }

    if route == Route::Messages
        && let Err((wait, what)) = state.limiter.admit(crate::ratelimit::charge(&body))
    {
        let message = format!("This request would exceed the rate limit for {what} per minute.");
        let mut reply = Reply::failure(&Failure::new(429, "rate_limit_error", message), request_id);
        let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
        reply.extra.push(("retry-after", secs.to_string()));
        return Ok(reply);
    }

    let base_url = base_url(&parts.headers, state);
    match route {
        Route::Messages => messages(state, &parts.headers, &body, faults),
        Route::CountTokens => {
            let mut obj = validate::parse_object(&body)?;
            obj.remove("stream");
            if obj.get("max_tokens").is_none_or(Value::is_null) {
                // Token counting takes no `max_tokens`; any valid value does.
                obj.insert("max_tokens".into(), Value::from(1));
            }
            let p =
                validate::message_request(&obj, &state.models, &rules(state, &parts.headers)?, "")?;
            Ok(Reply::json(&TokenCount {
                input_tokens: p.input_tokens,
            }))
        }
        Route::ListModels => {
            let items: Vec<(String, ModelInfo<'_>)> = state
                .models
                .iter()
                .map(|m| (m.id.clone(), m.info()))
                .collect();
            page(&items, query(parts))
        }
        Route::GetModel(id) => models::find(&state.models, id)
            .map(|m| Reply::json(&m.info()))
            .ok_or_else(|| Failure::not_found(format!("model: {id}"))),
        Route::CreateBatch => {
            let obj = validate::parse_object(&body)?;
            let version = rules(state, &parts.headers)?.version;
            state
                .batches
                .create(&obj, &base_url, faults.batch_expiry_ms, version)
                .map(|v| Reply::json(&v))
        }
        Route::ListBatches => page(&state.batches.list(&base_url), query(parts)),
        Route::GetBatch(id) => state.batches.get(id, &base_url).map(|v| Reply::json(&v)),
        Route::CancelBatch(id) => state.batches.cancel(id, &base_url).map(|v| Reply::json(&v)),
        Route::DeleteBatch(id) => state
            .batches
            .delete(id)
            .map(|()| Reply::json(&BatchDeleted { id })),
        Route::BatchResults(id) => {
            let lines = state.batches.results(id)?;
            if let Some(n) = faults.malformed_results {
                return Ok(Reply {
                    status: 200,
                    content_type: "application/x-jsonl",
                    body: malformed_results(lines, n, Arc::clone(&state.cancelled_streams)),
                    extra: Vec::new(),
                });
            }
            let mut buf = BytesMut::new();
            match faults.truncate_results {
                Some(n) => {
                    let n = usize::try_from(n).unwrap_or(usize::MAX);
                    for l in lines.iter().take(n) {
                        buf.extend_from_slice(l);
                    }
                    if let Some(next) = lines.get(n) {
                        buf.extend_from_slice(&next[..next.len() / 2]);
                    }
                }
                None => {
                    for l in &lines {
                        buf.extend_from_slice(l);
                    }
                }
            }
            Ok(Reply {
                status: 200,
                content_type: "application/x-jsonl",
                body: Body::full(buf.freeze()),
                extra: Vec::new(),
            })
        }
    }
}

/// How long `malformed-results` waits after the bad line.
const MALFORMED_RESULTS_PAUSE: std::time::Duration = std::time::Duration::from_millis(250);

/// The `malformed-results=N` body: the results a line per chunk, line
/// `N + 1` replaced by one that is not JSON, then a pause. A client that
/// leaves (the body is dropped) is counted in `cancelled`.
fn malformed_results(lines: Vec<Bytes>, n: u64, cancelled: Arc<AtomicU64>) -> Body {
    let bad = usize::try_from(n).unwrap_or(usize::MAX);
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    tokio::spawn(async move {
        for (i, line) in lines.into_iter().enumerate() {
            let line = if i == bad { not_json(&line) } else { line };
            if tx.send(Ok(line)).await.is_err() {
                cancelled.fetch_add(1, Ordering::Relaxed);
                return;
            }
            if i == bad {
                tokio::select! {
                    () = tx.closed() => {
                        cancelled.fetch_add(1, Ordering::Relaxed);
                        return;
                    }
                    () = tokio::time::sleep(MALFORMED_RESULTS_PAUSE) => {}
                }
            }
        }
    });
    Body::Channel(rx)
}

/// A results line with the same `custom_id` whose `result` is cut short.
fn not_json(line: &[u8]) -> Bytes {
    let id = serde_json::from_slice::<Value>(line)
        .ok()
        .and_then(|v| v["custom_id"].as_str().map(str::to_owned))
        .unwrap_or_default();
    let id = Value::String(id);
    Bytes::from(format!(
        "{{\"custom_id\":{id},\"result\":{{\"type\":\"succeeded\",\"message\":}}}}\n"
    ))
}

fn query(parts: &http::request::Parts) -> Vec<(String, String)> {
    parts
        .uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

/// Pages a newest-first list by `before_id`, `after_id` and `limit`.
fn page<T: Serialize>(
    items: &[(String, T)],
    query: Vec<(String, String)>,
) -> Result<Reply, Failure> {
    let mut limit = 20usize;
    let mut before = None;
    let mut after = None;
    for (k, v) in query {
        match k.as_str() {
            "limit" => {
                let n: usize = v.parse().map_err(|_| {
                    Failure::invalid(format!("limit: Input should be a valid integer, got '{v}'"))
                })?;
                if !(1..=1000).contains(&n) {
                    return Err(Failure::invalid(format!(
                        "limit: Input should be between 1 and 1000, got {n}"
                    )));
                }
                limit = n;
            }
            "before_id" => before = Some(v),
            "after_id" => after = Some(v),
            _ => {}
        }
    }
    if before.is_some() && after.is_some() {
        return Err(Failure::invalid(
            "before_id, after_id: only one of them may be given",
        ));
    }
    let position = |id: &str| items.iter().position(|(i, _)| i == id);
    let (slice, has_more): (&[(String, T)], bool) = if let Some(a) = after {
        let start = position(&a).map_or(items.len(), |p| p + 1);
        let end = (start + limit).min(items.len());
        (&items[start..end], end < items.len())
    } else if let Some(b) = before {
        let end = position(&b).unwrap_or(0);
        let start = end.saturating_sub(limit);
        (&items[start..end], start > 0)
    } else {
        let end = limit.min(items.len());
        (&items[..end], end < items.len())
    };
    let data: Vec<&T> = slice.iter().map(|(_, v)| v).collect();
    Ok(Reply::json(&Page {
        data: &data,
        has_more,
        first_id: slice.first().map(|(i, _)| i.as_str()),
        last_id: slice.last().map(|(i, _)| i.as_str()),
    }))
}

fn base_url(headers: &HeaderMap, state: &State) -> String {
    match headers.get(HOST).and_then(|h| h.to_str().ok()) {
        Some(host) if !host.is_empty() => format!("http://{host}"),
        _ => format!("http://{}", state.config.addr),
    }
}

/// The validation rules of a request: its `anthropic-version` and today.
fn rules(state: &State, headers: &HeaderMap) -> Result<validate::Rules, Failure> {
    let version = match headers.get("anthropic-version") {
        None => None,
        Some(v) => Some(v.to_str().map_err(|_| {
            Failure::invalid("anthropic-version: header is not valid UTF-8".to_owned())
        })?),
    };
    validate::Rules::for_version(version, state.config.today.as_deref().unwrap_or(""))
}

/// Checks the key. The API takes `x-api-key` or `Authorization: Bearer`;
/// when both are sent it uses `x-api-key` (as reported for the 2026-10-21
/// SDK majors, which send the Bearer form), so only that one is checked.
fn check_auth(config: &Config, headers: &HeaderMap) -> Result<(), Failure> {
    let api_key = headers.get("x-api-key").and_then(|v| v.to_str().ok());
    let bearer = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    let presented: Vec<&str> = match api_key.filter(|k| !k.is_empty()) {
        Some(k) => vec![k],
        None => bearer.into_iter().filter(|k| !k.is_empty()).collect(),
    };
    let auth = |m: &str| Failure::new(401, "authentication_error", m);
    if presented.is_empty() {
        return Err(auth(
            "x-api-key header is required (or an Authorization: Bearer token)",
        ));
    }
    if let Some(expected) = &config.api_key
        && !presented.iter().any(|k| k == expected)
    {
        return Err(auth("invalid x-api-key"));
    }
    Ok(())
}

async fn read_body(
    mut incoming: Incoming,
    headers: &HeaderMap,
    limit: usize,
) -> Result<Bytes, Failure> {
    let too_large = |n: String| {
        Failure::new(
            413,
            "request_too_large",
            format!("Request exceeds the maximum allowed number of bytes: {n} > {limit}"),
        )
    };
    if let Some(len) = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        && len > limit as u64
    {
        return Err(too_large(len.to_string()));
    }
    let mut buf = BytesMut::new();
    while let Some(frame) = incoming.frame().await {
        let frame =
            frame.map_err(|e| Failure::invalid(format!("could not read the request body: {e}")))?;
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > limit {
                return Err(too_large(format!("at least {}", buf.len() + data.len())));
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(buf.freeze())
}

fn messages(
    state: &State,
    headers: &HeaderMap,
    body: &[u8],
    faults: ActiveFaults,
) -> Result<Reply, Failure> {
    let obj = validate::parse_object(body)?;
    let params = validate::message_request(&obj, &state.models, &rules(state, headers)?, "")?;
    if !params.stream {
        let mut g = generate(&params);
        g.apply_content_faults(&faults, params.seed, params.max_tokens);
        return Ok(Reply::json(&g.message()));
    }
    let sse = "text/event-stream; charset=utf-8";
    if let Some(replay) = &state.config.replay {
        return Ok(Reply {
            status: 200,
            content_type: sse,
            body: Body::full(replay.clone()),
            extra: Vec::new(),
        });
    }
    if let Some(v) = headers.get(FIREHOSE_HEADER) {
        let n: u64 = v
            .to_str()
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .ok_or_else(|| {
                Failure::invalid(format!(
                    "{FIREHOSE_HEADER}: expected a number of text deltas"
                ))
            })?;
        return Ok(Reply {
            status: 200,
            content_type: sse,
            body: stream::firehose(&Generation::head(&params), n, state.config.pad_json),
            extra: Vec::new(),
        });
    }
    let mut g = generate(&params);
    g.apply_content_faults(&faults, params.seed, params.max_tokens);
    let events = stream::events(&g, state.config.ping_every);
    let opts = StreamOptions {
        token_delay: state.config.token_delay,
        pad_json: state.config.pad_json,
        stamp_text: state.config.stamp_text,
        cancelled: Arc::clone(&state.cancelled_streams),
    };
    Ok(Reply {
        status: 200,
        content_type: sse,
        body: stream::body(events, opts, faults),
        extra: Vec::new(),
    })
}

/// The error type the API uses for a status code.
fn error_type_for_status(status: u16) -> &'static str {
    match status {
        400 | 409 | 422 => "invalid_request_error",
        401 => "authentication_error",
        402 => "billing_error",
        403 => "permission_error",
        404 => "not_found_error",
        408 | 504 => "timeout_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        529 => "overloaded_error",
        _ => "api_error",
    }
}
