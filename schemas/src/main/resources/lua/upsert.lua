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
-- invalidation (v := max, n += 1, its TTL renewed), so a reader that loaded before this change
-- cannot fill.
-- An upsert the fence refuses is applied as invalidate.lua applies its version (fail closed): the
-- entry is deleted unless it is a versioned entry at least as new. Otherwise an entry a reader
-- filled behind a high fence (a namespace-wide invalidation at 2^64 - 1 lets refills in by the
-- counter) kept its value through every later change.
-- An upsert at the entry's own version with another payload deletes it: the row changed without
-- its version rising (a bulk UPDATE, a trigger), or a reader filled its own encoding; either way
-- which one is current is not known, and a miss is always safe.
-- A fence's v stands one fence TTL after it was raised (field h, Redis time in ms); then only
-- the versions recorded since (field m, their highest) still count, and the first call above
-- them takes v down to its own version. A reader loads for less than a fence TTL, so every
-- version it could have missed was recorded within the last one: a fence at 2^64 - 1 refuses
-- upserts for one fence TTL, not for as long as the key keeps changing.
-- Returns 3 upserted, 2 refused (the entry is as new or newer: kept), 1 refused by the fence
-- and the entry deleted, 0 refused by the fence and there was no entry.

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

-- milliseconds as decimal text (a Lua number would go to Redis as 1.7e+12)
local function ms(x)
  return string.format('%.0f', x)
end

local key, fence = KEYS[1], KEYS[2]
-- never shorten a fence (another namespace's, or a reader's undo, may be longer): as invalidate.lua
local left = redis.call('PTTL', fence)
if left > fenceTtl then fenceTtl = left end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local f = redis.call('HMGET', fence, 'v', 'h', 'm')
local newer = true
if f[1] then
  local fv = canon(f[1]) or '0'
  local h = tonumber(f[2])
  local m = canon(f[3]) or '0'
  if not h then
    -- a fence an earlier script wrote: its v stands a full fence TTL from now
    h = now + fenceTtl
    redis.call('HSET', fence, 'h', ms(h), 'm', '0')
  end
  if cmp(version, fv) > 0 then
    redis.call('HSET', fence, 'v', version, 'h', ms(now + fenceTtl), 'm', '0')
  elseif now >= h and cmp(version, m) > 0 then
    -- v stood its fence TTL: every version recorded since is below this one
    redis.call('HSET', fence, 'v', version, 'h', ms(now + fenceTtl), 'm', '0')
  else
    newer = false
    if now >= h then
      redis.call('HSET', fence, 'v', m, 'h', ms(now + fenceTtl), 'm', version)
    elseif cmp(version, m) > 0 then
      redis.call('HSET', fence, 'm', version)
    end
  end
  redis.call('HINCRBY', fence, 'n', 1)
else
  redis.call('HSET', fence, 'v', version, 'n', ARGV[5], 'h', ms(now + fenceTtl), 'm', '0')
end
redis.call('PEXPIRE', fence, fenceTtl)

local kind = redis.call('TYPE', key)['ok']
if kind == 'hash' then
  local v = redis.call('HGET', key, 'v')
  if v then
    local c = cmp(version, canon(v) or '0')
    -- the same version with another payload: the row changed without its version column rising
    -- (a bulk UPDATE, a trigger): which one is current is unknown, so neither stays
    if c == 0 and redis.call('HGET', key, 'd') ~= ARGV[2] then
      redis.call('DEL', key)
      return 1
    end
    if c <= 0 then return 2 end
  end
end
if not newer then
  if kind == 'none' then return 0 end
  redis.call('DEL', key)
  return 1
end

redis.call('DEL', key)
redis.call('HSET', key, 'v', version, 'd', ARGV[2])
if entryTtl > 0 then redis.call('PEXPIRE', key, entryTtl) end
return 3
