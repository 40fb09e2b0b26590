-- A resolve of one episode: stop watching the alert and drop a pending re-apply, unless a newer
-- episode of the same alert has taken its place meanwhile.
-- KEYS[1] = tracked hash, KEYS[2] = absent hash, KEYS[3] = re-apply hash, KEYS[4] = seen zset,
-- KEYS[5] = reverted set. ARGV[1] = fingerprint, ARGV[2] = episode, ARGV[3] = lease holder.
local fingerprint, episode = ARGV[1], ARGV[2]
for _, key in ipairs({KEYS[1], KEYS[3]}) do
  local raw = redis.call('HGET', key, fingerprint)
  if raw and cjson.decode(raw).e == episode then
    redis.call('HDEL', key, fingerprint)
  end
end
if redis.call('HEXISTS', KEYS[1], fingerprint) == 0 then
  redis.call('HDEL', KEYS[2], fingerprint)
  redis.call('ZREM', KEYS[4], fingerprint)
  redis.call('SREM', KEYS[5], ARGV[3])
end
return 1
