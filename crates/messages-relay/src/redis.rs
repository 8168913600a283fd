//! [`RedisStore`]: a [`BufferStore`] in Redis, so that several relay
//! instances serve the same streams.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use redis::aio::{ConnectionManager, ConnectionManagerConfig, MultiplexedConnection};
use redis::{AsyncConnectionConfig, Value};

use crate::store::{Batch, BoxFuture, BufferStore, Entry, StoreError};

/// The id of the end marker (the largest stream id Redis accepts with a
/// sequence of 0): after every entry, whatever the entries' ids.
const END_ID: &str = "18446744073709551615-0";
/// The most idle blocking connections kept for reuse.
const POOL: usize = 64;

/// Appends an entry unless a stop was requested (final entries are always
/// appended) or the stream is gone. KEYS: the stream, its stop flag. ARGV:
/// the entry id, its encoding, the idle expiry in ms, whether it is final.
/// Returns 1 (appended), 0 (no such stream) or -1 (stop requested).
const APPEND: &str = r"
if ARGV[4] == '0' and redis.call('EXISTS', KEYS[2]) == 1 then return -1 end
if not redis.call('XADD', KEYS[1], 'NOMKSTREAM', ARGV[1], 'e', ARGV[2]) then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
";

/// A [`BufferStore`] in Redis (7.0 or later): relay instances that share
/// one Redis share their streams, so a browser that reconnects to another
/// instance replays the stream from Redis and follows it live, without a
/// second upstream request.
///
/// # Layout
///
/// One Redis stream per relay stream, at `PREFIX:STREAM_ID` (prefix
/// `relay` by default):
///
/// - `0-1 v 1`: the header, written by [`create`](BufferStore::create)
///   (so a stream without events exists);
/// - `N-0 e BYTES`: event `N` (ids 1, 2, 3...), `BYTES` its
///   [encoding](crate::codec) (about the size of the upstream event's data);
/// - `18446744073709551615-0 end 1`: the end marker, written by
///   [`finish`](BufferStore::finish), which also sets the key to expire
///   after the relay's keep time ([`RelayBuilder::keep`](crate::RelayBuilder::keep)).
///
/// While a stream runs its key expires [`idle_expiry`](RedisStoreBuilder::idle_expiry)
/// after its last event (10 minutes by default), so the streams of a relay
/// that died mid-reply do not stay forever.
///
/// # Bounds and costs
///
/// The bytes of one stream are capped by [`max_bytes`](RedisStoreBuilder::max_bytes)
/// (4 MiB by default, counted as encoded bytes by the instance that
/// appends). An append is one round trip (`XADD` and `PEXPIRE` pipelined).
/// A read is one round trip when events are waiting; otherwise the reader
/// waits with `XREAD BLOCK` on a connection of its own, taken from a pool
/// (at most 64 idle ones are kept), so each browser connection waiting for
/// events holds one Redis connection. Dropping a read drops its connection.
///
/// # Across instances
///
/// Reading, resuming and the end of a stream work from any instance. The
/// upstream request runs on the instance that started the stream:
///
/// - `POST /chat/{id}/stop` sent to another instance sets `PREFIX:ID:stop`;
///   the producing instance sees it with its next event's append (the same
///   round trip) and cancels upstream then.
/// - A browser reading through another instance keeps the stream alive:
///   its reads refresh `PREFIX:ID:r` (expiring after twice the wait of one
///   blocking read, 10 s), and the producing instance, when its grace
///   period ends with none of its own browsers attached, waits another
///   grace period while that key exists. After such a browser leaves,
///   upstream is cancelled within the grace period plus 10 s.
///
/// Cloning is cheap and shares the connections.
#[derive(Clone)]
pub struct RedisStore {
    inner: Arc<Inner>,
}

struct Inner {
    client: redis::Client,
    conn: ConnectionManager,
    prefix: String,
    max_bytes: usize,
    idle_expiry: Duration,
    block: Duration,
    idle: Mutex<Vec<MultiplexedConnection>>,
    /// Encoded bytes appended by this instance, per stream it produces.
    sizes: Mutex<HashMap<Box<str>, usize>>,
    append: redis::Script,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.inner.prefix)
            .field("max_bytes", &self.inner.max_bytes)
            .field("idle_expiry", &self.inner.idle_expiry)
            .finish_non_exhaustive()
    }
}

/// Builds a [`RedisStore`]; from [`RedisStore::builder`].
#[derive(Debug, Clone)]
#[must_use]
pub struct RedisStoreBuilder {
    url: String,
    prefix: String,
    max_bytes: usize,
    idle_expiry: Duration,
    block: Duration,
}

impl RedisStoreBuilder {
    /// The prefix of every key (`PREFIX:STREAM_ID`). Default `relay`.
    pub fn prefix(mut self, prefix: impl Into<String>) -> RedisStoreBuilder {
        self.prefix = prefix.into();
        self
    }

    /// The most bytes (encoded) kept for one stream; past it appends fail
    /// with [`StoreError::Full`]. Default 4 MiB.
    pub fn max_bytes(mut self, max_bytes: usize) -> RedisStoreBuilder {
        self.max_bytes = max_bytes;
        self
    }

    /// How long a running stream is kept after its last event (the
    /// retention of an ended stream is the relay's keep time). Default 10
    /// minutes.
    pub fn idle_expiry(mut self, ttl: Duration) -> RedisStoreBuilder {
        self.idle_expiry = ttl;
        self
    }

    /// Connects.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] for a bad URL or an unreachable Redis.
    pub async fn connect(self) -> Result<RedisStore, StoreError> {
        let url = &self.url;
        let client = redis::Client::open(url.as_str())
            .map_err(|e| StoreError::Backend(format!("redis URL {url:?}: {e}")))?;
        let config = ConnectionManagerConfig::new()
            .set_number_of_retries(4)
            .set_max_delay(Duration::from_secs(1))
            .set_connection_timeout(Some(Duration::from_secs(3)))
            .set_response_timeout(Some(Duration::from_secs(10)));
        let conn = client
            .get_connection_manager_with_config(config)
            .await
            .map_err(|e| StoreError::Backend(format!("connecting to {url}: {e}")))?;
        Ok(RedisStore {
            inner: Arc::new(Inner {
                client,
                conn,
                prefix: self.prefix,
                max_bytes: self.max_bytes,
                idle_expiry: self.idle_expiry,
                block: self.block,
                idle: Mutex::new(Vec::new()),
                sizes: Mutex::new(HashMap::new()),
                append: redis::Script::new(APPEND),
            }),
        })
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn backend(what: &str, e: &redis::RedisError) -> StoreError {
    StoreError::Backend(format!("redis {what}: {e}"))
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

impl RedisStore {
    /// A builder for a store at `url` (`redis://HOST:PORT/DB`).
    pub fn builder(url: impl Into<String>) -> RedisStoreBuilder {
        RedisStoreBuilder {
            url: url.into(),
            prefix: "relay".to_owned(),
            max_bytes: 4 << 20,
            idle_expiry: Duration::from_secs(600),
            block: Duration::from_secs(5),
        }
    }

    /// Connects to `url` with the defaults (see [`RedisStore::builder`]).
    ///
    /// # Errors
    ///
    /// As [`RedisStoreBuilder::connect`].
    pub async fn connect(url: impl Into<String>) -> Result<RedisStore, StoreError> {
        RedisStore::builder(url).connect().await
    }

    /// The Redis key of `stream`.
    pub fn key(&self, stream: &str) -> String {
        format!("{}:{stream}", self.inner.prefix)
    }
}

impl Inner {
    async fn blocking_conn(&self) -> Result<MultiplexedConnection, StoreError> {
        if let Some(c) = lock(&self.idle).pop() {
            return Ok(c);
        }
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(3)))
            .set_response_timeout(Some(self.block + Duration::from_secs(10)));
        self.client
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .map_err(|e| backend("connect", &e))
    }

    fn give_back(&self, conn: MultiplexedConnection) {
        let mut idle = lock(&self.idle);
        if idle.len() < POOL {
            idle.push(conn);
        }
    }

    async fn read(
        &self,
        key: String,
        after: u64,
        max: usize,
        elsewhere: bool,
    ) -> Result<Batch, StoreError> {
        // COUNT max + 1: the end marker comes after the last entry.
        let count = max.clamp(1, 1 << 30) + 1;
        loop {
            let mut conn = self.conn.clone();
            let mut pipe = redis::pipe();
            if elsewhere {
                // A reader of a stream produced by another instance says
                // it is there (see `read_elsewhere`).
                pipe.cmd("SET")
                    .arg(format!("{key}:r"))
                    .arg(1)
                    .arg("PX")
                    .arg(millis(self.block * 2))
                    .ignore();
            }
            let (range, exists): (Value, i64) = pipe
                .cmd("XRANGE")
                .arg(&key)
                .arg(format!("{}-0", after.saturating_add(1)))
                .arg("+")
                .arg("COUNT")
                .arg(count)
                .cmd("EXISTS")
                .arg(&key)
                .query_async(&mut conn)
                .await
                .map_err(|e| backend("XRANGE", &e))?;
            if exists == 0 {
                return Err(StoreError::NotFound);
            }
            let batch = parse_batch(&key, &range, max)?;
            if !batch.entries.is_empty() || batch.end {
                return Ok(batch);
            }
            // Nothing yet: wait on a connection of our own. If this future
            // is dropped here, the connection (with its pending XREAD) is
            // dropped with it, never reused.
            let mut blocking = self.blocking_conn().await?;
            let reply: Value = redis::cmd("XREAD")
                .arg("COUNT")
                .arg(count)
                .arg("BLOCK")
                .arg(millis(self.block))
                .arg("STREAMS")
                .arg(&key)
                // Exclusive: after `after-0`, and after the header `0-1`.
                .arg(format!("{after}-1"))
                .query_async(&mut blocking)
                .await
                .map_err(|e| backend("XREAD", &e))?;
            self.give_back(blocking);
            let entries = match reply {
                Value::Nil => continue,
                // [[key, entries]]
                Value::Array(mut streams) if streams.len() == 1 => match streams.pop() {
                    Some(Value::Array(mut pair)) if pair.len() == 2 => pair.pop(),
                    _ => None,
                },
                // RESP3: {key: entries}
                Value::Map(mut streams) if streams.len() == 1 => streams.pop().map(|(_, v)| v),
                _ => None,
            };
            let Some(entries) = entries else {
                return Err(StoreError::Backend(format!(
                    "redis XREAD on {key}: an unexpected reply"
                )));
            };
            let batch = parse_batch(&key, &entries, max)?;
            if !batch.entries.is_empty() || batch.end {
                return Ok(batch);
            }
        }
    }
}

fn bulk(v: &Value) -> Option<&[u8]> {
    match v {
        Value::BulkString(b) => Some(b),
        Value::SimpleString(s) => Some(s.as_bytes()),
        _ => None,
    }
}

/// Turns an `XRANGE` / `XREAD` list of `[id, [field, value, ...]]` into a
/// batch of at most `max` entries (and the end marker).
fn parse_batch(key: &str, reply: &Value, max: usize) -> Result<Batch, StoreError> {
    let corrupt = |id: &str, what: String| StoreError::Corrupt(format!("{key} {id}: {what}"));
    let Value::Array(items) = reply else {
        return Err(corrupt("", "the reply is not a list of entries".to_owned()));
    };
    let mut out = Batch::default();
    for item in items {
        let parts = match item {
            Value::Array(p) if p.len() == 2 => p,
            _ => return Err(corrupt("", "an entry is not [id, fields]".to_owned())),
        };
        let id = bulk(&parts[0])
            .and_then(|b| std::str::from_utf8(b).ok())
            .ok_or_else(|| corrupt("", "an entry id is not text".to_owned()))?;
        if id == END_ID {
            out.end = true;
            break;
        }
        if out.entries.len() == max.max(1) {
            break;
        }
        let Value::Array(fields) = &parts[1] else {
            return Err(corrupt(id, "the fields are not a list".to_owned()));
        };
        let (Some(name), Some(value)) =
            (fields.first().and_then(bulk), fields.get(1).and_then(bulk))
        else {
            return Err(corrupt(id, "no field".to_owned()));
        };
        if name == b"v" {
            continue;
        }
        if name != b"e" {
            return Err(corrupt(
                id,
                format!(
                    "unknown field {:?} (expected e)",
                    String::from_utf8_lossy(name)
                ),
            ));
        }
        let entry = match Entry::decode(Bytes::copy_from_slice(value)) {
            Ok(entry) => entry,
            // The entries before a bad one are served; the next read fails.
            Err(_) if !out.entries.is_empty() => break,
            Err(e) => return Err(corrupt(id, e.to_string())),
        };
        let expected = id.strip_suffix("-0").and_then(|n| n.parse::<u64>().ok());
        if expected != Some(entry.id()) {
            return Err(corrupt(
                id,
                format!("the entry inside has id {}", entry.id()),
            ));
        }
        out.entries.push(entry);
    }
    Ok(out)
}

impl BufferStore for RedisStore {
    fn create(&self, stream: &str) -> BoxFuture<'static, Result<(), StoreError>> {
        let inner = Arc::clone(&self.inner);
        let key = self.key(stream);
        lock(&inner.sizes).insert(stream.into(), 0);
        Box::pin(async move {
            let mut conn = inner.conn.clone();
            redis::pipe()
                .atomic()
                .cmd("DEL")
                .arg(&key)
                .ignore()
                .cmd("XADD")
                .arg(&key)
                .arg("0-1")
                .arg("v")
                .arg(u32::from(crate::codec::ENTRY_VERSION))
                .ignore()
                .cmd("PEXPIRE")
                .arg(&key)
                .arg(millis(inner.idle_expiry))
                .ignore()
                .query_async::<()>(&mut conn)
                .await
                .map_err(|e| backend("create", &e))
        })
    }

    fn append(&self, stream: &str, entry: Entry) -> BoxFuture<'static, Result<(), StoreError>> {
        let inner = Arc::clone(&self.inner);
        let key = self.key(stream);
        let bytes = entry.encode();
        {
            let mut sizes = lock(&inner.sizes);
            let used = sizes.entry(stream.into()).or_insert(0);
            if *used + bytes.len() > inner.max_bytes && !entry.is_last() {
                return Box::pin(std::future::ready(Err(StoreError::Full)));
            }
            *used += bytes.len();
        }
        let last = if entry.is_last() { "1" } else { "0" };
        Box::pin(async move {
            let mut conn = inner.conn.clone();
            let added: i64 = inner
                .append
                .key(&key)
                .key(format!("{key}:stop"))
                .arg(format!("{}-0", entry.id()))
                .arg(bytes.as_ref())
                .arg(millis(inner.idle_expiry))
                .arg(last)
                .invoke_async(&mut conn)
                .await
                .map_err(|e| backend("append", &e))?;
            match added {
                1 => Ok(()),
                -1 => Err(StoreError::Stopped),
                _ => Err(StoreError::NotFound),
            }
        })
    }

    fn finish(&self, stream: &str, keep: Duration) -> BoxFuture<'static, Result<(), StoreError>> {
        let inner = Arc::clone(&self.inner);
        let key = self.key(stream);
        lock(&inner.sizes).remove(stream);
        Box::pin(async move {
            let mut conn = inner.conn.clone();
            let (added,): (Value,) = redis::pipe()
                .cmd("XADD")
                .arg(&key)
                .arg("NOMKSTREAM")
                .arg(END_ID)
                .arg("end")
                .arg(1)
                .cmd("PEXPIRE")
                .arg(&key)
                .arg(millis(keep))
                .ignore()
                .query_async(&mut conn)
                .await
                .map_err(|e| backend("finish", &e))?;
            match added {
                Value::Nil => Err(StoreError::NotFound),
                _ => Ok(()),
            }
        })
    }

    fn read(
        &self,
        stream: &str,
        after: u64,
        max: usize,
    ) -> BoxFuture<'static, Result<Batch, StoreError>> {
        let inner = Arc::clone(&self.inner);
        let key = self.key(stream);
        let elsewhere = !lock(&inner.sizes).contains_key(stream);
        Box::pin(async move { inner.read(key, after, max, elsewhere).await })
    }

    fn stop(&self, stream: &str) -> BoxFuture<'static, Result<bool, StoreError>> {
        let inner = Arc::clone(&self.inner);
        let key = self.key(stream);
        Box::pin(async move {
            let mut conn = inner.conn.clone();
            let (exists,): (i64,) = redis::pipe()
                .cmd("EXISTS")
                .arg(&key)
                .cmd("SET")
                .arg(format!("{key}:stop"))
                .arg(1)
                .arg("PX")
                .arg(millis(inner.idle_expiry))
                .ignore()
                .query_async(&mut conn)
                .await
                .map_err(|e| backend("stop", &e))?;
            if exists == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(true)
        })
    }

    fn read_elsewhere(&self, stream: &str) -> BoxFuture<'static, bool> {
        let inner = Arc::clone(&self.inner);
        let key = format!("{}:r", self.key(stream));
        Box::pin(async move {
            let mut conn = inner.conn.clone();
            let n: redis::RedisResult<i64> =
                redis::cmd("EXISTS").arg(&key).query_async(&mut conn).await;
            // When Redis cannot say, keep the stream for another grace
            // period (its appends fail too while Redis is away, which
            // ends it).
            n.map_or(true, |n| n > 0)
        })
    }
}
