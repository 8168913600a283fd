#!/usr/bin/env bash
# End-to-end queue benchmark (results in docs/benchmarks.md, "Work queue"):
#   1. one `msgs worker` process at concurrency 64 against the emulator with
#      200 ms latency: jobs/s and peak RSS;
#   2. three `msgs worker` processes on the same Redis: aggregate jobs/s;
#   3. Python RQ workers (PyPI rq, the official Python SDK, one job per call)
#      on the same Redis and emulator: jobs/s per worker process, RSS.
# Pinned Python packages are installed in a virtualenv under target/.
# Usage: benches/queue/bench.sh [N_JOBS] [RQ_WORKERS] [RQ_JOBS]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$ROOT/target/queue-bench
N=${1:-6000}
RQ_WORKERS=${2:-8}
RQ_N=${3:-400}
LAT_MS=200
CONC=64
mkdir -p "$WORK"
cd "$ROOT"
cargo build --release -p messages-cli --quiet
MSGS=$ROOT/target/release/msgs
if [ ! -x "$WORK/venv/bin/python" ]; then python3 -m venv "$WORK/venv"; fi
"$WORK/venv/bin/python" -m pip install --quiet --disable-pip-version-check "rq==2.12.0" "anthropic==2.11.0"

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
rm -rf "$WORK/redis" && mkdir -p "$WORK/redis"
redis-server --port "$PORT" --bind 127.0.0.1 --dir "$WORK/redis" --save '' --appendonly no >/dev/null &
PIDS+=($!)
REDIS=redis://127.0.0.1:$PORT/
until redis-cli -p "$PORT" ping >/dev/null 2>&1; do sleep 0.05; done

rm -f "$WORK/emu.out" # a stale one would name the last run's port
"$MSGS" emulator --latency-ms "$LAT_MS" --token-delay-ms 0 > "$WORK/emu.out" &
PIDS+=($!)
until grep -q listening "$WORK/emu.out" 2>/dev/null; do sleep 0.05; done
export ANTHROPIC_BASE_URL=$(sed -n 's/^listening on //p' "$WORK/emu.out")
export ANTHROPIC_API_KEY=bench

jobs() { # jobs N PREFIX > FILE
  for ((i = 0; i < $1; i++)); do
    printf '{"custom_id":"%s-%d","params":{"model":"claude-haiku-4-5","max_tokens":16,"messages":[{"role":"user","content":"question %d"}]}}\n' "$2" "$i" "$i"
  done
}
worker() { # worker LOG: one msgs worker until the queue is empty; peak RSS (KiB) in LOG.rss
  /usr/bin/time -f '%M' -o "$1.rss" "$MSGS" worker --redis "$REDIS" --concurrency "$CONC" \
    --no-coordinator --exit-when-idle 1 2> "$1"
}
rate() { sed -n 's/.*(\([0-9.]*\) jobs\/s).*/\1/p' "$1"; }

echo "== 1 msgs worker, concurrency $CONC, $N jobs, emulator latency $LAT_MS ms"
jobs "$N" one > "$WORK/one.jsonl"
"$MSGS" queue enqueue "$WORK/one.jsonl" --redis "$REDIS" 2>/dev/null
worker "$WORK/w1.log"
echo "jobs/s: $(rate "$WORK/w1.log")   peak RSS: $(cat "$WORK/w1.log.rss") KiB"

echo "== 3 msgs workers, concurrency $CONC each, $((3 * N)) jobs"
redis-cli -p "$PORT" flushall >/dev/null
jobs $((3 * N)) three > "$WORK/three.jsonl"
"$MSGS" queue enqueue "$WORK/three.jsonl" --redis "$REDIS" 2>/dev/null
START=$(date +%s.%N)
worker "$WORK/w3a.log" & A=$!
worker "$WORK/w3b.log" & B=$!
worker "$WORK/w3c.log" & C=$!
wait $A $B $C
SUM=0
for f in w3a w3b w3c; do
  SUM=$(python3 -c "print($SUM + $(rate "$WORK/$f.log"))")
  echo "  $f: $(rate "$WORK/$f.log") jobs/s, peak RSS $(cat "$WORK/$f.log.rss") KiB"
done
echo "aggregate (sum of per-process rates): $SUM jobs/s"

echo "== Python RQ: $RQ_WORKERS worker processes, $RQ_N jobs"
redis-cli -p "$PORT" flushall >/dev/null
cd "$ROOT/benches/queue"
"$WORK/venv/bin/python" rq_bench.py enqueue "$REDIS" "$RQ_N"
START=$(date +%s.%N)
RQP=()
for ((w = 0; w < RQ_WORKERS; w++)); do
  /usr/bin/time -f '%M' -o "$WORK/rq$w.rss" "$WORK/venv/bin/python" rq_bench.py work "$REDIS" >/dev/null 2>&1 &
  RQP+=($!)
done
wait "${RQP[@]}"
END=$(date +%s.%N)
FAILED=$(redis-cli -p "$PORT" zcard rq:registry:failed:bench)
python3 - "$START" "$END" "$RQ_N" "$RQ_WORKERS" "$WORK" "$FAILED" <<'PY'
import sys
start, end, n, w, work, failed = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6]
rss = [int(open(f"{work}/rq{i}.rss").read().split()[-1]) for i in range(w)]
el = end - start
print(f"{n} jobs in {el:.2f} s: {n / el:.1f} jobs/s, {n / el / w:.2f} jobs/s per worker process; failed: {failed}")
print(f"peak RSS per worker process (one job at a time): max {max(rss)} KiB, mean {sum(rss) // w} KiB")
PY
