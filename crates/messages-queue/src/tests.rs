use std::time::Duration;

use crate::callback::{sign, verify};
use crate::job::parse_rfc3339;
use crate::{Lane, read_jobs};

#[test]
fn rfc3339_dates() {
    assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
    assert_eq!(parse_rfc3339("2026-12-01T00:00:00Z"), Some(1_796_083_200));
    assert_eq!(
        parse_rfc3339("2024-02-29T12:30:15.250Z"),
        Some(1_709_209_815)
    );
    assert_eq!(
        parse_rfc3339("2024-02-29T12:30:15+00:00"),
        Some(1_709_209_815)
    );
    assert_eq!(parse_rfc3339("2024-02-29T12:30:15+02:00"), None);
    assert_eq!(parse_rfc3339("2024-13-01T00:00:00Z"), None);
    assert_eq!(parse_rfc3339("yesterday"), None);
}

#[test]
fn signatures_verify_and_reject() {
    let body = br#"{"custom_id":"a","result":{"type":"expired"}}"#;
    let h = sign(b"k", 1_000, body);
    let tol = Duration::from_secs(300);
    assert!(verify(b"k", &h, body, 1_000, tol).is_ok());
    assert!(verify(b"k", &h, body, 1_300, tol).is_ok());
    let e = verify(b"k", &h, body, 1_301, tol).unwrap_err();
    assert!(
        e.is_signature() && e.to_string().contains("more than 300 s"),
        "{e}"
    );
    assert!(verify(b"j", &h, body, 1_000, tol).is_err());
    assert!(verify(b"k", &h, b"{}", 1_000, tol).is_err());
    // Secret rotation: any matching v1 passes.
    let two = format!(
        "{},v1={}",
        sign(b"old", 1_000, body),
        &h[h.find("v1=").unwrap() + 3..]
    );
    assert!(verify(b"k", &two, body, 1_000, tol).is_ok());
    for bad in ["", "t=1000", "v1=00", "t=x,v1=00", "garbage"] {
        assert!(
            verify(b"k", bad, body, 1_000, tol)
                .unwrap_err()
                .is_signature()
        );
    }
}

#[test]
fn job_lines_parse_with_options() {
    let src = concat!(
        r#"{"custom_id":"a","params":{"model":"m","max_tokens":5,"messages":[]}}"#,
        "\n",
        "\n",
        r#"{"custom_id":"b","params":{"model":"m","max_tokens":5,"messages":[]},"priority":"interactive","deadline":"2026-12-01T00:00:00Z","callback":"http://127.0.0.1:1/cb","metadata":{"k":1}}"#,
        "\n",
    );
    let jobs = read_jobs(src.as_bytes()).unwrap();
    assert_eq!(jobs.len(), 2);
    assert_eq!(jobs[0].lane, Lane::Background);
    assert_eq!(jobs[1].lane, Lane::Interactive);
    assert_eq!(jobs[1].deadline, Some(1_796_083_200));
    assert_eq!(jobs[1].metadata, Some(serde_json::json!({"k": 1})));
}

#[test]
fn bad_job_lines_name_their_line() {
    let ok = r#"{"custom_id":"a","params":{"model":"m","max_tokens":5,"messages":[]}}"#;
    let cases = [
        ("{not json", "not a job"),
        (
            r#"{"custom_id":"a b","params":{"model":"m","max_tokens":5,"messages":[]}}"#,
            "is invalid",
        ),
        (
            r#"{"custom_id":"c","params":{"model":"m","max_tokens":5,"messages":[]},"priority":"urgent"}"#,
            "not a job",
        ),
        (
            r#"{"custom_id":"c","params":{"model":"m","max_tokens":5,"messages":[]},"deadline":"soon"}"#,
            "deadline",
        ),
        (
            r#"{"custom_id":"c","params":{"model":"m","max_tokens":5,"messages":[]},"callback":"ftp://x/"}"#,
            "callback URL",
        ),
        (
            r#"{"custom_id":"c","params":{"model":"m","max_tokens":5,"messages":[],"stream":true}}"#,
            "streamed",
        ),
        (
            r#"{"custom_id":"c","params":{"model":"m","max_tokens":5,"messages":[]},"colour":1}"#,
            "unknown field",
        ),
        (ok, "used twice"),
    ];
    for (line, want) in cases {
        let src = format!("{ok}\n\n{line}\n");
        let e = read_jobs(src.as_bytes()).unwrap_err();
        assert!(e.is_input(), "{line}: {e}");
        assert_eq!(e.line(), Some(3), "{line}: {e}");
        assert!(e.to_string().starts_with("line 3: "), "{e}");
        assert!(e.to_string().contains(want), "{line}: {e}");
    }
}
