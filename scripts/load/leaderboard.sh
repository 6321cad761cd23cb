#!/usr/bin/env bash
# Leaderboard read load benchmark (docs/benchmarks.md "Leaderboards through
# the API"). Creates a fresh PostgreSQL schema, migrates it, seeds N athletes
# with one public activity each and CLIENTS sessions (scripts/load/seedboard),
# starts `stride serve` on a free port and measures with wrk
# GET /api/v1/leaderboards/distance?period=all with around=me (limit 10) and
# top 100 (limit=100), tokens rotated across the seeded athletes.
#
# Environment:
#   N=100000          athletes (and activities)
#   CLIENTS=64        wrk connections (and minted tokens, at most N)
#   DURATION=20       seconds per wrk run
#   RANKER=redis      redis: the seeder writes the one benchmarked board
#                     (distance:all:all:all:public:all) to Redis on
#                     127.0.0.1:6379 under a fresh prefix, through the ranker
#                     port; memory: the in-memory ranker, which the server
#                     rebuilds from the database at start (every board of
#                     every activity) before the runs
#   MODES="around top"  around: around=me (limit 10); top: limit=100;
#                     top10: limit=10 (the seeds' reference read)
#   STRIDE_BIN=       a stride binary to use instead of building ./cmd/stride
#   REBUILD_TIMEOUT=900  seconds to wait for the in-memory rebuild
#   KEEP_LOGS=DIR     keep the server's log
# The schema and the Redis keys are removed, and every process started here
# stopped, on exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/load/wrk.sh

N=${N:-100000}
CLIENTS=${CLIENTS:-64}
DURATION=${DURATION:-20}
RANKER=${RANKER:-redis}
MODES=${MODES:-around top}
REBUILD_TIMEOUT=${REBUILD_TIMEOUT:-900}
REDIS=redis://127.0.0.1:6379/0
LUA=$PWD/scripts/load/leaderboard.lua

tmp=$(mktemp -d /tmp/stride-lb.XXXXXX)
pid=""
schema=lb_$$_$RANDOM
prefix=stridelb$$$RANDOM
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  psql -q -h 127.0.0.1 -U postgres -d test -c "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true
  redis-cli --scan --pattern "$prefix:*" 2>/dev/null | xargs -r -n 500 redis-cli unlink >/dev/null 2>&1 || true
  if [ -n "${KEEP_LOGS:-}" ]; then mkdir -p "$KEEP_LOGS" && cp "$tmp"/*.out* "$KEEP_LOGS"/ 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "# machine: $(nproc) cores, $(go version | cut -d' ' -f3-), wrk $(wrk -v 2>&1 | head -1 | cut -d' ' -f2), N=$N, ranker $RANKER, $CLIENTS clients, ${DURATION}s per run, load average $(cut -d' ' -f1-3 /proc/loadavg)"
bin=${STRIDE_BIN:-$tmp/stride}
[ -n "${STRIDE_BIN:-}" ] || go build -o "$bin" ./cmd/stride
go build -o "$tmp/seedboard" ./scripts/load/seedboard

export STRIDE_JWT_SECRET=load-test-secret-0123456789abcdef0123456789
export STRIDE_DATA_DIR=$tmp/data
export STRIDE_DATABASE_URL="postgres://postgres@127.0.0.1:5432/test?sslmode=disable&search_path=$schema"
psql -q -h 127.0.0.1 -U postgres -d test -c "CREATE SCHEMA $schema" >/dev/null
"$bin" migrate >/dev/null
seed=(-database-url "$STRIDE_DATABASE_URL" -n "$N" -tokens "$CLIENTS" -tokens-out "$tmp/tokens")
if [ "$RANKER" = redis ]; then
  seed+=(-redis-url "$REDIS" -redis-prefix "$prefix")
  export STRIDE_REDIS_URL=$REDIS STRIDE_REDIS_PREFIX=$prefix
fi
"$tmp/seedboard" "${seed[@]}"

"$bin" serve --addr 127.0.0.1:0 >"$tmp/stride.out" 2>"$tmp/stride.out.err" &
pid=$!
url=""
for _ in $(seq 300); do
  url=$(grep -so 'listening on http://[0-9.:]*' "$tmp/stride.out" | head -1 | cut -d' ' -f3 || true)
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { echo "stride did not start:" >&2; cat "$tmp/stride.out.err" >&2; exit 1; }
if [ "$RANKER" = memory ]; then
  t0=$(date +%s)
  peak=0
  while ! grep -q 'leaderboards rebuilt' "$tmp/stride.out.err"; do
    [ $(( $(date +%s) - t0 )) -lt "$REBUILD_TIMEOUT" ] || { echo "rebuild not done in ${REBUILD_TIMEOUT}s" >&2; exit 1; }
    kill -0 "$pid" || { echo "stride exited during the rebuild:" >&2; tail -5 "$tmp/stride.out.err" >&2; exit 1; }
    rss=$(awk '/VmRSS/ {print $2}' /proc/$pid/status); [ "$rss" -gt "$peak" ] && peak=$rss
    sleep 1
  done
  grep 'leaderboards rebuilt' "$tmp/stride.out.err"
  curl -fsS "$url/metrics" | awk '$1 == "go_memstats_heap_inuse_bytes" || $1 == "go_memstats_heap_alloc_bytes" {printf "%s %d MiB\n", $1, $2 / 1048576}'
  echo "stride RSS after rebuild: $(awk '/VmRSS/ {print int($2/1024)}' /proc/$pid/status) MiB (peak seen during it: $((peak / 1024)) MiB, VmHWM $(awk '/VmHWM/ {print int($2/1024)}' /proc/$pid/status) MiB)"
else
  echo "redis used_memory: $(redis-cli info memory | awk -F: '/^used_memory_human/ {print $2}' | tr -d '\r'), stride RSS $(awk '/VmRSS/ {print int($2/1024)}' /proc/$pid/status) MiB"
fi

tokens=$(cat "$tmp/tokens")
first=${tokens%%,*}
# One read of each kind, to check the board before timing it.
curl -fsS -H "Authorization: Bearer $first" "$url/api/v1/leaderboards/distance?period=all&around=me&limit=10" |
  python3 -c 'import json,sys; p=json.load(sys.stdin); print("check: board", p["board"]["period_key"], "athletes", p["board"]["athletes"], "me", p["me"]["rank"], "entries", len(p["entries"]))'

# snap: CPU ticks (1/100 s, user + system) of every process, and of the
# whole machine, to see where the two cores go during a run.
snap() { { head -1 /proc/stat; for f in /proc/[0-9]*/stat; do cat "$f" 2>/dev/null || true; done; } >"$1"; }
echo "| ranker | N | read | clients | 2xx/s | p50 ms | p99 ms | max ms | non-2xx | socket errors | CPU ms per read: stride / postgres / redis / whole machine (wrk included) |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for mode in $MODES; do
  snap "$tmp/before"
  wrkmode=$mode limit=""
  [ "$mode" = top10 ] && wrkmode=top limit=10
  line=$(TOKEN=$tokens MODE=$wrkmode LIMIT=$limit wrk -t 2 -c "$CLIENTS" -d "${DURATION}s" --timeout 10s -s "$LUA" "$url" | grep '^RESULT')
  snap "$tmp/after"
  python3 - "$RANKER" "$N" "$mode" "$CLIENTS" "$line" "$tmp/before" "$tmp/after" "$pid" <<'PY'
import sys
rk, n, mode, c, line, before, after, pid = sys.argv[1:]
f = dict(kv.split("=") for kv in line.split()[1:])
ok = int(f["requests"]) - int(f["non2xx"])
rate = ok / (int(f["duration_us"]) / 1e6)
def load(path):
    procs, machine = {}, 0
    for l in open(path):
        if l.startswith("cpu "):
            machine = sum(int(x) for x in l.split()[1:4]) + sum(int(x) for x in l.split()[6:8])
            continue
        try:
            head, _, rest = l.rpartition(")")
            pid_, comm = head.split(" (", 1)
            x = rest.split()
            procs[pid_] = (comm, int(x[11]) + int(x[12]))
        except (ValueError, IndexError):
            pass  # a process that ended while it was read
    return procs, machine
(b, mb), (a, ma) = load(before), load(after)
by = {}
for p, (comm, t) in a.items():
    key = "stride" if p == pid else comm
    by[key] = by.get(key, 0) + t - b.get(p, (comm, 0))[1]
reqs = max(int(f["requests"]), 1)
ms = lambda k: by.get(k, 0) * 10 / reqs
d = [ms("stride"), ms("postgres"), ms("redis-server"), (ma - mb) * 10 / reqs]
print(f"| {rk} | {int(n):,} | {mode} | {c} | {rate:,.0f} | {int(f['p50_us'])/1000:.2f} | {int(f['p99_us'])/1000:.2f} | {int(f['max_us'])/1000:.1f} | {f['non2xx']} | {f['sockerr']} | {d[0]:.2f} / {d[1]:.2f} / {d[2]:.2f} / {d[3]:.2f} |")
PY
done
echo "stride RSS at the end: $(awk '/VmRSS/ {print int($2/1024)}' /proc/$pid/status) MiB"
