-- Accept a batch of webhooks in one round trip: record that each firing alert was seen
-- (duplicates included: a repeat notification is what renews its leases), then dedup each
-- alert with SET NX PX and XADD the new ones to their priority lane.
-- KEYS[1] = normal-lane stream, KEYS[2] = seen sorted set, KEYS[3] = high-lane stream,
-- KEYS[3 + i] = dedup key of alert i ("{ns}dedup:<event key>": the entry's event key is read
-- back from it, not sent twice).
-- ARGV[1] = dedup TTL (ms), [2] = queue cap (both lanes together), [3] = number of alerts,
-- [4] = length of the dedup key prefix, [5..7] = the entry's field names for the event key,
-- alert and trace context (app/engine/queue_entry.py), then per alert (alert JSON, traceparent,
-- seen mark, lane): the mark is "+<fingerprint>" for a firing alert, "-<fingerprint>" for a resolved
-- one, "" for neither; the lane is "h" (high) or "n" (normal).
-- Returns one character per alert ("1" accepted, "0" duplicate), or "full:<length>" when the
-- backlog would pass the cap (then nothing is recorded).
local normal, seen, high = KEYS[1], KEYS[2], KEYS[3]
local ttl, cap, n, skip = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]) + 1
local KEY, ALERT, TRACEPARENT = ARGV[5], ARGV[6], ARGV[7]
local length = redis.call('XLEN', normal) + redis.call('XLEN', high)
if length + n > cap then
  return 'full:' .. length
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
-- Seen marks go to Redis in batches (one ZADD or ZREM per run of up to 500 alerts of one
-- kind, in arrival order), not one call per alert.
local fired, ended = {}, {}
local function flush_fired()
  if #fired > 0 then redis.call('ZADD', seen, unpack(fired)); fired = {} end
end
local function flush_ended()
  if #ended > 0 then redis.call('ZREM', seen, unpack(ended)); ended = {} end
end
local out = {}
for i = 0, n - 1 do
  local base = 8 + 4 * i
  local mark = ARGV[base + 2]
  if mark ~= '' then
    if string.sub(mark, 1, 1) == '+' then
      flush_ended()
      fired[#fired + 1] = now
      fired[#fired + 1] = string.sub(mark, 2)
      if #fired >= 1000 then flush_fired() end
    else
      flush_fired()
      ended[#ended + 1] = string.sub(mark, 2)
      if #ended >= 500 then flush_ended() end
    end
  end
  local dedup = KEYS[4 + i]
  if redis.call('SET', dedup, '1', 'NX', 'PX', ttl) then
    local stream = normal
    if ARGV[base + 3] == 'h' then stream = high end
    redis.call('XADD', stream, '*', KEY, string.sub(dedup, skip), ALERT, ARGV[base], TRACEPARENT, ARGV[base + 1])
    out[i + 1] = '1'
  else
    out[i + 1] = '0'
  end
end
flush_fired()
flush_ended()
return table.concat(out)
