-- wrk script for scripts/load/leaderboard.sh: GET a leaderboard.
-- MODE=around asks for the caller's neighbourhood (around=me, limit LIMIT,
-- default 10); MODE=top asks for the first LIMIT entries (default 100).
-- TOKEN holds bearer tokens, comma-separated, used in turn (each connection
-- starts at a different one), so the reads come from athletes spread over
-- the board. BOARD is the path and query before the mode's parameters
-- (default the all-time distance board of every sport).
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

local function nonempty(s)
  if s == "" then return nil end
  return s
end

function init(args)
  local mode = os.getenv("MODE") or "around"
  tokens = {}
  for t in string.gmatch(os.getenv("TOKEN") or "", "[^,]+") do table.insert(tokens, t) end
  if #tokens == 0 then tokens = { "" } end
  local board = os.getenv("BOARD") or "/api/v1/leaderboards/distance?period=all"
  if mode == "top" then
    path = board .. "&limit=" .. (nonempty(os.getenv("LIMIT")) or "100")
  else
    path = board .. "&around=me&limit=" .. (nonempty(os.getenv("LIMIT")) or "10")
  end
  headers = {}
  n = tid * 7
end

function request()
  n = n + 1
  headers["Authorization"] = "Bearer " .. tokens[(n % #tokens) + 1]
  return wrk.format("GET", path, headers)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d non2xx=%d sockerr=%d duration_us=%d p50_us=%d p99_us=%d max_us=%d\n",
    summary.requests, e.status, e.connect + e.read + e.write + e.timeout, summary.duration,
    latency:percentile(50), latency:percentile(99), latency.max))
end
