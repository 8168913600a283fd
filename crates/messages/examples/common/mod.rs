//! Shared by the examples: a client for the real API when
//! `ANTHROPIC_API_KEY` is set, else for an in-process emulator.

use messages::Client;
use messages_emulator::{Emulator, EmulatorHandle};

/// The client, and the emulator to keep alive while it is used.
pub(crate) async fn client() -> Result<(Client, Option<EmulatorHandle>), Box<dyn std::error::Error>>
{
    if std::env::var_os("ANTHROPIC_API_KEY").is_some()
        || std::env::var_os("ANTHROPIC_AUTH_TOKEN").is_some()
    {
        return Ok((Client::from_env()?, None));
    }
    let emu = Emulator::builder().start().await?;
    eprintln!(
        "no ANTHROPIC_API_KEY: using the embedded emulator at {}",
        emu.base_url()
    );
    let client = Client::builder()
        .api_key("emulator")
        .base_url(emu.base_url())
        .build()?;
    Ok((client, Some(emu)))
}
