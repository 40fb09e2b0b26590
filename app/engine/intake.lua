-- Accept a batch of webhooks in one round trip: dedup each alert with SET NX PX, then XADD
-- the new ones. KEYS[1] = alerts stream, KEYS[1 + i] = the dedup marker of alert i (every
-- key declared, so Redis Cluster can check they share one slot). ARGV[1] = dedup TTL (ms),
-- [2] = queue cap, [3] = number of alerts, then (event key, alert JSON, traceparent) per
-- alert. Returns one character per alert ("1" accepted, "0" duplicate), or "full:<length>"
-- when the backlog would pass the cap (then nothing is added).
local stream, ttl, cap, n = KEYS[1], ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local length = redis.call('XLEN', stream)
if length + n > cap then
  return 'full:' .. length
end
local out = {}
for i = 0, n - 1 do
  local base = 4 + 3 * i
  if redis.call('SET', KEYS[2 + i], '1', 'NX', 'PX', ttl) then
    redis.call('XADD', stream, '*', 'k', ARGV[base], 'a', ARGV[base + 1], 'tp', ARGV[base + 2])
    out[i + 1] = '1'
  else
    out[i + 1] = '0'
  end
end
return table.concat(out)
