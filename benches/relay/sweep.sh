#!/usr/bin/env bash
# The relay benchmark's full sweep, as recorded in docs/benchmarks.md
# ("Browser relay: per-event delay behind the emulator, HTTP/2 upstream,
# 10,000 streams"). Every run uses an emulator that stamps each text delta
# with the time it wrote it (`--stamp-text`), so each event's delay behind
# the emulator is measured directly, and new streams arrive at 1,000 a
# second. Builds once, then calls run.sh (one fresh relay and baseline
# process per call).
#
#   benches/relay/sweep.sh              # about 12 minutes on 2 cores
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release -p messages-emulator --bin messages-emulator -p messages-cli --bin msgs
cargo build --release -p messages-relay --example load
export NO_BUILD=1 EMU_ARGS=--stamp-text RAMP_PER_SEC=1000
R=benches/relay/run.sh
H2=--http2-prior-knowledge

echo "## baselines and the relay at 20 ms per token, each N twice"
REPEAT=2 TARGETS="direct fastapi node" $R 5 10 20 50
REPEAT=2 TARGETS="direct relay" RELAY_ARGS=$H2 $R 100 200 500 1000
REPEAT=2 TARGETS="direct relay" RELAY_ARGS= $R 500 1000

echo "## memory: a fresh relay per line"
for n in 100 1000; do
  TARGETS=relay RELAY_ARGS=$H2 $R "$n"
  TARGETS=relay RELAY_ARGS= $R "$n"
done

echo "## 10,000 concurrent streams (HTTP/2 upstream; over HTTP/1.1 the relay"
echo "## would need 20,000 descriptors, the limit here)"
for pace in 500 200; do
  PACE_MS=$pace TARGETS="direct relay" RELAY_ARGS=$H2 $R 10000
done
