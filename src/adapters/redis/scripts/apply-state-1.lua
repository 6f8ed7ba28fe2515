--[[
  apply-state: fenced compare-and-set of one customer's state.

  The consumer folds a batch's events of a customer into a new state in TypeScript
  (the pure reducer) and writes it here. The write is refused when it would repeat
  or undo work: an offset at or below the one already applied for that partition
  (redelivery after a crash or rebalance), or a version other than the one the
  writer read (a concurrent or zombie writer got there first). Timer rescorings
  write without an offset and are fenced by the version alone.

  KEYS[1]  customer state hash (keys.ts customerStateKey)
  ARGV[1]  expected version: the `ver` field the writer read; 0 when it read nothing
  ARGV[2]  source partition of the last event folded in, or '' for a timer write
  ARGV[3]  source offset of that event, or '' for a timer write
  ARGV[4]  new serialized state
  ARGV[5]  scoring metadata (JSON: risk tier, next timer), or '' for none
  ARGV[6]  TTL in seconds, 0 for none

  Hash fields: ver (integer, +1 per write), state (blob), meta (JSON), o:<partition> (last offset)

  Returns {code, version}:
     1, new version   written
    -1, version       not written: offset already applied for this partition
    -2, version       not written: version conflict (stored version differs)
]]
local key = KEYS[1]
local expected = tonumber(ARGV[1])
local fenced = ARGV[3] ~= ''
local offsetField = 'o:' .. ARGV[2]
local offset = tonumber(ARGV[3])

local stored = redis.call('HMGET', key, 'ver', offsetField)
local version = tonumber(stored[1]) or 0
local lastOffset = tonumber(stored[2])

if fenced and lastOffset ~= nil and offset <= lastOffset then
  return {-1, version}
end
if version ~= expected then
  return {-2, version}
end

local nextVersion = version + 1
redis.call('HSET', key, 'ver', nextVersion, 'state', ARGV[4])
if fenced then
  redis.call('HSET', key, offsetField, offset)
end
if ARGV[5] ~= '' then
  redis.call('HSET', key, 'meta', ARGV[5])
else
  redis.call('HDEL', key, 'meta')
end
local ttl = tonumber(ARGV[6])
if ttl > 0 then
  redis.call('EXPIRE', key, ttl)
end
return {1, nextVersion}
