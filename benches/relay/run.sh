#!/usr/bin/env bash
# The relay load benchmark: N concurrent browser-like SSE clients through
# `msgs serve` (format simple), a FastAPI relay and a Node relay, all in front
# of one release emulator pacing 20 ms per token, 500 tokens per reply; and
# the same clients reading the emulator directly, the reference for the
# lateness the relays add.
#
#   benches/relay/run.sh 100 1000        # N values to try
#
# Environment knobs (defaults in brackets): TARGETS, the targets to run
# ["direct relay fastapi node"]; NO_BUILD=1 skips the release builds;
# PACE_MS, the emulator's pace per token and
# the load generator's schedule [20]; REPEAT, runs per (target, N) [1];
# RAMP_PER_SEC, new streams a second [10000];
# RELAY_ARGS, extra `msgs` flags for the relay [none], for example
# `--http2-prior-knowledge` (its upstream requests as HTTP/2 streams, 100 per
# connection, instead of one HTTP/1.1 connection each); EMU_ARGS, extra
# emulator flags [none], for example `--stamp-text`, which makes every text
# delta the time the emulator wrote it, so that the `behind_*` columns give
# each event's delay behind the emulator (the `late_*` columns, which assume
# the emulator's own words, are then meaningless).
# Each result line ends with the machine's load average (1/5/15 min) just
# after the run.
#
# Pinned packages are installed under target/relay-bench/ when missing.
# Results: one `key=value` line per (target, N) from the `load` example (for
# emulator-direct, the RSS and CPU figures are the emulator's).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
T=$ROOT/target/relay-bench
mkdir -p "$T/node"
TARGETS=${TARGETS:-direct relay fastapi node}
PACE_MS=${PACE_MS:-20}
RAMP=${RAMP_PER_SEC:-10000}
REPEAT=${REPEAT:-1}
want() { case " $TARGETS " in *" $1 "*) return 0;; esac; return 1; }
if want fastapi && [ ! -x "$T/venv/bin/uvicorn" ]; then
  python3 -m venv "$T/venv"
  "$T/venv/bin/pip" install -q fastapi==0.165.0 uvicorn==0.54.0 anthropic==2.11.0
fi
if want node && [ ! -d "$T/node/node_modules/@anthropic-ai/sdk" ]; then
  echo '{"name":"relay-bench-node","private":true,"dependencies":{"@anthropic-ai/sdk":"1.11.0"}}' > "$T/node/package.json"
  (cd "$T/node" && npm install --no-audit --no-fund)
fi
cp benches/relay/node_relay.mjs "$T/node/"
if [ -z "${NO_BUILD:-}" ]; then
  cargo build --release -p messages-emulator --bin messages-emulator -p messages-cli --bin msgs
  cargo build --release -p messages-relay --example load
fi
LOAD=$ROOT/target/release/examples/load
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

# start NAME LOGFILE CMD...: runs CMD in the background; sets URL from its
# first "http://127.0.0.1:PORT" line and PID.
start() {
  local log=$1; shift
  "$@" > "$log" 2>&1 &
  PID=$!
  PIDS+=("$PID")
  for _ in $(seq 100); do
    URL=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$log" | head -1 || true)
    [ -n "$URL" ] && return 0
    sleep 0.1
  done
  echo "no address in $log" >&2; cat "$log" >&2; exit 1
}

# shellcheck disable=SC2086
start "$T/emulator.log" target/release/messages-emulator --addr 127.0.0.1:0 --token-delay-ms "$PACE_MS" ${EMU_ARGS:-}
EMU=$URL EMU_PID=$PID
export ANTHROPIC_BASE_URL=$EMU ANTHROPIC_API_KEY=bench RELAY_MAX_TOKENS=500
if want relay; then
  # shellcheck disable=SC2086
  start "$T/relay.log" target/release/msgs ${RELAY_ARGS:-} serve --addr 127.0.0.1:0 --format simple --max-tokens 500 --model claude-haiku-4-5
  RELAY=$URL RELAY_PID=$PID
fi
if want fastapi; then
  FASTAPI_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  start "$T/fastapi.log" "$T/venv/bin/uvicorn" --app-dir benches/relay fastapi_relay:app --host 127.0.0.1 --port "$FASTAPI_PORT" --no-access-log
  FASTAPI=$URL FASTAPI_PID=$PID
fi
if want node; then
  start "$T/node.log" node "$T/node/node_relay.mjs"
  NODE=$URL NODE_PID=$PID
fi

load() { echo "loadavg=$(cut -d' ' -f1-3 /proc/loadavg | tr ' ' /)"; }
# The load generator's own CPU seconds (user + system), appended to its line.
LOAD_CPU=$T/load.cpu
LOADER=$LOAD
LOAD() { [ -x /usr/bin/time ] || { echo 0 0 > "$LOAD_CPU"; "$LOADER" "$@"; return; }; /usr/bin/time -f '%U %S' -o "$LOAD_CPU" "$LOADER" "$@"; }
loadcpu() { echo "loadgen_cpu_s=$(awk '{printf "%.1f", $1 + $2}' "$LOAD_CPU")"; }
for N in "${@:-100}"; do
  for _ in $(seq "$REPEAT"); do
    if want direct; then echo "emulator-direct $(LOAD "$EMU/v1/messages" "$N" --emulator --pid "$EMU_PID" --pace-ms "$PACE_MS" --ramp-per-sec "$RAMP") $(loadcpu) $(load)"; fi
    if want relay; then echo "relay          $(LOAD "$RELAY/chat?format=simple" "$N" --pid "$RELAY_PID" --pace-ms "$PACE_MS" --ramp-per-sec "$RAMP") $(loadcpu) $(load)"; fi
    if want fastapi; then echo "fastapi        $(LOAD "$FASTAPI/chat" "$N" --pid "$FASTAPI_PID" --pace-ms "$PACE_MS" --ramp-per-sec "$RAMP") $(loadcpu) $(load)"; fi
    if want node; then echo "node           $(LOAD "$NODE/chat" "$N" --pid "$NODE_PID" --pace-ms "$PACE_MS" --ramp-per-sec "$RAMP") $(loadcpu) $(load)"; fi
  done
done
