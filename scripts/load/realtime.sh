#!/usr/bin/env bash
# Realtime WebSocket load (docs/benchmarks.md "Realtime"). Starts
# `stride serve` with the embedded defaults (SQLite, embedded NATS, --role
# all) under a raised open-files limit, runs scripts/load/realtime against
# it, samples the server's VmRSS from /proc every SAMPLE seconds into
# $OUT/rss.tsv, and stops everything it started on exit.
#
# Environment (defaults in brackets):
#   DEVICES [100] WATCHERS_PER_DEVICE [5] RATE [1] POINTS_PER_BATCH [1]
#   DURATION [60s] IDLE [0] HOLD [0s]: passed to the tool (see -h);
#   TOOL_ARGS: more flags for the tool;
#   PERF=SECONDS: record a CPU profile of the server with perf for that long,
#     starting 10 s into the load, and print its top functions;
#   SAMPLE [5]; OUT: keep the server log, the RSS samples and the tool's JSON
#     summary there (default: a temporary directory, removed on exit);
#   STRIDE_BIN: a stride binary instead of building ./cmd/stride.
# Examples:
#   DEVICES=1000 DURATION=60s scripts/load/realtime.sh
#   DEVICES=0 IDLE=10000 HOLD=5m scripts/load/realtime.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

DEVICES=${DEVICES:-100}
WATCHERS_PER_DEVICE=${WATCHERS_PER_DEVICE:-5}
RATE=${RATE:-1}
POINTS_PER_BATCH=${POINTS_PER_BATCH:-1}
DURATION=${DURATION:-60s}
IDLE=${IDLE:-0}
HOLD=${HOLD:-0s}
SAMPLE=${SAMPLE:-5}
PERF=${PERF:-}

tmp=$(mktemp -d /tmp/stride-rt.XXXXXX)
out=${OUT:-$tmp}
mkdir -p "$out"
pid="" sampler="" perfpid=""
cleanup() {
  for p in $perfpid $sampler; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# One socket is one file on each side: lift the limit as far as allowed
# (the server inherits it; the tool raises its own soft limit itself).
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(go version | cut -d' ' -f3-), open files $(ulimit -n), load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"

bin=${STRIDE_BIN:-$tmp/stride}
[ -n "${STRIDE_BIN:-}" ] || go build -o "$bin" ./cmd/stride
go build -o "$tmp/rtload" ./scripts/load/realtime

export STRIDE_JWT_SECRET=load-test-secret-0123456789abcdef0123456789
export STRIDE_DATA_DIR=$tmp/data
# Tokens live longer than a long hold (the server closes a socket whose
# token expired without renewal: 4001).
export STRIDE_ACCESS_TOKEN_TTL=${STRIDE_ACCESS_TOKEN_TTL:-2h}
export STRIDE_LOG_LEVEL=${STRIDE_LOG_LEVEL:-warn}
"$bin" serve --addr 127.0.0.1:0 >"$out/stride.out" 2>"$out/stride.err" &
pid=$!
url=""
for _ in $(seq 300); do
  url=$(grep -so 'listening on http://[0-9.:]*' "$out/stride.out" | head -1 | cut -d' ' -f3 || true)
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { echo "stride did not start:" >&2; cat "$out/stride.err" >&2; exit 1; }
echo "# server pid $pid at $url, open files limit $(awk '/Max open files/ {print $4}' /proc/$pid/limits)"

(
  printf 'seconds\trss_kb\n'
  t0=$(date +%s)
  while kill -0 "$pid" 2>/dev/null; do
    printf '%s\t%s\n' $(($(date +%s) - t0)) "$(awk '/^VmRSS:/ {print $2}' /proc/$pid/status 2>/dev/null)"
    sleep "$SAMPLE"
  done
) >"$out/rss.tsv" &
sampler=$!

if [ -n "$PERF" ]; then
  (
    # Wait until the devices send (the tool prints "watchers:" just before).
    until grep -qs '^watchers:' "$out/tool.out"; do sleep 1; done
    sleep 10
    exec perf record -F 99 -g -p "$pid" -o "$out/perf.data" -- sleep "$PERF" >/dev/null 2>&1
  ) &
  perfpid=$!
fi

"$tmp/rtload" -url "$url" -server-pid "$pid" -devices "$DEVICES" -watchers-per-device "$WATCHERS_PER_DEVICE" \
  -rate "$RATE" -points-per-batch "$POINTS_PER_BATCH" -duration "$DURATION" -idle "$IDLE" -hold "$HOLD" \
  -json "$out/summary.json" ${TOOL_ARGS:-} | tee "$out/tool.out"

if [ -n "$perfpid" ]; then
  grep -qs '^watchers:' "$out/tool.out" || kill "$perfpid" 2>/dev/null || true
  wait "$perfpid" 2>/dev/null || true
  perfpid=""
  if [ -s "$out/perf.data" ]; then
    echo "# perf: server CPU by function (self), top 25"
    perf report -i "$out/perf.data" --stdio --no-children --sort symbol 2>/dev/null | grep -E '^ +[0-9.]+%' | head -25
  fi
fi
peak=$(awk 'NR > 1 && $2 > m {m = $2} END {print m + 0}' "$out/rss.tsv")
echo "# server RSS peak (sampled every ${SAMPLE}s): $((peak / 1024)) MiB; server warnings/errors logged: $(wc -l <"$out/stride.err")"
