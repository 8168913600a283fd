use std::path::Path;

use crate::{msgs, output, stderr, stdout};

/// The expected output was produced by sse-core's dump example:
/// `cargo run -p sse-core --example dump < testdata/recorded/text_sonnet45.sse`.
#[tokio::test(flavor = "multi_thread")]
async fn sse_parse_matches_the_dump_example() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let input = root.join("../../testdata/recorded/text_sonnet45.sse");
    let expected = std::fs::read_to_string(root.join("tests/it/text_sonnet45.dump.jsonl")).unwrap();
    let mut cmd = msgs(None);
    cmd.args(["sse", "parse"]).arg(&input);
    let out = output(cmd).await;
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    assert_eq!(stdout(&out), expected);
    assert!(stderr(&out).is_empty(), "no emulator for sse parse");
}

#[tokio::test(flavor = "multi_thread")]
async fn sse_parse_reports_a_truncated_input() {
    let dir = crate::temp_dir("sse");
    let f = dir.join("cut.sse");
    std::fs::write(&f, "event: a\ndata: 1\n\nevent: b\ndata: 2\n").unwrap();
    let mut cmd = msgs(None);
    cmd.args(["sse", "parse"]).arg(&f);
    let out = output(cmd).await;
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        stdout(&out),
        "{\"event\":\"a\",\"data\":\"1\",\"id\":\"\",\"retry\":null}\n"
    );
}
