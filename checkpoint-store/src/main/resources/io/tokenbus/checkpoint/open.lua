-- KEYS[1] meta hash. ARGV: ttlMs, createdAt, type, model, leaseMs (a worker must renew the lease while it runs the job),
-- prompt (shown to token holders who open the job by link), assignment (the job as submitted, JSON: what a worker
-- taking the job over runs), priority (interactive | background: gateways that did not take the submission learn it
-- from their reads).
-- Creates the job in state queued, owner epoch 1, its lease counted on the store's clock (TIME), never on a caller's.
-- Opening an existing id is a no-op: 1 when it is the same job again (a retry: same createdAt), else 0.
if redis.call('EXISTS', KEYS[1]) == 1 then
  if redis.call('HGET', KEYS[1], 'createdAt') == ARGV[2] then
    return 1
  end
  return 0
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[1], 'state', 'queued', 'last', 0, 'createdAt', ARGV[2], 'type', ARGV[3], 'model', ARGV[4],
  'lease', string.format('%d', now + tonumber(ARGV[5])), 'leaseMs', ARGV[5], 'prompt', ARGV[6], 'epoch', 1,
  'assignment', ARGV[7], 'priority', ARGV[8])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
