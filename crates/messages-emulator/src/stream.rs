//! Turning a generated reply into an SSE stream, with pacing and faults.

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::sync::mpsc;

use crate::body::{Abort, Body};
use crate::fault::ActiveFaults;
use crate::generate::Generation;
use crate::sse;
use crate::wire::{self, Content, Delta, ErrorDetail, Event, MessageDelta, Usage};

/// One event to send: its name, its JSON data and the tokens it stands for.
#[derive(Debug, Clone)]
pub(crate) struct Ev {
    pub(crate) name: &'static str,
    pub(crate) data: String,
    pub(crate) tokens: u64,
    /// The block index, for a `text_delta`.
    pub(crate) text_of: Option<usize>,
}

/// Writes `event`'s data; its name is its `type`.
fn ev(event: &Event<'_>, tokens: u64) -> Ev {
    Ev {
        name: event.name(),
        data: wire::to_string(event),
        tokens,
        text_of: match event {
            Event::ContentBlockDelta {
                index,
                delta: Delta::Text { .. },
            } => Some(*index),
            _ => None,
        },
    }
}

/// The events of a reply, in the real API's order: `message_start`, per block
/// `content_block_start` / deltas / `content_block_stop`, `message_delta`,
/// `message_stop`; a `ping` after the first `content_block_start` and then
/// after every `ping_every` deltas (0: no further pings).
pub(crate) fn events(g: &Generation, ping_every: usize) -> Vec<Ev> {
    let message = g.start_message();
    let mut out = vec![ev(&Event::MessageStart { message }, 0)];
    let mut deltas_sent = 0usize;
    for (index, block) in g.blocks.iter().enumerate() {
        let content_block = block.start();
        out.push(ev(
            &Event::ContentBlockStart {
                index,
                content_block,
            },
            0,
        ));
        if index == 0 {
            out.push(ev(&Event::Ping, 0));
        }
        for (delta, tokens) in block.deltas() {
            out.push(ev(&Event::ContentBlockDelta { index, delta }, tokens));
            deltas_sent += 1;
            if ping_every > 0 && deltas_sent.is_multiple_of(ping_every) {
                out.push(ev(&Event::Ping, 0));
            }
        }
        out.push(ev(&Event::ContentBlockStop { index }, 0));
    }
    out.push(ev(&g.message_delta(), 0));
    out.push(ev(&Event::MessageStop, 0));
    out
}

/// Renders one event as an SSE frame, padded when `pad` is set.
pub(crate) fn render(buf: &mut BytesMut, e: &Ev, seq: usize, pad: bool) {
    if pad {
        // Deterministic, varied padding like the real API's.
        let n = (seq * 7 + 3) % 17;
        sse::encode(buf, e.name, sse::pad(&e.data, n));
    } else {
        sse::encode(buf, e.name, e.data.clone());
    }
}

/// Stream options taken from the server configuration.
#[derive(Debug, Clone)]
pub(crate) struct StreamOptions {
    pub(crate) token_delay: Duration,
    pub(crate) pad_json: bool,
    /// See `EmulatorBuilder::stamp_text`.
    pub(crate) stamp_text: bool,
    /// Counts streams whose client went away.
    pub(crate) cancelled: Arc<AtomicU64>,
}

/// Builds the response body for a list of events.
///
/// Without pacing and faults the whole stream is one buffer; otherwise a task
/// writes it event by event into a channel. The task ends when the stream
/// ends or the client goes away (the channel closes).
pub(crate) fn body(events: Vec<Ev>, opts: StreamOptions, faults: ActiveFaults) -> Body {
    if opts.token_delay.is_zero() && !faults.any_stream_fault() {
        let mut buf = BytesMut::new();
        for (i, e) in events.iter().enumerate() {
            render(&mut buf, e, i, opts.pad_json);
        }
        return Body::full(buf.freeze());
    }
    let (tx, rx) = mpsc::channel::<Result<Bytes, Abort>>(16);
    tokio::spawn(async move {
        let cancelled = Arc::clone(&opts.cancelled);
        if write_events(&tx, &events, opts, &faults).await.is_err() {
            cancelled.fetch_add(1, Ordering::Relaxed);
        }
    });
    Body::Channel(rx)
}

/// How a stream fault ends the stream.
#[derive(Debug, Clone, Copy)]
enum Terminal<'a> {
    /// Drop the connection.
    Disconnect,
    /// Send an `error` event of this type, then end the stream.
    Error(&'a str),
    /// Keep the connection open, send nothing, until the client leaves.
    Stall,
}

/// Sends events with pacing and faults; `Err` when the client went away.
///
/// The terminal fault with the smallest `N` (disconnect before error before
/// stall on a tie) applies after the first `N` events; one placed at or past
/// the end of the stream applies after the last event.
async fn write_events(
    tx: &mpsc::Sender<Result<Bytes, Abort>>,
    events: &[Ev],
    opts: StreamOptions,
    faults: &ActiveFaults,
) -> Result<(), ()> {
    let end = events.len() as u64;
    let terminal = [
        faults.disconnect_after.map(|n| (n, Terminal::Disconnect)),
        faults
            .error_after
            .as_ref()
            .map(|(n, kind)| (*n, Terminal::Error(kind))),
        faults.stall_after.map(|n| (n, Terminal::Stall)),
    ]
    .into_iter()
    .flatten()
    .map(|(n, t)| (n.min(end), t))
    .min_by_key(|&(n, _)| n);
    let stop = terminal.map_or(end, |(n, _)| n) as usize;

    let mut buf = BytesMut::new();
    let mut malformed_pending = faults.malformed_after;
    for (n, e) in events.iter().enumerate().take(stop) {
        if malformed_pending == Some(n as u64) {
            malformed_pending = None;
            sse::encode(
                &mut buf,
                "content_block_delta",
                "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_del"
                    .to_owned(),
            );
            tx.send(Ok(buf.split().freeze())).await.map_err(drop)?;
        }
        if e.tokens > 0 && !opts.token_delay.is_zero() {
            let ticks = u32::try_from(e.tokens).unwrap_or(u32::MAX);
            tokio::time::sleep(opts.token_delay.saturating_mul(ticks)).await;
        }
        match e.text_of {
            Some(index) if opts.stamp_text && !opts.token_delay.is_zero() => {
                let text = format!(" t{}", unix_micros());
                let delta = Delta::Text { text: &text };
                render(
                    &mut buf,
                    &ev(&Event::ContentBlockDelta { index, delta }, 1),
                    n,
                    false,
                );
            }
            _ => render(&mut buf, e, n, opts.pad_json),
        }
        tx.send(Ok(buf.split().freeze())).await.map_err(drop)?;
    }
    match terminal {
        None => Ok(()),
        Some((_, Terminal::Disconnect)) => abort(tx).await,
        Some((_, Terminal::Error(kind))) => {
            let error = ErrorDetail {
                kind,
                message: error_message(kind),
            };
            render(
                &mut buf,
                &ev(&Event::Error { error }, 0),
                stop,
                opts.pad_json,
            );
            tx.send(Ok(buf.split().freeze())).await.map_err(drop)
        }
        Some((_, Terminal::Stall)) => {
            tx.closed().await;
            Err(())
        }
    }
}

/// Drops the connection once the events before it are on the wire.
///
/// hyper discards its unflushed write buffer when a body fails, so wait until
/// it has taken every queued chunk and had a moment to flush them.
async fn abort(tx: &mpsc::Sender<Result<Bytes, Abort>>) -> Result<(), ()> {
    while tx.capacity() < tx.max_capacity() {
        if tx.is_closed() {
            return Err(());
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    tokio::time::sleep(Duration::from_millis(20)).await;
    tx.send(Err(Abort)).await.map_err(drop)
}

/// The message the API uses for an error type.
pub(crate) fn error_message(kind: &str) -> &'static str {
    match kind {
        "overloaded_error" => "Overloaded",
        "api_error" => "Internal server error",
        "rate_limit_error" => "Rate limited (emulated)",
        "timeout_error" => "Request timed out (emulated)",
        "authentication_error" => "invalid x-api-key",
        "permission_error" => {
            "Your API key does not have permission to use the specified resource."
        }
        "not_found_error" => "Not found",
        "request_too_large" => "Request exceeds the maximum allowed number of bytes.",
        "billing_error" => "Your credit balance is too low (emulated).",
        "invalid_request_error" => "Invalid request (emulated)",
        _ => "Error (emulated)",
    }
}

/// The firehose: `n` text deltas as fast as the socket takes them.
///
/// The deltas are rendered once into a chunk of many events and that chunk is
/// handed to hyper again and again (`Bytes` clones are reference counts), so
/// producing the stream costs almost nothing per event.
pub(crate) fn firehose(g: &Generation, n: u64, pad: bool) -> Body {
    const PER_CHUNK: u64 = 256;
    let text = " token";
    let mut head = BytesMut::new();
    let mut message = g.start_message();
    message.usage.output_tokens = 1;
    render(&mut head, &ev(&Event::MessageStart { message }, 0), 0, pad);
    let content_block = Content::Text {
        text: Cow::Borrowed(""),
    };
    render(
        &mut head,
        &ev(
            &Event::ContentBlockStart {
                index: 0,
                content_block,
            },
            0,
        ),
        1,
        pad,
    );
    render(&mut head, &ev(&Event::Ping, 0), 2, pad);
    let delta = ev(
        &Event::ContentBlockDelta {
            index: 0,
            delta: Delta::Text { text },
        },
        1,
    );
    let mut one = BytesMut::new();
    render(&mut one, &delta, 3, pad);
    let mut chunk = BytesMut::with_capacity(one.len() * PER_CHUNK as usize);
    for _ in 0..PER_CHUNK.min(n) {
        chunk.extend_from_slice(&one);
    }
    let (full, rest) = if n >= PER_CHUNK {
        (n / PER_CHUNK, n % PER_CHUNK)
    } else {
        (0, n)
    };
    let mut tail = BytesMut::new();
    for _ in 0..rest {
        tail.extend_from_slice(&one);
    }
    render(
        &mut tail,
        &ev(&Event::ContentBlockStop { index: 0 }, 0),
        4,
        pad,
    );
    let md = Event::MessageDelta {
        delta: MessageDelta {
            stop_reason: "end_turn",
            stop_sequence: None,
            stop_details: None,
        },
        usage: Usage {
            input_tokens: g.input_tokens,
            cache_creation_input_tokens: 0,
            cache_read_input_tokens: 0,
            cache_creation: None,
            output_tokens: n,
            service_tier: None,
            output_tokens_details: None,
        },
    };
    render(&mut tail, &ev(&md, 0), 5, pad);
    render(&mut tail, &ev(&Event::MessageStop, 0), 6, pad);
    Body::Repeat {
        head: Some(head.freeze()),
        chunk: chunk.freeze(),
        count: full,
        tail: Some(tail.freeze()),
    }
}

/// Microseconds since the Unix epoch (0 if the clock is before it).
fn unix_micros() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros())
}
