//! Disconnects, the grace period, stop, heartbeats, slow readers.

use std::time::Duration;

use crate::support::*;

#[tokio::test]
async fn disconnect_without_return_cancels_upstream_after_the_grace_period() {
    let env = env(
        |e| e.token_delay(Duration::from_millis(20)),
        |r| r.grace(Duration::from_millis(300)),
    )
    .await;
    let mut events = Events::new(post_chat(&env, "/chat", "Leave early").await);
    for _ in 0..3 {
        events.next().await.unwrap();
    }
    drop(events);
    // Still running inside the grace period.
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(env.emu.cancelled_streams(), 0);
    eventually("upstream is cancelled", || env.emu.cancelled_streams() == 1).await;
    assert_eq!(env.relay.counters().cancels, 1);
    assert_eq!(env.emu.request_log().count("POST", "/v1/messages"), 1);
}

#[tokio::test]
async fn return_within_the_grace_period_keeps_upstream() {
    let env = env(
        |e| e.token_delay(Duration::from_millis(10)),
        |r| {
            r.grace(Duration::from_millis(400))
                .format(messages_relay::Format::Simple)
        },
    )
    .await;
    let res = post_chat(&env, "/chat", "Come back").await;
    let id = stream_id(&res);
    let mut events = Events::new(res);
    let first = events.next().await.unwrap();
    drop(events);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let res = send(
        env.addr,
        "GET",
        &format!("/chat/{id}"),
        &[("last-event-id", first.id())],
        "",
    )
    .await;
    let rest = Events::new(res).rest().await;
    assert_eq!(json(rest.last().unwrap())["done"], true);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(env.emu.cancelled_streams(), 0);
    assert_eq!(env.relay.counters().cancels, 0);
}

#[tokio::test]
async fn stop_cancels_upstream_at_once() {
    let env = env(|e| e.token_delay(Duration::from_millis(20)), |r| r).await;
    let res = post_chat(&env, "/chat", "Stop me").await;
    let id = stream_id(&res);
    let mut events = Events::new(res);
    events.next().await.unwrap();
    let stop = send(env.addr, "POST", &format!("/chat/{id}/stop"), &[], "").await;
    assert_eq!(stop.status(), 204);
    let rest = events.rest().await;
    let n = rest.len();
    assert!(n >= 2);
    assert_eq!(json(&rest[n - 2])["type"], "abort");
    assert_eq!(rest[n - 1].data(), "[DONE]");
    eventually("upstream is cancelled", || env.emu.cancelled_streams() == 1).await;
    assert_eq!(env.relay.counters().cancels, 1);
    // Stopping again is fine; an unknown stream is 404.
    let again = send(env.addr, "POST", &format!("/chat/{id}/stop"), &[], "").await;
    assert_eq!(again.status(), 204);
    let unknown = send(env.addr, "POST", "/chat/rs_none/stop", &[], "").await;
    assert_eq!(unknown.status(), 404);
}

#[tokio::test(start_paused = true)]
async fn heartbeats_while_upstream_is_silent() {
    let env = env(
        |e| e.fault("stall-after=3"),
        |r| {
            r.heartbeat(Duration::from_secs(15))
                .format(messages_relay::Format::Anthropic)
        },
    )
    .await;
    let start = tokio::time::Instant::now();
    let mut events = Events::new(post_chat(&env, "/chat", "Then silence").await);
    let mut pings = Vec::new();
    while pings.len() < 3 {
        let e = events.next().await.unwrap();
        if e.event() == "ping" {
            pings.push(start.elapsed());
        }
    }
    // The emulator's own ping (after the first block start) comes at once;
    // the relay's follow every 15 s of silence.
    let relay_pings: Vec<_> = pings.iter().filter(|t| t.as_secs() >= 1).collect();
    assert!(relay_pings.len() >= 2, "{pings:?}");
    let gap = *relay_pings[1] - *relay_pings[0];
    assert!(
        gap >= Duration::from_secs(15) && gap < Duration::from_secs(16),
        "{gap:?}"
    );
    assert!(env.relay.counters().heartbeats >= 2);
}

#[tokio::test]
async fn a_slow_reader_gets_merged_deltas_and_all_the_text() {
    let env = env(
        |e| e,
        |r| r.batch(32).format(messages_relay::Format::Simple),
    )
    .await;
    let prompt = "A long answer please";
    let request = upstream_request(prompt);
    let expect = reference(&env.emu, &request).await;
    let res = post_chat(&env, "/chat", prompt).await;
    let id = stream_id(&res);
    // Let the whole reply arrive before reading anything.
    eventually("the reply is buffered", || {
        env.relay.counters().active_streams == 0
    })
    .await;
    let mut events = Events::new(res);
    let mut all = Vec::new();
    while let Some(e) = events.next().await {
        all.push(e);
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let (done, texts) = all.split_last().unwrap();
    let text: String = texts
        .iter()
        .map(|e| json(e)["text"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(text, text_of(&expect));
    assert_eq!(json(done)["done"], true);
    assert!(
        texts.len() < 10,
        "deltas were merged: {} events",
        texts.len()
    );
    assert!(env.relay.counters().merged > 0);
    // One batch per write: no frame holds more than 32 events' worth.
    assert!(events.frames.len() >= 2);
    let kept = env.store.stream_bytes(&id).unwrap();
    assert!(kept <= env.store.max_bytes(), "{kept}");
}

#[tokio::test]
async fn the_buffer_bound_cuts_the_reply_with_an_error_not_silently() {
    let emu = messages_emulator::Emulator::builder()
        .token_delay(Duration::ZERO)
        .start()
        .await
        .unwrap();
    let store = messages_relay::MemoryStore::with_max_bytes(4096);
    let relay = messages_relay::Relay::builder(transport(&emu))
        .policy(policy().max_tokens(500))
        .store(store.clone())
        .format(messages_relay::Format::Simple)
        .build();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(messages_relay::serve(listener, relay));
    let body = serde_json::json!({"messages": [{"role": "user", "content": "Long"}], "options": {"max_tokens": 500}});
    let res = send(addr, "POST", "/chat", &[], body.to_string()).await;
    let all = Events::new(res).rest().await;
    let last = json(all.last().unwrap());
    assert_eq!(last["error"]["type"], "api_error", "{last}");
    assert!(
        last["error"]["message"]
            .as_str()
            .unwrap()
            .contains("buffer is full")
    );
    server.abort();
}
