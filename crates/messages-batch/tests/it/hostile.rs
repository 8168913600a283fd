//! Hostile servers (issue 18), raw HTTP/1.1 on a loopback `TcpListener`:
//! oversized replies, hanging status requests, slow downloads, overlong and
//! repeated result lines.

use std::time::Duration;

use futures_util::StreamExt;
use messages_batch::{Batches, LocalRunner, Summary, WaitOptions};
use messages_http::Transport;
use test_support::raw::raw;
use tokio::io::AsyncWriteExt;
use tokio::time::Instant;

use crate::support::*;

const OK_HEAD: &str = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\nrequest-id: req_hostile\r\n\r\n";

fn transport(url: &str) -> Transport {
    Transport::builder()
        .api_key("test-key")
        .base_url(url)
        .build()
        .unwrap()
}

fn message_json(text: &str) -> String {
    format!(
        r#"{{"id":"msg_1","type":"message","role":"assistant","model":"{MODEL}","content":[{{"type":"text","text":"{text}"}}],"stop_reason":"end_turn","stop_sequence":null,"usage":{{"input_tokens":3,"output_tokens":5}}}}"#
    )
}

// Case 1: one oversized reply no longer makes the checkpoint unusable. The
// reply is read only up to the line limit, the result is recorded as
// errored, and the next run resumes from the checkpoint.
#[tokio::test]
async fn an_oversized_reply_is_recorded_as_errored_and_the_checkpoint_stays_readable() {
    let url = raw(|mut conn, req| async move {
        let _ = conn.write_all(OK_HEAD.as_bytes()).await;
        let text = if req.contains("prompt for huge") {
            // 8 MiB, far over the limit: only the limit is read.
            "h".repeat(8 << 20)
        } else if req.contains("prompt for big") {
            // A reply just under the limit, whose checkpoint line (the
            // reply wrapped with its custom_id) is over it.
            "b".repeat(32 * 1024 - 20 - message_json("").len())
        } else {
            "fine".to_owned()
        };
        let _ = conn.write_all(message_json(&text).as_bytes()).await;
        let _ = conn.shutdown().await;
    })
    .await;
    let dir = TempDir::new("oversized");
    let checkpoint = dir.path("run.checkpoint");
    let mut job = messages_batch::BatchJob::new();
    for id in ["small", "big", "huge"] {
        job.add(id, request(id)).unwrap();
    }
    let runner = LocalRunner::new(transport(&url)).max_line_len(32 * 1024);
    let report = runner.run(&job, &checkpoint).await.unwrap();
    assert!(report.is_complete(), "{report:?}");
    assert_eq!(report.summary.succeeded, 1);
    assert_eq!(report.summary.errored.get("result_too_large"), Some(&2));
    let text = std::fs::read_to_string(&checkpoint).unwrap();
    assert!(
        text.lines().all(|l| l.len() <= 32 * 1024),
        "a line over the limit"
    );
    assert!(
        text.contains("over the checkpoint line limit of 32768 bytes, and was not kept"),
        "{text}"
    );
    assert!(
        text.contains("larger than the checkpoint line limit"),
        "{text}"
    );

    // Resumable: nothing is sent again, every result is read back.
    let again = runner.run(&job, &checkpoint).await.unwrap();
    assert_eq!((again.resumed, again.sent), (3, 0));
    let out = dir.path("out.jsonl");
    assert_eq!(runner.write_output(&job, &checkpoint, &out).unwrap(), 3);
}

// Case 1: a checkpoint line over the limit (written with a higher limit)
// names the custom_id and the way out.
#[tokio::test]
async fn an_overlong_checkpoint_line_says_how_to_read_it() {
    let dir = TempDir::new("overlong");
    let checkpoint = dir.path("run.checkpoint");
    let url = raw(|mut conn, _| async move {
        let _ = conn.write_all(OK_HEAD.as_bytes()).await;
        let _ = conn
            .write_all(message_json(&"b".repeat(10_000)).as_bytes())
            .await;
        let _ = conn.shutdown().await;
    })
    .await;
    let mut job = messages_batch::BatchJob::new();
    job.add("big", request("big")).unwrap();
    // A run with a higher limit keeps the ~10 KB line.
    let first = LocalRunner::new(transport(&url))
        .max_line_len(16_384)
        .run(&job, &checkpoint)
        .await
        .unwrap();
    assert_eq!(first.summary.succeeded, 1);
    let runner = LocalRunner::new(transport(&url)).max_line_len(4096);
    let e = runner.run(&job, &checkpoint).await.unwrap_err();
    assert!(e.is_checkpoint(), "{e:?}");
    let msg = e.to_string();
    assert!(msg.contains("custom_id big"), "{msg}");
    assert!(msg.contains("--max-line-bytes"), "{msg}");
    assert!(!msg.contains("run again to resume"), "{msg}");
    let report = LocalRunner::new(transport(&url))
        .max_line_len(16_384)
        .run(&job, &checkpoint)
        .await
        .unwrap();
    assert_eq!((report.resumed, report.sent), (1, 0));
}

// Case 2: `wait` with a deadline is not held by a status request that hangs.
#[tokio::test(start_paused = true)]
async fn the_wait_deadline_bounds_a_hanging_status_request() {
    let url = raw(|conn, _| async move {
        // Read the request, then say nothing, holding the connection.
        let _conn = conn;
        std::future::pending::<()>().await;
    })
    .await;
    let batches = Batches::new(transport(&url));
    let start = Instant::now();
    let e = batches
        .wait(
            "msgbatch_hang",
            WaitOptions::new().deadline(Duration::from_secs(30)),
        )
        .await
        .unwrap_err();
    assert!(e.is_timeout(), "{e:?}");
    assert_eq!(start.elapsed(), Duration::from_secs(30));
    assert!(e.to_string().contains("wait deadline"), "{e}");
    assert_eq!(e.batch_id(), Some("msgbatch_hang"));
}

fn result_line(id: &str) -> String {
    format!("{{\"custom_id\":\"{id}\",\"result\":{{\"type\":\"expired\"}}}}\n")
}

// Case 3: a results download longer than the 10-minute deadline is not cut
// off while lines keep arriving (the idle timeout governs it).
#[tokio::test(start_paused = true)]
async fn a_slow_results_download_outlives_the_deadline() {
    let url = raw(|mut conn, _| async move {
        let head =
            "HTTP/1.1 200 OK\r\ncontent-type: application/x-jsonl\r\nconnection: close\r\n\r\n";
        let _ = conn.write_all(head.as_bytes()).await;
        // One line every 30 s for 20 minutes.
        for i in 0..40 {
            tokio::time::sleep(Duration::from_secs(30)).await;
            if conn
                .write_all(result_line(&format!("r{i}")).as_bytes())
                .await
                .is_err()
            {
                return;
            }
        }
        let _ = conn.shutdown().await;
    })
    .await;
    let batches = Batches::new(transport(&url));
    let start = Instant::now();
    let mut results = batches.results("msgbatch_slow").await.unwrap();
    let mut n = 0;
    while let Some(line) = results.next().await {
        line.unwrap();
        n += 1;
    }
    assert_eq!(n, 40);
    assert!(start.elapsed() >= Duration::from_secs(1200));

    // A stall longer than the idle timeout still fails.
    let url = raw(|mut conn, _| async move {
        let head =
            "HTTP/1.1 200 OK\r\ncontent-type: application/x-jsonl\r\nconnection: close\r\n\r\n";
        let _ = conn.write_all(head.as_bytes()).await;
        let _ = conn.write_all(result_line("r0").as_bytes()).await;
        std::future::pending::<()>().await;
    })
    .await;
    let batches = Batches::new(transport(&url));
    let mut results = batches.results("msgbatch_stall").await.unwrap();
    let (items, e) = items_until_error(&mut results).await;
    assert_eq!(items, 1);
    assert!(e.http().is_some_and(|h| h.is_idle_timeout()), "{e:?}");
}

// Case 9: the line-too-long error names the custom_id that starts the line;
// repeated custom_ids are a warning in the summary.
#[tokio::test]
async fn an_overlong_results_line_names_its_custom_id_and_duplicates_are_warned() {
    let url = raw(|mut conn, req| async move {
        let head = "HTTP/1.1 200 OK\r\ncontent-type: application/x-jsonl\r\nconnection: close\r\n\r\n";
        let _ = conn.write_all(head.as_bytes()).await;
        let body = if req.contains("msgbatch_long") {
            let long = format!(
                "{{\"custom_id\":\"long_one\",\"result\":{{\"type\":\"errored\",\"error\":{{\"type\":\"error\",\"error\":{{\"type\":\"api_error\",\"message\":\"{}\"}}}}}}}}\n",
                "x".repeat(100_000)
            );
            format!("{}{long}", result_line("a"))
        } else {
            format!("{}{}{}", result_line("a"), result_line("b"), result_line("a"))
        };
        let _ = conn.write_all(body.as_bytes()).await;
        let _ = conn.shutdown().await;
    })
    .await;
    let batches = Batches::new(transport(&url)).with_max_line_len(8192);
    let mut results = batches.results("msgbatch_long").await.unwrap();
    let (items, e) = items_until_error(&mut results).await;
    assert_eq!(items, 1);
    assert!(e.is_line_too_long(), "{e:?}");
    assert_eq!(e.custom_id(), Some("long_one"));
    assert_eq!(e.line(), Some(2));
    assert!(e.to_string().contains("custom_id long_one"), "{e}");

    let mut results = batches.results("msgbatch_dups").await.unwrap();
    let mut summary = Summary::batch();
    while let Some(line) = results.next().await {
        summary.add(&line.unwrap());
    }
    assert_eq!((summary.expired, summary.duplicates), (2, 1));
    let text = summary.to_string();
    assert!(
        text.contains("warning") && text.contains("first: a"),
        "{text}"
    );
}
