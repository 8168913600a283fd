use std::mem;
use std::time::{Duration, SystemTime};

use http::{HeaderMap, HeaderValue, StatusCode};

use crate::connect::is_loopback;
use crate::error::one_line;
use crate::retry::{backoff_delay, requested_wait, retry_after, should_retry_status};
use crate::{Error, Request, RequestOptions, Transport};

#[test]
fn error_size_of() {
    assert_eq!(mem::size_of::<Error>(), mem::size_of::<usize>());
}

#[test]
fn public_types_are_send_sync() {
    fn is_send_sync<T: Send + Sync>() {}
    is_send_sync::<Error>();
    is_send_sync::<Transport>();
    is_send_sync::<crate::Response>();
    is_send_sync::<crate::Body>();
    is_send_sync::<Request>();
}

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.insert(*k, HeaderValue::from_str(v).unwrap());
    }
    h
}

#[test]
fn retry_status_table() {
    let none = HeaderMap::new();
    for (status, want) in [
        (200, false),
        (400, false),
        (401, false),
        (404, false),
        (408, true),
        (409, true),
        (413, false),
        (422, false),
        (429, true),
        (500, true),
        (502, true),
        (529, true),
    ] {
        let s = StatusCode::from_u16(status).unwrap();
        assert_eq!(should_retry_status(s, &none), want, "status {status}");
    }
    let yes = headers(&[("x-should-retry", "true")]);
    let no = headers(&[("x-should-retry", "false")]);
    assert!(should_retry_status(StatusCode::BAD_REQUEST, &yes));
    assert!(!should_retry_status(StatusCode::TOO_MANY_REQUESTS, &no));
    assert!(!should_retry_status(StatusCode::INTERNAL_SERVER_ERROR, &no));
    // Anything else in the header is ignored.
    let junk = headers(&[("x-should-retry", "maybe")]);
    assert!(should_retry_status(StatusCode::TOO_MANY_REQUESTS, &junk));
    assert!(!should_retry_status(StatusCode::BAD_REQUEST, &junk));
}

#[test]
fn a_long_wait_is_reported_but_not_retried_automatically() {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let hour = headers(&[("retry-after", "3600")]);
    assert_eq!(retry_after(&hour, now), None);
    assert_eq!(requested_wait(&hour, now), Some(Duration::from_secs(3600)));
    let date = httpdate::fmt_http_date(now + Duration::from_secs(7200));
    let at = headers(&[("retry-after", &date)]);
    assert_eq!(requested_wait(&at, now), Some(Duration::from_secs(7200)));
    assert_eq!(requested_wait(&headers(&[]), now), None);
}

#[test]
fn retry_after_headers() {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let check = |pairs: &[(&'static str, &str)], want: Option<Duration>| {
        assert_eq!(retry_after(&headers(pairs), now), want, "{pairs:?}");
    };
    check(
        &[("retry-after-ms", "1500")],
        Some(Duration::from_millis(1500)),
    );
    check(
        &[("retry-after-ms", "2.5")],
        Some(Duration::from_micros(2500)),
    );
    // retry-after-ms wins over retry-after.
    check(
        &[("retry-after-ms", "100"), ("retry-after", "7")],
        Some(Duration::from_millis(100)),
    );
    check(&[("retry-after", "7")], Some(Duration::from_secs(7)));
    check(
        &[("retry-after", " 1.5 ")],
        Some(Duration::from_millis(1500)),
    );
    let date = httpdate::fmt_http_date(now + Duration::from_secs(30));
    check(&[("retry-after", &date)], Some(Duration::from_secs(30)));
    // Out of (0, 60] seconds: fall back to backoff.
    check(&[("retry-after", "0")], None);
    check(&[("retry-after", "61")], None);
    check(&[("retry-after", "-1")], None);
    let past = httpdate::fmt_http_date(now - Duration::from_secs(30));
    check(&[("retry-after", &past)], None);
    // Garbage is ignored, an invalid ms value falls through to retry-after.
    check(&[("retry-after", "soon")], None);
    check(
        &[("retry-after-ms", "NaN"), ("retry-after", "3")],
        Some(Duration::from_secs(3)),
    );
    check(&[], None);
}

#[test]
fn backoff_bounds() {
    let want = [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0];
    for (n, base) in want.iter().enumerate() {
        let n = n as u32;
        assert_eq!(backoff_delay(n, 0.0), Duration::from_secs_f64(*base));
        let low = backoff_delay(n, 0.999_999);
        assert!(low >= Duration::from_secs_f64(base * 0.75), "{n}: {low:?}");
        assert!(low < Duration::from_secs_f64(*base));
    }
    assert_eq!(backoff_delay(u32::MAX, 0.0), Duration::from_secs(8));
}

#[test]
fn jitter_is_in_unit_interval_and_varies() {
    let xs: Vec<f64> = (0..1000).map(|_| crate::retry::policy_jitter()).collect();
    assert!(xs.iter().all(|x| (0.0..1.0).contains(x)));
    let mean = xs.iter().sum::<f64>() / xs.len() as f64;
    assert!((0.4..0.6).contains(&mean), "mean {mean}");
}

#[test]
fn loopback_hosts() {
    // `localhost` is trusted through the hosts file; this test assumes the
    // usual one (`127.0.0.1 localhost`), see `hosts_file_decides_localhost`.
    for h in [
        "localhost",
        "LOCALHOST",
        "127.0.0.1",
        "127.9.9.9",
        "[::1]",
        "::1",
        "[::ffff:127.0.0.1]",
    ] {
        assert!(is_loopback(h), "{h}");
    }
    for h in [
        "example.com",
        "10.0.0.1",
        "0.0.0.0",
        "[::2]",
        "localhost.example.com",
        // Resolved by ordinary DNS on many systems (issue 18, case 11).
        "api.localhost",
        "evil.localhost",
        "",
    ] {
        assert!(!is_loopback(h), "{h}");
    }
}

#[test]
fn hosts_file_decides_localhost() {
    use crate::connect::hosts_map_localhost_to_loopback as check;
    assert!(check("127.0.0.1 localhost\n::1 localhost ip6-localhost\n"));
    assert!(check("# comment\n127.0.1.1\tLocalHost.  # trailing\n"));
    // Missing, or also mapped elsewhere: not trusted.
    assert!(!check("127.0.0.1 vm\n"));
    assert!(!check(""));
    assert!(!check("127.0.0.1 localhost\n10.1.2.3 localhost\n"));
    assert!(!check("#127.0.0.1 localhost\n"));
}

#[test]
fn one_line_collapses_and_truncates() {
    assert_eq!(one_line("  a\n\n b\tc  ", 100), "a b c");
    assert_eq!(one_line("abcdef", 3), "abc...");
    assert_eq!(
        one_line("<html>\r\n<body>x</body>", 100),
        "<html> <body>x</body>"
    );
}

#[test]
fn query_encoding() {
    let r = Request::get("/v1/models")
        .with_query("limit", "20")
        .with_query("after id", "a&b=c/é");
    assert_eq!(
        r.path(),
        "/v1/models?limit=20&after%20id=a%26b%3Dc%2F%C3%A9"
    );
}

fn transport(base: &str) -> Transport {
    Transport::builder()
        .api_key("sk-test-SECRET")
        .base_url(base)
        .build()
        .unwrap()
}

#[test]
fn build_requires_credentials() {
    let e = Transport::builder().build().unwrap_err();
    assert!(e.is_builder());
    assert!(e.to_string().contains("ANTHROPIC_API_KEY"), "{e}");
    let e = Transport::builder()
        .from_env_with(|_| Some("   ".into()))
        .build()
        .unwrap_err();
    assert!(e.is_builder(), "blank env values are ignored");
}

#[test]
fn from_env_reads_the_three_variables() {
    let t = Transport::builder()
        .from_env_with(|k| match k {
            "ANTHROPIC_API_KEY" => Some("k".into()),
            "ANTHROPIC_BASE_URL" => Some("http://127.0.0.1:9/proxy/".into()),
            _ => None,
        })
        .build()
        .unwrap();
    assert_eq!(t.base_url(), "http://127.0.0.1:9/proxy");
    assert_eq!(
        t.url("/v1/messages").unwrap(),
        "http://127.0.0.1:9/proxy/v1/messages"
    );
}

#[test]
fn base_url_validation() {
    for bad in ["ftp://x", "not a url", "/relative", "https://x/?q=1"] {
        let e = Transport::builder()
            .api_key("k")
            .base_url(bad)
            .build()
            .unwrap_err();
        assert!(e.is_builder(), "{bad}");
        assert!(e.to_string().contains("base URL"), "{e}");
    }
}

#[test]
fn plain_http_credentials_refused_for_remote_hosts() {
    let e = Transport::builder()
        .api_key("k")
        .base_url("http://example.com")
        .build()
        .unwrap_err();
    assert!(e.is_builder());
    assert!(e.to_string().contains("plain http"), "{e}");
    assert!(e.to_string().contains("example.com"), "{e}");
    assert!(
        Transport::builder()
            .api_key("k")
            .base_url("http://example.com")
            .allow_insecure_credentials(true)
            .build()
            .is_ok()
    );
    assert!(
        Transport::builder()
            .api_key("k")
            .base_url("http://localhost:8080")
            .build()
            .is_ok()
    );
    assert!(
        Transport::builder()
            .api_key("k")
            .base_url("https://example.com")
            .build()
            .is_ok()
    );
}

#[test]
fn urls_relative_to_base_and_same_origin_only() {
    let t = transport("http://127.0.0.1:4000");
    assert_eq!(
        t.url("/v1/x?a=1").unwrap(),
        "http://127.0.0.1:4000/v1/x?a=1"
    );
    assert_eq!(
        t.url("http://127.0.0.1:4000/v1/messages/batches/b/results")
            .unwrap(),
        "http://127.0.0.1:4000/v1/messages/batches/b/results"
    );
    assert!(t.url("http://127.0.0.1:4001/v1").unwrap_err().is_builder());
    assert!(t.url("https://evil.example/v1").unwrap_err().is_builder());
    assert!(t.url("v1/messages").unwrap_err().is_builder());
}

#[test]
fn debug_redacts_secrets() {
    let b = Transport::builder()
        .api_key("sk-test-SECRET")
        .auth_token("tok-SECRET")
        .default_header("x-custom", "hdr-SECRET")
        .base_url("http://127.0.0.1:1");
    let s = format!("{b:?}");
    assert!(!s.contains("SECRET"), "{s}");
    assert!(s.contains("redacted"), "{s}");
    let t = b.build().unwrap();
    let s = format!("{t:?}");
    assert!(!s.contains("SECRET"), "{s}");
    assert!(s.contains("redacted"), "{s}");
    let r = Request::post("/v1/messages").with_body("body-SECRET");
    assert!(!format!("{r:?}").contains("SECRET"));
}

#[tokio::test]
async fn streaming_required_guard() {
    let t = transport("http://127.0.0.1:1");
    let big = || Request::post("/v1/messages").with_body("{}");
    // 21,334 tokens: 600.01 s expected, refused before anything is sent.
    let e = t
        .send(big().with_options(RequestOptions::new().max_tokens(21_334)))
        .await
        .unwrap_err();
    assert!(e.is_streaming_required(), "{e:?}");
    assert_eq!(e.attempts(), 0);
    assert!(e.to_string().contains("streaming is required"), "{e}");
    // At the limit, streaming, or with an explicit timeout: sent (and fails
    // to connect to port 1, which proves it was not refused by the guard).
    for opts in [
        RequestOptions::new().max_tokens(21_333),
        RequestOptions::new().max_tokens(64_000).streaming(true),
        RequestOptions::new()
            .max_tokens(64_000)
            .timeout(Duration::from_secs(3600)),
    ] {
        let e = t
            .send(big().with_options(opts.max_retries(0)))
            .await
            .unwrap_err();
        assert!(!e.is_streaming_required(), "{e:?}");
        assert!(e.is_connect(), "{e:?}");
    }
    // A client-level timeout set explicitly also disables it.
    let t = Transport::builder()
        .api_key("k")
        .base_url("http://127.0.0.1:1")
        .timeout(Duration::from_secs(3600))
        .max_retries(0)
        .build()
        .unwrap();
    let e = t
        .send(big().with_options(RequestOptions::new().max_tokens(64_000)))
        .await
        .unwrap_err();
    assert!(e.is_connect(), "{e:?}");
}

#[test]
fn gcra_allows_bursts_then_spaces_requests() {
    let g = crate::limit::gcra_schedule(3, Duration::from_secs(3), 6);
    let secs: Vec<u64> = g.iter().map(|d| d.as_secs()).collect();
    assert_eq!(secs, [0, 0, 0, 1, 2, 3]);
}

#[tokio::test(start_paused = true)]
async fn retry_layer_works_on_any_service() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    use tower::ServiceExt;

    let calls = Arc::new(AtomicU32::new(0));
    let c = calls.clone();
    let svc = tower::service_fn(move |req: http::Request<bytes::Bytes>| {
        let n = c.fetch_add(1, Ordering::SeqCst);
        async move {
            assert_eq!(req.body().as_ref(), b"payload");
            let status = if n < 2 { 503 } else { 200 };
            let mut resp = http::Response::new(());
            *resp.status_mut() = StatusCode::from_u16(status).unwrap();
            Ok::<_, crate::BoxError>(resp)
        }
    });
    let retry = crate::retry::Retry::new(svc, 2);
    let start = tokio::time::Instant::now();
    let resp = retry
        .clone()
        .oneshot(http::Request::new(bytes::Bytes::from_static(b"payload")))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.extensions().get::<crate::retry::Attempts>(),
        Some(&crate::retry::Attempts(3))
    );
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_millis(1125) && waited <= Duration::from_millis(1500),
        "{waited:?}"
    );

    // The per-request override wins over the layer's budget.
    calls.store(0, Ordering::SeqCst);
    let mut req = http::Request::new(bytes::Bytes::from_static(b"payload"));
    req.extensions_mut().insert(crate::retry::MaxRetries(0));
    let resp = retry.oneshot(req).await.unwrap();
    assert_eq!(resp.status(), 503);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}
