//! One surface: the same checks on every path, the same predicates on the
//! one error, timeouts that mean one thing.

use std::time::{Duration, Instant};

use messages::MessageStream;
use messages::{Client, CountTokensRequest, MessageRequest, ResumePolicy, StreamOptions};
use messages_emulator::{Emulator, EmulatorHandle};

async fn logged() -> EmulatorHandle {
    Emulator::builder()
        .token_delay(Duration::ZERO)
        .request_log(true)
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

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "messages-it-{name}-{}-{:?}",
        std::process::id(),
        Instant::now()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[tokio::test]
async fn message_stream_open_makes_the_same_checks_as_the_client() {
    let emu = logged().await;
    let client = client(&emu);
    let transport = client.transport();
    let hot = MessageRequest::new("claude-opus-4-6", 20)
        .user("hi")
        .temperature(1.0);
    let err = MessageStream::open(transport, &hot, StreamOptions::new())
        .await
        .expect_err("refused");
    let http = err.http().expect("a transport-side error");
    assert!(http.is_builder(), "{err:?}");
    assert!(
        err.to_string().contains("temperature") && err.to_string().contains("2026-10-21"),
        "{err}"
    );
    let retired = MessageRequest::new("claude-sonnet-4-5", 20).user("hi");
    let err = MessageStream::open(transport, &retired, StreamOptions::new())
        .await
        .expect_err("retired");
    assert!(err.to_string().contains("retired on 2026-11-30"), "{err}");
    assert!(emu.request_log().is_empty(), "nothing was sent");

    // A per-request `anthropic-version` is the version checked (and sent).
    let old = StreamOptions::new().header(
        http::HeaderName::from_static("anthropic-version"),
        http::HeaderValue::from_static("2023-06-01"),
    );
    let message = MessageStream::open(transport, &hot, old)
        .await
        .expect("accepted under 2023-06-01")
        .final_message()
        .await
        .expect("final");
    assert_eq!(message.model, "claude-opus-4-6");
    assert_eq!(emu.request_log().count("POST", "/v1/messages"), 1);
    // And the same on create, per call.
    let per_call = messages::RequestOptions::new().header(
        http::HeaderName::from_static("anthropic-version"),
        http::HeaderValue::from_static("2023-06-01"),
    );
    client
        .create_with(&hot, per_call)
        .await
        .expect("create under 2023-06-01");
}

#[tokio::test]
async fn count_tokens_is_checked_like_create_and_sends_the_new_fields() {
    let emu = logged().await;
    let client = client(&emu);
    let retired = CountTokensRequest::new("claude-sonnet-4-5").user("hi");
    let err = client.count_tokens(&retired).await.expect_err("retired");
    assert!(err.is_invalid_request(), "{err:?}");
    assert!(err.to_string().contains("retired on 2026-11-30"), "{err}");
    let mut sampled = CountTokensRequest::new("claude-opus-4-6").user("hi");
    sampled.extra.insert("top_p".into(), serde_json::json!(0.9));
    let err = client.count_tokens(&sampled).await.expect_err("top_p");
    assert!(err.to_string().contains("top_p"), "{err}");
    assert!(emu.request_log().is_empty(), "nothing was sent");

    // Adaptive thinking, effort and a server tool reach the endpoint.
    let req = MessageRequest::new("claude-opus-4-6", 200)
        .user("What is new in Rust?")
        .tool(messages::types::Tool::web_search())
        .adaptive_thinking()
        .effort("low");
    let count = client
        .count_tokens(&CountTokensRequest::from(&req))
        .await
        .expect("counted");
    assert!(count.input_tokens > 0);
    let sent = &emu.request_log().entries()[0];
    let body: serde_json::Value = serde_json::from_slice(&sent.body).expect("json body");
    assert_eq!(body["thinking"]["type"], "adaptive");
    assert_eq!(body["output_config"]["effort"], "low");
    assert!(
        body["tools"][0]["type"]
            .as_str()
            .unwrap()
            .starts_with("web_search")
    );
}

#[tokio::test]
async fn a_failed_resumption_is_incomplete_with_its_partial_message() {
    let emu = Emulator::builder()
        .token_delay(Duration::ZERO)
        .start()
        .await
        .expect("emulator");
    let client = Client::builder()
        .api_key("k")
        .base_url(emu.base_url())
        .transport(|t| t.default_header("x-emulator-fault", "disconnect-after=8"))
        .build()
        .expect("client");
    let req = MessageRequest::new("claude-sonnet-4-6", 300).user("cut me");
    // Resumption needs the text; with `discard_text` it cannot continue.
    let options = StreamOptions::new()
        .resume(ResumePolicy::new(2))
        .discard_text(true);
    let err = client
        .stream_with(&req, options)
        .await
        .expect("opens")
        .final_message()
        .await
        .map_err(messages::Error::from)
        .expect_err("cut, not resumable");
    assert!(err.is_resume(), "{err:?}");
    assert!(err.is_incomplete(), "{err:?}");
    let partial = err.partial().expect("the partial message");
    assert!(partial.id.starts_with("msg_"), "{partial:?}");
    assert_eq!(
        err.into_partial().map(|m| m.model),
        Some("claude-sonnet-4-6".into())
    );
}

#[tokio::test]
async fn the_client_timeout_bounds_a_whole_stream_like_the_per_call_timeout() {
    // The stream stalls after a few events; only a deadline on the whole
    // stream ends it (the idle timeout is off).
    let emu = Emulator::builder()
        .token_delay(Duration::ZERO)
        .fault("stall-after=4")
        .start()
        .await
        .expect("emulator");
    let req = MessageRequest::new("claude-sonnet-4-6", 300).user("stall");
    let configured = Client::builder()
        .api_key("k")
        .base_url(emu.base_url())
        .idle_timeout(None)
        .timeout(Duration::from_millis(700))
        .build()
        .expect("client");
    let per_call = Client::builder()
        .api_key("k")
        .base_url(emu.base_url())
        .idle_timeout(None)
        .build()
        .expect("client");
    let per_call_options = StreamOptions::new()
        .request_options(messages::RequestOptions::new().timeout(Duration::from_millis(700)));
    for (name, client, options) in [
        ("ClientBuilder::timeout", configured, StreamOptions::new()),
        ("RequestOptions::timeout", per_call, per_call_options),
    ] {
        let start = Instant::now();
        let outcome = tokio::time::timeout(Duration::from_secs(20), async {
            client
                .stream_with(&req, options)
                .await
                .expect("headers in time")
                .final_message()
                .await
                .map_err(messages::Error::from)
        })
        .await
        .unwrap_or_else(|_| panic!("{name}: the stream was not bounded"));
        let err = outcome.expect_err("deadline");
        assert!(err.is_timeout() && err.is_incomplete(), "{name}: {err:?}");
        assert!(
            err.partial().is_some(),
            "{name}: the partial message is kept"
        );
        assert!(start.elapsed() < Duration::from_secs(10), "{name}");
    }
}

#[cfg(feature = "batch")]
#[tokio::test]
async fn runner_errors_have_their_predicates_on_the_one_error() {
    use messages::batch::BatchJob;

    let emu = Emulator::builder()
        .token_delay(Duration::ZERO)
        .api_key("right-key")
        .start()
        .await
        .expect("emulator");
    let dir = temp_dir("runner-errors");
    let mut job = BatchJob::new();
    for i in 0..4 {
        job.add(
            format!("req-{i}"),
            MessageRequest::new("claude-sonnet-4-6", 16).user(format!("prompt {i}")),
        )
        .expect("add");
    }
    let with_key = |key: &str| {
        Client::builder()
            .api_key(key)
            .base_url(emu.base_url())
            .build()
            .expect("client")
    };

    // Run-wide: a wrong key stops the run.
    let err: messages::Error = with_key("wrong-key")
        .runner()
        .run(&job, dir.join("wrong.jsonl"))
        .await
        .expect_err("wrong key");
    assert!(err.is_run_wide(), "{err:?}");
    assert!(!err.is_changed() && !err.is_checkpoint());
    assert!(err.to_string().contains("authentication_error"), "{err}");

    // Changed: a request edited since its result was saved.
    let checkpoint = dir.join("checkpoint.jsonl");
    let client = with_key("right-key");
    client
        .runner()
        .run(&job, &checkpoint)
        .await
        .expect("first run");
    let mut edited = BatchJob::new();
    for r in job.requests() {
        let mut params = r.params.clone();
        if r.custom_id == "req-1" {
            params.max_tokens = 7;
        }
        edited.add(r.custom_id.clone(), params).expect("add");
    }
    let err: messages::Error = client
        .runner()
        .run(&edited, &checkpoint)
        .await
        .expect_err("changed");
    assert!(err.is_changed(), "{err:?}");
    assert_eq!(err.custom_id(), Some("req-1"));
    assert!(!err.is_run_wide() && !err.is_checkpoint());

    // Checkpoint: a line that is not a result of this job.
    let foreign = dir.join("foreign.jsonl");
    std::fs::write(&foreign, "{\"not\":\"a result\"}\n").expect("write");
    let err: messages::Error = client
        .runner()
        .run(&job, &foreign)
        .await
        .expect_err("foreign checkpoint");
    assert!(err.is_checkpoint(), "{err:?}");
    assert!(!err.is_changed() && !err.is_run_wide());
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(feature = "batch")]
#[tokio::test]
async fn every_batches_call_returns_the_one_error() {
    use futures_util::TryStreamExt;
    use messages::batch::{BatchJob, WaitOptions};
    use messages::types::BatchResult;

    let emu = logged().await;
    let client = client(&emu);
    let batches = client.batches();

    // An unknown id: each call fails with the API's 404 on `messages::Error`.
    let missing = "msgbatch_doesnotexist";
    let errors: Vec<messages::Error> = vec![
        batches.retrieve(missing).await.expect_err("retrieve"),
        batches.cancel(missing).await.expect_err("cancel"),
        batches.delete(missing).await.expect_err("delete"),
        batches.results(missing).await.expect_err("results"),
        batches
            .wait(missing, WaitOptions::new().not_found_grace(Duration::ZERO))
            .await
            .expect_err("wait"),
    ];
    for err in &errors {
        assert!(err.is_api(), "{err:?}");
        assert_eq!(err.status().map(|s| s.as_u16()), Some(404), "{err:?}");
        assert_eq!(
            err.error_type(),
            Some(&messages::types::error::ErrorType::NotFound),
            "{err:?}"
        );
        assert!(!err.is_retryable(), "{err:?}");
    }

    // A job through the facade: submit, wait, the results stream's items.
    let mut job = BatchJob::new();
    for i in 0..3 {
        job.add(
            format!("q-{i}"),
            MessageRequest::new("claude-sonnet-4-6", 16).user(format!("prompt {i}")),
        )
        .expect("add");
    }
    let submitted: messages::SubmittedJob = batches.submit(&job).await.expect("submit");
    assert_eq!((submitted.len(), submitted.batch_ids().len()), (3, 1));
    let ended = submitted
        .wait(WaitOptions::new().interval(Duration::from_millis(20), Duration::from_millis(50)))
        .await
        .expect("wait");
    assert_eq!(ended.len(), 1);
    let progress = submitted.progress().await.expect("progress");
    assert_eq!(progress.finished(), 3);
    let mut results = submitted.results();
    let mut ids = Vec::new();
    while let Some(line) = results.try_next().await.expect("a result line") {
        assert!(
            matches!(line.result, BatchResult::Succeeded { .. }),
            "{line:?}"
        );
        ids.push(line.custom_id);
    }
    ids.sort();
    assert_eq!(ids, ["q-0", "q-1", "q-2"]);
    assert_eq!(results.summary().total(), 3);
    assert!(results.resubmittable().is_empty());

    let id = &submitted.batch_ids()[0];
    let mut one = batches.results(id).await.expect("results");
    assert_eq!(one.batch_id(), id.as_str());
    let raw = one.next_raw().await.expect("a line").expect("raw line");
    assert!(!raw.bytes().is_empty());
    let listed: Vec<_> = batches
        .list(messages::ListParams::new())
        .try_collect()
        .await
        .expect("list");
    assert!(listed.iter().any(|b| &b.id == id));

    // The escape hatch reaches the batch crate's facade, same endpoint.
    let inner = batches.inner().retrieve(id).await.expect("inner retrieve");
    assert_eq!(&inner.id, id);

    // An invalid job is refused before anything is sent, on the one error.
    let err: messages::Error = batches
        .submit(&BatchJob::new())
        .await
        .expect_err("an empty job");
    assert!(err.is_invalid_request(), "{err:?}");

    // The runner's write_output: an unreadable checkpoint is `is_io`.
    let dir = temp_dir("facade-output");
    let err: messages::Error = client
        .runner()
        .write_output(&job, dir.join("missing.jsonl"), dir.join("out.jsonl"))
        .expect_err("no checkpoint");
    assert!(err.is_io() || err.is_checkpoint(), "{err:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
