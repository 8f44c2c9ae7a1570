-- Lethe confirm.lua (Lethe's own, not part of the contract): a write that must be checked after
-- it lands (`lethe prewarm`'s copies, cache-client's fills: the namespace epoch) is written with a
-- short lease TTL; once the check passed, this script gives it its real TTL. A process killed
-- between the write and the check leaves nothing that outlives the lease.
--
-- KEYS[1] cache key
-- ARGV[1] 'h' for a versioned entry (a hash), 's' for a legacy entry (a string)
-- ARGV[2] the data written: field d of a versioned entry, the value of a legacy one
-- ARGV[3] the version written (versioned entries only)
-- ARGV[4] TTL in milliseconds, 0 for none
--
-- Returns 1 confirmed, 0 the key no longer holds what was written (an invalidation or another
-- fill replaced it): left as it is.

local kind = redis.call('TYPE', KEYS[1])['ok']
if ARGV[1] == 'h' then
  if kind ~= 'hash' then return 0 end
  if redis.call('HGET', KEYS[1], 'v') ~= ARGV[3] or redis.call('HGET', KEYS[1], 'd') ~= ARGV[2] then return 0 end
elseif ARGV[1] == 's' then
  if kind ~= 'string' or redis.call('GET', KEYS[1]) ~= ARGV[2] then return 0 end
else
  return redis.error_reply('ERR lethe: entry kind must be h or s')
end
local ttl = tonumber(ARGV[4])
if not ttl or ttl < 0 then return redis.error_reply('ERR lethe: TTL must be >= 0 ms') end
if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) else redis.call('PERSIST', KEYS[1]) end
return 1
