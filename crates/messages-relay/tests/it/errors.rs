//! Upstream errors reach the page as the format's error event.

use crate::support::*;

#[tokio::test]
async fn a_mid_stream_error_event_reaches_each_format() {
    let env = env(|e| e.fault("error-after=5,type=overloaded_error"), |r| r).await;
    let ui = Events::new(post_chat(&env, "/chat", "Err").await)
        .rest()
        .await;
    let n = ui.len();
    let error = json(&ui[n - 2]);
    assert_eq!(error["type"], "error");
    let text = error["errorText"].as_str().unwrap();
    assert!(text.starts_with("overloaded_error: "), "{text}");
    assert!(text.contains("request id req_"), "{text}");
    assert_eq!(ui[n - 1].data(), "[DONE]");

    let anthropic = Events::new(post_chat(&env, "/chat?format=anthropic", "Err").await)
        .rest()
        .await;
    let last = anthropic.last().unwrap();
    assert_eq!(last.event(), "error");
    let body = json(last);
    assert_eq!(body["error"]["type"], "overloaded_error");
    assert!(body["request_id"].as_str().unwrap().starts_with("req_"));

    let simple = Events::new(post_chat(&env, "/chat?format=simple", "Err").await)
        .rest()
        .await;
    let body = json(simple.last().unwrap());
    assert_eq!(body["error"]["type"], "overloaded_error");
    assert_eq!(env.relay.counters().errors, 3);
}

#[tokio::test]
async fn truncation_reaches_the_page_as_an_error() {
    let env = env(
        |e| e.fault("disconnect-after=6"),
        |r| r.format(messages_relay::Format::Simple),
    )
    .await;
    let events = Events::new(post_chat(&env, "/chat", "Cut").await)
        .rest()
        .await;
    let body = json(events.last().unwrap());
    assert_eq!(body["error"]["type"], "api_error", "{body}");
    assert!(
        body["error"]["request_id"]
            .as_str()
            .unwrap()
            .starts_with("req_")
    );
}

#[tokio::test]
async fn an_error_status_before_the_stream_is_an_error_event() {
    let env = env(
        |e| e.fault("status=529"),
        |r| r.format(messages_relay::Format::Anthropic),
    )
    .await;
    let res = post_chat(&env, "/chat", "Busy").await;
    let events = Events::new(res).rest().await;
    assert_eq!(events.len(), 1);
    let body = json(&events[0]);
    assert_eq!(body["error"]["type"], "overloaded_error");
    assert!(body["request_id"].as_str().unwrap().starts_with("req_"));
}

#[tokio::test]
async fn the_relay_resume_policy_heals_a_broken_upstream() {
    let env = env(
        |e| e.fault("disconnect-after=10"),
        |r| {
            r.resume(messages_stream::ResumePolicy::new(10))
                .format(messages_relay::Format::Simple)
        },
    )
    .await;
    let prompt = "Heal me";
    let events = Events::new(post_chat(&env, "/chat", prompt).await)
        .rest()
        .await;
    let body = json(events.last().unwrap());
    assert_eq!(body["done"], true, "{body}");
    // Each continuation is a new request (with its own fault): the reply
    // completes after a few of them, and the page sees one stream.
    assert!(env.emu.request_log().count("POST", "/v1/messages") >= 2);
    let texts = events.len() - 1;
    assert!(texts > 5, "{texts}");
}

#[tokio::test]
async fn an_upstream_stall_is_a_timeout_error() {
    let emu = messages_emulator::Emulator::builder()
        .token_delay(std::time::Duration::ZERO)
        .fault("stall-after=4")
        .start()
        .await
        .unwrap();
    let transport = messages_http::Transport::builder()
        .api_key("k")
        .base_url(emu.base_url())
        .idle_timeout(Some(std::time::Duration::from_millis(200)))
        .build()
        .unwrap();
    let relay = messages_relay::Relay::builder(transport)
        .policy(policy())
        .format(messages_relay::Format::UiMessageStream)
        .build();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(messages_relay::serve(listener, relay));
    let events = Events::new(send(addr, "POST", "/chat", &[], chat_body("Stall")).await)
        .rest()
        .await;
    let n = events.len();
    let error = json(&events[n - 2]);
    let text = error["errorText"].as_str().unwrap();
    assert!(text.starts_with("timeout_error: "), "{text}");
    assert!(text.contains("request id req_"), "{text}");
    assert_eq!(events[n - 1].data(), "[DONE]");
    server.abort();
}
