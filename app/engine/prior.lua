-- What a run needs to know before it starts, in one call: the execution's recorded state, the
-- actions an earlier attempt completed, and the kill switch (app/engine/executions.py).
-- KEYS[1] = exec:{id}, KEYS[2] = exec:{id}:actions, KEYS[3] = the value key of autonomic.paused.
return {redis.call('GET', KEYS[1]), redis.call('HGETALL', KEYS[2]), redis.call('GET', KEYS[3])}
