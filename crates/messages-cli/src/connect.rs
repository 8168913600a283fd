//! The client: from the environment and flags, or the embedded emulator.

use messages::Client;
use messages_emulator::{Emulator, EmulatorHandle};

use crate::cli::Global;
use crate::error::CliError;

/// A client, and the embedded emulator it talks to (if any), which must
/// live as long as the client is used.
#[derive(Debug)]
pub(crate) struct Conn {
    pub(crate) client: Client,
    pub(crate) embedded: Option<EmulatorHandle>,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Parses `-H 'name: value'`.
pub(crate) fn parse_header(h: &str) -> Result<(&str, &str), CliError> {
    match h.split_once(':') {
        Some((name, value)) if !name.trim().is_empty() => Ok((name.trim(), value.trim())),
        _ => Err(CliError::input(format!("-H {h:?}: expected `name: value`"))),
    }
}

/// Starts the embedded emulator and says so in one line on stderr.
pub(crate) async fn embedded_emulator(
    builder: messages_emulator::EmulatorBuilder,
) -> Result<messages_emulator::EmulatorHandle, CliError> {
    let handle = builder
        .start()
        .await
        .map_err(|e| CliError::other(format!("cannot start the embedded emulator: {e}")))?;
    eprintln!(
        "msgs: no ANTHROPIC_API_KEY set: using the embedded emulator at {} (synthetic replies)",
        handle.base_url()
    );
    Ok(handle)
}

/// Builds the client. With no credentials and no base URL in the
/// environment or flags, starts the embedded emulator and says so on stderr.
pub(crate) async fn connect(global: &Global) -> Result<Conn, CliError> {
    connect_with(global, None).await
}

/// [`connect`] with `--timeout`: the overall deadline of every request,
/// body included (see `ClientBuilder::timeout`).
pub(crate) async fn connect_with(
    global: &Global,
    timeout: Option<std::time::Duration>,
) -> Result<Conn, CliError> {
    let mut headers = Vec::with_capacity(global.headers.len());
    for h in &global.headers {
        headers.push(parse_header(h)?);
    }
    let has_key = env("ANTHROPIC_API_KEY").is_some() || env("ANTHROPIC_AUTH_TOKEN").is_some();
    let base_url = global
        .base_url
        .clone()
        .or_else(|| env("ANTHROPIC_BASE_URL"));
    let mut embedded = None;
    let mut builder = Client::builder().transport(|t| t.from_env());
    if !has_key && base_url.is_none() {
        let handle = embedded_emulator(Emulator::builder().request_log(false)).await?;
        builder = builder
            .api_key("embedded-emulator")
            .base_url(handle.base_url());
        embedded = Some(handle);
    } else if let Some(url) = base_url {
        builder = builder.base_url(url);
    }
    let header_timeout = global.header_timeout;
    let builder = builder.transport(|mut t| {
        for (name, value) in headers {
            t = t.default_header(name, value);
        }
        if let Some(d) = header_timeout {
            t = t.header_timeout(Some(d));
        }
        http_flags(t, global)
    });
    let builder = match timeout {
        Some(t) => builder.timeout(t),
        None => builder,
    };
    let client = builder.build()?;
    Ok(Conn { client, embedded })
}

/// The HTTP version flags (`--http2-prior-knowledge`, `--http2-max-streams`,
/// `--http1-read-buf`).
pub(crate) fn http_flags(
    t: messages::http::TransportBuilder,
    global: &Global,
) -> messages::http::TransportBuilder {
    let t = t
        .http2_prior_knowledge(global.http2_prior_knowledge)
        .http1_read_buf_size(global.http1_read_buf);
    match global.http2_max_streams {
        Some(n) => t.http2_max_streams(n),
        None => t,
    }
}

/// Binds the listener of `msgs serve` and `msgs queue dashboard` and prints
/// `listening on http://ADDR` (the bound address, a free port for `:0`).
pub(crate) async fn listen(
    addr: std::net::SocketAddr,
) -> Result<(tokio::net::TcpListener, std::net::SocketAddr), CliError> {
    let fail = |e: std::io::Error| CliError::other(format!("cannot listen on {addr}: {e}"));
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(fail)?;
    let bound = listener.local_addr().map_err(fail)?;
    println!("listening on http://{bound}");
    Ok((listener, bound))
}
