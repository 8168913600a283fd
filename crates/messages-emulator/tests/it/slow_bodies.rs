//! Request bodies that trickle in (issue 18, case 10): the body timeout
//! answers 408 and closes the connection, so slow clients cannot hold
//! connections. Raw TCP clients on a paused clock.

use std::time::Duration;

use messages_emulator::Emulator;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

/// Sends the head of a 1000-byte body and 10 bytes of it, then one more
/// byte every 5 s; returns everything the server sent until it closed.
async fn trickle(addr: std::net::SocketAddr) -> String {
    let mut conn = TcpStream::connect(addr).await.unwrap();
    let head = "POST /v1/messages HTTP/1.1\r\nhost: x\r\nx-api-key: k\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{\"model\":";
    conn.write_all(head.as_bytes()).await.unwrap();
    let (mut rd, mut wr) = conn.into_split();
    let writer = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(5)).await;
            if wr.write_all(b" ").await.is_err() {
                return;
            }
        }
    });
    let mut out = Vec::new();
    // Bounded so that a server that never answers fails the test.
    let read = tokio::time::timeout(Duration::from_secs(3600), rd.read_to_end(&mut out)).await;
    writer.abort();
    assert!(read.is_ok(), "the connection was still held after an hour");
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test(start_paused = true)]
async fn trickling_bodies_get_408_and_their_connections_closed() {
    let emu = Emulator::builder()
        .request_log(false)
        .request_body_timeout(Duration::from_secs(20))
        .start()
        .await
        .unwrap();
    let start = Instant::now();
    let clients: Vec<_> = (0..50)
        .map(|_| tokio::spawn(trickle(emu.local_addr())))
        .collect();
    for c in clients {
        let reply = c.await.unwrap();
        assert!(reply.starts_with("HTTP/1.1 408"), "{reply}");
        assert!(reply.contains("timeout_error"), "{reply}");
        assert!(
            reply.to_ascii_lowercase().contains("connection: close"),
            "{reply}"
        );
    }
    let took = start.elapsed();
    assert!(
        took >= Duration::from_secs(20) && took < Duration::from_secs(30),
        "{took:?}"
    );

    // The default is a minute.
    let emu = Emulator::builder()
        .request_log(false)
        .start()
        .await
        .unwrap();
    let start = Instant::now();
    let reply = trickle(emu.local_addr()).await;
    assert!(reply.starts_with("HTTP/1.1 408"), "{reply}");
    assert_eq!(
        messages_emulator::DEFAULT_BODY_TIMEOUT,
        Duration::from_secs(60)
    );
    assert!(start.elapsed() < Duration::from_secs(70));
}
