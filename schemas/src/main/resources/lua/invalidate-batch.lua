-- Lethe invalidate-batch.lua: invalidate.lua applied to many keys in one call, with exactly its
-- semantics (invalidate.lua's text is placed above as the function invalidate when the script is
-- loaded). A region consumer sends the keys of one batch that share a cluster slot (any keys on a
-- standalone Redis) in one call instead of one call per key.
--
-- Upserts are not batched: at maxmemory Redis refuses a script's writes only until its first
-- write succeeded, so an upsert after an invalidation in one call would be stored where alone it
-- is refused (and applied as a delete instead).
--
-- KEYS    key1, fence1, key2, fence2, ...: a key and its fence per entry
-- ARGV    invalidate.lua's 4 arguments per entry
-- Returns one code per entry, the one invalidate.lua returns; -1 when it failed (a key of
-- another type, a bad argument): the caller applies that entry alone to learn why. Entries are
-- independent: one failing does not stop the others, and each is idempotent.

local out = {}
-- one pair of tables for every entry (invalidate keeps no reference to them): no garbage per key
local keys, args = {}, {}
for i = 1, #KEYS / 2 do
  local a = 4 * (i - 1)
  keys[1], keys[2] = KEYS[2 * i - 1], KEYS[2 * i]
  args[1], args[2], args[3], args[4] = ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4]
  local ok, r = pcall(invalidate, keys, args)
  if ok and type(r) == 'number' then out[i] = r else out[i] = -1 end
end
return out
