-- Lethe upsert.lua: write a new value for a hot row-scoped key instead of deleting it.
--
-- KEYS[1] cache key
-- KEYS[2] fence key (same slot as KEYS[1])
-- ARGV[1] version: non-negative decimal string (the row's version)
-- ARGV[2] payload: bytes stored in field d
-- ARGV[3] entry TTL in milliseconds, 0 for none
-- ARGV[4] fence TTL in milliseconds
-- ARGV[5] fence seed: decimal, the counter's start when this call creates the fence
--
-- The payload is written only when version is greater than both the entry's v and the
-- fence's v as they were before this call. Either way the fence records the version like an
-- invalidation (v := max, n += 1), so a reader that loaded before this change cannot fill.
-- Returns 3 upserted, 2 refused (the entry or the fence is as new or newer).

local function canon(s)
  if type(s) ~= 'string' or not string.match(s, '^%d+$') then return nil end
  s = string.gsub(s, '^0+', '')
  if s == '' then return '0' end
  return s
end

local function cmp(a, b)
  if #a ~= #b then return #a < #b and -1 or 1 end
  if a == b then return 0 end
  return a < b and -1 or 1
end

local version = canon(ARGV[1])
if not version then return redis.error_reply('ERR lethe: version must be a decimal string') end
local entryTtl = tonumber(ARGV[3])
local fenceTtl = tonumber(ARGV[4])
if not entryTtl or entryTtl < 0 then return redis.error_reply('ERR lethe: entry TTL must be >= 0 ms') end
if not fenceTtl or fenceTtl < 1 then return redis.error_reply('ERR lethe: fence TTL must be a positive number of ms') end

local key, fence = KEYS[1], KEYS[2]
local fv = redis.call('HGET', fence, 'v')
local newer = true
if fv then
  local f = canon(fv) or '0'
  if cmp(version, f) <= 0 then newer = false end
  if cmp(f, version) < 0 then redis.call('HSET', fence, 'v', version) end
  redis.call('HINCRBY', fence, 'n', 1)
else
  redis.call('HSET', fence, 'v', version, 'n', ARGV[5])
end
redis.call('PEXPIRE', fence, fenceTtl)

if newer and redis.call('TYPE', key)['ok'] == 'hash' then
  local v = redis.call('HGET', key, 'v')
  if v and cmp(version, canon(v) or '0') <= 0 then newer = false end
end
if not newer then return 2 end

redis.call('DEL', key)
redis.call('HSET', key, 'v', version, 'd', ARGV[2])
if entryTtl > 0 then redis.call('PEXPIRE', key, entryTtl) end
return 3
