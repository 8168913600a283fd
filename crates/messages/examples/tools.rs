//! A tool-use round trip: the model calls a tool (its input previewed as it
//! streams), we answer with a `tool_result`, and the model replies.
//!
//! `cargo run -p messages --example tools`

mod common;

use messages::types::StopReason;
use messages::{ContentBlock, InputMessage, MessageRequest, Tool, ToolChoice, Update};
use serde_json::json;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, _emulator) = common::client().await?;
    let weather = Tool::custom(
        "get_weather",
        json!({
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
            "required": ["city", "unit"]
        }),
    )
    .with_description("The current weather in a city");
    let mut request = MessageRequest::new("claude-sonnet-4-6", 1024)
        .user("What is the weather in Paris?")
        .tool(weather)
        .tool_choice(ToolChoice::auto());

    // First turn: stream, showing the tool input as it is being written.
    let mut stream = client.stream(&request).await?;
    while let Some(update) = stream.next_update().await {
        match update? {
            Update::Text { delta, .. } => print!("{delta}"),
            Update::ToolInput {
                name,
                partial: Some(value),
                ..
            } => eprintln!("[{name} input so far: {value}]"),
            Update::BlockDone {
                block: ContentBlock::ToolUse(call),
                ..
            } => {
                eprintln!("[{} called with {}]", call.name, call.input);
            }
            _ => {}
        }
    }
    let reply = stream.final_message().await?;
    if reply.stop_reason != Some(StopReason::ToolUse) {
        println!(
            "\n(the model answered without a tool: {:?})",
            reply.stop_reason
        );
        return Ok(());
    }

    // Run the tools and send the results back with the assistant turn.
    let results: Vec<ContentBlock> = reply
        .content
        .iter()
        .filter_map(|b| match b {
            ContentBlock::ToolUse(call) => {
                let city = call.input["city"].as_str().unwrap_or("somewhere");
                Some(ContentBlock::tool_result(
                    call.id.clone(),
                    format!("18 degrees and sunny in {city}"),
                ))
            }
            _ => None,
        })
        .collect();
    request.messages.push(InputMessage::from(reply));
    request.messages.push(InputMessage::user(results));

    let answer = client.stream(&request).await?.final_message().await?;
    println!("\n{}", answer.text());
    eprintln!("stop reason {:?}", answer.stop_reason);
    Ok(())
}
