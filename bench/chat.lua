-- wrk script: a ~300-byte non-streaming chat completion, routed by headers.
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
wrk.headers["authorization"] = "Bearer sk-bench"
wrk.headers["x-portkey-provider"] = "openai"
wrk.headers["x-portkey-custom-host"] = os.getenv("MOCK_URL") or "http://127.0.0.1:9100/v1"
wrk.body = '{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Write one short sentence about gateways."}],"temperature":0.2,"max_tokens":64}'

-- Print latency percentiles in microseconds, machine-readable.
done = function(summary, latency, requests)
  io.write(string.format("RESULT rps=%.1f p50=%d p90=%d p99=%d errors=%d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
