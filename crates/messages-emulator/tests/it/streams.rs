//! Streaming: event order, accumulation, pacing, replay, firehose, concurrency.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::*;

fn cases() -> Vec<Value> {
    let tool = json!({"name": "lookup", "input_schema": {"type": "object",
        "properties": {"q": {"type": "string"}, "n": {"type": "integer"}}, "required": ["q"]}});
    let mut v = vec![
        request("plain text please", 300),
        request("cut short", 4),
        request("a very long answer", 120),
    ];
    let mut t = request("use a tool", 300);
    t["tools"] = json!([tool]);
    v.push(t.clone());
    t["tool_choice"] = json!({"type": "any"});
    v.push(t);
    let mut th = request("think first", 3000);
    th["thinking"] = json!({"type": "enabled", "budget_tokens": 1024});
    v.push(th);
    let mut s = request("stop somewhere", 300);
    s["stop_sequences"] = json!([" the", " a"]);
    v.push(s);
    v
}

#[tokio::test]
async fn streamed_events_accumulate_to_the_non_streamed_message() {
    let emu = start().await;
    let addr = emu.local_addr();
    for req in cases() {
        let full = post(addr, "/v1/messages", &req).await.json();
        let (events, resp) = stream(addr, &req, &[]).await;
        assert_eq!(
            resp.header("content-type"),
            Some("text/event-stream; charset=utf-8")
        );
        assert!(resp.header("request-id").unwrap().starts_with("req_"));
        assert_eq!(accumulate(&events), full, "request {req}");
    }
}

#[tokio::test]
async fn events_follow_the_real_order() {
    let emu = builder().ping_every(5).start().await.unwrap();
    for req in cases() {
        let (events, _) = stream(emu.local_addr(), &req, &[]).await;
        let names: Vec<&str> = events
            .iter()
            .map(|e| e.event.as_str())
            .filter(|n| *n != "ping")
            .collect();
        assert_eq!(names[0], "message_start");
        assert_eq!(names[names.len() - 2], "message_delta");
        assert_eq!(names[names.len() - 1], "message_stop");
        // Blocks: start, deltas, stop; never interleaved.
        let mut open: Option<u64> = None;
        let mut next_index = 0;
        for e in &events[1..events.len() - 2] {
            let v = e.json();
            match e.event.as_str() {
                "content_block_start" => {
                    assert!(open.is_none());
                    assert_eq!(v["index"], next_index);
                    open = Some(next_index);
                    next_index += 1;
                }
                "content_block_delta" => assert_eq!(Some(v["index"].as_u64().unwrap()), open),
                "content_block_stop" => {
                    assert_eq!(Some(v["index"].as_u64().unwrap()), open);
                    open = None;
                }
                "ping" => {}
                other => panic!("unexpected {other}"),
            }
        }
        assert!(open.is_none());
        // Like the real API, `type` is the first key of every event's JSON.
        for e in &events {
            assert!(
                e.data.starts_with(&format!("{{\"type\":\"{}\"", e.event)),
                "{}",
                e.data
            );
        }
        // A ping right after the first content_block_start.
        assert_eq!(events[1].event, "content_block_start");
        assert_eq!(events[2].event, "ping");
        let deltas = events
            .iter()
            .filter(|e| e.event == "content_block_delta")
            .count();
        let pings = events.iter().filter(|e| e.event == "ping").count();
        assert_eq!(pings, 1 + deltas / 5, "{req}");
        // message_start has no content and no stop reason.
        let start = events[0].json();
        assert_eq!(start["message"]["content"], json!([]));
        assert_eq!(start["message"]["stop_reason"], Value::Null);
    }
}

#[tokio::test]
async fn thinking_stream_sends_thinking_then_signature_deltas() {
    let emu = start().await;
    let mut req = request("think", 3000);
    req["thinking"] = json!({"type": "enabled", "budget_tokens": 1024});
    let (events, _) = stream(emu.local_addr(), &req, &[]).await;
    let kinds: Vec<String> = events
        .iter()
        .filter(|e| e.event == "content_block_delta")
        .map(|e| e.json()["delta"]["type"].as_str().unwrap().to_owned())
        .collect();
    let sig = kinds.iter().position(|k| k == "signature_delta").unwrap();
    assert!(kinds[..sig].iter().all(|k| k == "thinking_delta"));
    assert!(kinds[sig + 1..].iter().all(|k| k == "text_delta"));
    assert!(sig > 0);
}

#[tokio::test]
async fn tool_stream_starts_with_an_empty_partial_json() {
    let emu = start().await;
    let mut req = request("tool", 300);
    req["tools"] = json!([{"name": "t", "input_schema": {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}}]);
    req["tool_choice"] = json!({"type": "any"});
    let (events, _) = stream(emu.local_addr(), &req, &[]).await;
    let first_json = events
        .iter()
        .find(|e| e.event == "content_block_delta")
        .unwrap()
        .json();
    assert_eq!(
        first_json["delta"],
        json!({"type": "input_json_delta", "partial_json": ""})
    );
    assert_eq!(events[1].json()["content_block"]["input"], json!({}));
}

#[tokio::test]
async fn padded_json_still_accumulates() {
    let emu = builder().pad_json(true).start().await.unwrap();
    let req = request("pad me", 200);
    let (events, resp) = stream(emu.local_addr(), &req, &[]).await;
    let body = std::str::from_utf8(&resp.body).unwrap();
    assert!(body.contains("   }\n"), "some JSON is padded");
    let full = post(emu.local_addr(), "/v1/messages", &req).await.json();
    assert_eq!(accumulate(&events), full);
}

#[tokio::test]
async fn token_pacing_spreads_the_stream_out() {
    let delay = Duration::from_millis(4);
    let emu = builder().token_delay(delay).start().await.unwrap();
    let req = request("paced", 40);
    let full = post(emu.local_addr(), "/v1/messages", &req).await.json();
    let tokens = full["usage"]["output_tokens"].as_u64().unwrap() as u32;
    let t0 = Instant::now();
    let (events, _) = stream(emu.local_addr(), &req, &[]).await;
    // A lower bound only: the stream cannot be faster than its pacing.
    assert!(
        t0.elapsed() >= delay * tokens,
        "{:?} for {tokens} tokens",
        t0.elapsed()
    );
    assert_eq!(accumulate(&events), full);
}

#[tokio::test]
async fn replay_answers_streams_verbatim() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/recorded/text_and_tool_use_with_pings.sse"
    );
    let bytes = std::fs::read(path).unwrap();
    let emu = builder().replay(bytes.clone()).start().await.unwrap();
    let r = send(
        emu.local_addr(),
        "POST",
        "/v1/messages",
        &[],
        streaming(request("x", 5)).to_string(),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type"),
        Some("text/event-stream; charset=utf-8")
    );
    assert_eq!(&r.body[..], &bytes[..]);
    // Non-streaming requests are still generated.
    let m = post(emu.local_addr(), "/v1/messages", &request("x", 5))
        .await
        .json();
    assert_eq!(m["type"], "message");
}

#[tokio::test]
async fn firehose_streams_n_deltas() {
    let emu = start().await;
    for n in [0u64, 1, 255, 256, 257, 10_000] {
        let n_text = n.to_string();
        let (events, _) = stream(
            emu.local_addr(),
            &request("fire", 10),
            &[("x-emulator-firehose", &n_text)],
        )
        .await;
        let deltas = events
            .iter()
            .filter(|e| e.event == "content_block_delta")
            .count() as u64;
        assert_eq!(deltas, n);
        let msg = accumulate(&events);
        assert_eq!(
            msg["content"][0]["text"].as_str().unwrap().len() as u64,
            6 * n
        );
        assert_eq!(msg["usage"]["output_tokens"], n);
        assert_eq!(msg["stop_reason"], "end_turn");
    }
    let bad = send(
        emu.local_addr(),
        "POST",
        "/v1/messages",
        &[("x-emulator-firehose", "lots")],
        streaming(request("f", 5)).to_string(),
    )
    .await;
    let msg = bad.api_error(400, "invalid_request_error");
    assert!(msg.starts_with("x-emulator-firehose:"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_streams() {
    let emu = builder()
        .token_delay(Duration::from_millis(1))
        .request_log(false)
        .start()
        .await
        .unwrap();
    let addr = emu.local_addr();
    let expected = post(addr, "/v1/messages", &request("concurrent", 30))
        .await
        .json();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..1000 {
        tasks.spawn(async move {
            let (events, _) = stream(addr, &request("concurrent", 30), &[]).await;
            accumulate(&events)
        });
    }
    let mut n = 0;
    while let Some(r) = tasks.join_next().await {
        assert_eq!(r.expect("stream task"), expected);
        n += 1;
    }
    assert_eq!(n, 1000);
    emu.shutdown().await;
}

#[tokio::test]
async fn stamped_text_carries_the_time_each_delta_was_written() {
    let emu = builder()
        .token_delay(Duration::from_millis(2))
        .stamp_text(true)
        .request_log(false)
        .start()
        .await
        .unwrap();
    let micros = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_micros()
    };
    let before = micros();
    let (events, _) = stream(emu.local_addr(), &request("stamp me", 40), &[]).await;
    let after = micros();
    let stamps: Vec<u128> = events
        .iter()
        .map(Sse::json)
        .filter(|data| data["delta"]["type"] == "text_delta")
        .map(|data| {
            let text = data["delta"]["text"].as_str().unwrap();
            let t = text.strip_prefix(" t").expect("a stamp");
            t.parse().expect("microseconds")
        })
        .collect();
    assert!(stamps.len() > 3, "{events:?}");
    // Written in order, while the request ran, each after one paced token.
    assert!(
        stamps.windows(2).all(|w| w[1] >= w[0] + 2_000),
        "{stamps:?}"
    );
    assert!(before <= stamps[0] && *stamps.last().unwrap() <= after);
    // The rest of the stream is unchanged: it still ends with message_stop.
    assert_eq!(events.last().unwrap().event, "message_stop");
    emu.shutdown().await;
}
