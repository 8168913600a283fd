//! A tiny HTTP/1 client over loopback, an SSE reader and a stream accumulator,
//! written for the tests (not the project's client crates).

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use messages_emulator::{Emulator, EmulatorBuilder, EmulatorHandle};
use serde_json::{Value, json};
use tokio::net::TcpStream;

pub(crate) const MODEL: &str = "claude-sonnet-4-6";

/// An emulator for tests: no pacing, fast batches.
pub(crate) fn builder() -> EmulatorBuilder {
    Emulator::builder()
        .token_delay(Duration::ZERO)
        .batch_pace(Duration::ZERO)
}

pub(crate) async fn start() -> EmulatorHandle {
    builder().start().await.expect("emulator starts")
}

#[derive(Debug)]
pub(crate) struct Resp {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl Resp {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {:?}", self.body))
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts an API error body of this status and type; returns the message.
    pub(crate) fn api_error(&self, status: u16, kind: &str) -> String {
        assert_eq!(self.status, status, "body: {:?}", self.body);
        let v = self.json();
        assert_eq!(v["type"], "error", "{v}");
        assert_eq!(v["error"]["type"], kind, "{v}");
        let rid = self.header("request-id").expect("request-id header");
        assert_eq!(v["request_id"], rid);
        v["error"]["message"].as_str().expect("message").to_owned()
    }
}

/// Sends one request on a fresh connection and returns the streaming response.
pub(crate) async fn send_raw(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: impl Into<Bytes>,
) -> Response<Incoming> {
    let stream = TcpStream::connect(addr).await.expect("connect");
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header("host", addr.to_string());
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req.body(Full::new(body.into())).expect("request");
    sender.send_request(req).await.expect("response head")
}

/// Sends a request with an API key and a JSON content type, collecting the body.
pub(crate) async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    extra: &[(&str, &str)],
    body: impl Into<Bytes>,
) -> Resp {
    let mut headers = vec![
        ("x-api-key", "test-key"),
        ("content-type", "application/json"),
    ];
    headers.extend_from_slice(extra);
    let resp = send_raw(addr, method, path, &headers, body).await;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    Resp {
        status,
        headers,
        body,
    }
}

pub(crate) async fn post(addr: SocketAddr, path: &str, body: &Value) -> Resp {
    send(addr, "POST", path, &[], body.to_string()).await
}

pub(crate) async fn get(addr: SocketAddr, path: &str) -> Resp {
    send(addr, "GET", path, &[], Bytes::new()).await
}

pub(crate) fn request(prompt: &str, max_tokens: u64) -> Value {
    json!({
        "model": MODEL,
        "max_tokens": max_tokens,
        "messages": [{"role": "user", "content": prompt}],
    })
}

pub(crate) fn streaming(mut req: Value) -> Value {
    req["stream"] = json!(true);
    req
}

// ===== SSE =====

/// One parsed SSE event.
#[derive(Debug, Clone)]
pub(crate) struct Sse {
    pub(crate) event: String,
    pub(crate) data: String,
}

impl Sse {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.data)
            .unwrap_or_else(|e| panic!("event {} has bad JSON ({e}): {}", self.event, self.data))
    }
}

/// Parses a whole SSE body (LF line ends, as the emulator writes them).
/// Returns the events and whether the body ended with a complete event.
pub(crate) fn parse_sse(body: &[u8]) -> (Vec<Sse>, bool) {
    let text = std::str::from_utf8(body).expect("utf-8 stream");
    let mut events = Vec::new();
    let mut rest = text;
    while let Some(end) = rest.find("\n\n") {
        let block = &rest[..end];
        rest = &rest[end + 2..];
        let mut ev = Sse {
            event: "message".into(),
            data: String::new(),
        };
        let mut has_data = false;
        for line in block.split('\n') {
            if line.starts_with(':') {
                continue;
            }
            let (field, value) = line.split_once(':').unwrap_or((line, ""));
            let value = value.strip_prefix(' ').unwrap_or(value);
            match field {
                "event" => ev.event = value.to_owned(),
                "data" => {
                    if has_data {
                        ev.data.push('\n');
                    }
                    ev.data.push_str(value);
                    has_data = true;
                }
                _ => {}
            }
        }
        if has_data {
            events.push(ev);
        }
    }
    (events, rest.is_empty())
}

/// Accumulates stream events into the final message, the way a client does.
pub(crate) fn accumulate(events: &[Sse]) -> Value {
    let mut msg = Value::Null;
    let mut partial: Vec<String> = Vec::new();
    for e in events {
        let v = e.json();
        assert_eq!(
            v["type"].as_str(),
            Some(e.event.as_str()),
            "event name equals type"
        );
        match e.event.as_str() {
            "message_start" => msg = v["message"].clone(),
            "content_block_start" => {
                let i = v["index"].as_u64().expect("index") as usize;
                let content = msg["content"].as_array_mut().expect("content");
                assert_eq!(content.len(), i, "blocks start in order");
                content.push(v["content_block"].clone());
                partial.push(String::new());
            }
            "content_block_delta" => {
                let i = v["index"].as_u64().expect("index") as usize;
                let block = &mut msg["content"][i];
                let d = &v["delta"];
                match d["type"].as_str().expect("delta type") {
                    "text_delta" => {
                        let t = format!(
                            "{}{}",
                            block["text"].as_str().unwrap(),
                            d["text"].as_str().unwrap()
                        );
                        block["text"] = json!(t);
                    }
                    "thinking_delta" => {
                        let t = format!(
                            "{}{}",
                            block["thinking"].as_str().unwrap(),
                            d["thinking"].as_str().unwrap()
                        );
                        block["thinking"] = json!(t);
                    }
                    "signature_delta" => block["signature"] = d["signature"].clone(),
                    "input_json_delta" => partial[i].push_str(d["partial_json"].as_str().unwrap()),
                    other => panic!("unexpected delta {other}"),
                }
            }
            "content_block_stop" => {
                let i = v["index"].as_u64().expect("index") as usize;
                if msg["content"][i]["type"] == "tool_use" {
                    msg["content"][i]["input"] =
                        serde_json::from_str(&partial[i]).expect("tool input is JSON");
                }
            }
            "message_delta" => {
                msg["stop_reason"] = v["delta"]["stop_reason"].clone();
                msg["stop_sequence"] = v["delta"]["stop_sequence"].clone();
                for (k, val) in v["usage"].as_object().expect("usage") {
                    msg["usage"][k] = val.clone();
                }
            }
            "message_stop" | "ping" => {}
            other => panic!("unexpected event {other}"),
        }
    }
    msg
}

/// Streams a request and returns (events, complete, content-type).
pub(crate) async fn stream(
    addr: SocketAddr,
    body: &Value,
    extra: &[(&str, &str)],
) -> (Vec<Sse>, Resp) {
    let resp = send(
        addr,
        "POST",
        "/v1/messages",
        extra,
        streaming(body.clone()).to_string(),
    )
    .await;
    assert_eq!(resp.status, 200, "{:?}", resp.body);
    let (events, complete) = parse_sse(&resp.body);
    assert!(complete, "stream ends after a whole event");
    (events, resp)
}

// ===== JSON Schema subset validator (test oracle) =====

/// Checks `value` against the schema subset the emulator promises to honour.
pub(crate) fn validate_schema(schema: &Value, value: &Value) -> Result<(), String> {
    if let Some(c) = schema.get("const") {
        return if c == value {
            Ok(())
        } else {
            Err(format!("{value} != const {c}"))
        };
    }
    if let Some(Value::Array(options)) = schema.get("enum") {
        return if options.contains(value) {
            Ok(())
        } else {
            Err(format!("{value} not in enum"))
        };
    }
    if let Some(Value::Array(alts)) = schema.get("anyOf").or_else(|| schema.get("oneOf")) {
        return if alts.iter().any(|a| validate_schema(a, value).is_ok()) {
            Ok(())
        } else {
            Err(format!("{value} matches no alternative"))
        };
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("object") => {
            let obj = value
                .as_object()
                .ok_or(format!("{value} is not an object"))?;
            for r in schema
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let r = r.as_str().unwrap();
                if !obj.contains_key(r) {
                    return Err(format!("missing required `{r}`"));
                }
            }
            let props = schema.get("properties").and_then(Value::as_object);
            for (k, v) in obj {
                let p = props
                    .and_then(|p| p.get(k))
                    .ok_or(format!("unknown property `{k}`"))?;
                validate_schema(p, v)?;
            }
            Ok(())
        }
        Some("array") => {
            let items = value.as_array().ok_or(format!("{value} is not an array"))?;
            if let Some(min) = schema.get("minItems").and_then(Value::as_u64)
                && (items.len() as u64) < min
            {
                return Err("too few items".into());
            }
            if let Some(max) = schema.get("maxItems").and_then(Value::as_u64)
                && (items.len() as u64) > max
            {
                return Err("too many items".into());
            }
            for it in items {
                validate_schema(schema.get("items").unwrap_or(&Value::Null), it)?;
            }
            Ok(())
        }
        Some("string") => {
            let s = value.as_str().ok_or(format!("{value} is not a string"))?;
            let n = s.chars().count() as u64;
            if schema
                .get("minLength")
                .and_then(Value::as_u64)
                .is_some_and(|m| n < m)
                || schema
                    .get("maxLength")
                    .and_then(Value::as_u64)
                    .is_some_and(|m| n > m)
            {
                return Err(format!("`{s}` has the wrong length"));
            }
            Ok(())
        }
        Some(t @ ("integer" | "number")) => {
            let x = value.as_f64().ok_or(format!("{value} is not a number"))?;
            if t == "integer" && !(value.is_i64() || value.is_u64()) {
                return Err(format!("{value} is not an integer"));
            }
            if schema
                .get("minimum")
                .and_then(Value::as_f64)
                .is_some_and(|m| x < m)
                || schema
                    .get("maximum")
                    .and_then(Value::as_f64)
                    .is_some_and(|m| x > m)
                || schema
                    .get("exclusiveMinimum")
                    .and_then(Value::as_f64)
                    .is_some_and(|m| x <= m)
                || schema
                    .get("exclusiveMaximum")
                    .and_then(Value::as_f64)
                    .is_some_and(|m| x >= m)
            {
                return Err(format!("{value} out of bounds"));
            }
            Ok(())
        }
        Some("boolean") => value
            .as_bool()
            .map(|_| ())
            .ok_or(format!("{value} is not a boolean")),
        Some("null") => value
            .is_null()
            .then_some(())
            .ok_or(format!("{value} is not null")),
        _ => Ok(()),
    }
}
