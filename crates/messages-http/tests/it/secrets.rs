use http::{HeaderName, HeaderValue, Uri};
use messages_http::{BoxService, Request, RequestOptions, Transport};
use tower::ServiceExt;

use crate::support::*;

const KEY: &str = "sk-ant-api03-SECRETKEY";
const TOKEN: &str = "SECRETTOKEN";
const BODY: &str = r#"{"messages":[{"role":"user","content":"SECRETPROMPT"}]}"#;

#[tokio::test(start_paused = true)]
async fn headers_sent_and_secrets_never_logged_or_printed() {
    let (_guard, out) = capture();
    let s = scripted(vec![
        reply(429, &error_json("rate_limit_error", "slow")).header("request-id", "req_a"),
        reply(200, "{}").header("request-id", "req_b"),
    ])
    .await;
    let t = Transport::builder()
        .api_key(KEY)
        .auth_token(TOKEN)
        .base_url(s.url())
        .beta("beta-one")
        .beta("beta-two")
        .default_header("x-team", "SECRETTEAM")
        .anthropic_version("2099-01-01")
        .user_agent("my-app/1.0")
        .build()
        .unwrap();
    let req = Request::post("/v1/messages")
        .with_body(BODY)
        .with_header(
            HeaderName::from_static("anthropic-beta"),
            HeaderValue::from_static("beta-three,beta-one"),
        )
        .with_options(RequestOptions::new().streaming(true));
    let resp = t.send(req).await.unwrap();
    assert_eq!(resp.attempts(), 2);
    let resp_dbg = format!("{resp:?}");
    resp.bytes().await.unwrap();

    let h = &s.seen()[1].headers;
    assert_eq!(h["x-api-key"], KEY);
    assert_eq!(h["authorization"], format!("Bearer {TOKEN}"));
    assert_eq!(h["anthropic-version"], "2099-01-01");
    assert_eq!(h["anthropic-beta"], "beta-one,beta-two,beta-three");
    assert_eq!(h["content-type"], "application/json");
    assert_eq!(h["user-agent"], "my-app/1.0");
    assert_eq!(h["x-team"], "SECRETTEAM");

    let log = out.lock().unwrap().clone();
    // The span and its fields are there...
    for want in [
        "span messages_http.request",
        "method=POST",
        "path=/v1/messages",
        "attempt=2",
        "status=200",
        "request_id=\"req_b\"",
        "latency_ms=",
        "retrying",
    ] {
        assert!(log.contains(want), "missing {want:?} in:\n{log}");
    }
    // ...and no secret or body anywhere.
    let printed = format!(
        "{log}\n{t:?}\n{resp_dbg}\n{:?}",
        Transport::builder().api_key(KEY).auth_token(TOKEN)
    );
    for secret in ["SECRET", KEY, TOKEN] {
        assert!(!printed.contains(secret), "{secret} leaked in:\n{printed}");
    }
}

#[tokio::test(start_paused = true)]
async fn errors_do_not_print_secrets() {
    let s = scripted(vec![reply(
        401,
        &error_json("authentication_error", "invalid x-api-key"),
    )])
    .await;
    let t = transport(&s.url()).api_key(KEY).build().unwrap();
    let e = t
        .send(Request::post("/v1/messages").with_body(BODY))
        .await
        .unwrap_err();
    let printed = format!("{e}\n{e:?}");
    assert!(!printed.contains("SECRET"), "{printed}");
    assert!(e.to_string().contains("authentication_error"));
}

#[tokio::test]
async fn credentials_refused_over_plain_http_even_after_a_layer_rewrites_the_url() {
    // A user layer that redirects every request to a non-loopback host. The
    // `.invalid` TLD never resolves, and the check runs before connecting.
    let redirect = tower::layer::layer_fn(|svc: BoxService| {
        svc.map_request(|mut req: http::Request<bytes::Bytes>| {
            *req.uri_mut() = Uri::from_static("http://api.example.invalid/v1/messages");
            req
        })
    });
    let s = scripted(vec![reply(200, "ok")]).await;
    let t = transport(&s.url()).layer(redirect).build().unwrap();
    let e = t
        .send(Request::post("/v1/messages").with_body("{}"))
        .await
        .unwrap_err();
    assert!(e.is_builder(), "{e:?}");
    assert_eq!(e.attempts(), 1, "not retried");
    assert!(e.to_string().contains("plain http"), "{e}");
}

#[tokio::test]
async fn user_layers_see_each_attempt() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let counting = tower::layer::layer_fn(move |svc: BoxService| {
        let c = c.clone();
        svc.map_request(move |req: http::Request<bytes::Bytes>| {
            c.fetch_add(1, Ordering::SeqCst);
            req
        })
    });
    let s = scripted(vec![
        reply(500, "").header("retry-after-ms", "1"),
        reply(200, "ok"),
    ])
    .await;
    let t = transport(&s.url()).layer(counting).build().unwrap();
    t.send(Request::get("/x")).await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}
