//! The relay served by hyper directly: `cargo run -p messages-relay --example hyper`
//! with `ANTHROPIC_API_KEY` (or `ANTHROPIC_BASE_URL` pointing at `msgs emulator`) set.
//!
//! Then `curl -N -d '{"messages":[{"role":"user","content":"Hi"}]}' http://127.0.0.1:3000/chat`.

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use messages_http::Transport;
use messages_relay::{ChatPolicy, Relay};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let relay = Relay::builder(Transport::from_env()?)
        .policy(ChatPolicy::new("claude-sonnet-4-6").max_tokens(512))
        .build();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    println!("POST http://{}/chat", listener.local_addr()?);
    loop {
        let (tcp, _) = listener.accept().await?;
        // The relay is a tower Service; hyper takes it through one adapter.
        let service = TowerToHyperService::new(relay.clone());
        tokio::spawn(async move {
            let _ = auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(tcp), service)
                .await;
        });
    }
}
