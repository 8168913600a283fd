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
