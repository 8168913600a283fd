use crate::{emulator, msgs, output, stderr, stdout};

#[tokio::test(flavor = "multi_thread")]
async fn stream_prints_text_then_usage_and_json_events_match() {
    let emu = emulator().await;
    let url = emu.base_url();

    let mut cmd = msgs(Some(&url));
    cmd.args(["stream", "Write a haiku about Rust", "--max-tokens", "64"]);
    let text = output(cmd).await;
    assert!(text.status.success(), "stderr: {}", stderr(&text));
    assert!(stdout(&text).trim().len() > 10, "text: {}", stdout(&text));
    let err = stderr(&text);
    assert!(err.contains("stop_reason: "), "usage line: {err}");
    assert!(err.contains("output tokens"), "usage line: {err}");
    assert!(
        !err.contains("embedded emulator"),
        "a base URL was given: {err}"
    );

    let mut cmd = msgs(Some(&url));
    cmd.args([
        "stream",
        "--json",
        "Write a haiku about Rust",
        "--max-tokens",
        "64",
    ]);
    let json = output(cmd).await;
    assert!(json.status.success(), "stderr: {}", stderr(&json));
    let events: Vec<serde_json::Value> = stdout(&json)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON event per line"))
        .collect();
    assert_eq!(events.first().unwrap()["type"], "message_start");
    assert_eq!(events.last().unwrap()["type"], "message_stop");
    let deltas: String = events
        .iter()
        .filter(|e| e["type"] == "content_block_delta" && e["delta"]["type"] == "text_delta")
        .map(|e| e["delta"]["text"].as_str().unwrap().to_owned())
        .collect();
    assert!(!deltas.is_empty());
    // The requests are identical, so the emulator's replies are too.
    assert_eq!(stdout(&text).trim_end(), deltas.trim_end());
    assert_eq!(emu.request_log().count("POST", "/v1/messages"), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn truncated_stream_exits_3_and_headers_are_sent() {
    let emu = emulator().await;
    let mut cmd = msgs(Some(&emu.base_url()));
    cmd.args([
        "stream",
        "-H",
        "x-emulator-fault: disconnect-after=4",
        "-H",
        "x-extra: yes",
        "hello there",
    ]);
    let out = output(cmd).await;
    assert_eq!(out.status.code(), Some(3), "stderr: {}", stderr(&out));
    let err = stderr(&out);
    let last = err.lines().last().unwrap();
    assert!(last.starts_with("msgs: "), "{err}");
    let log = emu.request_log().entries();
    assert!(
        log.iter().any(|r| format!("{r:?}").contains("x-extra")),
        "the -H header reached the server"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn no_key_uses_the_embedded_emulator_and_says_so_once() {
    let mut cmd = msgs(None);
    cmd.args(["stream", "Write a haiku about Rust", "--max-tokens", "32"]);
    let out = output(cmd).await;
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    let err = stderr(&out);
    assert_eq!(err.matches("embedded emulator").count(), 1, "{err}");
    assert!(!stdout(&out).trim().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn count_tokens_and_models() {
    let emu = emulator().await;
    let mut cmd = msgs(Some(&emu.base_url()));
    cmd.args(["count-tokens", "how many tokens is this"]);
    let out = output(cmd).await;
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    let n: u64 = stdout(&out).trim().parse().expect("a number");
    assert!(n > 0);

    let mut cmd = msgs(Some(&emu.base_url()));
    cmd.args(["models", "--json"]);
    let out = output(cmd).await;
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    let ids: Vec<String> = stdout(&out)
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert!(ids.iter().any(|id| id.starts_with("claude-")), "{ids:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn thinking_goes_to_stderr_and_the_answer_to_stdout() {
    let emu = emulator().await;
    let url = emu.base_url();
    let args = [
        "stream",
        "--thinking",
        "1024",
        "--max-tokens",
        "2048",
        "Why is the sky blue?",
    ];
    let out = output({
        let mut cmd = msgs(Some(&url));
        cmd.args(args);
        cmd
    })
    .await;
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    let err = stderr(&out);
    let shown = err
        .split_once("[thinking]\n")
        .and_then(|(_, rest)| rest.split_once("\n[/thinking]\n"))
        .map(|(thinking, _)| thinking.to_owned())
        .unwrap_or_else(|| panic!("no thinking section in stderr: {err}"));

    // The same request with --json: the thinking and text deltas.
    let json = output({
        let mut cmd = msgs(Some(&url));
        cmd.args(args).arg("--json");
        cmd
    })
    .await;
    assert!(json.status.success(), "stderr: {}", stderr(&json));
    let (mut thinking, mut text) = (String::new(), String::new());
    for line in stdout(&json).lines() {
        let e: serde_json::Value = serde_json::from_str(line).unwrap();
        match e["delta"]["type"].as_str() {
            Some("thinking_delta") => thinking.push_str(e["delta"]["thinking"].as_str().unwrap()),
            Some("text_delta") => text.push_str(e["delta"]["text"].as_str().unwrap()),
            _ => {}
        }
    }
    assert!(!thinking.is_empty());
    assert_eq!(shown, thinking);
    assert_eq!(stdout(&out).trim_end(), text.trim_end());
    assert!(
        !stdout(&out).contains(&thinking),
        "thinking stays off stdout"
    );
}

/// The `data` lines of an SSE body, as the SSE grammar reads them (one
/// space after the colon stripped).
fn data_lines(sse: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(sse)
        .split('\n')
        .filter_map(|l| l.strip_prefix("data:"))
        .map(|d| d.strip_prefix(' ').unwrap_or(d).to_owned())
        .collect()
}

/// The raw body of one streaming request, read with plain HTTP/1.0 (no
/// chunking: the body runs to the close).
async fn raw_stream(addr: std::net::SocketAddr, body: String) -> Vec<u8> {
    tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(addr).expect("connect");
        write!(
            s,
            "POST /v1/messages HTTP/1.0\r\nhost: {addr}\r\nx-api-key: test\r\n\
             content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )
        .expect("write");
        let mut all = Vec::new();
        s.read_to_end(&mut all).expect("read");
        let head_end = all.windows(4).position(|w| w == b"\r\n\r\n").expect("head") + 4;
        all.split_off(head_end)
    })
    .await
    .expect("task")
}

fn testdata(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../../testdata/streams/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn stream_json_prints_each_events_data_byte_for_byte() {
    // Padded JSON, as the real API sends it: a re-encoding would lose it.
    let emu = messages_emulator::Emulator::builder()
        .token_delay(std::time::Duration::ZERO)
        .pad_json(true)
        .start()
        .await
        .expect("emulator");
    let body = serde_json::json!({
        "model": "claude-sonnet-4-6", "max_tokens": 64, "stream": true,
        "messages": [{"role": "user", "content": "Write a haiku about Rust"}]
    })
    .to_string();
    let expected = data_lines(&raw_stream(emu.local_addr(), body).await);
    assert!(
        expected
            .iter()
            .any(|l| l.ends_with(" }") || l.ends_with("  }")),
        "padded"
    );

    let mut cmd = msgs(Some(&emu.base_url()));
    cmd.args([
        "stream",
        "--json",
        "Write a haiku about Rust",
        "--max-tokens",
        "64",
    ]);
    let out = output(cmd).await;
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    let text = stdout(&out);
    let got: Vec<&str> = text.lines().collect();
    assert_eq!(got, expected);
}

#[tokio::test(flavor = "multi_thread")]
async fn stream_json_of_a_replay_keeps_fields_the_types_do_not_model() {
    let fixture = testdata("unknown_fields_and_nulls.sse");
    let emu = messages_emulator::Emulator::builder()
        .replay(fixture.clone())
        .start()
        .await
        .expect("emulator");
    let mut cmd = msgs(Some(&emu.base_url()));
    cmd.args(["stream", "--json", "hi"]);
    let out = output(cmd).await;
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    let expected = data_lines(&fixture);
    assert_eq!(
        out.stdout,
        format!("{}\n", expected.join("\n")).into_bytes()
    );
    let text = stdout(&out);
    for unmodelled in [
        "x_future_top_level",
        "x_delta_field",
        "beam_delta",
        "future_event",
    ] {
        assert!(text.contains(unmodelled), "{unmodelled}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn max_tokens_inside_a_tool_input_exits_0_with_stop_reason_and_usage() {
    let emu = messages_emulator::Emulator::builder()
        .replay(testdata("max_tokens_in_tool_input.sse"))
        .start()
        .await
        .expect("emulator");
    let mut cmd = msgs(Some(&emu.base_url()));
    cmd.args(["stream", "make a file"]);
    let out = output(cmd).await;
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("stop_reason: max_tokens"), "{err}");
    assert!(err.contains("124 output tokens"), "{err}");
    assert!(stdout(&out).contains("Let me do that for you now."));
}

#[tokio::test(flavor = "multi_thread")]
async fn deprecated_models_warn_once_and_retired_ones_are_refused_before_sending() {
    let emu = emulator().await;
    let mut cmd = msgs(Some(&emu.base_url()));
    cmd.args([
        "stream",
        "-m",
        "claude-opus-4-5",
        "hi",
        "--max-tokens",
        "16",
    ]);
    let out = output(cmd).await;
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    assert_eq!(
        stderr(&out).matches("is deprecated").count(),
        1,
        "{}",
        stderr(&out)
    );

    let before = emu.request_log().count("POST", "/v1/messages");
    let mut cmd = msgs(Some(&emu.base_url()));
    cmd.args(["stream", "-m", "claude-sonnet-4-5", "hi"]);
    let out = output(cmd).await;
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("retired on 2026-11-30"), "{err}");
    assert_eq!(
        emu.request_log().count("POST", "/v1/messages"),
        before,
        "nothing sent"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn adaptive_thinking_streams_reasoning_to_stderr() {
    let emu = emulator().await;
    let mut cmd = msgs(Some(&emu.base_url()));
    cmd.args([
        "stream",
        "--adaptive-thinking",
        "-m",
        "claude-opus-4-6",
        "why is the sky blue",
    ]);
    let out = output(cmd).await;
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    assert!(stderr(&out).contains("[thinking]"), "{}", stderr(&out));
    assert!(!stdout(&out).trim().is_empty());
    let mut cmd = msgs(Some(&emu.base_url()));
    cmd.args(["--prices", "/nonexistent/prices.json", "stream", "hi"]);
    let out = output(cmd).await;
    assert_eq!(out.status.code(), Some(2), "stderr: {}", stderr(&out));
    assert!(stderr(&out).contains("/nonexistent/prices.json"));
}
