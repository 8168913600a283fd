//! Where streams' events are kept for replay: the [`BufferStore`] trait and
//! its in-memory default, [`MemoryStore`].

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use messages_types::Text;

use crate::format::{Item, is_canonical_text_delta};

/// A boxed, sendable future (what [`BufferStore`] methods return, so the
/// trait stays object safe).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One buffered event of a stream: its SSE id and what it says.
///
/// Ids start at 1 and grow by one per event of a stream. An entry is cheap to
/// clone: its text is a shared slice of its raw data.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    id: u64,
    pub(crate) item: Item,
}

impl Entry {
    pub(crate) fn new(id: u64, item: Item) -> Entry {
        Entry { id, item }
    }

    /// The event's SSE id.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Whether the stream ends with this entry.
    pub fn is_last(&self) -> bool {
        self.item.is_terminal()
    }

    /// Roughly how many bytes of memory the entry keeps alive.
    pub fn weight(&self) -> usize {
        self.item.weight()
    }
}

/// What [`BufferStore::read`] returns.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    /// Entries with ids after the one asked for, in order.
    pub entries: Vec<Entry>,
    /// The stream has ended and no entry follows these.
    pub end: bool,
}

/// Why a store operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreError {
    /// No such stream (never created, or expired).
    NotFound,
    /// The stream's buffer is full (see [`MemoryStore::max_bytes`]).
    Full,
    /// The store's backend failed.
    Backend(String),
    /// A stored entry could not be decoded: which one and what was wrong
    /// (see [`Entry::decode`]).
    Corrupt(String),
    /// A stop was requested through the store (see [`BufferStore::stop`]);
    /// the entry was not appended.
    Stopped,
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::NotFound => f.write_str("no such stream (unknown or expired)"),
            StoreError::Full => f.write_str("the stream's buffer is full"),
            StoreError::Backend(e) => write!(f, "buffer store: {e}"),
            StoreError::Corrupt(e) => write!(f, "buffer store: corrupt entry: {e}"),
            StoreError::Stopped => f.write_str("the stream was stopped"),
        }
    }
}

impl std::error::Error for StoreError {}

/// Keeps each stream's events while it runs and for a while after it ends,
/// so that a browser can reconnect and replay what it missed.
///
/// The relay calls [`create`](BufferStore::create) once per stream,
/// [`append`](BufferStore::append) once per event (ids 1, 2, 3...),
/// [`finish`](BufferStore::finish) when the last event is in, and
/// [`read`](BufferStore::read) from every browser connection. One producer
/// appends to a stream; any number of readers read it.
///
/// The default is [`MemoryStore`]. A shared store lets several relay
/// instances serve one stream: a reconnect that lands on another instance
/// replays from the store. The `redis` feature has one (`RedisStore`); a
/// store of your own keeps entries with [`Entry::encode`] and
/// [`Entry::decode`].
pub trait BufferStore: Send + Sync + fmt::Debug + 'static {
    /// Creates an empty stream.
    fn create(&self, stream: &str) -> BoxFuture<'static, Result<(), StoreError>>;

    /// Appends an event. Fails with [`StoreError::Full`] when the stream's
    /// buffer is at its bound (the relay then cancels upstream and ends the
    /// stream with an error event, which is always accepted).
    fn append(&self, stream: &str, entry: Entry) -> BoxFuture<'static, Result<(), StoreError>>;

    /// Marks the stream ended; it is kept for `keep`, then dropped.
    fn finish(&self, stream: &str, keep: Duration) -> BoxFuture<'static, Result<(), StoreError>>;

    /// The entries after id `after` (0: from the start), at most `max` of
    /// them. Waits until there is at least one or the stream has ended.
    ///
    /// Cancel safe: dropping the future loses nothing.
    fn read(
        &self,
        stream: &str,
        after: u64,
        max: usize,
    ) -> BoxFuture<'static, Result<Batch, StoreError>>;

    /// Asks the producer of `stream`, wherever it runs, to stop: its next
    /// [`append`](BufferStore::append) of a non-final entry fails with
    /// [`StoreError::Stopped`]. Returns whether the store passed the
    /// request on.
    ///
    /// The default does nothing and returns `Ok(false)`: a store private to
    /// one process has its producer in that process, which the relay stops
    /// directly. Shared stores implement it so that `POST /chat/{id}/stop`
    /// sent to any instance stops the stream.
    fn stop(&self, stream: &str) -> BoxFuture<'static, Result<bool, StoreError>> {
        let _ = stream;
        Box::pin(std::future::ready(Ok(false)))
    }

    /// Whether a reader on another relay instance read `stream` recently
    /// (a shared store's notion of "recently": a few seconds). The relay
    /// asks before cancelling a stream that no browser of its own reads
    /// when the grace period ends, and waits another grace period if so.
    ///
    /// The default returns `false` (no other instance can read).
    fn read_elsewhere(&self, stream: &str) -> BoxFuture<'static, bool> {
        let _ = stream;
        Box::pin(std::future::ready(false))
    }
}

/// The in-memory [`BufferStore`]: a map from stream id to its events.
///
/// Memory per stream: a text delta in the API's own encoding costs its
/// text and 16 bytes; any other event its raw data and about 140 bytes;
/// capped by [`max_bytes`](MemoryStore::max_bytes). Reading a kept text
/// delta copies its text (a few bytes) into the [`Entry`] returned.
///
/// Ended streams are dropped once their retention has passed: all of them
/// by a sweep when a stream is created (at most once a second, so that
/// creating a stream stays cheap with many kept), and each one when it is
/// looked up. An idle relay keeps its last streams until the next one
/// starts. Cloning is cheap and shares the streams.
#[derive(Clone)]
pub struct MemoryStore {
    inner: Arc<Inner>,
}

struct Inner {
    max_bytes: usize,
    streams: Mutex<HashMap<Box<str>, Arc<Slot>>>,
    /// When expired streams were last swept out (at most once a second:
    /// a sweep visits every stream under the map's lock).
    swept: Mutex<Option<Instant>>,
}

/// The least time between two sweeps of expired streams.
const SWEEP_EVERY: Duration = Duration::from_secs(1);

#[derive(Default)]
struct Slot {
    state: Mutex<SlotState>,
    notify: Notify,
}

/// How a [`MemoryStore`] keeps an entry: 16 bytes each (a `const`
/// assertion holds it).
///
/// A text delta whose raw data is byte for byte what the `anthropic` format
/// writes without it (what the API sends, unpadded) keeps its text only, as
/// a range of the stream's text log ([`SlotState::text`]); its id is its
/// position. Everything else is kept whole, boxed: a 128-byte [`Entry`] and
/// its raw data. A 500-token reply is about 235 events, nearly all text
/// deltas: 4 KiB of `Kept` and the text, against 12 KiB when a text delta
/// was kept as 48 bytes and a shared slice.
enum Kept {
    Text { index: u32, start: u32, len: u32 },
    Entry(Box<Entry>),
}

const _: () = assert!(std::mem::size_of::<Kept>() <= 16);

impl Kept {
    /// Keeps `entry`, the `position`-th of its stream (from 0), appending a
    /// kept text to `log`.
    fn new(entry: Entry, position: usize, log: &mut String) -> Kept {
        if let Item::Text { index, text, raw } = &entry.item
            && entry.id == position as u64 + 1
            && raw
                .as_ref()
                .is_none_or(|raw| is_canonical_text_delta(*index, text, raw))
            && let (Ok(start), Ok(len)) = (u32::try_from(log.len()), u32::try_from(text.len()))
            && start.checked_add(len).is_some()
        {
            log.push_str(text.as_str());
            return Kept::Text {
                index: *index,
                start,
                len,
            };
        }
        Kept::Entry(Box::new(entry))
    }

    /// The entry, as appended (a text delta's raw data, when dropped, is
    /// what the `anthropic` format writes again from its text). `position`
    /// is the entry's, from 0; a text is copied out of `log`.
    fn entry(&self, position: usize, log: &str) -> Entry {
        match *self {
            Kept::Text { index, start, len } => {
                let (start, len) = (start as usize, len as usize);
                Entry::new(
                    position as u64 + 1,
                    Item::Text {
                        index,
                        text: Text::from(&log[start..start + len]),
                        raw: None,
                    },
                )
            }
            Kept::Entry(ref e) => Entry::clone(e),
        }
    }

    /// The entry's id, `position` being its place from 0.
    fn id(&self, position: usize) -> u64 {
        match self {
            Kept::Text { .. } => position as u64 + 1,
            Kept::Entry(e) => e.id,
        }
    }
}

#[derive(Default)]
struct SlotState {
    entries: VecDeque<Kept>,
    /// The texts of the text deltas kept as [`Kept::Text`], back to back.
    text: String,
    bytes: usize,
    ended: bool,
    expires: Option<Instant>,
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("max_bytes", &self.inner.max_bytes)
            .field("streams", &lock(&self.inner.streams).len())
            .finish()
    }
}

impl Default for MemoryStore {
    fn default() -> MemoryStore {
        MemoryStore::new()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding these locks cannot leave the maps half-updated
    // in a way that matters (every update is a single push or insert).
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl MemoryStore {
    /// A store with the default bound of 4 MiB per stream.
    pub fn new() -> MemoryStore {
        MemoryStore::with_max_bytes(4 << 20)
    }

    /// A store that refuses to keep more than `max_bytes` (as counted by
    /// [`Entry::weight`]) for one stream.
    pub fn with_max_bytes(max_bytes: usize) -> MemoryStore {
        MemoryStore {
            inner: Arc::new(Inner {
                max_bytes,
                streams: Mutex::new(HashMap::new()),
                swept: Mutex::new(None),
            }),
        }
    }

    /// The bound per stream, in bytes.
    pub fn max_bytes(&self) -> usize {
        self.inner.max_bytes
    }

    /// How many streams are kept (running or ended, not yet expired).
    pub fn len(&self) -> usize {
        lock(&self.inner.streams).len()
    }

    /// Whether no stream is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes kept for `stream` (as counted by [`Entry::weight`]).
    pub fn stream_bytes(&self, stream: &str) -> Option<usize> {
        let slot = self.slot(stream)?;
        let bytes = lock(&slot.state).bytes;
        Some(bytes)
    }

    fn slot(&self, stream: &str) -> Option<Arc<Slot>> {
        let mut streams = lock(&self.inner.streams);
        let slot = streams.get(stream)?;
        let expired = lock(&slot.state)
            .expires
            .is_some_and(|t| t <= Instant::now());
        if expired {
            streams.remove(stream);
            return None;
        }
        Some(Arc::clone(streams.get(stream)?))
    }

    fn sweep(streams: &mut HashMap<Box<str>, Arc<Slot>>) {
        let now = Instant::now();
        streams.retain(|_, slot| lock(&slot.state).expires.is_none_or(|t| t > now));
    }
}

impl BufferStore for MemoryStore {
    fn create(&self, stream: &str) -> BoxFuture<'static, Result<(), StoreError>> {
        let now = Instant::now();
        let due = {
            let mut swept = lock(&self.inner.swept);
            let due = swept.is_none_or(|t| now >= t + SWEEP_EVERY);
            if due {
                *swept = Some(now);
            }
            due
        };
        let mut streams = lock(&self.inner.streams);
        if due {
            MemoryStore::sweep(&mut streams);
        }
        streams.insert(stream.into(), Arc::default());
        Box::pin(std::future::ready(Ok(())))
    }

    fn append(&self, stream: &str, entry: Entry) -> BoxFuture<'static, Result<(), StoreError>> {
        let result = match self.slot(stream) {
            None => Err(StoreError::NotFound),
            Some(slot) => {
                let mut state = lock(&slot.state);
                let weight = entry.weight();
                if state.bytes + weight > self.inner.max_bytes && !entry.is_last() {
                    Err(StoreError::Full)
                } else {
                    state.bytes += weight;
                    let position = state.entries.len();
                    let kept = Kept::new(entry, position, &mut state.text);
                    state.entries.push_back(kept);
                    drop(state);
                    slot.notify.notify_waiters();
                    Ok(())
                }
            }
        };
        Box::pin(std::future::ready(result))
    }

    fn finish(&self, stream: &str, keep: Duration) -> BoxFuture<'static, Result<(), StoreError>> {
        let result = match self.slot(stream) {
            None => Err(StoreError::NotFound),
            Some(slot) => {
                let mut state = lock(&slot.state);
                state.ended = true;
                state.expires = Some(Instant::now() + keep);
                drop(state);
                slot.notify.notify_waiters();
                Ok(())
            }
        };
        Box::pin(std::future::ready(result))
    }

    fn read(
        &self,
        stream: &str,
        after: u64,
        max: usize,
    ) -> BoxFuture<'static, Result<Batch, StoreError>> {
        let slot = self.slot(stream);
        Box::pin(async move {
            let slot = slot.ok_or(StoreError::NotFound)?;
            loop {
                let notified = slot.notify.notified();
                tokio::pin!(notified);
                // Register before looking, so an append in between wakes us.
                notified.as_mut().enable();
                {
                    let state = lock(&slot.state);
                    // Ids are dense from 1, so the entry after `after` is at
                    // index `after` (entries are never removed one by one).
                    let start = usize::try_from(after).unwrap_or(usize::MAX);
                    let entries: Vec<Entry> = state
                        .entries
                        .iter()
                        .enumerate()
                        .skip(start)
                        .take(max.max(1))
                        .map(|(at, kept)| kept.entry(at, &state.text))
                        .collect();
                    let last_id = state
                        .entries
                        .back()
                        .map_or(0, |k| k.id(state.entries.len() - 1));
                    let through = entries.last().map_or(after, Entry::id);
                    let end = state.ended && through >= last_id;
                    if !entries.is_empty() || end {
                        return Ok(Batch { entries, end });
                    }
                }
                notified.await;
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(id: u64, s: &str) -> Entry {
        Entry::new(
            id,
            Item::Text {
                index: 0,
                text: s.into(),
                raw: None,
            },
        )
    }

    #[tokio::test]
    async fn read_waits_for_appends_and_sees_the_end() {
        let store = MemoryStore::new();
        store.create("s").await.unwrap();
        store.append("s", text(1, "a")).await.unwrap();
        let b = store.read("s", 0, 10).await.unwrap();
        assert_eq!(b.entries.len(), 1);
        assert!(!b.end);
        let pending = store.read("s", 1, 10);
        let s2 = store.clone();
        tokio::spawn(async move {
            s2.append("s", text(2, "b")).await.unwrap();
            s2.append("s", Entry::new(3, Item::Stopped)).await.unwrap();
            s2.finish("s", Duration::from_secs(1)).await.unwrap();
        });
        let b = pending.await.unwrap();
        assert_eq!(b.entries[0].id(), 2);
        let b = store.read("s", 2, 10).await.unwrap();
        assert_eq!(b.entries.len(), 1);
        assert!(b.end);
        let b = store.read("s", 3, 10).await.unwrap();
        assert!(b.entries.is_empty() && b.end);
    }

    #[tokio::test]
    async fn a_text_delta_whose_id_is_not_its_position_keeps_its_id() {
        let store = MemoryStore::new();
        store.create("s").await.unwrap();
        store.append("s", text(1, "a")).await.unwrap();
        store.append("s", text(7, "b")).await.unwrap();
        store.append("s", text(3, "c")).await.unwrap();
        let b = store.read("s", 0, 10).await.unwrap();
        let got: Vec<(u64, String)> = b
            .entries
            .iter()
            .map(|e| match &e.item {
                Item::Text { text, .. } => (e.id(), text.to_string()),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(got, [(1, "a".into()), (7, "b".into()), (3, "c".into())]);
    }

    #[tokio::test(start_paused = true)]
    async fn ended_streams_expire_and_full_buffers_refuse() {
        let store = MemoryStore::with_max_bytes(200);
        store.create("s").await.unwrap();
        let mut refused = None;
        for id in 1..100 {
            if let Err(e) = store.append("s", text(id, "0123456789")).await {
                refused = Some((id, e));
                break;
            }
        }
        let (id, e) = refused.expect("the bound is enforced");
        assert_eq!(e, StoreError::Full);
        assert!(store.stream_bytes("s").unwrap() <= 200);
        // The terminal event is always taken.
        store
            .append("s", Entry::new(id, Item::Stopped))
            .await
            .unwrap();
        store.finish("s", Duration::from_secs(300)).await.unwrap();
        tokio::time::advance(Duration::from_secs(299)).await;
        assert!(store.read("s", 0, 1).await.is_ok());
        tokio::time::advance(Duration::from_secs(2)).await;
        assert_eq!(
            store.read("s", 0, 1).await.unwrap_err(),
            StoreError::NotFound
        );
    }
}
