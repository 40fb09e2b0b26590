-- wrk script: POST Alertmanager payloads with BENCH_ALERTS alerts each, fresh fingerprints per
-- request (so the intake's dedup cannot short-cut), the alertname from BENCH_ALERTNAME. The `n`
-- label is unique per alert too: a BenchFlag flood sets one flag per alert, as the drain does.
local alerts = tonumber(os.getenv("BENCH_ALERTS") or "1")
local name = os.getenv("BENCH_ALERTNAME") or "BenchIngest"
local token = os.getenv("BENCH_TOKEN") or ""
local counter = 0


function setup(thread)
  thread:set("thread_id", math.random(1, 1e9))
end

function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. token
end

function request()
  counter = counter + 1
  local parts = {}
  for i = 1, alerts do
    parts[i] = string.format(
      '{"status":"firing","labels":{"alertname":"%s","severity":"warning","n":"%x-%x-%d"},' ..
      '"annotations":{"description":"bench"},"startsAt":"2026-11-26T10:00:00Z",' ..
      '"endsAt":"0001-01-01T00:00:00Z","generatorURL":"","fingerprint":"%x%08x%04x"}',
      name, thread_id or 0, counter, i, thread_id or 0, counter, i)
  end
  local body = '{"version":"4","status":"firing","receiver":"autonomic","groupKey":"{}","alerts":[' ..
    table.concat(parts, ",") .. ']}'
  return wrk.format(nil, "/webhooks/alertmanager", nil, body)
end

function done(summary, latency, requests)
  local codes = {}
  io.write(string.format("BENCH_RESULT requests=%d duration_us=%d errors_status=%d errors_connect=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.duration, summary.errors.status, summary.errors.connect,
    latency:percentile(50), latency:percentile(99)))
end
