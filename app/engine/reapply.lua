-- Queue what a pause refused for one alert, once: the record is removed and only the caller
-- that removed it queues (a resume on one replica racing the leader's pass queues nothing
-- twice). Entry keys derive from the record, so a redelivery is the same event.
-- KEYS[1] = re-apply hash, KEYS[2] = alerts stream. ARGV[1] = fingerprint, ARGV[2] = trigger
-- meta of a full re-apply, ARGV[3] = trigger meta of a refused follow-up, ARGV[4..8] = the
-- entry's field names for the event key, alert, trace context, playbook and trigger
-- (app/engine/queue_entry.py).
-- Returns the number of entries queued.
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw or redis.call('HDEL', KEYS[1], ARGV[1]) ~= 1 then
  return 0
end
local KEY, ALERT, TRACEPARENT, RUN, TRIGGER = ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local record = cjson.decode(raw)
if record.n == nil then
  -- Written by a version before follow-ups were kept apart: {e, a (the alert as an object)}.
  record = {e = record.e, a = cjson.encode(record.a), n = 'legacy', f = true, p = {}}
end
local key = 'reapply:' .. ARGV[1] .. ':' .. record.e .. ':' .. record.n
local queued = 0
if record.f then
  redis.call('XADD', KEYS[2], '*', KEY, key, ALERT, record.a, TRACEPARENT, '', TRIGGER, ARGV[2])
  queued = queued + 1
end
for _, name in ipairs(record.p or {}) do
  redis.call('XADD', KEYS[2], '*', KEY, key .. ':' .. name, ALERT, record.a, TRACEPARENT, '', RUN, name,
    TRIGGER, ARGV[3])
  queued = queued + 1
end
return queued
