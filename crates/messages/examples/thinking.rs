//! Extended thinking: the reasoning streams first (shown dimmed on stderr),
//! then the answer.
//!
//! `cargo run -p messages --example thinking -- "Why is the sky blue?"`

mod common;

use std::io::Write;

use messages::{MessageRequest, Update};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let prompt = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "Why is the sky blue?".to_owned());
    let (client, _emulator) = common::client().await?;
    let request = MessageRequest::new("claude-sonnet-4-6", 4096)
        .thinking(2048)
        .user(prompt);

    let mut stream = client.stream(&request).await?;
    while let Some(update) = stream.next_update().await {
        match update? {
            Update::Thinking { delta, .. } => {
                eprint!("\x1b[2m{delta}\x1b[0m");
                std::io::stderr().flush()?;
            }
            Update::Signature { .. } => eprintln!(),
            Update::Text { delta, .. } => {
                print!("{delta}");
                std::io::stdout().flush()?;
            }
            _ => {}
        }
    }
    let message = stream.final_message().await?;
    println!();
    eprintln!(
        "{} blocks, stop reason {:?}",
        message.content.len(),
        message.stop_reason
    );
    Ok(())
}
