#!/usr/bin/env bash
# Fleet scale (results in docs/benchmarks.md, "Work queue: where the CPU goes"):
# 1 and then 3 `msgs worker` processes (concurrency 64 each) on one Redis and
# one emulator (200 ms latency), N jobs per worker. For each run it prints
#   - jobs/s: the sum of the workers' own rates (results over their active
#     time) and all jobs over the longest active time;
#   - CPU time per job, in microseconds, of the workers (user+sys from
#     /usr/bin/time), redis-server and the emulator (utime+stime deltas from
#     /proc/PID/stat): noise from other processes changes these far less
#     than it changes jobs/s;
#   - Redis commands per job by name (INFO commandstats deltas: calls made by
#     the clients and from inside the Lua scripts), and round trips per job
#     (the commands clients send: EVALSHA, MULTI...EXEC counted once, plain
#     commands);
#   - the load average before the run.
# Usage: [MSGS_BIN=path/to/msgs] benches/queue/scale.sh [N_PER_WORKER] [WORKERS...]   (default 3000, "1 3")
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$ROOT/target/queue-scale
N=${1:-3000}
shift || true
COUNTS=("${@:-1 3}")
read -r -a COUNTS <<< "${COUNTS[*]}"
LAT_MS=200
CONC=64
mkdir -p "$WORK"
cd "$ROOT"
# MSGS_BIN: another build of msgs to measure (an older commit's), instead of this tree's.
if [ -n "${MSGS_BIN:-}" ]; then
  MSGS=$MSGS_BIN
else
  cargo build --release -p messages-cli --bin msgs --quiet
  MSGS=$ROOT/target/release/msgs
fi
TCK=$(getconf CLK_TCK)

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
rm -rf "$WORK/redis" && mkdir -p "$WORK/redis"
redis-server --port "$PORT" --bind 127.0.0.1 --dir "$WORK/redis" --save '' --appendonly no >/dev/null &
REDIS_PID=$!
PIDS+=($REDIS_PID)
REDIS=redis://127.0.0.1:$PORT/
until redis-cli -p "$PORT" ping >/dev/null 2>&1; do sleep 0.05; done

rm -f "$WORK/emu.out" # a stale one would name the last run's port
"$MSGS" emulator --latency-ms "$LAT_MS" --token-delay-ms 0 > "$WORK/emu.out" &
EMU_PID=$!
PIDS+=($EMU_PID)
until grep -q listening "$WORK/emu.out" 2>/dev/null; do sleep 0.05; done
export ANTHROPIC_BASE_URL=$(sed -n 's/^listening on //p' "$WORK/emu.out")
export ANTHROPIC_API_KEY=bench

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
cmdstats() { redis-cli -p "$PORT" info commandstats | tr -d '\r' | sed -n 's/^cmdstat_\([^:]*\):calls=\([0-9]*\).*/\1 \2/p' | sort; }
jobs() { # jobs N PREFIX > FILE
  for ((i = 0; i < $1; i++)); do
    printf '{"custom_id":"%s-%d","params":{"model":"claude-haiku-4-5","max_tokens":16,"messages":[{"role":"user","content":"question %d"}]}}\n' "$2" "$i" "$i"
  done
}

for W in "${COUNTS[@]}"; do
  TOTAL=$((W * N))
  redis-cli -p "$PORT" flushall >/dev/null
  jobs "$TOTAL" "w$W" > "$WORK/jobs-$W.jsonl"
  "$MSGS" queue enqueue "$WORK/jobs-$W.jsonl" --redis "$REDIS" 2>/dev/null
  LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
  redis-cli -p "$PORT" config resetstat >/dev/null
  R0=$(ticks $REDIS_PID); E0=$(ticks $EMU_PID)
  WP=()
  for ((k = 0; k < W; k++)); do
    /usr/bin/time -f '%U %S %M' -o "$WORK/w$W-$k.time" "$MSGS" worker --redis "$REDIS" \
      --concurrency "$CONC" --no-coordinator --exit-when-idle 1 2> "$WORK/w$W-$k.log" &
    WP+=($!)
  done
  wait "${WP[@]}"
  R1=$(ticks $REDIS_PID); E1=$(ticks $EMU_PID)
  cmdstats > "$WORK/cmd-$W.txt"
  python3 - "$W" "$TOTAL" "$TCK" "$R0" "$R1" "$E0" "$E1" "$WORK" "$LOAD" <<'PY'
import re, sys
w, total, tck = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
r0, r1, e0, e1 = (int(x) for x in sys.argv[4:8])
work, load = sys.argv[8], sys.argv[9]
rates, actives, wcpu, rss = [], [], 0.0, []
for k in range(w):
    log = open(f"{work}/w{w}-{k}.log").read()
    m = re.search(r"(\d+) results stored in ([0-9.]+) s of work \(([0-9.]+) jobs/s\)", log)
    rates.append(float(m.group(3)))
    actives.append(float(m.group(2)))
    u, s, maxrss = open(f"{work}/w{w}-{k}.time").read().split()[-3:]
    wcpu += float(u) + float(s)
    rss.append(int(maxrss))
cmds = dict(l.split() for l in open(f"{work}/cmd-{w}.txt"))
cmds = {k: int(v) for k, v in cmds.items()}
# Round trips: a script (EVALSHA) is one, MULTI ... EXEC is one, and so is
# each command the scripts never call (PTTL: the limiter's pause check; ZADD:
# the heartbeat pipeline; XCLAIM: lease renewals; HGETALL: job reads). HSET
# outside scripts (headroom, callbacks, failures) does not occur in this run.
rt = sum(cmds.get(k, 0) for k in ("evalsha", "eval", "exec", "pttl", "zadd", "xclaim", "hgetall"))
us = lambda ticks: ticks / tck * 1e6 / total
print(f"== {w} worker(s) x concurrency 64, {total} jobs, emulator latency 200 ms; load average before: {load}")
print(f"jobs/s: per process {' + '.join(f'{r:.1f}' for r in rates)} = {sum(rates):.1f}; "
      f"all jobs / longest active time: {total / max(actives):.1f}")
print(f"CPU per job: workers {wcpu * 1e6 / total:.0f} us, redis {us(r1 - r0):.0f} us, "
      f"emulator {us(e1 - e0):.0f} us; peak RSS per worker {max(rss) // 1024} MiB")
per = ", ".join(f"{k} {v / total:.2f}" for k, v in sorted(cmds.items(), key=lambda kv: -kv[1]) if v / total >= 0.01)
print(f"redis commands per job (clients and scripts): {per}")
print(f"redis round trips per job: {rt / total:.2f}")
PY
done
