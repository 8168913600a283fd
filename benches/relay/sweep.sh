#!/usr/bin/env bash
# The relay benchmark's full sweep, as recorded in docs/benchmarks.md
# ("Browser relay: the delay behind the emulator per event, HTTP/2 upstream,
# 10,000 streams"). Every run uses an emulator that stamps each text delta
# with the time it wrote it (`--stamp-text`), so each event's delay behind
# the emulator is measured directly, and new streams arrive at 1,000 a
# second. Builds once, then calls run.sh (one fresh relay and baseline
# process per call).
#
#   benches/relay/sweep.sh              # about 15 minutes on 2 cores
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release -p messages-emulator --bin messages-emulator -p messages-cli --bin msgs
cargo build --release -p messages-relay --example load
export NO_BUILD=1 RAMP_PER_SEC=1000
R=benches/relay/run.sh
H2=--http2-prior-knowledge
LONG="--stamp-text --fault text=500"   # 500-token replies: 235 events, 10 s at 20 ms a token

echo "## the baselines and the relay: 20 ms a token, 500-token replies, each N twice"
EMU_ARGS=$LONG REPEAT=2 TARGETS="direct fastapi" $R 10 20 50 100
EMU_ARGS=$LONG REPEAT=2 TARGETS="direct node" $R 20 50 100 200 500
EMU_ARGS=$LONG REPEAT=2 TARGETS="direct relay" RELAY_ARGS=$H2 $R 500 1000 1500 2000

echo "## memory: a fresh relay per line, short (about 75 tokens) and 500-token replies"
for args in "--stamp-text" "$LONG"; do
  for n in 100 1000; do
    EMU_ARGS=$args TARGETS=relay RELAY_ARGS=$H2 $R "$n"
    EMU_ARGS=$args TARGETS=relay RELAY_ARGS= $R "$n"
  done
done

echo "## 10,000 concurrent streams, short replies (HTTP/2 upstream; over HTTP/1.1"
echo "## the relay would need 20,000 descriptors, the limit here)"
for pace in 500 200; do
  EMU_ARGS=--stamp-text PACE_MS=$pace TARGETS="direct relay" RELAY_ARGS=$H2 $R 10000
done
