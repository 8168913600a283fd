//! Parses an event stream on standard input and prints one JSON object per
//! event: `{"event": type, "data": string, "id": last-event-id, "retry": ms or null}`.
//!
//! ```text
//! cargo run -p sse-core --example dump -- [--chunk N] < FILE
//! ```
//!
//! With `--chunk N` the input is fed to the parser N bytes at a time (useful
//! to check that chunking changes nothing). The output format is stable.
//! Exit status: 0 when the stream ended at an event boundary, 1 when an event
//! exceeded the size limit (the dump goes on at the next event), 2 on a usage
//! or I/O error, 3 when the input ended inside an event (which, as the
//! specification says, is not printed).

use std::io::{self, BufWriter, Read, Write};
use std::process::ExitCode;

use bytes::Bytes;
use sse_core::{EventRef, Finish, Parser};

fn main() -> ExitCode {
    let chunk = match parse_args() {
        Ok(chunk) => chunk,
        Err(msg) => {
            eprintln!("dump: {msg}\nusage: dump [--chunk N] < FILE");
            return ExitCode::from(2);
        }
    };
    match run(chunk) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("dump: {e}");
            ExitCode::from(2)
        }
    }
}

fn parse_args() -> Result<Option<usize>, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => Ok(None),
        [flag, n] if flag == "--chunk" => match n.parse::<usize>() {
            Ok(n) if n > 0 => Ok(Some(n)),
            _ => Err(format!(
                "--chunk needs a positive number of bytes, got {n:?}"
            )),
        },
        _ => Err(format!("unexpected arguments {args:?}")),
    }
}

fn run(chunk: Option<usize>) -> io::Result<u8> {
    let mut input = io::stdin().lock();
    let mut out = BufWriter::new(io::stdout().lock());
    let mut parser = Parser::new();
    let mut buf = vec![0u8; chunk.unwrap_or(64 * 1024)];
    let mut status = 0;
    loop {
        let n = read_chunk(&mut input, &mut buf, chunk.is_some())?;
        if n == 0 {
            break;
        }
        parser.push(Bytes::copy_from_slice(&buf[..n]));
        loop {
            match parser.next_event() {
                Ok(Some(event)) => print_event(&mut out, &event)?,
                Ok(None) => break,
                Err(e) => {
                    out.flush()?;
                    eprintln!("dump: {e}; skipping to the next event");
                    status = 1;
                }
            }
        }
        // Stream the output as events arrive.
        out.flush()?;
    }
    if parser.finish() == Finish::Unterminated {
        eprintln!("dump: input ended inside an event; it was not dispatched (truncated stream?)");
        if status == 0 {
            status = 3;
        }
    }
    out.flush()?;
    Ok(status)
}

/// Reads up to `buf.len()` bytes; with `exact`, keeps reading until the
/// buffer is full or the input ends, so every chunk has exactly N bytes.
fn read_chunk(input: &mut impl Read, buf: &mut [u8], exact: bool) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => {
                filled += n;
                if !exact {
                    break;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

fn print_event(out: &mut impl Write, event: &EventRef<'_>) -> io::Result<()> {
    let retry = event
        .retry()
        .map_or_else(|| "null".to_owned(), |r| r.to_string());
    writeln!(
        out,
        r#"{{"event":{},"data":{},"id":{},"retry":{}}}"#,
        json(event.event()),
        json(event.data()),
        json(event.id()),
        retry
    )
}

fn json(s: &str) -> String {
    serde_json::to_string(s).expect("a string always serializes")
}
