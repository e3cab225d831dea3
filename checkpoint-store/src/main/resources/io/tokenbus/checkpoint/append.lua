-- KEYS[1] meta hash, KEYS[2] chunk stream (entry id "<sequence>-0", field c = the model:chunk JSON).
-- ARGV: ttlMs, firstSequence (0 without chunks), terminalState ('' for none), terminalJson ('' for none), epoch (the
-- writer's owner epoch; 0: not a worker's write, never fenced), chunkJson...
-- Returns one string, "outcome last state[ terminal]": outcome ok when the append was taken, else closed | lost:
-- nothing was written and terminal is the job's stored terminal event; or fenced (no terminal): another worker took
-- the job over (a newer epoch), nothing was written and the caller must stop without publishing. One string, not a
-- table: Redis before 7 writes each table reply with a write() of its own, one system call per token at batch 1.
-- Atomic per job: chunks at or below the stored last sequence are skipped (idempotent retries); the first terminal
-- wins. A writer only ever sends first = its acknowledged last + 1 (and a terminal's lastSequence = its acknowledged
-- last), so a missing job or a gap means the store lost what it had acknowledged (eviction, a restart without
-- persistence, a failover to a lagging replica): the job is then closed as failed with history_lost, so nothing is
-- ever stored after a hole and every reader learns why.
-- Expiry is set when the stream is created and again when the job ends (retention counts from the end), not on
-- every append: that keeps the per-token cost at three commands.
local meta, log = KEYS[1], KEYS[2]
local ttl = ARGV[1]
local n = #ARGV - 5
local epoch = tonumber(ARGV[5])
local first = tonumber(ARGV[2])

local function reply(outcome, last, state, terminal)
  local r = outcome .. ' ' .. last .. ' ' .. state
  if terminal then r = r .. ' ' .. terminal end
  return r
end

local function lose(last, message)
  local terminal = cjson.encode({type = 'job:failed', jobId = string.match(meta, '{(.-)}'), lastSequence = last,
    error = {code = 'history_lost', message = message}})
  redis.call('HSET', meta, 'state', 'failed', 'last', last, 'terminal', terminal)
  redis.call('PEXPIRE', meta, ttl)
  redis.call('PEXPIRE', log, ttl)
  return reply('lost', last, 'failed', terminal)
end

local function claimed()
  if n > 0 then
    return first - 1
  elseif ARGV[3] ~= '' then
    return tonumber(cjson.decode(ARGV[4])['lastSequence']) or 0
  end
  return 0
end

local m = redis.call('HMGET', meta, 'state', 'last', 'epoch')
local state = m[1]
if not state then
  return lose(claimed(), 'the store no longer holds this job (Redis restarted empty or evicted it)')
end
local last = tonumber(m[2])
if state == 'completed' or state == 'failed' or state == 'cancelled' then
  return reply('closed', last, state, redis.call('HGET', meta, 'terminal'))
end
if epoch ~= 0 and epoch ~= (tonumber(m[3]) or 1) then
  return reply('fenced', last, state)
end
if (n > 0 or ARGV[3] ~= '') and claimed() > last then
  return lose(last, 'the store lost chunks ' .. (last + 1) .. '..' .. claimed() .. ' it had acknowledged')
end
for i = 1, n do
  local seq = first + i - 1
  if seq > last then
    redis.call('XADD', log, (i == 1 and ARGV[2] or seq) .. '-0', 'c', ARGV[5 + i])
    last = seq
  end
end
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
  return reply('ok', last, state, terminal)
end
-- At batch 1 the last sequence is ARGV[2] as sent: no number formatting (a measurable share of a one-token append).
local lastText = (n == 1 and last == first) and ARGV[2] or last
if state == 'running' then
  redis.call('HSET', meta, 'last', lastText)
else
  redis.call('HSET', meta, 'state', 'running', 'last', lastText)
end
return reply('ok', lastText, 'running')
