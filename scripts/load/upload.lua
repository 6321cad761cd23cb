-- wrk script for scripts/load/run.sh: POST /api/v1/activities.
-- MODE=json sends a small manual-entry workout whose start time differs on
-- every request (so the worker stores each as a new activity, not a
-- duplicate); MODE=file sends FILE as CONTENT_TYPE. TOKEN holds bearer
-- tokens, comma-separated, used in turn (several athletes); PHASE keeps the
-- start times of separate runs apart. DELAY_MS, when set, makes each
-- connection wait that long before each request (an open rate of about
-- connections * 1000 / DELAY_MS uploads per second instead of as fast as
-- the 202s come back).
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function init(args)
  mode = os.getenv("MODE") or "json"
  tokens = {}
  for t in string.gmatch(os.getenv("TOKEN") or "", "[^,]+") do table.insert(tokens, t) end
  if #tokens == 0 then tokens = { "" } end
  headers = {}
  if mode == "file" then
    local f = assert(io.open(os.getenv("FILE"), "rb"))
    filebody = f:read("*a")
    f:close()
    headers["Content-Type"] = os.getenv("CONTENT_TYPE") or "application/gpx+xml"
  else
    headers["Content-Type"] = "application/json"
  end
  -- Start times in the past: 2017 onwards, a slice per phase and thread.
  base = 1500000000 + (tonumber(os.getenv("PHASE") or "0") * 8 + tid) * 4000000
  n = 0
  delay_ms = tonumber(os.getenv("DELAY_MS") or "0")
end

function delay()
  return delay_ms
end

function request()
  n = n + 1
  headers["Authorization"] = "Bearer " .. tokens[(n % #tokens) + 1]
  if mode == "file" then
    return wrk.format("POST", "/api/v1/activities", headers, filebody)
  end
  local body = string.format(
    '{"sport":"running","start_time":"%s","elapsed_s":1800,"distance_m":5000,"calories":350,"name":"Lunch run"}',
    os.date("!%Y-%m-%dT%H:%M:%SZ", base + n))
  return wrk.format("POST", "/api/v1/activities", headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d non2xx=%d sockerr=%d duration_us=%d p50_us=%d p99_us=%d max_us=%d\n",
    summary.requests, e.status, e.connect + e.read + e.write + e.timeout, summary.duration,
    latency:percentile(50), latency:percentile(99), latency.max))
end
