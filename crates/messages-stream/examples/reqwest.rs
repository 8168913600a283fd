//! The streaming pipeline (parser, decoder, accumulator and resumption)
//! driven by another HTTP client: reqwest.
//!
//! The first request is sent with reqwest and its body handed to
//! `MessageStream` as a byte stream; a `Connect` over the same reqwest
//! client sends the continuation when the connection breaks. The emulator
//! is told to drop the first connection after 8 events, so the stream
//! resumes once and still ends in one whole message.
//!
//! `cargo run -p messages-stream --example reqwest`

use std::future::Future;
use std::pin::Pin;

use messages_http::Request;
use messages_stream::{BoxError, Connect, MessageStream, ResumePolicy, Source, StreamOptions};
use messages_types::MessageRequest;

/// Sends streaming requests with reqwest, as `Transport` would.
struct Reqwest {
    client: reqwest::Client,
    base_url: String,
    api_key: String,
}

impl Reqwest {
    fn request(&self, request: &Request) -> reqwest::RequestBuilder {
        let mut builder = self
            .client
            .request(
                request.method().clone(),
                format!("{}{}", self.base_url, request.path()),
            )
            .header("x-api-key", &self.api_key)
            .header("anthropic-version", "2023-06-01")
            .header("content-type", "application/json")
            .body(request.body().clone());
        for (name, value) in request.headers() {
            builder = builder.header(name, value);
        }
        builder
    }
}

/// The response body as a `Source`, after an error status became an error.
async fn open(builder: reqwest::RequestBuilder) -> Result<Source, BoxError> {
    let response = builder.send().await?.error_for_status()?;
    let id = response
        .headers()
        .get("request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let source = Source::from_stream(response.bytes_stream());
    Ok(match id {
        Some(id) => source.request_id(id),
        None => source,
    })
}

impl Connect for Reqwest {
    fn send(
        &self,
        request: Request,
    ) -> Pin<Box<dyn Future<Output = Result<Source, BoxError>> + Send>> {
        Box::pin(open(self.request(&request)))
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), BoxError> {
    let emulator = messages_emulator::Emulator::builder().start().await?;
    let connect = Reqwest {
        client: reqwest::Client::new(),
        base_url: emulator.base_url(),
        api_key: "any".to_owned(),
    };

    let request = MessageRequest::new("claude-sonnet-4-6", 300).user("Tell me about rivers");
    let mut body = request.clone();
    body.stream = Some(true);
    let first = Request::post("/v1/messages").with_json(&body)?;
    // Only the first connection is dropped, after 8 events.
    let first = connect
        .request(&first)
        .header("x-emulator-fault", "disconnect-after=8");
    let source = open(first).await?;

    let options = StreamOptions::new().resume(ResumePolicy::default());
    let mut stream = MessageStream::resumable(source, &request, options, connect);
    while let Some(event) = futures_util::StreamExt::next(&mut stream).await {
        event?;
    }
    assert_eq!(
        stream.resumptions(),
        1,
        "the dropped connection was resumed"
    );
    let message = stream.final_message().await?;
    println!("{}", message.text());
    eprintln!(
        "[{:?}, {} output tokens]",
        message.stop_reason, message.usage.output_tokens
    );
    Ok(())
}
