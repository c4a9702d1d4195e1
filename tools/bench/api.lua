-- wrk script for tools/bench/api.sh: GET /api/v1/households/{id} for household IDs drawn at
-- random from the file named by IDS_FILE (one ID a line), with the key from API_KEY.
local ids = {}
local file = assert(io.open(os.getenv("IDS_FILE"), "r"))
for line in file:lines() do
  if #line > 0 then ids[#ids + 1] = line end
end
file:close()
assert(#ids > 0, "no household IDs in " .. os.getenv("IDS_FILE"))

local key = os.getenv("API_KEY")
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("seed", counter)
end

function init(args)
  math.randomseed(os.time() + (seed or 0))
  wrk.headers["Authorization"] = "Bearer " .. key
  wrk.headers["X-Purpose"] = "benchmark: household detail lookups"
end

function request()
  return wrk.format("GET", "/api/v1/households/" .. ids[math.random(#ids)])
end

function done(summary, latency, requests)
  io.write(string.format("RESULT requests=%d duration_s=%.3f rps=%.1f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f errors=%d non2xx=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
