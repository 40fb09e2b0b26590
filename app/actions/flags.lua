-- Flag leases, applied atomically. KEYS[1] = {ns}leases (zset flag -> next lease expiry),
-- KEYS[2] = {ns}flag-changes (hash "flag|reason" -> count of value changes, for /metrics),
-- KEYS[3] = {ns}flag-changed-at (hash flag -> time of its last change, so idle flags can be
-- pruned), KEYS[4] = {ns}flag-history (capped stream of every value change: flag, value,
-- held, holder, reason, at), KEYS[5] = {ns}reverted (set of holders an operator revert ended:
-- the reconciler leaves them off), KEYS[6] = the value key of the empty flag name (the flag
-- prefix): flag n's value is KEYS[6] .. n, its leases (hash holder -> lease JSON, plus
-- "~baseline") KEYS[6] .. n .. ':leases', and changes are published on KEYS[6] .. 'changes';
-- KEYS[7] = the holder key of the empty holder ({ns}holder:): holder h's set of flags is
-- KEYS[7] .. h. Flags and holders are found while the script runs (an index sweep, a
-- holder's flags), so their keys derive from those two names; every key shares one hash tag
-- (app/connection.py). KEYS[8] = for `set`, the alert episode's resolved tombstone, if any.
-- Names: app/keys.py (Keys, FlagKeys); caller: app/actions/flags.py.
-- ARGV[1] = op, ARGV[2] = lease grace (ms), ARGV[3] = now (ms, 0 = server time), then the op's.
local op, GRACE = ARGV[1], tonumber(ARGV[2])
local now = tonumber(ARGV[3])
if now == 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local IDX, CHANGES, CHANGED_AT, HISTORY, REVERTED = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local FLAG, HOLDER = KEYS[6], KEYS[7]
local HISTORY_MAX = 20000  -- about a week of a busy service's changes; trimmed approximately
local BASE = '~baseline'

local function holder_key(h) return HOLDER .. h end
local function value_key(name) return FLAG .. name end
local function leases_key(name) return FLAG .. name .. ':leases' end

-- Drop expired leases; return live count, the most recent lease, max and min expiry, baseline.
local function scan(name)
  local lkey = leases_key(name)
  local all = redis.call('HGETALL', lkey)
  local count, best, best_holder, max_exp, min_exp, baseline = 0, nil, nil, 0, nil, nil
  for i = 1, #all, 2 do
    local field, raw = all[i], all[i + 1]
    if field == BASE then
      baseline = cjson.decode(raw)
    else
      local l = cjson.decode(raw)
      if l.exp <= now then
        redis.call('HDEL', lkey, field)
        redis.call('SREM', holder_key(field), name)
      else
        count = count + 1
        if best == nil or l.at > best.at or (l.at == best.at and field > best_holder) then
          best, best_holder = l, field
        end
        if l.exp > max_exp then max_exp = l.exp end
        if min_exp == nil or l.exp < min_exp then min_exp = l.exp end
      end
    end
  end
  return count, best, max_exp, min_exp, baseline, best_holder
end

-- Make the value key reflect the leases; restore the baseline when none is left.
-- `kind` is the bounded reason counted for metrics (set, released, reverted, expired).
local function settle(name, reason, kind)
  local vkey, lkey = value_key(name), leases_key(name)
  local count, best, max_exp, min_exp, baseline, best_holder = scan(name)
  local old = redis.call('GET', vkey)
  local new = old
  if count == 0 then
    if baseline ~= nil then
      if baseline.absent then
        redis.call('DEL', vkey)
        new = false
      else
        redis.call('SET', vkey, baseline.v)
        new = baseline.v
      end
    end
    redis.call('DEL', lkey)
    redis.call('ZREM', IDX, name)
  else
    redis.call('SET', vkey, best.v, 'PXAT', max_exp + GRACE)
    redis.call('PEXPIREAT', lkey, max_exp + GRACE)
    redis.call('ZADD', IDX, min_exp, name)
    new = best.v
  end
  if old ~= new then
    -- With the live lease count, the newest holder and the latest expiry, so a reader (the
    -- OFREP view) has the whole entry without reading the flag back.
    local msg = {flag = name, value = new or cjson.null, reason = reason, at = now, held = count,
      holder = count > 0 and best_holder or cjson.null, exp = count > 0 and max_exp or cjson.null}
    redis.call('PUBLISH', FLAG .. 'changes', cjson.encode(msg))
    -- The same change, kept: the console's timeline and GET /api/flags/history read it.
    redis.call('XADD', HISTORY, 'MAXLEN', '~', HISTORY_MAX, '*', 'flag', name, 'value', new or '',
      'absent', new and '0' or '1', 'held', count > 0 and (best_holder or '') or '', 'reason', reason, 'at', now)
    redis.call('HINCRBY', CHANGES, name .. '|' .. kind, 1)
    redis.call('HSET', CHANGED_AT, name, now)
  end
  return new, count
end

-- Keep holder h's set of flags at least until pxat.
local function extend_holder(h, pxat)
  local key = holder_key(h)
  local ttl = redis.call('PTTL', key)
  if ttl < 0 or now + ttl < pxat then redis.call('PEXPIREAT', key, pxat) end
end

if op == 'set' then
  -- ARGV[4] name, [5] holder, [6] value, [7] ttl ms; KEYS[8] the tombstone, if any
  local name, holder, value, ttl = ARGV[4], ARGV[5], ARGV[6], tonumber(ARGV[7])
  if KEYS[8] and redis.call('EXISTS', KEYS[8]) == 1 then
    return {'refused', 'the alert has already resolved'}
  end
  local lkey = leases_key(name)
  local count, _, _, _, baseline = scan(name)
  if count == 0 and baseline == nil then
    local current = redis.call('GET', value_key(name))
    if current then baseline = {v = current} else baseline = {absent = true} end
    redis.call('HSET', lkey, BASE, cjson.encode(baseline))
  end
  local exp = now + ttl
  redis.call('HSET', lkey, holder, cjson.encode({v = value, exp = exp, at = now, ttl = ttl}))
  redis.call('SADD', holder_key(holder), name)
  extend_holder(holder, exp + GRACE)
  local new = settle(name, 'set by ' .. holder, 'set')
  return {'ok', new, tostring(exp)}
elseif op == 'release' then
  -- ARGV[4] name, [5] holder
  local name, holder = ARGV[4], ARGV[5]
  local removed = redis.call('HDEL', leases_key(name), holder)
  redis.call('SREM', holder_key(holder), name)
  local new, count = settle(name, 'released by ' .. holder, 'released')
  return {removed == 1 and 'ok' or 'none', new or false, tostring(count)}
elseif op == 'release_holder' then
  -- ARGV[4] holder; returns name, value pairs
  local holder = ARGV[4]
  local out = {}
  for _, name in ipairs(redis.call('SMEMBERS', holder_key(holder))) do
    if redis.call('HDEL', leases_key(name), holder) == 1 then
      local new = settle(name, 'released by ' .. holder, 'released')
      table.insert(out, name)
      table.insert(out, new or false)
    end
  end
  redis.call('DEL', holder_key(holder))
  return out
elseif op == 'revert' then
  -- ARGV[4] name, [5] actor: end every lease now
  local name = ARGV[4]
  local lkey = leases_key(name)
  local ended = 0
  for _, field in ipairs(redis.call('HKEYS', lkey)) do
    if field ~= BASE then
      redis.call('HDEL', lkey, field)
      redis.call('SREM', holder_key(field), name)
      redis.call('SADD', REVERTED, field)
      ended = ended + 1
    end
  end
  local new = settle(name, 'reverted by ' .. ARGV[5], 'reverted')
  return {tostring(ended), new or false}
elseif op == 'renew' then
  -- ARGV[4], [5], ...: (holder, seen ms) pairs. Each live lease of a holder lasts its own TTL
  -- past the time its alert was last seen firing; an expired lease is not revived.
  local renewed = 0
  for i = 4, #ARGV, 2 do
    local holder, seen = ARGV[i], tonumber(ARGV[i + 1])
    for _, name in ipairs(redis.call('SMEMBERS', holder_key(holder))) do
      local lkey = leases_key(name)
      local raw = redis.call('HGET', lkey, holder)
      if raw then
        local l = cjson.decode(raw)
        local ttl = l.ttl or (l.exp - l.at)
        if l.exp > now and seen + ttl > l.exp then
          l.exp = seen + ttl
          redis.call('HSET', lkey, holder, cjson.encode(l))
          extend_holder(holder, l.exp + GRACE)
          settle(name, 'renewed for ' .. holder, 'renewed')
          renewed = renewed + 1
        end
      end
    end
  end
  return renewed
elseif op == 'sweep' then
  -- end every lease whose expiry has passed; returns name, value pairs
  local out = {}
  for _, name in ipairs(redis.call('ZRANGEBYSCORE', IDX, '-inf', now)) do
    local new = settle(name, 'lease expired', 'expired')
    table.insert(out, name)
    table.insert(out, new or false)
  end
  return out
end
return redis.error_reply('unknown op ' .. tostring(op))
