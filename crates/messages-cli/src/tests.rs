use std::time::Duration;

use messages::batch::Progress;

use crate::connect::parse_header;
use crate::error::{one_line, with_request_id};
use crate::human::table;
use crate::progress::{WIDTH, render};
use crate::sse::json_string;

#[test]
fn headers_parse_name_and_value() {
    let (n, v) = parse_header("anthropic-beta: a, b").unwrap();
    assert_eq!((n, v), ("anthropic-beta", "a, b"));
    assert!(parse_header("no colon").is_err());
    assert!(parse_header(": value").is_err());
}

#[test]
fn errors_are_one_line_with_the_request_id() {
    assert_eq!(one_line("a\n  b\n\nc"), "a; b; c");
    assert_eq!(
        with_request_id("boom", Some("req_1")),
        "boom (request id req_1)"
    );
    assert_eq!(with_request_id("boom req_1", Some("req_1")), "boom req_1");
    assert_eq!(with_request_id("boom", None), "boom");
}

#[test]
fn json_strings_escape() {
    assert_eq!(json_string("a\"b\n"), r#""a\"b\n""#);
}

// ===== progress and human output =====

fn progress(total: u64, succeeded: u64, errored: u64, canceled: u64, expired: u64) -> Progress {
    use messages::types::{MessageBatch, ProcessingStatus};
    let processing = total - succeeded - errored - canceled - expired;
    let status = if processing == 0 {
        ProcessingStatus::Ended
    } else {
        ProcessingStatus::InProgress
    };
    let mut batch = MessageBatch::new("msgbatch_1", status);
    let counts = &mut batch.request_counts;
    (counts.processing, counts.succeeded, counts.errored) = (processing, succeeded, errored);
    (counts.canceled, counts.expired) = (canceled, expired);
    Progress::of_batch(&batch)
}

#[test]
fn progress_lines_fit_80_columns_and_have_no_eta_before_the_first_result() {
    let long = Duration::from_secs(3 * 86_400 + 59);
    let cases = [
        progress(100_000, 0, 0, 0, 0),
        progress(100_000, 99_999, 1, 0, 0),
        progress(100_000, 33_333, 33_333, 33_333, 1),
        progress(100_000, 10, 99_990, 0, 0),
        progress(u64::MAX / 2, 1, 0, 0, 0),
    ];
    for p in cases {
        for local in [true, false] {
            for elapsed in [Duration::ZERO, Duration::from_secs(61), long] {
                let line = render("a-very-long-label", &p, elapsed, local);
                assert!(line.chars().count() <= WIDTH, "{} {line}", line.len());
            }
        }
    }
    let start = render("run", &progress(400, 0, 0, 0, 0), Duration::ZERO, true);
    assert_eq!(start, "run [                    ] 0/400 0 ok, 0 errored 0s");
    let mid = render(
        "run",
        &progress(400, 118, 2, 0, 0),
        Duration::from_secs(12),
        true,
    );
    assert_eq!(
        mid,
        "run [======>             ] 120/400 118 ok, 2 errored 12s, ETA 28s"
    );
    // A local run has no canceled or expired requests to show; a batch
    // shows them once there are some.
    let batch = render(
        "batch",
        &progress(10, 6, 1, 2, 1),
        Duration::from_secs(75),
        false,
    );
    assert_eq!(
        batch,
        "batch [====================] 10/10 6 ok, 1 errored, 2 canceled, 1 expired 1m15s"
    );
}

#[test]
fn tables_align_columns() {
    let t = table(
        &["ID", "N"],
        &[
            vec!["a".into(), "5".into()],
            vec!["long-id".into(), "12345".into()],
        ],
        &[1],
    );
    assert_eq!(t, "ID           N\na            5\nlong-id  12345");
}

#[test]
fn msgs_emulator_has_every_flag_of_the_standalone_emulator() {
    use clap::CommandFactory;
    // The flags the `messages-emulator` binary documents in its usage text.
    let source = include_str!("../../messages-emulator/src/main.rs");
    let usage = &source[source.find("usage: messages-emulator").expect("usage")..];
    let usage = &usage[..usage.find("\";").expect("end of usage")];
    let standalone: std::collections::BTreeSet<String> = usage
        .split_whitespace()
        .filter(|w| w.starts_with("--") && w.len() > 2)
        .map(|w| w.trim_start_matches('-').to_owned())
        .filter(|f| f != "help")
        .collect();
    assert!(standalone.len() >= 15, "{standalone:?}");
    let cli = crate::cli::Cli::command();
    let emulator = cli.find_subcommand("emulator").expect("msgs emulator");
    let ours: std::collections::BTreeSet<String> = emulator
        .get_arguments()
        .filter_map(|a| a.get_long().map(str::to_owned))
        .collect();
    let missing: Vec<_> = standalone.difference(&ours).collect();
    assert!(missing.is_empty(), "msgs emulator lacks {missing:?}");
}
