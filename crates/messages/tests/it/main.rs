//! The umbrella client against the in-process emulator.

use std::time::Duration;

use futures_util::StreamExt;
use messages::{
    Client, CountTokensRequest, ListParams, MessageRequest, ResumePolicy, StreamOptions,
};

use messages_emulator::{Emulator, EmulatorHandle};

mod consistency;

async fn emulator() -> EmulatorHandle {
    Emulator::builder()
        .token_delay(Duration::ZERO)
        .batch_pace(Duration::ZERO)
        .start()
        .await
        .expect("emulator")
}

fn client(emu: &EmulatorHandle) -> Client {
    Client::builder()
        .api_key("test-key")
        .base_url(emu.base_url())
        .build()
        .expect("client")
}

#[tokio::test]
async fn create_and_stream_give_the_same_message() {
    let emu = emulator().await;
    let client = client(&emu);
    let req = MessageRequest::new("claude-sonnet-4-6", 120).user("Same answer both ways");
    let created = client.create(&req).await.expect("create");
    let streamed = client
        .stream(&req)
        .await
        .expect("stream")
        .final_message()
        .await
        .expect("final");
    assert_eq!(created, streamed);
    assert!(!created.text().is_empty());
}

#[tokio::test]
async fn count_tokens_matches_the_usage_of_the_message() {
    let emu = emulator().await;
    let client = client(&emu);
    let req = MessageRequest::new("claude-sonnet-4-6", 50).user("How many tokens is this prompt?");
    let count = client
        .count_tokens(&CountTokensRequest::from(&req))
        .await
        .expect("count");
    let message = client.create(&req).await.expect("create");
    assert!(count.input_tokens > 0);
    assert_eq!(Some(count.input_tokens), message.usage.input_tokens);
}

#[tokio::test]
async fn models_list_paginates_and_retrieve_finds_each() {
    let emu = emulator().await;
    let client = client(&emu);
    let all: Vec<_> = client.models().list().collect().await;
    let all: Vec<_> = all.into_iter().collect::<Result<_, _>>().expect("list");
    assert!(all.len() > 2, "{all:?}");
    let paged: Vec<_> = client.models().page_size(2).list().collect().await;
    let paged: Vec<_> = paged
        .into_iter()
        .collect::<Result<_, _>>()
        .expect("paged list");
    assert_eq!(
        paged, all,
        "pages of 2 give the same models in the same order"
    );
    assert!(emu.request_log().count("GET", "/v1/models") > all.len().div_ceil(2));
    // From a cursor, both ways, in pages of 1.
    let older: Vec<_> = client
        .models()
        .list_with(ListParams::new().after_id(&all[1].id).limit(1))
        .collect()
        .await;
    let older: Vec<_> = older.into_iter().collect::<Result<_, _>>().expect("older");
    assert_eq!(older, all[2..]);
    let last = &all[all.len() - 1].id;
    let newer: Vec<_> = client
        .models()
        .list_with(ListParams::new().before_id(last).limit(1))
        .collect()
        .await;
    let newer: Vec<_> = newer.into_iter().collect::<Result<_, _>>().expect("newer");
    let mut expect = all[..all.len() - 1].to_vec();
    expect.reverse();
    assert_eq!(
        newer, expect,
        "pages of one, newest first each, walking newer"
    );
    let one = client
        .models()
        .retrieve(&all[0].id)
        .await
        .expect("retrieve");
    assert_eq!(one, all[0]);
    let err = client
        .models()
        .retrieve("no-such/model")
        .await
        .expect_err("unknown");
    assert!(
        err.is_api() && err.status().map(|s| s.as_u16()) == Some(404),
        "{err}"
    );
}

#[tokio::test]
async fn the_client_is_cheap_to_share_across_tasks() {
    fn send_sync<T: Send + Sync + Clone>() {}
    send_sync::<Client>();
    let emu = emulator().await;
    let client = client(&emu);
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let client = client.clone();
            tokio::spawn(async move {
                let req = MessageRequest::new("claude-sonnet-4-6", 40).user(format!("task {i}"));
                Ok::<_, messages::Error>(client.stream(&req).await?.final_text().await?)
            })
        })
        .collect();
    for t in tasks {
        assert!(!t.await.expect("join").expect("stream").is_empty());
    }
}

#[tokio::test]
async fn builder_resume_applies_to_every_stream() {
    let emu = emulator().await;
    let client = Client::builder()
        .api_key("k")
        .base_url(emu.base_url())
        .transport(|t| t.default_header("x-emulator-fault", "disconnect-after=8"))
        .resume(ResumePolicy::new(1))
        .build()
        .expect("client");
    let req = MessageRequest::new("claude-sonnet-4-6", 300).user("fail every time");
    let err = client
        .stream(&req)
        .await
        .expect("opens")
        .final_message()
        .await
        .expect_err("cut");
    assert!(err.is_incomplete(), "{err:?}");
    assert_eq!(
        emu.request_log().count("POST", "/v1/messages"),
        2,
        "one resumption"
    );
    // Per-request options replace the client's: no resumption here.
    let err = client
        .stream_with(&req, StreamOptions::new())
        .await
        .expect("opens")
        .final_message()
        .await
        .expect_err("cut");
    assert!(err.is_incomplete());
    assert_eq!(emu.request_log().count("POST", "/v1/messages"), 3);
}

#[tokio::test]
async fn batches_are_reachable_from_the_client() {
    use messages::types::batch::{BatchCreateParams, BatchRequest};
    let emu = emulator().await;
    let client = client(&emu);
    let params = BatchCreateParams::new(vec![BatchRequest::new(
        "one",
        MessageRequest::new("claude-sonnet-4-6", 20).user("hi"),
    )]);
    let created = client.batches().create(&params).await.expect("create");
    let list: Vec<_> = client.batches().list(Default::default()).collect().await;
    let ids: Vec<String> = list.into_iter().map(|b| b.expect("batch").id).collect();
    assert_eq!(
        ids,
        vec![created.id],
        "the client's batches see the batch it created"
    );
}

#[tokio::test]
async fn create_refuses_a_streaming_request_before_sending() {
    let emu = Emulator::builder()
        .request_log(true)
        .start()
        .await
        .expect("emulator");
    let client = client(&emu);
    let mut req = MessageRequest::new("claude-sonnet-4-6", 20).user("hi");
    req.stream = Some(true);
    let err = client.create(&req).await.expect_err("refused");
    assert!(err.is_invalid_request(), "{err:?}");
    assert!(err.to_string().contains("Client::stream"), "{err}");
    assert!(emu.request_log().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn per_call_options_reach_the_wire() {
    let emu = Emulator::builder()
        .token_delay(Duration::ZERO)
        .request_log(true)
        .start()
        .await
        .expect("emulator");
    let client = Client::builder()
        .api_key("k")
        .base_url(emu.base_url())
        .transport(|t| t.beta("configured-beta"))
        .build()
        .expect("client");
    let req = MessageRequest::new("claude-sonnet-4-6", 20).user("hi");
    let options = || {
        messages::RequestOptions::new()
            .header(
                http::HeaderName::from_static("x-trace"),
                http::HeaderValue::from_static("t1"),
            )
            .beta("call-beta")
            .timeout(Duration::from_secs(30))
    };
    client.create_with(&req, options()).await.expect("create");
    client
        .count_tokens_with(&CountTokensRequest::from(&req), options())
        .await
        .expect("count");
    client
        .stream_with(&req, StreamOptions::new().request_options(options()))
        .await
        .expect("stream")
        .final_message()
        .await
        .expect("final");
    let models = client.models().options(options());
    models
        .retrieve("claude-sonnet-4-6")
        .await
        .expect("retrieve");
    let listed: Vec<_> = models.list().collect().await;
    assert!(listed.iter().all(Result::is_ok));

    let log = emu.request_log().entries();
    assert_eq!(log.len(), 5, "{log:?}");
    for entry in &log {
        assert_eq!(entry.headers["x-trace"], "t1", "{}", entry.path);
        assert_eq!(
            entry.headers["anthropic-beta"], "configured-beta,call-beta",
            "{}",
            entry.path
        );
    }
}

#[tokio::test]
async fn the_error_chain_names_each_cause_once() {
    // Nothing listens on this port: a connect error with an I/O cause.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let client = Client::builder()
        .api_key("k")
        // 127.0.0.2: another test may be handed the freed port on 127.0.0.1.
        .base_url(format!("http://127.0.0.2:{port}"))
        .max_retries(0)
        .build()
        .expect("client");
    let req = MessageRequest::new("claude-sonnet-4-6", 20).user("hi");
    let err = client.create(&req).await.expect_err("refused");
    assert!(err.is_connect() && err.is_retryable(), "{err:?}");
    let top = err.to_string();
    let chain = format!("{:#}", anyhow::Error::new(err));
    assert!(chain.starts_with(&top), "{chain}");
    assert!(chain.len() > top.len(), "the cause follows: {chain}");
    let refused = chain.matches("refused").count();
    assert_eq!(refused, 1, "the OS error once: {chain}");

    // An API error through a stream: status, type and request id once each.
    let emu = emulator().await;
    let client = Client::builder()
        .api_key("k")
        .base_url(emu.base_url())
        .max_retries(0)
        .transport(|t| t.default_header("x-emulator-fault", "status=529"))
        .build()
        .expect("client");
    let err = client.stream(&req).await.expect_err("overloaded");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(529));
    assert_eq!(
        err.error_type().map(|t| t.as_str()),
        Some("overloaded_error")
    );
    assert!(err.is_retryable() && err.is_api());
    let id = err.request_id().expect("request id").to_owned();
    let chain = format!("{:#}", anyhow::Error::new(err));
    assert_eq!(chain.matches(&id).count(), 1, "{chain}");
    assert_eq!(chain.matches("overloaded_error").count(), 1, "{chain}");
}

#[tokio::test]
async fn fields_the_api_version_rejects_are_refused_before_sending() {
    let emu = emulator().await;
    let client = client(&emu);
    let req = MessageRequest::new("claude-opus-4-6", 20)
        .user("hi")
        .temperature(1.0);
    let err = client.create(&req).await.unwrap_err();
    assert!(err.is_invalid_request(), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("temperature") && text.contains("2026-10-21"),
        "{text}"
    );
    let err = client.stream(&req).await.unwrap_err();
    assert!(err.to_string().contains("temperature"), "{err}");
    let retired = MessageRequest::new("claude-sonnet-4-5", 20).user("hi");
    let err = client.create(&retired).await.unwrap_err();
    assert!(err.to_string().contains("retired on 2026-11-30"), "{err}");
    assert_eq!(emu.request_log().count("POST", "/v1/messages"), 0);

    // Under 2023-06-01 the sampling parameters are sent, and accepted.
    let old = Client::builder()
        .api_key("test-key")
        .base_url(emu.base_url())
        .transport(|t| t.anthropic_version("2023-06-01"))
        .build()
        .expect("client");
    let m = old.create(&req).await.expect("accepted under 2023-06-01");
    assert_eq!(m.model, "claude-opus-4-6");
    // Adaptive thinking works under the default version.
    let m = client
        .create(
            &MessageRequest::new("claude-opus-4-6", 200)
                .user("why")
                .adaptive_thinking(),
        )
        .await
        .expect("adaptive");
    assert!(matches!(
        m.content[0],
        messages::types::ContentBlock::Thinking(_)
    ));
}
