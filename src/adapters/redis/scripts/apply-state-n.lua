--[[
  apply-state: fenced compare-and-set of customers' states, any number per call.

  The consumer folds a batch's events of a customer into a new state in TypeScript
  (the pure reducer) and writes it here. A customer's write is refused when it would
  repeat or undo work: an offset at or below the one already applied for that partition
  (redelivery after a crash or rebalance), or a version other than the one the writer
  read (a concurrent or zombie writer got there first). Timer rescorings write without
  an offset and are fenced by the version alone. Each customer is decided on its own;
  one call only saves the per-command cost of writing a chunk of customers (and applies
  them atomically together, which no reader relies on).

  KEYS[i]  customer state hash (keys.ts customerState); on Redis Cluster all KEYS of a
           call must share a slot
  ARGV, six per key, customer i at (i - 1) * 6:
    +1  expected version: the `ver` field the writer read; 0 when it read nothing
    +2  source partition of the last event folded in, or '' for a timer write
    +3  source offset of that event, or '' for a timer write
    +4  new serialized state
    +5  scoring metadata (JSON: risk tier, next timer), or '' for none
    +6  TTL in seconds, 0 for none

  Hash fields: ver (integer, +1 per write), state (blob), meta (JSON), o:<partition> (last offset)

  Returns {code, version} per key, flattened:
     1, new version   written
    -1, version       not written: offset already applied for this partition
    -2, version       not written: version conflict (stored version differs)
]]
local ARGS_PER_KEY = 6
local results = {}

for i, key in ipairs(KEYS) do
  local at = (i - 1) * ARGS_PER_KEY
  local expected = tonumber(ARGV[at + 1])
  local offsetText = ARGV[at + 3]
  local fenced = offsetText ~= ''
  local offsetField = 'o:' .. ARGV[at + 2]
  local offset = tonumber(offsetText)

  local stored = redis.call('HMGET', key, 'ver', offsetField)
  local version = tonumber(stored[1]) or 0
  local lastOffset = tonumber(stored[2])

  local code, written
  if fenced and lastOffset ~= nil and offset <= lastOffset then
    code, written = -1, version
  elseif version ~= expected then
    code, written = -2, version
  else
    code, written = 1, version + 1
    local fields = { 'ver', written, 'state', ARGV[at + 4] }
    if fenced then
      fields[#fields + 1] = offsetField
      fields[#fields + 1] = offsetText
    end
    local meta = ARGV[at + 5]
    if meta ~= '' then
      fields[#fields + 1] = 'meta'
      fields[#fields + 1] = meta
    else
      redis.call('HDEL', key, 'meta')
    end
    redis.call('HSET', key, unpack(fields))
    local ttl = tonumber(ARGV[at + 6])
    if ttl > 0 then
      redis.call('EXPIRE', key, ttl)
    end
  end
  results[2 * i - 1] = code
  results[2 * i] = written
end
return results
