-- Move due follow-ups into the work queue, each exactly once, as an entry naming the playbook
-- to run. KEYS[1] = follow-ups sorted set (key -> due ms), KEYS[2] = high-lane stream,
-- KEYS[3] = the follow-up key of the empty key ("{ns}followup:"): a follow-up's hash is
-- KEYS[3] .. key, KEYS[4] = the per-alert set of the empty fingerprint ("{ns}followups-of:"):
-- an alert's set is KEYS[4] .. fingerprint (both found only while the script runs).
-- ARGV[1] = how many at most, ARGV[2..5] = the entry's field names for the event key, alert,
-- trace context and playbook (app/engine/queue_entry.py). Returns how many were moved.
local KEY, ALERT, TRACEPARENT, RUN = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local now = tonumber(redis.call('TIME')[1]) * 1000
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
local moved = 0
for _, key in ipairs(due) do
  if redis.call('ZREM', KEYS[1], key) == 1 then
    local item = redis.call('HGETALL', KEYS[3] .. key)
    if #item > 0 then
      local f = {}
      for i = 1, #item, 2 do f[item[i]] = item[i + 1] end
      redis.call('XADD', KEYS[2], '*', KEY, 'followup:' .. key, ALERT, f.alert, TRACEPARENT, '', RUN, f.playbook)
      redis.call('SREM', KEYS[4] .. f.fingerprint, key)
      moved = moved + 1
    end
    redis.call('DEL', KEYS[3] .. key)
  end
end
return moved
