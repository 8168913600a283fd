//! `msgs serve`: the browser relay with its demo chat page.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use clap::Args;
use http::{HeaderValue, Method, Request, Response, header};
use messages::Transport;
use messages_emulator::{Emulator, EmulatorHandle};
use messages_relay::{ChatPolicy, Format, Relay, RelayBody, WithDemoPage};

use crate::cli::Global;
use crate::connect;
use crate::error::CliError;

/// `msgs serve`.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "HOST:PORT")]
    pub(crate) addr: SocketAddr,
    /// The format of `POST /chat` when the request asks for none:
    /// ui-message-stream, anthropic or simple.
    #[arg(long, default_value = "ui-message-stream")]
    pub(crate) format: Format,
    /// The model every chat uses (the browser cannot choose it).
    #[arg(long, short, default_value = "claude-sonnet-4-6")]
    pub(crate) model: String,
    /// The cap on a reply's length.
    #[arg(long, default_value_t = 1024)]
    pub(crate) max_tokens: u32,
    /// The system prompt.
    #[arg(long)]
    pub(crate) system: Option<String>,
    /// Seconds a stream with no browser attached keeps its upstream request.
    #[arg(long, default_value_t = 10, value_name = "SECS")]
    pub(crate) grace_secs: u64,
    /// Seconds an ended stream is kept for reconnects.
    #[arg(long, default_value_t = 300, value_name = "SECS")]
    pub(crate) keep_secs: u64,
    /// Seconds of silence before a heartbeat.
    #[arg(long, default_value_t = 15, value_name = "SECS")]
    pub(crate) heartbeat_secs: u64,
    /// Tools offered to the model: a JSON file holding an array of tool
    /// definitions (`name`, `description`, `input_schema`).
    #[arg(long, value_name = "FILE.json")]
    pub(crate) tools: Option<std::path::PathBuf>,
    /// Allow this origin (CORS) to call the relay from another site.
    #[arg(long, value_name = "ORIGIN")]
    pub(crate) allow_origin: Option<String>,
    /// Keep streams in this Redis (redis://HOST:PORT/DB) instead of in
    /// memory, so that several `msgs serve` sharing it resume each other's
    /// streams.
    #[arg(long, value_name = "URL")]
    pub(crate) redis: Option<String>,
    /// The embedded emulator's pacing per token in milliseconds (used only
    /// without an API key).
    #[arg(long, default_value_t = 30, value_name = "MS")]
    pub(crate) token_delay_ms: u64,
}

fn set(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| !v.trim().is_empty())
}

/// `msgs serve`.
pub(crate) async fn run(global: &Global, args: ServeArgs) -> Result<(), CliError> {
    // A relay holds an upstream connection per stream over HTTP/1.1: a
    // fixed 4 KiB read buffer keeps each to about 8 KiB (hyper's adaptive
    // one reaches 16 KiB); see docs/benchmarks.md.
    let mut global = global.clone();
    global.http1_read_buf.get_or_insert(4096);
    let global = &global;
    let use_emulator = global.base_url.is_none()
        && !set("ANTHROPIC_API_KEY")
        && !set("ANTHROPIC_AUTH_TOKEN")
        && !set("ANTHROPIC_BASE_URL");
    let (transport, emulator, _conn) = if use_emulator {
        let builder = Emulator::builder().token_delay(Duration::from_millis(args.token_delay_ms));
        let handle = connect::embedded_emulator(builder).await?;
        let transport = connect::http_flags(Transport::builder(), global)
            .api_key("embedded-emulator")
            .base_url(handle.base_url())
            .build()
            .map_err(|e| CliError::other(format!("cannot build the transport: {e}")))?;
        (transport, Some(Arc::new(handle)), None)
    } else {
        let conn = connect::connect(global).await?;
        (conn.client.transport().clone(), None, Some(conn))
    };
    let mut policy = ChatPolicy::new(args.model).max_tokens(args.max_tokens);
    if let Some(system) = args.system {
        policy = policy.system(system);
    }
    if let Some(path) = &args.tools {
        let text = std::fs::read_to_string(path).map_err(|e| {
            CliError::input(format!("--tools: cannot read {}: {e}", path.display()))
        })?;
        let tools: Vec<messages::types::Tool> = serde_json::from_str(&text).map_err(|e| {
            CliError::input(format!(
                "--tools {}: not an array of tools: {e}",
                path.display()
            ))
        })?;
        for tool in tools {
            policy = policy.tool(tool);
        }
    }
    let mut builder = Relay::builder(transport)
        .policy(policy)
        .format(args.format)
        .grace(Duration::from_secs(args.grace_secs))
        .keep(Duration::from_secs(args.keep_secs))
        .heartbeat(Duration::from_secs(args.heartbeat_secs.max(1)));
    if let Some(origin) = &args.allow_origin {
        HeaderValue::from_str(origin).map_err(|_| {
            CliError::input(format!("--allow-origin {origin:?}: not a header value"))
        })?;
        builder = builder.allow_origin(origin);
    }
    if let Some(url) = &args.redis {
        let store = messages_relay::RedisStore::connect(url.as_str())
            .await
            .map_err(|e| CliError::other(format!("--redis {url}: {e}")))?;
        builder = builder.store(store);
    }
    let relay = builder.build();
    let (listener, addr) = connect::listen(args.addr).await?;
    eprintln!("msgs: open http://{addr}/ for the demo chat; POST /chat for the relay");
    let app = App {
        relay: WithDemoPage::new(relay),
        emulator,
    };
    tokio::select! {
        r = messages_relay::serve(listener, app) => {
            r.map_err(|e| CliError::other(format!("accepting connections failed: {e}")))
        }
        _ = tokio::signal::ctrl_c() => Err(CliError::new(130, "")),
    }
}

/// The demo page and the relay, plus `GET /_emulator` (what the embedded
/// emulator saw: its streaming requests and the streams cancelled by their
/// client) for the browser checks.
#[derive(Debug, Clone)]
struct App {
    relay: WithDemoPage<Relay>,
    emulator: Option<Arc<EmulatorHandle>>,
}

impl<B> tower::Service<Request<B>> for App
where
    WithDemoPage<Relay>:
        tower::Service<Request<B>, Response = Response<RelayBody>, Error = Infallible>,
    <WithDemoPage<Relay> as tower::Service<Request<B>>>::Future: Send + 'static,
{
    type Response = Response<RelayBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<RelayBody>, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.relay.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        if req.method() == Method::GET && req.uri().path() == "/_emulator" {
            let body = match &self.emulator {
                Some(emu) => serde_json::json!({
                    "messages_requests": emu.request_log().count("POST", "/v1/messages"),
                    "cancelled_streams": emu.cancelled_streams(),
                }),
                None => serde_json::json!({"embedded": false}),
            };
            let mut res = Response::new(RelayBody::from(Bytes::from(body.to_string())));
            res.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            return Box::pin(std::future::ready(Ok(res)));
        }
        Box::pin(self.relay.call(req))
    }
}
