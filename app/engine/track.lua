-- Remember a firing alert whose mitigations the reconciler watches, unless its episode has
-- already resolved (a late firing notification must not bring it back). A new episode also
-- ends an operator revert of the previous one.
-- KEYS[1] = tracked hash, KEYS[2] = resolved tombstone of this episode, KEYS[3] = absent hash,
-- KEYS[4] = reverted set. ARGV[1] = fingerprint, ARGV[2] = tracked value ({"e": episode,
-- "a": alert, "l": took leases} JSON), ARGV[3] = the alert's lease holder, ARGV[4] = episode.
if redis.call('EXISTS', KEYS[2]) == 1 then
  return 0
end
local old = redis.call('HGET', KEYS[1], ARGV[1])
if not old or cjson.decode(old).e ~= ARGV[4] then
  redis.call('SREM', KEYS[4], ARGV[3])
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HDEL', KEYS[3], ARGV[1])
return 1
