-- Adopt a re-fire of the very episode the reconciler resolved (an Alertmanager that restarted
-- with an empty state, say, missed the alert until Prometheus resent it with the same
-- startsAt): clear the tombstone the reconciler's resolve left (only such a one, marked
-- 'reconciled'), and the dedup key of that resolve so Alertmanager's own later resolve is
-- handled, then queue the alert under a key of its own (its first notification's key has run).
-- KEYS[1] = resolved tombstone of the episode, KEYS[2] = dedup key of its resolved
-- notification, KEYS[3] = alerts stream. ARGV = the queue entry's fields, as name, value pairs
-- (app/engine/queue_entry.py). Returns 1 if queued, 0 if the tombstone is not the reconciler's.
if redis.call('GET', KEYS[1]) ~= 'reconciled' then
  return 0
end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('XADD', KEYS[3], '*', unpack(ARGV))
return 1
