#!/usr/bin/env bash
# Time of the in-memory leaderboard rebuild that `stride serve` runs at start
# on the embedded default (docs/benchmarks.md "Rebuild of the in-memory
# boards"). Migrates a fresh SQLite data directory, seeds N athletes with one
# public outdoor run each, today (UTC), at distinct distances, with the
# sqlite3 shell, then starts `stride serve` RUNS times on it, each time until
# it logs "leaderboards rebuilt", and prints that line and the process's peak
# RSS (VmHWM).
#
# Environment: N=1000000 athletes; RUNS=1; STRIDE_BIN= a stride binary
# instead of building ./cmd/stride; GOMEMLIMIT is passed through (the
# figures in docs/benchmarks.md used GOMEMLIMIT=7GiB at a million).
# The data directory is removed, and the server stopped, on exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v sqlite3 >/dev/null ||
  apt-get install -y sqlite3 >/dev/null || { apt-get update >/dev/null && apt-get install -y sqlite3 >/dev/null; }

N=${N:-1000000}
RUNS=${RUNS:-1}
tmp=$(mktemp -d /tmp/stride-rebuild.XXXXXX)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bin=${STRIDE_BIN:-$tmp/stride}
[ -n "${STRIDE_BIN:-}" ] || go build -o "$bin" ./cmd/stride
export STRIDE_DATA_DIR=$tmp/data STRIDE_JWT_SECRET=rebuild-bench-secret-0123456789abcdef0123
"$bin" migrate >/dev/null
sqlite3 "$STRIDE_DATA_DIR/stride.db" >/dev/null <<SQL
PRAGMA journal_mode=WAL;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $N - 1)
INSERT INTO users (id, email, password_hash, name, role, status, units, default_visibility, created_at, updated_at)
SELECT printf('06H0K%021d', i), printf('athlete%d@seed.invalid', i), '!', printf('Athlete %d', i), 'athlete', 'active',
  'metric', 'public', 1763884800000000 + i, 1763884800000000 + i FROM n;
INSERT INTO activities (id, user_id, upload_id, sport, visibility, start_time, end_time, elapsed_s, timer_s, moving_s,
  distance_m, ascent_m, descent_m, avg_speed_mps, max_speed_mps, calories, created_at, updated_at, local_date, efforts)
SELECT 'a' || substr(id, 2), id, 'seed', 'running', 'public', 1763884800000000, 1763888400000000, 3600, 3600, 3500,
  1000 + (rowid * 7919 % $N) / 10.0, 10, 10, 3, 4, 500, 1763884800000000, 1763884800000000, '$(date -u +%F)', '{}' FROM users;
COMMIT;
SQL
echo "# $(nproc) cores, $(go version | cut -d' ' -f3), N=$N, GOMEMLIMIT=${GOMEMLIMIT:-unset}, load average $(cut -d' ' -f1-3 /proc/loadavg)"
for _ in $(seq "$RUNS"); do
  "$bin" serve --addr 127.0.0.1:0 >"$tmp/out" 2>"$tmp/err" &
  pid=$!
  until grep -q 'leaderboards rebuilt' "$tmp/err"; do
    kill -0 "$pid" 2>/dev/null || { echo "stride exited during the rebuild:" >&2; tail -5 "$tmp/err" >&2; exit 1; }
    sleep 1
  done
  echo "$(grep -o 'leaderboards rebuilt.*' "$tmp/err"), peak RSS $(awk '/VmHWM/ {print int($2/1024)}' /proc/$pid/status) MiB"
  kill "$pid"; wait "$pid" || true
  pid=""
done
