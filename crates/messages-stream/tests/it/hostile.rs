//! Hostile servers (issue 18), raw HTTP/1.1 on a loopback `TcpListener`:
//! replies that are not event streams, streams that never stop, stalls.

use std::time::Duration;

use bytes::Bytes;
use messages_http::Transport;
use messages_stream::{MessageStream, StreamOptions};
use test_support::alloc::peak_of;
use test_support::raw::raw;
use tokio::io::AsyncWriteExt;

use crate::support::request;

/// A server answering every request with `head` (status line and headers,
/// `connection: close` added) and `body`.
async fn fixed(head: &'static str, body: &'static [u8]) -> String {
    raw(move |mut conn, _| async move {
        let head = format!("{head}\r\nconnection: close\r\nrequest-id: req_hostile\r\n\r\n");
        let _ = conn.write_all(head.as_bytes()).await;
        let _ = conn.write_all(body).await;
        let _ = conn.shutdown().await;
    })
    .await
}

fn transport(url: &str) -> Transport {
    Transport::builder()
        .api_key("test-key")
        .base_url(url)
        .max_retries(0)
        .build()
        .unwrap()
}

async fn stream_error(url: &str) -> messages_stream::Error {
    let t = transport(url);
    let stream = MessageStream::open(&t, &request("hi", 64), StreamOptions::new())
        .await
        .expect("the head is a 200");
    stream.final_message().await.unwrap_err()
}

// Case 5: a captive portal's HTML page with status 200.
#[tokio::test]
async fn an_html_page_is_not_an_event_stream() {
    let url = fixed(
        "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8",
        b"<html>\n<head><title>Hotel WiFi</title></head>\n<body>Please log in</body></html>",
    )
    .await;
    let e = stream_error(&url).await;
    assert!(e.is_not_event_stream(), "{e:?}");
    assert!(!e.is_incomplete(), "{e:?}");
    let msg = e.to_string();
    assert!(msg.contains("text/html"), "{msg}");
    assert!(msg.contains("<title>Hotel WiFi</title>"), "{msg}");
    assert!(msg.contains("req_hostile"), "{msg}");
}

// Case 5: a JSON error body with status 200 is the API error it says.
#[tokio::test]
async fn a_json_error_with_status_200_is_an_api_error() {
    let url = fixed(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json",
        br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded, try later"},"request_id":"req_body"}"#,
    )
    .await;
    let e = stream_error(&url).await;
    assert!(e.is_api(), "{e:?}");
    assert!(!e.is_incomplete());
    let api = e.api_error().expect("the API's error");
    assert_eq!(api.message, "Overloaded, try later");
    assert!(e.to_string().contains("Overloaded, try later"), "{e}");

    // JSON that is not an error envelope: not an event stream, quoted.
    let url = fixed(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json",
        br#"{"status":"ok"}"#,
    )
    .await;
    let e = stream_error(&url).await;
    assert!(e.is_not_event_stream(), "{e:?}");
    assert!(e.to_string().contains(r#"{\"status\":\"ok\"}"#), "{e}");
}

// Case 5: a gzip-encoded event stream (a proxy compressed it).
#[tokio::test]
async fn a_compressed_body_is_not_read_as_events() {
    let url = fixed(
        "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-encoding: gzip",
        b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xcb\x48\xcd\xc9\xc9\x07\x00",
    )
    .await;
    let e = stream_error(&url).await;
    assert!(e.is_not_event_stream(), "{e:?}");
    assert!(!e.is_incomplete());
    assert!(e.to_string().contains("gzip"), "{e}");
}

const START: &str = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}\n\nevent: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n";

// Case 7: a stream that sends far more text than max_tokens allows fails
// with a protocol error; memory stays bounded instead of growing with it.
#[tokio::test]
async fn content_beyond_max_tokens_is_a_protocol_error_with_memory_bounded() {
    // 64 deltas of 1 KiB of text per write, up to 32 MiB in all.
    let text = "x".repeat(1024);
    let delta = format!(
        "event: content_block_delta\ndata: {{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{{\"type\":\"text_delta\",\"text\":\"{text}\"}}}}\n\n"
    );
    let chunk = Bytes::from(delta.repeat(64));
    let url = raw(move |mut conn, _| {
        let chunk = chunk.clone();
        async move {
            let head =
                "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n";
            let _ = conn.write_all(head.as_bytes()).await;
            let _ = conn.write_all(START.as_bytes()).await;
            let mut sent = 0;
            while sent < 32 * 1024 * 1024 {
                if conn.write_all(&chunk).await.is_err() {
                    return;
                }
                sent += chunk.len();
            }
        }
    })
    .await;
    let t = transport(&url);
    let (e, peak) = peak_of(async {
        let stream = MessageStream::open(&t, &request("hi", 1024), StreamOptions::new())
            .await
            .unwrap();
        stream.final_message().await.unwrap_err()
    })
    .await;
    assert!(e.is_protocol(), "{e:?}");
    assert!(e.to_string().contains("max_tokens"), "{e}");
    // The bound: 1024 tokens * 64 bytes + 1 MiB.
    let partial = e.partial().expect("the partial message");
    let kept = match &partial.content[0] {
        messages_types::ContentBlock::Text(t) => t.text.len(),
        other => panic!("{other:?}"),
    };
    assert!(kept <= 1024 * 64 + 1024 * 1024, "{kept}");
    assert!(peak < 8 * 1024 * 1024, "peak {peak} bytes");

    // The bound is configurable.
    let stream = MessageStream::open(
        &t,
        &request("hi", 1024),
        StreamOptions::new().max_content_bytes(10_000),
    )
    .await
    .unwrap();
    let e = stream.final_message().await.unwrap_err();
    assert!(e.is_protocol(), "{e:?}");
    assert_eq!(e.event_number(), Some(12), "{e}");
}

// Case 9: one error message names the request id once.
#[tokio::test(start_paused = true)]
async fn a_stalled_stream_names_its_request_id_once() {
    let url = raw(|mut conn, _| async move {
        let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nrequest-id: req_once\r\nconnection: close\r\n\r\n";
        let _ = conn.write_all(head.as_bytes()).await;
        let _ = conn.write_all(START.as_bytes()).await;
        std::future::pending::<()>().await;
    })
    .await;
    let t = Transport::builder()
        .api_key("test-key")
        .base_url(&url)
        .idle_timeout(Some(Duration::from_secs(5)))
        .build()
        .unwrap();
    let stream = MessageStream::open(&t, &request("hi", 64), StreamOptions::new())
        .await
        .unwrap();
    let e = stream.final_message().await.unwrap_err();
    assert!(e.is_incomplete() && e.is_idle_timeout(), "{e:?}");
    // Each layer prints its own line: the chain names the id once.
    let msg = format!("{:#}", anyhow::Error::new(e));
    assert_eq!(msg.matches("req_once").count(), 1, "{msg}");
}
