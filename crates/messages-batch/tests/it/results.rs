//! Results streams: long lines, truncated bodies, raw lines.

use futures_util::TryStreamExt;
use messages_batch::{BatchJob, Batches};
use messages_types::{BatchResult, MessageRequest};

use crate::support::*;

/// A batch with one errored line over 1 MB (the API echoes the unknown
/// model name in its error message) among ordinary ones.
async fn batch_with_a_long_line(batches: &Batches) -> (String, usize) {
    let long_model = format!("claude-{}", "x".repeat(1_200_000));
    let mut job = job(20);
    job.add("long-one", MessageRequest::new(long_model, 16).user("hi"))
        .unwrap();
    let submitted = job.submit(batches).await.unwrap();
    submitted.wait(fast_wait()).await.unwrap();
    (submitted.batch_ids()[0].clone(), 21)
}

#[tokio::test]
async fn a_line_over_1_mb_decodes_and_a_lower_limit_names_it() {
    let emu = emulator().start().await.unwrap();
    let batches = batches(&emu);
    let (id, n) = batch_with_a_long_line(&batches).await;

    let mut got = 0;
    let mut long_seen = false;
    let mut stream = batches.results(&id).await.unwrap();
    while let Some(line) = stream.try_next().await.unwrap() {
        got += 1;
        if line.custom_id == "long-one" {
            let BatchResult::Errored { error } = &line.result else {
                panic!("{:?}", line.result)
            };
            assert!(error.error.message.len() > 1_200_000);
            long_seen = true;
        }
    }
    assert_eq!(got, n);
    assert!(long_seen);

    // The same results with a 1 MB limit: a clear error naming the line.
    let limited = batches.clone().with_max_line_len(1_000_000);
    let mut stream = limited.results(&id).await.unwrap();
    let (before, err) = items_until_error(&mut stream).await;
    assert!(err.is_line_too_long(), "{err}");
    assert_eq!(err.line(), Some(before + 1));
    assert_eq!(err.batch_id(), Some(id.as_str()));
    assert!(err.to_string().contains("1000000"), "{err}");
    // The stream has ended.
    assert!(stream.try_next().await.unwrap().is_none());
    emu.shutdown().await;
}

#[tokio::test]
async fn truncated_results_are_an_error_not_a_short_read() {
    let emu = emulator().start().await.unwrap();
    let batches = batches(&emu);
    let job = job(30);
    let submitted = job.submit(&batches).await.unwrap();
    submitted.wait(fast_wait()).await.unwrap();
    let id = &submitted.batch_ids()[0];

    let faulty = faulty_batches(&emu, "truncate-results=12");
    let mut stream = faulty.results(id).await.unwrap();
    let (complete, err) = items_until_error(&mut stream).await;
    assert_eq!(complete, 12);
    assert!(err.is_truncated(), "{err}");
    assert_eq!(err.line(), Some(13));
    // The emulator writes custom_id first, so the cut line still names it.
    assert!(
        err.custom_id().is_some_and(|c| c.starts_with("req-")),
        "{err:?}"
    );

    // A job's merged stream reports the same, not a short job.
    let attached = messages_batch::SubmittedJob::attach(faulty, vec![id.clone()], &job);
    let mut merged = attached.results();
    let (n, err) = items_until_error(&mut merged).await;
    assert_eq!(n, 12);
    assert!(err.is_truncated());
    emu.shutdown().await;
}

#[tokio::test]
async fn a_malformed_line_is_an_error_naming_it_and_the_connection_is_closed() {
    let emu = emulator().start().await.unwrap();
    let batches = batches(&emu);
    let submitted = job(30).submit(&batches).await.unwrap();
    submitted.wait(fast_wait()).await.unwrap();
    let id = &submitted.batch_ids()[0];
    let faulty = faulty_batches(&emu, "malformed-results=7");

    let mut stream = faulty.results(id).await.unwrap();
    let (complete, err) = items_until_error(&mut stream).await;
    assert_eq!(complete, 7);
    assert!(!err.is_truncated(), "{err}");
    assert_eq!(err.line(), Some(8), "{err}");
    assert!(
        err.custom_id().is_some_and(|c| c.starts_with("req-")),
        "{err:?}"
    );
    assert!(err.to_string().contains("line 8"), "{err}");
    assert!(
        stream.try_next().await.unwrap().is_none(),
        "errors end the stream"
    );
    // The emulator pauses after the bad line; it sees this client leave
    // during the pause instead of finishing the body.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while emu.cancelled_streams() == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the connection was left open after the decode error"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }

    // Control: raw lines are not decoded, so reading them all runs past
    // the bad line to the end of the body, and nothing more is counted.
    let mut raw = faulty.results(id).await.unwrap();
    let mut lines = 0;
    while let Some(line) = raw.next_raw().await {
        line.unwrap();
        lines += 1;
    }
    assert_eq!(lines, 30);
    assert_eq!(emu.cancelled_streams(), 1);
    emu.shutdown().await;
}

#[tokio::test]
async fn a_job_missing_results_says_which() {
    let emu = emulator().start().await.unwrap();
    let batches = batches(&emu);
    let small = job(5);
    let submitted = small.submit(&batches).await.unwrap();
    submitted.wait(fast_wait()).await.unwrap();
    // Attach the batch to a larger job: 3 requests have no result.
    let bigger = job(8);
    let attached = messages_batch::SubmittedJob::attach(
        batches.clone(),
        submitted.batch_ids().to_vec(),
        &bigger,
    );
    let mut results = attached.results();
    let (n, err) = items_until_error(&mut results).await;
    assert_eq!(n, 5);
    assert!(err.is_incomplete(), "{err}");
    assert!(err.to_string().contains("3 of 8"), "{err}");
    assert!(err.to_string().contains("req-5"), "{err}");

    // And a result the job does not know is an error too.
    let mut other = BatchJob::new();
    other.add("req-0", request("req-0")).unwrap();
    let attached =
        messages_batch::SubmittedJob::attach(batches, submitted.batch_ids().to_vec(), &other);
    let err = attached
        .results()
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(err.is_incomplete() && err.custom_id().is_some(), "{err}");
    emu.shutdown().await;
}

#[tokio::test]
async fn raw_lines_copy_results_verbatim() {
    let emu = emulator().start().await.unwrap();
    let batches = batches(&emu);
    let submitted = job(7).submit(&batches).await.unwrap();
    submitted.wait(fast_wait()).await.unwrap();
    let mut stream = batches.results(&submitted.batch_ids()[0]).await.unwrap();
    let mut lines = Vec::new();
    while let Some(raw) = stream.next_raw().await {
        let raw = raw.unwrap();
        assert!(raw.is_terminated());
        let decoded = raw.decode().unwrap();
        assert!(decoded.custom_id.starts_with("req-"));
        lines.push(raw.into_bytes());
    }
    assert_eq!(lines.len(), 7);
    emu.shutdown().await;
}
