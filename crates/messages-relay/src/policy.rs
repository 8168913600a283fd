//! What the browser may ask for: [`Policy`] turns its request into a
//! [`MessageRequest`], and [`ChatPolicy`] is the default.

use std::fmt;
use std::sync::Arc;

use http::request::Parts;
use http::{HeaderValue, StatusCode, header};
use messages_types::{MessageRequest, Tool};
use serde::Deserialize;
use serde_json::Value;

/// The JSON body of `POST /chat`, as the browser sends it.
///
/// ```json
/// {"id": "chat-1", "messages": [{"role": "user", "content": "Hi"}], "options": {"max_tokens": 200}}
/// ```
///
/// Each message is `{"role", "content"}` with `content` a string or an array
/// of `{"type": "text", "text"}` blocks, or an AI SDK `UIMessage`
/// (`{"role", "parts": [{"type": "text", "text"}]}`); only text is taken.
/// Unknown fields (the AI SDK's `trigger`, `messageId`) are ignored.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct ChatRequest {
    /// The conversation so far, oldest first.
    pub messages: Vec<ChatMessage>,
    /// The conversation id (the AI SDK's chat `id`), if the page has one.
    #[serde(default)]
    pub id: Option<String>,
    /// Options the page asks for; the policy decides what to honour.
    #[serde(default)]
    pub options: ChatOptions,
}

/// Options of a [`ChatRequest`].
#[derive(Debug, Clone, Default, Deserialize)]
#[non_exhaustive]
pub struct ChatOptions {
    /// The reply's length limit; the policy caps it.
    #[serde(default)]
    pub max_tokens: Option<u32>,
    /// Sampling temperature.
    #[serde(default)]
    pub temperature: Option<f64>,
}

/// One turn of a [`ChatRequest`]: its role and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChatMessage {
    /// `user` or `assistant` (anything else is refused by [`ChatPolicy`]).
    pub role: String,
    /// The turn's text parts, joined.
    pub text: String,
}

impl<'de> Deserialize<'de> for ChatMessage {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<ChatMessage, D::Error> {
        #[derive(Deserialize)]
        struct Wire {
            role: String,
            #[serde(default)]
            content: Option<Value>,
            #[serde(default)]
            parts: Option<Vec<Value>>,
        }
        let wire = Wire::deserialize(d)?;
        let mut text = String::new();
        let mut take = |parts: &[Value]| {
            for part in parts {
                if part.get("type").and_then(Value::as_str) == Some("text")
                    && let Some(t) = part.get("text").and_then(Value::as_str)
                {
                    text.push_str(t);
                }
            }
        };
        match (&wire.content, &wire.parts) {
            (Some(Value::String(s)), _) => text.push_str(s),
            (Some(Value::Array(parts)), _) => take(parts),
            (None | Some(Value::Null), Some(parts)) => take(parts),
            (None | Some(Value::Null), None) => {
                return Err(serde::de::Error::custom(
                    "a message needs `content` or `parts`",
                ));
            }
            (Some(_), _) => {
                return Err(serde::de::Error::custom(
                    "`content` must be a string or an array of blocks",
                ));
            }
        }
        Ok(ChatMessage {
            role: wire.role,
            text,
        })
    }
}

/// A refused request: the HTTP status and an error in the API's shape
/// (`{"type":"error","error":{"type","message"}}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    status: StatusCode,
    kind: &'static str,
    message: String,
    retry_after: Option<u64>,
}

impl Rejection {
    /// A rejection with any status and error type.
    pub fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Rejection {
        Rejection {
            status,
            kind,
            message: message.into(),
            retry_after: None,
        }
    }

    /// 400 `invalid_request_error`.
    pub fn bad_request(message: impl Into<String>) -> Rejection {
        Rejection::new(StatusCode::BAD_REQUEST, "invalid_request_error", message)
    }

    /// 401 `authentication_error`: no or bad credentials.
    pub fn unauthorized(message: impl Into<String>) -> Rejection {
        Rejection::new(StatusCode::UNAUTHORIZED, "authentication_error", message)
    }

    /// 403 `permission_error`: known caller, not allowed.
    pub fn forbidden(message: impl Into<String>) -> Rejection {
        Rejection::new(StatusCode::FORBIDDEN, "permission_error", message)
    }

    /// 429 `rate_limit_error`, with a `retry-after` of `seconds`.
    pub fn rate_limited(seconds: u64, message: impl Into<String>) -> Rejection {
        let mut r = Rejection::new(StatusCode::TOO_MANY_REQUESTS, "rate_limit_error", message);
        r.retry_after = Some(seconds);
        r
    }

    /// 413 `request_too_large`.
    pub fn too_large(message: impl Into<String>) -> Rejection {
        Rejection::new(StatusCode::PAYLOAD_TOO_LARGE, "request_too_large", message)
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The error type (`authentication_error`...).
    pub fn kind(&self) -> &str {
        self.kind
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }

    pub(crate) fn into_response<B: From<bytes::Bytes>>(self) -> http::Response<B> {
        let body = serde_json::json!({
            "type": "error",
            "error": {"type": self.kind, "message": self.message},
        });
        let mut res = http::Response::new(B::from(bytes::Bytes::from(body.to_string())));
        *res.status_mut() = self.status;
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Some(s) = self.retry_after {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        res
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.kind,
            self.message
        )
    }
}

impl std::error::Error for Rejection {}

/// Decides who may chat and what is sent upstream.
///
/// The relay calls [`authorize`](Policy::authorize) with the request head
/// before reading the body (also for resume and stop requests), then
/// [`request`](Policy::request) with the parsed body. The browser never
/// picks the model, the system prompt or the tools, and never sees the API
/// key: the policy does, on the server.
pub trait Policy: Send + Sync + fmt::Debug + 'static {
    /// Checks the caller from the request head (a bearer token, a cookie).
    /// Default: everyone may.
    ///
    /// # Errors
    ///
    /// A [`Rejection`] (401, 403, 429...) is sent as the response.
    fn authorize(&self, head: &Parts) -> Result<(), Rejection> {
        let _ = head;
        Ok(())
    }

    /// The largest request body read, in bytes; a larger one gets 413.
    fn max_body_bytes(&self) -> usize {
        256 * 1024
    }

    /// Turns the browser's request into the upstream request.
    ///
    /// # Errors
    ///
    /// A [`Rejection`] is sent as the response.
    fn request(&self, head: &Parts, chat: ChatRequest) -> Result<MessageRequest, Rejection>;
}

type AuthFn = Arc<dyn Fn(&Parts) -> Result<(), Rejection> + Send + Sync>;

/// The default [`Policy`]: a fixed model, system prompt and tools chosen by
/// the server, a cap on `max_tokens`, and limits on what the page sends.
///
/// Defaults: model `claude-sonnet-4-6`, `max_tokens` 1024 (the page may ask
/// for less), no system prompt, no tools, at most 100 messages of at most
/// 100,000 bytes of text in all, a 256 KiB body, no authentication.
#[derive(Clone)]
pub struct ChatPolicy {
    model: String,
    max_tokens: u32,
    system: Option<String>,
    tools: Vec<Tool>,
    max_messages: usize,
    max_text_bytes: usize,
    max_body_bytes: usize,
    auth: Option<AuthFn>,
}

impl fmt::Debug for ChatPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChatPolicy")
            .field("model", &self.model)
            .field("max_tokens", &self.max_tokens)
            .field("system", &self.system.is_some())
            .field("tools", &self.tools.len())
            .field("max_messages", &self.max_messages)
            .field("max_text_bytes", &self.max_text_bytes)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("auth", &self.auth.is_some())
            .finish()
    }
}

impl Default for ChatPolicy {
    fn default() -> ChatPolicy {
        ChatPolicy::new("claude-sonnet-4-6")
    }
}

impl ChatPolicy {
    /// The defaults, with `model`.
    pub fn new(model: impl Into<String>) -> ChatPolicy {
        ChatPolicy {
            model: model.into(),
            max_tokens: 1024,
            system: None,
            tools: Vec::new(),
            max_messages: 100,
            max_text_bytes: 100_000,
            max_body_bytes: 256 * 1024,
            auth: None,
        }
    }

    /// The cap on `max_tokens` (also its value when the page asks for
    /// none). Default 1024.
    pub fn max_tokens(mut self, cap: u32) -> ChatPolicy {
        self.max_tokens = cap;
        self
    }

    /// The system prompt. Default none.
    pub fn system(mut self, system: impl Into<String>) -> ChatPolicy {
        self.system = Some(system.into());
        self
    }

    /// Offers a tool to the model. Default none.
    pub fn tool(mut self, tool: Tool) -> ChatPolicy {
        self.tools.push(tool);
        self
    }

    /// The most messages a request may carry. Default 100.
    pub fn max_messages(mut self, n: usize) -> ChatPolicy {
        self.max_messages = n;
        self
    }

    /// The most text, in bytes, all messages together may carry. Default 100,000.
    pub fn max_text_bytes(mut self, n: usize) -> ChatPolicy {
        self.max_text_bytes = n;
        self
    }

    /// The largest body read, in bytes. Default 256 KiB.
    pub fn max_body_bytes(mut self, n: usize) -> ChatPolicy {
        self.max_body_bytes = n;
        self
    }

    /// Authenticates every request with `check`, which sees the request
    /// head and may refuse with 401, 403, 429 or any [`Rejection`].
    pub fn auth(
        mut self,
        check: impl Fn(&Parts) -> Result<(), Rejection> + Send + Sync + 'static,
    ) -> ChatPolicy {
        self.auth = Some(Arc::new(check));
        self
    }

    /// Requires `Authorization: Bearer TOKEN`: 401 without a bearer token,
    /// 403 with another one.
    pub fn bearer(self, token: impl Into<String>) -> ChatPolicy {
        let token = token.into();
        self.auth(move |head| {
            let given = head
                .headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "));
            match given {
                None => Err(Rejection::unauthorized("a bearer token is required")),
                Some(t) if t == token => Ok(()),
                Some(_) => Err(Rejection::forbidden("this token may not chat")),
            }
        })
    }
}

impl Policy for ChatPolicy {
    fn authorize(&self, head: &Parts) -> Result<(), Rejection> {
        match &self.auth {
            Some(check) => check(head),
            None => Ok(()),
        }
    }

    fn max_body_bytes(&self) -> usize {
        self.max_body_bytes
    }

    fn request(&self, _head: &Parts, chat: ChatRequest) -> Result<MessageRequest, Rejection> {
        if chat.messages.is_empty() {
            return Err(Rejection::bad_request("messages: at least one is required"));
        }
        if chat.messages.len() > self.max_messages {
            return Err(Rejection::bad_request(format!(
                "messages: {} given, at most {} allowed",
                chat.messages.len(),
                self.max_messages
            )));
        }
        let text: usize = chat.messages.iter().map(|m| m.text.len()).sum();
        if text > self.max_text_bytes {
            return Err(Rejection::too_large(format!(
                "messages: {text} bytes of text, at most {} allowed",
                self.max_text_bytes
            )));
        }
        let max_tokens = chat
            .options
            .max_tokens
            .map_or(self.max_tokens, |n| n.clamp(1, self.max_tokens));
        let mut request = MessageRequest::new(self.model.clone(), max_tokens);
        for (i, m) in chat.messages.into_iter().enumerate() {
            request = match m.role.as_str() {
                "user" => request.user(m.text),
                "assistant" => request.assistant(m.text),
                other => {
                    return Err(Rejection::bad_request(format!(
                        "messages.{i}.role: {other:?} is not allowed (user or assistant)"
                    )));
                }
            };
        }
        if let Some(system) = &self.system {
            request = request.system(system.clone());
        }
        for tool in &self.tools {
            request = request.tool(tool.clone());
        }
        if let Some(t) = chat.options.temperature {
            request = request.temperature(t.clamp(0.0, 1.0));
        }
        Ok(request)
    }
}
