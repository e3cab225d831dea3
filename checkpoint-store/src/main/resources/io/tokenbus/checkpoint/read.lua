-- KEYS[1] meta hash, KEYS[2] chunk stream. ARGV: afterSequence, limit (0: the state only, no chunks; -1: the state
-- only, without the prompt).
-- One consistent snapshot, proven complete: sequences are dense, so the chunks after `after` must be exactly
-- after+1, after+2, ... and there must be min(limit, last - after) of them. Anything else means the store lost what
-- it had acknowledged (eviction, a restart without persistence, a failover to a lagging replica): 'lost'.
-- Returns {'missing'}, {'lost', why} or
-- {'ok', state, last, createdAt, type, model, terminal, leaseRanOut, hasMore (0/1), prompt, priority, chunkJson...}
-- (priority '' for a job opened before it was stored); the prompt
-- only on a state-only read (limit 0), so replay pages never carry it, where leaseRanOut is
-- 0 while the lease holds (or the job is over), else the job's lease duration in ms (-1 when unknown).
local m = redis.call('HMGET', KEYS[1], 'state', 'last', 'createdAt', 'type', 'model', 'terminal', 'lease', 'leaseMs',
  'priority')
local state = m[1]
if not state then
  return {'missing'}
end
local last = tonumber(m[2]) or 0
local after = tonumber(ARGV[1])
if after > last then
  return {'lost', 'chunks after ' .. after .. ' were asked for; the store holds ' .. last}
end
local out = {'ok', state, m[2], m[3] or '0', m[4] or '', m[5] or '', m[6] or '', 0, 0, '', m[9] or ''}
if tonumber(ARGV[2]) == 0 then
  out[10] = redis.call('HGET', KEYS[1], 'prompt') or ''
end
local expected = math.min(tonumber(ARGV[2]), last - after)
if expected > 0 then
  local entries = redis.call('XRANGE', KEYS[2], '(' .. after .. '-0', last .. '-0', 'COUNT', expected)
  for i = 1, #entries do
    if entries[i][1] ~= (after + i) .. '-0' then
      return {'lost', 'chunk ' .. (after + i) .. ' of ' .. last .. ' is missing'}
    end
    out[#out + 1] = entries[i][2][2]
  end
  if #entries < expected then
    return {'lost', 'chunk ' .. (after + #entries + 1) .. ' of ' .. last .. ' is missing'}
  end
  if after + expected < last then
    out[9] = 1
  end
end
if (state == 'queued' or state == 'running') and m[7] then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  if tonumber(m[7]) < now then
    out[8] = tonumber(m[8]) or -1
  end
end
return out
