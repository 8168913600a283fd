//! `msgs stream`, `msgs count-tokens`, `msgs models`.

use std::io::Write;

use futures_util::StreamExt;
use messages::stream::Update;
use messages::types::{CountTokensRequest, Message, MessageRequest};

use crate::cli::{CountArgs, Global, ModelsArgs, StreamArgs};
use crate::connect::connect;
use crate::error::CliError;
use crate::human::{self, stdout_error};
use crate::input;

/// Stdout's buffer for streams: large enough that a fast stream costs few
/// write calls; it is flushed whenever the network has nothing ready.
const STREAM_BUFFER: usize = 64 * 1024;

/// Awaits `fut`, flushing `out` each time it has to wait: the buffered text
/// reaches the terminal as soon as the network pauses, and a fast stream
/// is written in large pieces. A failed flush is kept in `failed`.
async fn flushing_await<F: std::future::Future>(
    fut: F,
    out: &mut impl Write,
    failed: &mut Option<std::io::Error>,
) -> F::Output {
    let mut fut = std::pin::pin!(fut);
    std::future::poll_fn(|cx| match fut.as_mut().poll(cx) {
        std::task::Poll::Pending => {
            if failed.is_none()
                && let Err(e) = out.flush()
            {
                *failed = Some(e);
            }
            std::task::Poll::Pending
        }
        ready => ready,
    })
    .await
}

/// `msgs stream`.
pub(crate) async fn stream(global: &Global, args: StreamArgs) -> Result<(), CliError> {
    let prompt = input::prompt(args.prompt.prompt.as_deref())?;
    let mut request = MessageRequest::new(args.prompt.model, args.max_tokens).user(prompt);
    if let Some(system) = args.prompt.system {
        request = request.system(system);
    }
    if let Some(budget) = args.thinking {
        if budget >= args.max_tokens {
            return Err(CliError::input(format!(
                "--thinking {budget} must be less than --max-tokens {}",
                args.max_tokens
            )));
        }
        request = request.thinking(budget);
    }
    if args.adaptive_thinking {
        request = request.adaptive_thinking();
    }
    warn_if_deprecated(&request.model);
    let conn = crate::connect::connect_with(global, args.timeout.timeout).await?;
    let mut stream = match args.resume {
        Some(n) => {
            let options = messages::stream::StreamOptions::new()
                .resume(messages::stream::ResumePolicy::new(n));
            conn.client.stream_with(&request, options).await?
        }
        None => conn.client.stream(&request).await?,
    };
    let mut out = std::io::BufWriter::with_capacity(STREAM_BUFFER, std::io::stdout().lock());
    let mut flush_failed = None;
    let mut failure = None;
    if args.json {
        while let Some(event) = flushing_await(stream.next(), &mut out, &mut flush_failed).await {
            if let Some(e) = flush_failed.take() {
                return Err(stdout_error(e));
            }
            match event {
                Ok(event) => {
                    // The data as it arrived; a resumed continuation's events
                    // have none (they were rewritten), so they are encoded.
                    match stream.raw_data() {
                        Some(data) => out.write_all(data),
                        None => {
                            let line = serde_json::to_vec(&event).map_err(|e| {
                                CliError::other(format!("cannot encode an event: {e}"))
                            })?;
                            out.write_all(&line)
                        }
                    }
                    .and_then(|()| out.write_all(b"\n"))
                    .and_then(|()| out.flush())
                    .map_err(stdout_error)?;
                }
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
    } else {
        // Reasoning goes to stderr as it arrives, the answer to stdout.
        let mut err = std::io::stderr().lock();
        let mut in_thinking = false;
        while let Some(update) =
            flushing_await(stream.next_update(), &mut out, &mut flush_failed).await
        {
            if let Some(e) = flush_failed.take() {
                return Err(stdout_error(e));
            }
            match update {
                Ok(Update::Thinking { delta, .. }) => {
                    if !in_thinking {
                        in_thinking = true;
                        let _ = err.write_all(b"[thinking]\n");
                    }
                    let _ = err.write_all(delta.as_bytes()).and_then(|()| err.flush());
                }
                Ok(Update::Text { delta, .. }) => {
                    if std::mem::take(&mut in_thinking) {
                        let _ = err.write_all(b"\n[/thinking]\n").and_then(|()| err.flush());
                    }
                    out.write_all(delta.as_bytes()).map_err(stdout_error)?;
                }
                Ok(_) => {}
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        if in_thinking {
            let _ = err.write_all(b"\n[/thinking]\n");
        }
        writeln!(out).map_err(stdout_error)?;
    }
    out.flush().map_err(stdout_error)?;
    drop(out);
    if let Some(e) = failure {
        if let Some(partial) = e.partial() {
            eprintln!("{}", usage_line(partial, "stream ended early"));
        }
        return Err(e.into());
    }
    let resumed = stream.resumptions();
    let message = stream.final_message().await?;
    let note = match resumed {
        0 => String::new(),
        1 => "resumed once".to_owned(),
        n => format!("resumed {n} times"),
    };
    eprintln!("{}", usage_line(&message, &note));
    Ok(())
}

/// One stderr line (and the library's tracing warning) when the model is
/// deprecated in the model table.
fn warn_if_deprecated(model: &str) {
    use messages::types::catalog::{Lifecycle, ModelCatalog, today_utc};
    if let Some(Lifecycle::Deprecated { retires_on }) =
        ModelCatalog::builtin().lifecycle(model, &today_utc())
    {
        match retires_on {
            Some(on) => {
                eprintln!("msgs: warning: model `{model}` is deprecated and retires on {on}")
            }
            None => eprintln!("msgs: warning: model `{model}` is deprecated"),
        }
    }
}

/// `[stop_reason: end_turn; 12 input tokens, 34 output tokens]`.
fn usage_line(message: &Message, note: &str) -> String {
    let stop = message
        .stop_reason
        .as_ref()
        .map_or_else(|| "none".to_owned(), |r| r.as_str().to_owned());
    let input = message
        .usage
        .input_tokens
        .map_or_else(|| "?".to_owned(), |n| n.to_string());
    let note = if note.is_empty() {
        String::new()
    } else {
        format!("; {note}")
    };
    format!(
        "[stop_reason: {stop}; {input} input tokens, {} output tokens{note}]",
        message.usage.output_tokens
    )
}

/// `msgs count-tokens`.
pub(crate) async fn count_tokens(global: &Global, args: CountArgs) -> Result<(), CliError> {
    let prompt = input::prompt(args.prompt.prompt.as_deref())?;
    let mut request = CountTokensRequest::new(args.prompt.model).user(prompt);
    if let Some(system) = args.prompt.system {
        request = request.system(system);
    }
    let conn = connect(global).await?;
    let count = conn.client.count_tokens(&request).await?;
    human::line(count.input_tokens)
}

/// `msgs models`.
pub(crate) async fn models(global: &Global, args: ModelsArgs) -> Result<(), CliError> {
    let conn = connect(global).await?;
    let models = conn.client.models();
    let mut all = Vec::new();
    if let Some(id) = &args.id {
        all.push(models.retrieve(id).await?);
    } else {
        let list = models.list();
        let mut list = std::pin::pin!(list);
        while let Some(model) = list.next().await {
            all.push(model?);
        }
    }
    if args.json {
        for m in &all {
            let line = serde_json::to_string(m)
                .map_err(|e| CliError::other(format!("cannot encode a model: {e}")))?;
            human::line(line)?;
        }
        return Ok(());
    }
    human::line(human::models(&all))
}
