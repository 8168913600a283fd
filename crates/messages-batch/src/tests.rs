//! Unit tests: the decoder against a naive oracle over every chunking, job
//! planning, pricing and the error type.

use bytes::Bytes;
use messages_types::{BatchResult, MessageRequest};

use crate::decoder::{ResultsDecoder, recover_custom_id};
use crate::{BatchJob, Error, Summary, cost_of, price_of};

fn line(id: &str, kind: &str) -> String {
    format!(r#"{{"custom_id":"{id}","result":{{"type":"{kind}"}}}}"#)
}

/// Feeds `chunks` and returns the custom_ids (or the first error's line and
/// kind).
fn decode_chunks(chunks: &[&[u8]]) -> Result<Vec<String>, (Option<u64>, &'static str)> {
    let mut dec = ResultsDecoder::new();
    let mut out = Vec::new();
    let classify = |e: Error| {
        let kind = if e.is_truncated() {
            "truncated"
        } else if e.is_decode() {
            "decode"
        } else if e.is_line_too_long() {
            "too long"
        } else {
            "other"
        };
        (e.line(), kind)
    };
    for c in chunks {
        dec.push(Bytes::copy_from_slice(c));
        while let Some(l) = dec.next_line().map_err(classify)? {
            out.push(l.custom_id);
        }
    }
    dec.finish();
    while let Some(l) = dec.next_line().map_err(classify)? {
        out.push(l.custom_id);
    }
    Ok(out)
}

/// The oracle: split on any line terminator, skip blank lines.
fn naive(input: &str) -> Vec<String> {
    input
        .replace("\r\n", "\n")
        .replace('\r', "\n")
        .split('\n')
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["custom_id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

#[test]
fn every_two_and_three_way_split_equals_one_chunk() {
    let input = format!(
        "{}\r\n{}\r{}\n\n  \r\n{}",
        line("a", "expired"),
        line("b", "canceled"),
        line("c", "expired"),
        line("d", "canceled")
    );
    let bytes = input.as_bytes();
    let expect = naive(&input);
    assert_eq!(expect, ["a", "b", "c", "d"]);
    assert_eq!(decode_chunks(&[bytes]).unwrap(), expect);
    for i in 0..=bytes.len() {
        assert_eq!(
            decode_chunks(&[&bytes[..i], &bytes[i..]]).unwrap(),
            expect,
            "split at {i}"
        );
        for j in i..=bytes.len() {
            let got = decode_chunks(&[&bytes[..i], &bytes[i..j], &bytes[j..]]).unwrap();
            assert_eq!(got, expect, "split at {i} and {j}");
        }
    }
}

#[test]
fn one_byte_chunks() {
    let input = format!(
        "\u{feff}{}\r\n{}\r\n",
        line("x", "expired"),
        line("y", "expired")
    );
    let chunks: Vec<&[u8]> = input.as_bytes().chunks(1).collect();
    assert_eq!(decode_chunks(&chunks).unwrap(), ["x", "y"]);
}

#[test]
fn crlf_split_across_chunks_is_one_terminator() {
    // If the LF after a chunk-final CR counted as a second line, line
    // numbers would be off by one in the error.
    let a = format!("{}\r", line("a", "expired"));
    let b = "\n{\"custom_id\":\"b\",\"result\":{\"type\":1}}\n";
    let err = decode_chunks(&[a.as_bytes(), b.as_bytes()]).unwrap_err();
    assert_eq!(err, (Some(2), "decode"));
}

#[test]
fn a_cut_last_line_is_truncated_not_a_short_read() {
    let full = format!("{}\n{}\n", line("a", "expired"), line("b", "expired"));
    let cut = &full.as_bytes()[..full.len() - 10];
    assert_eq!(decode_chunks(&[cut]).unwrap_err(), (Some(2), "truncated"));
    // Without a final terminator, a complete last line is fine.
    assert_eq!(
        decode_chunks(&[full.trim_end().as_bytes()]).unwrap(),
        ["a", "b"]
    );
}

#[test]
fn errors_name_line_and_custom_id() {
    let input = format!(
        "{}\n\n{{\"custom_id\": \"bad-1\", \"result\": {{\"type\": \"succeeded\", \"message\": 5}}}}\n",
        line("a", "expired")
    );
    let mut dec = ResultsDecoder::new();
    dec.push(Bytes::from(input));
    assert!(dec.next_line().unwrap().is_some());
    let err = dec.next_line().unwrap_err();
    assert!(err.is_decode(), "{err}");
    assert_eq!(err.line(), Some(3));
    assert_eq!(err.custom_id(), Some("bad-1"));
    assert!(err.to_string().contains("line 3"), "{err}");
    // The decoder is done after an error.
    dec.push(Bytes::from(line("z", "expired") + "\n"));
    assert!(dec.next_line().unwrap().is_none());
}

#[test]
fn line_limit_is_enforced_within_and_across_chunks() {
    let long = line(&"x".repeat(64), "expired");
    let limit = long.len() - 1;
    for split in [0, 5, long.len() - 3, long.len()] {
        let mut dec = ResultsDecoder::new().max_line_len(limit);
        let input = format!("{}\n{long}\n", line("ok", "expired"));
        let at = line("ok", "expired").len() + 1 + split;
        dec.push(Bytes::copy_from_slice(&input.as_bytes()[..at]));
        let mut got = Vec::new();
        let mut err = None;
        for chunk in [None, Some(&input.as_bytes()[at..])] {
            if let Some(c) = chunk {
                dec.push(Bytes::copy_from_slice(c));
            }
            loop {
                match dec.next_line() {
                    Ok(Some(l)) => got.push(l.custom_id),
                    Ok(None) => break,
                    Err(e) => {
                        err = Some(e);
                        break;
                    }
                }
            }
        }
        assert_eq!(got, ["ok"]);
        let err = err.expect("too long");
        assert!(err.is_line_too_long(), "{err}");
        assert_eq!(err.line(), Some(2));
    }
    // Exactly at the limit is accepted.
    let mut dec = ResultsDecoder::new().max_line_len(long.len());
    dec.push(Bytes::from(long + "\n"));
    assert!(dec.next_line().unwrap().is_some());
}

#[test]
fn lines_inside_a_chunk_are_not_copied() {
    let chunk = Bytes::from(format!(
        "{}\n{}\n",
        line("a", "expired"),
        line("b", "expired")
    ));
    let mut dec = ResultsDecoder::new();
    dec.push(chunk.clone());
    let raw = dec.next_raw().unwrap().unwrap();
    assert_eq!(raw.bytes().as_ptr(), chunk.as_ptr());
    assert_eq!(dec.consumed(), (line("a", "expired").len() + 1) as u64);
}

#[test]
fn custom_id_recovery() {
    assert_eq!(
        recover_custom_id(br#"{"custom_id" : "a-1_B", "result": "#).as_deref(),
        Some("a-1_B")
    );
    assert_eq!(recover_custom_id(br#"{"result":{}, "custom_id":"x"#), None);
    assert_eq!(recover_custom_id(br#"{"custom_id":"has space"}"#), None);
    assert_eq!(recover_custom_id(b"garbage"), None);
}

fn req() -> MessageRequest {
    MessageRequest::new("claude-haiku-4-5", 16).user("hello")
}

#[test]
fn plan_splits_by_count_and_bytes() {
    let mut job = BatchJob::new().max_requests_per_batch(3);
    for i in 0..7 {
        job.add(format!("r{i}"), req()).unwrap();
    }
    assert_eq!(job.plan().unwrap(), [0..3, 3..6, 6..7]);

    let one = serde_json::to_vec(&messages_types::BatchRequest::new("r0", req()))
        .unwrap()
        .len();
    // Room for two requests and their comma, not three.
    let mut job = BatchJob::new().max_bytes_per_batch(14 + 2 * one + 1 + 5);
    for i in 0..5 {
        job.add(format!("r{i}"), req()).unwrap();
    }
    assert_eq!(job.plan().unwrap(), [0..2, 2..4, 4..5]);
    // The body of each planned batch is within the limit and valid JSON.
    for r in job.plan().unwrap() {
        let body = job.body_for_tests(r.clone());
        assert!(body.len() <= 14 + 2 * one + 1 + 5);
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["requests"].as_array().unwrap().len(), r.len());
    }

    let mut job = BatchJob::new().max_requests_per_batch(2).split(false);
    for i in 0..3 {
        job.add(format!("r{i}"), req()).unwrap();
    }
    let err = job.plan().unwrap_err();
    assert!(
        err.is_invalid_input() && err.to_string().contains("splitting is off"),
        "{err}"
    );
    assert!(BatchJob::new().plan().unwrap_err().is_invalid_input());
}

#[test]
fn add_refuses_bad_requests_and_keeps_the_job() {
    let mut job = BatchJob::new().max_bytes_per_batch(200);
    job.add("ok", req()).unwrap();
    for (id, params) in [
        ("", req()),
        ("x".repeat(65).as_str(), req()),
        ("a.b", req()),
        ("ok", req()),
        ("streamed", req().stream(true)),
        (
            "huge",
            MessageRequest::new("claude-haiku-4-5", 16).user("y".repeat(300)),
        ),
    ] {
        let err = job.add(id, params).unwrap_err();
        assert!(err.is_invalid_input(), "{id}: {err}");
    }
    assert_eq!(job.len(), 1);
    job.add("x".repeat(64), req()).unwrap();
}

#[test]
fn read_jsonl_names_the_bad_line() {
    let input = format!(
        "{{\"custom_id\":\"a\",\"params\":{}}}\n\n{{\"custom_id\":\"b\",\"params\":{{\"model\":1}}}}\n",
        serde_json::to_string(&req()).unwrap()
    );
    let mut job = BatchJob::new();
    let err = job.read_jsonl(input.as_bytes()).unwrap_err();
    assert!(err.is_invalid_input());
    assert_eq!(err.line(), Some(3));
    assert_eq!(err.custom_id(), Some("b"));
    assert_eq!(job.len(), 1);
}

#[test]
fn prices_match_by_family_and_unknown_models_have_no_cost() {
    assert_eq!(price_of("claude-3-5-haiku-20241022").unwrap().input, 0.8);
    assert_eq!(price_of("claude-3-haiku-20240307").unwrap().input, 0.25);
    assert_eq!(price_of("claude-opus-4-20250514").unwrap().input, 15.0);
    assert_eq!(price_of("claude-opus-4-5-20251101").unwrap().input, 5.0);
    assert_eq!(price_of("claude-opus-4-6").unwrap().output, 25.0);
    assert_eq!(price_of("claude-sonnet-4-6").unwrap().input, 3.0);
    // Priced from Anthropic's pages (see data/prices.json).
    assert_eq!(price_of("claude-opus-5").unwrap().input, 5.0);
    assert_eq!(price_of("claude-sonnet-5").unwrap().output, 10.0);
    // A model the table does not list: cost unknown.
    assert!(price_of("claude-opus-5-5").is_none());
    assert!(price_of("claude-opus-45").is_none());
    assert!(price_of("gpt-4").is_none());

    let mut usage: messages_types::Usage =
        serde_json::from_str(r#"{"input_tokens":1000,"output_tokens":100,"cache_read_input_tokens":10000,"cache_creation_input_tokens":2000}"#).unwrap();
    // Sonnet: 3 $/M input, 15 $/M output; read 0.1x, 5-minute write 1.25x.
    let c = cost_of("claude-sonnet-4-5", &usage).unwrap();
    let expect = (3.0 * (1000.0 + 0.1 * 10000.0 + 1.25 * 2000.0) + 15.0 * 100.0) / 1e6;
    assert!((c - expect).abs() < 1e-12, "{c} vs {expect}");
    let mut creation = messages_types::CacheCreation::default();
    creation.ephemeral_1h_input_tokens = 2000;
    usage.cache_creation = Some(creation);
    let c = cost_of("claude-sonnet-4-5", &usage).unwrap();
    let expect = (3.0 * (1000.0 + 0.1 * 10000.0 + 2.0 * 2000.0) + 15.0 * 100.0) / 1e6;
    assert!((c - expect).abs() < 1e-12);
}

fn succeeded(model: &str, input: u64, output: u64) -> messages_types::BatchResultLine {
    serde_json::from_value(
        serde_json::json!({"custom_id": "s", "result": {"type": "succeeded", "message": {
        "id": "msg_1", "type": "message", "role": "assistant", "model": model, "content": [],
        "stop_reason": "end_turn", "stop_sequence": null,
        "usage": {"input_tokens": input, "output_tokens": output}}}}),
    )
    .unwrap()
}

#[test]
fn summary_counts_errors_by_type_and_discounts_batches() {
    let mut batch = Summary::batch();
    let mut local = Summary::local();
    let errored: messages_types::BatchResultLine = serde_json::from_str(
        r#"{"custom_id":"e","result":{"type":"errored","error":{"type":"error","error":{"type":"invalid_request_error","message":"m"}}}}"#,
    )
    .unwrap();
    let mut errored_too = errored.clone();
    errored_too.custom_id = "e2".to_owned();
    for s in [&mut batch, &mut local] {
        s.add(&succeeded("claude-haiku-4-5", 1_000_000, 0));
        s.add(&errored);
        s.add(&errored_too);
        s.add(&serde_json::from_str(&line("c", "canceled")).unwrap());
        s.add(&serde_json::from_str(&line("x", "expired")).unwrap());
        s.add(&serde_json::from_str(&line("u", "brand_new")).unwrap());
    }
    assert_eq!(batch.succeeded, 1);
    assert_eq!(batch.errored.get("invalid_request_error"), Some(&2));
    assert_eq!(
        (batch.canceled, batch.expired, batch.unknown, batch.total()),
        (1, 1, 1, 6)
    );
    assert_eq!(batch.usage.input_tokens, Some(1_000_000));
    assert_eq!(local.estimated_cost_usd(), Some(1.0));
    assert_eq!(batch.estimated_cost_usd(), Some(0.5));
    let mut mystery = succeeded("claude-mystery-1", 10, 10);
    mystery.custom_id = "s2".to_owned();
    batch.add(&mystery);
    assert_eq!(batch.estimated_cost_usd(), None);
    assert_eq!(
        batch.unpriced_models().collect::<Vec<_>>(),
        ["claude-mystery-1"]
    );
    assert!(batch.to_string().contains("cost unknown"), "{batch}");
    assert!(!batch.to_string().contains("warning"), "{batch}");

    // A repeated custom_id is counted once, with a warning (issue 18).
    batch.add(&errored);
    assert_eq!(batch.errored.get("invalid_request_error"), Some(&2));
    assert_eq!((batch.total(), batch.duplicates), (7, 1));
    let text = batch.to_string();
    assert!(
        text.contains("warning") && text.contains("(first: e)"),
        "{text}"
    );
    assert!(matches!(
        serde_json::from_str::<messages_types::BatchResultLine>(&line("u", "brand_new"))
            .unwrap()
            .result,
        BatchResult::Unknown(_)
    ));
}

#[test]
fn error_is_small_send_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Error>();
    assert_send_sync::<crate::Batches>();
    assert_send_sync::<crate::LocalRunner>();
    assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
}

// ===== fingerprints and pacing =====

#[test]
fn a_fingerprint_follows_the_params_and_survives_a_round_trip_through_a_line() {
    use crate::fingerprint::{Fingerprint, Stamp, read_stamp};
    let a = MessageRequest::new("claude-haiku-4-5", 16).user("hi");
    let same: MessageRequest = serde_json::from_value(serde_json::json!({
        "messages": [{"role": "user", "content": "hi"}],
        "max_tokens": 16,
        "model": "claude-haiku-4-5",
    }))
    .unwrap();
    assert_eq!(Fingerprint::of(&a), Fingerprint::of(&same));
    let edited = MessageRequest::new("claude-haiku-4-5", 17).user("hi");
    assert_ne!(Fingerprint::of(&a), Fingerprint::of(&edited));

    let plain = line("x", "expired").into_bytes();
    let mut stamped = plain.clone();
    Fingerprint::of(&a).append_to(&mut stamped);
    let (stamp, len) = read_stamp(&stamped);
    assert_eq!(stamp, Stamp::Fnv(Fingerprint::of(&a)));
    assert_eq!([&stamped[..len], b"}"].concat(), plain);
    assert_eq!(read_stamp(&plain), (Stamp::Missing, plain.len()));
    let odd = br#"{"custom_id":"x","result":{"type":"expired"},"request_fingerprint":"md5:1"}"#;
    assert_eq!(read_stamp(odd).0, Stamp::Unknown);
}

#[test]
fn rfc3339_times_parse_and_format() {
    use std::time::{Duration, UNIX_EPOCH};

    use crate::pace::{format_rfc3339, parse_rfc3339};
    let t = parse_rfc3339("2026-11-30T05:31:00Z").unwrap();
    assert_eq!(t, UNIX_EPOCH + Duration::from_secs(1_796_016_660));
    assert_eq!(format_rfc3339(t), "2026-11-30T05:31:00Z");
    let frac = parse_rfc3339("2026-11-30T05:31:00.250Z").unwrap();
    assert_eq!(frac.duration_since(t).unwrap(), Duration::from_millis(250));
    let offset = parse_rfc3339("2026-11-30T06:31:00+01:00").unwrap();
    assert_eq!(offset, t);
    for bad in [
        "",
        "2026-11-30",
        "2026-13-30T05:31:00Z",
        "2026-11-30T05:31:00",
        "x026-11-30T05:31:00Z",
    ] {
        assert_eq!(parse_rfc3339(bad), None, "{bad}");
    }
}

#[test]
fn the_pacer_halves_on_a_throttle_and_waits_for_the_bucket() {
    use std::time::{Duration, Instant};

    use crate::pace::Pacer;
    let mut p = Pacer::new(32);
    assert_eq!(p.limit(), 32);
    let now = Instant::now();
    let seq = p.start(10.0);
    p.throttled(seq, Duration::from_millis(500), now);
    assert_eq!(p.limit(), 16);
    // Every start waits for the pause.
    assert!(
        p.ready_at(10.0, now)
            .is_some_and(|t| t >= now + Duration::from_millis(500))
    );
    // Another refusal of the same round does not halve again.
    let again = p.start(10.0);
    let other = p.start(10.0);
    p.throttled(again, Duration::from_millis(10), now);
    assert_eq!(p.limit(), 8);
    p.throttled(other, Duration::from_millis(10), now);
    assert_eq!(p.limit(), 8);
    // Successes grow it back, about one per round.
    for _ in 0..40 {
        let s = p.start(1.0);
        p.answered(s, None, true);
    }
    assert!(p.limit() > 8 && p.limit() <= 32, "{}", p.limit());

    // Headers that say the bucket is empty: wait for a refill.
    let mut p = Pacer::new(4);
    let mut h = http::HeaderMap::new();
    let reset = crate::pace::format_rfc3339(std::time::SystemTime::now() + Duration::from_secs(30));
    h.insert("anthropic-ratelimit-requests-limit", "60".parse().unwrap());
    h.insert(
        "anthropic-ratelimit-requests-remaining",
        "0".parse().unwrap(),
    );
    h.insert("anthropic-ratelimit-requests-reset", reset.parse().unwrap());
    let s = p.start(1.0);
    p.answered(s, Some(&h), true);
    let at = p.ready_at(1.0, Instant::now()).expect("paced");
    let wait = at - Instant::now();
    // About one request's refill at 60 a minute, with the 5% margin.
    assert!(
        wait > Duration::from_millis(500) && wait < Duration::from_secs(2),
        "{wait:?}"
    );
}

#[test]
fn the_builtin_price_table_is_dated_and_parses() {
    let t = crate::PriceTable::from_json(crate::PRICES_JSON).expect("valid");
    assert_eq!(t.as_of.len(), 10);
    assert!(!t.sources.is_empty());
    assert!(t.prices.len() >= 10);
    // Every model of the model table has a price, except those the file
    // names as unpriced (not on the pricing page): they are "cost unknown",
    // never priced by another model's prefix.
    let raw: serde_json::Value = serde_json::from_str(crate::PRICES_JSON).unwrap();
    let unpriced: Vec<&str> = raw["unpriced"]["models"]
        .as_array()
        .expect("unpriced.models")
        .iter()
        .map(|v| v.as_str().expect("a model id"))
        .collect();
    assert!(!raw["unpriced"]["why"].as_str().unwrap_or("").is_empty());
    let catalog = messages_types::ModelCatalog::builtin();
    for m in &catalog.models {
        let listed = unpriced.contains(&m.id.as_str());
        assert_eq!(
            t.price_of(&m.id).is_none(),
            listed,
            "{}: priced iff not listed as unpriced",
            m.id
        );
        for alias in &m.aliases {
            assert_eq!(t.price_of(alias).is_none(), listed, "alias {alias}");
        }
        let usage = messages_types::Usage::new(1000, 1000);
        assert_eq!(t.cost_of(&m.id, &usage).is_none(), listed, "{}", m.id);
    }
    for id in &unpriced {
        assert!(catalog.find(id).is_some(), "{id} is in the model table");
    }
    let e = crate::PriceTable::from_json(r#"{"prices":[{"prefix":"x","input":-1,"output":1}]}"#)
        .unwrap_err();
    assert!(e.to_string().contains("`x`"), "{e}");
    let e = crate::PriceTable::load("/nonexistent/prices.json").unwrap_err();
    assert!(e.to_string().contains("/nonexistent/prices.json"), "{e}");
}

#[test]
fn the_newest_models_have_their_published_prices() {
    // platform.claude.com/docs/en/about-claude/pricing (Opus) and the
    // Sonnet 5 model page, as cited in data/prices.json.
    let t = crate::PriceTable::builtin();
    for id in ["claude-opus-5", "claude-opus-4-8", "claude-opus-4-7"] {
        let p = t.price_of(id).expect(id);
        assert_eq!((p.input, p.output), (5.0, 25.0), "{id}");
    }
    let p = t.price_of("claude-sonnet-5").expect("sonnet 5");
    assert_eq!((p.input, p.output), (2.0, 10.0));
    // The cache multipliers of the table give the published cache prices:
    // Sonnet 5 writes at $2.50 (5m) and $4 (1h), reads at $0.20.
    let usage: messages_types::Usage = serde_json::from_str(
        r#"{"input_tokens":0,"output_tokens":0,"cache_read_input_tokens":1000000,
            "cache_creation":{"ephemeral_5m_input_tokens":1000000,"ephemeral_1h_input_tokens":1000000}}"#,
    )
    .unwrap();
    let cost = t.cost_of("claude-sonnet-5", &usage).unwrap();
    assert!((cost - (2.5 + 4.0 + 0.2)).abs() < 1e-9, "{cost}");
    let cost = t.cost_of("claude-opus-5", &usage).unwrap();
    assert!((cost - (6.25 + 10.0 + 0.5)).abs() < 1e-9, "{cost}");
}

#[test]
fn a_price_prefix_never_prices_a_newer_minor_version() {
    let t = crate::PriceTable::builtin();
    // Opus 5.5 and Sonnet 5.5 have prices of their own; the table does not
    // list them, so they are "cost unknown", not Opus 5's or Sonnet 5's.
    assert!(t.price_of("claude-opus-5-5").is_none());
    assert!(t.price_of("claude-sonnet-5-5").is_none());
    assert!(t.price_of("claude-opus-5-5-20270101").is_none());
    assert!(t.price_of("claude-haiku-5-5").is_none());
    // Each alias and dated id of the model table gets its family's price.
    assert_eq!(t.price_of("claude-haiku-4-5").unwrap().input, 1.0);
    assert_eq!(t.price_of("claude-haiku-4-5-20251001").unwrap().input, 1.0);
    assert_eq!(t.price_of("claude-sonnet-4-0").unwrap().input, 3.0);
    assert_eq!(t.price_of("claude-3-7-sonnet-latest").unwrap().input, 3.0);
    assert_eq!(t.price_of("claude-3-5-haiku-latest").unwrap().input, 0.8);
    // Dated and other suffixes still match their model.
    assert_eq!(
        t.price_of("claude-opus-5-20260724").unwrap().prefix,
        "claude-opus-5"
    );
    assert_eq!(t.price_of("claude-opus-4-1-20250805").unwrap().output, 75.0);
    assert_eq!(t.price_of("claude-3-opus-20240229").unwrap().output, 75.0);
    assert!(t.price_of("claude-opus-50").is_none());
}
