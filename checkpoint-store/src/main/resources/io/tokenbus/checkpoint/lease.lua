-- KEYS[1] meta hash. ARGV: leaseUntilMs.
-- A worker still runs this job: extend its lease. Ignored once the job is over or gone (never recreates the key).
local s = redis.call('HGET', KEYS[1], 'state')
if s == 'queued' or s == 'running' then
  redis.call('HSET', KEYS[1], 'lease', ARGV[1])
  return 1
end
return 0
