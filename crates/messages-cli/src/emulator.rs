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
    if let Some(ms) = args.rate_limit_window_ms {
        b = b.rate_limit_window(Duration::from_millis(ms));
    }
    for id in &args.models_extra {
        b = b.model(id.clone());
    }
    if let Some(path) = &args.models_file {
        let text = std::fs::read_to_string(path).map_err(|e| {
            CliError::input(format!("--models: cannot read {}: {e}", path.display()))
        })?;
        messages::types::ModelCatalog::from_json(&text)
            .map_err(|e| CliError::input(format!("--models: {}: {e}", path.display())))?;
        b = b.models_json(&text);
    }
    if args.pad_json {
        b = b.pad_json(true);
    }
    if args.stamp_text {
        b = b.stamp_text(true);
    }
    if let Some(n) = args.ping_every {
        b = b.ping_every(n);
    }
    if let Some(secs) = args.batch_expiry_secs {
        b = b.batch_expiry(Duration::from_secs(secs));
    }
    if let Some(n) = args.max_body_bytes {
        b = b.max_body_bytes(n);
    }
    if let Some(secs) = args.body_timeout_secs {
        b = b.request_body_timeout(Duration::from_secs(secs));
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
