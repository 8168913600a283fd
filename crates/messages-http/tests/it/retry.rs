use std::time::Duration;

use bytes::Bytes;
use messages_http::{Request, RequestOptions};
use messages_types::error::ErrorType;
use tokio::time::Instant;

use crate::support::*;

fn gaps(seen: &[Seen]) -> Vec<Duration> {
    seen.windows(2).map(|w| w[1].at - w[0].at).collect()
}

fn within(d: Duration, lo: f64, hi: f64) -> bool {
    // The paused clock makes sleeps exact; allow a millisecond of rounding.
    d >= Duration::from_secs_f64(lo) && d <= Duration::from_secs_f64(hi) + Duration::from_millis(1)
}

#[tokio::test(start_paused = true)]
async fn retries_429_with_exponential_backoff_bounds() {
    let s = scripted(vec![
        reply(429, &error_json("rate_limit_error", "slow down")),
        reply(503, "overloaded"),
        reply(500, ""),
        reply(200, r#"{"ok":true}"#).header("request-id", "req_ok"),
    ])
    .await;
    let t = transport(&s.url()).max_retries(3).build().unwrap();
    let resp = t.send(Request::get("/v1/models")).await.unwrap();
    assert_eq!(resp.attempts(), 4);
    assert_eq!(resp.request_id(), Some("req_ok"));
    assert_eq!(
        resp.bytes().await.unwrap(),
        Bytes::from_static(br#"{"ok":true}"#)
    );
    let g = gaps(&s.seen());
    assert_eq!(g.len(), 3);
    // min(0.5 * 2^n, 8) * (1 - 0.25 * rand), n = 0, 1, 2.
    assert!(within(g[0], 0.375, 0.5), "{g:?}");
    assert!(within(g[1], 0.75, 1.0), "{g:?}");
    assert!(within(g[2], 1.5, 2.0), "{g:?}");
}

#[tokio::test(start_paused = true)]
async fn backoff_is_capped_at_8_seconds() {
    let s = scripted(vec![reply(500, "")]).await;
    let t = transport(&s.url()).max_retries(6).build().unwrap();
    let e = t.send(Request::get("/x")).await.unwrap_err();
    assert_eq!(e.attempts(), 7);
    let g = gaps(&s.seen());
    for (n, base) in [0.5, 1.0, 2.0, 4.0, 8.0, 8.0].iter().enumerate() {
        assert!(within(g[n], base * 0.75, *base), "retry {n}: {g:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn retryable_statuses() {
    for status in [408, 409, 429, 500, 502, 503, 504, 529] {
        let s = scripted(vec![reply(status, ""), reply(200, "ok")]).await;
        let t = transport(&s.url()).build().unwrap();
        let resp = t.send(Request::get("/x")).await.unwrap();
        assert_eq!(resp.attempts(), 2, "status {status}");
        assert_eq!(s.count(), 2, "status {status}");
    }
}

#[tokio::test(start_paused = true)]
async fn non_retryable_statuses() {
    for (status, kind) in [
        (400, ErrorType::InvalidRequest),
        (401, ErrorType::Authentication),
        (403, ErrorType::Permission),
        (404, ErrorType::NotFound),
        (413, ErrorType::RequestTooLarge),
        (422, ErrorType::InvalidRequest),
    ] {
        let s = scripted(vec![reply(status, "nope"), reply(200, "ok")]).await;
        let t = transport(&s.url()).build().unwrap();
        let e = t.send(Request::get("/x")).await.unwrap_err();
        assert!(e.is_api(), "{e:?}");
        assert_eq!(e.status().map(|s| s.as_u16()), Some(status));
        assert_eq!(e.api_error().map(|a| a.kind.clone()), Some(kind));
        assert_eq!(e.attempts(), 1);
        assert_eq!(s.count(), 1, "status {status}");
    }
}

#[tokio::test(start_paused = true)]
async fn x_should_retry_overrides_status() {
    // `false` stops a retry that the status would allow.
    let s = scripted(vec![
        reply(500, "").header("x-should-retry", "false"),
        reply(200, "ok"),
    ])
    .await;
    let e = s.get_x().await.unwrap_err();
    assert_eq!(e.status().map(|s| s.as_u16()), Some(500));
    assert_eq!(s.count(), 1);
    // `true` retries a status that would not be.
    let s = scripted(vec![
        reply(400, "").header("x-should-retry", "true"),
        reply(200, "ok"),
    ])
    .await;
    let r = s.get_x().await.unwrap();
    assert_eq!(r.attempts(), 2);
}

#[tokio::test(start_paused = true)]
async fn retry_after_ms_then_seconds() {
    let s = scripted(vec![
        reply(429, "")
            .header("retry-after-ms", "1234")
            .header("retry-after", "9"),
        reply(429, "").header("retry-after", "3"),
        reply(200, "ok"),
    ])
    .await;
    let r = s.get_x().await.unwrap();
    assert_eq!(r.attempts(), 3);
    let g = gaps(&s.seen());
    assert!(within(g[0], 1.234, 1.234), "{g:?}");
    assert!(within(g[1], 3.0, 3.0), "{g:?}");
}

#[tokio::test(start_paused = true)]
async fn retry_after_http_date_and_out_of_range() {
    let at = std::time::SystemTime::now() + Duration::from_secs(5);
    let date = httpdate_fmt(at);
    let s = scripted(vec![
        reply(503, "").header("retry-after", &date),
        // 120 s is beyond the 60 s the SDKs honour: back off instead.
        reply(503, "").header("retry-after", "120"),
        reply(200, "ok"),
    ])
    .await;
    let r = s.get_x().await.unwrap();
    assert_eq!(r.attempts(), 3);
    let g = gaps(&s.seen());
    // The date has one-second resolution (and was rounded up).
    assert!(within(g[0], 4.0, 6.0), "{g:?}");
    assert!(within(g[1], 0.75, 1.0), "{g:?}");
}

fn httpdate_fmt(t: std::time::SystemTime) -> String {
    // Round up so the date is not in the past once truncated to seconds.
    let t = t + Duration::from_millis(999);
    httpdate::fmt_http_date(t)
}

#[tokio::test(start_paused = true)]
async fn retry_budget_configurable_and_per_request() {
    let s = scripted(vec![reply(500, "")]).await;
    let t = transport(&s.url()).max_retries(0).build().unwrap();
    let e = t.send(Request::get("/x")).await.unwrap_err();
    assert_eq!(e.attempts(), 1);
    assert_eq!(s.count(), 1);
    let e = t
        .send(Request::get("/x").with_options(RequestOptions::new().max_retries(4)))
        .await
        .unwrap_err();
    assert_eq!(e.attempts(), 5);
    assert_eq!(s.count(), 6);
    assert!(e.to_string().contains("5 attempts"), "{e}");
    // Default: 2 retries.
    let s = scripted(vec![reply(
        529,
        &error_json("overloaded_error", "Overloaded"),
    )])
    .await;
    let e = s.get_x().await.unwrap_err();
    assert_eq!(e.attempts(), 3);
    assert_eq!(e.api_error().unwrap().kind, ErrorType::Overloaded);
}

#[tokio::test(start_paused = true)]
async fn same_body_replayed_on_every_attempt() {
    let s = scripted(vec![reply(500, ""), reply(500, ""), reply(200, "ok")]).await;
    let t = transport(&s.url()).build().unwrap();
    let body = r#"{"model":"m","max_tokens":5,"messages":[]}"#;
    t.send(Request::post("/v1/messages").with_body(body))
        .await
        .unwrap();
    let seen = s.seen();
    assert_eq!(seen.len(), 3);
    for r in &seen {
        assert_eq!(r.body, body.as_bytes());
        assert_eq!(r.method, http::Method::POST);
        assert_eq!(r.uri, "/v1/messages");
    }
}

#[tokio::test(start_paused = true)]
async fn connection_errors_are_retried() {
    // A listener whose first connection is closed without an answer.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let good = scripted(vec![reply(200, "ok")]).await;
    let good_addr = good.addr;
    tokio::spawn(async move {
        let mut n = 0;
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            n += 1;
            if n == 1 {
                drop(stream);
                continue;
            }
            // Proxy the rest to the good server.
            tokio::spawn(async move {
                let mut up = tokio::net::TcpStream::connect(good_addr).await.unwrap();
                let _ = tokio::io::copy_bidirectional(&mut stream, &mut up).await;
            });
        }
    });
    let t = transport(&format!("http://{addr}")).build().unwrap();
    let r = t.send(Request::get("/x")).await.unwrap();
    assert_eq!(r.attempts(), 2);
    assert_eq!(r.bytes().await.unwrap(), "ok");
}

#[tokio::test(start_paused = true)]
async fn refused_connection_is_a_connect_error_after_retries() {
    // Bind then drop to get a loopback port with no listener.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    // 127.0.0.2: another test may be handed the freed port on 127.0.0.1.
    let t = transport(&format!("http://127.0.0.2:{port}"))
        .build()
        .unwrap();
    let start = Instant::now();
    let e = t.send(Request::get("/x")).await.unwrap_err();
    assert!(e.is_connect(), "{e:?}");
    assert!(!e.is_timeout(), "{e:?}");
    assert_eq!(e.attempts(), 3);
    assert!(e.to_string().contains("connect"), "{e}");
    // Two backoff waits: [0.375, 0.5] + [0.75, 1.0].
    let took = start.elapsed();
    assert!(within(took, 1.125, 1.5), "{took:?}");
}

#[tokio::test(start_paused = true)]
async fn attempt_timeouts_are_retried() {
    let s = serve(|i, _| async move {
        if i == 0 {
            // Never answer the first attempt.
            std::future::pending::<()>().await;
        }
        respond(&reply(200, "second"))
    })
    .await;
    let t = transport(&s.url())
        .attempt_timeout(Some(Duration::from_secs(2)))
        .build()
        .unwrap();
    let r = t.send(Request::get("/x")).await.unwrap();
    assert_eq!(r.attempts(), 2);
    assert_eq!(r.bytes().await.unwrap(), "second");
    // Exhausted: every attempt times out.
    let s = serve(|_, _| async move {
        std::future::pending::<()>().await;
        respond(&reply(200, ""))
    })
    .await;
    let t = transport(&s.url()).max_retries(1).build().unwrap();
    let e = t
        .send(
            Request::get("/x")
                .with_options(RequestOptions::new().attempt_timeout(Duration::from_secs(1))),
        )
        .await
        .unwrap_err();
    assert!(e.is_timeout(), "{e:?}");
    assert_eq!(e.attempts(), 2);
    assert!(e.to_string().contains("response headers"), "{e}");
}

#[tokio::test]
async fn never_retries_once_body_bytes_were_handed_over() {
    let s = serve(|_, _| async move {
        let (tx, body) = TestBody::channel();
        tokio::spawn(async move {
            tx.send(Ok(Bytes::from_static(b"first"))).await.unwrap();
            tokio::time::sleep(Duration::from_millis(50)).await;
            // Abort the connection mid-body.
            let _ = tx.send(Err(std::io::Error::other("boom"))).await;
        });
        http::Response::new(body)
    })
    .await;
    let t = transport(&s.url()).build().unwrap();
    let mut r = t.send(Request::get("/stream")).await.unwrap();
    assert_eq!(r.body_mut().chunk().await.unwrap().unwrap(), "first");
    let e = r.body_mut().chunk().await.unwrap_err();
    assert!(e.is_body(), "{e:?}");
    // Fused after the error.
    assert!(r.body_mut().chunk().await.unwrap().is_none());
    assert_eq!(s.count(), 1, "a body failure is never retried");
}

#[tokio::test(start_paused = true)]
async fn recorded_trace_two_429s_then_stream() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/recorded/retry_trace_429x2_then_stream.json"
    );
    let trace: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let entries = trace.as_array().unwrap();
    assert_eq!(entries.len(), 3);
    let mut replies = Vec::new();
    let mut expected_stream = String::new();
    for e in entries {
        let resp = &e["response"];
        let body = match &resp["body"] {
            serde_json::Value::String(s) => {
                expected_stream = s.clone();
                s.clone()
            }
            other => other.to_string(),
        };
        let mut r = reply(resp["status_code"].as_u64().unwrap() as u16, &body);
        for (k, v) in resp["headers"].as_object().unwrap() {
            // Framing headers are the server's business.
            if !matches!(
                k.as_str(),
                "content-length" | "connection" | "transfer-encoding"
            ) {
                r = r.header(k, v.as_str().unwrap());
            }
        }
        replies.push(r);
    }
    let s = scripted(replies).await;
    let t = transport(&s.url()).build().unwrap();
    let req_body = entries[0]["request"]["body"].to_string();
    let req = Request::post("/v1/messages")
        .with_body(req_body.clone())
        .with_options(RequestOptions::new().streaming(true).max_tokens(1024));
    let mut resp = t.send(req).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.attempts(), 3);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut got = Vec::new();
    while let Some(chunk) = resp.body_mut().chunk().await.unwrap() {
        got.extend_from_slice(&chunk);
    }
    assert_eq!(String::from_utf8(got).unwrap(), expected_stream);
    assert!(expected_stream.contains("message_stop"));
    let seen = s.seen();
    assert_eq!(seen.len(), 3);
    for r in &seen {
        assert_eq!(r.body, req_body.as_bytes());
        assert_eq!(
            r.headers["anthropic-version"],
            messages_http::DEFAULT_VERSION
        );
        assert_eq!(r.headers["anthropic-version"], "2026-10-21");
        assert_eq!(r.headers["x-api-key"], "sk-ant-test");
    }
    // x-should-retry: true with no retry-after: exponential backoff.
    let g: Vec<Duration> = seen.windows(2).map(|w| w[1].at - w[0].at).collect();
    assert!(within(g[0], 0.375, 0.5) && within(g[1], 0.75, 1.0), "{g:?}");
}
