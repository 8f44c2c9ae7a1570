-- Lethe fill.lua: a reader puts what it loaded from the database into the cache.
--
-- KEYS[1] cache key
-- KEYS[2] fence key (same slot as KEYS[1])
-- ARGV[1] version of what was loaded: decimal string, 0 when unknown
-- ARGV[2] N0: the fence counter the reader saw at its miss, empty when there was no fence
-- ARGV[3] payload: bytes stored in field d
-- ARGV[4] entry TTL in milliseconds, 0 for none
-- ARGV[5] soft expiry, epoch milliseconds, empty for none (stale-while-revalidate)
-- ARGV[6] '1' to replace an entry of unknown version (a revalidation), else '0'
-- ARGV[7] '1' when the load found nothing (a negative entry: field nf = 1, d empty), else '0'
--
-- Refused when
--   * a versioned entry is present and the loaded version is not newer than it (a
--     revalidation, ARGV[6] = '1', may also rewrite an entry of the same version, renewing its
--     soft expiry; an entry of unknown version is replaced only by a revalidation),
--   * the loaded version is known and below fence.v (an invalidation newer than the load),
--   * the version is unknown, or the fence is marked x (its key's versions mean nothing: a
--     derived key, or a namespace-wide delete), and the fence counter is not N0 (an
--     invalidation of any version landed between the miss and this fill: a lease without a
--     lease server),
--   * the reader saw a fence at its miss (N0 set) and the fence is gone now: it expired while
--     the reader was loading (a load longer than fence-ttl) or was evicted, so what happened
--     meanwhile is unknown.
-- Returns 1 accepted, 2 refused-newer-entry, 3 refused-fence-version, 4 refused-fence-moved.

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
local ttl = tonumber(ARGV[4])
if not ttl or ttl < 0 then return redis.error_reply('ERR lethe: entry TTL must be >= 0 ms') end
local known = version ~= '0'
local key, fence = KEYS[1], KEYS[2]

if redis.call('TYPE', key)['ok'] == 'hash' then
  local v = redis.call('HGET', key, 'v')
  if v then
    local ev = canon(v) or '0'
    if known then
      local c = cmp(version, ev)
      if c < 0 or (c == 0 and ARGV[6] ~= '1') then return 2 end
    elseif ev ~= '0' or ARGV[6] ~= '1' then
      return 2
    end
  end
end

local f = redis.call('HMGET', fence, 'v', 'n', 'x')
local n0 = ARGV[2]
if n0 ~= '' and not f[2] then return 4 end
if known and not f[3] then
  if f[1] and cmp(version, canon(f[1]) or '0') < 0 then return 3 end
else
  if n0 == '' then
    if f[2] then return 4 end
  elseif f[2] ~= n0 then
    return 4
  end
end

redis.call('DEL', key)
redis.call('HSET', key, 'v', version, 'd', ARGV[3])
if ARGV[5] ~= '' then redis.call('HSET', key, 's', ARGV[5]) end
if ARGV[7] == '1' then redis.call('HSET', key, 'nf', '1') end
if ttl > 0 then redis.call('PEXPIRE', key, ttl) end
return 1
