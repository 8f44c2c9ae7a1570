-- Lethe invalidate.lua: the version-checked delete that every region applies.
--
-- KEYS[1] cache key
-- KEYS[2] fence key (lethe:fence:{<tag>}:<key>, same slot as KEYS[1])
-- ARGV[1] version: non-negative decimal string (0 for derived keys)
-- ARGV[2] fence TTL in milliseconds
-- ARGV[3] fence seed: decimal, the counter's start when this call creates the fence
-- ARGV[4] optional: '1' to delete whatever entry is there (derived keys, whose versions mean
--         nothing, and namespace-scoped invalidations); the fence is then marked x = 1, so a
--         fill of this key is accepted only if the fence counter did not move since its miss,
--         whatever version it claims
--
-- Effect: fence.v := max(fence.v, version) (see h and m below); fence.n += 1; the fence expires
-- ARGV[2] ms from now.
-- The entry is deleted when it is a legacy entry (any type other than a hash with field v),
-- a versioned entry whose v <= version, or any entry when ARGV[4] is '1'; otherwise a newer
-- versioned entry is kept.
-- Returns 1 deleted, 2 kept-newer, 0 absent. Idempotent: applying it again, or applying an
-- older version after a newer one, never brings back or keeps a stale entry.

local function canon(s)
  if type(s) ~= 'string' or not string.match(s, '^%d+$') then return nil end
  s = string.gsub(s, '^0+', '')
  if s == '' then return '0' end
  return s
end

-- compares canonical decimal strings of any length: -1, 0, 1
local function cmp(a, b)
  if #a ~= #b then return #a < #b and -1 or 1 end
  if a == b then return 0 end
  return a < b and -1 or 1
end

local version = canon(ARGV[1])
if not version then return redis.error_reply('ERR lethe: version must be a decimal string') end
local ttl = tonumber(ARGV[2])
if not ttl or ttl < 1 then return redis.error_reply('ERR lethe: fence TTL must be a positive number of ms') end

local fence = KEYS[2]
-- Never shorten a fence: another namespace whose keys overlap this one's (or a reader's undo) may
-- have set a longer one, and readers of that namespace load for up to its fence TTL.
local left = redis.call('PTTL', fence)
if left > ttl then ttl = left end
-- The first write is one Redis never refuses at maxmemory: after it, Redis runs the script's
-- other writes even when it is full (a script cannot stop half-way), so an invalidation applies
-- under noeviction too, when it is needed most. By itself it changes nothing: the TTL is set below.
redis.call('PEXPIRE', fence, ttl)
-- v stands one fence TTL after it was raised (h, Redis time in ms); then only the versions recorded
-- since (m, their highest) count, and the first call above them takes v down to its own version:
-- a reader loads for less than a fence TTL, so any version it could have missed was recorded
-- within the last one. A fence at 2^64 - 1 refuses known-version fills for one fence TTL, not for
-- as long as the key keeps changing. (upsert.lua keeps the same fields.)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expiry = string.format('%.0f', now + ttl)
local f = redis.call('HMGET', fence, 'v', 'h', 'm')
if f[1] then
  local fv = canon(f[1]) or '0'
  local h = tonumber(f[2])
  local m = canon(f[3]) or '0'
  if not h then
    -- a fence an earlier script wrote: its v stands a full fence TTL from now
    h = now + ttl
    redis.call('HSET', fence, 'h', expiry, 'm', '0')
  end
  if cmp(fv, version) < 0 or (now >= h and cmp(version, m) > 0) then
    redis.call('HSET', fence, 'v', version, 'h', expiry, 'm', '0')
  elseif now >= h then
    redis.call('HSET', fence, 'v', m, 'h', expiry, 'm', version)
  elseif cmp(version, m) > 0 then
    redis.call('HSET', fence, 'm', version)
  end
  redis.call('HINCRBY', fence, 'n', 1)
else
  redis.call('HSET', fence, 'v', version, 'n', ARGV[3], 'h', expiry, 'm', '0')
end
local force = ARGV[4] == '1'
if force then redis.call('HSET', fence, 'x', '1') end
redis.call('PEXPIRE', fence, ttl)

local key = KEYS[1]
local kind = redis.call('TYPE', key)['ok']
if kind == 'none' then return 0 end
if kind == 'hash' and not force then
  local v = redis.call('HGET', key, 'v')
  if v and cmp(canon(v) or '0', version) > 0 then return 2 end
end
redis.call('DEL', key)
return 1
