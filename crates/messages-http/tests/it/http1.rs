//! HTTP/1.1: a fixed read buffer (`TransportBuilder::http1_read_buf_size`).

use bytes::Bytes;
use messages_http::{MIN_HTTP1_READ_BUF_SIZE, Request};

use crate::support::*;

/// A reply whose head carries `pad` bytes of one header and whose body is
/// `body`, sent in chunks of 1, 700 and 9,000 bytes in turn.
async fn padded(pad: usize, body: Bytes) -> Server {
    serve(move |_, _| {
        let body = body.clone();
        async move {
            let (tx, chan) = TestBody::channel();
            tokio::spawn(async move {
                let sizes = [1, 700, 9_000];
                let (mut at, mut i) = (0, 0);
                while at < body.len() {
                    let end = (at + sizes[i % 3]).min(body.len());
                    if tx.send(Ok(body.slice(at..end))).await.is_err() {
                        return;
                    }
                    at = end;
                    i += 1;
                }
            });
            let mut r = http::Response::new(chan);
            r.headers_mut()
                .insert("x-pad", "p".repeat(pad).parse().unwrap());
            r
        }
    })
    .await
}

#[tokio::test]
async fn a_fixed_read_buffer_carries_a_large_body_whole() {
    let body: Bytes = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
    let s = padded(1_000, body.clone()).await;
    let t = transport(&s.url())
        .http1_read_buf_size(Some(4096))
        .build()
        .unwrap();
    let got = t.send(Request::get("/x")).await.unwrap().bytes().await;
    assert!(got.unwrap() == body, "the body arrives byte for byte");
}

#[tokio::test]
async fn a_head_larger_than_the_fixed_read_buffer_fails_clearly() {
    let s = padded(6_000, Bytes::from_static(b"ok")).await;
    // The adaptive default reads the 6 KB head...
    let r = transport(&s.url()).build().unwrap();
    let r = r.send(Request::get("/x")).await.unwrap();
    assert_eq!(&r.bytes().await.unwrap()[..], b"ok");
    // ...a 4 KiB buffer cannot hold it.
    let t = transport(&s.url())
        .http1_read_buf_size(Some(4096))
        .max_retries(0)
        .build()
        .unwrap();
    let e = t.send(Request::get("/x")).await.unwrap_err();
    // The error's own line, then its causes (hyper's reason last).
    let mut msg = e.to_string();
    let mut cause = std::error::Error::source(&e);
    while let Some(c) = cause {
        msg = format!("{msg}: {c}");
        cause = c.source();
    }
    assert!(msg.contains("message head is too large"), "{msg}");
}

#[test]
fn a_read_buffer_below_the_least_is_refused() {
    let e = transport("http://127.0.0.1:1")
        .http1_read_buf_size(Some(MIN_HTTP1_READ_BUF_SIZE - 1))
        .build()
        .unwrap_err();
    assert!(e.is_builder(), "{e:?}");
    assert!(e.to_string().contains("http1_read_buf_size"), "{e}");
    assert!(
        transport("http://127.0.0.1:1")
            .http1_read_buf_size(Some(MIN_HTTP1_READ_BUF_SIZE))
            .build()
            .is_ok()
    );
}
