-- Lethe prewarm.lua (Lethe's own, not part of the contract): `lethe prewarm` copies one entry
-- that a sibling region holds into this region's Redis.
--
-- KEYS[1] cache key
-- KEYS[2] fence key (same slot as KEYS[1])
-- ARGV[1] 'h' to write a versioned entry (a hash), 's' a legacy entry (a string)
-- ARGV[2] the entry's data: field d of a versioned entry, the value of a legacy one
-- ARGV[3] version (decimal string; versioned entries only)
-- ARGV[4] soft expiry, epoch milliseconds, empty for none (versioned entries only)
-- ARGV[5] '1' for a negative entry (field nf), else '0' (versioned entries only)
-- ARGV[6] TTL in milliseconds, 0 for none
--
-- Refused when
--   * the key exists here: this region's own entry stands (it may be newer than the copy),
--   * the key has a fence here: this region applied an invalidation of it within its fence TTL,
--     which the sibling may not have applied when its entry was read.
-- Invalidations this region applies after the copy remove it as they remove any entry.
-- Returns 1 copied, 2 refused-present, 3 refused-fence.

if redis.call('EXISTS', KEYS[1]) == 1 then return 2 end
if redis.call('EXISTS', KEYS[2]) == 1 then return 3 end
local ttl = tonumber(ARGV[6])
if not ttl or ttl < 0 then return redis.error_reply('ERR lethe: TTL must be >= 0 ms') end
if ARGV[1] == 'h' then
  if not string.match(ARGV[3], '^%d+$') then return redis.error_reply('ERR lethe: version must be a decimal string') end
  redis.call('HSET', KEYS[1], 'v', ARGV[3], 'd', ARGV[2])
  if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 's', ARGV[4]) end
  if ARGV[5] == '1' then redis.call('HSET', KEYS[1], 'nf', '1') end
elseif ARGV[1] == 's' then
  redis.call('SET', KEYS[1], ARGV[2])
else
  return redis.error_reply('ERR lethe: entry kind must be h or s')
end
if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1
