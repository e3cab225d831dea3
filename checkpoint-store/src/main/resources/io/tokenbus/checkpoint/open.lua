-- KEYS[1] meta hash. ARGV: ttlMs, createdAt, type, model, leaseUntilMs (a worker must renew it while it runs the job).
-- Creates the job in state queued. Opening an existing id is a no-op: 1 when it is the same job again (a retry, or a
-- re-send after its round trip failed for another command: same createdAt), else 0.
if redis.call('EXISTS', KEYS[1]) == 1 then
  if redis.call('HGET', KEYS[1], 'createdAt') == ARGV[2] then
    return 1
  end
  return 0
end
redis.call('HSET', KEYS[1], 'state', 'queued', 'last', 0, 'createdAt', ARGV[2], 'type', ARGV[3], 'model', ARGV[4], 'lease', ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
