-- Kubernetes write budgets: sliding windows per workload, per namespace and in total.
-- KEYS[1] = workload window, KEYS[2] = namespace window, KEYS[3] = total window (sorted sets
-- of spent units scored by time). ARGV[1..3] = the three limits, ARGV[4] = window (ms), then
-- one member per unit to spend (idempotency key, or key:pod), so a repeated action spends nothing.
-- Returns 0 when spent (or already spent), else the index (1..3) of the budget that is used up.
local now = tonumber(redis.call('TIME')[1]) * 1000
local window = tonumber(ARGV[4])
local fresh = {}
for i = 1, 3 do
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - window)
end
for j = 5, #ARGV do
  if not redis.call('ZSCORE', KEYS[1], ARGV[j]) then
    fresh[#fresh + 1] = ARGV[j]
  end
end
if #fresh == 0 then return 0 end
for i = 1, 3 do
  if redis.call('ZCARD', KEYS[i]) + #fresh > tonumber(ARGV[i]) then return i end
end
for i = 1, 3 do
  for _, member in ipairs(fresh) do
    redis.call('ZADD', KEYS[i], now, member)
  end
  redis.call('PEXPIRE', KEYS[i], window)
end
return 0
