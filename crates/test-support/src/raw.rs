//! Hostile servers: raw HTTP/1.1 on a loopback `TcpListener`, for replies no
//! well-behaved server library would send (oversized, stalled, torn,
//! malformed).

use std::future::Future;
use std::sync::Arc;

use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};

/// Serves every connection with `reply(connection, request)` once the
/// request (its head and its `content-length` body) is read; returns the
/// base URL (`http://127.0.0.1:PORT`).
///
/// The server runs on tasks of the caller's runtime until it is dropped.
///
/// # Panics
///
/// If no loopback port can be bound.
pub async fn raw<F, Fut>(reply: F) -> String
where
    F: Fn(TcpStream, String) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let url = format!(
        "http://{}",
        listener.local_addr().expect("a bound listener's address")
    );
    let reply = Arc::new(reply);
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let reply = reply.clone();
            tokio::spawn(async move {
                let req = read_request(&mut conn).await;
                reply(conn, req).await;
            });
        }
    });
    url
}

/// Reads one request: its head and its `content-length` body, returned as
/// text (lossily decoded). A connection that closes early gives what was
/// read (empty if the head did not end).
pub async fn read_request(conn: &mut TcpStream) -> String {
    String::from_utf8_lossy(&read(conn).await.0).into_owned()
}

/// Reads one HTTP/1.1 message, a request or a response: its head and its
/// `content-length` body. `None` when the connection closes before the
/// message ends.
pub async fn read_message(conn: &mut TcpStream) -> Option<Vec<u8>> {
    let (buf, whole) = read(conn).await;
    whole.then_some(buf)
}

/// The message read, and whether it was read whole (empty when its head
/// did not end).
async fn read(conn: &mut TcpStream) -> (Vec<u8>, bool) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = conn.read(&mut chunk).await.unwrap_or(0);
        if n == 0 {
            return (Vec::new(), false);
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + len {
        let n = conn.read(&mut chunk).await.unwrap_or(0);
        if n == 0 {
            return (buf, false);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    (buf, true)
}
