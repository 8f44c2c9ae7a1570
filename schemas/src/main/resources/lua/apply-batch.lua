-- Lethe apply-batch.lua: invalidate.lua and upsert.lua applied to many keys in one call, with
-- exactly their semantics (the two scripts' text is placed below as the functions invalidate and
-- upsert when the script is loaded). A region consumer sends the keys of one batch that share a
-- cluster slot (any keys on a standalone Redis) in one call instead of one call per key.
--
-- KEYS    key1, fence1, key2, fence2, ...: a key and its fence per entry
-- ARGV    per entry: 'i' and invalidate.lua's 4 arguments, or 'u' and upsert.lua's 5
-- Returns one code per entry, the one its script returns; -1 when its script failed (a key of
-- another type, a bad argument): the caller applies that entry alone to learn why. Entries are
-- independent: one failing does not stop the others, and each is idempotent.

local out = {}
local a = 1
for i = 1, #KEYS / 2 do
  local kind = ARGV[a]
  local n = kind == 'u' and 5 or 4
  local args = {}
  for j = 1, n do args[j] = ARGV[a + j] end
  a = a + n + 1
  local ok, r = pcall(kind == 'u' and upsert or invalidate, {KEYS[2 * i - 1], KEYS[2 * i]}, args)
  if ok and type(r) == 'number' then out[i] = r else out[i] = -1 end
end
return out
