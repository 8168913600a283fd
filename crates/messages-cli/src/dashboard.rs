//! `msgs queue dashboard`: a live page of the queue's numbers, pushed over
//! server-sent events.
//!
//! One sampler task reads the queue every `--interval-ms` (`status` and
//! `stats`: two round trips on Redis, whatever the number of jobs or
//! browsers), turns it into one JSON sample with a sequence number, keeps
//! the last `--history` samples and wakes the connections. Each browser
//! connection (`GET /events`) gets the history first (one `history` event,
//! or only what it missed when it reconnects with `Last-Event-ID`), then one
//! `sample` event per sample, encoded with `sse_core::Encoder` and written
//! through the relay's server and body (`messages_relay::serve`,
//! `RelayBody::from_stream`), which pull the next event only when the
//! socket takes it. A comment every 15 s of silence keeps proxies from
//! closing the stream.
//!
//! The page (`assets/dashboard.html`, embedded) draws its charts with uPlot,
//! which is not in the binary or the repository: it is read at start from
//! `--chart-lib` (or `MSGS_CHART_LIB`), else from where `cargo xtask browser`
//! installs it, and served from this server's own origin. Without it the
//! page shows the same numbers as tiles and tables, and says how to get the
//! charts.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use clap::Args;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use messages::batch::PriceTable;
use messages_queue::{Queue, Stats, Status};
use messages_relay::RelayBody;
use serde_json::{Value, json};
use sse_core::{Encoder, Event, Str};
use tokio::sync::watch;

use crate::connect;
use crate::error::CliError;
use crate::queue::QueueAt;

/// The page: HTML, CSS and JS of our own, inline.
const PAGE: &str = include_str!("../assets/dashboard.html");

/// Where `cargo xtask browser` installs the npm packages, relative to the
/// target directory.
const INSTALLED: &str = "relay-js/node_modules/uplot";

/// The reconnection delay the page's `EventSource` is told to use.
const RETRY_MS: u64 = 2000;

/// Seconds of silence before a heartbeat comment.
const HEARTBEAT: Duration = Duration::from_secs(15);

/// `msgs queue dashboard`.
#[derive(Debug, Args)]
pub(crate) struct DashboardArgs {
    #[command(flatten)]
    pub(crate) at: QueueAt,
    /// The address to listen on (port 0: any free port; the address is
    /// printed as `listening on http://...`).
    #[arg(long, default_value = "127.0.0.1:8090", value_name = "HOST:PORT")]
    pub(crate) addr: SocketAddr,
    /// The uPlot charting library: its npm package directory, or its
    /// `uPlot.iife.min.js` (the CSS is taken from beside it). Default:
    /// MSGS_CHART_LIB, else where `cargo xtask browser` installs it
    /// (target/relay-js/node_modules/uplot). Without it the page shows
    /// tables only.
    #[arg(long, value_name = "PATH", conflicts_with = "no_charts")]
    pub(crate) chart_lib: Option<PathBuf>,
    /// Serve the page without charts (tiles and tables only), even if the
    /// library is installed.
    #[arg(long)]
    pub(crate) no_charts: bool,
    /// Milliseconds between samples of the queue.
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    pub(crate) interval_ms: u64,
    /// Samples kept for pages that open later (the charts' time window).
    #[arg(long, value_name = "N", default_value_t = 600)]
    pub(crate) history: usize,
}

/// The charting library's files, read once at start.
#[derive(Debug, Clone)]
struct ChartLib {
    js: Bytes,
    css: Option<Bytes>,
    from: PathBuf,
}

impl ChartLib {
    /// Reads the library from `path`: a directory (the npm package, or its
    /// `dist`) or the `.js` file itself.
    fn load(path: &Path) -> Result<ChartLib, String> {
        let js_path = if path.is_dir() {
            ["dist/uPlot.iife.min.js", "uPlot.iife.min.js"]
                .iter()
                .map(|f| path.join(f))
                .find(|p| p.is_file())
                .ok_or_else(|| {
                    format!(
                        "{}: no dist/uPlot.iife.min.js (not the uplot package)",
                        path.display()
                    )
                })?
        } else {
            path.to_owned()
        };
        let js = std::fs::read(&js_path)
            .map_err(|e| format!("cannot read {}: {e}", js_path.display()))?;
        let css = js_path
            .parent()
            .map(|d| d.join("uPlot.min.css"))
            .and_then(|p| std::fs::read(p).ok())
            .map(Bytes::from);
        Ok(ChartLib {
            js: Bytes::from(js),
            css,
            from: js_path,
        })
    }

    /// `--chart-lib`, else `MSGS_CHART_LIB`, else the places `cargo xtask
    /// browser` installs it: `target/` beside the running binary
    /// (`target/debug/msgs`) and under the working directory. A path given
    /// explicitly that cannot be read is an error; the default places are
    /// only tried.
    fn find(arg: Option<&Path>) -> Result<Option<ChartLib>, CliError> {
        let given = arg.map(Path::to_owned).or_else(|| {
            std::env::var_os("MSGS_CHART_LIB")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        });
        if let Some(p) = given {
            return ChartLib::load(&p)
                .map(Some)
                .map_err(|e| CliError::input(format!("--chart-lib: {e}")));
        }
        let mut candidates = Vec::new();
        if let Some(target) = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent()?.parent().map(Path::to_owned))
        {
            candidates.push(target.join(INSTALLED));
        }
        if let Ok(dir) = std::env::current_dir() {
            candidates.push(dir.join("target").join(INSTALLED));
        }
        Ok(candidates.iter().find_map(|p| ChartLib::load(p).ok()))
    }
}

/// What the sampler shares with the connections.
#[derive(Debug)]
struct Hub {
    /// The last samples, oldest first, by sequence number.
    history: Mutex<VecDeque<(u64, Str)>>,
    keep: usize,
    /// The sequence number of the newest sample.
    latest: watch::Sender<u64>,
    chart: Option<ChartLib>,
}

impl Hub {
    /// The samples after `after` (all of them for `None`), oldest first.
    fn after(&self, after: Option<u64>) -> Vec<(u64, Str)> {
        let h = self.history.lock().unwrap_or_else(|p| p.into_inner());
        h.iter()
            .filter(|(seq, _)| after.is_none_or(|a| *seq > a))
            .cloned()
            .collect()
    }

    fn push(&self, seq: u64, sample: Str) {
        {
            let mut h = self.history.lock().unwrap_or_else(|p| p.into_inner());
            h.push_back((seq, sample));
            while h.len() > self.keep {
                h.pop_front();
            }
        }
        self.latest.send_replace(seq);
    }
}

/// Reads the queue and turns it into samples.
struct Sampler {
    queue: Arc<dyn Queue>,
    backend: String,
    prices: &'static PriceTable,
    seq: u64,
    /// The done count and time of the previous good sample.
    prev: Option<(u64, Instant)>,
}

impl Sampler {
    async fn sample(&mut self) -> Result<Value, messages_queue::Error> {
        let (status, stats) = tokio::try_join!(self.queue.status(), self.queue.stats())?;
        let now = Instant::now();
        let done: u64 = status.lanes.iter().map(|l| l.done).sum();
        let per_sec = match self.prev {
            Some((d, t)) if now > t => {
                done.saturating_sub(d) as f64 / now.duration_since(t).as_secs_f64()
            }
            _ => 0.0,
        };
        self.prev = Some((done, now));
        Ok(sample_json(
            &self.backend,
            &status,
            &stats,
            per_sec,
            self.prices,
        ))
    }

    async fn next(&mut self) -> Str {
        self.seq += 1;
        let t = now_ms();
        let mut v = match self.sample().await {
            Ok(v) => v,
            Err(e) => json!({"backend": self.backend, "error": format!("reading the queue: {e}")}),
        };
        v["seq"] = json!(self.seq);
        v["t"] = json!(t);
        Str::from(v.to_string())
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// One sample as the page reads it (documented in docs/guides/queue.md).
fn sample_json(
    backend: &str,
    status: &Status,
    stats: &Stats,
    per_sec: f64,
    prices: &PriceTable,
) -> Value {
    let lane = |c: &messages_queue::LaneCounts| json!({"queued": c.queued, "running": c.running, "done": c.done, "dead": c.dead});
    let [i, b] = &status.lanes;
    let cost = stats.cost(prices);
    let models: Vec<Value> = stats
        .usage
        .iter()
        .map(|u| {
            json!({
                "model": u.model,
                "batch": u.batch,
                "results": u.results,
                "input": u.input_tokens,
                "output": u.output_tokens,
                "cache_write": u.cache_write_5m_tokens + u.cache_write_1h_tokens,
                "cache_read": u.cache_read_tokens,
                "usd": u.cost_usd(prices),
            })
        })
        .collect();
    let sum = |f: fn(&messages_queue::ModelUsage) -> u64| stats.usage.iter().map(f).sum::<u64>();
    json!({
        "backend": backend,
        "lanes": {"interactive": lane(i), "background": lane(b)},
        "totals": {
            "queued": i.queued + b.queued,
            "running": i.running + b.running,
            "done": i.done + b.done,
            "dead": i.dead + b.dead,
        },
        "workers_alive": status.workers_alive,
        "throughput": {
            "per_sec": (per_sec * 100.0).round() / 100.0,
            "last_minute": status.completed_last_minute,
            "this_minute": status.completed_this_minute,
        },
        "outcomes": stats.outcomes,
        "errors": stats.errors,
        "retries": stats.retries,
        "tokens": {
            "input": sum(|u| u.input_tokens),
            "output": sum(|u| u.output_tokens),
            "cache_write": sum(|u| u.cache_write_5m_tokens + u.cache_write_1h_tokens),
            "cache_read": sum(|u| u.cache_read_tokens),
        },
        "cost": {
            "usd": cost.total_usd(),
            "priced_usd": cost.priced_usd,
            "unpriced": cost.unpriced,
            "prices_as_of": prices.as_of,
        },
        "models": models,
        "headroom": status.headroom.map(|(r, t)| json!({"requests": r, "tokens": t})),
        "paused_ms": stats.paused_for.as_millis() as u64,
        "error": Value::Null,
    })
}

/// The HTTP service: the page, the chart library, the snapshot and the
/// event stream.
#[derive(Debug, Clone)]
struct Dashboard {
    hub: Arc<Hub>,
}

fn full(status: StatusCode, ctype: &'static str, body: Bytes) -> Response<RelayBody> {
    let mut res = Response::new(RelayBody::from(body));
    *res.status_mut() = status;
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

impl Dashboard {
    fn handle<B>(&self, req: &Request<B>) -> Response<RelayBody> {
        if req.method() != Method::GET && req.method() != Method::HEAD {
            return full(
                StatusCode::METHOD_NOT_ALLOWED,
                "text/plain; charset=utf-8",
                Bytes::from_static(b"only GET\n"),
            );
        }
        let not_found = || {
            full(
                StatusCode::NOT_FOUND,
                "text/plain; charset=utf-8",
                Bytes::from_static(b"not found\n"),
            )
        };
        match req.uri().path() {
            "/" | "/index.html" => {
                let mut res = full(
                    StatusCode::OK,
                    "text/html; charset=utf-8",
                    Bytes::from_static(PAGE.as_bytes()),
                );
                // Everything comes from this origin; nothing loads from
                // elsewhere.
                res.headers_mut().insert(
                    header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static(
                        "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'",
                    ),
                );
                res
            }
            "/lib/uplot.js" => match &self.hub.chart {
                Some(c) => full(
                    StatusCode::OK,
                    "text/javascript; charset=utf-8",
                    c.js.clone(),
                ),
                None => not_found(),
            },
            "/lib/uplot.css" => match self.hub.chart.as_ref().and_then(|c| c.css.clone()) {
                Some(css) => full(StatusCode::OK, "text/css; charset=utf-8", css),
                None => not_found(),
            },
            "/snapshot.json" => {
                let last = self.hub.after(None).pop();
                match last {
                    Some((_, s)) => full(StatusCode::OK, "application/json", s.into_bytes()),
                    None => full(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "application/json",
                        Bytes::from_static(b"{\"error\":\"no sample yet\"}"),
                    ),
                }
            }
            "/history.json" => {
                let items = self.hub.after(None);
                full(StatusCode::OK, "application/json", json_array(&items))
            }
            "/events" => {
                let after = req
                    .headers()
                    .get("last-event-id")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok());
                let mut res =
                    Response::new(RelayBody::from_stream(events(self.hub.clone(), after)));
                let h = res.headers_mut();
                h.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/event-stream"),
                );
                h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
                h.insert("x-accel-buffering", HeaderValue::from_static("no"));
                h.insert(
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                );
                res
            }
            _ => not_found(),
        }
    }
}

/// `[s1,s2,...]` from samples that are JSON already.
fn json_array(items: &[(u64, Str)]) -> Bytes {
    let mut out =
        BytesMut::with_capacity(items.iter().map(|(_, s)| s.len() + 1).sum::<usize>() + 2);
    out.extend_from_slice(b"[");
    for (n, (_, s)) in items.iter().enumerate() {
        if n > 0 {
            out.extend_from_slice(b",");
        }
        out.extend_from_slice(s.as_bytes());
    }
    out.extend_from_slice(b"]");
    out.freeze()
}

impl<B> tower::Service<Request<B>> for Dashboard {
    type Response = Response<RelayBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<RelayBody>, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        Box::pin(std::future::ready(Ok(self.handle(&req))))
    }
}

/// One connection's event stream: `retry`, the history (or what a
/// reconnecting page missed) as one `history` event, then a `sample` event
/// per sample; a comment after [`HEARTBEAT`] of silence.
fn events(hub: Arc<Hub>, after: Option<u64>) -> impl futures_util::Stream<Item = Bytes> + Send {
    struct Conn {
        hub: Arc<Hub>,
        rx: watch::Receiver<u64>,
        cursor: Option<u64>,
        started: bool,
        enc: Encoder,
    }
    let rx = hub.latest.subscribe();
    let conn = Conn {
        hub,
        rx,
        cursor: after,
        started: false,
        enc: Encoder::new(),
    };
    futures_util::stream::unfold(conn, |mut c| async move {
        let mut out = BytesMut::new();
        if !c.started {
            c.started = true;
            c.enc.retry(RETRY_MS, &mut out);
            let items = c.hub.after(c.cursor);
            // Mark the samples as seen before writing them.
            let _ = c.rx.borrow_and_update();
            let last = items.last().map(|(s, _)| *s).or(c.cursor).unwrap_or(0);
            let data = json_array(&items);
            let ev = Event::new(Str::from_utf8(data).unwrap_or_default())
                .with_event("history")
                .with_id(last.to_string());
            let _ = c.enc.encode(&ev, &mut out);
            c.cursor = Some(last);
            return Some((out.freeze(), c));
        }
        loop {
            tokio::select! {
                changed = c.rx.changed() => {
                    if changed.is_err() {
                        return None;
                    }
                    let items = c.hub.after(c.cursor);
                    if items.is_empty() {
                        continue;
                    }
                    for (seq, s) in &items {
                        let ev = Event::new(s.clone()).with_event("sample").with_id(seq.to_string());
                        let _ = c.enc.encode(&ev, &mut out);
                    }
                    c.cursor = items.last().map(|(s, _)| *s);
                    return Some((out.freeze(), c));
                }
                () = tokio::time::sleep(HEARTBEAT) => {
                    c.enc.comment("", &mut out);
                    return Some((out.freeze(), c));
                }
            }
        }
    })
}

/// `msgs queue dashboard`.
pub(crate) async fn run(args: DashboardArgs) -> Result<(), CliError> {
    let chart = if args.no_charts {
        None
    } else {
        ChartLib::find(args.chart_lib.as_deref())?
    };
    let queue = args.at.open().await?;
    let interval = Duration::from_millis(args.interval_ms.max(50));
    let mut sampler = Sampler {
        queue,
        backend: args.at.describe(),
        prices: PriceTable::current(),
        seq: 0,
        prev: None,
    };
    // The first sample before listening: a queue that cannot be read
    // fails here, with its error, instead of behind a page.
    sampler
        .sample()
        .await
        .map_err(|e| CliError::other(format!("reading the queue: {e}")))?;
    sampler.prev = None;
    let (latest, _) = watch::channel(0u64);
    let hub = Arc::new(Hub {
        history: Mutex::new(VecDeque::with_capacity(args.history.clamp(1, 100_000))),
        keep: args.history.clamp(1, 100_000),
        latest,
        chart,
    });
    let first = sampler.next().await;
    hub.push(sampler.seq, first);
    let (listener, addr) = connect::listen(args.addr).await?;
    match &hub.chart {
        Some(c) => eprintln!(
            "msgs: dashboard of the {} at http://{addr}/ (charts: {})",
            sampler.backend,
            c.from.display()
        ),
        None if args.no_charts => eprintln!(
            "msgs: dashboard of the {} at http://{addr}/ (tables only: --no-charts)",
            sampler.backend
        ),
        None => eprintln!(
            "msgs: dashboard of the {} at http://{addr}/ (tables only: uPlot not found; `cargo xtask browser` installs it, or pass --chart-lib PATH)",
            sampler.backend
        ),
    }
    let sampler_hub = hub.clone();
    let sampling = tokio::spawn(async move {
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tick.tick().await;
            let s = sampler.next().await;
            sampler_hub.push(sampler.seq, s);
        }
    });
    let app = Dashboard { hub };
    let r = tokio::select! {
        r = messages_relay::serve(listener, app) => {
            r.map_err(|e| CliError::other(format!("accepting connections failed: {e}")))
        }
        _ = tokio::signal::ctrl_c() => Err(CliError::new(130, "")),
    };
    sampling.abort();
    r
}
