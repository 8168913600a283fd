//! Hostile servers (issue 18): bodies without end, cursors that do not
//! advance, headers that never come, names that only look like loopback.
//! Each server is written here, on loopback; time runs on paused clocks.

use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use messages_http::{ListParams, Request, RequestOptions};
use test_support::alloc::peak_of;
use tokio::time::Instant;

use crate::support::*;

/// 64 KiB of `a`, without allocating per chunk.
static CHUNK: [u8; 64 * 1024] = [b'a'; 64 * 1024];

/// A server whose 200 reply is `total` bytes sent in 64 KiB chunks, without
/// a `content-length` (or with one, when `announce`).
async fn endless(total: usize, announce: bool) -> Server {
    serve(move |_, _| async move {
        let (tx, body) = TestBody::channel();
        tokio::spawn(async move {
            let mut sent = 0;
            while sent < total {
                if tx.send(Ok(Bytes::from_static(&CHUNK))).await.is_err() {
                    return;
                }
                sent += CHUNK.len();
            }
        });
        let mut r = http::Response::new(body);
        if announce {
            r.headers_mut()
                .insert("content-length", total.to_string().parse().unwrap());
        }
        r.headers_mut()
            .insert("request-id", "req_huge".parse().unwrap());
        r
    })
    .await
}

// Case 1 (non-streaming replies read without limit) and case 7 (count-tokens
// and models replies read whole): every body read whole stops at the limit.
#[tokio::test]
async fn body_read_whole_stops_at_the_limit_with_memory_bounded() {
    let total = 24 * 1024 * 1024;
    let s = endless(total, false).await;
    let t = transport(&s.url())
        .max_body_size(1024 * 1024)
        .build()
        .unwrap();
    let (e, peak) = peak_of(async {
        let r = t.send(Request::get("/v1/models")).await.unwrap();
        r.json::<serde_json::Value>().await.unwrap_err()
    })
    .await;
    assert!(e.is_too_large(), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.contains("1048576 bytes") && msg.contains("req_huge"),
        "{msg}"
    );
    assert!(
        peak < 6 * 1024 * 1024,
        "peak {peak} bytes for a 1 MiB limit"
    );

    // An announced length over the limit fails before reading.
    let s = endless(total, true).await;
    let t = transport(&s.url()).max_body_size(4096).build().unwrap();
    let e = t.send(Request::get("/x")).await.unwrap().bytes().await;
    assert!(e.unwrap_err().is_too_large());

    // The default limit is 64 MiB; per request it can be changed.
    let s = endless(256 * 1024, false).await;
    let t = transport(&s.url()).build().unwrap();
    let r = t.send(Request::get("/x")).await.unwrap();
    assert_eq!(
        r.into_body().max_size(),
        messages_http::DEFAULT_MAX_BODY_SIZE
    );
    let req = Request::get("/x").with_options(RequestOptions::new().max_body_size(100_000));
    let e = t.send(req).await.unwrap().bytes().await.unwrap_err();
    assert!(e.is_too_large(), "{e:?}");
    let body = t
        .send(Request::get("/x"))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(body.len(), 256 * 1024);
}

// Case 4: a server that repeats its cursor ends the listing with a protocol
// error instead of serving the same page for ever.
#[tokio::test]
async fn a_cursor_that_does_not_advance_ends_the_listing() {
    let page =
        r#"{"data":[{"id":"m1"},{"id":"m2"}],"has_more":true,"first_id":"m1","last_id":"m2"}"#;
    let s = scripted(vec![reply(200, page)]).await;
    let t = transport(&s.url()).build().unwrap();
    let items: Vec<_> = t
        .pages::<serde_json::Value>("/v1/models", ListParams::new())
        .take(100)
        .collect()
        .await;
    // Page 1 (no cursor), page 2 (after m2) repeats m2: stop there.
    let ok = items.iter().filter(|i| i.is_ok()).count();
    assert_eq!(ok, 2, "{items:?}");
    let e = items.last().unwrap().as_ref().unwrap_err();
    assert!(e.is_protocol(), "{e:?}");
    assert!(e.to_string().contains("\"m2\""), "{e}");
    assert_eq!(items.len(), 3);
    assert_eq!(s.count(), 2);

    // Backwards (before_id) the cursor is first_id.
    let s = scripted(vec![reply(200, page)]).await;
    let t = transport(&s.url()).build().unwrap();
    let items: Vec<_> = t
        .pages::<serde_json::Value>("/v1/models", ListParams::new().before_id("m1"))
        .take(100)
        .collect()
        .await;
    assert!(items.last().unwrap().as_ref().unwrap_err().is_protocol());
    assert_eq!(s.count(), 1);

    // An empty page with has_more still just ends the listing.
    let empty = r#"{"data":[],"has_more":true,"first_id":null,"last_id":null}"#;
    let s = scripted(vec![reply(200, empty)]).await;
    let t = transport(&s.url()).build().unwrap();
    let items: Vec<_> = t
        .pages::<serde_json::Value>("/v1/models", ListParams::new())
        .collect()
        .await;
    assert!(items.is_empty());
}

// Case 6: a streaming request no longer waits 10 minutes for headers.
#[tokio::test(start_paused = true)]
async fn streaming_requests_wait_for_headers_a_minute_by_default() {
    let s = serve(|_, _| async move {
        std::future::pending::<()>().await;
        respond(&reply(200, ""))
    })
    .await;
    let streaming = || {
        Request::post("/v1/messages")
            .with_body("{}")
            .with_options(RequestOptions::new().streaming(true))
    };
    let t = transport(&s.url()).max_retries(0).build().unwrap();
    let start = Instant::now();
    let e = t.send(streaming()).await.unwrap_err();
    assert!(e.is_timeout(), "{e:?}");
    assert_eq!(start.elapsed(), messages_http::DEFAULT_HEADER_TIMEOUT);
    assert_eq!(start.elapsed(), Duration::from_secs(60));
    assert!(e.to_string().contains("response headers"), "{e}");

    // Configurable; retried like any timeout.
    let t = transport(&s.url())
        .max_retries(1)
        .header_timeout(Some(Duration::from_secs(5)))
        .build()
        .unwrap();
    let start = Instant::now();
    let e = t.send(streaming()).await.unwrap_err();
    assert!(e.is_timeout(), "{e:?}");
    assert_eq!(e.attempts(), 2);
    assert!(start.elapsed() >= Duration::from_secs(10));
    assert!(start.elapsed() < Duration::from_secs(20));

    // Non-streaming requests are not affected: their headers come with the
    // whole reply (only the 10-minute deadline applies).
    let t = transport(&s.url()).max_retries(0).build().unwrap();
    let start = Instant::now();
    let e = t.send(Request::get("/x")).await.unwrap_err();
    assert!(e.is_timeout());
    assert_eq!(start.elapsed(), Duration::from_secs(600));
}

// Case 11: `*.localhost` is not loopback; credentials never go to it over
// plain HTTP, while a literal loopback address still works.
#[tokio::test]
async fn dot_localhost_names_do_not_get_credentials_over_http() {
    let s = scripted(vec![reply(200, "{}")]).await;
    let port = s.addr.port();
    for host in ["evil.localhost", "api.LOCALHOST", "x.y.localhost."] {
        let e = transport(&format!("http://{host}:{port}"))
            .build()
            .unwrap_err();
        assert!(e.is_builder(), "{host}: {e:?}");
        assert!(e.to_string().contains("plain http"), "{e}");
    }
    assert_eq!(s.count(), 0);
    let t = transport(&format!("http://127.0.0.1:{port}"))
        .build()
        .unwrap();
    t.send(Request::get("/x")).await.unwrap();
    assert_eq!(s.count(), 1);
}
