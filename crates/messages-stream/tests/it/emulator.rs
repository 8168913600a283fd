//! Streams from the emulator: every content kind and every fault.

use std::time::Duration;

use futures_util::StreamExt;
use messages_http::RequestOptions;
use messages_stream::{ResumePolicy, StreamOptions, Update};
use messages_types::error::ErrorType;
use messages_types::{ContentBlock, StopReason, StreamEvent, Tool, ToolChoice};
use serde_json::{Value, json};

use crate::support::*;

#[tokio::test]
async fn text_accumulates_to_the_non_streamed_message() {
    let emu = start().await;
    let t = transport(&emu);
    let req = request("Tell me about streams of tokens", 200);
    let mut stream = open(&t, &req, StreamOptions::new()).await;
    assert!(stream.request_id().is_some_and(|id| id.starts_with("req_")));
    let mut deltas = String::new();
    let mut text = stream.text_deltas();
    while let Some(d) = text.next().await {
        deltas.push_str(d.expect("delta").as_str());
    }
    assert!(stream.is_complete());
    let message = stream.final_message().await.expect("final message");
    assert_eq!(message, non_streamed(&t, &req).await);
    assert_eq!(message.text(), deltas);
    assert!(!deltas.is_empty());
    assert_eq!(message.stop_reason, Some(StopReason::EndTurn));
}

#[tokio::test]
async fn typed_events_include_pings_in_api_order() {
    let emu = builder().ping_every(2).start().await.expect("emulator");
    let t = transport(&emu);
    let stream = open(&t, &request("ping me", 60), StreamOptions::new()).await;
    let events: Vec<StreamEvent> = stream.map(|e| e.expect("event")).collect().await;
    let kinds: Vec<&str> = events.iter().map(StreamEvent::kind).collect();
    assert_eq!(kinds.first(), Some(&"message_start"));
    assert_eq!(kinds.last(), Some(&"message_stop"));
    assert!(kinds.contains(&"ping"), "{kinds:?}");
    assert_eq!(kinds[kinds.len() - 2], "message_delta");
}

#[tokio::test]
async fn final_text_joins_the_text_blocks() {
    let emu = start().await;
    let t = transport(&emu);
    let req = request("final text please", 80);
    let text = open(&t, &req, StreamOptions::new())
        .await
        .final_text()
        .await
        .expect("text");
    assert_eq!(text, non_streamed(&t, &req).await.text());
}

fn weather_tool() -> Tool {
    Tool::custom(
        "get_weather",
        json!({
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "days": {"type": "integer"},
                "units": {"type": "string", "enum": ["metric", "imperial"]}
            },
            "required": ["city", "days", "units"]
        }),
    )
}

#[tokio::test]
async fn tool_input_has_previews_and_is_parsed_at_block_stop() {
    let emu = start().await;
    let t = transport(&emu);
    let req = request("What is the weather in Paris?", 300)
        .tool(weather_tool())
        .tool_choice(ToolChoice::tool("get_weather"));
    let mut stream = open(&t, &req, StreamOptions::new()).await;
    let mut previews: Vec<Value> = Vec::new();
    let mut raw_seen = String::new();
    let mut done_input = None;
    while let Some(update) = stream.next_update().await {
        match update.expect("update") {
            Update::ToolInput {
                name,
                delta,
                partial,
                raw,
                ..
            } => {
                assert_eq!(name, "get_weather");
                raw_seen.push_str(delta);
                assert_eq!(raw, raw_seen);
                if let Some(v) = partial {
                    previews.push(v.clone());
                }
            }
            Update::BlockDone {
                block: ContentBlock::ToolUse(b),
                ..
            } => done_input = Some(b.input.clone()),
            _ => {}
        }
    }
    let input = done_input.expect("tool_use block finished");
    assert_eq!(
        previews.last(),
        Some(&input),
        "the last preview is the parsed input"
    );
    assert!(
        previews.len() > 1,
        "previews after each delta: {previews:?}"
    );
    assert!(
        input["city"].is_string() && input["days"].is_i64(),
        "{input}"
    );
    let message = stream.final_message().await.expect("message");
    assert_eq!(message.stop_reason, Some(StopReason::ToolUse));
    assert_eq!(message, non_streamed(&t, &req).await);
}

#[tokio::test]
async fn thinking_and_signature_accumulate() {
    let emu = start().await;
    let t = transport(&emu);
    let req = request("Think about rivers", 2048).thinking(1024);
    let mut stream = open(&t, &req, StreamOptions::new()).await;
    let (mut thinking, mut signatures) = (String::new(), 0);
    while let Some(update) = stream.next_update().await {
        match update.expect("update") {
            Update::Thinking {
                delta, snapshot, ..
            } => {
                thinking.push_str(delta);
                assert_eq!(snapshot, thinking);
            }
            Update::Signature { signature, .. } => {
                assert!(!signature.is_empty());
                signatures += 1;
            }
            _ => {}
        }
    }
    assert!(signatures >= 1);
    let message = stream.final_message().await.expect("message");
    match &message.content[0] {
        ContentBlock::Thinking(b) => {
            assert_eq!(b.thinking, thinking);
            assert!(!b.signature.is_empty());
        }
        other => panic!("first block is {other:?}"),
    }
    assert_eq!(message, non_streamed(&t, &req).await);
}

#[tokio::test]
async fn stop_sequences_and_max_tokens() {
    let emu = start().await;
    let t = transport(&emu);
    let full = non_streamed(&t, &request("stop somewhere in the middle", 400)).await;
    let text = full.text();
    let words: Vec<&str> = text.split_whitespace().collect();
    let stop = words[words.len() / 2];
    let req = request("stop somewhere in the middle", 400).stop_sequence(stop);
    let message = open(&t, &req, StreamOptions::new())
        .await
        .final_message()
        .await
        .expect("message");
    assert_eq!(message.stop_reason, Some(StopReason::StopSequence));
    assert_eq!(message.stop_sequence.as_deref(), Some(stop));
    assert_eq!(message, non_streamed(&t, &req).await);

    let req = request("a long answer cut short", 3);
    let message = open(&t, &req, StreamOptions::new())
        .await
        .final_message()
        .await
        .expect("message");
    assert_eq!(message.stop_reason, Some(StopReason::MaxTokens));
    assert_eq!(message.usage.output_tokens, 3);
    assert_eq!(message, non_streamed(&t, &req).await);
}

#[tokio::test]
async fn a_429_is_retried_before_the_stream_starts() {
    let emu = start().await;
    let t = transport(&emu);
    let req = request("rate limited once", 50);
    let stream = open(&t, &req, fault("status=429,retry-after-ms=5,times=1")).await;
    let message = stream.final_message().await.expect("retried stream");
    assert_eq!(message, non_streamed(&t, &req).await);
    // The 429, the retried stream, and the non-streamed comparison.
    assert_eq!(emu.request_log().count("POST", "/v1/messages"), 3);
}

#[tokio::test]
async fn an_error_status_fails_open_with_the_api_error() {
    let emu = start().await;
    let t = transport(&emu);
    let opts = fault("status=529,should-retry=false");
    let err = messages_stream::MessageStream::open(&t, &request("overloaded", 50), opts)
        .await
        .expect_err("529");
    assert!(err.is_http() && err.is_api(), "{err}");
    assert_eq!(
        err.api_error().map(|e| &e.kind),
        Some(&ErrorType::Overloaded)
    );
    assert!(err.request_id().is_some());
}

#[tokio::test]
async fn a_disconnect_is_an_incomplete_stream_with_the_partial_message() {
    let emu = start().await;
    let t = transport(&emu);
    let stream = open(&t, &request("cut me off", 200), fault("disconnect-after=6")).await;
    let err = stream.final_message().await.expect_err("truncated");
    assert!(err.is_incomplete(), "{err:?}");
    assert!(!err.is_idle_timeout());
    assert!(err.request_id().is_some_and(|id| id.starts_with("req_")));
    let partial = err.partial().expect("partial message");
    assert!(partial.stop_reason.is_none());
    assert!(!partial.text().is_empty(), "{partial:?}");
    assert!(err.to_string().contains("incomplete stream"), "{err}");
}

#[tokio::test]
async fn a_mid_stream_error_event_is_a_typed_api_error() {
    let emu = start().await;
    let t = transport(&emu);
    let stream = open(
        &t,
        &request("overload me", 200),
        fault("error-after=5,type=overloaded_error"),
    )
    .await;
    let err = stream.final_message().await.expect_err("error event");
    assert!(err.is_api() && !err.is_http(), "{err:?}");
    assert_eq!(
        err.api_error().map(|e| &e.kind),
        Some(&ErrorType::Overloaded)
    );
    assert!(err.request_id().is_some());
    assert!(err.partial().is_some());
    assert_eq!(err.event_number(), Some(6), "{err}");
}

#[tokio::test]
async fn a_stall_ends_in_the_idle_timeout() {
    let emu = start().await;
    let t = transport(&emu);
    let opts = fault("stall-after=4")
        .request_options(RequestOptions::new().idle_timeout(Some(Duration::from_millis(200))));
    let stream = open(&t, &request("stall", 200), opts).await;
    let err = tokio::time::timeout(Duration::from_secs(10), stream.final_message())
        .await
        .expect("does not hang")
        .expect_err("stalled");
    assert!(err.is_incomplete() && err.is_idle_timeout(), "{err:?}");
}

#[tokio::test]
async fn a_malformed_event_is_a_decode_error_naming_the_event() {
    let emu = start().await;
    let t = transport(&emu);
    let stream = open(&t, &request("malformed", 200), fault("malformed-after=3")).await;
    let err = stream.final_message().await.expect_err("malformed");
    assert!(err.is_decode(), "{err:?}");
    assert_eq!(err.event_number(), Some(4), "{err}");
    let chain = format!("{:#}", anyhow::Error::new(err));
    assert!(chain.contains("content_block_delta"), "{chain}");
}

#[tokio::test]
async fn an_event_over_the_size_limit_is_an_error() {
    let emu = start().await;
    let t = transport(&emu);
    let opts = StreamOptions::new().max_event_size(64);
    let err = open(&t, &request("big events", 50), opts)
        .await
        .final_message()
        .await
        .expect_err("limit");
    assert!(err.is_decode(), "{err:?}");
    assert!(err.to_string().contains("64"), "{err}");
}

#[tokio::test]
async fn resumption_splices_the_continuation_into_one_stream() {
    let emu = start().await;
    let t = transport_failing_once(&emu, "disconnect-after=8");
    let req = request("Resume me after a dropped connection", 300);
    let opts = StreamOptions::new().resume(ResumePolicy::default());
    let mut stream = open(&t, &req, opts).await;
    let mut seen = String::new();
    let mut text = stream.text_deltas();
    while let Some(d) = text.next().await {
        seen.push_str(d.expect("one uninterrupted stream").as_str());
    }
    assert_eq!(stream.resumptions(), 1);
    let message = stream.final_message().await.expect("resumed message");
    assert_eq!(message.text(), seen);
    assert_eq!(
        message.content.len(),
        1,
        "the continuation merged into the text block"
    );
    assert_eq!(message.stop_reason, Some(StopReason::EndTurn));

    // The continuation carried the text received so far as a prefill.
    let log = emu.request_log().entries();
    assert_eq!(log.len(), 2);
    let first = log[0].json().expect("json");
    let second = log[1].json().expect("json");
    let prefill = second["messages"]
        .as_array()
        .and_then(|m| m.last())
        .expect("prefill turn");
    assert_eq!(prefill["role"], "assistant");
    let prefix = prefill["content"][0]["text"]
        .as_str()
        .expect("prefill text")
        .to_owned();
    assert!(
        !prefix.is_empty() && seen.starts_with(&prefix),
        "{prefix:?} / {seen:?}"
    );
    assert!(second["max_tokens"].as_u64() < first["max_tokens"].as_u64());

    // The continuation's own reply, fetched without streaming, is the rest.
    let mut cont_req: messages_types::MessageRequest =
        serde_json::from_value(second.clone()).expect("request");
    cont_req.stream = None;
    let cont = non_streamed(&transport(&emu), &cont_req).await;
    let rest = &seen[prefix.len()..];
    assert_eq!(rest.trim_start(), cont.text().trim_start());
    // Usage is summed: both attempts read the prompt.
    let first_input = non_streamed(&transport(&emu), &req)
        .await
        .usage
        .input_tokens
        .expect("input");
    let cont_input = cont.usage.input_tokens.expect("input");
    assert_eq!(message.usage.input_tokens, Some(first_input + cont_input));
    assert!(message.usage.output_tokens > cont.usage.output_tokens);
}

#[tokio::test]
async fn resumption_is_bounded() {
    let emu = start().await;
    let t = transport(&emu);
    let opts = fault("disconnect-after=8").resume(ResumePolicy::new(2));
    let mut stream = open(&t, &request("Keep failing", 300), opts).await;
    let mut first_error = None;
    while let Some(e) = stream.next().await {
        if let Err(e) = e {
            first_error = Some(e);
        }
    }
    let err = first_error.expect("gives up");
    assert!(err.is_incomplete(), "{err:?}");
    assert_eq!(stream.resumptions(), 2);
    assert_eq!(emu.request_log().count("POST", "/v1/messages"), 3);
}

#[tokio::test]
async fn resumption_inside_a_tool_use_block_is_a_clear_error() {
    let emu = start().await;
    let t = transport_failing_once(&emu, "disconnect-after=4");
    let req = request("Weather in Oslo", 300)
        .tool(weather_tool())
        .tool_choice(ToolChoice::tool("get_weather"));
    let opts = StreamOptions::new().resume(ResumePolicy::default());
    let err = open(&t, &req, opts)
        .await
        .final_message()
        .await
        .expect_err("cannot resume");
    assert!(err.is_resume(), "{err:?}");
    assert!(err.to_string().contains("tool_use"), "{err}");
    assert!(err.partial().is_some());
    assert_eq!(emu.request_log().count("POST", "/v1/messages"), 1);
}

#[tokio::test]
async fn dropping_the_stream_closes_the_connection() {
    let emu = builder()
        .token_delay(Duration::from_millis(5))
        .start()
        .await
        .expect("emulator");
    let t = transport(&emu);
    let mut stream = open(
        &t,
        &request("a long slow answer", 2000),
        StreamOptions::new(),
    )
    .await;
    for _ in 0..3 {
        stream.next().await.expect("event").expect("ok");
    }
    assert_eq!(emu.cancelled_streams(), 0);
    drop(stream);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while emu.cancelled_streams() == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the emulator never saw the disconnect"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn discard_text_keeps_everything_but_the_text() {
    let emu = start().await;
    let t = transport(&emu);
    let req = request("Keep memory flat", 200);
    let mut stream = open(&t, &req, StreamOptions::new().discard_text(true)).await;
    let mut seen = String::new();
    let mut text = stream.text_deltas();
    while let Some(d) = text.next().await {
        seen.push_str(d.expect("delta").as_str());
    }
    assert_eq!(stream.snapshot().map(|m| m.text()), Some(String::new()));
    let message = stream.final_message().await.expect("message");
    let full = non_streamed(&t, &req).await;
    assert_eq!(seen, full.text(), "the deltas are all delivered");
    assert_eq!(message.usage, full.usage);
    assert_eq!(message.stop_reason, full.stop_reason);
    assert_eq!(message.content.len(), full.content.len());

    // Resumption needs the text.
    let t = transport_failing_once(&emu, "disconnect-after=8");
    let opts = StreamOptions::new()
        .discard_text(true)
        .resume(ResumePolicy::default());
    let err = open(&t, &req, opts)
        .await
        .final_message()
        .await
        .expect_err("cannot resume");
    assert!(err.is_resume(), "{err:?}");
}

#[tokio::test]
async fn raw_data_is_each_events_data_as_it_arrived() {
    let emu = builder().ping_every(3).start().await.expect("emulator");
    let t = transport(&emu);
    let req = request("raw bytes, please", 120);

    // The same (deterministic) stream read as plain SSE.
    let mut streamed = req.clone();
    streamed.stream = Some(true);
    let http = messages_http::Request::post("/v1/messages")
        .with_json(&streamed)
        .expect("json");
    let mut body = t.send(http).await.expect("response").into_body();
    let mut parser = sse_core::Parser::new();
    let mut wire = Vec::new();
    while let Some(chunk) = body.next().await {
        parser.push(chunk.expect("chunk"));
        while let Some(event) = parser.next_event().expect("event") {
            wire.push(event.data().to_owned());
        }
    }

    let mut stream = open(&t, &req, StreamOptions::new()).await;
    assert!(
        stream.raw_data().is_none(),
        "nothing before the first event"
    );
    let mut raw = Vec::new();
    while let Some(event) = stream.next().await {
        event.expect("event");
        let data = stream
            .raw_data()
            .expect("wire data for a first-attempt event");
        raw.push(std::str::from_utf8(data).expect("utf-8").to_owned());
    }
    assert!(raw.len() > 5, "{raw:?}");
    assert_eq!(raw, wire);
}

#[tokio::test]
async fn any_body_and_any_connector_resume_into_one_stream() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    use messages_stream::{BoxError, Connect, MessageStream, Source};

    /// The transport, counting the continuations it is asked to send.
    struct Counting(messages_http::Transport, Arc<AtomicU32>);
    impl Connect for Counting {
        fn send(
            &self,
            request: messages_http::Request,
        ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Source, BoxError>> + Send>>
        {
            self.1.fetch_add(1, Ordering::SeqCst);
            Connect::send(&self.0, request)
        }
    }

    let emu = start().await;
    let t = transport(&emu);
    let req = request("Resume me through my own client", 300);
    let mut streamed = req.clone();
    streamed.stream = Some(true);
    let first = messages_http::Request::post("/v1/messages")
        .with_json(&streamed)
        .expect("json")
        .with_header(
            http::HeaderName::from_static("x-emulator-fault"),
            http::HeaderValue::from_static("disconnect-after=8"),
        )
        .with_options(RequestOptions::new().streaming(true));
    let response = t.send(first).await.expect("head");
    let id = response.request_id().expect("request id").to_owned();
    // Any `http_body::Body` will do; this one is the transport's.
    let source = Source::from_body(response.into_body()).request_id(id);
    let sent = Arc::new(AtomicU32::new(0));
    let options = StreamOptions::new().resume(ResumePolicy::default());
    let stream = MessageStream::resumable(source, &req, options, Counting(t.clone(), sent.clone()));
    let message = stream.final_message().await.expect("one whole message");
    assert_eq!(sent.load(Ordering::SeqCst), 1, "one continuation");
    assert_eq!(message.stop_reason, Some(StopReason::EndTurn));
    assert_eq!(emu.request_log().count("POST", "/v1/messages"), 2);
    let whole = non_streamed(&t, &req).await;
    assert!(
        message.text().starts_with(&whole.text()[..20]),
        "{}",
        message.text()
    );
}
