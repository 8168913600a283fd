//! The send path: [`Transport::send`].

use tokio::time::Instant;
use tower::ServiceExt;
use tracing::Instrument;

use super::error_body::api_error;
use super::{DEFAULT_TIMEOUT, Transport};
use crate::Request;
use crate::error::{Error, Result, TimeoutKind};
use crate::response::{Body, Response};
use crate::retry::{AttemptCounter, MaxRetries};
use crate::timeout::PerAttempt;

impl Transport {
    /// Sends `req` through the stack and returns the response once its
    /// headers arrived with a 2xx status.
    ///
    /// Retries (per the retry contract) happen inside this call, before the
    /// response is returned; the body is never replayed.
    ///
    /// # Errors
    ///
    /// - [`Error::is_streaming_required`]: a non-streaming request whose
    ///   `max_tokens` implies more than 10 minutes, with no explicit timeout;
    /// - [`Error::is_builder`]: bad path or header, or credentials over plain
    ///   HTTP to a non-loopback host;
    /// - [`Error::is_api`]: a non-2xx status after retries (the body is read,
    ///   up to 64 KiB, into [`Error::api_error`]);
    /// - [`Error::is_connect`], [`Error::is_timeout`], [`Error::is_request`].
    ///
    /// # Cancel safety
    ///
    /// Dropping the future cancels the attempt in flight or the wait before
    /// a retry; its connection is closed, nothing else is affected.
    pub async fn send(&self, req: Request) -> Result<Response> {
        let cfg = &self.inner.config;
        let opts = req.options.clone();
        if let Some(max_tokens) = opts.max_tokens {
            let explicit = opts.timeout.is_some() || cfg.timeout.is_some();
            // Expected duration: 3600 s * max_tokens / 128,000 > 600 s.
            if !opts.streaming && !explicit && max_tokens.saturating_mul(3600) > 600 * 128_000 {
                return Err(Error::streaming_required(max_tokens));
            }
        }
        let uri = self.url(&req.target)?;
        let path = uri.path().to_owned();
        let headers = self.headers(&req)?;

        let mut http_req = http::Request::new(req.body);
        *http_req.method_mut() = req.method.clone();
        *http_req.uri_mut() = uri;
        *http_req.headers_mut() = headers;
        if let Some(n) = opts.max_retries {
            http_req.extensions_mut().insert(MaxRetries(n));
        }
        if let Some(t) = opts.attempt_timeout {
            http_req.extensions_mut().insert(PerAttempt(Some(t)));
        } else if opts.streaming
            && let Some(h) = cfg.header_timeout
        {
            let t = cfg.attempt_timeout.map_or(h, |a| a.min(h));
            http_req.extensions_mut().insert(PerAttempt(Some(t)));
        }
        let counter = AttemptCounter::default();
        http_req.extensions_mut().insert(counter.clone());

        let span = tracing::info_span!(
            "messages_http.request",
            method = %req.method,
            path = %path,
            attempt = tracing::field::Empty,
            status = tracing::field::Empty,
            request_id = tracing::field::Empty,
            latency_ms = tracing::field::Empty,
        );
        let deadline_len = opts.timeout.or(cfg.timeout).unwrap_or(DEFAULT_TIMEOUT);
        let start = Instant::now();
        let deadline = start + deadline_len;
        let call = self.inner.service.clone().oneshot(http_req);
        let result = tokio::time::timeout_at(deadline, call)
            .instrument(span.clone())
            .await;
        let latency_ms = start.elapsed().as_millis() as u64;
        span.record("latency_ms", latency_ms);
        let resp = match result {
            Err(_elapsed) => {
                let _g = span.enter();
                tracing::info!(latency_ms, "deadline exceeded");
                return Err(Error::timeout(TimeoutKind::Deadline(deadline_len))
                    .with_attempts(counter.get()));
            }
            Ok(Err(e)) => {
                let err = Error::from_stack(e).with_attempts(counter.get());
                let _g = span.enter();
                tracing::info!(latency_ms, error = %err, "request failed");
                return Err(err);
            }
            Ok(Ok(resp)) => resp,
        };

        // The same count as the error paths above report.
        let attempts = counter.get();
        let (parts, body) = resp.into_parts();
        let request_id = parts
            .headers
            .get("request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        span.record("status", parts.status.as_u16());
        if let Some(id) = &request_id {
            span.record("request_id", id.as_str());
        }
        {
            let _g = span.enter();
            tracing::info!(
                status = parts.status.as_u16(),
                latency_ms,
                attempts,
                "response headers"
            );
        }
        // An explicit timeout (per request or the transport's) bounds the
        // whole exchange, body included, streaming or not. Streaming
        // requests without one: the default deadline covered the headers;
        // the body is guarded by the idle timeout.
        let explicit_timeout = opts.timeout.is_some() || cfg.timeout.is_some();
        let body_deadline =
            (!opts.streaming || explicit_timeout).then_some((deadline_len, deadline));
        let idle = opts.idle_timeout.unwrap_or(cfg.idle_timeout);
        let body = Body::new(body, idle, body_deadline, request_id.clone(), attempts)
            .with_max_size(opts.max_body_size.unwrap_or(cfg.max_body_size));
        if !parts.status.is_success() {
            return Err(api_error(parts.status, body, request_id, attempts)
                .await
                .with_headers(parts.headers));
        }
        Ok(Response::new(
            parts.status,
            parts.version,
            parts.headers,
            attempts,
            body,
        ))
    }
}
