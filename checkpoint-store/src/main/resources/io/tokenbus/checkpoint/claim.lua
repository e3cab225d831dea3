-- KEYS[1] meta hash. ARGV: leaseMs, maxTakeovers, healthyMs (how long the claiming store has reached Redis without
-- trouble: a lease that ran out during an outage proves nothing, its renewals may not have arrived).
-- A worker takes over a job whose lease ran out: the owner epoch goes up by one (every write or renewal of an older
-- epoch is refused from now on: a paused worker that wakes up cannot write into a job that moved) and the lease is
-- the caller's. Atomic, so of several claimers exactly one wins.
-- Returns {outcome, epoch, last[, assignment]}: CLAIMED (with the job as submitted), HELD (the lease holds),
-- CLOSED (over or gone), EXHAUSTED (taken over maxTakeovers times already, or a job stored without its assignment).
local m = redis.call('HMGET', KEYS[1], 'state', 'last', 'lease', 'leaseMs', 'epoch', 'assignment')
local state = m[1]
local last = tonumber(m[2]) or 0
local epoch = tonumber(m[5]) or 1
if state ~= 'queued' and state ~= 'running' then
  return {'CLOSED', epoch, last}
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if (tonumber(m[3]) or 0) >= now or tonumber(ARGV[3]) < (tonumber(m[4]) or 0) then
  return {'HELD', epoch, last}
end
if epoch - 1 >= tonumber(ARGV[2]) or not m[6] or m[6] == '' then
  return {'EXHAUSTED', epoch, last}
end
epoch = epoch + 1
redis.call('HSET', KEYS[1], 'epoch', epoch, 'lease', string.format('%d', now + tonumber(ARGV[1])), 'leaseMs', ARGV[1])
return {'CLAIMED', epoch, last, m[6]}
