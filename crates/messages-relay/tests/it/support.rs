//! A relay served on loopback in front of an in-process emulator, and a
//! small HTTP client that reads event streams as they arrive.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use messages_emulator::{Emulator, EmulatorBuilder, EmulatorHandle};
use messages_http::Transport;
use messages_relay::{ChatPolicy, MemoryStore, Relay, RelayBuilder};
use messages_stream::{MessageStream, StreamOptions};
use messages_types::{Message, MessageRequest};
use sse_core::{Event, Parser};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

pub(crate) const MODEL: &str = "claude-haiku-4-5";

pub(crate) struct Env {
    pub(crate) emu: EmulatorHandle,
    pub(crate) relay: Relay,
    pub(crate) store: MemoryStore,
    pub(crate) addr: SocketAddr,
    server: JoinHandle<()>,
}

impl Drop for Env {
    fn drop(&mut self) {
        self.server.abort();
    }
}

pub(crate) fn transport(emu: &EmulatorHandle) -> Transport {
    Transport::builder()
        .api_key("test-key")
        .base_url(emu.base_url())
        .max_retries(0)
        .build()
        .unwrap()
}

pub(crate) fn policy() -> ChatPolicy {
    ChatPolicy::new(MODEL)
        .max_tokens(60)
        .system("Answer briefly.")
}

/// Starts an emulator (as `emu` configures it) and a relay in front of it.
pub(crate) async fn env(
    emu: impl FnOnce(EmulatorBuilder) -> EmulatorBuilder,
    relay: impl FnOnce(RelayBuilder) -> RelayBuilder,
) -> Env {
    env_with(emu, relay, transport).await
}

/// [`env`], with the relay's upstream transport made by `transport`.
pub(crate) async fn env_with(
    emu: impl FnOnce(EmulatorBuilder) -> EmulatorBuilder,
    relay: impl FnOnce(RelayBuilder) -> RelayBuilder,
    transport: impl FnOnce(&EmulatorHandle) -> Transport,
) -> Env {
    let emu = emu(Emulator::builder().token_delay(Duration::ZERO))
        .start()
        .await
        .unwrap();
    let store = MemoryStore::new();
    let relay = relay(
        Relay::builder(transport(&emu))
            .policy(policy())
            .store(store.clone()),
    )
    .build();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn({
        let relay = relay.clone();
        async move {
            let _ = messages_relay::serve(listener, relay).await;
        }
    });
    Env {
        emu,
        relay,
        store,
        addr,
        server,
    }
}

/// The upstream request the test policy builds for `prompt`.
pub(crate) fn upstream_request(prompt: &str) -> MessageRequest {
    MessageRequest::new(MODEL, 60)
        .user(prompt)
        .system("Answer briefly.")
}

/// What messages-stream accumulates for `request` from the emulator (a
/// separate request: the emulator is deterministic).
pub(crate) async fn reference(emu: &EmulatorHandle, request: &MessageRequest) -> Message {
    MessageStream::open(&transport(emu), request, StreamOptions::new())
        .await
        .unwrap()
        .final_message()
        .await
        .unwrap()
}

pub(crate) fn chat_body(prompt: &str) -> String {
    serde_json::json!({"messages": [{"role": "user", "content": prompt}]}).to_string()
}

/// Sends one request on a fresh connection.
pub(crate) async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: impl Into<Bytes>,
) -> Response<Incoming> {
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tcp))
            .await
            .unwrap();
    tokio::spawn(conn);
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header("host", "relay.test");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let body = body.into();
    if !body.is_empty() {
        req = req.header("content-type", "application/json");
    }
    sender
        .send_request(req.body(Full::new(body)).unwrap())
        .await
        .unwrap()
}

pub(crate) async fn post_chat(env: &Env, path: &str, prompt: &str) -> Response<Incoming> {
    send(env.addr, "POST", path, &[], chat_body(prompt)).await
}

pub(crate) fn stream_id(res: &Response<Incoming>) -> String {
    res.headers()["x-relay-stream-id"]
        .to_str()
        .unwrap()
        .to_owned()
}

/// Reads a response's event stream frame by frame.
pub(crate) struct Events {
    body: Incoming,
    parser: Parser,
    /// Comments seen (heartbeats), counted as the parser skips them.
    pub(crate) frames: Vec<Bytes>,
    pub(crate) ended: bool,
}

impl Events {
    pub(crate) fn new(res: Response<Incoming>) -> Events {
        assert_eq!(res.status(), 200, "{:?}", res.headers());
        Events {
            body: res.into_body(),
            parser: Parser::new(),
            frames: Vec::new(),
            ended: false,
        }
    }

    /// The next event, or `None` at the end of the body.
    pub(crate) async fn next(&mut self) -> Option<Event> {
        loop {
            if let Ok(Some(e)) = self.parser.next_event() {
                return Some(e.to_event());
            }
            match self.body.frame().await {
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        self.frames.push(data.clone());
                        self.parser.push(data);
                    }
                }
                Some(Err(e)) => panic!("body failed: {e}"),
                None => {
                    self.ended = true;
                    return None;
                }
            }
        }
    }

    /// Every remaining event.
    pub(crate) async fn rest(&mut self) -> Vec<Event> {
        let mut all = Vec::new();
        while let Some(e) = self.next().await {
            all.push(e);
        }
        all
    }
}

/// Polls `cond` every 10 ms for up to 5 s.
pub(crate) async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    for _ in 0..500 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting until {what}");
}

/// The joined text of the text blocks of a message.
pub(crate) fn text_of(m: &Message) -> String {
    m.content.iter().filter_map(|b| b.as_text()).collect()
}

/// The JSON `data` of an event.
pub(crate) fn json(e: &Event) -> serde_json::Value {
    serde_json::from_str(e.data()).unwrap_or_else(|err| panic!("{err}: {}", e.data()))
}
