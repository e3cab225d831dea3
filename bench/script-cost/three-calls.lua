-- append.lua cut down to its three redis.call()s per job and nothing else (io.tokenbus.bench.AppendCallCost)
local out = {}
local at = 2
for j = 1, #KEYS / 2 do
  local meta, log = KEYS[2*j-1], KEYS[2*j]
  local m = redis.call('HMGET', meta, 'state', 'last', 'epoch')
  redis.call('XADD', log, ARGV[at] .. '-0', 'c', ARGV[at+5])
  redis.call('HSET', meta, 'last', ARGV[at])
  out[j] = 'ok'
  at = at + 6
end
return table.concat(out, '\n')
