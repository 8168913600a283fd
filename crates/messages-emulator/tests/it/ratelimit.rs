//! Rate limits: token buckets reported in the `anthropic-ratelimit-*`
//! headers and enforced with 429 and `retry-after`.

use std::time::Duration;

use crate::support::*;

#[tokio::test]
async fn requests_over_the_limit_get_429_with_retry_after_and_the_headers_count_down() {
    let emu = builder()
        .requests_per_minute(3)
        .rate_limit_window(Duration::from_secs(3))
        .start()
        .await
        .unwrap();
    let addr = emu.local_addr();
    let mut left = Vec::new();
    for i in 0..3 {
        let r = post(addr, "/v1/messages", &request(&format!("q {i}"), 8)).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert_eq!(r.header("anthropic-ratelimit-requests-limit"), Some("3"));
        left.push(
            r.header("anthropic-ratelimit-requests-remaining")
                .unwrap()
                .to_owned(),
        );
        let reset = r.header("anthropic-ratelimit-requests-reset").unwrap();
        assert!(reset.ends_with('Z') && reset.contains('.'), "{reset}");
    }
    assert_eq!(left, ["2", "1", "0"]);
    let r = post(addr, "/v1/messages", &request("one too many", 8)).await;
    let message = r.api_error(429, "rate_limit_error");
    assert!(message.contains("requests"), "{message}");
    assert_eq!(r.header("retry-after"), Some("1"));
    // One request refills in a second.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let r = post(addr, "/v1/messages", &request("after the wait", 8)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    // Other endpoints are not limited.
    assert_eq!(get(addr, "/v1/models").await.status, 200);
    emu.shutdown().await;
}

#[tokio::test]
async fn tokens_are_charged_input_plus_max_tokens() {
    let emu = builder().tokens_per_minute(1000).start().await.unwrap();
    let addr = emu.local_addr();
    let r = post(addr, "/v1/messages", &request("small", 600)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.header("anthropic-ratelimit-tokens-limit"), Some("1000"));
    let left: u64 = r
        .header("anthropic-ratelimit-tokens-remaining")
        .unwrap()
        .parse()
        .unwrap();
    assert!((350..400).contains(&left), "{left}");
    let r = post(addr, "/v1/messages", &request("small", 600)).await;
    let message = r.api_error(429, "rate_limit_error");
    assert!(message.contains("tokens"), "{message}");
    emu.shutdown().await;
}
