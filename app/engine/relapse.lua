-- Queue a state-only re-apply of an episode whose leases lapsed while it still fires, once:
-- the marker stays until that entry ran (dispatch deletes it) or its TTL ends, so reconciler
-- passes before then queue nothing more.
-- KEYS[1] = relapse marker of the episode, KEYS[2] = alerts stream. ARGV[1] = marker TTL ms,
-- ARGV[2] = entry key (the marker's value), ARGV[3...] = the queue entry's fields, as name,
-- value pairs (app/engine/queue_entry.py).
-- Returns 1 if queued.
if not redis.call('SET', KEYS[1], ARGV[2], 'NX', 'PX', ARGV[1]) then
  return 0
end
redis.call('XADD', KEYS[2], '*', unpack(ARGV, 3))
return 1
