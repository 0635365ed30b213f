-- wrk script for bench/run. Environment:
--   BODY_FILE  request body file (JSON)
--   HEADERS    extra request headers, "name: value" separated by "\n"
--   PATH_      request path (default /v1/chat/completions)
wrk.method = "POST"
wrk.path = os.getenv("PATH_") or "/v1/chat/completions"
wrk.headers["content-type"] = "application/json"
local f = assert(io.open(os.getenv("BODY_FILE"), "rb"))
wrk.body = f:read("*a")
f:close()
local extra = os.getenv("HEADERS") or ""
for line in string.gmatch(extra, "[^\n]+") do
  local k, v = string.match(line, "^([^:]+):%s*(.*)$")
  if k then wrk.headers[k] = v end
end

-- DELAY_MS: pause before each request (a paced, steadier rate for soak runs).
local pause = tonumber(os.getenv("DELAY_MS") or "")
if pause then
  delay = function() return pause end
end

done = function(summary, latency, requests)
  local non2xx = summary.errors.status
  io.write(string.format("RESULT rps=%.1f p50=%d p90=%d p99=%d requests=%d errors=%d non2xx=%d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(90), latency:percentile(99), summary.requests,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, non2xx))
end
