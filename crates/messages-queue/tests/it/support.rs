//! Test servers: redis-server, the emulator, a callback receiver.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use messages_emulator::{Emulator, EmulatorHandle};
use messages_queue::callback::{DEFAULT_TOLERANCE, SIGNATURE_HEADER, verify};
use messages_types::MessageRequest;

pub(crate) use test_support::TempDir;

pub(crate) use test_support::redis::Redis;

pub(crate) async fn emulator(latency: Duration) -> EmulatorHandle {
    Emulator::builder()
        .token_delay(Duration::ZERO)
        .latency(latency)
        .request_log(false)
        .start()
        .await
        .expect("emulator starts")
}

pub(crate) async fn emulator_with_fault(fault: &str) -> EmulatorHandle {
    Emulator::builder()
        .token_delay(Duration::ZERO)
        .fault(fault)
        .request_log(false)
        .start()
        .await
        .expect("emulator starts")
}

pub(crate) fn transport(emu: &EmulatorHandle, retries: u32) -> messages_http::Transport {
    messages_http::Transport::builder()
        .api_key("test")
        .base_url(emu.base_url())
        .max_retries(retries)
        .build()
        .expect("transport")
}

pub(crate) fn request(id: &str) -> MessageRequest {
    MessageRequest::new("claude-sonnet-4-6", 16).user(format!("prompt for {id}"))
}

pub(crate) const SECRET: &[u8] = b"test secret";

/// A callback receiver on loopback: verifies every signature and counts
/// the POSTs per job id.
#[derive(Clone)]
pub(crate) struct Receiver {
    pub(crate) addr: SocketAddr,
    counts: Arc<Mutex<HashMap<String, u32>>>,
    bad: Arc<Mutex<Vec<String>>>,
}

impl Receiver {
    pub(crate) async fn start() -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let r = Receiver {
            addr: listener.local_addr().expect("addr"),
            counts: Arc::default(),
            bad: Arc::default(),
        };
        let rr = r.clone();
        tokio::spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else {
                    return;
                };
                let rr = rr.clone();
                tokio::spawn(async move {
                    let svc = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                        let rr = rr.clone();
                        async move {
                            let sig = req
                                .headers()
                                .get(SIGNATURE_HEADER)
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or("")
                                .to_owned();
                            let key = req
                                .headers()
                                .get("idempotency-key")
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or("")
                                .to_owned();
                            let body = req.into_body().collect().await?.to_bytes();
                            let now = std::time::SystemTime::now()
                                .duration_since(std::time::UNIX_EPOCH)
                                .unwrap_or_default()
                                .as_secs();
                            let v: serde_json::Value =
                                serde_json::from_slice(&body).unwrap_or_default();
                            let id = v["custom_id"].as_str().unwrap_or("").to_owned();
                            if verify(SECRET, &sig, &body, now, DEFAULT_TOLERANCE).is_err()
                                || id != key
                            {
                                rr.bad.lock().unwrap().push(id);
                                return Ok::<_, hyper::Error>(
                                    hyper::Response::builder()
                                        .status(401)
                                        .body(Full::new(Bytes::new()))
                                        .unwrap(),
                                );
                            }
                            *rr.counts.lock().unwrap().entry(id).or_default() += 1;
                            Ok(hyper::Response::new(Full::new(Bytes::from_static(b"ok"))))
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(sock), svc)
                        .await;
                });
            }
        });
        r
    }

    pub(crate) fn url(&self) -> String {
        format!("http://{}/cb", self.addr)
    }

    pub(crate) fn counts(&self) -> HashMap<String, u32> {
        self.counts.lock().unwrap().clone()
    }

    pub(crate) fn bad(&self) -> Vec<String> {
        self.bad.lock().unwrap().clone()
    }
}
