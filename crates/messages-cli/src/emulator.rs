//! `msgs emulator`: the emulator until Ctrl-C or SIGTERM.

use std::time::Duration;

use messages_emulator::Emulator;

use crate::cli::EmulatorArgs;
use crate::error::CliError;

/// `msgs emulator`.
pub(crate) async fn run(args: EmulatorArgs) -> Result<(), CliError> {
    let mut b = Emulator::builder()
        .request_log(false)
        .addr(args.addr)
        .token_delay(Duration::from_millis(args.token_delay_ms))
        .batch_pace(Duration::from_millis(args.batch_pace_ms))
        .latency(Duration::from_millis(args.latency_ms));
    if let Some(dir) = args.data_dir {
        b = b.data_dir(dir);
    }
    if let Some(key) = &args.api_key {
        b = b.api_key(key.clone());
    }
    if let Some(n) = args.requests_per_minute {
        b = b.requests_per_minute(n);
    }
    if let Some(n) = args.tokens_per_minute {
        b = b.tokens_per_minute(n);
    }
    if let Some(path) = args.replay {
        let bytes = std::fs::read(&path).map_err(|e| {
            CliError::input(format!("--replay: cannot read {}: {e}", path.display()))
        })?;
        b = b.replay(bytes);
    }
    if !args.fault.is_empty() {
        for f in &args.fault {
            messages_emulator::FaultSpec::parse(f)
                .map_err(|e| CliError::input(format!("--fault {f:?}: {e}")))?;
        }
        b = b.fault(&args.fault.join("; "));
    }
    let handle = b
        .start()
        .await
        .map_err(|e| CliError::other(format!("cannot start the emulator: {e}")))?;
    println!("listening on {}", handle.base_url());
    // The key clients must send: the one it accepts, or any.
    let key = args
        .api_key
        .as_deref()
        .map_or_else(|| "any".to_owned(), shell_quote);
    eprintln!(
        "msgs: point clients at it with ANTHROPIC_BASE_URL={} ANTHROPIC_API_KEY={key}",
        handle.base_url()
    );
    handle.serve_until_signal().await;
    Ok(())
}

/// `s` as one shell word: bare when it is plain, else in single quotes.
fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.,:/@%+=".contains(&b));
    if plain {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}
