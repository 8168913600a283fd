//! The relay mounted next to an app's own axum routes:
//! `cargo run -p messages-relay --example axum` with `ANTHROPIC_API_KEY` (or
//! `ANTHROPIC_BASE_URL` pointing at `msgs emulator`) set.

use axum::Router;
use axum::routing::get;
use messages_http::Transport;
use messages_relay::{ChatPolicy, Relay};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let relay = Relay::builder(Transport::from_env()?)
        .policy(ChatPolicy::new("claude-sonnet-4-6").system("Be brief."))
        .build();
    // `route_service` takes the relay as it is: no glue.
    let app = Router::new()
        .route("/health", get(|| async { "ok" }))
        .route_service("/chat", relay.clone())
        .route_service("/chat/{*rest}", relay);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    println!("POST http://{}/chat", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
