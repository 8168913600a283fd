//! HTTP/2: prior knowledge (h2c), and the cap on streams per connection
//! that keeps long streams from queueing behind each other.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::Version;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use messages_http::{Request, Response, Transport};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::support::*;

/// A cleartext HTTP/2-only server allowing `max_streams` concurrent streams
/// per connection. Each response sends `hello` at once and then holds its
/// stream open until the test drops the sender it gets, with the request's
/// path, from the returned channel. Returns the port, the count of TCP connections
/// accepted, and the senders of the open streams.
async fn h2c_server(
    max_streams: u32,
) -> (
    u16,
    Arc<AtomicUsize>,
    mpsc::UnboundedReceiver<(String, mpsc::Sender<Result<Bytes, std::io::Error>>)>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let conns = Arc::new(AtomicUsize::new(0));
    let (held_tx, held_rx) = mpsc::unbounded_channel();
    let counted = Arc::clone(&conns);
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            counted.fetch_add(1, Ordering::SeqCst);
            let held_tx = held_tx.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req: http::Request<hyper::body::Incoming>| {
                    let held_tx = held_tx.clone();
                    async move {
                        assert_eq!(req.version(), Version::HTTP_2);
                        let (tx, body) = TestBody::channel();
                        tx.send(Ok(Bytes::from_static(b"hello"))).await.unwrap();
                        held_tx.send((req.uri().path().to_owned(), tx)).unwrap();
                        let mut res = http::Response::new(body);
                        res.headers_mut()
                            .insert("x-path", req.uri().path().parse().unwrap());
                        Ok::<_, std::convert::Infallible>(res)
                    }
                });
                let mut builder = hyper::server::conn::http2::Builder::new(TokioExecutor::new());
                builder.max_concurrent_streams(max_streams);
                let _ = builder.serve_connection(TokioIo::new(stream), svc).await;
            });
        }
    });
    (port, conns, held_rx)
}

fn transport(port: u16, max_streams: usize) -> Transport {
    Transport::builder()
        .api_key("k")
        .base_url(format!("http://127.0.0.1:{port}"))
        .http2_prior_knowledge(true)
        .http2_max_streams(max_streams)
        .max_retries(0)
        .build()
        .unwrap()
}

/// Sends `n` requests at once and waits for all their heads (each body has
/// sent its first chunk and stays open).
async fn open(t: &Transport, n: usize) -> Vec<Response> {
    let sends = (0..n).map(|i| t.send(Request::get(format!("/s/{i}"))));
    let all = futures_util::future::join_all(sends);
    tokio::time::timeout(Duration::from_secs(10), all)
        .await
        .expect("every request got its response head")
        .into_iter()
        .map(|r| r.unwrap())
        .collect()
}

#[tokio::test]
async fn prior_knowledge_speaks_h2c_and_spreads_streams_over_connections() {
    init_tracing();
    let (port, conns, mut held) = h2c_server(2).await;
    let t = transport(port, 2);
    let mut open_now = open(&t, 5).await;
    for r in &open_now {
        assert_eq!(r.version(), Version::HTTP_2);
    }
    // 5 streams, 2 per connection: 3 connections, and no request waited.
    assert_eq!(conns.load(Ordering::SeqCst), 3);
    let mut senders = std::collections::HashMap::new();
    for _ in 0..5 {
        let (path, tx) = held.recv().await.unwrap();
        senders.insert(path, tx);
    }
    // Every stream is live: its first chunk arrived.
    for r in &mut open_now {
        assert_eq!(r.body_mut().chunk().await.unwrap().unwrap(), "hello");
    }

    // End two streams (read to the end): their slots are free again, so two
    // more requests fit without a new connection.
    senders.remove("/s/0");
    senders.remove("/s/1");
    for r in open_now.drain(..2) {
        assert_eq!(r.bytes().await.unwrap(), "");
    }
    let more = open(&t, 2).await;
    assert_eq!(conns.load(Ordering::SeqCst), 3);
    // Dropping a response mid-stream frees its slot too.
    drop(more);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let again = open(&t, 2).await;
    assert_eq!(conns.load(Ordering::SeqCst), 3);
    drop((again, open_now, senders));
}

#[tokio::test]
async fn without_the_cap_a_stream_past_the_servers_limit_waits() {
    // What the cap prevents: hyper keeps one HTTP/2 connection per host, and
    // a request past the server's stream limit waits for an earlier stream
    // to end.
    init_tracing();
    let (port, conns, mut held) = h2c_server(2).await;
    let t = transport(port, 1000);
    let first = open(&t, 2).await;
    let third = t.send(Request::get("/third"));
    tokio::pin!(third);
    assert!(
        tokio::time::timeout(Duration::from_millis(300), &mut third)
            .await
            .is_err(),
        "the third stream should wait while two hold the connection"
    );
    assert_eq!(conns.load(Ordering::SeqCst), 1);
    // When a stream ends, the waiting request goes out.
    let (path, tx) = held.recv().await.unwrap();
    drop(tx);
    let ended = first
        .into_iter()
        .find(|r| {
            r.headers()
                .get("x-path")
                .is_some_and(|p| p == path.as_str())
        })
        .unwrap();
    assert_eq!(ended.bytes().await.unwrap(), "hello");
    let r = tokio::time::timeout(Duration::from_secs(10), third)
        .await
        .expect("sent once a stream ended")
        .unwrap();
    assert_eq!(r.version(), Version::HTTP_2);
}

#[tokio::test]
async fn prior_knowledge_to_an_http1_only_server_is_a_clear_error() {
    init_tracing();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let svc = service_fn(|_req: http::Request<hyper::body::Incoming>| async {
                    Ok::<_, std::convert::Infallible>(http::Response::new(TestBody::full("ok")))
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    let t = transport(port, 100);
    let sent = tokio::time::timeout(Duration::from_secs(10), t.send(Request::get("/v1/models")));
    let err = sent.await.expect("an answer, not a hang").unwrap_err();
    // The HTTP/1.1 server closes on the HTTP/2 preface: a request error
    // (its cause says how the connection ended), not an API error or a hang.
    assert!(err.is_request() && !err.is_api(), "{err:?}");
}
