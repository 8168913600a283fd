//! The Redis store: two relay instances sharing one `redis-server`
//! (started by the test on a free loopback port).

use std::net::SocketAddr;
use std::time::Duration;

use messages_emulator::{Emulator, EmulatorHandle};
use messages_relay::{BufferStore, RedisStore, Relay, StoreError};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::support::*;

use test_support::redis::Redis as RedisServer;

/// One relay instance on loopback, with its own connections to Redis.
struct Instance {
    addr: SocketAddr,
    relay: Relay,
    store: RedisStore,
    server: JoinHandle<()>,
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn instance(emu: &EmulatorHandle, redis: &RedisServer, batch: usize) -> Instance {
    instance_with(emu, redis, |r| r.batch(batch)).await
}

async fn instance_with(
    emu: &EmulatorHandle,
    redis: &RedisServer,
    config: impl FnOnce(messages_relay::RelayBuilder) -> messages_relay::RelayBuilder,
) -> Instance {
    let store = RedisStore::builder(redis.url())
        .prefix("test")
        .connect()
        .await
        .unwrap();
    let relay = config(
        Relay::builder(transport(emu))
            .policy(policy())
            .store(store.clone()),
    )
    .build();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn({
        let relay = relay.clone();
        async move {
            let _ = messages_relay::serve(listener, relay).await;
        }
    });
    Instance {
        addr,
        relay,
        store,
        server,
    }
}

fn triples(events: &[sse_core::Event]) -> Vec<(String, String, String)> {
    events
        .iter()
        .map(|e| (e.id().to_owned(), e.event().to_owned(), e.data().to_owned()))
        .collect()
}

async fn redis_conn(redis: &RedisServer) -> redis::aio::MultiplexedConnection {
    redis::Client::open(redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_stream_started_on_one_instance_resumes_on_another_from_every_point() {
    let redis = RedisServer::start();
    let emu = Emulator::builder()
        .token_delay(Duration::ZERO)
        .start()
        .await
        .unwrap();
    // One event per write: every event is a resume point.
    let one = instance(&emu, &redis, 1).await;
    let two = instance(&emu, &redis, 1).await;
    for format in ["anthropic", "ui-message-stream", "simple"] {
        emu.request_log().clear();
        let res = send(
            one.addr,
            "POST",
            &format!("/chat?format={format}"),
            &[],
            chat_body("Share me"),
        )
        .await;
        let id = stream_id(&res);
        let all = Events::new(res).rest().await;
        assert!(all.len() > 5, "{format}: {}", all.len());
        let mut points: Vec<Option<String>> = vec![None];
        points.extend(all.iter().map(|e| Some(e.id().to_owned())));
        for point in points {
            let (before, header) = match &point {
                None => (0, vec![]),
                Some(last) => {
                    let n = all.iter().rposition(|e| e.id() == last).unwrap() + 1;
                    (n, vec![("last-event-id", last.as_str())])
                }
            };
            let path = format!("/chat/{id}?format={format}");
            let res = send(two.addr, "GET", &path, &header, "").await;
            if before == all.len() {
                assert_eq!(res.status(), 204, "{format}: nothing left");
                continue;
            }
            let rest = Events::new(res).rest().await;
            let mut joined = all[..before].to_vec();
            joined.extend(rest);
            assert_eq!(
                triples(&joined),
                triples(&all),
                "{format} resumed on instance 2 after {point:?}"
            );
        }
        assert_eq!(
            emu.request_log().count("POST", "/v1/messages"),
            1,
            "{format}"
        );
    }
    assert_eq!(one.relay.counters().streams, 3);
    assert_eq!(two.relay.counters().streams, 0);
    assert!(two.relay.counters().resumes > 0);
}

#[tokio::test]
async fn a_reconnect_to_another_instance_mid_stream_continues_live() {
    let redis = RedisServer::start();
    let emu = Emulator::builder()
        .token_delay(Duration::from_millis(15))
        .start()
        .await
        .unwrap();
    let one = instance(&emu, &redis, 256).await;
    let two = instance(&emu, &redis, 256).await;
    let prompt = "Live across instances";
    let expect = reference(&emu, &upstream_request(prompt)).await;
    emu.request_log().clear();
    let res = send(
        one.addr,
        "POST",
        "/chat?format=simple",
        &[],
        chat_body(prompt),
    )
    .await;
    let id = stream_id(&res);
    let mut first = Events::new(res);
    let mut got = Vec::new();
    for _ in 0..4 {
        got.push(first.next().await.unwrap());
    }
    drop(first);
    let last = got.last().unwrap().id().to_owned();
    let res = send(
        two.addr,
        "GET",
        &format!("/chat/{id}?format=simple"),
        &[("last-event-id", &last)],
        "",
    )
    .await;
    let mut second = Events::new(res);
    // Instance 2 follows the stream live: its first events arrive while
    // the upstream request still runs on instance 1.
    got.push(second.next().await.unwrap());
    assert_eq!(one.relay.counters().active_streams, 1);
    got.extend(second.rest().await);
    let (done, texts) = got.split_last().unwrap();
    let text: String = texts
        .iter()
        .map(|e| json(e)["text"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(text, text_of(&expect));
    assert_eq!(json(done)["done"], true);
    assert_eq!(emu.request_log().count("POST", "/v1/messages"), 1);
    assert_eq!(emu.cancelled_streams(), 0);
    // Ids are dense and increasing across the two connections.
    let ids: Vec<u64> = got.iter().map(|e| e.id().parse().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
}

#[tokio::test]
async fn a_corrupt_entry_is_a_clear_error_not_a_panic() {
    let redis = RedisServer::start();
    let emu = Emulator::builder()
        .token_delay(Duration::ZERO)
        .start()
        .await
        .unwrap();
    let one = instance(&emu, &redis, 256).await;
    let res = send(
        one.addr,
        "POST",
        "/chat?format=simple",
        &[],
        chat_body("Hi"),
    )
    .await;
    let id = stream_id(&res);
    let all = Events::new(res).rest().await;
    // Overwrite event 2 with bytes of an unknown version.
    let key = one.store.key(&id);
    let mut conn = redis_conn(&redis).await;
    let removed: i64 = redis::cmd("XDEL")
        .arg(&key)
        .arg("2-0")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(removed, 1);
    // XADD cannot go back to 2-0, so rebuild the key with the bad entry.
    let entries: redis::Value = redis::cmd("XRANGE")
        .arg(&key)
        .arg("-")
        .arg("+")
        .query_async(&mut conn)
        .await
        .unwrap();
    let redis::Value::Array(entries) = entries else {
        panic!("{entries:?}")
    };
    let _: () = redis::cmd("DEL")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .unwrap();
    let mut rebuilt = Vec::new();
    for e in entries {
        let redis::Value::Array(mut p) = e else {
            panic!()
        };
        let fields = p.pop().unwrap();
        let redis::Value::BulkString(eid) = p.pop().unwrap() else {
            panic!()
        };
        rebuilt.push((String::from_utf8(eid).unwrap(), fields));
    }
    rebuilt.insert(2, ("2-0".to_owned(), redis::Value::Nil));
    for (eid, fields) in rebuilt {
        let mut cmd = redis::cmd("XADD");
        cmd.arg(&key).arg(&eid);
        match fields {
            redis::Value::Array(f) => {
                for v in f {
                    let redis::Value::BulkString(b) = v else {
                        panic!()
                    };
                    cmd.arg(b);
                }
            }
            _ => {
                cmd.arg("e").arg(&[9u8, 2, 10][..]);
            }
        }
        let _: String = cmd.query_async(&mut conn).await.unwrap();
    }
    // The store says which entry and what is wrong.
    // Entries before the bad one are served; reading at it fails.
    let before = one.store.read(&id, 0, 100).await.unwrap();
    assert_eq!(before.entries.len(), 1);
    assert!(!before.end);
    let err = one.store.read(&id, 1, 100).await.unwrap_err();
    assert!(matches!(err, StoreError::Corrupt(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "buffer store: corrupt entry: {key} 2-0: malformed stored entry at byte 0: \
             unknown version 9 (this relay reads version 1)"
        )
    );
    // Entries before it still read; a browser gets them, then an error event.
    let ok = one.store.read(&id, 2, 100).await.unwrap();
    assert_eq!(ok.entries.first().map(|e| e.id()), Some(3));
    assert!(ok.end);
    let res = send(
        one.addr,
        "GET",
        &format!("/chat/{id}?format=simple"),
        &[("last-event-id", "1")],
        "",
    )
    .await;
    let events = Events::new(res).rest().await;
    assert_eq!(events.len(), 1, "{events:?}");
    let e = json(&events[0]);
    assert_eq!(e["error"]["type"], "api_error", "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("2-0: malformed stored entry at byte 0: unknown version 9"),
        "{e}"
    );
    assert!(all.len() > 2);
}

#[tokio::test]
async fn streams_expire_after_the_keep_time_and_are_bounded() {
    let redis = RedisServer::start();
    let emu = Emulator::builder()
        .token_delay(Duration::ZERO)
        .start()
        .await
        .unwrap();
    let store = RedisStore::builder(redis.url())
        .prefix("bounded")
        .max_bytes(600)
        .connect()
        .await
        .unwrap();
    let relay = Relay::builder(transport(&emu))
        .policy(policy())
        .store(store.clone())
        .keep(Duration::from_millis(300))
        .build();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(messages_relay::serve(listener, relay));
    let res = send(
        addr,
        "POST",
        "/chat?format=simple",
        &[],
        chat_body("A reply too long for 600 bytes"),
    )
    .await;
    let id = stream_id(&res);
    let events = Events::new(res).rest().await;
    // The bound cut the reply with an error event, never silently.
    let last = json(events.last().unwrap());
    assert!(
        last["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("the stream's buffer is full")),
        "{last}"
    );
    let mut conn = redis_conn(&redis).await;
    let key = store.key(&id);
    let ttl: i64 = redis::cmd("PTTL")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(ttl > 0 && ttl <= 300, "{ttl}");
    let res = send(addr, "GET", &format!("/chat/{id}"), &[], "").await;
    assert_eq!(res.status(), 200, "kept for now");
    drop(res);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let res = send(addr, "GET", &format!("/chat/{id}"), &[], "").await;
    assert_eq!(res.status(), 404, "expired");
    let res = send(addr, "GET", "/chat/rs_never", &[], "").await;
    assert_eq!(res.status(), 404);
    // A stream another instance never created cannot be appended to.
    assert_eq!(
        store.finish("rs_never", Duration::from_secs(1)).await,
        Err(StoreError::NotFound)
    );
    server.abort();
}

#[tokio::test]
async fn a_stop_sent_to_another_instance_cancels_upstream() {
    let redis = RedisServer::start();
    let emu = Emulator::builder()
        .token_delay(Duration::from_millis(20))
        .start()
        .await
        .unwrap();
    let one = instance(&emu, &redis, 256).await;
    let two = instance(&emu, &redis, 256).await;
    let res = send(
        one.addr,
        "POST",
        "/chat?format=simple",
        &[],
        chat_body("Stop me"),
    )
    .await;
    let id = stream_id(&res);
    let mut events = Events::new(res);
    events.next().await.unwrap();
    let stop = send(two.addr, "POST", &format!("/chat/{id}/stop"), &[], "").await;
    assert_eq!(stop.status(), 204);
    let rest = events.rest().await;
    let last = json(rest.last().unwrap());
    assert_eq!(last["stopped"], true, "{last}");
    eventually("upstream is cancelled", || emu.cancelled_streams() == 1).await;
    assert_eq!(one.relay.counters().cancels, 1);
    // Unknown streams are still 404 through the store.
    let stop = send(two.addr, "POST", "/chat/rs_nope/stop", &[], "").await;
    assert_eq!(stop.status(), 404);
}

#[tokio::test]
async fn a_browser_on_another_instance_keeps_the_stream_past_the_grace_period() {
    let redis = RedisServer::start();
    let emu = Emulator::builder()
        .token_delay(Duration::from_millis(40))
        .start()
        .await
        .unwrap();
    let grace = |r: messages_relay::RelayBuilder| r.grace(Duration::from_millis(100));
    let one = instance_with(&emu, &redis, grace).await;
    let two = instance_with(&emu, &redis, grace).await;
    let prompt = "Move to the other instance";
    let expect = reference(&emu, &upstream_request(prompt)).await;
    let res = send(
        one.addr,
        "POST",
        "/chat?format=simple",
        &[],
        chat_body(prompt),
    )
    .await;
    let id = stream_id(&res);
    let mut first = Events::new(res);
    let mut got = vec![first.next().await.unwrap(), first.next().await.unwrap()];
    drop(first);
    let last = got.last().unwrap().id().to_owned();
    let res = send(
        two.addr,
        "GET",
        &format!("/chat/{id}?format=simple"),
        &[("last-event-id", &last)],
        "",
    )
    .await;
    // The reply takes over a second: ten grace periods of instance 1.
    got.extend(Events::new(res).rest().await);
    let (done, texts) = got.split_last().unwrap();
    assert_eq!(json(done)["done"], true, "{}", done.data());
    let text: String = texts
        .iter()
        .map(|e| json(e)["text"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(text, text_of(&expect));
    assert_eq!(emu.cancelled_streams(), 0);
    // A browser that leaves and comes back nowhere is still cancelled.
    let res = send(
        one.addr,
        "POST",
        "/chat?format=simple",
        &[],
        chat_body(prompt),
    )
    .await;
    let mut events = Events::new(res);
    events.next().await.unwrap();
    drop(events);
    eventually("upstream is cancelled", || emu.cancelled_streams() == 1).await;
    assert_eq!(one.relay.counters().cancels, 1);
}
