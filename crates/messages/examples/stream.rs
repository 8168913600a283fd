//! Prints a reply as it arrives, then the stop reason and usage.
//!
//! `cargo run -p messages --example stream -- "Write a haiku about Rust"`

mod common;

use std::io::Write;

use futures_util::StreamExt;
use messages::MessageRequest;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let prompt = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "Write a haiku about Rust".to_owned());
    let (client, _emulator) = common::client().await?;
    let request = MessageRequest::new("claude-sonnet-4-6", 512).user(prompt);

    let mut stream = client.stream(&request).await?;
    let mut out = std::io::stdout().lock();
    let mut text = stream.text_deltas();
    while let Some(delta) = text.next().await {
        out.write_all(delta?.as_bytes())?;
        out.flush()?;
    }
    writeln!(out)?;
    let message = stream.final_message().await?;
    eprintln!(
        "stop reason {:?}; {} input and {} output tokens",
        message.stop_reason,
        message.usage.input_tokens.unwrap_or(0),
        message.usage.output_tokens
    );
    Ok(())
}
