-- KEYS[1] meta hash, KEYS[2] chunk stream (entry id "<sequence>-0", field c = the model:chunk JSON).
-- ARGV: ttlMs, firstSequence, terminalState ('' for none), terminalJson ('' for none), chunkJson...
-- Atomic per job: chunks at or below the stored last sequence are skipped (idempotent retries), a chunk that would
-- leave a gap is refused, and after a terminal event the job is closed (first terminal wins).
-- Expiry is set when the stream is created and again when the job ends (retention counts from the end), not on
-- every append: that keeps the per-token cost at three commands.
local meta, log = KEYS[1], KEYS[2]
local m = redis.call('HMGET', meta, 'state', 'last')
local state = m[1]
if not state then
  return {'missing', 0, ''}
end
local last = tonumber(m[2])
if state == 'completed' or state == 'failed' or state == 'cancelled' then
  return {'closed', last, state, redis.call('HGET', meta, 'terminal')}
end
local n = #ARGV - 4
local first = tonumber(ARGV[2])
if n > 0 and first > last + 1 then
  return {'gap', last, state}
end
for i = 1, n do
  local seq = first + i - 1
  if seq > last then
    redis.call('XADD', log, seq .. '-0', 'c', ARGV[4 + i])
    last = seq
  end
end
local ttl = ARGV[1]
if first == 1 and n > 0 then
  redis.call('PEXPIRE', log, ttl)
end
if ARGV[3] ~= '' then
  state = ARGV[3]
  local t = cjson.decode(ARGV[4])
  t['lastSequence'] = last
  local terminal = cjson.encode(t)
  redis.call('HSET', meta, 'state', state, 'last', last, 'terminal', terminal)
  redis.call('PEXPIRE', meta, ttl)
  redis.call('PEXPIRE', log, ttl)
  return {'ok', last, state, terminal}
end
redis.call('HSET', meta, 'state', 'running', 'last', last)
return {'ok', last, 'running'}
