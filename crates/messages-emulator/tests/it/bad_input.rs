//! Bad input gets API-shaped errors, never a panic or a hung connection.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::*;

#[tokio::test]
async fn malformed_json_is_a_400() {
    let emu = start().await;
    for body in ["{\"model\": ", "not json", "", "[1,2]", "\"string\""] {
        let r = send(emu.local_addr(), "POST", "/v1/messages", &[], body).await;
        let msg = r.api_error(400, "invalid_request_error");
        assert!(msg.contains("JSON"), "{body:?}: {msg}");
    }
}

#[tokio::test]
async fn wrong_content_type_is_a_400() {
    let emu = start().await;
    let body = request("x", 5).to_string();
    for ct in ["text/plain", "application/x-www-form-urlencoded"] {
        let r = send_raw(
            emu.local_addr(),
            "POST",
            "/v1/messages",
            &[("x-api-key", "k"), ("content-type", ct)],
            body.clone(),
        )
        .await;
        assert_eq!(r.status(), 400);
    }
    let r = send(emu.local_addr(), "POST", "/v1/messages", &[], body.clone()).await;
    assert_eq!(r.status, 200);
    let r = send_raw(
        emu.local_addr(),
        "POST",
        "/v1/messages",
        &[
            ("x-api-key", "k"),
            ("content-type", "application/json; charset=utf-8"),
        ],
        body,
    )
    .await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn a_body_over_the_limit_is_a_413() {
    let emu = builder().max_body_bytes(1024).start().await.unwrap();
    let big = request(&"x".repeat(2000), 5).to_string();
    let r = send(emu.local_addr(), "POST", "/v1/messages", &[], big).await;
    let msg = r.api_error(413, "request_too_large");
    assert!(msg.contains("1024"), "{msg}");
    // Without a content-length (chunked), the limit still holds.
    let mut s = TcpStream::connect(emu.local_addr()).await.unwrap();
    let chunk = "y".repeat(800);
    let req = format!(
        "POST /v1/messages HTTP/1.1\r\nhost: x\r\nx-api-key: k\r\ncontent-type: application/json\r\nconnection: close\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n{chunk}\r\n{:x}\r\n{chunk}\r\n0\r\n\r\n",
        chunk.len(),
        chunk.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut buf))
        .await
        .expect("no hang");
    let text = String::from_utf8_lossy(&buf);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    assert!(text.contains("request_too_large"));
}

#[tokio::test]
async fn unknown_paths_and_methods_are_api_shaped_404s() {
    let emu = start().await;
    for (method, path) in [
        ("GET", "/v1/nothing"),
        ("GET", "/"),
        ("PUT", "/v1/messages"),
        ("GET", "/v1/messages"),
        ("DELETE", "/v1/models/claude-sonnet-4-5"),
        ("POST", "/v1/messages/batches/x/explode"),
    ] {
        let r = send(emu.local_addr(), method, path, &[], "").await;
        let msg = r.api_error(404, "not_found_error");
        assert!(msg.contains(path), "{msg}");
    }
}

#[tokio::test]
async fn garbage_on_the_socket_does_not_hang_or_crash() {
    let emu = start().await;
    let mut s = TcpStream::connect(emu.local_addr()).await.unwrap();
    s.write_all(b"\x00\x01garbage that is not HTTP\r\n\r\n")
        .await
        .unwrap();
    let mut buf = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut buf))
        .await
        .expect("the server closes the connection")
        .unwrap();
    // The server is still fine.
    assert_eq!(
        post(emu.local_addr(), "/v1/messages", &request("still ok", 5))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn the_request_log_records_what_was_answered() {
    let emu = start().await;
    let addr = emu.local_addr();
    post(addr, "/v1/messages", &request("one", 5)).await;
    post(addr, "/v1/messages", &request("two", 5)).await;
    post(addr, "/v1/messages", &request("two", 5)).await;
    get(addr, "/v1/models?limit=1").await;
    let log = emu.request_log();
    assert_eq!(log.len(), 4);
    assert_eq!(log.count("POST", "/v1/messages"), 3);
    let twos = log.filter(|e| {
        e.json()
            .is_some_and(|j| j["messages"][0]["content"] == "two")
    });
    assert_eq!(twos.len(), 2);
    let models = &log.entries()[3];
    assert_eq!(models.path, "/v1/models");
    assert_eq!(models.query.as_deref(), Some("limit=1"));
    assert_eq!(models.status, 200);
    assert!(models.request_id.starts_with("req_"));
    assert_eq!(models.headers.get("x-api-key").unwrap(), "test-key");
    log.clear();
    assert!(log.is_empty());
}
