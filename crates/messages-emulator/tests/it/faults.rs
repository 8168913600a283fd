//! Fault injection, per request and server-wide.

use std::time::Duration;

use http_body_util::BodyExt;
use serde_json::json;

use crate::support::*;

const JSON: (&str, &str) = ("content-type", "application/json");
const KEY: (&str, &str) = ("x-api-key", "k");

#[tokio::test]
async fn status_fault_with_retry_headers_and_times() {
    let emu = start().await;
    let addr = emu.local_addr();
    let fault = (
        "x-emulator-fault",
        "status=429,retry-after=1,retry-after-ms=250,should-retry=true,times=2",
    );
    let body = request("retry me", 10).to_string();
    for _ in 0..2 {
        let r = send(addr, "POST", "/v1/messages", &[fault], body.clone()).await;
        r.api_error(429, "rate_limit_error");
        assert_eq!(r.header("retry-after"), Some("1"));
        assert_eq!(r.header("retry-after-ms"), Some("250"));
        assert_eq!(r.header("x-should-retry"), Some("true"));
        assert!(r.header("anthropic-ratelimit-requests-limit").is_some());
    }
    let ok = send(addr, "POST", "/v1/messages", &[fault], body.clone()).await;
    assert_eq!(ok.status, 200);
    // A different request has its own count.
    let other = send(
        addr,
        "POST",
        "/v1/messages",
        &[fault],
        request("another", 10).to_string(),
    )
    .await;
    assert_eq!(other.status, 429);
    // Status codes map to the API's error types; `type` overrides.
    for (spec, status, kind) in [
        ("status=529", 529, "overloaded_error"),
        ("status=500", 500, "api_error"),
        ("status=401", 401, "authentication_error"),
        ("status=503,type=overloaded_error", 503, "overloaded_error"),
    ] {
        let r = send(addr, "GET", "/v1/models", &[("x-emulator-fault", spec)], "").await;
        r.api_error(status, kind);
        assert_eq!(r.header("x-should-retry"), None);
    }
}

#[tokio::test]
async fn disconnect_after_drops_the_connection_mid_stream() {
    let emu = start().await;
    let body = streaming(request("disconnect", 200)).to_string();
    let resp = send_raw(
        emu.local_addr(),
        "POST",
        "/v1/messages",
        &[JSON, KEY, ("x-emulator-fault", "disconnect-after=4")],
        body,
    )
    .await;
    assert_eq!(resp.status(), 200);
    let mut body = resp.into_body();
    let mut got = Vec::new();
    loop {
        match body.frame().await {
            Some(Ok(f)) => got.extend_from_slice(&f.into_data().unwrap()),
            Some(Err(_)) => break,
            None => panic!("body ended cleanly; expected a dropped connection"),
        }
    }
    let (events, complete) = parse_sse(&got);
    assert_eq!(events.len(), 4);
    assert!(complete);
}

#[tokio::test]
async fn error_after_sends_an_error_event_and_ends() {
    let emu = start().await;
    let (events, resp) = stream(
        emu.local_addr(),
        &request("err", 200),
        &[("x-emulator-fault", "error-after=3")],
    )
    .await;
    assert_eq!(resp.status, 200);
    assert_eq!(events.len(), 4);
    let last = events.last().unwrap();
    assert_eq!(last.event, "error");
    assert_eq!(
        last.json(),
        json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
    );
    let (events, _) = stream(
        emu.local_addr(),
        &request("err", 200),
        &[("x-emulator-fault", "error-after=0,type=api_error")],
    )
    .await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].json()["error"]["type"], "api_error");
}

#[tokio::test]
async fn error_after_past_the_end_follows_the_last_event() {
    let emu = start().await;
    let (clean, _) = stream(emu.local_addr(), &request("late err", 200), &[]).await;
    let n = clean.len();
    for at in [n, n + 1, 1_000_000] {
        let spec = format!("error-after={at},type=api_error");
        let (events, resp) = stream(
            emu.local_addr(),
            &request("late err", 200),
            &[("x-emulator-fault", spec.as_str())],
        )
        .await;
        assert_eq!(resp.status, 200);
        assert_eq!(events.len(), n + 1, "{spec}");
        assert_eq!(events[n - 1].event, "message_stop", "{spec}");
        assert_eq!(events[n].event, "error", "{spec}");
        assert_eq!(events[n].json()["error"]["type"], "api_error");
    }
}

#[tokio::test]
async fn stall_after_keeps_the_connection_open_and_silent() {
    let emu = builder()
        .shutdown_grace(Duration::from_millis(200))
        .start()
        .await
        .unwrap();
    let body = streaming(request("stall", 200)).to_string();
    let resp = send_raw(
        emu.local_addr(),
        "POST",
        "/v1/messages",
        &[JSON, KEY, ("x-emulator-fault", "stall-after=2")],
        body,
    )
    .await;
    let mut body = resp.into_body();
    let mut got = Vec::new();
    while parse_sse(&got).0.len() < 2 {
        let f = body.frame().await.expect("frame").expect("data");
        got.extend_from_slice(&f.into_data().unwrap());
    }
    let next = tokio::time::timeout(Duration::from_millis(300), body.frame()).await;
    assert!(next.is_err(), "nothing arrives after the stall point");
    assert_eq!(parse_sse(&got).0.len(), 2);
    // Shutdown does not hang on the stalled stream.
    tokio::time::timeout(Duration::from_secs(5), emu.shutdown())
        .await
        .expect("shutdown finishes");
}

#[tokio::test]
async fn malformed_after_sends_one_broken_event() {
    let emu = start().await;
    let req = request("malformed", 200);
    let (events, _) = stream(
        emu.local_addr(),
        &req,
        &[("x-emulator-fault", "malformed-after=3")],
    )
    .await;
    let (clean, _) = stream(emu.local_addr(), &req, &[]).await;
    assert_eq!(events.len(), clean.len() + 1);
    assert!(serde_json::from_str::<serde_json::Value>(&events[3].data).is_err());
    assert_eq!(events[3].event, "content_block_delta");
    let mut without = events.clone();
    without.remove(3);
    assert_eq!(accumulate(&without), accumulate(&clean));
}

#[tokio::test]
async fn server_wide_faults_apply_unless_the_header_overrides() {
    let emu = builder().fault("status=503,times=1").start().await.unwrap();
    let addr = emu.local_addr();
    let body = request("server-wide", 5);
    assert_eq!(post(addr, "/v1/messages", &body).await.status, 503);
    assert_eq!(post(addr, "/v1/messages", &body).await.status, 200);
    let emu2 = builder().fault("status=500").start().await.unwrap();
    assert_eq!(
        post(emu2.local_addr(), "/v1/messages", &body).await.status,
        500
    );
    let r = send(
        emu2.local_addr(),
        "POST",
        "/v1/messages",
        &[("x-emulator-fault", "none")],
        body.to_string(),
    )
    .await;
    assert_eq!(r.status, 200);
    let err = builder().fault("bogus=1").start().await.unwrap_err();
    assert!(err.is_fault_spec(), "{err}");
}

#[tokio::test]
async fn a_bad_fault_header_is_a_400_naming_it() {
    let emu = start().await;
    let r = send(
        emu.local_addr(),
        "POST",
        "/v1/messages",
        &[("x-emulator-fault", "status=4x9")],
        request("x", 5).to_string(),
    )
    .await;
    let msg = r.api_error(400, "invalid_request_error");
    assert!(
        msg.starts_with("x-emulator-fault:") && msg.contains("status=4x9"),
        "{msg}"
    );
}

#[tokio::test]
async fn faults_can_follow_each_other_for_resumption_tests() {
    let emu = start().await;
    let spec = ("x-emulator-fault", "disconnect-after=3,times=1");
    let req = streaming(request("resume", 100)).to_string();
    let first = send_raw(
        emu.local_addr(),
        "POST",
        "/v1/messages",
        &[JSON, KEY, spec],
        req.clone(),
    )
    .await;
    assert!(first.into_body().collect().await.is_err());
    let second = send(emu.local_addr(), "POST", "/v1/messages", &[spec], req).await;
    assert_eq!(second.status, 200);
    assert!(parse_sse(&second.body).1);
}

#[tokio::test]
async fn content_faults_give_refusal_fallback_and_compaction_blocks() {
    let emu = start().await;
    let addr = emu.local_addr();
    let fault = [(
        "x-emulator-fault",
        "compaction=12; fallback=claude-opus-4-8; refusal=cyber",
    )];
    let req = request("new blocks please", 200);
    let m = send(addr, "POST", "/v1/messages", &fault, req.to_string())
        .await
        .json();
    assert_eq!(m["model"], "claude-opus-4-8");
    assert_eq!(m["content"][0]["type"], "compaction");
    assert_eq!(
        m["content"][0]["content"]
            .as_str()
            .unwrap()
            .split(' ')
            .count(),
        12
    );
    assert!(m["content"][0]["encrypted_content"].is_string());
    assert_eq!(
        m["content"][1],
        serde_json::json!({"type": "fallback", "from": {"model": MODEL}, "to": {"model": "claude-opus-4-8"}})
    );
    assert_eq!(m["stop_reason"], "refusal");
    assert_eq!(m["stop_details"]["category"], "cyber");

    // The stream carries the same, and accumulates (model switch included)
    // to the same message.
    let (events, _) = stream(addr, &streaming(req), &fault).await;
    let first = events[0].json();
    assert_eq!(
        first["message"]["model"], MODEL,
        "message_start names the requested model"
    );
    let kinds: Vec<String> = events
        .iter()
        .filter(|e| e.event == "content_block_delta")
        .map(|e| e.json()["delta"]["type"].as_str().unwrap().to_owned())
        .collect();
    assert!(kinds.iter().any(|k| k == "compaction_delta"), "{kinds:?}");
    let delta = events
        .iter()
        .find(|e| e.event == "message_delta")
        .unwrap()
        .json();
    assert_eq!(delta["delta"]["stop_details"]["type"], "refusal");
    let bad = send(
        addr,
        "POST",
        "/v1/messages",
        &[("x-emulator-fault", "refusal=")],
        request("x", 5).to_string(),
    )
    .await;
    assert_eq!(bad.status, 400);
}

#[tokio::test]
async fn text_fault_sets_the_reply_length_within_max_tokens() {
    let emu = start().await;
    let addr = emu.local_addr();
    let words = |m: &serde_json::Value| {
        m["content"][0]["text"]
            .as_str()
            .unwrap()
            .split_whitespace()
            .count()
    };
    // Fits: 300 words, the natural end.
    let fault = [("x-emulator-fault", "text=300")];
    let req = request("a long one", 500);
    let m = send(addr, "POST", "/v1/messages", &fault, req.to_string())
        .await
        .json();
    assert_eq!(words(&m), 300);
    assert_eq!(m["stop_reason"], "end_turn");
    assert_eq!(m["usage"]["output_tokens"], 300);
    // The stream accumulates to the same message.
    let (events, _) = stream(addr, &streaming(req), &fault).await;
    assert_eq!(accumulate(&events)["content"], m["content"]);
    // Past max_tokens: cut there.
    let m = send(
        addr,
        "POST",
        "/v1/messages",
        &fault,
        request("a long one", 120).to_string(),
    )
    .await
    .json();
    assert_eq!(words(&m), 120);
    assert_eq!(m["stop_reason"], "max_tokens");
    let bad = send(
        addr,
        "POST",
        "/v1/messages",
        &[("x-emulator-fault", "text=many")],
        request("x", 5).to_string(),
    )
    .await;
    assert_eq!(bad.status, 400);
}
