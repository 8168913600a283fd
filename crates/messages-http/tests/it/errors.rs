use bytes::Bytes;
use messages_http::{Request, RequestOptions};
use messages_types::error::ErrorType;

use crate::support::*;

#[tokio::test]
async fn json_error_envelope_is_typed() {
    let s = scripted(vec![
        reply(
            400,
            &error_json("invalid_request_error", "max_tokens: must be positive"),
        )
        .header("request-id", "req_hdr"),
    ])
    .await;
    let e = s.get_x().await.unwrap_err();
    assert!(e.is_api());
    assert_eq!(e.status().unwrap(), 400);
    let api = e.api_error().unwrap();
    assert_eq!(api.kind, ErrorType::InvalidRequest);
    assert_eq!(api.message, "max_tokens: must be positive");
    // The header wins over the body's id.
    assert_eq!(e.request_id(), Some("req_hdr"));
    assert_eq!(
        e.error_response().unwrap().request_id.as_deref(),
        Some("req_body")
    );
    assert_eq!(
        e.to_string(),
        "API error 400: invalid_request_error: max_tokens: must be positive (request id req_hdr)"
    );
}

#[tokio::test]
async fn body_request_id_used_without_header() {
    let s = scripted(vec![reply(
        404,
        &error_json("not_found_error", "no such model"),
    )])
    .await;
    let e = s.get_x().await.unwrap_err();
    assert_eq!(e.request_id(), Some("req_body"));
    assert!(e.to_string().contains("req_body"));
}

#[tokio::test]
async fn html_error_page_is_kept_as_an_excerpt() {
    let html = format!(
        "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>{}</body></html>",
        "x".repeat(10_000)
    );
    let s = scripted(vec![reply(502, &html).header("content-type", "text/html")]).await;
    let t = transport(&s.url()).max_retries(0).build().unwrap();
    let e = t.send(Request::get("/x")).await.unwrap_err();
    assert!(e.is_api() && !e.is_decode(), "{e:?}");
    let api = e.api_error().unwrap();
    assert_eq!(api.kind, ErrorType::Api);
    assert!(
        api.message
            .starts_with("HTTP 502 Bad Gateway: <html> <head><title>502 Bad Gateway"),
        "{}",
        api.message
    );
    assert!(
        api.message.len() < 300,
        "a short excerpt: {}",
        api.message.len()
    );
    assert!(!e.to_string().contains('\n'));
}

#[tokio::test]
async fn status_maps_to_error_type_for_empty_and_loose_bodies() {
    let s = scripted(vec![reply(529, "")]).await;
    let t = transport(&s.url()).max_retries(0).build().unwrap();
    let e = t.send(Request::get("/x")).await.unwrap_err();
    assert_eq!(e.api_error().unwrap().kind, ErrorType::Overloaded);
    assert_eq!(e.api_error().unwrap().message, "HTTP 529");

    // A body without the `"type":"error"` tag (some proxies) still parses.
    let s = scripted(vec![reply(
        401,
        r#"{"error":{"type":"authentication_error","message":"bad key"}}"#,
    )])
    .await;
    let t = transport(&s.url()).build().unwrap();
    let e = t.send(Request::get("/x")).await.unwrap_err();
    assert_eq!(e.api_error().unwrap().kind, ErrorType::Authentication);
    assert_eq!(e.api_error().unwrap().message, "bad key");

    // New error types are kept.
    let s = scripted(vec![reply(400, &error_json("brand_new_error", "hm"))]).await;
    let e = s.get_x().await.unwrap_err();
    assert_eq!(e.api_error().unwrap().kind.as_str(), "brand_new_error");
}

#[tokio::test]
async fn json_decoding_success_and_failure() {
    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Count {
        input_tokens: u64,
    }
    let s = scripted(vec![
        reply(200, r#"{"input_tokens": 42 }"#).header("request-id", "req_1"),
        reply(200, "{\"input_tokens\": \"many\"}").header("request-id", "req_2"),
    ])
    .await;
    let t = transport(&s.url()).build().unwrap();
    let r = t
        .send(Request::post("/v1/messages/count_tokens").with_body("{}"))
        .await
        .unwrap();
    assert_eq!(r.json::<Count>().await.unwrap(), Count { input_tokens: 42 });
    let r = t
        .send(Request::post("/v1/messages/count_tokens").with_body("{}"))
        .await
        .unwrap();
    let e = r.json::<Count>().await.unwrap_err();
    assert!(e.is_decode(), "{e:?}");
    let msg = format!("{:#}", anyhow::Error::new(e));
    assert!(
        msg.contains("line 1 column") && msg.contains("req_2"),
        "{msg}"
    );
}

#[tokio::test]
async fn body_is_a_stream_and_an_http_body() {
    use futures_util_shim::collect_stream;
    let s = serve(|_, _| async move {
        let (tx, body) = TestBody::channel();
        tokio::spawn(async move {
            for part in ["a", "bb", "ccc"] {
                tx.send(Ok(Bytes::from_static(part.as_bytes())))
                    .await
                    .unwrap();
            }
        });
        http::Response::new(body)
    })
    .await;
    let t = transport(&s.url()).build().unwrap();
    let r = t
        .send(Request::get("/s").with_options(RequestOptions::new().streaming(true)))
        .await
        .unwrap();
    let body = r.into_body();
    assert_send(&body);
    let all = collect_stream(body).await.unwrap();
    assert_eq!(all, "abbccc");

    let r = t.send(Request::get("/s")).await.unwrap();
    let collected = http_body_util::BodyExt::collect(r.into_body())
        .await
        .unwrap();
    assert_eq!(collected.to_bytes(), "abbccc");
}

mod futures_util_shim {
    use std::pin::Pin;

    use futures_core::Stream;

    /// Drains a stream with `poll_fn` (no futures-util in this crate).
    pub(crate) async fn collect_stream<S>(mut s: S) -> Result<String, messages_http::Error>
    where
        S: Stream<Item = Result<bytes::Bytes, messages_http::Error>> + Unpin,
    {
        let mut out = Vec::new();
        while let Some(chunk) = std::future::poll_fn(|cx| Pin::new(&mut s).poll_next(cx)).await {
            out.extend_from_slice(&chunk?);
        }
        Ok(String::from_utf8(out).unwrap())
    }
}

#[tokio::test]
async fn paths_and_queries_reach_the_server() {
    let s = scripted(vec![reply(200, "{}")]).await;
    let t = transport(&format!("{}/prefix/", s.url())).build().unwrap();
    let req = Request::get("/v1/messages/batches")
        .with_query("limit", "5")
        .with_query("after_id", "msgbatch_01 x");
    t.send(req).await.unwrap();
    assert_eq!(
        s.seen()[0].uri,
        "/prefix/v1/messages/batches?limit=5&after_id=msgbatch_01%20x"
    );
    let e = t
        .send(Request::get("https://other.example/v1"))
        .await
        .unwrap_err();
    assert!(e.is_builder(), "{e:?}");
    assert_eq!(s.count(), 1);
}
