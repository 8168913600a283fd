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
    if let Some(key) = args.api_key {
        b = b.api_key(key);
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
    eprintln!(
        "msgs: point clients at it with ANTHROPIC_BASE_URL={} ANTHROPIC_API_KEY=any",
        handle.base_url()
    );
    handle.serve_until_signal().await;
    Ok(())
}
