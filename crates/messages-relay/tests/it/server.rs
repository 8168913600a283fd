//! `serve`: HTTP/1.1 and HTTP/2 with prior knowledge, told apart from the
//! connection's first bytes, however they are split.

use std::time::Duration;

use bytes::Bytes;
use http::Request;
use http_body_util::Full;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::*;

#[tokio::test]
async fn serves_http2_with_prior_knowledge() {
    let env = env(|e| e, |r| r).await;
    let tcp = TcpStream::connect(env.addr).await.unwrap();
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp))
            .await
            .unwrap();
    tokio::spawn(conn);
    let req = Request::post(format!("http://{}/chat?format=simple", env.addr))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(chat_body("Over h2c"))))
        .unwrap();
    let res = sender.send_request(req).await.unwrap();
    assert_eq!(res.version(), http::Version::HTTP_2);
    let events = Events::new(res).rest().await;
    let last = json(events.last().unwrap());
    assert_eq!(last["done"], true, "{last}");
    let text: String = events
        .iter()
        .filter_map(|e| json(e)["text"].as_str().map(str::to_owned))
        .collect();
    let expected = reference(&env.emu, &upstream_request("Over h2c")).await;
    assert_eq!(text, text_of(&expected));
}

/// Writes `head` in pieces (first `split` bytes, a pause, the rest) on a
/// fresh connection and returns everything the server sent back until it
/// closed (the request asks it to).
async fn split_request(env: &Env, head: &str, split: usize) -> String {
    let mut tcp = TcpStream::connect(env.addr).await.unwrap();
    tcp.write_all(&head.as_bytes()[..split]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    tcp.write_all(&head.as_bytes()[split..]).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut out))
        .await
        .expect("the server answers and closes")
        .unwrap();
    String::from_utf8(out).unwrap()
}

#[tokio::test]
async fn serves_http1_whatever_its_first_bytes_come_with() {
    let env = env(|e| e, |r| r).await;
    let get = "GET /chat/counters HTTP/1.1\r\nhost: relay.test\r\nconnection: close\r\n\r\n";
    // "G" and "P" alone: the first is not the HTTP/2 preface, the second
    // could be until more comes.
    for split in [1, 2, 3, get.len()] {
        let out = split_request(&env, get, split).await;
        assert!(out.starts_with("HTTP/1.1 200"), "split {split}: {out}");
        assert!(out.contains("\"active_streams\""), "split {split}: {out}");
    }
    let body = chat_body("Split");
    let post = format!(
        "POST /chat?format=simple HTTP/1.1\r\nhost: relay.test\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    for split in [1, 2] {
        let out = split_request(&env, &post, split).await;
        assert!(out.starts_with("HTTP/1.1 200"), "split {split}: {out}");
        assert!(out.contains("\"done\":true"), "split {split}: {out}");
    }
}
