//! The local runner does not waste money: run-wide errors stop a run and
//! are not recorded, and a changed request is never served from the
//! checkpoint.

use std::collections::HashMap;

use messages_batch::{LocalRunner, read_results, write_output};
use messages_types::{BatchResult, MessageRequest};

use crate::support::*;

fn lines(path: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

fn posts(emu: &messages_emulator::EmulatorHandle) -> usize {
    emu.request_log().count("POST", "/v1/messages")
}

#[tokio::test]
async fn a_wrong_key_stops_the_run_after_a_few_requests_and_records_nothing() {
    let emu = emulator().api_key("right-key").start().await.unwrap();
    let dir = TempDir::new("wrong-key");
    let checkpoint = dir.path("checkpoint.jsonl");
    let job = job(40);
    let wrong = transport_builder(&emu)
        .api_key("wrong-key")
        .build()
        .unwrap();
    let err = LocalRunner::new(wrong)
        .concurrency(8)
        .run(&job, &checkpoint)
        .await
        .unwrap_err();
    assert!(err.is_run_wide(), "{err}");
    assert!(err.to_string().contains("authentication_error"), "{err}");
    assert!(
        posts(&emu) <= messages_batch::DEFAULT_RUN_WIDE_ERRORS,
        "{} requests sent with a wrong key",
        posts(&emu)
    );
    assert!(lines(&checkpoint).is_empty(), "nothing is recorded");

    // With the right key, the same command sends every request.
    let right = transport_builder(&emu)
        .api_key("right-key")
        .build()
        .unwrap();
    let report = LocalRunner::new(right)
        .concurrency(8)
        .run(&job, &checkpoint)
        .await
        .unwrap();
    assert!(report.is_complete());
    assert_eq!((report.sent, report.resumed), (40, 0));
    assert_eq!(report.summary.succeeded, 40);
    emu.shutdown().await;
}

#[tokio::test]
async fn an_unknown_model_for_every_request_stops_the_run() {
    let emu = emulator().start().await.unwrap();
    let dir = TempDir::new("bad-model");
    let checkpoint = dir.path("checkpoint.jsonl");
    let mut job = messages_batch::BatchJob::new();
    for i in 0..20 {
        let id = format!("req-{i}");
        job.add(
            id.clone(),
            MessageRequest::new("claude-typo-4-5", 16).user(format!("prompt for {id}")),
        )
        .unwrap();
    }
    let err = LocalRunner::new(transport_builder(&emu).build().unwrap())
        .concurrency(8)
        .run_wide_errors(2)
        .run(&job, &checkpoint)
        .await
        .unwrap_err();
    assert!(err.is_run_wide(), "{err}");
    assert!(err.to_string().contains("not_found_error"), "{err}");
    assert_eq!(posts(&emu), 2);
    assert!(lines(&checkpoint).is_empty());
    emu.shutdown().await;
}

#[tokio::test]
async fn a_changed_request_is_refused_or_sent_again_with_rerun_changed() {
    let emu = emulator().start().await.unwrap();
    let dir = TempDir::new("changed");
    let checkpoint = dir.path("checkpoint.jsonl");
    let runner = || LocalRunner::new(transport_builder(&emu).build().unwrap());
    let job = job(5);
    runner().run(&job, &checkpoint).await.unwrap();
    let saved = std::fs::read(&checkpoint).unwrap();

    // The same custom_ids, one request edited.
    let mut edited = messages_batch::BatchJob::new();
    for r in job.requests() {
        let mut params = r.params.clone();
        if r.custom_id == "req-2" {
            params.max_tokens = 7;
        }
        edited.add(r.custom_id.clone(), params).unwrap();
    }
    let before = posts(&emu);
    let err = runner().run(&edited, &checkpoint).await.unwrap_err();
    assert!(err.is_changed(), "{err}");
    assert_eq!(err.custom_id(), Some("req-2"));
    let text = err.to_string();
    assert!(
        text.contains("1 request(s)") && text.contains("--rerun-changed"),
        "{text}"
    );
    assert_eq!(posts(&emu), before, "nothing is sent");
    assert_eq!(std::fs::read(&checkpoint).unwrap(), saved, "nor written");
    // The old result is not written out for the edited request either.
    let out = dir.path("out.jsonl");
    assert_eq!(write_output(&edited, &checkpoint, &out).unwrap(), 4);

    let report = runner()
        .rerun_changed(true)
        .run(&edited, &checkpoint)
        .await
        .unwrap();
    assert!(report.is_complete());
    assert_eq!((report.changed, report.sent, report.resumed), (1, 1, 4));
    let resent: Vec<serde_json::Value> = emu.request_log().entries()[before..]
        .iter()
        .filter(|r| r.path == "/v1/messages")
        .map(|r| r.json().unwrap())
        .collect();
    assert_eq!(resent.len(), 1);
    assert_eq!(custom_id_of(&resent[0]), "req-2");
    assert_eq!(resent[0]["max_tokens"], 7);

    // The output has the new result, in the batch results format.
    assert_eq!(write_output(&edited, &checkpoint, &out).unwrap(), 5);
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(!text.contains("request_fingerprint"), "{text}");
    for line in read_results(&out).unwrap() {
        let line = line.unwrap();
        let BatchResult::Succeeded { message } = line.result else {
            panic!("{} did not succeed", line.custom_id);
        };
        let limit = if line.custom_id == "req-2" { 7 } else { 24 };
        assert!(message.usage.output_tokens <= limit, "{}", line.custom_id);
    }
    // A plain rerun now has nothing to do: the new line matches.
    let again = runner().run(&edited, &checkpoint).await.unwrap();
    assert_eq!((again.sent, again.resumed, again.changed), (0, 5, 0));
    emu.shutdown().await;
}

#[tokio::test]
async fn a_format_1_checkpoint_without_fingerprints_is_not_trusted_silently() {
    let emu = emulator().start().await.unwrap();
    let dir = TempDir::new("format-1");
    let checkpoint = dir.path("checkpoint.jsonl");
    let runner = || LocalRunner::new(transport_builder(&emu).build().unwrap());
    let job = job(3);
    runner().run(&job, &checkpoint).await.unwrap();
    // What the previous version wrote: the lines without the field.
    let old: String = lines(&checkpoint)
        .into_iter()
        .map(|mut v| {
            assert!(v["request_fingerprint"].is_string(), "{v}");
            v.as_object_mut().unwrap().remove("request_fingerprint");
            format!("{v}\n")
        })
        .collect();
    std::fs::write(&checkpoint, old).unwrap();
    let err = runner().run(&job, &checkpoint).await.unwrap_err();
    assert!(err.is_changed(), "{err}");
    assert!(err.to_string().contains("3 request(s)"), "{err}");
    let report = runner()
        .rerun_changed(true)
        .run(&job, &checkpoint)
        .await
        .unwrap();
    assert_eq!((report.changed, report.sent), (3, 3));

    // A fingerprint of an unknown format is refused, naming the line.
    std::fs::write(
        &checkpoint,
        "{\"custom_id\":\"req-0\",\"result\":{\"type\":\"expired\"},\"request_fingerprint\":\"sha9:00\"}\n",
    )
    .unwrap();
    let err = runner().run(&job, &checkpoint).await.unwrap_err();
    assert!(err.is_checkpoint() && err.line() == Some(1), "{err}");
    emu.shutdown().await;
}

#[tokio::test]
async fn requests_the_api_version_rejects_are_not_sent_by_the_runner_or_submit() {
    let emu = emulator().start().await.unwrap();
    let dir = TempDir::new("version-refused");
    let checkpoint = dir.path("checkpoint.jsonl");
    let mut job = messages_batch::BatchJob::new();
    job.add("ok", request("ok")).unwrap();
    job.add("hot", request("hot").temperature(0.5)).unwrap();
    job.add(
        "retired",
        MessageRequest::new("claude-sonnet-4-5", 16).user("old model"),
    )
    .unwrap();

    // The runner: an errored result for each, and only `ok` is sent.
    let report = LocalRunner::new(transport_builder(&emu).build().unwrap())
        .run(&job, &checkpoint)
        .await
        .unwrap();
    assert!(report.is_complete());
    assert_eq!(posts(&emu), 1, "only the valid request is sent");
    let results: HashMap<String, BatchResult> = read_results(&checkpoint)
        .unwrap()
        .map(|l| {
            let l = l.unwrap();
            (l.custom_id, l.result)
        })
        .collect();
    let message = |id: &str| match &results[id] {
        BatchResult::Errored { error } => error.error.message.clone(),
        other => panic!("{id}: {other:?}"),
    };
    assert!(message("hot").contains("temperature") && message("hot").contains("2026-10-21"));
    assert!(message("retired").contains("retired on 2026-11-30"));
    assert!(matches!(results["ok"], BatchResult::Succeeded { .. }));

    // Under 2023-06-01 the sampling parameter is accepted and sent.
    let old = transport_builder(&emu)
        .anthropic_version("2023-06-01")
        .build()
        .unwrap();
    let mut only_hot = messages_batch::BatchJob::new();
    only_hot
        .add("hot", request("hot").temperature(0.5))
        .unwrap();
    LocalRunner::new(old)
        .run(&only_hot, dir.path("old.jsonl"))
        .await
        .unwrap();
    assert_eq!(posts(&emu), 2);

    // Submit: refused before any batch is created, naming the request.
    let err = job.submit(&batches(&emu)).await.unwrap_err();
    assert!(err.is_invalid_input(), "{err}");
    assert_eq!(err.custom_id(), Some("hot"));
    assert!(err.to_string().contains("temperature"), "{err}");
    assert_eq!(emu.request_log().count("POST", "/v1/messages/batches"), 0);
}
