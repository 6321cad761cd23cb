#!/usr/bin/env bash
# Upload-acceptance load benchmark (issue 4, docs/benchmarks.md "Upload
# acceptance"). Builds stride and the bare-handler ceiling, starts both on
# free ports of 127.0.0.1, registers a user, and measures with wrk:
#   - small JSON workout at 1, 16 and 64 connections, against the ceiling
#     and against stride (202 = durable);
#   - a 1-hour GPX (3600 points at 1 Hz, generated here) at 16 connections;
#   - the drain of the backlog those runs left (uploads per second, the one
#     worker of --role all, from the last 202 until nothing is queued);
#   - activities processed per second for the 1-hour GPX (K distinct files).
#
# Environment: CONFIG=embedded (default: SQLite + embedded NATS in a temp
# data dir) or CONFIG=postgres (PostgreSQL in a fresh schema + RabbitMQ, both
# on 127.0.0.1, cleaned up afterwards); DURATION seconds per wrk run (10);
# DRAIN_TIMEOUT seconds (600); GPX_FILES (20); LOG_LEVEL for stride (info);
# KEEP_LOGS=DIR to keep the servers' logs.
# Every loop is bounded; every process started here is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/../.."

CONFIG=${CONFIG:-embedded}
DURATION=${DURATION:-10}
DRAIN_TIMEOUT=${DRAIN_TIMEOUT:-600}
GPX_FILES=${GPX_FILES:-20}
LOG_LEVEL=${LOG_LEVEL:-info}
LUA=$PWD/scripts/load/upload.lua

. scripts/load/wrk.sh

tmp=$(mktemp -d /tmp/stride-load.XXXXXX)
pids=()
schema=""
prefix=""
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ -n "$schema" ]; then
    psql -q -h 127.0.0.1 -U postgres -d test -c "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true
  fi
  if [ -n "$prefix" ] && command -v rabbitmqctl >/dev/null; then
    for q in $(rabbitmqctl list_queues -q name 2>/dev/null | grep "^$prefix" || true); do
      rabbitmqctl delete_queue "$q" >/dev/null 2>&1 || true
    done
    for x in $(rabbitmqctl list_exchanges -q name 2>/dev/null | grep "^$prefix" || true); do
      rabbitmqadmin delete exchange name="$x" >/dev/null 2>&1 || true
    done
  fi
  # KEEP_LOGS=DIR keeps the servers' logs for a look after the run.
  if [ -n "${KEEP_LOGS:-}" ]; then mkdir -p "$KEEP_LOGS" && cp "$tmp"/*.out "$tmp"/*.out.err "$KEEP_LOGS"/ 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "# machine: $(nproc) cores, $(go version | cut -d' ' -f3-), wrk $(wrk -v 2>&1 | head -1 | cut -d' ' -f2), config $CONFIG, ${DURATION}s per run"
go build -o "$tmp/stride" ./cmd/stride
go build -o "$tmp/stride-ceiling" ./cmd/stride-ceiling

# gpx FILE DATE: a 1-hour run, 3600 points at 1 Hz, with elevation and heart rate.
gpx() {
  awk -v day="$2" 'BEGIN {
    print "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
    print "<gpx version=\"1.1\" creator=\"stride-load\" xmlns=\"http://www.topografix.com/GPX/1/1\" xmlns:gpxtpx=\"http://www.garmin.com/xmlschemas/TrackPointExtension/v1\">"
    print "<trk><name>Load test run</name><type>running</type><trkseg>"
    for (i = 0; i < 3600; i++) {
      a = i / 3600 * 6.283185
      lat = 38.7223 + 0.02 * sin(a); lon = -9.1393 + 0.025 * cos(a) - 0.025
      printf "<trkpt lat=\"%.7f\" lon=\"%.7f\"><ele>%.1f</ele><time>%sT%02d:%02d:%02dZ</time>", lat, lon, 50 + 20 * sin(3 * a), day, 6 + int(i / 3600), int(i / 60) % 60, i % 60
      printf "<extensions><gpxtpx:TrackPointExtension><gpxtpx:hr>%d</gpxtpx:hr></gpxtpx:TrackPointExtension></extensions></trkpt>\n", 140 + int(15 * sin(a))
    }
    print "</trkseg></trk></gpx>"
  }' > "$1"
}
gpx "$tmp/hour.gpx" 2024-05-01

# start NAME OUTFILE CMD...: run in the background, wait (20 s at most) for
# its URL, left in $url. Not called in $(...): the pid must reach the trap.
start() {
  local name=$1 out=$2; shift 2
  "$@" >"$out" 2>"$out.err" &
  pids+=($!)
  url=""
  for _ in $(seq 200); do
    url=$(grep -o 'listening on http://[0-9.:]*' "$out" | head -1 | cut -d' ' -f3 || true)
    [ -n "$url" ] && return 0
    sleep 0.1
  done
  echo "$name did not start:" >&2; cat "$out.err" >&2; return 1
}

export STRIDE_JWT_SECRET=load-test-secret-0123456789abcdef0123456789
export STRIDE_DATA_DIR=$tmp/data
if [ "$CONFIG" = postgres ]; then
  schema=load_$$_$RANDOM
  prefix=strideload$$$RANDOM
  psql -q -h 127.0.0.1 -U postgres -d test -c "CREATE SCHEMA $schema" >/dev/null
  export STRIDE_DATABASE_URL="postgres://postgres@127.0.0.1:5432/test?sslmode=disable&search_path=$schema"
  export STRIDE_BUS_URL=amqp://guest:guest@127.0.0.1:5672/
  export STRIDE_BUS_PREFIX=$prefix
fi
start ceiling "$tmp/ceiling.out" "$tmp/stride-ceiling" --addr 127.0.0.1:0
ceiling=$url
start stride "$tmp/stride.out" "$tmp/stride" serve --addr 127.0.0.1:0 --log-level "$LOG_LEVEL"
stride=$url

# The uploads come from USERS athletes in turn: one athlete's uploads are
# processed in order, one at a time (docs/bus.md), so a single athlete
# would measure a serial queue, not the service.
USERS=${USERS:-32}
login() {
  curl -fsS -X POST "$stride/api/v1/auth/login" -H 'Content-Type: application/json' \
    -d "{\"email\":\"runner$1@example.com\",\"password\":\"correct horse battery staple\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}
# token: fresh access tokens of every athlete, comma-separated.
token() {
  local all="" k
  for k in $(seq "$USERS"); do all="$all${all:+,}$(login "$k")"; done
  echo "$all"
}
for k in $(seq "$USERS"); do
  curl -fsS -X POST "$stride/api/v1/auth/register" -H 'Content-Type: application/json' \
    -d "{\"email\":\"runner$k@example.com\",\"password\":\"correct horse battery staple\",\"name\":\"Load $k\"}" >/dev/null
done

# unfinished: uploads still queued or processing, read from the store itself.
unfinished() {
  if [ "$CONFIG" = postgres ]; then
    psql -qtA -h 127.0.0.1 -U postgres -d test -c "SELECT count(*) FROM $schema.uploads WHERE status IN ('queued','processing')"
  else
    sqlite3 "file:$tmp/data/stride.db?mode=ro" "SELECT count(*) FROM uploads WHERE status IN ('queued','processing')"
  fi
}

# drain LABEL: time until no upload is queued or processing (bounded).
drain() {
  local start backlog left end
  start=$(date +%s.%N); backlog=$(unfinished); left=$backlog
  local deadline=$((SECONDS + DRAIN_TIMEOUT))
  while [ "$left" -gt 0 ] && [ "$SECONDS" -lt "$deadline" ]; do
    sleep 0.2; left=$(unfinished)
  done
  end=$(date +%s.%N)
  python3 -c "import sys; b,l,s,e=int('$backlog'),int('$left'),float('$start'),float('$end'); d=e-s
print(f'| drain {sys.argv[1]} | backlog {b} | {b-l} finished in {d:.1f} s | {(b-l)/d:.0f} uploads/s | {l} left |')" "$1"
}

# bench TARGET URL CONNS MODE PHASE: one wrk run; prints a table row.
phase=0
bench() {
  local target=$1 url=$2 conns=$3 mode=$4 threads=2
  [ "$conns" -lt 2 ] && threads=1
  phase=$((phase + 1))
  local tok=""; [ "$target" = stride ] && tok=$(token)
  local line
  line=$(TOKEN=$tok MODE=$mode FILE=$tmp/hour.gpx PHASE=$phase \
    wrk -t "$threads" -c "$conns" -d "${DURATION}s" --timeout 10s -s "$LUA" "$url" | grep '^RESULT')
  python3 - "$target" "$mode" "$conns" "$line" <<'PY'
import sys
t, mode, c, line = sys.argv[1:]
f = dict(kv.split("=") for kv in line.split()[1:])
ok = int(f["requests"]) - int(f["non2xx"])
rate = ok / (int(f["duration_us"]) / 1e6)
print(f"| {t} | {mode} | {c} | {rate:.0f} | {int(f['p50_us'])/1000:.2f} | {int(f['p99_us'])/1000:.2f} | {int(f['max_us'])/1000:.1f} | {f['non2xx']} | {f['sockerr']} |")
PY
}

echo "| target | body | conns | 2xx/s | p50 ms | p99 ms | max ms | non-2xx | socket errors |"
echo "|---|---|---|---|---|---|---|---|---|"
# The ceiling first, while stride is idle: run between stride's runs, it
# shared the 2 cores with stride draining its backlog, which depressed it
# (and flattered the ratio).
for c in 1 16 64; do
  bench ceiling "$ceiling" "$c" json
done
bench ceiling "$ceiling" 16 file
for c in 1 16 64; do
  bench stride "$stride" "$c" json
done
drain "small JSON (one worker, --role all)"
bench stride "$stride" 16 file
drain "1-hour GPX, duplicates after the first (parse + analyse, nothing stored)"

# Worker throughput on distinct 1-hour files: parse + metrics + store.
tok=$(login 1)
for k in $(seq "$GPX_FILES"); do gpx "$tmp/gpx-$k.gpx" "$(date -u -d "2023-01-01 +$k days" +%F)"; done
start_ts=$(date +%s.%N)
for k in $(seq "$GPX_FILES"); do
  curl -fsS -o /dev/null -X POST "$stride/api/v1/activities" -H "Authorization: Bearer $tok" \
    -H 'Content-Type: application/gpx+xml' --data-binary "@$tmp/gpx-$k.gpx"
done
drain "$GPX_FILES distinct 1-hour GPX (parse + analyse + store)"
python3 -c "import time; print(f'| {int(\"$GPX_FILES\")} distinct 1-hour GPX from first POST to all done: {time.time()-$start_ts:.2f} s, {int(\"$GPX_FILES\")/(time.time()-$start_ts):.1f} activities/s |')"
failed=$( [ "$CONFIG" = postgres ] && psql -qtA -h 127.0.0.1 -U postgres -d test -c "SELECT status, count(*) FROM $schema.uploads GROUP BY 1" \
  || sqlite3 "file:$tmp/data/stride.db?mode=ro" "SELECT status, count(*) FROM uploads GROUP BY 1")
echo "upload statuses at the end: $(echo $failed)"
# Why any upload failed: a load test must not fail valid uploads.
problems=$( [ "$CONFIG" = postgres ] && psql -qtA -h 127.0.0.1 -U postgres -d test -c "SELECT problem, count(*) FROM $schema.uploads WHERE status = 'failed' GROUP BY 1" \
  || sqlite3 "file:$tmp/data/stride.db?mode=ro" "SELECT problem, count(*) FROM uploads WHERE status = 'failed' GROUP BY 1")
[ -n "$problems" ] && echo "failed uploads: $problems"
true
