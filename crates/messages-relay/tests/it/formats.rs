//! Each format carries what messages-stream accumulates.

use std::time::Duration;

use messages_stream::Accumulator;
use messages_types::decode_event;

use crate::support::*;

#[tokio::test]
async fn anthropic_events_accumulate_to_the_same_message() {
    let env = env(|e| e, |r| r).await;
    let prompt = "Tell me about rivers";
    let expect = reference(&env.emu, &upstream_request(prompt)).await;
    let res = post_chat(&env, "/chat?format=anthropic", prompt).await;
    assert_eq!(
        res.headers()["content-type"],
        "text/event-stream; charset=utf-8"
    );
    assert_eq!(res.headers()["cache-control"], "no-cache");
    assert_eq!(res.headers()["x-accel-buffering"], "no");
    assert!(res.headers().get("content-encoding").is_none());
    let events = Events::new(res).rest().await;
    let mut acc = Accumulator::new();
    let mut last_id = 0;
    for e in &events {
        // Ids grow; adjacent text deltas may be merged for a reader behind.
        let id: u64 = e.id().parse().unwrap();
        assert!(id > last_id, "every event has a growing id");
        last_id = id;
        let event = decode_event(
            e.event(),
            &bytes::Bytes::copy_from_slice(e.data().as_bytes()),
        )
        .unwrap();
        acc.apply(&event).unwrap();
    }
    let got = acc.finish().unwrap();
    assert_eq!(got, expect);
    assert!(!text_of(&got).is_empty());
}

#[tokio::test]
async fn ui_message_stream_text_and_parts() {
    let env = env(|e| e, |r| r).await;
    let prompt = "Tell me about lakes";
    let expect = reference(&env.emu, &upstream_request(prompt)).await;
    let res = post_chat(&env, "/chat", prompt).await;
    assert_eq!(res.headers()["x-vercel-ai-ui-message-stream"], "v1");
    let events = Events::new(res).rest().await;
    let last = events.last().unwrap();
    assert_eq!(last.data(), "[DONE]");
    let parts: Vec<serde_json::Value> = events[..events.len() - 1].iter().map(json).collect();
    let kinds: Vec<&str> = parts.iter().map(|p| p["type"].as_str().unwrap()).collect();
    assert_eq!(kinds[..3], ["start", "start-step", "text-start"]);
    assert_eq!(
        kinds[kinds.len() - 3..],
        ["text-end", "finish-step", "finish"]
    );
    assert_eq!(parts[0]["messageId"], expect.id.as_str());
    let text: String = parts
        .iter()
        .filter(|p| p["type"] == "text-delta")
        .map(|p| p["delta"].as_str().unwrap())
        .collect();
    assert_eq!(text, text_of(&expect));
    assert!(events.iter().all(|e| !e.id().is_empty()));
}

#[tokio::test]
async fn simple_text_and_done_with_usage() {
    let env = env(|e| e, |r| r).await;
    let prompt = "Tell me about hills";
    let expect = reference(&env.emu, &upstream_request(prompt)).await;
    let events = Events::new(post_chat(&env, "/chat?format=simple", prompt).await)
        .rest()
        .await;
    let (done, texts) = events.split_last().unwrap();
    let text: String = texts
        .iter()
        .map(|e| json(e)["text"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(text, text_of(&expect));
    let done = json(done);
    assert_eq!(done["done"], true);
    assert_eq!(done["usage"]["output_tokens"], expect.usage.output_tokens);
    assert_eq!(done["stop_reason"], "max_tokens");
}

#[tokio::test]
async fn upstream_as_http2_streams_over_several_connections() {
    // The relay's upstream requests as HTTP/2 streams (h2c to the emulator),
    // at most two per connection (messages-http's tests count the
    // connections): five chats at once are all relayed whole, one upstream
    // request each (the other five requests are the references).
    let env = env_with(
        |e| e.token_delay(Duration::from_millis(2)),
        |r| r,
        |emu| {
            messages_http::Transport::builder()
                .api_key("test-key")
                .base_url(emu.base_url())
                .http2_prior_knowledge(true)
                .http2_max_streams(2)
                .max_retries(0)
                .build()
                .unwrap()
        },
    )
    .await;
    let prompts: Vec<String> = (0..5).map(|i| format!("Tell me about river {i}")).collect();
    let chats = prompts.iter().map(|p| async {
        let events = Events::new(post_chat(&env, "/chat?format=simple", p).await)
            .rest()
            .await;
        let text: String = events
            .iter()
            .filter_map(|e| json(e)["text"].as_str().map(str::to_owned))
            .collect();
        (p.clone(), text)
    });
    for (prompt, text) in futures_util::future::join_all(chats).await {
        let expect = reference(&env.emu, &upstream_request(&prompt)).await;
        assert_eq!(text, text_of(&expect), "{prompt}");
    }
    assert_eq!(env.emu.request_log().count("POST", "/v1/messages"), 10);
}

#[tokio::test]
async fn ui_message_stream_tool_calls() {
    use messages_types::Tool;
    let tool: Tool = serde_json::from_value(serde_json::json!({
        "name": "get_weather",
        "description": "Weather for a city",
        "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    }))
    .unwrap();
    let env = env(|e| e, |r| r.policy(policy().tool(tool.clone()))).await;
    let prompt = "Weather in Paris?";
    let expect = reference(&env.emu, &upstream_request(prompt).tool(tool)).await;
    let (id, name, input) = expect
        .content
        .iter()
        .find_map(|b| match b {
            messages_types::ContentBlock::ToolUse(t) => {
                Some((t.id.clone(), t.name.clone(), t.input.clone()))
            }
            _ => None,
        })
        .expect("the emulator calls the tool");
    let events = Events::new(post_chat(&env, "/chat", prompt).await)
        .rest()
        .await;
    let parts: Vec<serde_json::Value> = events
        .iter()
        .filter(|e| e.data() != "[DONE]")
        .map(json)
        .collect();
    let start = parts
        .iter()
        .find(|p| p["type"] == "tool-input-start")
        .unwrap();
    assert_eq!(start["toolCallId"], id.as_str());
    assert_eq!(start["toolName"], name.as_str());
    let streamed: String = parts
        .iter()
        .filter(|p| p["type"] == "tool-input-delta")
        .map(|p| p["inputTextDelta"].as_str().unwrap())
        .collect();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&streamed).unwrap(),
        input
    );
    let available = parts
        .iter()
        .find(|p| p["type"] == "tool-input-available")
        .unwrap();
    assert_eq!(available["input"], input);
    let finish = parts.iter().find(|p| p["type"] == "finish").unwrap();
    assert_eq!(finish["finishReason"], "tool-calls");
}
