//! Shared helpers: an emulator, a transport pointed at it, small requests.

use std::time::Duration;

use messages_batch::{BatchJob, Batches};
use messages_emulator::{Emulator, EmulatorBuilder, EmulatorHandle};
use messages_http::{Transport, TransportBuilder};
use messages_types::MessageRequest;

pub(crate) const MODEL: &str = "claude-haiku-4-5";

/// An emulator for tests: no pacing, fast batches.
pub(crate) fn emulator() -> EmulatorBuilder {
    Emulator::builder()
        .token_delay(Duration::ZERO)
        .batch_pace(Duration::ZERO)
}

pub(crate) fn transport_builder(emu: &EmulatorHandle) -> TransportBuilder {
    Transport::builder()
        .api_key("test-key")
        .base_url(emu.base_url())
}

pub(crate) fn batches(emu: &EmulatorHandle) -> Batches {
    Batches::new(transport_builder(emu).build().expect("transport"))
}

/// Batches whose every request carries the emulator fault `spec`.
pub(crate) fn faulty_batches(emu: &EmulatorHandle, spec: &str) -> Batches {
    Batches::new(
        transport_builder(emu)
            .default_header("x-emulator-fault", spec)
            .build()
            .expect("transport"),
    )
}

/// Reads `stream` up to its error: how many items came before it, and the
/// error. Panics when the stream ends without one.
pub(crate) async fn items_until_error<T>(
    stream: &mut (impl futures_util::Stream<Item = messages_batch::Result<T>> + Unpin),
) -> (u64, messages_batch::Error) {
    let mut items = 0;
    loop {
        match futures_util::TryStreamExt::try_next(stream).await {
            Ok(Some(_)) => items += 1,
            Ok(None) => panic!("the stream ended without an error after {items} items"),
            Err(e) => return (items, e),
        }
    }
}

/// A small request whose prompt names `id`, so the request log can be
/// mapped back to custom_ids.
pub(crate) fn request(id: &str) -> MessageRequest {
    MessageRequest::new(MODEL, 24).user(format!("prompt for {id}"))
}

pub(crate) fn job(n: usize) -> BatchJob {
    let mut job = BatchJob::new();
    for i in 0..n {
        let id = format!("req-{i}");
        job.add(id.clone(), request(&id)).expect("valid request");
    }
    job
}

/// The custom_id a logged `POST /v1/messages` body was made for.
pub(crate) fn custom_id_of(body: &serde_json::Value) -> String {
    let text = body["messages"][0]["content"]
        .as_str()
        .expect("text content");
    text.strip_prefix("prompt for ")
        .expect("a prompt made by `request`")
        .to_owned()
}

/// Fast polling for tests.
pub(crate) fn fast_wait() -> messages_batch::WaitOptions {
    messages_batch::WaitOptions::new().interval(Duration::from_millis(5), Duration::from_millis(50))
}

pub(crate) use test_support::TempDir;
