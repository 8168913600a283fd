//! A batch create is sent once when its answer may be lost: a retry could
//! create (and bill) a second batch.

use std::time::Duration;

use futures_util::StreamExt;
use messages_batch::{Batches, ListParams};
use messages_types::batch::{BatchCreateParams, BatchRequest};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

use test_support::raw::read_message;

use crate::support::*;

/// A proxy in front of `upstream` that forwards each request at once and
/// holds each answer for `hold` before passing it on: the request is
/// served (a batch is created), the client only sees the answer late.
async fn slow_answer_proxy(upstream: std::net::SocketAddr, hold: Duration) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        loop {
            let Ok((mut client, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                while let Some(request) = read_message(&mut client).await {
                    let Ok(mut up) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    if up.write_all(&request).await.is_err() {
                        return;
                    }
                    let Some(answer) = read_message(&mut up).await else {
                        return;
                    };
                    tokio::time::sleep(hold).await;
                    if client.write_all(&answer).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn a_create_whose_answer_is_late_is_not_sent_twice() {
    let emu = emulator().start().await.unwrap();
    let proxy = slow_answer_proxy(emu.local_addr(), Duration::from_millis(800)).await;
    // Each attempt gives up after 200 ms: without care, the transport
    // retries the create twice, and each try creates a batch.
    let transport = messages_http::Transport::builder()
        .api_key("test-key")
        .base_url(&proxy)
        .max_retries(2)
        .attempt_timeout(Some(Duration::from_millis(200)))
        .build()
        .unwrap();
    let params = BatchCreateParams::new(vec![BatchRequest::new("one", request("one"))]);
    let err = Batches::new(transport)
        .create(&params)
        .await
        .expect_err("the answer came too late");
    assert!(err.is_http(), "{err:?}");
    // The error says the batch may exist, and where to look.
    let text = err.to_string();
    assert!(text.contains("may have been created"), "{text}");
    // Let the upstream finish whatever was sent.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let created: Vec<_> = batches(&emu).list(ListParams::default()).collect().await;
    assert_eq!(
        created.len(),
        1,
        "one create sent, one batch (not one per retry): {created:?}"
    );
    assert_eq!(emu.request_log().count("POST", "/v1/messages/batches"), 1);
}

#[tokio::test]
async fn a_create_refused_before_it_was_served_is_still_retried() {
    // A 429 or 529 says the batch was not created: retrying is safe.
    let emu = emulator()
        .fault("status=529,times=2,scope=all,method=POST,path=/v1/messages/batches")
        .start()
        .await
        .unwrap();
    let params = BatchCreateParams::new(vec![BatchRequest::new("one", request("one"))]);
    let batch = batches(&emu)
        .create(&params)
        .await
        .expect("created on the third try");
    assert!(batch.id.starts_with("msgbatch_"));
    assert_eq!(emu.request_log().count("POST", "/v1/messages/batches"), 3);
    let listed: Vec<_> = batches(&emu).list(ListParams::default()).collect().await;
    assert_eq!(listed.len(), 1);
}
