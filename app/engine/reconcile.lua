-- The reconciler's resolve of an alert no Alertmanager reports any more: queue a resolved
-- notification exactly as the webhook would (deduplicated against the real one), and stop
-- watching the alert, in one atomic step.
-- KEYS[1] = alerts stream, KEYS[2] = dedup key of the resolved notification, KEYS[3] = tracked
-- hash, KEYS[4] = absent hash, KEYS[5] = seen zset, KEYS[6] = reconciled zset (fingerprint ->
-- when: a re-fire Alertmanager does not notify is adopted from its API).
-- ARGV[1] = fingerprint, [2] = dedup TTL (ms), [3...] = the queue entry's fields, as name,
-- value pairs (app/engine/queue_entry.py). Returns 1 if queued, 0 if that resolved
-- notification was already accepted.
local queued = 0
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[2]) then
  redis.call('XADD', KEYS[1], '*', unpack(ARGV, 3))
  queued = 1
end
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
redis.call('ZREM', KEYS[5], ARGV[1])
local t = redis.call('TIME')
redis.call('ZADD', KEYS[6], tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000), ARGV[1])
return queued
