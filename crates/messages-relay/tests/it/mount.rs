//! The relay mounts in axum with `Router::route_service`, no glue.

use crate::support::*;

#[tokio::test]
async fn mounts_in_axum() {
    let env = env(|e| e, |r| r).await;
    let app = axum::Router::new()
        .route("/health", axum::routing::get(|| async { "ok" }))
        .route_service("/chat", env.relay.clone())
        .route_service("/chat/{*rest}", env.relay.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let res = send(
        addr,
        "POST",
        "/chat?format=simple",
        &[],
        chat_body("Via axum"),
    )
    .await;
    let id = stream_id(&res);
    let events = Events::new(res).rest().await;
    assert_eq!(json(events.last().unwrap())["done"], true);
    let res = send(
        addr,
        "GET",
        &format!("/chat/{id}"),
        &[("last-event-id", "1")],
        "",
    )
    .await;
    assert_eq!(res.status(), 200);
    server.abort();
}
