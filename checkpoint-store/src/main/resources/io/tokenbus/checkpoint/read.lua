-- KEYS[1] meta hash, KEYS[2] chunk stream. ARGV: afterSequence, limit.
-- One consistent snapshot: {state, last, createdAt, type, model, terminal, lease, chunkJson...}; nil for an unknown job.
local m = redis.call('HMGET', KEYS[1], 'state', 'last', 'createdAt', 'type', 'model', 'terminal', 'lease')
if not m[1] then
  return false
end
local out = {m[1], m[2], m[3] or '0', m[4] or '', m[5] or '', m[6] or '', m[7] or '0'}
local entries = redis.call('XRANGE', KEYS[2], '(' .. ARGV[1] .. '-0', '+', 'COUNT', ARGV[2])
for i = 1, #entries do
  out[#out + 1] = entries[i][2][2]
end
return out
