//! Fault scopes over HTTP: `scope=all`, `skip`, `method`/`path`, and the
//! `batch-expiry-ms` fault.

use std::time::Duration;

use serde_json::json;

use crate::support::*;

fn batch_body(n: usize) -> Vec<u8> {
    let requests: Vec<_> = (0..n)
        .map(|i| json!({"custom_id": format!("r-{i}"), "params": request(&format!("q {i}"), 8)}))
        .collect();
    serde_json::to_vec(&json!({ "requests": requests })).unwrap()
}

#[tokio::test]
async fn the_second_batch_create_fails_and_only_it() {
    let emu = builder()
        .fault("status=500,skip=1,times=1,scope=all,method=POST,path=/v1/messages/batches")
        .start()
        .await
        .unwrap();
    let addr = emu.local_addr();
    let statuses: Vec<u16> = {
        let mut v = Vec::new();
        for i in 0..3 {
            // Different bodies: scope=all counts them together.
            let r = send(addr, "POST", "/v1/messages/batches", &[], batch_body(i + 1)).await;
            v.push(r.status);
            // Other requests do not count.
            assert_eq!(get(addr, "/v1/messages/batches").await.status, 200);
        }
        v
    };
    assert_eq!(statuses, [200, 500, 200]);
    emu.shutdown().await;
}

#[tokio::test]
async fn a_batch_with_the_expiry_fault_expires_its_unprocessed_requests() {
    let emu = builder()
        .batch_pace(Duration::from_millis(20))
        .start()
        .await
        .unwrap();
    let addr = emu.local_addr();
    let r = send(
        addr,
        "POST",
        "/v1/messages/batches",
        &[("x-emulator-fault", "batch-expiry-ms=100")],
        batch_body(30),
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let id = r.json()["id"].as_str().unwrap().to_owned();
    let mut batch = serde_json::Value::Null;
    for _ in 0..100 {
        batch = get(addr, &format!("/v1/messages/batches/{id}"))
            .await
            .json();
        if batch["processing_status"] == "ended" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(batch["processing_status"], "ended", "{batch}");
    let counts = &batch["request_counts"];
    let expired = counts["expired"].as_u64().unwrap();
    assert!(expired > 0 && expired < 30, "{counts}");
    assert_eq!(
        counts["succeeded"].as_u64().unwrap() + expired,
        30,
        "{counts}"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn hang_holds_the_answer_and_skip_lets_the_first_requests_through() {
    let emu = builder()
        .fault("hang=60000,skip=1,scope=all,path=/v1/models")
        .start()
        .await
        .unwrap();
    let addr = emu.local_addr();
    // The first request is skipped: answered at once.
    assert_eq!(get(addr, "/v1/models").await.status, 200);
    // The second hangs: nothing arrives while the client waits.
    let hung = tokio::time::timeout(Duration::from_millis(300), get(addr, "/v1/models")).await;
    assert!(hung.is_err(), "a hung request was answered: {hung:?}");
    // Other paths are not affected, and the server still answers them.
    assert_eq!(get(addr, "/v1/messages/batches").await.status, 200);
    // A short hang answers as usual once it is over.
    let r = send(
        addr,
        "GET",
        "/v1/models",
        &[("x-emulator-fault", "hang=50")],
        "",
    )
    .await;
    assert_eq!(r.status, 200);
    emu.shutdown().await;
}
