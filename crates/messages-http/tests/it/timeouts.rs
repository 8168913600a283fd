use std::time::Duration;

use bytes::Bytes;
use messages_http::{Request, RequestOptions};
use tokio::time::Instant;

use crate::support::*;

/// A server that sends the headers and one chunk, then stalls for `stall`
/// before sending `tail` and ending.
async fn stalling(stall: Duration) -> Server {
    serve(move |_, _| async move {
        let (tx, body) = TestBody::channel();
        tokio::spawn(async move {
            tx.send(Ok(Bytes::from_static(b"head"))).await.unwrap();
            tokio::time::sleep(stall).await;
            let _ = tx.send(Ok(Bytes::from_static(b"tail"))).await;
        });
        let mut r = http::Response::new(body);
        r.headers_mut()
            .insert("request-id", "req_stall".parse().unwrap());
        r
    })
    .await
}

#[tokio::test(start_paused = true)]
async fn idle_timeout_on_a_stalled_body() {
    let s = stalling(Duration::from_secs(3600)).await;
    let t = transport(&s.url())
        .idle_timeout(Some(Duration::from_secs(5)))
        .build()
        .unwrap();
    let req = Request::post("/v1/messages")
        .with_body("{}")
        .with_options(RequestOptions::new().streaming(true));
    let mut r = t.send(req).await.unwrap();
    assert_eq!(r.body_mut().chunk().await.unwrap().unwrap(), "head");
    let start = Instant::now();
    let e = r.body_mut().chunk().await.unwrap_err();
    assert!(e.is_timeout() && e.is_idle_timeout(), "{e:?}");
    assert_eq!(start.elapsed(), Duration::from_secs(5));
    assert_eq!(e.request_id(), Some("req_stall"));
    let msg = e.to_string();
    assert!(msg.contains("idle") && msg.contains("req_stall"), "{msg}");
}

#[tokio::test(start_paused = true)]
async fn idle_timer_restarts_after_each_chunk_and_can_be_disabled() {
    // A 4 s gap under a 5 s idle timeout passes.
    let s = stalling(Duration::from_secs(4)).await;
    let t = transport(&s.url())
        .idle_timeout(Some(Duration::from_secs(5)))
        .build()
        .unwrap();
    let r = t
        .send(Request::get("/x").with_options(RequestOptions::new().streaming(true)))
        .await
        .unwrap();
    assert_eq!(r.bytes().await.unwrap(), "headtail");

    // Turned off per request: a 2-hour gap is waited out.
    let s = stalling(Duration::from_secs(7200)).await;
    let t = transport(&s.url()).build().unwrap();
    let opts = RequestOptions::new().streaming(true).idle_timeout(None);
    let r = t.send(Request::get("/x").with_options(opts)).await.unwrap();
    assert_eq!(r.bytes().await.unwrap(), "headtail");
}

#[tokio::test(start_paused = true)]
async fn deadline_bounds_the_wait_for_headers() {
    let s = serve(|_, _| async move {
        std::future::pending::<()>().await;
        respond(&reply(200, ""))
    })
    .await;
    let t = transport(&s.url())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let start = Instant::now();
    let e = t.send(Request::get("/x")).await.unwrap_err();
    assert!(e.is_timeout() && !e.is_idle_timeout(), "{e:?}");
    assert_eq!(start.elapsed(), Duration::from_secs(30));
    assert!(e.to_string().contains("deadline"), "{e}");
    assert_eq!(e.attempts(), 1);
}

#[tokio::test(start_paused = true)]
async fn default_deadline_is_ten_minutes_and_covers_retry_waits() {
    let s = serve(|_, _| async move {
        std::future::pending::<()>().await;
        respond(&reply(200, ""))
    })
    .await;
    let t = transport(&s.url()).build().unwrap();
    let start = Instant::now();
    let e = t.send(Request::get("/x")).await.unwrap_err();
    assert!(e.is_timeout(), "{e:?}");
    assert_eq!(start.elapsed(), Duration::from_secs(600));
    assert_eq!(e.attempts(), 1);
}

#[tokio::test(start_paused = true)]
async fn an_explicit_deadline_covers_bodies_the_default_only_non_streaming_ones() {
    // Non-streaming: the deadline (30 s) cuts a body stalled for 100 s.
    let s = stalling(Duration::from_secs(100)).await;
    let t = transport(&s.url())
        .timeout(Duration::from_secs(30))
        .idle_timeout(None)
        .build()
        .unwrap();
    let start = Instant::now();
    let r = t.send(Request::get("/x")).await.unwrap();
    let e = r.bytes().await.unwrap_err();
    assert!(e.is_timeout() && !e.is_idle_timeout(), "{e:?}");
    assert_eq!(start.elapsed(), Duration::from_secs(30));

    // Streaming, with the transport's explicit timeout: it covers the
    // whole body too (the same meaning as a per-request timeout).
    let start = Instant::now();
    let r = t
        .send(Request::get("/x").with_options(RequestOptions::new().streaming(true)))
        .await
        .unwrap();
    assert!(r.bytes().await.unwrap_err().is_timeout());
    assert_eq!(start.elapsed(), Duration::from_secs(30));

    // Streaming with the default deadline: the same stall is fine (the
    // deadline covered the headers; only the idle timeout, off here,
    // guards the body).
    let default = transport(&s.url()).idle_timeout(None).build().unwrap();
    let r = default
        .send(Request::get("/x").with_options(RequestOptions::new().streaming(true)))
        .await
        .unwrap();
    assert_eq!(r.bytes().await.unwrap(), "headtail");

    // Streaming with an explicit per-request timeout: it covers the body.
    let opts = RequestOptions::new()
        .streaming(true)
        .timeout(Duration::from_secs(10));
    let r = default
        .send(Request::get("/x").with_options(opts))
        .await
        .unwrap();
    assert!(r.bytes().await.unwrap_err().is_timeout());
}

#[tokio::test(start_paused = true)]
async fn connect_timeout_covers_the_tls_handshake() {
    // Loopback TCP completes in the kernel, so a connect that never finishes
    // is made by a TLS server that accepts and then never answers the
    // ClientHello.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            held.push(stream);
        }
    });
    let t = transport(&format!("https://127.0.0.1:{}", addr.port()))
        .connect_timeout(Some(Duration::from_secs(3)))
        .max_retries(1)
        .build()
        .unwrap();
    let start = Instant::now();
    let e = t.send(Request::get("/x")).await.unwrap_err();
    assert!(e.is_connect() && e.is_timeout(), "{e:?}");
    assert_eq!(e.attempts(), 2, "connect timeouts are retried");
    let took = start.elapsed();
    // Two 3 s connects and one backoff in [0.375, 0.5].
    assert!(
        took >= Duration::from_millis(6375) && took <= Duration::from_millis(6501),
        "{took:?}"
    );
    assert!(e.to_string().contains("connect timed out"), "{e}");
}

#[tokio::test]
async fn dropping_a_body_closes_the_connection_promptly() {
    let (closed_tx, mut closed_rx) = tokio::sync::mpsc::channel::<()>(1);
    // The first request gets an endless body; later ones a plain reply.
    let s = serve(move |i, _| {
        let closed_tx = closed_tx.clone();
        async move {
            if i > 0 {
                return respond(&reply(200, "fine"));
            }
            let (tx, body) = TestBody::channel();
            tokio::spawn(async move {
                tx.send(Ok(Bytes::from_static(b"one"))).await.unwrap();
                // Resolves once the client side of the body is gone.
                tx.closed().await;
                let _ = closed_tx.send(()).await;
            });
            http::Response::new(body)
        }
    })
    .await;
    // A concurrency limit of 1: a slot not freed by the drop would hang the
    // request below.
    let t = transport(&s.url()).concurrency_limit(1).build().unwrap();
    let mut r = t
        .send(Request::get("/x").with_options(RequestOptions::new().streaming(true)))
        .await
        .unwrap();
    assert_eq!(r.body_mut().chunk().await.unwrap().unwrap(), "one");
    drop(r);
    tokio::time::timeout(Duration::from_secs(5), closed_rx.recv())
        .await
        .expect("server noticed the close")
        .unwrap();
    // The same transport still works afterwards, against the same server.
    let next = tokio::time::timeout(Duration::from_secs(5), async {
        t.send(Request::get("/y")).await?.bytes().await
    })
    .await
    .expect("the transport is not stuck after the drop");
    assert_eq!(next.unwrap(), "fine");
    assert_eq!(s.count(), 2);
}

#[tokio::test(start_paused = true)]
async fn concurrency_limit_holds_until_the_body_is_done() {
    let s = serve(|i, _| async move {
        if i == 0 {
            let (tx, body) = TestBody::channel();
            tokio::spawn(async move {
                tx.send(Ok(Bytes::from_static(b"long"))).await.unwrap();
                tx.closed().await;
            });
            http::Response::new(body)
        } else {
            respond(&reply(200, "short"))
        }
    })
    .await;
    let t = transport(&s.url()).concurrency_limit(1).build().unwrap();
    let opts = RequestOptions::new().streaming(true).idle_timeout(None);
    let mut first = t.send(Request::get("/a").with_options(opts)).await.unwrap();
    assert_eq!(first.body_mut().chunk().await.unwrap().unwrap(), "long");
    let t2 = t.clone();
    let second = tokio::spawn(async move { t2.send(Request::get("/b")).await });
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert_eq!(s.count(), 1, "the second request waits for the first body");
    assert!(!second.is_finished());
    drop(first);
    let r = second.await.unwrap().unwrap();
    assert_eq!(r.bytes().await.unwrap(), "short");
    assert_eq!(s.count(), 2);
}

#[tokio::test(start_paused = true)]
async fn rate_limit_spaces_requests() {
    let s = scripted(vec![reply(200, "ok")]).await;
    let t = transport(&s.url())
        .rate_limit(2, Duration::from_secs(10))
        .build()
        .unwrap();
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let t = t.clone();
        tasks.push(tokio::spawn(async move {
            t.send(Request::get("/x")).await.map(|_| ())
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let mut offsets: Vec<u64> = s.seen().iter().map(|r| (r.at - start).as_secs()).collect();
    offsets.sort();
    // A burst of 2, then one every 5 s.
    assert_eq!(offsets, [0, 0, 5, 10]);
}

#[tokio::test(start_paused = true)]
async fn deadline_cuts_retries_and_reports_attempts_started() {
    let s = serve(|_, _| async move {
        std::future::pending::<()>().await;
        respond(&reply(200, ""))
    })
    .await;
    // Attempts at 0 s, ~10.5 s and ~21.5 s (10 s attempt timeout, backoff
    // 0.5 s then 1 s at most); the 25 s deadline ends the third.
    let t = transport(&s.url())
        .timeout(Duration::from_secs(25))
        .attempt_timeout(Some(Duration::from_secs(10)))
        .max_retries(5)
        .build()
        .unwrap();
    let start = Instant::now();
    let e = t.send(Request::get("/x")).await.unwrap_err();
    assert!(e.is_timeout(), "{e:?}");
    assert_eq!(start.elapsed(), Duration::from_secs(25));
    assert_eq!(e.attempts(), 3);
    assert_eq!(s.count(), 3);
    assert!(e.to_string().contains("3 attempts"), "{e}");
}
