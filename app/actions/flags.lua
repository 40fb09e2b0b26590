-- Flag leases, applied atomically. KEYS[] = the keys known before the call (see
-- FlagStore._declared; for Redis Cluster routing). ARGV[1] = op, ARGV[2] = flag prefix,
-- ARGV[3] = service namespace, ARGV[4] = lease grace (ms), ARGV[5] = now (ms, 0 = server time).
-- Keys: {prefix}{name} (value), {prefix}{name}:leases (hash holder -> lease JSON,
-- plus "~baseline"), {ns}leases (zset name -> next expiry), {ns}holder:{holder} (set of names),
-- {ns}flag-changes (hash "name|reason" -> count of value changes, for /metrics) and
-- {ns}flag-changed-at (hash name -> time of its last change, so idle flags can be pruned),
-- {ns}flag-history (capped stream of every value change: flag, value, held, holder, reason, at).
-- {ns}reverted (set of holders an operator revert ended: the reconciler leaves them off).
local op, P, NS, GRACE = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local now = tonumber(ARGV[5])
if now == 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local IDX = NS .. 'leases'
local CHANGES = NS .. 'flag-changes'
local CHANGED_AT = NS .. 'flag-changed-at'
local HISTORY = NS .. 'flag-history'
local HISTORY_MAX = 20000  -- about a week of a busy service's changes; trimmed approximately
local BASE = '~baseline'

local function holder_key(h) return NS .. 'holder:' .. h end

-- Drop expired leases; return live count, the most recent lease, max and min expiry, baseline.
local function scan(name)
  local lkey = P .. name .. ':leases'
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
  local vkey, lkey = P .. name, P .. name .. ':leases'
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
    local msg = {flag = name, value = new or cjson.null, reason = reason, at = now}
    redis.call('PUBLISH', P .. 'changes', cjson.encode(msg))
    -- The same change, kept: the console's timeline and GET /api/flags/history read it.
    redis.call('XADD', HISTORY, 'MAXLEN', '~', HISTORY_MAX, '*', 'flag', name, 'value', new or '',
      'absent', new and '0' or '1', 'held', count > 0 and (best_holder or '') or '', 'reason', reason, 'at', now)
    redis.call('HINCRBY', CHANGES, name .. '|' .. kind, 1)
    redis.call('HSET', CHANGED_AT, name, now)
  end
  return new, count
end

local function extend(key, pxat)
  local ttl = redis.call('PTTL', key)
  if ttl < 0 or now + ttl < pxat then redis.call('PEXPIREAT', key, pxat) end
end

if op == 'set' then
  -- ARGV[6] name, [7] holder, [8] value, [9] ttl ms, [10] tombstone key or ''
  local name, holder, value, ttl, tomb = ARGV[6], ARGV[7], ARGV[8], tonumber(ARGV[9]), ARGV[10]
  if tomb ~= '' and redis.call('EXISTS', tomb) == 1 then
    return {'refused', 'the alert has already resolved'}
  end
  local lkey = P .. name .. ':leases'
  local count, _, _, _, baseline = scan(name)
  if count == 0 and baseline == nil then
    local current = redis.call('GET', P .. name)
    if current then baseline = {v = current} else baseline = {absent = true} end
    redis.call('HSET', lkey, BASE, cjson.encode(baseline))
  end
  local exp = now + ttl
  redis.call('HSET', lkey, holder, cjson.encode({v = value, exp = exp, at = now, ttl = ttl}))
  redis.call('SADD', holder_key(holder), name)
  extend(holder_key(holder), exp + GRACE)
  local new = settle(name, 'set by ' .. holder, 'set')
  return {'ok', new, tostring(exp)}
elseif op == 'release' then
  -- ARGV[6] name, [7] holder
  local name, holder = ARGV[6], ARGV[7]
  local removed = redis.call('HDEL', P .. name .. ':leases', holder)
  redis.call('SREM', holder_key(holder), name)
  local new, count = settle(name, 'released by ' .. holder, 'released')
  return {removed == 1 and 'ok' or 'none', new or false, tostring(count)}
elseif op == 'release_holder' then
  -- ARGV[6] holder; returns name, value pairs
  local holder = ARGV[6]
  local out = {}
  for _, name in ipairs(redis.call('SMEMBERS', holder_key(holder))) do
    if redis.call('HDEL', P .. name .. ':leases', holder) == 1 then
      local new = settle(name, 'released by ' .. holder, 'released')
      table.insert(out, name)
      table.insert(out, new or false)
    end
  end
  redis.call('DEL', holder_key(holder))
  return out
elseif op == 'revert' then
  -- ARGV[6] name, [7] actor: end every lease now
  local name = ARGV[6]
  local lkey = P .. name .. ':leases'
  local ended = 0
  for _, field in ipairs(redis.call('HKEYS', lkey)) do
    if field ~= BASE then
      redis.call('HDEL', lkey, field)
      redis.call('SREM', holder_key(field), name)
      redis.call('SADD', NS .. 'reverted', field)
      ended = ended + 1
    end
  end
  local new = settle(name, 'reverted by ' .. ARGV[7], 'reverted')
  return {tostring(ended), new or false}
elseif op == 'renew' then
  -- ARGV[6], [7], ...: (holder, seen ms) pairs. Each live lease of a holder lasts its own TTL
  -- past the time its alert was last seen firing; an expired lease is not revived.
  local renewed = 0
  for i = 6, #ARGV, 2 do
    local holder, seen = ARGV[i], tonumber(ARGV[i + 1])
    for _, name in ipairs(redis.call('SMEMBERS', holder_key(holder))) do
      local lkey = P .. name .. ':leases'
      local raw = redis.call('HGET', lkey, holder)
      if raw then
        local l = cjson.decode(raw)
        local ttl = l.ttl or (l.exp - l.at)
        if l.exp > now and seen + ttl > l.exp then
          l.exp = seen + ttl
          redis.call('HSET', lkey, holder, cjson.encode(l))
          extend(holder_key(holder), l.exp + GRACE)
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
