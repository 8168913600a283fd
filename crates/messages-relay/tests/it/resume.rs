//! Reconnects replay from `Last-Event-ID` with one upstream request.

use std::time::Duration;

use crate::support::*;

/// Every (id, event name, data) of a stream, for comparison.
fn triples(events: &[sse_core::Event]) -> Vec<(String, String, String)> {
    events
        .iter()
        .map(|e| (e.id().to_owned(), e.event().to_owned(), e.data().to_owned()))
        .collect()
}

#[tokio::test]
async fn resume_from_every_point_gives_the_same_events() {
    for format in ["anthropic", "ui-message-stream", "simple"] {
        // One event per write: no merging, so every event is a resume point.
        let env = env(|e| e, |r| r.batch(1)).await;
        let res = post_chat(&env, &format!("/chat?format={format}"), "Resume me").await;
        let id = stream_id(&res);
        let all = Events::new(res).rest().await;
        assert!(all.len() > 5, "{format}: {}", all.len());
        // From the start (no Last-Event-ID), and after each event.
        let mut points: Vec<Option<String>> = vec![None];
        points.extend(all.iter().map(|e| Some(e.id().to_owned())));
        for point in points {
            let (before, header) = match &point {
                None => (0, vec![]),
                Some(last) => {
                    // Events sharing an id (one item in several events) are
                    // all before the resume point.
                    let n = all.iter().rposition(|e| e.id() == last).unwrap() + 1;
                    (n, vec![("last-event-id", last.as_str())])
                }
            };
            let path = format!("/chat/{id}?format={format}");
            let res = send(env.addr, "GET", &path, &header, "").await;
            if before == all.len() {
                assert_eq!(
                    res.status(),
                    204,
                    "{format}: nothing left after the last event"
                );
                continue;
            }
            let rest = Events::new(res).rest().await;
            let mut joined = all[..before].to_vec();
            joined.extend(rest);
            assert_eq!(
                triples(&joined),
                triples(&all),
                "{format} resumed after {point:?}"
            );
        }
        assert_eq!(
            env.emu.request_log().count("POST", "/v1/messages"),
            1,
            "{format}"
        );
        assert!(env.relay.counters().resumes > 0);
    }
}

#[tokio::test]
async fn reconnect_mid_stream_continues_live_without_a_second_request() {
    let env = env(
        |e| e.token_delay(Duration::from_millis(15)),
        |r| r.format(messages_relay::Format::Simple),
    )
    .await;
    let prompt = "Live resume";
    let expect = reference(&env.emu, &upstream_request(prompt)).await;
    env.emu.request_log().clear();
    let res = post_chat(&env, "/chat", prompt).await;
    let id = stream_id(&res);
    let mut first = Events::new(res);
    let mut got = Vec::new();
    for _ in 0..4 {
        got.push(first.next().await.unwrap());
    }
    drop(first);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let last = got.last().unwrap().id().to_owned();
    let res = send(
        env.addr,
        "GET",
        &format!("/chat/{id}"),
        &[("last-event-id", &last)],
        "",
    )
    .await;
    got.extend(Events::new(res).rest().await);
    let (done, texts) = got.split_last().unwrap();
    let text: String = texts
        .iter()
        .map(|e| json(e)["text"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(text, text_of(&expect));
    assert_eq!(json(done)["done"], true);
    assert_eq!(env.emu.request_log().count("POST", "/v1/messages"), 1);
    assert_eq!(env.emu.cancelled_streams(), 0);
}

#[tokio::test]
async fn ai_sdk_resume_request_replays_the_live_stream_or_says_204() {
    let env = env(|e| e.token_delay(Duration::from_millis(10)), |r| r).await;
    let body = serde_json::json!({"id": "chat-7", "messages": [{"role": "user", "parts": [{"type": "text", "text": "Hello there"}]}]});
    let res = send(env.addr, "POST", "/chat", &[], body.to_string()).await;
    let mut first = Events::new(res);
    first.next().await.unwrap();
    let resumed = send(env.addr, "GET", "/chat/chat-7/stream", &[], "").await;
    assert_eq!(resumed.headers()["x-vercel-ai-ui-message-stream"], "v1");
    let all = Events::new(resumed).rest().await;
    assert_eq!(json(&all[0])["type"], "start");
    assert_eq!(all.last().unwrap().data(), "[DONE]");
    first.rest().await;
    // Once the stream ended there is nothing to resume.
    eventually("the stream ended", || {
        env.relay.counters().active_streams == 0
    })
    .await;
    let res = send(env.addr, "GET", "/chat/chat-7/stream", &[], "").await;
    assert_eq!(res.status(), 204);
    let res = send(env.addr, "GET", "/chat/unknown/stream", &[], "").await;
    assert_eq!(res.status(), 204);
}

#[tokio::test]
async fn unknown_and_expired_streams_are_404() {
    let env = env(|e| e, |r| r.keep(Duration::from_millis(50))).await;
    let res = send(env.addr, "GET", "/chat/rs_nope", &[], "").await;
    assert_eq!(res.status(), 404);
    let res = post_chat(&env, "/chat", "Short lived").await;
    let id = stream_id(&res);
    Events::new(res).rest().await;
    let res = send(env.addr, "GET", &format!("/chat/{id}"), &[], "").await;
    assert_eq!(res.status(), 200, "kept for now");
    drop(res);
    tokio::time::sleep(Duration::from_millis(100)).await;
    // Expiry is checked when streams are created or looked up.
    let _ = post_chat(&env, "/chat", "Another").await;
    let res = send(env.addr, "GET", &format!("/chat/{id}"), &[], "").await;
    assert_eq!(res.status(), 404);
    let res = send(
        env.addr,
        "GET",
        &format!("/chat/{id}"),
        &[("last-event-id", "x1")],
        "",
    )
    .await;
    assert_eq!(res.status(), 400);
}

#[tokio::test]
async fn detached_start_then_event_source_style_get() {
    let env = env(|e| e.token_delay(Duration::from_millis(2)), |r| r).await;
    let res = send(
        env.addr,
        "POST",
        "/chat",
        &[("accept", "application/json")],
        chat_body("Detached"),
    )
    .await;
    assert_eq!(res.status(), 201);
    let id = stream_id(&res);
    assert_eq!(res.headers()["location"], format!("/chat/{id}").as_str());
    let events = Events::new(
        send(
            env.addr,
            "GET",
            &format!("/chat/{id}?format=simple"),
            &[],
            "",
        )
        .await,
    )
    .rest()
    .await;
    assert_eq!(json(events.last().unwrap())["done"], true);
}
