-- KEYS[1] meta hash. ARGV: leaseMs.
-- A worker still runs this job: its lease now ends leaseMs after the store's clock (TIME), so no two machines' clocks
-- are ever compared. The duration is kept too: readers judge a lease only after that long of healthy store access.
-- Ignored once the job is over or gone (never recreates the key).
local s = redis.call('HGET', KEYS[1], 'state')
if s == 'queued' or s == 'running' then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  redis.call('HSET', KEYS[1], 'lease', string.format('%d', now + tonumber(ARGV[1])), 'leaseMs', ARGV[1])
  return 1
end
return 0
