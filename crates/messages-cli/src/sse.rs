//! `msgs sse parse`: an SSE stream to JSONL events.

use std::io::{self, BufWriter, Read, Write};

use bytes::Bytes;
use sse_core::{EventRef, Finish, Parser};

use crate::cli::SseParseArgs;
use crate::error::{CliError, EXIT_INPUT, EXIT_TRUNCATED};

/// `msgs sse parse`: one `{"event","data","id","retry"}` object per event,
/// written as events complete. An oversized event is reported and skipped
/// (exit 2 at the end); input that ends inside an event exits 3.
pub(crate) fn parse(args: &SseParseArgs) -> Result<(), CliError> {
    let mut input: Box<dyn Read> = match &args.file {
        Some(p) if p.as_os_str() != "-" => Box::new(
            std::fs::File::open(p)
                .map_err(|e| CliError::input(format!("cannot open {}: {e}", p.display())))?,
        ),
        _ => Box::new(io::stdin().lock()),
    };
    let mut out = BufWriter::new(io::stdout().lock());
    let write_err = crate::human::stdout_error;
    let mut parser = Parser::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut skipped = 0u64;
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(CliError::input(format!("reading the input: {e}"))),
        };
        parser.push(Bytes::copy_from_slice(&buf[..n]));
        loop {
            match parser.next_event() {
                Ok(Some(event)) => write_event(&mut out, &event).map_err(write_err)?,
                Ok(None) => break,
                Err(e) => {
                    out.flush().map_err(write_err)?;
                    eprintln!("msgs: {e}; skipping to the next event");
                    skipped += 1;
                }
            }
        }
        out.flush().map_err(write_err)?;
    }
    out.flush().map_err(write_err)?;
    if parser.finish() == Finish::Unterminated {
        return Err(CliError::new(
            EXIT_TRUNCATED,
            "the input ended inside an event, which was not dispatched (truncated stream?)",
        ));
    }
    if skipped > 0 {
        return Err(CliError::new(
            EXIT_INPUT,
            format!("{skipped} event(s) skipped"),
        ));
    }
    Ok(())
}

/// Writes one event as a JSON line.
pub(crate) fn write_event(out: &mut impl Write, event: &EventRef<'_>) -> io::Result<()> {
    let retry = event
        .retry()
        .map_or_else(|| "null".to_owned(), |r| r.to_string());
    writeln!(
        out,
        r#"{{"event":{},"data":{},"id":{},"retry":{}}}"#,
        json_string(event.event()),
        json_string(event.data()),
        json_string(event.id()),
        retry
    )
}

/// A JSON string literal.
pub(crate) fn json_string(s: &str) -> String {
    // Serializing a `&str` cannot fail; fall back to an empty literal anyway.
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned())
}
