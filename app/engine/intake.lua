-- Accept one webhook in one round trip: dedup each alert with SET NX PX, then XADD
-- the new ones. KEYS[1] = alerts stream. ARGV[1] = namespace, [2] = dedup TTL (ms),
-- [3] = queue cap, [4] = number of alerts, then (event key, alert JSON, traceparent)
-- per alert. Returns {accepted, duplicates}, or {-1, length} when the queue is full.
local stream, ns, ttl, cap, n = KEYS[1], ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local length = redis.call('XLEN', stream)
if length + n > cap then
  return {-1, length}
end
local accepted, duplicates = 0, 0
for i = 0, n - 1 do
  local base = 5 + 3 * i
  if redis.call('SET', ns .. 'dedup:' .. ARGV[base], '1', 'NX', 'PX', ttl) then
    redis.call('XADD', stream, '*', 'k', ARGV[base], 'a', ARGV[base + 1], 'tp', ARGV[base + 2])
    accepted = accepted + 1
  else
    duplicates = duplicates + 1
  end
end
return {accepted, duplicates}
