#!/usr/bin/env bash
# Delay from an upload's 202 to the leaderboards reflecting it, under upload
# load (docs/benchmarks.md "Leaderboards through the API"). Starts
# `stride serve` (--role all: API, relay, worker and standings projector in
# one process), registers USERS athletes, posts small JSON workouts with wrk
# (scripts/load/upload.lua) for DURATION seconds, waits until nothing is
# queued or processing and the histogram has counted every upload, then
# reads stride_upload_to_board_seconds from /metrics and prints its count
# and p50/p90/p99, interpolated linearly inside the buckets (as PromQL's
# histogram_quantile does), so a figure is only as fine as its bucket.
#
# Environment: CONFIG=embedded (SQLite, embedded NATS, in-memory ranker) or
# CONFIG=postgres (PostgreSQL in a fresh schema + Redis under a fresh prefix,
# embedded NATS); CONNS=16 wrk connections; RATE= uploads per second in all
# (paced: each connection waits CONNS*1000/RATE ms between requests; empty:
# as fast as the 202s come back); DURATION=20; USERS=32; DRAIN_TIMEOUT=300;
# STRIDE_BIN= a stride binary instead of building ./cmd/stride.
# Everything started here is stopped, and the schema and keys removed, on exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/load/wrk.sh

CONFIG=${CONFIG:-embedded}
CONNS=${CONNS:-16}
RATE=${RATE:-}
DURATION=${DURATION:-20}
USERS=${USERS:-32}
DRAIN_TIMEOUT=${DRAIN_TIMEOUT:-300}
LUA=$PWD/scripts/load/upload.lua

tmp=$(mktemp -d /tmp/stride-lag.XXXXXX)
pid=""
schema=""
prefix=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  [ -z "$schema" ] || psql -q -h 127.0.0.1 -U postgres -d test -c "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true
  [ -z "$prefix" ] || redis-cli --scan --pattern "$prefix:*" 2>/dev/null | xargs -r -n 500 redis-cli unlink >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "# machine: $(nproc) cores, $(go version | cut -d' ' -f3-), config $CONFIG, $CONNS conns, rate ${RATE:-unpaced}, ${DURATION}s, $USERS athletes, load average $(cut -d' ' -f1-3 /proc/loadavg)"
bin=${STRIDE_BIN:-$tmp/stride}
[ -n "${STRIDE_BIN:-}" ] || go build -o "$bin" ./cmd/stride

export STRIDE_JWT_SECRET=load-test-secret-0123456789abcdef0123456789
export STRIDE_DATA_DIR=$tmp/data
if [ "$CONFIG" = postgres ]; then
  schema=lag_$$_$RANDOM
  prefix=stridelag$$$RANDOM
  psql -q -h 127.0.0.1 -U postgres -d test -c "CREATE SCHEMA $schema" >/dev/null
  export STRIDE_DATABASE_URL="postgres://postgres@127.0.0.1:5432/test?sslmode=disable&search_path=$schema"
  export STRIDE_REDIS_URL=redis://127.0.0.1:6379/0 STRIDE_REDIS_PREFIX=$prefix
fi
"$bin" serve --addr 127.0.0.1:0 >"$tmp/stride.out" 2>"$tmp/stride.out.err" &
pid=$!
url=""
for _ in $(seq 300); do
  url=$(grep -so 'listening on http://[0-9.:]*' "$tmp/stride.out" | head -1 | cut -d' ' -f3 || true)
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { echo "stride did not start:" >&2; cat "$tmp/stride.out.err" >&2; exit 1; }

tokens=""
for k in $(seq "$USERS"); do
  body="{\"email\":\"lag$k@example.com\",\"password\":\"correct horse battery staple\",\"name\":\"Lag $k\"}"
  tok=$(curl -fsS -X POST "$url/api/v1/auth/register" -H 'Content-Type: application/json' -d "$body" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  tokens="$tokens${tokens:+,}$tok"
done

delay=0
[ -z "$RATE" ] || delay=$((CONNS * 1000 / RATE))
threads=2; [ "$CONNS" -lt 2 ] && threads=1
TOKEN=$tokens MODE=json PHASE=1 DELAY_MS=$delay wrk -t "$threads" -c "$CONNS" -d "${DURATION}s" --timeout 10s -s "$LUA" "$url" | grep '^RESULT'

# metric NAME: the sum of a series' samples in /metrics (0 if absent).
metric() { curl -fsS "$url/metrics" | awk -v n="$1" '$1 == n || index($1, n "{") == 1 {s += $2} END {printf "%d", s}'; }
accepted=$(metric stride_uploads_accepted_total)
t0=$(date +%s.%N)
deadline=$((SECONDS + DRAIN_TIMEOUT))
while [ "$(metric stride_upload_to_board_seconds_count)" -lt "$accepted" ] && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.5; done
echo "accepted $accepted; board written for $(metric stride_upload_to_board_seconds_count); the backlog took $(python3 -c "import time; print(f'{time.time() - $t0:.1f}')") s after wrk stopped"
curl -fsS "$url/metrics" | python3 -c '
import re, sys
b = []
for l in sys.stdin:
    m = re.match(r"stride_upload_to_board_seconds_bucket\{le=\"([^\"]+)\"\} (\S+)", l)
    if m:
        b.append((float("inf") if m[1] == "+Inf" else float(m[1]), float(m[2])))
b.sort()
total = b[-1][1]
def q(p):
    want, lo, below = p * total, 0.0, 0.0
    for le, c in b:
        if c >= want:
            if le == float("inf"):
                return f"> {lo * 1000:.0f} ms"  # past the last finite bucket
            return f"{(lo + (le - lo) * (want - below) / max(c - below, 1e-9)) * 1000:.0f} ms"
        lo, below = le, c
print(f"stride_upload_to_board_seconds: count {total:.0f}, p50 {q(.5)}, p90 {q(.9)}, p99 {q(.99)}")
print("buckets (le: cumulative count): " + ", ".join(f"{le:g}: {c:.0f}" for le, c in b))
'
