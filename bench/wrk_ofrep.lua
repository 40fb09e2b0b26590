-- wrk script: OFREP evaluations, POST BENCH_PATH with an evaluation context and the flags token.
local path = os.getenv("BENCH_PATH") or "/ofrep/v1/evaluate/flags/llm.model_tier"
local token = os.getenv("BENCH_TOKEN") or ""

function init(args)
  wrk.method = "POST"
  wrk.path = path
  wrk.body = '{"context":{"targetingKey":"user-1","plan":"pro"}}'
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. token
end

function done(summary, latency, requests)
  io.write(string.format("BENCH_RESULT requests=%d duration_us=%d errors_status=%d errors_connect=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.duration, summary.errors.status, summary.errors.connect,
    latency:percentile(50), latency:percentile(99)))
end
