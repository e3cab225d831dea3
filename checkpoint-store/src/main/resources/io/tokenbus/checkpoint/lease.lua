-- KEYS[1] meta hash. ARGV: leaseMs, epoch (the owner epoch the renewing worker holds).
-- A worker still runs this job: its lease now ends leaseMs after the store's clock (TIME), so no two machines' clocks
-- are ever compared. The duration is kept too: readers judge a lease only after that long of healthy store access.
-- Returns 1 when renewed; 0 once the job is over or gone (never recreates the key: the worker's next write learns
-- why); -1 when another worker owns the job now (a takeover: the caller must stop without writing).
local m = redis.call('HMGET', KEYS[1], 'state', 'epoch')
local s = m[1]
if s ~= 'queued' and s ~= 'running' then
  return 0
end
if (tonumber(m[2]) or 1) ~= tonumber(ARGV[2]) then
  return -1
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[1], 'lease', string.format('%d', now + tonumber(ARGV[1])), 'leaseMs', ARGV[1])
return 1
