-- Remember what a pause refused for a firing alert, so resuming re-applies exactly that: every
-- matching playbook (a refused notification or re-apply) and/or the named follow-ups refused.
-- A record of an older episode is replaced; its nonce names the queue entries it becomes.
-- KEYS[1] = re-apply hash. ARGV[1] = fingerprint, ARGV[2] = episode, ARGV[3] = alert JSON,
-- ARGV[4] = a fresh nonce, ARGV[5] = the refused follow-up's playbook ('' = every playbook).
local raw = redis.call('HGET', KEYS[1], ARGV[1])
local record = raw and cjson.decode(raw)
if not record or record.e ~= ARGV[2] then
  record = {e = ARGV[2], a = ARGV[3], n = ARGV[4], f = false, p = {}}
end
if ARGV[5] == '' then
  record.f = true
else
  local known = false
  for _, name in ipairs(record.p) do
    if name == ARGV[5] then known = true end
  end
  if not known then table.insert(record.p, ARGV[5]) end
end
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(record))
return 1
