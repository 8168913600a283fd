//! Shared setup: an emulator without pacing and a transport pointed at it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderName, HeaderValue};
use messages_emulator::{Emulator, EmulatorBuilder, EmulatorHandle};
use messages_http::{Request, Transport};
use messages_stream::{MessageStream, StreamOptions};
use messages_types::{Message, MessageRequest};

pub(crate) const MODEL: &str = "claude-sonnet-4-6";

pub(crate) fn builder() -> EmulatorBuilder {
    Emulator::builder()
        .token_delay(Duration::ZERO)
        .batch_pace(Duration::ZERO)
}

pub(crate) async fn start() -> EmulatorHandle {
    builder().start().await.expect("emulator starts")
}

pub(crate) fn transport(emu: &EmulatorHandle) -> Transport {
    Transport::builder()
        .api_key("test-key")
        .base_url(emu.base_url())
        .build()
        .expect("transport")
}

/// A transport that sends `x-emulator-fault` only on the first request: a
/// network that fails once, so a resumed stream's continuation goes through.
pub(crate) fn transport_failing_once(emu: &EmulatorHandle, fault: &'static str) -> Transport {
    let sent = Arc::new(AtomicUsize::new(0));
    Transport::builder()
        .api_key("test-key")
        .base_url(emu.base_url())
        .layer(tower::util::MapRequestLayer::new(
            move |mut req: http::Request<Bytes>| {
                if sent.fetch_add(1, Ordering::SeqCst) == 0 {
                    req.headers_mut()
                        .insert("x-emulator-fault", HeaderValue::from_static(fault));
                }
                req
            },
        ))
        .build()
        .expect("transport")
}

pub(crate) fn fault(spec: &'static str) -> StreamOptions {
    StreamOptions::new().header(
        HeaderName::from_static("x-emulator-fault"),
        HeaderValue::from_static(spec),
    )
}

pub(crate) fn request(prompt: &str, max_tokens: u32) -> MessageRequest {
    MessageRequest::new(MODEL, max_tokens).user(prompt)
}

pub(crate) async fn open(
    t: &Transport,
    req: &MessageRequest,
    opts: StreamOptions,
) -> MessageStream {
    MessageStream::open(t, req, opts)
        .await
        .expect("stream opens")
}

/// The same request answered without streaming.
pub(crate) async fn non_streamed(t: &Transport, req: &MessageRequest) -> Message {
    let resp = t
        .send(Request::post("/v1/messages").with_json(req).expect("json"))
        .await
        .expect("non-streamed request");
    resp.json().await.expect("message JSON")
}
