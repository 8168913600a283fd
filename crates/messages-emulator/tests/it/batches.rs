//! Message Batches: validation, processing, cancel, expiry, delete, results, persistence.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::*;

const BATCHES: &str = "/v1/messages/batches";

fn batch_body(n: usize) -> Value {
    let requests: Vec<Value> = (0..n)
        .map(|i| json!({"custom_id": format!("req-{i}"), "params": request(&format!("prompt number {i}"), 50)}))
        .collect();
    json!({"requests": requests})
}

/// Creates a batch of `n` requests and returns its id.
async fn create_batch(addr: SocketAddr, n: usize) -> String {
    let r = post(addr, BATCHES, &batch_body(n)).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    r.json()["id"].as_str().unwrap().to_owned()
}

async fn wait_ended(addr: SocketAddr, id: &str) -> Value {
    for _ in 0..2000 {
        let b = get(addr, &format!("{BATCHES}/{id}")).await.json();
        if b["processing_status"] == "ended" {
            return b;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("batch {id} did not end");
}

fn parse_results(body: &[u8]) -> HashMap<String, Value> {
    let text = std::str::from_utf8(body).unwrap();
    let mut out = HashMap::new();
    for line in text.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        let id = v["custom_id"].as_str().unwrap().to_owned();
        assert!(
            out.insert(id, v["result"].clone()).is_none(),
            "one line per custom_id"
        );
    }
    out
}

use test_support::TempDir;

#[tokio::test]
async fn a_batch_is_processed_and_its_results_match_direct_calls() {
    let emu = builder()
        .batch_pace(Duration::from_millis(2))
        .start()
        .await
        .unwrap();
    let addr = emu.local_addr();
    let mut body = batch_body(30);
    // One request with an unknown model: an errored result, not a failed create.
    body["requests"][7]["params"]["model"] = json!("claude-unknown");
    let created = post(addr, BATCHES, &body).await;
    assert_eq!(created.status, 200, "{:?}", created.body);
    let b = created.json();
    let id = b["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("msgbatch_"));
    assert_eq!(b["type"], "message_batch");
    assert_eq!(b["processing_status"], "in_progress");
    assert_eq!(b["request_counts"]["processing"], 30);
    assert_eq!(b["results_url"], Value::Null);
    assert!(b["expires_at"].as_str().unwrap() > b["created_at"].as_str().unwrap());

    // Results are refused until the batch has ended.
    get(addr, &format!("{BATCHES}/{id}/results"))
        .await
        .api_error(400, "invalid_request_error");
    // Counts move while it runs.
    let mut saw_partial = false;
    for _ in 0..200 {
        let b = get(addr, &format!("{BATCHES}/{id}")).await.json();
        let c = &b["request_counts"];
        let sum: u64 = ["processing", "succeeded", "errored", "canceled", "expired"]
            .iter()
            .map(|k| c[k].as_u64().unwrap())
            .sum();
        assert_eq!(sum, 30);
        if c["processing"].as_u64().unwrap() > 0 && c["succeeded"].as_u64().unwrap() > 0 {
            saw_partial = true;
        }
        if b["processing_status"] == "ended" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    assert!(saw_partial, "request_counts moved during processing");
    let b = wait_ended(addr, &id).await;
    assert_eq!(b["request_counts"]["succeeded"], 29);
    assert_eq!(b["request_counts"]["errored"], 1);
    assert_eq!(b["request_counts"]["processing"], 0);
    assert!(b["ended_at"].is_string());
    let url = b["results_url"].as_str().unwrap();
    assert_eq!(url, format!("http://{addr}{BATCHES}/{id}/results"));

    let r = get(addr, &format!("{BATCHES}/{id}/results")).await;
    assert_eq!(r.header("content-type"), Some("application/x-jsonl"));
    let results = parse_results(&r.body);
    assert_eq!(results.len(), 30);
    // Results are not in submission order.
    let order: Vec<String> = std::str::from_utf8(&r.body)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["custom_id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_ne!(
        order,
        (0..30).map(|i| format!("req-{i}")).collect::<Vec<_>>()
    );
    for i in 0..30 {
        let res = &results[&format!("req-{i}")];
        if i == 7 {
            assert_eq!(res["type"], "errored");
            assert_eq!(res["error"]["type"], "error");
            assert_eq!(res["error"]["error"]["type"], "not_found_error");
            continue;
        }
        assert_eq!(res["type"], "succeeded");
        let direct = post(addr, "/v1/messages", &body["requests"][i]["params"])
            .await
            .json();
        assert_eq!(
            res["message"], direct,
            "batch result equals the direct call"
        );
    }
}

#[tokio::test]
async fn create_validates_like_the_api() {
    let emu = builder().max_batch_bytes(2_000_000).start().await.unwrap();
    let addr = emu.local_addr();
    let cases: Vec<(Value, &str)> = vec![
        (json!({}), "requests: Field required"),
        (
            json!({"requests": []}),
            "requests: List should have at least 1 item",
        ),
        (
            json!({"requests": [{"params": request("x", 5)}]}),
            "requests.0.custom_id: Field required",
        ),
        (
            json!({"requests": [{"custom_id": "", "params": request("x", 5)}]}),
            "requests.0.custom_id: String should match pattern",
        ),
        (
            json!({"requests": [{"custom_id": "a".repeat(65), "params": request("x", 5)}]}),
            "requests.0.custom_id: String should match pattern",
        ),
        (
            json!({"requests": [{"custom_id": "bad id!", "params": request("x", 5)}]}),
            "requests.0.custom_id: String should match pattern",
        ),
        (
            json!({"requests": [
                {"custom_id": "a", "params": request("x", 5)},
                {"custom_id": "b", "params": request("x", 5)},
                {"custom_id": "a", "params": request("x", 5)},
            ]}),
            "requests.2.custom_id: Duplicate custom_id 'a'",
        ),
        (
            json!({"requests": [{"custom_id": "a"}]}),
            "requests.0.params: Field required",
        ),
        (
            json!({"requests": [{"custom_id": "a", "params": {"model": MODEL, "messages": []}}]}),
            "requests.0.params.max_tokens: Field required",
        ),
    ];
    for (body, expected) in cases {
        let msg = post(addr, BATCHES, &body)
            .await
            .api_error(400, "invalid_request_error");
        assert!(
            msg.starts_with(expected),
            "expected `{expected}`, got `{msg}`"
        );
    }
    // 64 characters of the allowed alphabet are fine.
    let ok = json!({"requests": [{"custom_id": format!("{}_-", "Az09".repeat(15)) + "x", "params": request("x", 5)}]});
    assert_eq!(post(addr, BATCHES, &ok).await.status, 200);
    // More than 100,000 requests.
    let tiny =
        json!({"custom_id": "x", "params": {"model": "m", "max_tokens": 1, "messages": [1]}});
    let mut reqs = vec![tiny; 100_001];
    for (i, r) in reqs.iter_mut().enumerate() {
        r["custom_id"] = json!(format!("r{i}"));
    }
    let big = json!({"requests": reqs});
    let emu_big = builder().start().await.unwrap();
    let msg = post(emu_big.local_addr(), BATCHES, &big)
        .await
        .api_error(400, "invalid_request_error");
    assert!(
        msg.starts_with("requests: List should have at most 100000 items"),
        "{msg}"
    );
    // Over the byte limit (2 MB here; 256 MB by default).
    post(addr, BATCHES, &big)
        .await
        .api_error(413, "request_too_large");
}

#[tokio::test]
async fn cancel_goes_through_canceling_to_ended() {
    let emu = builder()
        .batch_pace(Duration::from_millis(50))
        .start()
        .await
        .unwrap();
    let addr = emu.local_addr();
    let id = create_batch(addr, 40).await;
    tokio::time::sleep(Duration::from_millis(130)).await;
    // Deleting an in-progress batch is refused.
    let msg = send(addr, "DELETE", &format!("{BATCHES}/{id}"), &[], "")
        .await
        .api_error(400, "invalid_request_error");
    assert!(msg.contains("in_progress"), "{msg}");
    let c = post(addr, &format!("{BATCHES}/{id}/cancel"), &json!({}))
        .await
        .json();
    assert_eq!(c["processing_status"], "canceling");
    assert!(c["cancel_initiated_at"].is_string());
    let b = wait_ended(addr, &id).await;
    let counts = &b["request_counts"];
    let succeeded = counts["succeeded"].as_u64().unwrap();
    let canceled = counts["canceled"].as_u64().unwrap();
    assert!(succeeded >= 1 && canceled >= 1, "{counts}");
    assert_eq!(succeeded + canceled, 40);
    let results = parse_results(&get(addr, &format!("{BATCHES}/{id}/results")).await.body);
    assert_eq!(results.len(), 40);
    assert_eq!(
        results.values().filter(|r| r["type"] == "canceled").count() as u64,
        canceled
    );
    // Cancel of an ended batch leaves it as it is.
    let again = post(addr, &format!("{BATCHES}/{id}/cancel"), &json!({}))
        .await
        .json();
    assert_eq!(again["processing_status"], "ended");
    // Now it can be deleted, once.
    let d = send(addr, "DELETE", &format!("{BATCHES}/{id}"), &[], "")
        .await
        .json();
    assert_eq!(d, json!({"id": id, "type": "message_batch_deleted"}));
    send(addr, "DELETE", &format!("{BATCHES}/{id}"), &[], "")
        .await
        .api_error(404, "not_found_error");
    get(addr, &format!("{BATCHES}/{id}"))
        .await
        .api_error(404, "not_found_error");
}

#[tokio::test]
async fn unfinished_requests_expire() {
    let emu = builder()
        .batch_pace(Duration::from_millis(40))
        .batch_expiry(Duration::from_millis(150))
        .start()
        .await
        .unwrap();
    let addr = emu.local_addr();
    let id = create_batch(addr, 50).await;
    let b = wait_ended(addr, &id).await;
    let expired = b["request_counts"]["expired"].as_u64().unwrap();
    let succeeded = b["request_counts"]["succeeded"].as_u64().unwrap();
    assert!(expired > 0, "{b}");
    assert_eq!(expired + succeeded, 50);
    let results = parse_results(&get(addr, &format!("{BATCHES}/{id}/results")).await.body);
    assert_eq!(
        results
            .values()
            .filter(|r| **r == json!({"type": "expired"}))
            .count() as u64,
        expired
    );
}

#[tokio::test]
async fn list_is_newest_first_and_pages() {
    let emu = start().await;
    let addr = emu.local_addr();
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(create_batch(addr, 1).await);
    }
    ids.reverse();
    let all = get(addr, BATCHES).await.json();
    let listed: Vec<&str> = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ids);
    let p1 = get(addr, &format!("{BATCHES}?limit=2")).await.json();
    assert_eq!(p1["first_id"], json!(ids[0]));
    assert_eq!(p1["last_id"], json!(ids[1]));
    assert_eq!(p1["has_more"], true);
    let p2 = get(addr, &format!("{BATCHES}?limit=2&after_id={}", ids[1]))
        .await
        .json();
    assert_eq!(p2["first_id"], json!(ids[2]));
    let p3 = get(addr, &format!("{BATCHES}?limit=2&after_id={}", ids[3]))
        .await
        .json();
    assert_eq!(p3["data"].as_array().unwrap().len(), 1);
    assert_eq!(p3["has_more"], false);
    let back = get(addr, &format!("{BATCHES}?limit=2&before_id={}", ids[3]))
        .await
        .json();
    assert_eq!(back["first_id"], json!(ids[1]));
    assert_eq!(back["has_more"], true);
    get(addr, &format!("{BATCHES}?limit=1001"))
        .await
        .api_error(400, "invalid_request_error");
}

#[tokio::test]
async fn truncate_results_cuts_the_body_mid_line() {
    let emu = start().await;
    let addr = emu.local_addr();
    let id = create_batch(addr, 10).await;
    wait_ended(addr, &id).await;
    let path = format!("{BATCHES}/{id}/results");
    let full = get(addr, &path).await;
    let r = send(
        addr,
        "GET",
        &path,
        &[("x-emulator-fault", "truncate-results=3")],
        "",
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(full.body.starts_with(&r.body));
    let text = std::str::from_utf8(&r.body).unwrap();
    let lines: Vec<&str> = text.split('\n').collect();
    assert_eq!(lines.len(), 4, "three whole lines and a piece");
    for l in &lines[..3] {
        serde_json::from_str::<Value>(l).unwrap();
    }
    assert!(!lines[3].is_empty());
    assert!(serde_json::from_str::<Value>(lines[3]).is_err());
}

#[tokio::test]
async fn batches_survive_a_restart() {
    let dir = TempDir::new("restart");
    let emu = builder()
        .data_dir(&dir.0)
        .batch_pace(Duration::from_millis(20))
        .start()
        .await
        .unwrap();
    let addr = emu.local_addr();
    let done_id = {
        let id = create_batch(addr, 2).await;
        wait_ended(addr, &id).await;
        id
    };
    let done_results = get(addr, &format!("{BATCHES}/{done_id}/results"))
        .await
        .body;
    let id = create_batch(addr, 30).await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    let before = get(addr, &format!("{BATCHES}/{id}")).await.json();
    assert_eq!(before["processing_status"], "in_progress");
    let processed_before = 30 - before["request_counts"]["processing"].as_u64().unwrap();
    assert!(processed_before > 0);
    emu.shutdown().await;

    // Simulate a crash in the middle of an append: a torn last line.
    let results_file = dir.0.join("batches").join(&id).join("results.jsonl");
    let mut data = std::fs::read(&results_file).unwrap();
    data.extend_from_slice(b"{\"custom_id\":\"req-");
    std::fs::write(&results_file, data).unwrap();

    let emu = builder()
        .data_dir(&dir.0)
        .batch_pace(Duration::ZERO)
        .start()
        .await
        .unwrap();
    let addr = emu.local_addr();
    let b = wait_ended(addr, &id).await;
    assert_eq!(b["request_counts"]["succeeded"], 30, "{b}");
    assert_eq!(b["created_at"], before["created_at"]);
    let results = parse_results(&get(addr, &format!("{BATCHES}/{id}/results")).await.body);
    assert_eq!(results.len(), 30);
    // The finished batch kept its results, byte for byte.
    assert_eq!(
        get(addr, &format!("{BATCHES}/{done_id}/results"))
            .await
            .body,
        done_results
    );
    // Deleting removes it from disk too.
    send(addr, "DELETE", &format!("{BATCHES}/{done_id}"), &[], "").await;
    assert!(!dir.0.join("batches").join(&done_id).exists());
    emu.shutdown().await;
    let emu = builder().data_dir(&dir.0).start().await.unwrap();
    get(emu.local_addr(), &format!("{BATCHES}/{done_id}"))
        .await
        .api_error(404, "not_found_error");
    assert_eq!(
        get(emu.local_addr(), &format!("{BATCHES}/{id}"))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn a_corrupt_data_dir_is_a_clear_start_error() {
    let dir = TempDir::new("corrupt");
    let b = dir.0.join("batches").join("msgbatch_broken");
    std::fs::create_dir_all(&b).unwrap();
    std::fs::write(b.join("meta.json"), b"{not json").unwrap();
    let err = builder().data_dir(&dir.0).start().await.unwrap_err();
    assert!(err.is_io());
    assert!(err.to_string().contains("meta.json"), "{err}");
}

#[tokio::test]
async fn unknown_batch_ids_are_404() {
    let emu = start().await;
    let addr = emu.local_addr();
    get(addr, &format!("{BATCHES}/msgbatch_nope"))
        .await
        .api_error(404, "not_found_error");
    get(addr, &format!("{BATCHES}/msgbatch_nope/results"))
        .await
        .api_error(404, "not_found_error");
    post(addr, &format!("{BATCHES}/msgbatch_nope/cancel"), &json!({}))
        .await
        .api_error(404, "not_found_error");
}

/// The errored result of `custom_id`: its error type and message.
fn errored(results: &HashMap<String, Value>, custom_id: &str) -> (String, String) {
    let r = &results[custom_id];
    assert_eq!(r["type"], "errored", "{custom_id}: {r}");
    assert_eq!(r["error"]["type"], "error", "{r}");
    let error = &r["error"]["error"];
    (
        error["type"].as_str().unwrap().to_owned(),
        error["message"].as_str().unwrap().to_owned(),
    )
}

/// Creates a batch of `(custom_id, params)` with these headers, waits for it
/// and returns its results.
async fn run_batch(
    addr: SocketAddr,
    headers: &[(&str, &str)],
    requests: &[(&str, &Value)],
) -> HashMap<String, Value> {
    let requests: Vec<Value> = requests
        .iter()
        .map(|(id, params)| json!({"custom_id": id, "params": params}))
        .collect();
    let body = json!({ "requests": requests }).to_string();
    let r = send(addr, "POST", BATCHES, headers, body).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let id = r.json()["id"].as_str().unwrap().to_owned();
    wait_ended(addr, &id).await;
    parse_results(&get(addr, &format!("{BATCHES}/{id}/results")).await.body)
}

#[tokio::test]
async fn batch_requests_get_the_rules_of_the_create_requests_api_version() {
    let emu = start().await;
    let addr = emu.local_addr();
    let new = [("anthropic-version", "2026-10-21")];
    let old = [("anthropic-version", "2023-06-01")];

    let mut temperature = request("hi", 5);
    temperature["temperature"] = json!(1.0);
    let mut top_k = request("hi", 5);
    top_k["top_k"] = json!(5);
    let mut citations = request("hi", 5);
    citations["messages"] = json!([{"role": "user", "content": [
        {"type": "text", "text": "q", "citations": [{"type": "char_location", "cited_text": "q", "document_index": 0, "start_char_index": 0, "end_char_index": 1}]}
    ]}]);
    let fine = request("hi", 5);
    let requests = [
        ("temperature", &temperature),
        ("top_k", &top_k),
        ("citations", &citations),
        ("fine", &fine),
    ];

    // Under 2026-10-21 each request the version refuses is an errored
    // result carrying the error a direct request gets; the others succeed.
    let results = run_batch(addr, &new, &requests).await;
    for (custom_id, params) in &requests[..3] {
        let direct = send(addr, "POST", "/v1/messages", &new, params.to_string()).await;
        let message = direct.api_error(400, "invalid_request_error");
        assert_eq!(
            errored(&results, custom_id),
            ("invalid_request_error".to_owned(), message),
            "{custom_id}"
        );
    }
    assert_eq!(results["fine"]["type"], "succeeded", "{}", results["fine"]);
    let (_, message) = errored(&results, "temperature");
    assert_eq!(message, "temperature: Extra inputs are not permitted");

    // Under 2023-06-01 (and with no header, the emulator's default) the
    // same requests all succeed, as direct requests do.
    for headers in [&old[..], &[]] {
        let results = run_batch(addr, headers, &requests).await;
        for (custom_id, _) in &requests {
            assert_eq!(results[*custom_id]["type"], "succeeded", "{custom_id}");
        }
    }

    // An unknown version fails the create, as it fails a direct request.
    let body = json!({"requests": [{"custom_id": "a", "params": fine}]}).to_string();
    let r = send(
        addr,
        "POST",
        BATCHES,
        &[("anthropic-version", "2099-01-01")],
        body,
    )
    .await;
    let msg = r.api_error(400, "invalid_request_error");
    assert!(
        msg.starts_with("anthropic-version: unknown API version"),
        "{msg}"
    );
}

#[tokio::test]
async fn a_batch_keeps_its_api_version_across_a_restart() {
    let dir = TempDir::new("version-restart");
    let emu = builder()
        .data_dir(&dir.0)
        .batch_pace(Duration::from_secs(3600))
        .start()
        .await
        .unwrap();
    let mut temperature = request("hi", 5);
    temperature["temperature"] = json!(1.0);
    let body = json!({"requests": [{"custom_id": "t", "params": temperature}]}).to_string();
    let r = send(
        emu.local_addr(),
        "POST",
        BATCHES,
        &[("anthropic-version", "2026-10-21")],
        body,
    )
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let id = r.json()["id"].as_str().unwrap().to_owned();
    // Stopped before the request was processed (the pace is an hour).
    emu.shutdown().await;

    let emu = builder().data_dir(&dir.0).start().await.unwrap();
    let addr = emu.local_addr();
    wait_ended(addr, &id).await;
    let results = parse_results(&get(addr, &format!("{BATCHES}/{id}/results")).await.body);
    assert_eq!(
        errored(&results, "t"),
        (
            "invalid_request_error".to_owned(),
            "temperature: Extra inputs are not permitted".to_owned()
        )
    );
}
