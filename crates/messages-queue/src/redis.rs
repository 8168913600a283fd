//! [`RedisQueue`]: the queue on Redis Streams.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use messages_types::{BatchResult, BatchResultLine};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Script, Value};

use crate::error::{Error, Kind, Result};
use crate::job::{
    CallbackState, DeadLetter, Delivery, Job, JobInfo, JobState, Lane, Status, now_ms,
};
use crate::queue::{BatchGroup, BoxFuture, Headroom, Queue, QueueConfig, RateLimit};
use crate::stats::{Recorded, Stats, cache_writes, error_kind};

/// The consumer group every worker joins.
const GROUP: &str = "workers";

/// The default key prefix. The braces are a Redis Cluster hash tag: every
/// key of one queue lives on one node, which the Lua scripts need.
pub const DEFAULT_PREFIX: &str = "{msgs}";

// Shared by the scripts: moves one job between the per-lane state counters.
const COUNTS_FN: &str = r#"
local function counts(p, lane, from, to)
  if from == to then return end
  if from then redis.call('HINCRBY', p..':counts', lane..':'..from, -1) end
  redis.call('HINCRBY', p..':counts', lane..':'..to, 1)
end
"#;

const ENQUEUE: &str = r#"
local p, id, lane, job, now, cb, routed = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local jk = p..':job:'..id
if redis.call('EXISTS', jk) == 1 then return 0 end
local eid = ''
if routed == '1' then
  redis.call('RPUSH', p..':batch:pending', id)
else
  eid = redis.call('XADD', p..':lane:'..lane, '*', 'id', id)
end
redis.call('HSET', jk, 'job', job, 'lane', lane, 'state', 'queued', 'deliveries', 0,
  'enqueued_ms', now, 'entry', eid, 'has_callback', cb, 'callback', '{}', 'routed', routed)
counts(p, lane, false, 'queued')
return 1
"#;

// Reclaims expired leases (XAUTOCLAIM, when ARGV[6] is '1': it scans the
// whole pending list, so callers ask for it only now and then), then reads
// new entries (XREADGROUP), interactive lane first; counts a delivery per
// job and moves jobs over the limit to the dead letters, atomically.
const TAKE: &str = r#"
local p, consumer, max, vis, maxd, reclaim = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5]), ARGV[6]
local out = {}
local function drop(stream, eid)
  redis.call('XACK', stream, 'workers', eid)
  redis.call('XDEL', stream, eid)
end
local function handle(lane, stream, entries)
  for _, e in ipairs(entries) do
    local eid, f, id = e[1], e[2], nil
    if f then for i = 1, #f, 2 do if f[i] == 'id' then id = f[i + 1] end end end
    local jk = id and (p..':job:'..id)
    local st = jk and redis.call('HGET', jk, 'state')
    if not st or st == 'dead' then
      drop(stream, eid)
    else
      local n = redis.call('HINCRBY', jk, 'deliveries', 1)
      if st ~= 'done' and n > maxd then
        local err = redis.call('HGET', jk, 'last_error') or 'no error recorded (the worker stopped or timed out)'
        local did = redis.call('XADD', p..':dead', '*', 'id', id, 'lane', lane, 'deliveries', n, 'error', err)
        redis.call('HSET', jk, 'state', 'dead', 'dead_entry', did)
        counts(p, lane, st, 'dead')
        drop(stream, eid)
      else
        if st == 'queued' then
          redis.call('HSET', jk, 'state', 'running')
          counts(p, lane, 'queued', 'running')
        end
        out[#out + 1] = {eid, redis.call('HGET', jk, 'job'), n, st == 'done' and 1 or 0}
      end
    end
  end
end
for _, lane in ipairs({'interactive', 'background'}) do
  local stream = p..':lane:'..lane
  local cursor = '0-0'
  while reclaim == '1' and #out < max do
    local r = redis.call('XAUTOCLAIM', stream, 'workers', consumer, vis, cursor, 'COUNT', max - #out)
    handle(lane, stream, r[2])
    cursor = r[1]
    if cursor == '0-0' then break end
  end
  if #out < max then
    local r = redis.call('XREADGROUP', 'GROUP', 'workers', consumer, 'COUNT', max - #out, 'STREAMS', stream, '>')
    if r then handle(lane, stream, r[1][2]) end
  end
end
return out
"#;

// First write wins: SET NX decides, and only the winner moves the state
// and adds to the totals of `stats` (outcome, error type, and the usage of
// a model on its route: ARGV[9..13] are input, output, 5 minute and 1 hour
// cache writes, cache reads). With ARGV[14] (lane stream) and ARGV[15]
// (entry id), the delivery is acknowledged too, won or not
// (`store_and_ack`).
const STORE: &str = r#"
local p, id, result, now, minute = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local function ack()
  if ARGV[15] then
    redis.call('XACK', ARGV[14], 'workers', ARGV[15])
    redis.call('XDEL', ARGV[14], ARGV[15])
  end
end
if not redis.call('SET', p..':result:'..id, result, 'NX') then ack() return 0 end
local jk = p..':job:'..id
local st, lane, cb, routed = unpack(redis.call('HMGET', jk, 'state', 'lane', 'has_callback', 'routed'))
if st and lane then counts(p, lane, st, 'done') end
local sk = p..':stats'
redis.call('HINCRBY', sk, 'o:'..ARGV[6], 1)
if ARGV[7] ~= '' then redis.call('HINCRBY', sk, 'e:'..ARGV[7], 1) end
if ARGV[8] ~= '' then
  local u = 'u:'..(routed == '1' and 'batch' or 'std')..':'..ARGV[8]..':'
  redis.call('HINCRBY', sk, u..'n', 1)
  for i, f in ipairs({'in', 'out', 'w5', 'w1', 'rd'}) do
    local v = tonumber(ARGV[8 + i])
    if v and v > 0 then redis.call('HINCRBY', sk, u..f, v) end
  end
end
ack()
local cbs = '{}'
if cb == '1' then cbs = '{"status":"pending","attempts":0}' end
redis.call('HSET', jk, 'state', 'done', 'done_ms', now, 'callback', cbs)
redis.call('XADD', p..':results', '*', 'id', id)
redis.call('HINCRBY', p..':tput', minute, 1)
return 1
"#;

const REDRIVE: &str = r#"
local p, id = ARGV[1], ARGV[2]
local jk = p..':job:'..id
if redis.call('HGET', jk, 'state') ~= 'dead' then return 0 end
local lane, did = unpack(redis.call('HMGET', jk, 'lane', 'dead_entry'))
if did then redis.call('XDEL', p..':dead', did) end
local eid = redis.call('XADD', p..':lane:'..lane, '*', 'id', id)
redis.call('HSET', jk, 'state', 'queued', 'deliveries', 0, 'entry', eid)
redis.call('HDEL', jk, 'last_error', 'dead_entry')
counts(p, lane, 'dead', 'queued')
return 1
"#;

// Two token buckets (requests, tokens) refilled continuously, holding one
// second of the per-minute rate; returns 0 when granted, else the wait in
// milliseconds. Bucket state lives in Redis, so the limit is the fleet's.
const ACQUIRE: &str = r#"
local p, rpm, tpm, need = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local pause = tonumber(redis.call('GET', p..':rl:pause') or '0')
if pause > now then return pause - now end
local function level(key, rate, n)
  if rate <= 0 then return 0, 0 end
  local cap = math.max(rate / 60, n)
  local v = redis.call('HMGET', key, 'level', 'ts')
  local lvl, ts = tonumber(v[1]) or cap, tonumber(v[2]) or now
  lvl = math.min(cap, lvl + (now - ts) * rate / 60000)
  if lvl >= n then return 0, lvl end
  return math.ceil((n - lvl) * 60000 / rate), lvl
end
local w1, l1 = level(p..':rl:req', rpm, 1)
local w2, l2 = level(p..':rl:tok', tpm, need)
local w = math.max(w1, w2)
if w > 0 then return w end
if rpm > 0 then redis.call('HSET', p..':rl:req', 'level', tostring(l1 - 1), 'ts', now) end
if tpm > 0 then redis.call('HSET', p..':rl:tok', 'level', tostring(l2 - need), 'ts', now) end
return 0
"#;

const LEAD: &str = r#"
local key, name, ttl = ARGV[1]..':coordinator', ARGV[2], ARGV[3]
local cur = redis.call('GET', key)
if cur and cur ~= name then return 0 end
redis.call('SET', key, name, 'PX', ttl)
return 1
"#;

// Moves routed jobs into a new group: {group id, job JSON...}.
const FORM: &str = r#"
local p, max = ARGV[1], tonumber(ARGV[2])
local ids = redis.call('LRANGE', p..':batch:pending', 0, max - 1)
if #ids == 0 then return {} end
redis.call('LTRIM', p..':batch:pending', #ids, -1)
local gid = tostring(redis.call('INCR', p..':batch:seq'))
redis.call('HSET', p..':batch:group:'..gid, 'ids', cjson.encode(ids), 'batch_ids', '[]')
redis.call('RPUSH', p..':batch:open', gid)
local out = {gid}
for _, id in ipairs(ids) do out[#out + 1] = redis.call('HGET', p..':job:'..id, 'job') end
return out
"#;

const PAUSE: &str = r#"
local p, ms = ARGV[1], tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local cur = tonumber(redis.call('GET', p..':rl:pause') or '0')
if now + ms > cur then redis.call('SET', p..':rl:pause', now + ms, 'PX', ms) end
return 0
"#;

/// HGETALL counts, ZCOUNT workers, HMGET tput, HMGET headroom.
type StatusReply = (
    HashMap<String, i64>,
    u64,
    Vec<Option<u64>>,
    Vec<Option<u64>>,
);

struct Scripts {
    enqueue: Script,
    take: Script,
    store: Script,
    redrive: Script,
    acquire: Script,
    pause: Script,
    lead: Script,
    form: Script,
}

impl Scripts {
    fn new() -> Scripts {
        let with_counts = |body: &str| Script::new(&format!("{COUNTS_FN}{body}"));
        Scripts {
            enqueue: with_counts(ENQUEUE),
            take: with_counts(TAKE),
            store: with_counts(STORE),
            redrive: with_counts(REDRIVE),
            acquire: Script::new(ACQUIRE),
            pause: Script::new(PAUSE),
            lead: Script::new(LEAD),
            form: Script::new(FORM),
        }
    }
}

/// The queue on Redis Streams, shared by workers on any number of machines.
///
/// One stream per [`Lane`] (`PREFIX:lane:interactive`,
/// `PREFIX:lane:background`) read by the consumer group `workers`; a hash
/// per job (`PREFIX:job:ID`); results as strings written with `SET NX`
/// (`PREFIX:result:ID`) and listed by a stream (`PREFIX:results`); the dead
/// letters as a stream (`PREFIX:dead`). Each state change is one Lua script
/// or one `MULTI`, so a worker killed at any point leaves no half-done
/// change. See the crate docs for the guarantees and the Redis settings they
/// need.
///
/// Round trips: a worker's job without callback costs about two (the take
/// script, usually one per job, and the store-and-acknowledge script);
/// with no rate limit the fleet's pause is read at most every 50 ms per
/// process, so a pause set elsewhere is seen up to 50 ms late.
///
/// The connection is a redis-rs `ConnectionManager`: cheap to clone (one
/// multiplexed connection shared by clones), reconnecting by itself when
/// Redis restarts. Operations during an outage fail with
/// [`Error::is_redis`]; workers retry them.
#[derive(Clone)]
pub struct RedisQueue {
    conn: ConnectionManager,
    prefix: String,
    config: QueueConfig,
    scripts: std::sync::Arc<Scripts>,
    /// When this process looks for expired leases next (`None`: now).
    next_reclaim: std::sync::Arc<Mutex<Option<Instant>>>,
    /// The fleet's pause as last read: (read at, paused until).
    pause_seen: std::sync::Arc<Mutex<Option<(Instant, Instant)>>>,
}

/// How long a read of the fleet's pause is reused by an unlimited
/// [`Queue::acquire`]: a pause set by another process is seen this late at
/// most, and one set by this process at once.
const PAUSE_FRESH: Duration = Duration::from_millis(50);

impl std::fmt::Debug for RedisQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisQueue")
            .field("prefix", &self.prefix)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl RedisQueue {
    /// Connects to `url` (`redis://HOST:PORT/DB`) with [`DEFAULT_PREFIX`],
    /// and creates the lanes' streams and consumer group if missing.
    ///
    /// # Errors
    ///
    /// [`Error::is_input`] for a bad URL, [`Error::is_redis`] when Redis
    /// cannot be reached.
    pub async fn connect(url: &str, config: QueueConfig) -> Result<RedisQueue> {
        RedisQueue::connect_with_prefix(url, DEFAULT_PREFIX, config).await
    }

    /// As [`connect`](RedisQueue::connect), with every key under `prefix`
    /// (several independent queues in one Redis).
    ///
    /// # Errors
    ///
    /// As [`connect`](RedisQueue::connect).
    pub async fn connect_with_prefix(
        url: &str,
        prefix: &str,
        config: QueueConfig,
    ) -> Result<RedisQueue> {
        let client = redis::Client::open(url)
            .map_err(|e| Error::input(format!("redis URL {url:?}: {e}")).with_source(e))?;
        let cm_config = ConnectionManagerConfig::new()
            .set_number_of_retries(8)
            .set_max_delay(Duration::from_secs(2))
            .set_connection_timeout(Some(Duration::from_secs(3)))
            .set_response_timeout(Some(Duration::from_secs(10)));
        let conn = client
            .get_connection_manager_with_config(cm_config)
            .await
            .map_err(|e| Error::redis(&format!("connecting to {url}"), e))?;
        let queue = RedisQueue {
            conn,
            prefix: prefix.to_owned(),
            config,
            scripts: std::sync::Arc::new(Scripts::new()),
            next_reclaim: std::sync::Arc::default(),
            pause_seen: std::sync::Arc::default(),
        };
        queue.ensure_groups().await?;
        Ok(queue)
    }

    /// The delivery settings.
    pub fn config(&self) -> &QueueConfig {
        &self.config
    }

    fn key(&self, suffix: &str) -> String {
        format!("{}:{suffix}", self.prefix)
    }

    fn lane_key(&self, lane: Lane) -> String {
        self.key(&format!("lane:{}", lane.as_str()))
    }

    async fn ensure_groups(&self) -> Result<()> {
        let mut conn = self.conn.clone();
        for lane in Lane::ALL {
            let r: redis::RedisResult<()> = redis::cmd("XGROUP")
                .arg("CREATE")
                .arg(self.lane_key(lane))
                .arg(GROUP)
                .arg("0")
                .arg("MKSTREAM")
                .query_async(&mut conn)
                .await;
            match r {
                Ok(()) => {}
                Err(e) if e.code() == Some("BUSYGROUP") => {}
                Err(e) => return Err(Error::redis("creating the consumer group", e)),
            }
        }
        Ok(())
    }

    /// Whether this take should look for expired leases: at most every
    /// second (or a quarter of the visibility timeout, if shorter) per
    /// process, since XAUTOCLAIM scans the whole pending list and a lease
    /// of a dead worker only expires after the visibility timeout anyway;
    /// and as soon as a job this process failed or released is due.
    fn reclaim_due(&self) -> bool {
        let every = (self.config.visibility_timeout / 4).min(Duration::from_secs(1));
        let mut next = self.next_reclaim.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if next.is_some_and(|t| now < t) {
            return false;
        }
        *next = Some(now + every);
        true
    }

    /// Makes the first take after `at` look for expired leases.
    fn reclaim_by(&self, at: Instant) {
        let mut next = self.next_reclaim.lock().unwrap_or_else(|p| p.into_inner());
        *next = Some(next.map_or(at, |t| t.min(at)));
    }

    async fn take_inner(&self, consumer: &str, max: usize) -> Result<Vec<Delivery>> {
        let mut conn = self.conn.clone();
        let reclaim = if self.reclaim_due() { "1" } else { "0" };
        let run = |mut conn: ConnectionManager| {
            let script = self.scripts.take.clone();
            let prefix = self.prefix.clone();
            let consumer = consumer.to_owned();
            let vis = self.config.visibility_timeout.as_millis() as u64;
            let maxd = self.config.max_deliveries;
            async move {
                script
                    .arg(prefix)
                    .arg(consumer)
                    .arg(max)
                    .arg(vis)
                    .arg(maxd)
                    .arg(reclaim)
                    .invoke_async::<Vec<(String, String, u64, u8)>>(&mut conn)
                    .await
            }
        };
        let rows = match run(conn.clone()).await {
            Ok(rows) => rows,
            // Redis lost the groups (restarted without persistence):
            // recreate them and try once more.
            Err(e) if e.code() == Some("NOGROUP") || e.to_string().contains("NOGROUP") => {
                self.ensure_groups().await?;
                run(conn.clone())
                    .await
                    .map_err(|e| Error::redis("taking jobs", e))?
            }
            Err(e) => return Err(Error::redis("taking jobs", e)),
        };
        let _ = &mut conn;
        let mut out = Vec::with_capacity(rows.len());
        for (token, job, deliveries, done) in rows {
            let job: Job = serde_json::from_str(&job).map_err(|e| {
                Error::new(
                    Kind::Corrupt,
                    format!("stored job {token} is not a job: {e}"),
                )
            })?;
            out.push(Delivery {
                job,
                deliveries,
                done: done == 1,
                token,
            });
        }
        Ok(out)
    }

    /// The store script: `store_result`, and with `ack` the
    /// acknowledgement of that delivery in the same script.
    async fn store(&self, id: &str, result: &BatchResult, ack: Option<&Delivery>) -> Result<bool> {
        let json = serde_json::to_string(result)
            .map_err(|e| Error::input(format!("result of {id}: {e}")))?;
        let now = now_ms();
        let rec = Recorded::of(result);
        let mut inv = self.scripts.store.prepare_invoke();
        inv.arg(&self.prefix)
            .arg(id)
            .arg(json)
            .arg(now)
            .arg(now / 60_000)
            .arg(rec.outcome)
            .arg(rec.error.unwrap_or(""));
        match rec.usage {
            Some((model, u)) => {
                let (w5, w1) = cache_writes(u);
                inv.arg(model)
                    .arg(u.input_tokens.unwrap_or(0))
                    .arg(u.output_tokens)
                    .arg(w5)
                    .arg(w1)
                    .arg(u.cache_read_input_tokens.unwrap_or(0));
            }
            None => {
                inv.arg("").arg(0).arg(0).arg(0).arg(0).arg(0);
            }
        }
        if let Some(d) = ack {
            inv.arg(self.lane_key(d.job.lane)).arg(&d.token);
        }
        let won: i64 = inv
            .invoke_async(&mut self.conn.clone())
            .await
            .map_err(|e| Error::redis("storing a result", e))?;
        Ok(won == 1)
    }

    /// Sets the idle time of entries (XCLAIM ... IDLE ms JUSTID), which
    /// decides when XAUTOCLAIM may hand them out again.
    async fn set_idle(
        &self,
        consumer: &str,
        lane: Lane,
        tokens: &[&str],
        idle_ms: u64,
    ) -> Result<()> {
        if tokens.is_empty() {
            return Ok(());
        }
        let mut cmd = redis::cmd("XCLAIM");
        cmd.arg(self.lane_key(lane)).arg(GROUP).arg(consumer).arg(0);
        for t in tokens {
            cmd.arg(*t);
        }
        cmd.arg("IDLE").arg(idle_ms).arg("JUSTID");
        let _: Value = cmd
            .query_async(&mut self.conn.clone())
            .await
            .map_err(|e| Error::redis("renewing a lease", e))?;
        Ok(())
    }
}

fn parse_job(json: &str, what: &str) -> Result<Job> {
    serde_json::from_str(json).map_err(|e| {
        Error::new(
            Kind::Corrupt,
            format!("stored job ({what}) is not a job: {e}"),
        )
    })
}

/// The totals from the `stats` hash (`o:TYPE`, `e:TYPE`, `r:KIND`,
/// `u:ROUTE:MODEL:FIELD`) and the pause's PTTL.
fn parse_stats(fields: HashMap<String, u64>, pause_ms: i64) -> Stats {
    let mut s = Stats {
        paused_for: Duration::from_millis(u64::try_from(pause_ms).unwrap_or(0)),
        ..Stats::default()
    };
    for (k, v) in fields {
        let Some((tag, rest)) = k.split_once(':') else {
            continue;
        };
        match tag {
            "o" => *s.outcomes.entry(rest.to_owned()).or_default() += v,
            "e" => *s.errors.entry(rest.to_owned()).or_default() += v,
            "r" => *s.retries.entry(rest.to_owned()).or_default() += v,
            "u" => {
                // The model id may hold ':'; the route is first, the field last.
                let Some((route, rest)) = rest.split_once(':') else {
                    continue;
                };
                let Some((model, field)) = rest.rsplit_once(':') else {
                    continue;
                };
                let u = s.usage_mut(model, route == "batch");
                match field {
                    "n" => u.results += v,
                    "in" => u.input_tokens += v,
                    "out" => u.output_tokens += v,
                    "w5" => u.cache_write_5m_tokens += v,
                    "w1" => u.cache_write_1h_tokens += v,
                    "rd" => u.cache_read_tokens += v,
                    _ => {}
                }
            }
            _ => {}
        }
    }
    s
}

fn parse_callback(s: Option<&String>) -> CallbackState {
    s.and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or_default()
}

impl Queue for RedisQueue {
    fn enqueue<'a>(&'a self, job: &'a Job) -> BoxFuture<'a, bool> {
        Box::pin(async move {
            job.validate()?;
            let json = serde_json::to_string(job)
                .map_err(|e| Error::input(format!("job {}: {e}", job.id)))?;
            let added: i64 = self
                .scripts
                .enqueue
                .arg(&self.prefix)
                .arg(&job.id)
                .arg(job.lane.as_str())
                .arg(json)
                .arg(now_ms())
                .arg(if job.callback.is_some() { "1" } else { "0" })
                .arg(if self.config.routes_to_batch(job, now_ms()) {
                    "1"
                } else {
                    "0"
                })
                .invoke_async(&mut self.conn.clone())
                .await
                .map_err(|e| Error::redis("enqueueing", e))?;
            Ok(added == 1)
        })
    }

    fn take<'a>(&'a self, consumer: &'a str, max: usize) -> BoxFuture<'a, Vec<Delivery>> {
        Box::pin(self.take_inner(consumer, max.max(1)))
    }

    fn touch<'a>(&'a self, consumer: &'a str, deliveries: &'a [Delivery]) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            for lane in Lane::ALL {
                let tokens: Vec<&str> = deliveries
                    .iter()
                    .filter(|d| d.job.lane == lane)
                    .map(|d| d.token.as_str())
                    .collect();
                self.set_idle(consumer, lane, &tokens, 0).await?;
            }
            Ok(())
        })
    }

    fn fail<'a>(
        &'a self,
        consumer: &'a str,
        delivery: &'a Delivery,
        error: &'a str,
        backoff: Duration,
    ) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let _: () = redis::pipe()
                .atomic()
                .cmd("HSET")
                .arg(self.key(&format!("job:{}", delivery.job.id)))
                .arg("last_error")
                .arg(error)
                .ignore()
                .cmd("HINCRBY")
                .arg(self.key("stats"))
                .arg(format!("r:{}", error_kind(error)))
                .arg(1)
                .ignore()
                .query_async(&mut self.conn.clone())
                .await
                .map_err(|e| Error::redis("recording a failure", e))?;
            let vis = self.config.visibility_timeout.as_millis() as u64;
            let idle = vis.saturating_sub(backoff.as_millis() as u64);
            self.set_idle(consumer, delivery.job.lane, &[&delivery.token], idle)
                .await?;
            self.reclaim_by(Instant::now() + backoff);
            Ok(())
        })
    }

    fn release<'a>(&'a self, consumer: &'a str, delivery: &'a Delivery) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let _: i64 = redis::cmd("HINCRBY")
                .arg(self.key(&format!("job:{}", delivery.job.id)))
                .arg("deliveries")
                .arg(-1)
                .query_async(&mut self.conn.clone())
                .await
                .map_err(|e| Error::redis("releasing a job", e))?;
            let vis = self.config.visibility_timeout.as_millis() as u64;
            self.set_idle(consumer, delivery.job.lane, &[&delivery.token], vis)
                .await?;
            self.reclaim_by(Instant::now());
            Ok(())
        })
    }

    fn store_result<'a>(&'a self, id: &'a str, result: &'a BatchResult) -> BoxFuture<'a, bool> {
        Box::pin(self.store(id, result, None))
    }

    fn store_and_ack<'a>(
        &'a self,
        delivery: &'a Delivery,
        result: &'a BatchResult,
    ) -> BoxFuture<'a, bool> {
        Box::pin(self.store(&delivery.job.id, result, Some(delivery)))
    }

    fn set_callback<'a>(&'a self, id: &'a str, state: &'a CallbackState) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let json = serde_json::to_string(state).unwrap_or_else(|_| "{}".to_owned());
            let _: () = redis::cmd("HSET")
                .arg(self.key(&format!("job:{id}")))
                .arg("callback")
                .arg(json)
                .query_async(&mut self.conn.clone())
                .await
                .map_err(|e| Error::redis("recording a callback", e))?;
            Ok(())
        })
    }

    fn ack<'a>(&'a self, delivery: &'a Delivery) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let stream = self.lane_key(delivery.job.lane);
            let _: () = redis::pipe()
                .atomic()
                .cmd("XACK")
                .arg(&stream)
                .arg(GROUP)
                .arg(&delivery.token)
                .ignore()
                .cmd("XDEL")
                .arg(&stream)
                .arg(&delivery.token)
                .ignore()
                .query_async(&mut self.conn.clone())
                .await
                .map_err(|e| Error::redis("acknowledging", e))?;
            Ok(())
        })
    }

    fn job<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Option<JobInfo>> {
        Box::pin(async move {
            let h: HashMap<String, String> = redis::cmd("HGETALL")
                .arg(self.key(&format!("job:{id}")))
                .query_async(&mut self.conn.clone())
                .await
                .map_err(|e| Error::redis("reading a job", e))?;
            let Some(job) = h.get("job") else {
                return Ok(None);
            };
            let job: Job = serde_json::from_str(job).map_err(|e| {
                Error::new(Kind::Corrupt, format!("stored job {id} is not a job: {e}"))
            })?;
            Ok(Some(JobInfo {
                job,
                state: h
                    .get("state")
                    .and_then(|s| JobState::parse(s))
                    .unwrap_or(JobState::Queued),
                deliveries: h
                    .get("deliveries")
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0),
                last_error: h.get("last_error").cloned(),
                callback: parse_callback(h.get("callback")),
            }))
        })
    }

    fn result<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Option<BatchResult>> {
        Box::pin(async move {
            let s: Option<String> = redis::cmd("GET")
                .arg(self.key(&format!("result:{id}")))
                .query_async(&mut self.conn.clone())
                .await
                .map_err(|e| Error::redis("reading a result", e))?;
            s.map(|s| {
                serde_json::from_str(&s).map_err(|e| {
                    Error::new(
                        Kind::Corrupt,
                        format!("stored result of {id} is not a result: {e}"),
                    )
                })
            })
            .transpose()
        })
    }

    fn results_page<'a>(
        &'a self,
        cursor: Option<&'a str>,
        max: usize,
    ) -> BoxFuture<'a, (Vec<BatchResultLine>, Option<String>)> {
        Box::pin(async move {
            let start = cursor.map_or_else(|| "-".to_owned(), |c| format!("({c}"));
            let rows: Vec<(String, HashMap<String, String>)> = redis::cmd("XRANGE")
                .arg(self.key("results"))
                .arg(start)
                .arg("+")
                .arg("COUNT")
                .arg(max.max(1))
                .query_async(&mut self.conn.clone())
                .await
                .map_err(|e| Error::redis("listing results", e))?;
            let next = rows.last().map(|(eid, _)| eid.clone());
            let mut lines = Vec::with_capacity(rows.len());
            for (_, fields) in rows {
                let Some(id) = fields.get("id") else { continue };
                if let Some(result) = self.result(id).await? {
                    lines.push(BatchResultLine::new(id.clone(), result));
                }
            }
            Ok((lines, next))
        })
    }

    fn status(&self) -> BoxFuture<'_, Status> {
        Box::pin(async move {
            let now = now_ms();
            let minute = now / 60_000;
            let (counts, alive, tput, headroom): StatusReply = redis::pipe()
                .cmd("HGETALL")
                .arg(self.key("counts"))
                .cmd("ZCOUNT")
                .arg(self.key("workers"))
                .arg(now)
                .arg("+inf")
                .cmd("HMGET")
                .arg(self.key("tput"))
                .arg(minute - 1)
                .arg(minute)
                .cmd("HMGET")
                .arg(self.key("rl:headroom"))
                .arg("requests")
                .arg("tokens")
                .query_async(&mut self.conn.clone())
                .await
                .map_err(|e| Error::redis("reading the status", e))?;
            let mut status = Status {
                workers_alive: alive,
                completed_last_minute: tput.first().copied().flatten().unwrap_or(0),
                completed_this_minute: tput.get(1).copied().flatten().unwrap_or(0),
                ..Status::default()
            };
            if headroom.iter().any(Option::is_some) {
                status.headroom = Some((headroom[0], headroom[1]));
            }
            for (key, n) in counts {
                let Some((lane, state)) = key.split_once(':') else {
                    continue;
                };
                if let (Some(lane), Some(state)) = (Lane::parse(lane), JobState::parse(state)) {
                    let i = Lane::ALL.iter().position(|l| *l == lane).unwrap_or(0);
                    status.lanes[i].add(state, n);
                }
            }
            Ok(status)
        })
    }

    fn stats(&self) -> BoxFuture<'_, Stats> {
        Box::pin(async move {
            let (fields, pause): (HashMap<String, u64>, i64) = redis::pipe()
                .cmd("HGETALL")
                .arg(self.key("stats"))
                .cmd("PTTL")
                .arg(self.key("rl:pause"))
                .query_async(&mut self.conn.clone())
                .await
                .map_err(|e| Error::redis("reading the totals", e))?;
            Ok(parse_stats(fields, pause))
        })
    }

    fn dead_letters(&self) -> BoxFuture<'_, Vec<DeadLetter>> {
        Box::pin(async move {
            let rows: Vec<(String, HashMap<String, String>)> = redis::cmd("XRANGE")
                .arg(self.key("dead"))
                .arg("-")
                .arg("+")
                .query_async(&mut self.conn.clone())
                .await
                .map_err(|e| Error::redis("listing dead letters", e))?;
            Ok(rows
                .into_iter()
                .filter_map(|(_, f)| {
                    Some(DeadLetter {
                        id: f.get("id")?.clone(),
                        lane: Lane::parse(f.get("lane")?)?,
                        deliveries: f.get("deliveries")?.parse().ok()?,
                        error: f.get("error").cloned().unwrap_or_default(),
                    })
                })
                .collect())
        })
    }

    fn redrive<'a>(&'a self, id: &'a str) -> BoxFuture<'a, bool> {
        Box::pin(async move {
            let n: i64 = self
                .scripts
                .redrive
                .arg(&self.prefix)
                .arg(id)
                .invoke_async(&mut self.conn.clone())
                .await
                .map_err(|e| Error::redis("re-driving", e))?;
            Ok(n == 1)
        })
    }

    fn heartbeat<'a>(&'a self, worker: &'a str, ttl: Duration) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let now = now_ms();
            let _: () = redis::pipe()
                .cmd("ZADD")
                .arg(self.key("workers"))
                .arg(now + ttl.as_millis() as u64)
                .arg(worker)
                .ignore()
                .cmd("ZREMRANGEBYSCORE")
                .arg(self.key("workers"))
                .arg("-inf")
                .arg(now.saturating_sub(3_600_000))
                .ignore()
                .query_async(&mut self.conn.clone())
                .await
                .map_err(|e| Error::redis("heartbeat", e))?;
            Ok(())
        })
    }

    fn acquire<'a>(&'a self, limit: &'a RateLimit, tokens: u64) -> BoxFuture<'a, Duration> {
        Box::pin(async move {
            if limit.is_unlimited() {
                let now = Instant::now();
                if let Some((read, until)) =
                    *self.pause_seen.lock().unwrap_or_else(|p| p.into_inner())
                    && now.duration_since(read) < PAUSE_FRESH
                {
                    return Ok(until.saturating_duration_since(now));
                }
                let pause: Option<u64> = redis::cmd("PTTL")
                    .arg(self.key("rl:pause"))
                    .query_async::<i64>(&mut self.conn.clone())
                    .await
                    .map(|ms| u64::try_from(ms).ok())
                    .map_err(|e| Error::redis("reading the rate-limit pause", e))?;
                let wait = Duration::from_millis(pause.unwrap_or(0));
                *self.pause_seen.lock().unwrap_or_else(|p| p.into_inner()) =
                    Some((now, now + wait));
                return Ok(wait);
            }
            let wait: i64 = self
                .scripts
                .acquire
                .arg(&self.prefix)
                .arg(limit.requests_per_minute)
                .arg(limit.tokens_per_minute)
                .arg(tokens)
                .invoke_async(&mut self.conn.clone())
                .await
                .map_err(|e| Error::redis("rate limiting", e))?;
            Ok(Duration::from_millis(wait.max(0) as u64))
        })
    }

    fn pause(&self, for_: Duration) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let ms = for_.as_millis().max(1) as u64;
            let _: i64 = self
                .scripts
                .pause
                .arg(&self.prefix)
                .arg(ms)
                .invoke_async(&mut self.conn.clone())
                .await
                .map_err(|e| Error::redis("pausing the fleet", e))?;
            // This process sees its own pause at once.
            let now = Instant::now();
            let mut seen = self.pause_seen.lock().unwrap_or_else(|p| p.into_inner());
            let until = seen.map_or(now, |(_, u)| u).max(now + for_);
            *seen = Some((now, until));
            Ok(())
        })
    }

    fn set_headroom<'a>(&'a self, headroom: &'a Headroom) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let mut cmd = redis::cmd("HSET");
            cmd.arg(self.key("rl:headroom"));
            let mut any = false;
            if let Some(r) = headroom.requests_remaining {
                cmd.arg("requests").arg(r);
                any = true;
            }
            if let Some(t) = headroom.tokens_remaining {
                cmd.arg("tokens").arg(t);
                any = true;
            }
            if any {
                let _: () = cmd
                    .query_async(&mut self.conn.clone())
                    .await
                    .map_err(|e| Error::redis("recording headroom", e))?;
            }
            Ok(())
        })
    }

    fn lead<'a>(&'a self, name: &'a str, ttl: Duration) -> BoxFuture<'a, bool> {
        Box::pin(async move {
            let n: i64 = self
                .scripts
                .lead
                .arg(&self.prefix)
                .arg(name)
                .arg(ttl.as_millis().max(1) as u64)
                .invoke_async(&mut self.conn.clone())
                .await
                .map_err(|e| Error::redis("taking the coordinator lease", e))?;
            Ok(n == 1)
        })
    }

    fn form_batch(&self, max: usize) -> BoxFuture<'_, Option<BatchGroup>> {
        Box::pin(async move {
            let mut row: Vec<String> = self
                .scripts
                .form
                .arg(&self.prefix)
                .arg(max.max(1))
                .invoke_async(&mut self.conn.clone())
                .await
                .map_err(|e| Error::redis("forming a batch", e))?;
            if row.is_empty() {
                return Ok(None);
            }
            let id = row.remove(0);
            let jobs = row
                .iter()
                .map(|j| parse_job(j, &id))
                .collect::<Result<Vec<Job>>>()?;
            Ok(Some(BatchGroup {
                id,
                jobs,
                batch_ids: Vec::new(),
            }))
        })
    }

    fn open_batches(&self) -> BoxFuture<'_, Vec<BatchGroup>> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            let gids: Vec<String> = redis::cmd("LRANGE")
                .arg(self.key("batch:open"))
                .arg(0)
                .arg(-1)
                .query_async(&mut conn)
                .await
                .map_err(|e| Error::redis("listing batches", e))?;
            let mut out = Vec::with_capacity(gids.len());
            for gid in gids {
                let (ids, batch_ids): (Option<String>, Option<String>) = redis::cmd("HMGET")
                    .arg(self.key(&format!("batch:group:{gid}")))
                    .arg("ids")
                    .arg("batch_ids")
                    .query_async(&mut conn)
                    .await
                    .map_err(|e| Error::redis("reading a batch group", e))?;
                let corrupt =
                    |what: &str| Error::new(Kind::Corrupt, format!("batch group {gid}: {what}"));
                let ids: Vec<String> = serde_json::from_str(ids.as_deref().unwrap_or("[]"))
                    .map_err(|_| corrupt("ids"))?;
                let batch_ids: Vec<String> =
                    serde_json::from_str(batch_ids.as_deref().unwrap_or("[]"))
                        .map_err(|_| corrupt("batch_ids"))?;
                let mut jobs = Vec::with_capacity(ids.len());
                for id in &ids {
                    let j: Option<String> = redis::cmd("HGET")
                        .arg(self.key(&format!("job:{id}")))
                        .arg("job")
                        .query_async(&mut conn)
                        .await
                        .map_err(|e| Error::redis("reading a job", e))?;
                    jobs.push(parse_job(
                        &j.ok_or_else(|| corrupt("a job is missing"))?,
                        id,
                    )?);
                }
                out.push(BatchGroup {
                    id: gid,
                    jobs,
                    batch_ids,
                });
            }
            Ok(out)
        })
    }

    fn set_batch_ids<'a>(&'a self, group: &'a str, batch_ids: &'a [String]) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let json = serde_json::to_string(batch_ids).unwrap_or_else(|_| "[]".to_owned());
            let _: () = redis::cmd("HSET")
                .arg(self.key(&format!("batch:group:{group}")))
                .arg("batch_ids")
                .arg(json)
                .query_async(&mut self.conn.clone())
                .await
                .map_err(|e| Error::redis("recording batch ids", e))?;
            Ok(())
        })
    }

    fn finish_batch<'a>(&'a self, group: &'a str) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let _: () = redis::pipe()
                .atomic()
                .cmd("LREM")
                .arg(self.key("batch:open"))
                .arg(0)
                .arg(group)
                .ignore()
                .cmd("HSET")
                .arg(self.key(&format!("batch:group:{group}")))
                .arg("finished_ms")
                .arg(now_ms())
                .ignore()
                .query_async(&mut self.conn.clone())
                .await
                .map_err(|e| Error::redis("finishing a batch", e))?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_fields_parse_with_colons_in_model_ids() {
        let fields: HashMap<String, u64> = [
            ("o:succeeded", 3),
            ("e:overloaded_error", 1),
            ("r:connection_error", 2),
            ("u:std:claude-haiku-4-5:n", 2),
            ("u:std:claude-haiku-4-5:in", 20),
            ("u:batch:vendor:model:v1:out", 7),
            ("u:batch:vendor:model:v1:rd", 5),
            ("u:nonsense", 9),
            ("junk", 1),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let s = parse_stats(fields, 1500);
        assert_eq!(s.outcomes["succeeded"], 3);
        assert_eq!(s.errors["overloaded_error"], 1);
        assert_eq!(s.retries["connection_error"], 2);
        assert_eq!(s.paused_for, Duration::from_millis(1500));
        assert_eq!(s.usage.len(), 2, "{:?}", s.usage);
        let h = s.usage.iter().find(|u| !u.batch).unwrap();
        assert_eq!(
            (h.model.as_str(), h.results, h.input_tokens),
            ("claude-haiku-4-5", 2, 20)
        );
        let b = s.usage.iter().find(|u| u.batch).unwrap();
        assert_eq!(
            (b.model.as_str(), b.output_tokens, b.cache_read_tokens),
            ("vendor:model:v1", 7, 5)
        );
        assert_eq!(parse_stats(HashMap::new(), -2).paused_for, Duration::ZERO);
    }
}
