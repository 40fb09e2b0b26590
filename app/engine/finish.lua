-- Record an execution's final state and list its id, atomically (app/engine/executions.py).
-- KEYS[1] = exec:{id}, KEYS[2] = the executions stream. ARGV[1] = the record JSON, ARGV[2] =
-- its retention (s), ARGV[3] = the id, ARGV[4] = the stream's approximate cap.
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 'id', ARGV[3])
return 1
